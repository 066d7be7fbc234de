use backprop::prelude::*;

// Differentiable once: its pullback has no copy over dual numbers.
#[backprop]
fn inner(a: f64, b: f64) -> f64 {
    (a * b).sin()
}

#[backprop(hessian)]
fn outer(x: &[f64; 2]) -> f64 {
    inner(x[0], x[1]) * x[0]
}

fn main() {}
