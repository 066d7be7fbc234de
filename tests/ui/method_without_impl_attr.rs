// `#[backprop]` on a method whose `impl` block lacks `#[backprop]`: the message says to put it on
// the block too.
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net {
    w: [f64; 3],
    b: f64,
}

impl Net {
    #[backprop]
    fn loss(&self, x: &[f64; 3]) -> f64 {
        self.w[0] * x[0] + self.w[1] * x[1] + self.w[2] * x[2] + self.b
    }
}

fn main() {}
