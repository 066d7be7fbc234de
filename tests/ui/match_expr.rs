use backprop::prelude::*;

#[backprop]
fn cost(x: f64, n: i32) -> f64 {
    match n {
        0 => x,
        _ => x * x,
    }
}

fn main() {}
