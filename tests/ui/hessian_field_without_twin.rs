use backprop::prelude::*;

/// A hand-written `Params` (and `ZerosLike`): gradients work, but it has no dual twin.
struct Pair {
    a: f64,
    b: f64,
}

impl Params for Pair {
    type Scalar = f64;
    fn num_params(&self) -> usize {
        2
    }
    fn visit(&self, f: &mut dyn FnMut(f64)) {
        f(self.a);
        f(self.b);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut f64)) {
        f(&mut self.a);
        f(&mut self.b);
    }
    fn describe(&self, index: usize, prefix: &str) -> String {
        format!("{prefix}.{}", ["a", "b"][index])
    }
}

impl ZerosLike for Pair {
    fn zeros_like(&self) -> Self {
        Pair { a: 0.0, b: 0.0 }
    }
}

#[derive(Params)]
struct Model {
    pair: Pair,
    scale: f64,
}

// The Hessian runs the gradient over dual numbers, which needs the field's twin.
#[backprop(hessian)]
fn cost(m: &Model) -> f64 {
    m.scale * m.pair.a * m.pair.b
}

fn main() {}
