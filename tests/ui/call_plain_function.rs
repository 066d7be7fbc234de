// A call of a plain function with neither `#[backprop]` nor a custom pullback: rustc cannot find
// `helper_vjp` (a call at the top level), and the error must point at the user's call.
use backprop::prelude::*;

fn helper(v: f64) -> f64 {
    v * 3.0
}

#[backprop]
fn cost(x: f64) -> f64 {
    helper(x) + 1.0
}

fn main() {}
