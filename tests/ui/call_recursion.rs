// A `#[backprop]` function calling itself: recursion is refused (write it as a loop).
use backprop::prelude::*;

#[backprop]
fn power(x: f64, n: usize) -> f64 {
    if n == 0 {
        1.0
    } else {
        x * power(x, n - 1)
    }
}

fn main() {}
