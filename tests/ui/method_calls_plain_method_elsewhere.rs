// A `#[backprop]` method calling a plain method of another `impl` block: the macro cannot see that
// block, so the error is rustc's, on the call (`scale_vjp` is missing; docs/CALLS.md, "Calls of plain
// functions": put `#[backprop]` on the block and the method, or give the method a custom derivative).
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net {
    w: [f64; 2],
}

impl Net {
    fn scale(&self, x: f64) -> f64 {
        self.w[0] * x
    }
}

#[backprop]
impl Net {
    #[backprop]
    fn loss(&self, x: f64) -> f64 {
        self.scale(x) * self.w[1]
    }
}

fn main() {}
