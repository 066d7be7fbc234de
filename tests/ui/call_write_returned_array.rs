// Writing into the array a differentiable function returned, bound without `mut`: it is read-only
// as bound (the pullback reads it as returned); `let mut h = pair(..);` binds a copy to write.
use backprop::prelude::*;

#[backprop]
fn pair(a: f64, b: f64) -> [f64; 2] {
    let mut out = [0.0; 2];
    out[0] = a + b;
    out[1] = a * b;
    out
}

#[backprop]
fn cost(a: f64, b: f64) -> f64 {
    let h = pair(a, b);
    h[0] = h[0].tanh();
    h[0] + h[1]
}

fn main() {}
