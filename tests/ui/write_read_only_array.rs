use backprop::prelude::*;

#[backprop]
fn cost(x: &[f64; 4]) -> f64 {
    x[0] = 1.0;
    x[1] * 2.0
}

fn main() {}
