use backprop::prelude::*;

#[backprop]
fn cost(x: f64) {
    let _ = x * x;
}

fn main() {}
