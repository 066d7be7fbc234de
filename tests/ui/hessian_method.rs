use backprop::prelude::*;

struct Model {
    scale: f64,
}

#[backprop]
impl Model {
    #[backprop(hessian)]
    fn cost(&self, x: f64) -> f64 {
        self.scale * x * x * x
    }
}

fn main() {}
