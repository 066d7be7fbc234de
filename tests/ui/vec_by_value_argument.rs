use backprop::prelude::*;

#[backprop]
fn cost(x: f64, v: Vec<f64>) -> f64 {
    x * v[0]
}

fn main() {}
