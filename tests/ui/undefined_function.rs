use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    sigmod(x)
}

fn main() {}
