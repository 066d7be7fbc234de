// A call returning an array inside a loop: only supported at the top level of the function.
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net {
    w: [f64; 3],
    b: f64,
}

#[backprop]
fn layer(p: &Net, x: &[f64; 3]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = (p.w[i] * x[i] + p.b).tanh();
    }
    out
}

#[backprop]
fn cost(p: &Net, xs: &[[f64; 3]]) -> f64 {
    let mut total = 0.0;
    for s in 0..xs.len() {
        let h = layer(p, &xs[s]);
        total += h[0] + h[1] + h[2];
    }
    total
}

fn main() {}
