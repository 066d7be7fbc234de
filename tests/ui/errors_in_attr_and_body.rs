use backprop::prelude::*;

#[backprop(wrt(x, q), fast)]
fn cost(x: f64, y: f64) -> f64 {
    let v = y.floor();
    x * v
}

fn main() {}
