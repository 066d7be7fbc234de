use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    x.powi() + sigmoid(x, 2.0)
}

fn main() {}
