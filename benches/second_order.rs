//! Second order (issue 16): what `#[backprop(hessian)]` and `_jacobian` cost.
//!
//! - `_hvp` / `_grad` on the shapes bench's objectives (Rosenbrock n = 1,000 over a slice, the
//!   depth-100 sigmoid chain, the 64-32-10 network on one sample), redeclared here with
//!   `hessian`: forward-over-reverse is the gradient run once over dual numbers, so the
//!   cheap-gradient bound for the second sweep is a small constant (target ≤ 4).
//! - The dense Hessian of Rosenbrock n = 100 (`_hessian`, 100 hvps) against num-dual's
//!   `hessian` (hyper-dual numbers carrying the whole gradient and Hessian through every
//!   operation), static `Dual2SVec64<100>` and dynamic `Dual2DVec64`.
//! - Jacobians of 100 residuals (`_jacobian`: 4 forward sweeps, or 100 reverse pullbacks) against num-dual's
//!   `jacobian` (one forward pass over `DualSVec64<n>`): a 4-parameter exponential fit (tall, the
//!   shape forward mode wins) and the extended Rosenbrock residuals with n = 100 (square).
//! - Forward mode (`#[backprop(forward)]`): `_jvp` of Rosenbrock n = 1,000 (one tangent sweep of the
//!   function's own statements over `Dual64`) against num-dual's `Dual64` on a generic twin (the same
//!   operator-overloading forward mode, written by hand), and `_hvp_fwd` (forward over forward, one
//!   `DualDual64` sweep per scalar) against num-dual's `HyperDual64` doing the same sweeps, n = 100:
//!   1.2× and 1.2× faster than num-dual (1.1–1.3× over five runs; 1.5× and 2.0× slower before the
//!   zero-tangent guard left `powi` and the sweeps stopped allocating their seeded arguments).
//!
//! ```text
//! cargo bench --bench second_order                          # criterion, then the ratio table
//! SECOND_ORDER_TABLE_ONLY=1 cargo bench --bench second_order  # only the interleaved ratio table
//! ```
//!
//! The table times the two sides in alternating rounds (the order flipping every round) and
//! reports medians, so load from other processes cancels out of the ratios.

#![allow(clippy::needless_range_loop, clippy::ptr_arg)]

use std::hint::black_box;

use backprop::prelude::*;
use criterion::Criterion;
use nalgebra::{DVector, SVector};
use num_dual::{hessian, jacobian, Dual2DVec64, Dual2SVec64, DualNum, DualSVec64, HyperDual64};

#[macro_use]
#[path = "common/timing.rs"]
mod timing;
use timing::{interleaved, Run, ROUNDS};

// ---- Objectives (the shapes bench's, with `hessian`) ----------------------------------------------

const N: usize = 1000;
const N_HESSIAN: usize = 100;
const DEPTH: usize = 100;
const IN: usize = 64;
const HID: usize = 32;
const OUT: usize = 10;
const M: usize = 100;

/// Extended Rosenbrock over a slice.
#[backprop(hessian, forward)]
pub fn rosen_slice(x: &[f64]) -> f64 {
    let mut f = 0.0;
    for i in 0..x.len() - 1 {
        f += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
    }
    f
}

/// The depth-100 sigmoid chain over slices.
#[backprop(hessian, wrt(w, b))]
pub fn chain_slice(w: &[f64], b: &[f64], x: f64, y: f64) -> f64 {
    let mut a = x;
    for l in 0..w.len() {
        a = sigmoid(w[l] * a + b[l]);
    }
    (a - y).powi(2)
}

/// The 64-32-10 sigmoid network, one sample, flat row-major slices.
#[backprop(hessian, wrt(w1, b1, w2, b2))]
pub fn net_flat(w1: &[f64], b1: &[f64], w2: &[f64], b2: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let mut h = [0.0; HID];
    for j in 0..HID {
        let mut z = b1[j];
        for i in 0..IN {
            z += w1[j * IN + i] * x[i];
        }
        h[j] = sigmoid(z);
    }
    let mut c = 0.0;
    for k in 0..OUT {
        let mut z = b2[k];
        for j in 0..HID {
            z += w2[k * HID + j] * h[j];
        }
        let r = sigmoid(z) - y[k];
        c += r * r;
    }
    c
}

/// num-dual's generic twin of `rosen_slice`.
/// (`Clone`, not `Copy`: the dynamic hyper-duals live on the heap.)
fn rosen_twin<T: DualNum<f64>>(x: &[T]) -> T {
    let mut f = T::zero();
    for i in 0..x.len() - 1 {
        f += (x[i + 1].clone() - x[i].powi(2)).powi(2) * 100.0 + (-x[i].clone() + 1.0).powi(2);
    }
    f
}

/// 100 residuals of a two-exponential fit `y_k − (a e^{−b t_k} + c e^{−d t_k})` (4 parameters).
#[backprop(wrt(p))]
pub fn expfit(p: &[f64; 4], t: &[f64; M], y: &[f64; M]) -> [f64; M] {
    let mut r = [0.0; M];
    for k in 0..M {
        r[k] = y[k] - (p[0] * (-p[1] * t[k]).exp() + p[2] * (-p[3] * t[k]).exp());
    }
    r
}

fn expfit_twin<T: DualNum<f64> + Copy>(p: &[T], t: &[f64], y: &[f64]) -> Vec<T> {
    (0..M).map(|k| -(p[0] * (-p[1] * t[k]).exp() + p[2] * (-p[3] * t[k]).exp()) + y[k]).collect()
}

/// The extended Rosenbrock residuals with n = 100: `r_{2i} = 10 (x_{2i+1} − x_{2i}²)`,
/// `r_{2i+1} = 1 − x_{2i}`.
#[backprop]
pub fn rosen_residuals(x: &[f64; M]) -> [f64; M] {
    let mut r = [0.0; M];
    for i in 0..M / 2 {
        r[2 * i] = 10.0 * (x[2 * i + 1] - x[2 * i] * x[2 * i]);
        r[2 * i + 1] = 1.0 - x[2 * i];
    }
    r
}

fn rosen_residuals_twin<T: DualNum<f64> + Copy>(x: &[T]) -> Vec<T> {
    let mut r = vec![T::zero(); M];
    for i in 0..M / 2 {
        r[2 * i] = (x[2 * i + 1] - x[2 * i] * x[2 * i]) * 10.0;
        r[2 * i + 1] = -x[2 * i] + 1.0;
    }
    r
}

// ---- num-dual's side ----------------------------------------------------------------------------

fn nd_hessian_static(x: &[f64]) -> f64 {
    let (v, _, h) = hessian(
        |x: SVector<Dual2SVec64<N_HESSIAN>, N_HESSIAN>| rosen_twin(x.as_slice()),
        SVector::from_column_slice(x),
    );
    v + h[(0, 0)]
}

fn nd_hessian_dynamic(x: &[f64]) -> f64 {
    let (v, _, h) = hessian(|x: DVector<Dual2DVec64>| rosen_twin(x.as_slice()), DVector::from_column_slice(x));
    v + h[(0, 0)]
}

fn nd_expfit(p: &[f64; 4], t: &[f64; M], y: &[f64; M]) -> f64 {
    let (r, j) = jacobian(
        |p: SVector<DualSVec64<4>, 4>| SVector::<DualSVec64<4>, M>::from_column_slice(&expfit_twin(p.as_slice(), t, y)),
        SVector::from_column_slice(p),
    );
    r[0] + j[(0, 0)]
}

fn nd_rosen_residuals(x: &[f64; M]) -> f64 {
    let (r, j) = jacobian(
        |x: SVector<DualSVec64<M>, M>| {
            SVector::<DualSVec64<M>, M>::from_column_slice(&rosen_residuals_twin(x.as_slice()))
        },
        SVector::from_column_slice(x),
    );
    r[0] + j[(0, 0)]
}

/// num-dual's forward mode: one `Dual64` sweep of the generic twin along `v`.
fn nd_jvp(x: &[f64], v: &[f64]) -> f64 {
    let xd: Vec<num_dual::Dual64> = x.iter().zip(v).map(|(x, v)| num_dual::Dual64::new(*x, *v)).collect();
    rosen_twin(&xd).eps
}

/// num-dual's forward over forward: `(H·v)_j` by one `HyperDual64` sweep per scalar `j`.
fn nd_hvp_fwd(x: &[f64], v: &[f64]) -> f64 {
    let mut hv = 0.0;
    for j in 0..x.len() {
        let xd: Vec<HyperDual64> =
            (0..x.len()).map(|i| HyperDual64::new(x[i], if i == j { 1.0 } else { 0.0 }, v[i], 0.0)).collect();
        hv += rosen_twin(&xd).eps1eps2;
    }
    hv
}

/// SplitMix64 in [-1, 1).
fn random_vec(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

fn direction<G: Params<Scalar = f64> + Clone>(g: &G, seed: u64) -> G {
    let mut v = g.clone();
    backprop::runtime::params::copy_from_slice(&mut v, &random_vec(g.num_params(), seed)).unwrap();
    v
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / (1.0 + x.abs().max(y.abs()))).fold(0.0, f64::max)
}

/// Before timing, check that both sides of every Hessian and Jacobian row compute the same matrix.
fn verify(x100: &[f64], p: &[f64; 4], t: &[f64; M], y: &[f64; M], xr: &[f64; M]) {
    let (_, _, h) = rosen_slice_hessian(x100);
    let (_, _, oh) = hessian(|x: DVector<Dual2DVec64>| rosen_twin(x.as_slice()), DVector::from_column_slice(x100));
    let worst = (0..N_HESSIAN)
        .map(|i| max_diff(&h[i], &(0..N_HESSIAN).map(|j| oh[(i, j)]).collect::<Vec<_>>()))
        .fold(0.0, f64::max);
    assert!(worst < 1e-12, "Hessian differs from num-dual by {worst}");
    let (_, j) = expfit_jacobian(p, t, y);
    let (_, oj) = jacobian(
        |p: SVector<DualSVec64<4>, 4>| SVector::<DualSVec64<4>, M>::from_column_slice(&expfit_twin(p.as_slice(), t, y)),
        SVector::from_column_slice(p),
    );
    let worst = (0..M).map(|k| max_diff(&j[k], &(0..4).map(|i| oj[(k, i)]).collect::<Vec<_>>())).fold(0.0, f64::max);
    assert!(worst < 1e-12, "expfit Jacobian differs from num-dual by {worst}");
    let (_, j) = rosen_residuals_jacobian(xr);
    let (_, oj) = jacobian(
        |x: SVector<DualSVec64<M>, M>| {
            SVector::<DualSVec64<M>, M>::from_column_slice(&rosen_residuals_twin(x.as_slice()))
        },
        SVector::from_column_slice(xr),
    );
    let worst = (0..M).map(|k| max_diff(&j[k], &(0..M).map(|i| oj[(k, i)]).collect::<Vec<_>>())).fold(0.0, f64::max);
    assert!(worst < 1e-12, "Rosenbrock residual Jacobian differs from num-dual by {worst}");
}

fn bench() {
    // Rosenbrock near the minimum's scale; the chain and network with the shapes bench's sizes.
    let x: Vec<f64> = random_vec(N, 1).iter().map(|v| 1.0 + 0.5 * v).collect();
    let (w, b) = (random_vec(DEPTH, 2), random_vec(DEPTH, 3));
    let (w1, b1) = (random_vec(HID * IN, 4).iter().map(|v| 0.2 * v).collect::<Vec<_>>(), random_vec(HID, 5));
    let (w2, b2) = (random_vec(OUT * HID, 6).iter().map(|v| 0.3 * v).collect::<Vec<_>>(), random_vec(OUT, 7));
    let (nx, ny) = (random_vec(IN, 8), random_vec(OUT, 9).iter().map(|v| 0.5 + 0.5 * v).collect::<Vec<_>>());
    let x100: Vec<f64> = x[..N_HESSIAN].to_vec();
    let t: [f64; M] = std::array::from_fn(|k| 0.05 * k as f64);
    let y: [f64; M] = std::array::from_fn(|k| 2.0 * (-1.3 * t[k]).exp() + 0.5 * (-0.2 * t[k]).exp());
    let p = [1.5, 1.0, 0.7, 0.3];
    let xr: [f64; M] = std::array::from_fn(|i| x[i]);
    verify(&x100, &p, &t, &y, &xr);

    let rv = direction(&rosen_slice_grad(&x).1, 11);
    let cv = direction(&chain_slice_grad(&w, &b, 0.3, 0.8).1, 12);
    let nv = direction(&net_flat_grad(&w1, &b1, &w2, &b2, &nx, &ny).1, 13);
    // Both sides of the forward-mode cases compute the same numbers.
    let (jv, ndjv) = (rosen_slice_jvp(&x, &rv).1, nd_jvp(&x, &rv.x));
    assert!((jv - ndjv).abs() <= 1e-9 * (1.0 + ndjv.abs()), "jvp {jv} vs num-dual {ndjv}");
    let v100 = RosenSliceGrad { x: rv.x[..N_HESSIAN].to_vec() };
    let hv: f64 = rosen_slice_hvp_fwd(&x100, &v100).2.x.iter().sum();
    let ndhv = nd_hvp_fwd(&x100, &v100.x);
    assert!((hv - ndhv).abs() <= 1e-9 * (1.0 + ndhv.abs()), "hvp_fwd {hv} vs num-dual {ndhv}");

    // (name, baseline, measured): the ratio is measured / baseline.
    let mut hvp_cases: Vec<(&str, Run, Run)> = vec![
        (
            "Rosenbrock n = 1000 (slice)",
            {
                let x = x.clone();
                run!(rosen_slice_grad(black_box(&x)))
            },
            {
                let (x, v) = (x.clone(), rv.clone());
                run!(rosen_slice_hvp(black_box(&x), &v))
            },
        ),
        (
            "sigmoid chain, depth 100",
            {
                let (w, b) = (w.clone(), b.clone());
                run!(chain_slice_grad(black_box(&w), &b, 0.3, 0.8))
            },
            {
                let (w, b, v) = (w.clone(), b.clone(), cv.clone());
                run!(chain_slice_hvp(black_box(&w), &b, 0.3, 0.8, &v))
            },
        ),
        (
            "64-32-10 network, one sample",
            {
                let (w1, b1, w2, b2, nx, ny) = (w1.clone(), b1.clone(), w2.clone(), b2.clone(), nx.clone(), ny.clone());
                run!(net_flat_grad(black_box(&w1), &b1, &w2, &b2, &nx, &ny))
            },
            {
                let (w1, b1, w2, b2, nx, ny, v) =
                    (w1.clone(), b1.clone(), w2.clone(), b2.clone(), nx.clone(), ny.clone(), nv.clone());
                run!(net_flat_hvp(black_box(&w1), &b1, &w2, &b2, &nx, &ny, &v))
            },
        ),
    ];
    let mut dense_cases: Vec<(&str, Run, Run)> = vec![
        (
            "Hessian, Rosenbrock n = 100: num-dual Dual2SVec64<100>",
            {
                let x = x100.clone();
                run!(nd_hessian_static(black_box(&x)))
            },
            {
                let x = x100.clone();
                run!(rosen_slice_hessian(black_box(&x)))
            },
        ),
        (
            "Hessian, Rosenbrock n = 100: num-dual Dual2DVec64",
            {
                let x = x100.clone();
                run!(nd_hessian_dynamic(black_box(&x)))
            },
            {
                let x = x100.clone();
                run!(rosen_slice_hessian(black_box(&x)))
            },
        ),
        (
            "jvp, Rosenbrock n = 1000: num-dual Dual64 / _jvp (forward)",
            {
                let (x, v) = (x.clone(), rv.x.clone());
                run!(nd_jvp(black_box(&x), &v))
            },
            {
                let (x, v) = (x.clone(), rv.clone());
                run!(rosen_slice_jvp(black_box(&x), &v))
            },
        ),
        (
            "H·v forward over forward, Rosenbrock n = 100: num-dual HyperDual64 / _hvp_fwd",
            {
                let (x, v) = (x100.clone(), rv.x[..N_HESSIAN].to_vec());
                run!(nd_hvp_fwd(black_box(&x), &v))
            },
            {
                let x = x100.clone();
                let v = RosenSliceGrad { x: rv.x[..N_HESSIAN].to_vec() };
                run!(rosen_slice_hvp_fwd(black_box(&x), &v))
            },
        ),
        (
            "Jacobian, 100 residuals × 4 parameters (exp fit)",
            run!(nd_expfit(black_box(&p), &t, &y)),
            run!(expfit_jacobian(black_box(&p), &t, &y)),
        ),
        (
            "Jacobian, 100 residuals × 4 parameters (exp fit), one buffer: _jacobian_flat",
            run!(nd_expfit(black_box(&p), &t, &y)),
            run!(expfit_jacobian_flat(black_box(&p), &t, &y)),
        ),
        (
            "Jacobian, 100 residuals × 100 parameters (Rosenbrock)",
            run!(nd_rosen_residuals(black_box(&xr))),
            run!(rosen_residuals_jacobian(black_box(&xr))),
        ),
    ];

    if std::env::var_os("SECOND_ORDER_TABLE_ONLY").is_none() {
        let mut c = Criterion::default().configure_from_args();
        for (name, grad, hvp) in hvp_cases.iter_mut() {
            let mut group = c.benchmark_group(name.replace([',', ' ', ':', '/', '=', '(', ')'], "_"));
            group.bench_function("grad", |b| b.iter(&mut *grad));
            group.bench_function("hvp", |b| b.iter(&mut *hvp));
            group.finish();
        }
        for (name, num_dual, ours) in dense_cases.iter_mut() {
            let mut group = c.benchmark_group(name.replace([',', ' ', ':', '/', '=', '(', ')', '<', '>', '×'], "_"));
            group.sample_size(10);
            group.bench_function("num-dual", |b| b.iter(&mut *num_dual));
            group.bench_function("backprop", |b| b.iter(&mut *ours));
            group.finish();
        }
        c.final_summary();
    }

    println!("\nInterleaved ratio tables ({ROUNDS} rounds of ~10 ms of the first column; medians):\n");
    println!("| objective | _grad | _hvp | hvp / grad | best / best | on-CPU ratio |");
    println!("|---|---|---|---|---|---|");
    for (name, grad, hvp) in hvp_cases.iter_mut() {
        let c = interleaved(&mut **grad, &mut **hvp);
        println!(
            "| {name} | {} | {} | {:.2} | {:.2} | {:.2} |",
            timing::format_time(c.hand),
            timing::format_time(c.generated),
            c.ratio,
            c.best_ratio,
            c.cpu_ratio
        );
    }
    println!("\n| case | num-dual | backprop | num-dual / backprop | best / best | on-CPU |");
    println!("|---|---|---|---|---|---|");
    for (name, num_dual, ours) in dense_cases.iter_mut() {
        let c = interleaved(&mut **num_dual, &mut **ours);
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            timing::format_time(c.hand),
            timing::format_time(c.generated),
            speedup(1.0 / c.ratio),
            speedup(1.0 / c.best_ratio),
            speedup(1.0 / c.cpu_ratio)
        );
    }
}

/// `12×` when backprop is faster, `0.8× (1.3× slower)` when it is not.
fn speedup(x: f64) -> String {
    if x >= 1.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}× ({:.1}× slower)", 1.0 / x)
    }
}

fn main() {
    // num-dual's static hyper-duals of size 100 carry a 100 × 100 Hessian each (80 kB): the
    // argument vector alone is 8 MB of stack.
    std::thread::Builder::new().stack_size(1 << 30).spawn(bench).unwrap().join().unwrap();
}
