// A call of a plain function with neither `#[backprop]` nor a custom pullback. The macro cannot see
// the callee (stable Rust gives a proc macro no way to look an item up; docs/CALLS.md, "Calls of
// plain functions"), so the error is rustc's: `helper_vjp` is missing, spanned on the user's call.
use backprop::prelude::*;

fn helper(v: f64) -> f64 {
    v * 3.0
}

#[backprop]
fn cost(x: f64) -> f64 {
    helper(x) + 1.0
}

fn main() {}
