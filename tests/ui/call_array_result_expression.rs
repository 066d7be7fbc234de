// A function returning an array must end with the name of a local array, not an expression.
use backprop::prelude::*;

#[backprop]
fn pair(a: f64, b: f64) -> [f64; 2] {
    let s = a + b;
    [s, a * b]
}

fn main() {}
