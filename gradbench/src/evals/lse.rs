//! `lse`: LogSumExp with the max-shift trick, written from its primitives (a maximum, a sum of
//! exponentials), as the eval asks; the gradient is the generated one.
//!
//! The maximum is the one primitive with its own rule (`#[backprop(pullback = ..)]`, as the issue
//! allows for the primitive the eval names): its adjoint goes to the first maximal element, found
//! by one forward scan. Differentiated literally, `a = a.max(x[i])` tapes every running maximum
//! (an `n`-float allocation) and walks it backwards splitting ties, which with the sum's tape
//! made the gradient 2.0–2.5× GradBench's `manual` tool.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

/// The largest element (`x` non-empty), the primitive LogSumExp shifts by.
#[backprop(pullback = maximum_rule)]
pub fn maximum(x: &[f64]) -> f64 {
    x.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// `maximum`'s rule: `∂ max / ∂xᵢ` is 1 at the first maximal element and 0 elsewhere (a
/// subgradient at ties; in `lse` the maximum's adjoint is `1 − Σ softmax = 0` up to rounding).
fn maximum_rule(x: &[f64], result: f64, d_result: f64, d_x: Option<&mut [f64]>) -> ((),) {
    if let Some(d_x) = d_x {
        if let Some(i) = x.iter().position(|&v| v == result) {
            d_x[i] += d_result;
        }
    }
    ((),)
}

#[backprop]
pub fn lse(x: &[f64]) -> f64 {
    let a = maximum(x);
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] - a).exp();
    }
    s.ln() + a
}

pub fn gradient(x: &[f64]) -> Vec<f64> {
    lse_grad(x).1.x
}
