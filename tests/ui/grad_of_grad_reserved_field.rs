use backprop::prelude::*;

// `energy_grad_acc` is `energy`'s accumulating gradient, not the field `acc` of its gradient.
#[backprop(hessian)]
fn energy(acc: f64, w: f64) -> f64 {
    acc * acc * w
}

#[backprop]
fn uses_gradient(a: f64, w: f64) -> f64 {
    let (e, g) = energy_grad(a, w);
    e + g.acc
}

fn main() {}
