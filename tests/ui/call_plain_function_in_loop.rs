// A plain function called in a loop: the backward sweep calls its pullback, so rustc reports the
// missing `helper_pullback` (docs/CALLS.md, "Calls of plain functions"). rustc may also suggest a
// similarly named pullback in scope (here the runtime's `dense_pullback`): that suggestion is wrong,
// the fix is `#[backprop]` or a custom derivative on `helper`.
use backprop::prelude::*;

fn helper(v: f64) -> f64 {
    v * 3.0
}

#[backprop]
fn cost(x: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        s += helper(x * i as f64);
    }
    s
}

fn main() {}
