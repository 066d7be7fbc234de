use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    let _name = "two";
    x * 2.0
}

fn main() {}
