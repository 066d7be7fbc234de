use backprop::prelude::*;

// The tangent sweep runs over `Dual64`, a dual number over `f64`.
#[backprop(hessian)]
fn cost(x: &[f32; 2]) -> f32 {
    x[0] * x[0] * x[1]
}

fn main() {}
