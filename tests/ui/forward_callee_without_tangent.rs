use backprop::prelude::*;

// A `forward` function runs its callees over dual numbers: a callee with neither `forward` nor
// `hessian` has no such copy, and the error at the call names the attribute to add.

#[backprop]
fn inner(x: f64) -> f64 {
    x * x
}

#[backprop(forward)]
fn outer(x: f64, y: f64) -> f64 {
    inner(x) * y
}

fn main() {}
