use backprop::prelude::*;

fn helper(v: f64) -> f64 {
    v * 3.0
}

#[backprop]
fn cost(x: f64) -> f64 {
    helper(x) + 1.0
}

fn main() {}
