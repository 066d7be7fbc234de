use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    let y = dbg!(x * 2.0);
    y * y
}

fn main() {}
