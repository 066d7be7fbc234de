use backprop::prelude::*;

#[backprop(hessian)]
fn energy(x: &[f64; 2], w: f64) -> f64 {
    x[0] * x[0] * w + x[1] * w * w
}

// A Hessian of something containing a gradient would need third derivatives of `energy`.
#[backprop(hessian)]
fn outer(w: f64) -> f64 {
    let mut x = [0.0; 2];
    x[0] = 1.0;
    let g = energy_grad_x(&x, w);
    g[0] * g[1]
}

fn main() {}
