// A `#[backprop]` method calling a method of its own `impl` block that has neither `#[backprop]`
// nor a custom derivative: the macro sees the block, so the error is its own, on the call, naming
// both fixes.
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net {
    w: [f64; 2],
}

#[backprop]
impl Net {
    fn scale(&self, x: f64) -> f64 {
        self.w[0] * x
    }

    fn offset(v: f64) -> f64 {
        v + 1.0
    }

    #[backprop]
    fn loss(&self, x: f64) -> f64 {
        self.scale(x) * self.w[1] + Self::offset(x)
    }
}

fn main() {}
