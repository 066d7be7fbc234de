// `pullback = ..` gives the whole derivative: combining it with `wrt` is refused.
use backprop::prelude::*;

#[backprop(pullback = vjp, wrt(x))]
fn scaled(x: f64, y: f64) -> f64 {
    x * y
}

fn vjp(x: f64, y: f64, _result: f64, d_result: f64) -> (f64, f64) {
    (d_result * y, d_result * x)
}

fn main() {}
