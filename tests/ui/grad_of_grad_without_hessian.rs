use backprop::prelude::*;

// `energy` has a gradient but no second derivatives: its gradient cannot be differentiated.
#[backprop]
fn energy(x: &[f64; 2], w: f64) -> f64 {
    x[0] * x[0] * w + x[1] * w * w
}

#[backprop]
fn uses_gradient(x: &[f64; 2], w: f64) -> f64 {
    let (e, g) = energy_grad(x, w);
    e + g.w * g.x[0]
}

fn main() {}
