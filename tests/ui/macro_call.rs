use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    println!("{x}");
    x * x
}

fn main() {}
