use backprop::prelude::*;

#[backprop]
fn cost(x: &[f64; 4]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>()
}

fn main() {}
