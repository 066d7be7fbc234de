use backprop::prelude::*;

#[backprop]
fn cost(x: &mut f64) -> f64 {
    *x * 2.0
}

fn main() {}
