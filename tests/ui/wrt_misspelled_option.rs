use backprop::prelude::*;

#[backprop(with_respect_to(x))]
fn cost(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {}
