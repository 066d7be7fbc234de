use backprop::prelude::*;

#[backprop(wrt())]
fn cost(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {}
