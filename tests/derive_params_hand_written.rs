//! A `#[derive(Params)]` struct with a field whose `Params` impl is hand-written (and so has no
//! dual twin) derives and differentiates exactly as before issue 16's twin: the twin's
//! requirements on field types are only checked where a `#[backprop(hessian)]` function uses it
//! (`macros/codegen/src/second_order/twin.rs`).

use backprop::prelude::*;

/// Two scalars behind a hand-written `Params` (and the `ZerosLike` a gradient needs): no twin.
#[derive(Debug, Clone, Copy, PartialEq)]
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
        let name = ["a", "b"][index];
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
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
    w: [f64; 2],
}

#[backprop]
fn cost(m: &Model, x: f64) -> f64 {
    m.scale * m.pair.a * m.pair.a * x + m.pair.b.sin() + m.w[0] * m.w[1] * m.pair.b
}

fn model() -> Model {
    Model { pair: Pair { a: 0.7, b: -1.3 }, scale: 1.9, w: [0.4, -2.1] }
}

#[test]
fn derives_and_its_gradient_is_exact() {
    let (m, x) = (model(), 1.6);
    assert_eq!(m.num_params(), 5);
    assert_eq!(m.describe(1, "m"), "m.pair.b");
    let (value, g) = cost_grad(&m, x);
    assert_eq!(value, cost(&m, x));
    let (a, b, s, w0, w1) = (0.7f64, -1.3f64, 1.9, 0.4, -2.1);
    let close = |got: f64, want: f64| assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "{got} vs {want}");
    close(g.m.pair.a, 2.0 * s * a * x);
    close(g.m.pair.b, b.cos() + w0 * w1);
    close(g.m.scale, a * a * x);
    close(g.m.w[0], w1 * b);
    close(g.m.w[1], w0 * b);
    close(g.x, s * a * a);
    // The flat view of the gradient follows the struct's, through the hand-written field.
    let flat = backprop::params::to_vec(&g.m);
    assert_eq!(flat, vec![g.m.pair.a, g.m.pair.b, g.m.scale, g.m.w[0], g.m.w[1]]);
}

/// A recursive struct: the twin's higher-ranked bounds (`Vec<Tree>: DualTwin`) are not evaluated
/// where the struct is derived, so they cannot overflow there.
#[derive(Params)]
struct Tree {
    w: f64,
    kids: Vec<Tree>,
}

#[test]
fn a_recursive_struct_derives() {
    let t = Tree { w: 1.0, kids: vec![Tree { w: 2.0, kids: vec![] }, Tree { w: 3.0, kids: vec![] }] };
    assert_eq!(t.num_params(), 3);
    assert_eq!(backprop::params::to_vec(&t), vec![1.0, 2.0, 3.0]);
}
