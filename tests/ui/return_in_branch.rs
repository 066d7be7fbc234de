use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    let scale = 2.0 * if x > 0.0 { return x } else { 1.0 };
    scale * x
}

fn main() {}
