use backprop::prelude::*;

#[backprop]
fn cost(x: &mut [f64; 3]) -> f64 {
    x[0] = x[1] * x[2];
    x[0]
}

fn main() {}
