use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    if x > 0.0 {
        return x;
    } else {
        0.0
    }
}

fn main() {}
