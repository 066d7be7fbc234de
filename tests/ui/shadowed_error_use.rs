use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    let y = x.floor();
    let z = y * 2.0;
    z.ceil() + y
}

fn main() {}
