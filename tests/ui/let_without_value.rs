use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    let (a, b);
    a = x;
    b = x;
    a * b
}

fn main() {}
