use backprop::prelude::*;

#[backprop]
fn cost(x: f64, f: impl Fn(f64) -> f64) -> f64 {
    f(x)
}

fn main() {}
