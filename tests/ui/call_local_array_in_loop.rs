// A local array passed to a differentiable function inside a loop: not supported yet.
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
    let mut sum = 0.0;
    for _ in 0..3 {
        sum += total(&h);
    }
    sum
}

fn main() {}
