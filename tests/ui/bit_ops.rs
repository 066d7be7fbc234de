use backprop::prelude::*;

#[backprop]
fn cost(x: f64, n: i32) -> f64 {
    let k = n & 1;
    x * k as f64
}

fn main() {}
