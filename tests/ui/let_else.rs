use backprop::prelude::*;

#[backprop]
fn cost(x: f64, n: i32) -> f64 {
    let 1 = n else { panic!() };
    x * x
}

fn main() {}
