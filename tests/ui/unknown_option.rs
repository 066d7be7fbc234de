use backprop::prelude::*;

#[backprop(speed = "fast")]
fn cost(x: f64) -> f64 {
    x * x
}

fn main() {}
