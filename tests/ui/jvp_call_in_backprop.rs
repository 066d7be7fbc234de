use backprop::prelude::*;

#[backprop(hessian)]
fn energy(x: &[f64; 2], w: f64) -> f64 {
    x[0] * x[0] * w + x[1] * w * w
}

// A directional derivative is not a differentiable call.
#[backprop(wrt(x))]
fn uses_jvp(x: &[f64; 2], w: f64) -> f64 {
    let (v, d) = energy_jvp(x, w, &EnergyGrad { x: [1.0, 0.0], w: 0.0 });
    v + d
}

fn main() {}
