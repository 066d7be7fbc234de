//! `hello`: `square(x) = x²` and its gradient `double`, the protocol's smoke test.

use backprop::prelude::*;

#[backprop]
pub fn square(x: f64) -> f64 {
    x * x
}

/// The gradient of `square`, from the generated `square_grad`.
pub fn double(x: f64) -> f64 {
    square_grad(x).1.x
}
