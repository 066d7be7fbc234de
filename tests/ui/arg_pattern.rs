use backprop::prelude::*;

#[backprop]
fn cost((a, b): (f64, f64)) -> f64 {
    a * b
}

fn main() {}
