//! Second order (issue 16): `_hvp`, `_hessian`, `_jvp` of `#[backprop(hessian)]` costs and
//! `_jacobian` of array-returning functions, against num-dual's `hessian`/`jacobian` on generic
//! twins of each function (1e-12 relative), with exact symmetry, `hvp == H·v` for random `v`, and
//! values and gradients bit for bit those of `_grad`.

#![allow(clippy::needless_range_loop, clippy::ptr_arg)]

use backprop::prelude::*;
use nalgebra::{SMatrix, SVector};
use num_dual::{hessian, jacobian, Dual2SVec64, DualNum, DualSVec64};

/// num-dual's Hessian of `f` at `x` (value, gradient, Hessian).
fn oracle_hessian<const N: usize>(
    f: impl Fn(&[Dual2SVec64<N>]) -> Dual2SVec64<N>,
    x: &[f64],
) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let (v, g, h): (f64, SVector<f64, N>, SMatrix<f64, N, N>) =
        hessian(|x: SVector<Dual2SVec64<N>, N>| f(x.as_slice()), SVector::from_column_slice(x));
    (v, g.iter().copied().collect(), (0..N).map(|i| (0..N).map(|j| h[(i, j)]).collect()).collect())
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

fn assert_matrix(h: &[Vec<f64>], oracle: &[Vec<f64>], tol: f64, what: &str) {
    assert_eq!(h.len(), oracle.len(), "{what}: rows");
    for i in 0..h.len() {
        for j in 0..h[i].len() {
            assert!(
                close(h[i][j], oracle[i][j], tol),
                "{what}: h[{i}][{j}] = {} but num-dual says {}",
                h[i][j],
                oracle[i][j]
            );
        }
    }
}

fn assert_symmetric(h: &[Vec<f64>]) {
    for i in 0..h.len() {
        for j in 0..h.len() {
            assert_eq!(h[i][j].to_bits(), h[j][i].to_bits(), "h[{i}][{j}] != h[{j}][{i}]");
        }
    }
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

fn mat_vec(h: &[Vec<f64>], v: &[f64]) -> Vec<f64> {
    h.iter().map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum()).collect()
}

fn flat<P: Params<Scalar = f64>>(p: &P) -> Vec<f64> {
    let mut out = Vec::new();
    p.visit(&mut |x| out.push(x));
    out
}

/// Checks a slice cost: Hessian vs num-dual, symmetry, hvp vs H·v, jvp, bit-identity with `_grad`.
macro_rules! check_slice_cost {
    ($name:ident, $twin:ident, $n:expr, $x:expr, $tol:expr) => {{
        let x: Vec<f64> = $x;
        let (value, grad, h) = paste_hessian!($name)(&x);
        let (v0, g0) = paste_grad!($name)(&x);
        assert_eq!(value.to_bits(), v0.to_bits());
        assert_eq!(flat(&grad), flat(&g0));
        let (ov, og, oh) = oracle_hessian::<$n>(|x| $twin(x), &x);
        assert!(close(value, ov, 1e-14));
        for (a, b) in flat(&grad).iter().zip(&og) {
            assert!(close(*a, *b, 1e-12));
        }
        assert_matrix(&h, &oh, $tol, stringify!($name));
        assert_symmetric(&h);
        let dir = random_vec(x.len(), 7);
        let mut v = grad.clone();
        backprop::runtime::params::copy_from_slice(&mut v, &dir).unwrap();
        let (hv_value, hv_grad, hv) = paste_hvp!($name)(&x, &v);
        assert_eq!(hv_value.to_bits(), v0.to_bits());
        assert_eq!(flat(&hv_grad), flat(&g0));
        for (a, b) in flat(&hv).iter().zip(mat_vec(&h, &dir)) {
            assert!(close(*a, b, 1e-11), "hvp {a} vs H·v {b}");
        }
    }};
}

// ---- MGH test functions (Moré, Garbow, Hillstrom 1981) -----------------------------------------

#[backprop(hessian)]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
    }
    s
}
fn rosenbrock_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    let mut s = T::zero();
    for i in 0..x.len() - 1 {
        let a = -x[i] + 1.0;
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + b * b * 100.0;
    }
    s
}

#[backprop(hessian)]
fn powell_singular(x: &[f64; 4]) -> f64 {
    let a = x[0] + 10.0 * x[1];
    let b = x[2] - x[3];
    let c = x[1] - 2.0 * x[2];
    let d = x[0] - x[3];
    a * a + 5.0 * b * b + c.powi(4) + 10.0 * d.powi(4)
}
fn powell_singular_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    let a = x[0] + x[1] * 10.0;
    let b = x[2] - x[3];
    let c = x[1] - x[2] * 2.0;
    let d = x[0] - x[3];
    a * a + b * b * 5.0 + c.powi(4) + d.powi(4) * 10.0
}

#[backprop(hessian)]
fn extended_powell(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..x.len() / 4 {
        let i = 4 * k;
        let a = x[i] + 10.0 * x[i + 1];
        let b = x[i + 2] - x[i + 3];
        let c = x[i + 1] - 2.0 * x[i + 2];
        let d = x[i] - x[i + 3];
        s += a * a + 5.0 * b * b + c.powi(4) + 10.0 * d.powi(4);
    }
    s
}
fn extended_powell_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    let mut s = T::zero();
    for k in 0..x.len() / 4 {
        s += powell_singular_twin(&x[4 * k..4 * k + 4]);
    }
    s
}

#[backprop(hessian)]
fn wood(x: &[f64; 4]) -> f64 {
    let f1 = 10.0 * (x[1] - x[0] * x[0]);
    let f2 = 1.0 - x[0];
    let f3 = 90.0_f64.sqrt() * (x[3] - x[2] * x[2]);
    let f4 = 1.0 - x[2];
    let f5 = 10.0_f64.sqrt() * (x[1] + x[3] - 2.0);
    let f6 = (x[1] - x[3]) / 10.0_f64.sqrt();
    f1 * f1 + f2 * f2 + f3 * f3 + f4 * f4 + f5 * f5 + f6 * f6
}
fn wood_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    let f1 = (x[1] - x[0] * x[0]) * 10.0;
    let f2 = -x[0] + 1.0;
    let f3 = (x[3] - x[2] * x[2]) * 90.0_f64.sqrt();
    let f4 = -x[2] + 1.0;
    let f5 = (x[1] + x[3] - 2.0) * 10.0_f64.sqrt();
    let f6 = (x[1] - x[3]) / 10.0_f64.sqrt();
    f1 * f1 + f2 * f2 + f3 * f3 + f4 * f4 + f5 * f5 + f6 * f6
}

#[backprop(hessian)]
fn helical_valley(x: &[f64; 3]) -> f64 {
    let theta = x[1].atan2(x[0]) / (2.0 * std::f64::consts::PI);
    let f1 = 10.0 * (x[2] - 10.0 * theta);
    let f2 = 10.0 * ((x[0] * x[0] + x[1] * x[1]).sqrt() - 1.0);
    let f3 = x[2];
    f1 * f1 + f2 * f2 + f3 * f3
}
fn helical_valley_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    // atan2(y, x) for x > 0 as atan(y / x): the test point has x[0] > 0.
    let theta = (x[1] / x[0]).atan() / (2.0 * std::f64::consts::PI);
    let f1 = (x[2] - theta * 10.0) * 10.0;
    let f2 = ((x[0] * x[0] + x[1] * x[1]).sqrt() - 1.0) * 10.0;
    let f3 = x[2];
    f1 * f1 + f2 * f2 + f3 * f3
}

#[backprop(hessian)]
fn brown_badly_scaled(x: &[f64; 2]) -> f64 {
    let f1 = x[0] - 1e6;
    let f2 = x[1] - 2e-6;
    let f3 = x[0] * x[1] - 2.0;
    f1 * f1 + f2 * f2 + f3 * f3
}
fn brown_badly_scaled_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    let f1 = x[0] - 1e6;
    let f2 = x[1] - 2e-6;
    let f3 = x[0] * x[1] - 2.0;
    f1 * f1 + f2 * f2 + f3 * f3
}

#[backprop(hessian)]
fn trigonometric(x: &[f64]) -> f64 {
    let n = x.len();
    let mut cos_sum = 0.0;
    for j in 0..n {
        cos_sum += x[j].cos();
    }
    let mut s = 0.0;
    for i in 0..n {
        let fi = n as f64 - cos_sum + (i as f64 + 1.0) * (1.0 - x[i].cos()) - x[i].sin();
        s += fi * fi;
    }
    s
}
fn trigonometric_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    let n = x.len();
    let mut cos_sum = T::zero();
    for j in 0..n {
        cos_sum += x[j].cos();
    }
    let mut s = T::zero();
    for i in 0..n {
        let fi = -cos_sum + n as f64 + (-x[i].cos() + 1.0) * (i as f64 + 1.0) - x[i].sin();
        s += fi * fi;
    }
    s
}

macro_rules! paste_hessian {
    (rosenbrock) => {
        rosenbrock_hessian
    };
    (extended_powell) => {
        extended_powell_hessian
    };
    (trigonometric) => {
        trigonometric_hessian
    };
}
macro_rules! paste_grad {
    (rosenbrock) => {
        rosenbrock_grad
    };
    (extended_powell) => {
        extended_powell_grad
    };
    (trigonometric) => {
        trigonometric_grad
    };
}
macro_rules! paste_hvp {
    (rosenbrock) => {
        rosenbrock_hvp
    };
    (extended_powell) => {
        extended_powell_hvp
    };
    (trigonometric) => {
        trigonometric_hvp
    };
}

#[test]
fn rosenbrock_n2_and_n100_match_num_dual() {
    check_slice_cost!(rosenbrock, rosenbrock_twin, 2, vec![-1.2, 1.0], 1e-12);
    // num-dual's 100-dimensional hyper-duals live on the stack.
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(|| {
            let x: Vec<f64> = random_vec(100, 3).iter().map(|v| 1.5 * v).collect();
            check_slice_cost!(rosenbrock, rosenbrock_twin, 100, x, 1e-12);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn extended_powell_and_trigonometric_match_num_dual() {
    check_slice_cost!(extended_powell, extended_powell_twin, 8, vec![3.0, -1.0, 0.0, 1.0, 3.0, -1.0, 0.0, 1.0], 1e-12);
    check_slice_cost!(trigonometric, trigonometric_twin, 10, (0..10).map(|i| 0.1 + 0.05 * i as f64).collect(), 1e-12);
}

/// Fixed-size MGH problems: Hessian vs num-dual, symmetry, bit-identity with `_grad`.
macro_rules! check_array_cost {
    ($hess:ident, $grad:ident, $twin:ident, $n:expr, $x:expr) => {{
        let x = $x;
        let (value, grad, h) = $hess(&x);
        let (v0, g0) = $grad(&x);
        assert_eq!(value.to_bits(), v0.to_bits());
        assert_eq!(flat(&grad), flat(&g0));
        let (ov, _, oh) = oracle_hessian::<$n>(|x| $twin(x), &x);
        assert!(close(value, ov, 1e-13), "{value} vs {ov}");
        assert_matrix(&h, &oh, 1e-12, stringify!($hess));
        assert_symmetric(&h);
    }};
}

#[test]
fn powell_wood_helical_brown_match_num_dual() {
    check_array_cost!(powell_singular_hessian, powell_singular_grad, powell_singular_twin, 4, [3.0, -1.0, 0.0, 1.0]);
    check_array_cost!(wood_hessian, wood_grad, wood_twin, 4, [-3.0, -1.0, -3.0, -1.0]);
    check_array_cost!(helical_valley_hessian, helical_valley_grad, helical_valley_twin, 3, [0.7, 0.4, 0.3]);
    check_array_cost!(brown_badly_scaled_hessian, brown_badly_scaled_grad, brown_badly_scaled_twin, 2, [1.0, 1.0]);
}

// ---- control flow --------------------------------------------------------------------------------

/// A `while` Newton iteration for `√a` inside the cost: its second derivative is that of `√a·b²`.
#[backprop(hessian)]
fn newton_sqrt(a: f64, b: f64) -> f64 {
    let mut r = a;
    let mut prev = 0.0;
    while (r - prev).abs() > 1e-15 * a {
        prev = r;
        r = 0.5 * (r + a / r);
    }
    r * b * b
}

#[test]
fn while_newton_iteration_has_the_closed_form_hessian() {
    let (a, b) = (2.0_f64, 1.5_f64);
    let (_, _, h) = newton_sqrt_hessian(a, b);
    let s = a.sqrt();
    let exact = [[-0.25 * b * b / (a * s), b / s], [b / s, 2.0 * s]];
    for i in 0..2 {
        for j in 0..2 {
            assert!(close(h[i][j], exact[i][j], 1e-12), "h[{i}][{j}] = {} vs {}", h[i][j], exact[i][j]);
        }
    }
    assert_symmetric(&h);
}

/// Kinks: a piecewise function whose Hessian is exactly zero on the linear side and `2` on the
/// quadratic side, with a guard (`sqrt` at 0) in the untaken branch that must not give NaN.
#[backprop(hessian)]
fn kinks(x: f64, y: f64) -> f64 {
    let n = x.sqrt();
    let g = if n > 0.0 { n } else { 0.0 };
    let q = if y > 1.0 { (y - 1.0) * (y - 1.0) } else { 3.0 * y };
    g * 0.0 + q + x.abs().max(0.5)
}

#[test]
fn kinks_give_the_side_hessian_and_no_nan() {
    let (_, g, h) = kinks_hessian(0.0, 0.5);
    assert!(flat(&g).iter().all(|v| !v.is_nan()));
    assert_eq!(h, vec![vec![0.0, 0.0], vec![0.0, 0.0]]);
    let (_, _, h) = kinks_hessian(0.25, 2.0);
    assert_eq!(h, vec![vec![0.0, 0.0], vec![0.0, 2.0]]);
}

/// A loop whose reverse needs a tape (the carried product), so the tape carries tangents.
#[backprop(hessian)]
fn taped_product(x: &[f64; 5]) -> f64 {
    let mut p = 1.0;
    for i in 0..5 {
        p = (p * x[i]).sin() + p;
    }
    p
}
fn taped_product_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    let mut p = T::one();
    for i in 0..5 {
        p = (p * x[i]).sin() + p;
    }
    p
}

#[test]
fn loop_with_a_tape_matches_num_dual() {
    check_array_cost!(taped_product_hessian, taped_product_grad, taped_product_twin, 5, [0.3, -0.7, 1.1, 0.5, 0.9]);
}

// ---- calls ---------------------------------------------------------------------------------------

#[backprop(hessian)]
fn inner(a: f64, b: f64) -> f64 {
    (a * b).exp() + a.sin()
}

#[backprop(hessian)]
fn middle(x: &[f64; 2]) -> f64 {
    inner(x[0], x[1]) * x[0]
}

#[backprop(hessian)]
fn outer(x: &[f64; 2]) -> f64 {
    let m = middle(x);
    m * m + inner(x[1], 0.5)
}
fn outer_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    let inner = |a: T, b: T| (a * b).exp() + a.sin();
    let m = inner(x[0], x[1]) * x[0];
    m * m + inner(x[1], T::from(0.5))
}

#[test]
fn call_chain_matches_num_dual() {
    check_array_cost!(outer_hessian, outer_grad, outer_twin, 2, [0.4, -0.3]);
}

// ---- jvp -------------------------------------------------------------------------------------------

#[test]
fn jvp_is_the_directional_derivative() {
    let x = [0.3, -0.2, 0.9, 1.4];
    let v = [0.5, 1.0, -2.0, 0.25];
    let (value, d) = powell_singular_jvp(&x, &PowellSingularGrad { x: v });
    let (_, g) = powell_singular_grad(&x);
    assert_eq!(value, powell_singular(&x));
    assert!(close(d, g.x.iter().zip(&v).map(|(a, b)| a * b).sum(), 1e-15));
}

// ---- Jacobians -------------------------------------------------------------------------------------

/// Freudenstein-Roth residuals.
#[backprop]
fn freudenstein_roth(x: &[f64; 2]) -> [f64; 2] {
    let mut out = [0.0; 2];
    out[0] = -13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1];
    out[1] = -29.0 + x[0] + ((x[1] + 1.0) * x[1] - 14.0) * x[1];
    out
}

/// A residual function with a scalar argument, an array and a passive index.
#[backprop]
fn mixed_residuals(s: f64, w: &[f64; 3], k: usize) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = (s * w[i]).sin() + w[(i + k) % 3] * w[i];
    }
    out
}
fn mixed_twin<T: DualNum<f64> + Copy>(p: &[T], k: usize) -> Vec<T> {
    (0..3).map(|i| (p[0] * p[1 + i]).sin() + p[1 + (i + k) % 3] * p[1 + i]).collect()
}

#[test]
fn jacobians_match_num_dual() {
    let (out, j) = freudenstein_roth_jacobian(&[0.5, -2.0]);
    assert_eq!(out, freudenstein_roth(&[0.5, -2.0]));
    let exact = [[1.0, 10.0 * -2.0 - 3.0 * 4.0 - 2.0], [1.0, 3.0 * 4.0 + 2.0 * -2.0 - 14.0]];
    for k in 0..2 {
        for i in 0..2 {
            assert!(close(j[k][i], exact[k][i], 1e-15));
        }
    }
    let (s, w, k) = (0.7, [0.2, -1.1, 0.4], 1);
    let (out, j) = mixed_residuals_jacobian(s, &w, k);
    assert_eq!(out, mixed_residuals(s, &w, k));
    let (_, oj): (SVector<f64, 3>, SMatrix<f64, 3, 4>) = jacobian(
        |p: SVector<DualSVec64<4>, 4>| SVector::from_column_slice(&mixed_twin(p.as_slice(), k)),
        SVector::from_column_slice(&[s, w[0], w[1], w[2]]),
    );
    for r in 0..3 {
        assert_eq!(j[r].len(), 4);
        for c in 0..4 {
            assert!(close(j[r][c], oj[(r, c)], 1e-12), "j[{r}][{c}] = {} vs {}", j[r][c], oj[(r, c)]);
        }
    }
}

// ---- a 2-layer network over a parameter struct ------------------------------------------------------

#[derive(Params, Clone, Debug)]
struct Net {
    w1: [[f64; 3]; 4],
    b1: [f64; 4],
    w2: [f64; 4],
    b2: f64,
}

#[backprop(hessian, wrt(net))]
fn net_loss(net: &Net, x: &[f64; 3], y: f64) -> f64 {
    let mut h = [0.0; 4];
    for j in 0..4 {
        let mut s = net.b1[j];
        for i in 0..3 {
            s += net.w1[j][i] * x[i];
        }
        h[j] = s.tanh();
    }
    let mut o = net.b2;
    for j in 0..4 {
        o += net.w2[j] * h[j];
    }
    let e = o - y;
    e * e
}
/// The same network over the flat parameter vector (`Params` order: w1 row-major, b1, w2, b2).
fn net_twin<T: DualNum<f64> + Copy>(p: &[T], x: &[f64; 3], y: f64) -> T {
    let mut o = p[20];
    for j in 0..4 {
        let mut s = p[12 + j];
        for i in 0..3 {
            s += p[3 * j + i] * x[i];
        }
        o += p[16 + j] * s.tanh();
    }
    let e = o - y;
    e * e
}

#[test]
fn two_layer_network_over_a_struct_matches_num_dual() {
    let flat_params = random_vec(21, 11);
    let mut net = Net { w1: [[0.0; 3]; 4], b1: [0.0; 4], w2: [0.0; 4], b2: 0.0 };
    backprop::runtime::params::copy_from_slice(&mut net, &flat_params).unwrap();
    let (x, y) = ([0.5, -1.0, 2.0], 0.3);
    let (value, grad, h) = net_loss_hessian(&net, &x, y);
    let (v0, g0) = net_loss_grad(&net, &x, y);
    assert_eq!(value.to_bits(), v0.to_bits());
    assert_eq!(flat(&grad), flat(&g0));
    assert_eq!(h.len(), grad.num_params());
    let (ov, _, oh) = oracle_hessian::<21>(|p| net_twin(p, &x, y), &flat_params);
    assert!(close(value, ov, 1e-14));
    assert_matrix(&h, &oh, 1e-12, "net");
    assert_symmetric(&h);
    let dir = random_vec(21, 5);
    let (_, mut v) = net_loss_grad(&net, &x, y);
    backprop::runtime::params::copy_from_slice(&mut v, &dir).unwrap();
    let (_, _, hv) = net_loss_hvp(&net, &x, y, &v);
    for (a, b) in flat(&hv).iter().zip(mat_vec(&h, &dir)) {
        assert!(close(*a, b, 1e-11));
    }
}

// ---- gradients of gradients ----------------------------------------------------------------------

/// `E(x, y) = x₀²y + x₁y²`.
#[backprop(hessian)]
fn energy(x: &[f64; 2], y: f64) -> f64 {
    x[0] * x[0] * y + x[1] * y * y
}

/// Uses the energy's value and its gradient's fields: `C = E + ∂E/∂x₀·∂E/∂x₁ + (∂E/∂y)²`.
#[backprop]
fn uses_forces(x: &[f64; 2], y: f64) -> f64 {
    let (e, g) = energy_grad(x, y);
    e + g.x[0] * g.x[1] + g.y * g.y
}

#[test]
fn gradient_of_a_gradient_has_the_closed_form() {
    let (x, y) = ([0.7, -1.3], 0.4);
    let (c, g) = uses_forces_grad(&x, y);
    let gy = x[0] * x[0] + 2.0 * x[1] * y;
    assert!(close(c, x[0] * x[0] * y + x[1] * y * y + 2.0 * x[0] * y * y * y + gy * gy, 1e-15));
    let exact_x0 = 2.0 * x[0] * y + 2.0 * y * y * y + 2.0 * gy * 2.0 * x[0];
    let exact_x1 = y * y + 2.0 * gy * 2.0 * y;
    let exact_y = gy + 6.0 * x[0] * y * y + 2.0 * gy * 2.0 * x[1];
    assert!(close(g.x[0], exact_x0, 1e-14), "{} vs {exact_x0}", g.x[0]);
    assert!(close(g.x[1], exact_x1, 1e-14), "{} vs {exact_x1}", g.x[1]);
    assert!(close(g.y, exact_y, 1e-14), "{} vs {exact_y}", g.y);
}
