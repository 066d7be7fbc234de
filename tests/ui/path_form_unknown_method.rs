use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    f64::floor(x) + <f64>::sqrt(x)
}

fn main() {}
