use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    let y = if x < 0.0 { return 0.0 } else { x * x };
    y + 1.0
}

fn main() {}
