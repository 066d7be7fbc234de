//! `_jacobian`'s two modes (issue 16 item 3): forward (one tangent sweep over `Dual64x4` per four
//! differentiated scalars) when there are fewer differentiated scalars than outputs, reverse (one
//! pullback per output) otherwise. Tall and wide cases over float, array, slice, `Vec` and struct
//! arguments, each against num-dual's `jacobian` on a generic twin (1e-12 relative) and against the
//! reverse-mode Jacobian assembled here from `<name>_pullback` with unit seeds.

#![allow(clippy::needless_range_loop, clippy::ptr_arg)]

use backprop::prelude::*;
use nalgebra::{SMatrix, SVector};
use num_dual::{jacobian, DualNum, DualSVec64};

/// num-dual's Jacobian of `f` (N parameters, M outputs) at `x`.
fn oracle<const N: usize, const M: usize>(
    f: impl Fn(&[DualSVec64<N>]) -> Vec<DualSVec64<N>>,
    x: &[f64],
) -> Vec<Vec<f64>> {
    let (_, j): (SVector<f64, M>, SMatrix<f64, M, N>) = jacobian(
        |p: SVector<DualSVec64<N>, N>| SVector::from_column_slice(&f(p.as_slice())),
        SVector::from_column_slice(x),
    );
    (0..M).map(|k| (0..N).map(|i| j[(k, i)]).collect()).collect()
}

fn assert_close(j: &[Vec<f64>], reference: &[Vec<f64>], what: &str) {
    assert_eq!(j.len(), reference.len(), "{what}: rows");
    for k in 0..j.len() {
        assert_eq!(j[k].len(), reference[k].len(), "{what}: row {k}");
        for i in 0..j[k].len() {
            let (a, b) = (j[k][i], reference[k][i]);
            assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs())), "{what}: j[{k}][{i}] = {a} vs {b}");
        }
    }
}

// ---- tall, float arguments (forward, decided at compile time) ------------------------------------

#[backprop(wrt(a, b))]
fn tall_floats(a: f64, b: f64, t: &[f64; 6]) -> [f64; 6] {
    let mut r = [0.0; 6];
    for k in 0..6 {
        r[k] = a * (b * t[k]).exp() - (a * t[k]).sin() * b;
    }
    r
}
fn tall_floats_twin<T: DualNum<f64> + Copy>(p: &[T], t: &[f64; 6]) -> Vec<T> {
    (0..6).map(|k| p[0] * (p[1] * t[k]).exp() - (p[0] * t[k]).sin() * p[1]).collect()
}

#[test]
fn tall_float_arguments() {
    let t = [0.1, 0.4, -0.3, 0.9, 1.3, -0.7];
    let (a, b) = (0.8, -0.45);
    let (out, j) = tall_floats_jacobian(a, b, &t);
    assert_eq!(out, tall_floats(a, b, &t));
    assert_close(&j, &oracle::<2, 6>(|p| tall_floats_twin(p, &t), &[a, b]), "tall floats vs num-dual");
    let reverse: Vec<Vec<f64>> = (0..6)
        .map(|k| {
            let mut seed = [0.0; 6];
            seed[k] = 1.0;
            let (da, db, ()) = tall_floats_pullback(a, b, &t, &out, &seed, None);
            vec![da, db]
        })
        .collect();
    assert_close(&j, &reverse, "tall floats forward vs reverse");
}

// ---- tall, an array and a passive float (forward, compile time) ------------------------------------

#[backprop(wrt(p))]
fn expfit(p: &[f64; 4], scale: f64, t: &[f64; 12], y: &[f64; 12]) -> [f64; 12] {
    let mut r = [0.0; 12];
    for k in 0..12 {
        r[k] = y[k] - scale * (p[0] * (-p[1] * t[k]).exp() + p[2] * (-p[3] * t[k]).exp());
    }
    r
}
fn expfit_twin<T: DualNum<f64> + Copy>(p: &[T], scale: f64, t: &[f64; 12], y: &[f64; 12]) -> Vec<T> {
    (0..12).map(|k| -(p[0] * (-p[1] * t[k]).exp() + p[2] * (-p[3] * t[k]).exp()) * scale + y[k]).collect()
}

#[test]
fn tall_array_argument() {
    let t: [f64; 12] = std::array::from_fn(|k| 0.25 * k as f64);
    let y: [f64; 12] = std::array::from_fn(|k| (0.3 * k as f64).cos());
    let p = [1.5, 0.7, -0.4, 2.1];
    let (out, j) = expfit_jacobian(&p, 1.1, &t, &y);
    assert_eq!(out, expfit(&p, 1.1, &t, &y));
    assert_close(&j, &oracle::<4, 12>(|q| expfit_twin(q, 1.1, &t, &y), &p), "expfit vs num-dual");
    let reverse: Vec<Vec<f64>> = (0..12)
        .map(|k| {
            let mut seed = [0.0; 12];
            seed[k] = 1.0;
            let mut dp = [0.0; 4];
            expfit_pullback(&p, 1.1, &t, &y, &out, &seed, Some(&mut dp), None, None);
            dp.to_vec()
        })
        .collect();
    assert_close(&j, &reverse, "expfit forward vs reverse");
}

// ---- a slice: tall or wide by its length (decided at run time) -------------------------------------

#[backprop]
fn slice_residuals(x: &[f64], c: usize) -> [f64; 8] {
    let mut r = [0.0; 8];
    for k in 0..8 {
        let mut s = 0.0;
        for i in 0..x.len() {
            s += x[i] * x[(i + k + c) % x.len()] * (1.0 + (k * i) as f64 * 0.1);
        }
        r[k] = s.tanh() + x[k % x.len()].powi(3);
    }
    r
}
fn slice_twin<T: DualNum<f64> + Copy>(x: &[T], c: usize) -> Vec<T> {
    (0..8)
        .map(|k| {
            let mut s = T::zero();
            for i in 0..x.len() {
                s += x[i] * x[(i + k + c) % x.len()] * (1.0 + (k * i) as f64 * 0.1);
            }
            s.tanh() + x[k % x.len()].powi(3)
        })
        .collect()
}
fn slice_reverse(x: &[f64], c: usize, out: &[f64; 8]) -> Vec<Vec<f64>> {
    (0..8)
        .map(|k| {
            let mut seed = [0.0; 8];
            seed[k] = 1.0;
            let mut dx = vec![0.0; x.len()];
            slice_residuals_pullback(x, c, out, &seed, Some(&mut dx[..]));
            dx
        })
        .collect()
}

#[test]
fn slice_tall_and_wide() {
    // Tall: 3 parameters, 8 outputs (forward).
    let x = [0.3, -0.8, 0.5];
    let (out, j) = slice_residuals_jacobian(&x, 2);
    assert_eq!(out, slice_residuals(&x, 2));
    assert_close(&j, &oracle::<3, 8>(|p| slice_twin(p, 2), &x), "slice n = 3 vs num-dual");
    assert_close(&j, &slice_reverse(&x, 2, &out), "slice n = 3 forward vs reverse");
    // Wide: 11 parameters, 8 outputs (reverse).
    let x: Vec<f64> = (0..11).map(|i| 0.1 * i as f64 - 0.4).collect();
    let (out, j) = slice_residuals_jacobian(&x, 1);
    assert_eq!(out, slice_residuals(&x, 1));
    assert_close(&j, &oracle::<11, 8>(|p| slice_twin(p, 1), &x), "slice n = 11 vs num-dual");
    assert_close(&j, &slice_reverse(&x, 1, &out), "slice n = 11 reverse vs pullbacks");
    assert_eq!(slice_residuals_jacobian_flat(&x, 1), (out, j.concat()), "reverse mode's rows in one buffer");
    // Square: 8 and 8 (reverse).
    let x: Vec<f64> = (0..8).map(|i| 0.2 * i as f64 - 0.7).collect();
    let (_, j) = slice_residuals_jacobian(&x, 0);
    assert_close(&j, &oracle::<8, 8>(|p| slice_twin(p, 0), &x), "slice n = 8 vs num-dual");
}

// ---- a `Vec` argument (run time) --------------------------------------------------------------------

#[backprop]
fn vec_residuals(x: &Vec<f64>, w: f64) -> [f64; 5] {
    let mut r = [0.0; 5];
    for k in 0..5 {
        r[k] = w * x[k % x.len()] * x[(k + 1) % x.len()] + (x[0] * k as f64).cos();
    }
    r
}
fn vec_twin<T: DualNum<f64> + Copy>(p: &[T]) -> Vec<T> {
    let (x, w) = (&p[..p.len() - 1], p[p.len() - 1]);
    (0..5).map(|k| w * x[k % x.len()] * x[(k + 1) % x.len()] + (x[0] * k as f64).cos()).collect()
}

#[test]
fn vec_argument_tall_and_wide() {
    let x = vec![0.4, -1.2];
    let (out, j) = vec_residuals_jacobian(&x, 0.9);
    assert_eq!(out, vec_residuals(&x, 0.9));
    assert_close(&j, &oracle::<3, 5>(vec_twin, &[0.4, -1.2, 0.9]), "Vec n = 3 vs num-dual");
    let x = vec![0.4, -1.2, 0.3, 0.8, -0.1, 0.6];
    let (_, j) = vec_residuals_jacobian(&x, 0.9);
    let mut p = x.clone();
    p.push(0.9);
    assert_close(&j, &oracle::<7, 5>(vec_twin, &p), "Vec n = 7 vs num-dual");
}

// ---- a parameter struct (reverse: a hand-written `Params` has no dual twin, so structs stay reverse) -

#[derive(Params, Clone, Debug)]
struct Model {
    a: [f64; 2],
    b: f64,
}

#[backprop(wrt(m))]
fn model_residuals(m: &Model, t: &[f64; 7], y: &[f64; 7]) -> [f64; 7] {
    let mut r = [0.0; 7];
    for k in 0..7 {
        r[k] = m.a[0] * (m.b * t[k]).sin() + m.a[1] * t[k] * t[k] - y[k];
    }
    r
}
fn model_twin<T: DualNum<f64> + Copy>(p: &[T], t: &[f64; 7], y: &[f64; 7]) -> Vec<T> {
    (0..7).map(|k| p[0] * (p[2] * t[k]).sin() + p[1] * t[k] * t[k] - y[k]).collect()
}

#[test]
fn struct_argument_tall() {
    let t: [f64; 7] = std::array::from_fn(|k| 0.3 * k as f64 - 0.5);
    let y: [f64; 7] = std::array::from_fn(|k| 0.1 * k as f64);
    let m = Model { a: [1.3, -0.6], b: 0.75 };
    let (out, j) = model_residuals_jacobian(&m, &t, &y);
    assert_eq!(out, model_residuals(&m, &t, &y));
    assert_close(&j, &oracle::<3, 7>(|p| model_twin(p, &t, &y), &[1.3, -0.6, 0.75]), "struct vs num-dual");
    let reverse: Vec<Vec<f64>> = (0..7)
        .map(|k| {
            let mut seed = [0.0; 7];
            seed[k] = 1.0;
            let mut dm = Model { a: [0.0; 2], b: 0.0 };
            model_residuals_pullback(&m, &t, &y, &out, &seed, Some(&mut dm), None, None);
            vec![dm.a[0], dm.a[1], dm.b]
        })
        .collect();
    assert_close(&j, &reverse, "struct jacobian vs pullbacks");
}

// ---- wide, a fixed array (reverse, compile time) ---------------------------------------------------

#[backprop]
fn wide(x: &[f64; 6], s: f64) -> [f64; 2] {
    let mut r = [0.0; 2];
    for i in 0..6 {
        r[0] += (s * x[i]).exp();
        r[1] += x[i] * x[(i + 1) % 6] / s;
    }
    r
}
fn wide_twin<T: DualNum<f64> + Copy>(p: &[T]) -> Vec<T> {
    let (x, s) = (&p[..6], p[6]);
    let mut r = vec![T::zero(); 2];
    for i in 0..6 {
        r[0] += (s * x[i]).exp();
        r[1] += x[i] * x[(i + 1) % 6] / s;
    }
    r
}

#[test]
fn wide_array_argument() {
    let x = [0.1, -0.2, 0.3, 0.5, -0.9, 0.2];
    let (out, j) = wide_jacobian(&x, 0.7);
    assert_eq!(out, wide(&x, 0.7));
    let mut p = x.to_vec();
    p.push(0.7);
    assert_close(&j, &oracle::<7, 2>(wide_twin, &p), "wide vs num-dual");
}

// ---- tall, with an activation, a branch and `max` (forward); and a caller (reverse fallback) -------

#[backprop]
fn kinked(x: &[f64; 2]) -> [f64; 5] {
    let mut r = [0.0; 5];
    for k in 0..5 {
        let z = x[0] * k as f64 - x[1];
        r[k] = if z > 0.0 { sigmoid(z) * x[1] } else { z.max(-0.5) * x[0] };
    }
    r
}
fn kinked_twin<T: DualNum<f64> + Copy>(x: &[T]) -> Vec<T> {
    (0..5)
        .map(|k| {
            let z = x[0] * k as f64 - x[1];
            if z.re() > 0.0 {
                (-z).exp().recip_plus_one() * x[1]
            } else if z.re() > -0.5 {
                z * x[0]
            } else {
                x[0] * -0.5
            }
        })
        .collect()
}
trait RecipPlusOne {
    fn recip_plus_one(self) -> Self;
}
impl<T: DualNum<f64> + Copy> RecipPlusOne for T {
    fn recip_plus_one(self) -> Self {
        (self + 1.0).recip()
    }
}

/// Calls `kinked`: no dual copy of the callee, so reverse mode although `n < M`.
#[backprop]
fn caller(x: &[f64; 2]) -> [f64; 5] {
    let h = kinked(x);
    let mut r = [0.0; 5];
    for k in 0..5 {
        r[k] = 2.0 * h[k];
    }
    r
}

#[test]
fn activation_branches_and_a_caller() {
    for x in [[0.6, 0.4], [-0.3, 0.25], [0.2, 1.9]] {
        let (out, j) = kinked_jacobian(&x);
        assert_eq!(out, kinked(&x));
        assert_close(&j, &oracle::<2, 5>(kinked_twin, &x), "kinked vs num-dual");
        let (out, jc) = caller_jacobian(&x);
        assert_eq!(out, caller(&x));
        let doubled: Vec<Vec<f64>> = j.iter().map(|r| r.iter().map(|v| 2.0 * v).collect()).collect();
        assert_close(&jc, &doubled, "caller (reverse) vs 2 × kinked (forward)");
    }
}

// ---- tall, more scalars than one sweep carries (forward, several four-column sweeps) -----------

/// 9 differentiated scalars over four arguments (a sweep boundary inside `x` and inside `y`), a
/// constant array, 12 outputs: three sweeps of four, four and one column.
#[backprop(wrt(a, x, b, y))]
fn tall_mixed(a: f64, x: &[f64; 4], b: f64, y: &[f64], t: &[f64; 12]) -> [f64; 12] {
    let mut r = [0.0; 12];
    for k in 0..12 {
        let u = x[k % 4] * t[k] + a;
        let v = y[k % y.len()] * b;
        r[k] = u.sin() * v.exp() + (u * v).atan2(1.0 + b * b) - a.sqrt() * y[(k + 1) % y.len()] / (1.0 + x[0] * x[0]);
    }
    r
}
fn tall_mixed_twin<T: DualNum<f64> + Copy>(p: &[T], t: &[f64; 12]) -> Vec<T> {
    let (a, x, b, y) = (p[0], &p[1..5], p[5], &p[6..]);
    (0..12)
        .map(|k| {
            let u = x[k % 4] * t[k] + a;
            let v = y[k % y.len()] * b;
            u.sin() * v.exp() + (u * v).atan2(T::one() + b * b)
                - a.sqrt() * y[(k + 1) % y.len()] / (T::one() + x[0] * x[0])
        })
        .collect()
}

#[test]
fn tall_with_several_sweeps_and_boundaries_inside_arguments() {
    let t: [f64; 12] = std::array::from_fn(|k| 0.15 * k as f64 - 0.6);
    let (a, x, b, y) = (0.8, [0.3, -0.5, 1.1, 0.2], -0.4, vec![0.6, -0.9, 0.25]);
    let (out, j) = tall_mixed_jacobian(a, &x, b, &y, &t);
    assert_eq!(out, tall_mixed(a, &x, b, &y, &t));
    let p = [a, x[0], x[1], x[2], x[3], b, y[0], y[1], y[2]];
    assert_close(&j, &oracle::<9, 12>(|p| tall_mixed_twin(p, &t), &p), "n = 9 (three sweeps) vs num-dual");
    // The same numbers row-major in one buffer.
    let (flat_out, flat) = tall_mixed_jacobian_flat(a, &x, b, &y, &t);
    assert_eq!(flat_out, out);
    assert_eq!(flat, j.concat());
    // Every column against one pullback per output, the reverse mode.
    for k in 0..12 {
        let mut seed = [0.0; 12];
        seed[k] = 1.0;
        let (mut dx, mut dy) = ([0.0; 4], vec![0.0; 3]);
        let (da, _, db, _, _) =
            tall_mixed_pullback(a, &x, b, &y, &t, &out, &seed, Some(&mut dx), Some(&mut dy[..]), None);
        let row: Vec<f64> = [da].into_iter().chain(dx).chain([db]).chain(dy).collect();
        assert_close(&j[k..k + 1], &[row], "n = 9 forward vs the pullback");
    }
}
