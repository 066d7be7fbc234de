// A local array written after it is passed to a differentiable function: the pullback reads it as
// the call saw it, so a later write is refused.
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
    let a = total(&h);
    h[0] = 2.0 * a;
    a + h[0]
}

fn main() {}
