use backprop::prelude::*;

#[backprop]
fn cost(x: f64, on: bool) -> f64 {
    x * on as f64
}

fn main() {}
