use backprop::prelude::*;

#[backprop]
fn cost(x: &[f64; 4], k: f64) -> f64 {
    x[k] * 2.0
}

fn main() {}
