// A call of a plain function returning an array: rustc reports the missing `pair_vjp` on the call
// (docs/CALLS.md, "Calls of plain functions": put `#[backprop]` on `pair`, or give it a custom
// derivative with `#[backprop(pullback = pair_rule)]`).
use backprop::prelude::*;

fn pair(a: f64, b: f64) -> [f64; 2] {
    [a + b, a * b]
}

#[backprop]
fn cost(a: f64, b: f64) -> f64 {
    let h = pair(a, b);
    h[0] * h[1]
}

fn main() {}
