//! `llsq`: the linear least-squares objective of cmpad's `llsq_obj`,
//! `y(x) = ½ Σᵢ (sᵢ − Σⱼ xⱼ tᵢʲ)²` with `tᵢ = −1 + 2i/(n−1)` and `sᵢ = sign(tᵢ)`.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

#[backprop(wrt(x))]
pub fn llsq(x: &[f64], n: usize) -> f64 {
    let m = x.len();
    let mut sum = 0.0;
    for i in 0..n {
        let ti = -1.0 + (i as f64) * 2.0 / ((n - 1) as f64);
        // sign(t) with sign(0) = 0 (f64::signum gives 1 at 0).
        let mut inner = 0.0;
        if ti > 0.0 {
            inner = 1.0;
        } else if ti < 0.0 {
            inner = -1.0;
        }
        let mut mul = 1.0;
        for j in 0..m {
            inner -= x[j] * mul;
            mul *= ti;
        }
        sum += inner * inner;
    }
    sum / 2.0
}

pub fn gradient(x: &[f64], n: usize) -> Vec<f64> {
    llsq_grad(x, n).1.x
}
