use backprop::prelude::*;

#[backprop]
fn cost(x: &[f64; 4]) -> f64 {
    x.iter().filter(|v| **v > 0.0).map(|v| v * v).sum::<f64>()
}

fn main() {}
