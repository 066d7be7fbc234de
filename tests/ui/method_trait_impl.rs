// `#[backprop]` on a trait implementation: not supported (the gradient functions are not the
// trait's); use an inherent `impl` block.
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net {
    w: [f64; 3],
    b: f64,
}

trait Model {
    fn loss(&self, x: &[f64; 3]) -> f64;
}

#[backprop]
impl Model for Net {
    #[backprop]
    fn loss(&self, x: &[f64; 3]) -> f64 {
        self.w[0] * x[0] + self.w[1] * x[1] + self.w[2] * x[2] + self.b
    }
}

fn main() {}
