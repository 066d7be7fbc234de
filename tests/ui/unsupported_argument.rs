use backprop::prelude::*;

#[backprop]
fn cost(x: f64, _label: String) -> f64 {
    x * 2.0
}

fn main() {}
