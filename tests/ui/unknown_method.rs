use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    x.floor() * 2.0
}

fn main() {}
