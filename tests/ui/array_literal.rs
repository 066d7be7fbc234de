use backprop::prelude::*;

#[backprop]
fn cost(x: f64, y: f64) -> f64 {
    let a = [x, y];
    a[0] * a[1]
}

fn main() {}
