// `<name>_vjp` is the name the macro gives the function's vjp: a custom pullback may not take it.
use backprop::prelude::*;

#[backprop(pullback = erf_vjp)]
fn erf(x: f64) -> f64 {
    x
}

fn erf_vjp(_x: f64, _result: f64, d_result: f64) -> (f64,) {
    (d_result,)
}

fn main() {}
