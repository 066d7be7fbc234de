use backprop::prelude::*;

#[backprop]
fn cost(x: f64, flag: bool) -> f64 {
    if let true = flag {
        x
    } else {
        -x
    }
}

fn main() {}
