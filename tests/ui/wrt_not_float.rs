use backprop::prelude::*;

#[backprop(wrt(x, n))]
fn cost(x: f64, n: i32) -> f64 {
    x.powi(n)
}

fn main() {}
