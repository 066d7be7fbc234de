// Writing into the array a differentiable function returned, bound in a loop without a type: it is
// read-only as bound (in a loop the copy needs its length: `let mut h: [f64; N] = pair(..);`).
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
    let mut s = 0.0;
    for k in 0..3 {
        let mut h = pair(a, b * k as f64);
        h[0] = h[0].tanh();
        s += h[0] + h[1];
    }
    s
}

fn main() {}
