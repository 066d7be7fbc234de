//! `lse`: LogSumExp with the max-shift trick, written from its primitives (a maximum, a sum of
//! exponentials), as the eval asks; the gradient is the generated one.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

#[backprop]
pub fn lse(x: &[f64]) -> f64 {
    let n = x.len();
    let mut a = x[0];
    for i in 1..n {
        a = a.max(x[i]);
    }
    let mut s = 0.0;
    for i in 0..n {
        s += (x[i] - a).exp();
    }
    s.ln() + a
}

pub fn gradient(x: &[f64]) -> Vec<f64> {
    lse_grad(x).1.x
}
