use backprop::prelude::*;

#[backprop(wrt(x, weight))]
fn cost(x: f64, w: f64) -> f64 {
    x * w
}

fn main() {}
