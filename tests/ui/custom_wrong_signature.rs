// A custom pullback whose signature does not follow the convention: rustc's type error points at
// the user's `vjp` path in the attribute.
use backprop::prelude::*;

#[backprop(pullback = vjp)]
fn scaled(x: f64, y: f64) -> f64 {
    x * y
}

// Forgets `result` and returns one adjoint instead of two.
fn vjp(x: f64, y: f64, d_result: f64) -> (f64,) {
    (d_result * y * x,)
}

fn main() {}
