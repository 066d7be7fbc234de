use backprop::prelude::*;

#[backprop]
fn cost(theta: f64) -> f64 {
    theta.to_degrees() / 90.0
}

fn main() {}
