//! `lse`: LogSumExp with the max-shift trick, written from its primitives (a maximum, a sum of
//! exponentials), as the eval asks; the gradient is the generated one.
//!
//! The maximum is the one primitive with its own rule (`#[backprop(pullback = ..)]`, as the issue
//! allows for the primitive the eval names): its adjoint goes to the first maximal element, found
//! by one forward scan. Differentiated literally, `a = a.max(x[i])` tapes every running maximum
//! (an `n`-float allocation) and walks it backwards splitting ties, which with the sum's tape
//! made the gradient 2.0–2.5× GradBench's `manual` tool. With the rule it was at parity (0.8–1.5×);
//! what was left: the backward loop's chain of `n` additions of the shift's adjoint (now `n / 4`,
//! the sum in four partial sums), the maximum's NaN tests (now four running maxima by comparison)
//! and the rule's element-by-element scan (now a chunk of 8 at a time).

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

/// The largest element (`x` non-empty), the primitive LogSumExp shifts by.
///
/// Four running maxima by comparison (`if v > m`, a NaN element loses as with `f64::max`), one
/// `maxpd` per pair of lanes, where a single `f64::max` fold needs extra NaN tests per element.
#[backprop(pullback = maximum_rule)]
pub fn maximum(x: &[f64]) -> f64 {
    let mut m = [f64::NEG_INFINITY; 4];
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        for j in 0..4 {
            if c[j] > m[j] {
                m[j] = c[j];
            }
        }
    }
    m.iter().chain(chunks.remainder()).copied().fold(f64::NEG_INFINITY, |r, v| if v > r { v } else { r })
}

/// `maximum`'s rule: `∂ max / ∂xᵢ` is 1 at the first maximal element and 0 elsewhere (a
/// subgradient at ties; in `lse` the maximum's adjoint is `1 − Σ softmax = 0` up to rounding).
fn maximum_rule(x: &[f64], result: f64, d_result: f64, d_x: Option<&mut [f64]>) -> ((),) {
    if let Some(d_x) = d_x {
        // The first chunk of 8 holding the maximum, by a comparison of whole chunks (vectorised),
        // then the element within it.
        let chunk = x.chunks(8).position(|c| c.iter().fold(false, |hit, &v| hit | (v == result)));
        if let Some(i) = chunk.and_then(|c| x[8 * c..].iter().position(|&v| v == result).map(|i| 8 * c + i)) {
            d_x[i] += d_result;
        }
    }
    ((),)
}

/// The sum of exponentials in four partial sums, four elements per iteration (the rest after):
/// the backward sweep then adds the shift's adjoint (`−Σ eᵢ / s`, the adjoint `a` gets from every
/// term) four terms at a time, a chain of `n / 4` dependent additions instead of `n`, which
/// bounded its loop (and the forward sum likewise).
#[backprop]
pub fn lse(x: &[f64]) -> f64 {
    let a = maximum(x);
    let n = x.len();
    let (mut s0, mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0, 0.0);
    for c in 0..n / 4 {
        s0 += (x[4 * c] - a).exp();
        s1 += (x[4 * c + 1] - a).exp();
        s2 += (x[4 * c + 2] - a).exp();
        s3 += (x[4 * c + 3] - a).exp();
    }
    for i in n / 4 * 4..n {
        s0 += (x[i] - a).exp();
    }
    ((s0 + s1) + (s2 + s3)).ln() + a
}

pub fn gradient(x: &[f64]) -> Vec<f64> {
    lse_grad(x).1.x
}
