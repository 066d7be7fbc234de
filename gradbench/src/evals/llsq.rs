//! `llsq`: the linear least-squares objective of cmpad's `llsq_obj`,
//! `y(x) = ½ Σᵢ (sᵢ − Σⱼ xⱼ tᵢʲ)²` with `tᵢ = −1 + 2i/(n−1)` and `sᵢ = sign(tᵢ)`.
//!
//! The points are taken four at a time: the inner sum over `j` carries `tᵢʲ` and the partial sum
//! from one term to the next (two chains of dependent multiplies and subtractions, 4 cycles each),
//! so one point at a time runs at the latency of those chains; four independent points fill the
//! pipeline, and their generated backward sweep adds four products into each `d xⱼ` per pass.
//! Each point's terms and the sum over the points are in the order of the one-point loop, so the
//! value is bit for bit the same.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

#[backprop(wrt(x))]
pub fn llsq(x: &[f64], n: usize) -> f64 {
    let m = x.len();
    let mut sum = 0.0;
    for b in 0..n / 4 {
        let mut t = [0.0; 4];
        let mut inner = [0.0; 4];
        let mut mul = [1.0; 4];
        for k in 0..4 {
            let ti = -1.0 + ((4 * b + k) as f64) * 2.0 / ((n - 1) as f64);
            t[k] = ti;
            // sign(t) with sign(0) = 0 (f64::signum gives 1 at 0).
            if ti > 0.0 {
                inner[k] = 1.0;
            } else if ti < 0.0 {
                inner[k] = -1.0;
            }
        }
        for j in 0..m {
            for k in 0..4 {
                inner[k] -= x[j] * mul[k];
                mul[k] *= t[k];
            }
        }
        for k in 0..4 {
            sum += inner[k] * inner[k];
        }
    }
    // The last `n mod 4` points one at a time.
    for i in 4 * (n / 4)..n {
        let ti = -1.0 + (i as f64) * 2.0 / ((n - 1) as f64);
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
