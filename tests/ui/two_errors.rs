use backprop::prelude::*;

#[backprop]
fn cost(x: f64, n: i32) -> f64 {
    let scale = |v: f64| v * 2.0;
    let b = x.floor();
    scale(x) + b + n as f64
}

fn main() {}
