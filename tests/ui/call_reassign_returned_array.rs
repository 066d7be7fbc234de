// A state initialised by a call inside a branch and then reassigned by a call in a loop: the array
// `init3` returned is read-only as bound (inside a branch, `let mut h = init3(..)` gives no length
// for a copy); the error names the binding to write instead, `let mut h: [f64; N] = init3(..);`.
use backprop::prelude::*;

#[backprop]
fn init3(a: f64) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = a * i as f64;
    }
    out
}

#[backprop]
fn cell3(h: &[f64; 3], t: f64) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = (h[i] + t).tanh();
    }
    out
}

#[backprop]
fn cost(a: f64, x: &[f64; 4], flag: bool) -> f64 {
    let mut s = a;
    if flag {
        let mut h = init3(a);
        for t in 0..4 {
            h = cell3(&h, x[t]);
        }
        s += h[0] + h[1] + h[2];
    }
    s
}

fn main() {}
