use backprop::prelude::*;

#[backprop]
fn cost(x: f64, n: i32) -> f64 {
    let a = match n {
        0 => x,
        _ => 2.0 * x,
    };
    let b = x.floor();
    a + b
}

fn main() {}
