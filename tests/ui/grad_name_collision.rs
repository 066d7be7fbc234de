use backprop::prelude::*;

fn cost_grad() {}

#[backprop]
fn cost(x: f64) -> f64 {
    x * x
}

fn main() {}
