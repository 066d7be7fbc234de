//! `kmeans`: `f(P, C) = Σᵢ minⱼ ‖Cⱼ − Pᵢ‖²` (the eval's README), a `#[backprop(hessian)]` cost in
//! the centroids. `dir` is `J · H⁻¹` with `H` diagonal (each coordinate of each centroid enters only
//! its own squared distances), so `H`'s diagonal is the generated Hessian-vector product with the
//! all-ones direction: one `cost_hvp` gives the gradient `J` and `H·1 = diag H` in a single sweep.
//!
//! `minⱼ` is written as the index of the nearest centroid (the first of equals), found by
//! comparisons, and that centroid's distance is computed again for the sum: the same value, bit
//! for bit. The distances only choose the index, so the generated sweep (which follows the branch
//! taken) has no adjoint for them and reverses the chosen centroid alone, `d` operations per point
//! instead of `k·d` (`macros/codegen/src/useful.rs`). The search runs four points against four
//! centroids at a time: sixteen independent sums, each still in the order `l = 0..d`, from eight
//! reads per step, instead of one sum whose additions wait for each other.
//!
//! A passive call (`let j: usize = nearest(p, c, i, k, d);`, docs/CALLS.md) would move the search
//! into a plain function, but one call searches for one point, so four points cannot share their
//! reads of the centroids. Measured against this file in one interleaved run (n, k, d; minimum of
//! 7): `cost` 1.34× slower at (1000, 10, 8), 1.45× at (1000, 100, 8), 1.07× at (10000, 10, 16);
//! `cost_hvp` 1.27×, 1.16×, 1.05×. So the search stays here.
//!
//! `cost` is `#[inline(always)]`, which the macro carries to `cost_hvp` and the sweeps it runs, so
//! `dir` and `objective` call copies compiled for AVX-512 when the CPU has it: GradBench compiles
//! `manual` with `-march=native`, and the 8-lane build is 6 to 7% faster at k = 10.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

#[inline(always)]
#[backprop(hessian, wrt(c))]
pub fn cost(p: &[f64], c: &[f64], n: usize, k: usize, d: usize) -> f64 {
    let mut total = 0.0;
    // Per point, the nearest centroid: `minⱼ` as the index it picks (the first of equals), so
    // that the derivative (which follows the branch taken) sweeps that centroid alone. The first
    // `n mod 4` points one at a time, then 4 points at a time (`i..i + 4`) against 4 centroids
    // at a time (`j..j + 4`): 16 independent sums `s<point><centroid>`, each in the order
    // `l = 0..d`, from 8 reads.
    for i in 0..n % 4 {
        let mut b0 = f64::INFINITY;
        let mut n0 = 0;
        for q in 0..k / 4 {
            let j = 4 * q;
            let (mut s00, mut s01, mut s02, mut s03) = (0.0, 0.0, 0.0, 0.0);
            for l in 0..d {
                let x0 = p[i * d + l];
                let y0 = c[j * d + l];
                let y1 = c[(j + 1) * d + l];
                let y2 = c[(j + 2) * d + l];
                let y3 = c[(j + 3) * d + l];
                let t00 = y0 - x0;
                s00 += t00 * t00;
                let t01 = y1 - x0;
                s01 += t01 * t01;
                let t02 = y2 - x0;
                s02 += t02 * t02;
                let t03 = y3 - x0;
                s03 += t03 * t03;
            }
            if s00 < b0 {
                b0 = s00;
                n0 = j;
            }
            if s01 < b0 {
                b0 = s01;
                n0 = j + 1;
            }
            if s02 < b0 {
                b0 = s02;
                n0 = j + 2;
            }
            if s03 < b0 {
                b0 = s03;
                n0 = j + 3;
            }
        }
        // Two of the last `k mod 4` centroids, when there are two, then the last one.
        for q in 0..k % 4 / 2 {
            let j = 4 * (k / 4) + 2 * q;
            let (mut s00, mut s01) = (0.0, 0.0);
            for l in 0..d {
                let x0 = p[i * d + l];
                let y0 = c[j * d + l];
                let y1 = c[(j + 1) * d + l];
                let t00 = y0 - x0;
                s00 += t00 * t00;
                let t01 = y1 - x0;
                s01 += t01 * t01;
            }
            if s00 < b0 {
                b0 = s00;
                n0 = j;
            }
            if s01 < b0 {
                b0 = s01;
                n0 = j + 1;
            }
        }
        for j in 4 * (k / 4) + 2 * (k % 4 / 2)..k {
            let mut s00 = 0.0;
            for l in 0..d {
                let x0 = p[i * d + l];
                let y0 = c[j * d + l];
                let t00 = y0 - x0;
                s00 += t00 * t00;
            }
            if s00 < b0 {
                b0 = s00;
                n0 = j;
            }
        }
        // The chosen centroids' distances again: the same operations, the same bits.
        let mut r0 = 0.0;
        for l in 0..d {
            let t0 = c[n0 * d + l] - p[i * d + l];
            r0 += t0 * t0;
        }
        total += r0;
    }
    for b in 0..n / 4 {
        let i = n % 4 + 4 * b;
        let (mut b0, mut b1, mut b2, mut b3) = (f64::INFINITY, f64::INFINITY, f64::INFINITY, f64::INFINITY);
        let (mut n0, mut n1, mut n2, mut n3) = (0, 0, 0, 0);
        for q in 0..k / 4 {
            let j = 4 * q;
            let (mut s00, mut s01, mut s02, mut s03) = (0.0, 0.0, 0.0, 0.0);
            let (mut s10, mut s11, mut s12, mut s13) = (0.0, 0.0, 0.0, 0.0);
            let (mut s20, mut s21, mut s22, mut s23) = (0.0, 0.0, 0.0, 0.0);
            let (mut s30, mut s31, mut s32, mut s33) = (0.0, 0.0, 0.0, 0.0);
            for l in 0..d {
                let x0 = p[i * d + l];
                let x1 = p[(i + 1) * d + l];
                let x2 = p[(i + 2) * d + l];
                let x3 = p[(i + 3) * d + l];
                let y0 = c[j * d + l];
                let y1 = c[(j + 1) * d + l];
                let y2 = c[(j + 2) * d + l];
                let y3 = c[(j + 3) * d + l];
                let t00 = y0 - x0;
                s00 += t00 * t00;
                let t01 = y1 - x0;
                s01 += t01 * t01;
                let t02 = y2 - x0;
                s02 += t02 * t02;
                let t03 = y3 - x0;
                s03 += t03 * t03;
                let t10 = y0 - x1;
                s10 += t10 * t10;
                let t11 = y1 - x1;
                s11 += t11 * t11;
                let t12 = y2 - x1;
                s12 += t12 * t12;
                let t13 = y3 - x1;
                s13 += t13 * t13;
                let t20 = y0 - x2;
                s20 += t20 * t20;
                let t21 = y1 - x2;
                s21 += t21 * t21;
                let t22 = y2 - x2;
                s22 += t22 * t22;
                let t23 = y3 - x2;
                s23 += t23 * t23;
                let t30 = y0 - x3;
                s30 += t30 * t30;
                let t31 = y1 - x3;
                s31 += t31 * t31;
                let t32 = y2 - x3;
                s32 += t32 * t32;
                let t33 = y3 - x3;
                s33 += t33 * t33;
            }
            if s00 < b0 {
                b0 = s00;
                n0 = j;
            }
            if s01 < b0 {
                b0 = s01;
                n0 = j + 1;
            }
            if s02 < b0 {
                b0 = s02;
                n0 = j + 2;
            }
            if s03 < b0 {
                b0 = s03;
                n0 = j + 3;
            }
            if s10 < b1 {
                b1 = s10;
                n1 = j;
            }
            if s11 < b1 {
                b1 = s11;
                n1 = j + 1;
            }
            if s12 < b1 {
                b1 = s12;
                n1 = j + 2;
            }
            if s13 < b1 {
                b1 = s13;
                n1 = j + 3;
            }
            if s20 < b2 {
                b2 = s20;
                n2 = j;
            }
            if s21 < b2 {
                b2 = s21;
                n2 = j + 1;
            }
            if s22 < b2 {
                b2 = s22;
                n2 = j + 2;
            }
            if s23 < b2 {
                b2 = s23;
                n2 = j + 3;
            }
            if s30 < b3 {
                b3 = s30;
                n3 = j;
            }
            if s31 < b3 {
                b3 = s31;
                n3 = j + 1;
            }
            if s32 < b3 {
                b3 = s32;
                n3 = j + 2;
            }
            if s33 < b3 {
                b3 = s33;
                n3 = j + 3;
            }
        }
        // Two of the last `k mod 4` centroids, when there are two, then the last one.
        for q in 0..k % 4 / 2 {
            let j = 4 * (k / 4) + 2 * q;
            let (mut s00, mut s01) = (0.0, 0.0);
            let (mut s10, mut s11) = (0.0, 0.0);
            let (mut s20, mut s21) = (0.0, 0.0);
            let (mut s30, mut s31) = (0.0, 0.0);
            for l in 0..d {
                let x0 = p[i * d + l];
                let x1 = p[(i + 1) * d + l];
                let x2 = p[(i + 2) * d + l];
                let x3 = p[(i + 3) * d + l];
                let y0 = c[j * d + l];
                let y1 = c[(j + 1) * d + l];
                let t00 = y0 - x0;
                s00 += t00 * t00;
                let t01 = y1 - x0;
                s01 += t01 * t01;
                let t10 = y0 - x1;
                s10 += t10 * t10;
                let t11 = y1 - x1;
                s11 += t11 * t11;
                let t20 = y0 - x2;
                s20 += t20 * t20;
                let t21 = y1 - x2;
                s21 += t21 * t21;
                let t30 = y0 - x3;
                s30 += t30 * t30;
                let t31 = y1 - x3;
                s31 += t31 * t31;
            }
            if s00 < b0 {
                b0 = s00;
                n0 = j;
            }
            if s01 < b0 {
                b0 = s01;
                n0 = j + 1;
            }
            if s10 < b1 {
                b1 = s10;
                n1 = j;
            }
            if s11 < b1 {
                b1 = s11;
                n1 = j + 1;
            }
            if s20 < b2 {
                b2 = s20;
                n2 = j;
            }
            if s21 < b2 {
                b2 = s21;
                n2 = j + 1;
            }
            if s30 < b3 {
                b3 = s30;
                n3 = j;
            }
            if s31 < b3 {
                b3 = s31;
                n3 = j + 1;
            }
        }
        for j in 4 * (k / 4) + 2 * (k % 4 / 2)..k {
            let mut s00 = 0.0;
            let mut s10 = 0.0;
            let mut s20 = 0.0;
            let mut s30 = 0.0;
            for l in 0..d {
                let x0 = p[i * d + l];
                let x1 = p[(i + 1) * d + l];
                let x2 = p[(i + 2) * d + l];
                let x3 = p[(i + 3) * d + l];
                let y0 = c[j * d + l];
                let t00 = y0 - x0;
                s00 += t00 * t00;
                let t10 = y0 - x1;
                s10 += t10 * t10;
                let t20 = y0 - x2;
                s20 += t20 * t20;
                let t30 = y0 - x3;
                s30 += t30 * t30;
            }
            if s00 < b0 {
                b0 = s00;
                n0 = j;
            }
            if s10 < b1 {
                b1 = s10;
                n1 = j;
            }
            if s20 < b2 {
                b2 = s20;
                n2 = j;
            }
            if s30 < b3 {
                b3 = s30;
                n3 = j;
            }
        }
        // The chosen centroids' distances again: the same operations, the same bits.
        let (mut r0, mut r1, mut r2, mut r3) = (0.0, 0.0, 0.0, 0.0);
        for l in 0..d {
            let t0 = c[n0 * d + l] - p[i * d + l];
            r0 += t0 * t0;
            let t1 = c[n1 * d + l] - p[(i + 1) * d + l];
            r1 += t1 * t1;
            let t2 = c[n2 * d + l] - p[(i + 2) * d + l];
            r2 += t2 * t2;
            let t3 = c[n3 * d + l] - p[(i + 3) * d + l];
            r3 += t3 * t3;
        }
        total += r0;
        total += r1;
        total += r2;
        total += r3;
    }
    total
}

/// The cost, compiled for AVX-512 when the CPU has it (`super::has_avx512`).
pub fn objective(p: &[f64], c: &[f64], n: usize, k: usize, d: usize) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if super::has_avx512() {
        // SAFETY: the CPU has the features `cost_avx512` is compiled for (checked above).
        return unsafe { cost_avx512(p, c, n, k, d) };
    }
    cost(p, c, n, k, d)
}

/// `J · H⁻¹`, row after row (`k` rows of `d`), compiled for AVX-512 when the CPU has it.
pub fn dir(p: &[f64], c: &[f64], n: usize, k: usize, d: usize) -> Vec<f64> {
    #[cfg(target_arch = "x86_64")]
    if super::has_avx512() {
        // SAFETY: the CPU has the features `dir_avx512` is compiled for (checked above).
        return unsafe { dir_avx512(p, c, n, k, d) };
    }
    dir_portable(p, c, n, k, d)
}

/// `cost` and `cost_hvp` are `#[inline(always)]` (carried from `cost`), so these compile them
/// for AVX-512: 6 to 7% faster `dir` at k = 10 than the portable build, with the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl")]
fn cost_avx512(p: &[f64], c: &[f64], n: usize, k: usize, d: usize) -> f64 {
    cost(p, c, n, k, d)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl")]
fn dir_avx512(p: &[f64], c: &[f64], n: usize, k: usize, d: usize) -> Vec<f64> {
    dir_portable(p, c, n, k, d)
}

#[inline(always)]
fn dir_portable(p: &[f64], c: &[f64], n: usize, k: usize, d: usize) -> Vec<f64> {
    let ones = CostGrad { c: vec![1.0; k * d] };
    let (_, j, h) = cost_hvp(p, c, n, k, d, &ones);
    j.c.iter().zip(&h.c).map(|(g, h)| g / h).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both builds give the same bits (on a CPU without AVX-512 this compares the portable build
    /// with itself; the protocol tests check the values).
    #[test]
    fn the_avx512_build_matches_the_portable_one() {
        let (n, k, d) = (23, 6, 3);
        let p: Vec<f64> = (0..n * d).map(|i| (i as f64 * 0.61).sin()).collect();
        let c: Vec<f64> = (0..k * d).map(|i| (i as f64 * 1.37).cos()).collect();
        assert_eq!(objective(&p, &c, n, k, d).to_bits(), cost(&p, &c, n, k, d).to_bits());
        let (fast, portable) = (dir(&p, &c, n, k, d), dir_portable(&p, &c, n, k, d));
        assert!(fast.iter().zip(&portable).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(fast.len(), k * d);
    }
}
