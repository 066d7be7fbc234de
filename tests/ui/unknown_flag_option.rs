use backprop::prelude::*;

#[backprop(foo)]
fn cost(x: f64) -> f64 {
    x * x
}

fn main() {}
