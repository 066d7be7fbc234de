// Options on the `impl` block's `#[backprop]`: they belong on the methods.
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net {
    w: [f64; 3],
    b: f64,
}

#[backprop(wrt(x))]
impl Net {
    #[backprop]
    fn loss(&self, x: &[f64; 3]) -> f64 {
        self.w[0] * x[0] + self.w[1] * x[1] + self.w[2] * x[2] + self.b
    }
}

fn main() {}
