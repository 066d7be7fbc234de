// A `&mut` argument to a differentiable function: arguments go by value or by shared reference.
use backprop::prelude::*;

#[backprop]
fn total(v: &[f64; 2]) -> f64 {
    v[0] * v[1]
}

#[backprop]
fn cost(x: &[f64; 2]) -> f64 {
    let mut h = [0.0; 2];
    h[0] = x[0].tanh();
    h[1] = x[1].tanh();
    total(&mut h)
}

fn main() {}
