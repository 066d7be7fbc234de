use backprop::prelude::*;

#[backprop]
fn cost<T: Copy>(x: f64, _tag: T) -> f64 {
    x * 2.0
}

fn main() {}
