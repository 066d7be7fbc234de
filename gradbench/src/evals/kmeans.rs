//! `kmeans`: `f(P, C) = Σᵢ minⱼ ‖Cⱼ − Pᵢ‖²` (the eval's README), a `#[backprop(hessian)]` cost in
//! the centroids. `dir` is `J · H⁻¹` with `H` diagonal (each coordinate of each centroid enters only
//! its own squared distances), so `H`'s diagonal is the generated Hessian-vector product with the
//! all-ones direction: one `cost_hvp` gives the gradient `J` and `H·1 = diag H` in a single sweep.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

#[backprop(hessian, wrt(c))]
pub fn cost(p: &[f64], c: &[f64], n: usize, k: usize, d: usize) -> f64 {
    let mut total = 0.0;
    for i in 0..n {
        // The nearest centroid: `minⱼ` as the index it picks (the first of equals), so that the
        // derivative (which follows the branch taken) sweeps that centroid alone. Four centroids
        // at a time: four independent sums (each in the order `l = 0..d`), not one long chain.
        let mut best = f64::INFINITY;
        let mut nearest = 0;
        for q in 0..k / 4 {
            let j = 4 * q;
            let (mut s0, mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0, 0.0);
            for l in 0..d {
                let x = p[i * d + l];
                let t0 = c[j * d + l] - x;
                let t1 = c[(j + 1) * d + l] - x;
                let t2 = c[(j + 2) * d + l] - x;
                let t3 = c[(j + 3) * d + l] - x;
                s0 += t0 * t0;
                s1 += t1 * t1;
                s2 += t2 * t2;
                s3 += t3 * t3;
            }
            if s0 < best {
                best = s0;
                nearest = j;
            }
            if s1 < best {
                best = s1;
                nearest = j + 1;
            }
            if s2 < best {
                best = s2;
                nearest = j + 2;
            }
            if s3 < best {
                best = s3;
                nearest = j + 3;
            }
        }
        for j in 4 * (k / 4)..k {
            let mut s = 0.0;
            for l in 0..d {
                let t = c[j * d + l] - p[i * d + l];
                s += t * t;
            }
            if s < best {
                best = s;
                nearest = j;
            }
        }
        // `best` again, from the chosen centroid: the same operations, the same bits.
        let mut s = 0.0;
        for l in 0..d {
            let t = c[nearest * d + l] - p[i * d + l];
            s += t * t;
        }
        total += s;
    }
    total
}

/// `J · H⁻¹`, row after row (`k` rows of `d`).
pub fn dir(p: &[f64], c: &[f64], n: usize, k: usize, d: usize) -> Vec<f64> {
    let ones = CostGrad { c: vec![1.0; k * d] };
    let (_, j, h) = cost_hvp(p, c, n, k, d, &ones);
    j.c.iter().zip(&h.c).map(|(g, h)| g / h).collect()
}
