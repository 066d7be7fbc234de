//! `#[backprop(hessian)]` on each shape the macro accepts (issue 16): `Vec` arguments (by
//! reference and by value), mixed scalar/array/integer arguments, nested `#[derive(Params)]`
//! structs (not `Clone`), loops with tapes and branches inside, `while` with a data-dependent trip
//! count, early returns, calls in loops, array-returning callees, generic `T: Float` functions and
//! callees, runtime layers (`dense`, `logsumexp`) and custom rules with a second-order hook. Each Hessian is checked against num-dual's `hessian` on a
//! twin over the flat parameter vector (1e-12 relative), for exact symmetry, `hvp == H·v` and
//! values and gradients bit for bit those of `_grad`. The shapes that are refused are trybuild UI
//! cases (`tests/ui/hessian_*.rs`).

#![allow(clippy::needless_range_loop, clippy::ptr_arg)]

use backprop::prelude::*;
use nalgebra::{SMatrix, SVector};
use num_dual::{hessian, Dual2SVec64, DualNum};

/// num-dual's Hessian of `f` at `x` (value, gradient, Hessian).
fn oracle<const N: usize>(
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

fn flat<P: Params<Scalar = f64> + ?Sized>(p: &P) -> Vec<f64> {
    let mut out = Vec::new();
    p.visit(&mut |x| out.push(x));
    out
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

/// Every check of one shape: `(value, grad, h)` from `_hessian`, `(v0, g0)` from `_grad`, the
/// oracle's `(ov, og, oh)`, and `hvp(dir)` as a flat vector for the direction `dir`.
fn check(
    what: &str,
    (value, grad, h): (f64, Vec<f64>, Vec<Vec<f64>>),
    (v0, g0): (f64, Vec<f64>),
    (ov, og, oh): (f64, Vec<f64>, Vec<Vec<f64>>),
    hvp: impl Fn(&[f64]) -> (f64, Vec<f64>, Vec<f64>),
) {
    let n = og.len();
    assert_eq!(value.to_bits(), v0.to_bits(), "{what}: value");
    assert_eq!(grad, g0, "{what}: gradient");
    assert!(close(value, ov, 1e-13), "{what}: value {value} vs num-dual {ov}");
    for i in 0..n {
        assert!(close(grad[i], og[i], 1e-12), "{what}: g[{i}] = {} vs num-dual {}", grad[i], og[i]);
    }
    assert_eq!(h.len(), n, "{what}: rows");
    for i in 0..n {
        assert_eq!(h[i].len(), n, "{what}: columns");
        for j in 0..n {
            assert!(close(h[i][j], oh[i][j], 1e-12), "{what}: h[{i}][{j}] = {} vs num-dual {}", h[i][j], oh[i][j]);
            assert_eq!(h[i][j].to_bits(), h[j][i].to_bits(), "{what}: h[{i}][{j}] != h[{j}][{i}]");
        }
    }
    let dir = random_vec(n, 17);
    let (hv_value, hv_grad, hv) = hvp(&dir);
    assert_eq!(hv_value.to_bits(), v0.to_bits(), "{what}: hvp value");
    assert_eq!(hv_grad, g0, "{what}: hvp gradient");
    for i in 0..n {
        let want: f64 = (0..n).map(|j| h[i][j] * dir[j]).sum();
        assert!(close(hv[i], want, 1e-11), "{what}: (H·v)[{i}] = {} vs {want}", hv[i]);
    }
}

/// A direction of a gradient's own type, from a flat vector.
fn direction<G: Params<Scalar = f64>>(mut g: G, dir: &[f64]) -> G {
    backprop::runtime::params::copy_from_slice(&mut g, dir).unwrap();
    g
}

// ---- Vec arguments --------------------------------------------------------------------------------

#[backprop(hessian)]
fn vec_ref(x: &Vec<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] * x[(i + 1) % x.len()]).sin() + x[i] * x[i] * x[i];
    }
    s
}
fn vec_ref_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    let mut s = T::zero();
    for i in 0..x.len() {
        s += (x[i] * x[(i + 1) % x.len()]).sin() + x[i] * x[i] * x[i];
    }
    s
}

#[test]
fn vec_argument_matches_num_dual() {
    let x = vec![0.3, -0.8, 1.2, 0.5];
    let hessian = vec_ref_hessian(&x);
    let (v0, g0) = vec_ref_grad(&x);
    check("vec_ref", (hessian.0, flat(&hessian.1), hessian.2), (v0, flat(&g0)), oracle::<4>(vec_ref_twin, &x), |d| {
        let (v, g, hv) = vec_ref_hvp(&x, &direction(vec_ref_grad(&x).1, d));
        (v, flat(&g), flat(&hv))
    });
}

/// A slice next to a scalar and a constant integer (a `Vec` by value is not an accepted argument).
#[backprop(hessian)]
fn vec_owned(x: &[f64], a: f64, k: usize) -> f64 {
    let mut s = a * a;
    for i in 0..x.len() {
        s += a * x[i] * x[i] + (x[i] + k as f64).ln();
    }
    s
}
fn vec_owned_twin<T: DualNum<f64> + Copy>(p: &[T], k: usize) -> T {
    let (x, a) = (&p[..3], p[3]);
    let mut s = a * a;
    for i in 0..x.len() {
        s += a * x[i] * x[i] + (x[i] + k as f64).ln();
    }
    s
}

#[test]
fn slice_with_scalars_matches_num_dual() {
    let (x, a, k) = (vec![0.3, 0.8, 1.2], -0.6, 2);
    let hessian = vec_owned_hessian(&x, a, k);
    let (v0, g0) = vec_owned_grad(&x, a, k);
    check(
        "vec_owned",
        (hessian.0, flat(&hessian.1), hessian.2),
        (v0, flat(&g0)),
        oracle::<4>(|p| vec_owned_twin(p, k), &[0.3, 0.8, 1.2, -0.6]),
        |d| {
            let (v, g, hv) = vec_owned_hvp(&x, a, k, &direction(vec_owned_grad(&x, a, k).1, d));
            (v, flat(&g), flat(&hv))
        },
    );
}

// ---- nested parameter structs, not Clone -----------------------------------------------------------

#[derive(Params)]
struct Layer {
    w: [[f64; 2]; 2],
    b: [f64; 2],
}

#[derive(Params)]
struct Model {
    l: Layer,
    out: [f64; 2],
    scale: f64,
}

#[backprop(hessian)]
fn model_loss(m: &Model, x: &[f64; 2]) -> f64 {
    let mut o = 0.0;
    for j in 0..2 {
        let mut s = m.l.b[j];
        for i in 0..2 {
            s += m.l.w[j][i] * x[i];
        }
        o += m.out[j] * s.tanh();
    }
    m.scale * o * o
}
/// Over the flat view: l.w (4), l.b (2), out (2), scale, then x (2).
fn model_twin<T: DualNum<f64> + Copy>(p: &[T]) -> T {
    let mut o = T::zero();
    for j in 0..2 {
        let mut s = p[4 + j];
        for i in 0..2 {
            s += p[2 * j + i] * p[9 + i];
        }
        o += p[6 + j] * s.tanh();
    }
    p[8] * o * o
}

#[test]
fn nested_struct_without_clone_matches_num_dual() {
    let p = random_vec(11, 3);
    let mut m = Model { l: Layer { w: [[0.0; 2]; 2], b: [0.0; 2] }, out: [0.0; 2], scale: 0.0 };
    backprop::runtime::params::copy_from_slice(&mut m, &p[..9]).unwrap();
    let x = [p[9], p[10]];
    let hessian = model_loss_hessian(&m, &x);
    let (v0, g0) = model_loss_grad(&m, &x);
    assert_eq!(hessian.1.num_params(), 11);
    check("model_loss", (hessian.0, flat(&hessian.1), hessian.2), (v0, flat(&g0)), oracle::<11>(model_twin, &p), |d| {
        let (v, g, hv) = model_loss_hvp(&m, &x, &direction(model_loss_grad(&m, &x).1, d));
        (v, flat(&g), flat(&hv))
    });
}

// ---- control flow ----------------------------------------------------------------------------------

/// A loop with a carried product (a tape) and a branch inside, on data.
#[backprop(hessian)]
fn taped_branches(x: &[f64; 5]) -> f64 {
    let mut s = 1.0;
    for i in 0..5 {
        if x[i] > 0.0 {
            s = s * x[i] + 0.5;
        } else {
            s = s + (x[i] * s).exp();
        }
    }
    s * s
}
fn taped_branches_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    let mut s = T::one();
    for i in 0..5 {
        if x[i].re() > 0.0 {
            s = s * x[i] + 0.5;
        } else {
            s += (x[i] * s).exp();
        }
    }
    s * s
}

/// A `while` loop whose trip count depends on the data, with a tape of its carried value.
#[backprop(hessian)]
fn while_taped(a: f64, b: f64) -> f64 {
    let mut r = a;
    let mut acc = 0.0;
    while r < 10.0 {
        acc += r.sin() * b;
        r = r * 1.5 + b * b;
    }
    acc + r
}
fn while_taped_twin<T: DualNum<f64> + Copy>(p: &[T]) -> T {
    let (mut r, b) = (p[0], p[1]);
    let mut acc = T::zero();
    while r.re() < 10.0 {
        acc += r.sin() * b;
        r = r * 1.5 + b * b;
    }
    acc + r
}

/// An early return on one side of a branch.
#[backprop(hessian)]
fn early_return(x: &[f64; 3]) -> f64 {
    if x[0] > 1.0 {
        return x[0] * x[1] * x[2];
    }
    let t = x[1] * x[2];
    t.exp() + x[0] * x[0] * t
}
fn early_return_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    if x[0].re() > 1.0 {
        return x[0] * x[1] * x[2];
    }
    let t = x[1] * x[2];
    t.exp() + x[0] * x[0] * t
}

#[test]
fn control_flow_matches_num_dual() {
    for x in [[0.3, -0.7, 1.1, 0.5, 0.9], [-0.4, 0.2, -1.3, 0.8, -0.1]] {
        let hessian = taped_branches_hessian(&x);
        let (v0, g0) = taped_branches_grad(&x);
        check(
            "taped_branches",
            (hessian.0, flat(&hessian.1), hessian.2),
            (v0, flat(&g0)),
            oracle::<5>(taped_branches_twin, &x),
            |d| {
                let (v, g, hv) = taped_branches_hvp(&x, &direction(taped_branches_grad(&x).1, d));
                (v, flat(&g), flat(&hv))
            },
        );
    }
    for (a, b) in [(0.7, 0.4), (2.5, -0.9), (12.0, 0.3)] {
        let hessian = while_taped_hessian(a, b);
        let (v0, g0) = while_taped_grad(a, b);
        check(
            "while_taped",
            (hessian.0, flat(&hessian.1), hessian.2),
            (v0, flat(&g0)),
            oracle::<2>(while_taped_twin, &[a, b]),
            |d| {
                let (v, g, hv) = while_taped_hvp(a, b, &direction(while_taped_grad(a, b).1, d));
                (v, flat(&g), flat(&hv))
            },
        );
    }
    for x in [[1.5, -0.7, 0.4], [0.5, -0.7, 0.4]] {
        let hessian = early_return_hessian(&x);
        let (v0, g0) = early_return_grad(&x);
        check(
            "early_return",
            (hessian.0, flat(&hessian.1), hessian.2),
            (v0, flat(&g0)),
            oracle::<3>(early_return_twin, &x),
            |d| {
                let (v, g, hv) = early_return_hvp(&x, &direction(early_return_grad(&x).1, d));
                (v, flat(&g), flat(&hv))
            },
        );
    }
}

// ---- calls -------------------------------------------------------------------------------------------

#[backprop(hessian)]
fn cell(a: f64, s: f64) -> f64 {
    (a * s).tanh() + a * a * s
}

/// An array-returning callee: its pullback carries tangents too.
#[backprop(hessian)]
fn rotate(x: &[f64; 2], t: f64) -> [f64; 2] {
    let mut out = [0.0; 2];
    out[0] = t.cos() * x[0] - t.sin() * x[1];
    out[1] = t.sin() * x[0] + t.cos() * x[1];
    out
}

/// Calls in a loop (a per-call tape), then an array-returning call.
#[backprop(hessian)]
fn calls_in_loop(x: &[f64; 3]) -> f64 {
    let mut s = 0.5;
    for i in 0..3 {
        s = cell(x[i], s);
    }
    let mut y = [0.0; 2];
    y[0] = x[0];
    y[1] = s;
    let r = rotate(&y, x[2]);
    r[0] * r[1] + s * s
}
fn calls_in_loop_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    let cell = |a: T, s: T| (a * s).tanh() + a * a * s;
    let mut s = T::from(0.5);
    for i in 0..3 {
        s = cell(x[i], s);
    }
    let (c, sn) = (x[2].cos(), x[2].sin());
    let r = [c * x[0] - sn * s, sn * x[0] + c * s];
    r[0] * r[1] + s * s
}

#[test]
fn calls_in_loops_and_array_callees_match_num_dual() {
    let x = [0.3, -0.6, 0.9];
    let hessian = calls_in_loop_hessian(&x);
    let (v0, g0) = calls_in_loop_grad(&x);
    check(
        "calls_in_loop",
        (hessian.0, flat(&hessian.1), hessian.2),
        (v0, flat(&g0)),
        oracle::<3>(calls_in_loop_twin, &x),
        |d| {
            let (v, g, hv) = calls_in_loop_hvp(&x, &direction(calls_in_loop_grad(&x).1, d));
            (v, flat(&g), flat(&hv))
        },
    );
}

// ---- generic over the float type -----------------------------------------------------------------------

/// Generic over `T: Float`: its gradient exists for `f64` and `f32`, its second order for `f64`
/// (`Dual64` is a dual number over `f64`).
#[backprop(hessian)]
fn generic_cost<T: Float>(x: &[T; 3], c: T) -> T {
    let mut s = T::zero();
    for i in 0..3 {
        s += (x[i] * c).sin() * x[(i + 1) % 3] + T::of_f64(0.5) * x[i] * x[i] * c;
    }
    s
}
fn generic_cost_twin<T: DualNum<f64> + Copy>(p: &[T]) -> T {
    let c = p[3];
    let mut s = T::zero();
    for i in 0..3 {
        s += (p[i] * c).sin() * p[(i + 1) % 3] + p[i] * p[i] * c * 0.5;
    }
    s
}

#[test]
fn generic_function_over_f64_matches_num_dual() {
    let (x, c) = ([0.4, -1.1, 0.7], 1.3);
    let hessian = generic_cost_hessian(&x, c);
    let (v0, g0) = generic_cost_grad(&x, c);
    assert_eq!(v0.to_bits(), generic_cost(&x, c).to_bits());
    check(
        "generic_cost",
        (hessian.0, flat(&hessian.1), hessian.2),
        (v0, flat(&g0)),
        oracle::<4>(generic_cost_twin, &[0.4, -1.1, 0.7, 1.3]),
        |d| {
            let (v, g, hv) = generic_cost_hvp(&x, c, &direction(generic_cost_grad(&x, c).1, d));
            (v, flat(&g), flat(&hv))
        },
    );
    // The f32 gradient is still there, and the jvp is the gradient's dot product.
    let (v32, g32) = generic_cost_grad(&[0.4f32, -1.1, 0.7], 1.3f32);
    assert!((v32 as f64 - v0).abs() < 1e-5 && (g32.c as f64 - g0.c).abs() < 1e-4);
    let dir = GenericCostGrad { x: [1.0, 0.0, -2.0], c: 0.5 };
    let (_, d) = generic_cost_jvp(&x, c, &dir);
    assert!(close(d, g0.x[0] - 2.0 * g0.x[2] + 0.5 * g0.c, 1e-15));
}

// ---- custom rules ----------------------------------------------------------------------------------------

/// `softplus` with a custom rule that is generic over the float type: `hessian` on the function
/// makes its dual copies, which run the rule over `Dual64`: the second-order hook.
#[backprop(pullback = softplus_rule, hessian)]
fn softplus_custom(x: f64) -> f64 {
    if x > 30.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

fn softplus_rule<T: Float>(x: T, _result: T, d_result: T) -> (T,) {
    (d_result / (T::one() + (-x).exp()),)
}

#[backprop(hessian)]
fn uses_custom(x: &[f64; 2]) -> f64 {
    let mut s = 0.0;
    for i in 0..2 {
        s += softplus_custom(x[i] * x[1 - i]) * x[i];
    }
    s + softplus_custom(x[0]) * softplus_custom(x[1])
}
fn uses_custom_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    let sp = |z: T| z.exp().ln_1p();
    let mut s = T::zero();
    for i in 0..2 {
        s += sp(x[i] * x[1 - i]) * x[i];
    }
    s + sp(x[0]) * sp(x[1])
}

#[test]
fn custom_rule_generic_over_the_float_gives_the_second_order() {
    for x in [[0.3, -0.8], [1.7, 0.4]] {
        let hessian = uses_custom_hessian(&x);
        let (v0, g0) = uses_custom_grad(&x);
        check(
            "uses_custom",
            (hessian.0, flat(&hessian.1), hessian.2),
            (v0, flat(&g0)),
            oracle::<2>(uses_custom_twin, &x),
            |d| {
                let (v, g, hv) = uses_custom_hvp(&x, &direction(uses_custom_grad(&x).1, d));
                (v, flat(&g), flat(&hv))
            },
        );
    }
}

// ---- an adjoint that is zero by value but not in its tangent -------------------------------------------

/// `n`'s adjoint may be zero because of the untaken branch, so its contribution is guarded
/// (`if d == 0 { 0 } else { d · 1/(2n) }`, no NaN at `x = 0`). On the taken side at `y = 0` it is
/// zero by value while its tangent (`v.y`) is not: the guard must let the tangent through, or
/// `∂²/∂x∂y = 1/(2√x)` is lost.
#[backprop(hessian)]
fn guarded(x: f64, y: f64) -> f64 {
    let n = x.sqrt();
    let g = if n > 0.5 { y * n } else { 0.0 };
    g + x
}
fn guarded_twin<T: DualNum<f64> + Copy>(p: &[T]) -> T {
    let n = p[0].sqrt();
    let g = if n.re() > 0.5 { p[1] * n } else { T::zero() };
    g + p[0]
}

#[test]
fn a_zero_adjoint_with_a_tangent_still_contributes() {
    for (x, y) in [(1.0, 0.0), (2.25, 0.0), (1.0, 0.7), (0.0, 0.0)] {
        let hessian = guarded_hessian(x, y);
        let (v0, g0) = guarded_grad(x, y);
        if x == 0.0 {
            // The untaken side: no NaN from `1/(2√0)`, and a zero Hessian.
            assert_eq!(hessian.2, vec![vec![0.0, 0.0], vec![0.0, 0.0]]);
            assert_eq!(flat(&g0), vec![1.0, 0.0]);
            continue;
        }
        check(
            "guarded",
            (hessian.0, flat(&hessian.1), hessian.2),
            (v0, flat(&g0)),
            oracle::<2>(guarded_twin, &[x, y]),
            |d| {
                let (v, g, hv) = guarded_hvp(x, y, &direction(guarded_grad(x, y).1, d));
                (v, flat(&g), flat(&hv))
            },
        );
    }
}

/// A generic callee under `hessian`, called from a concrete caller: the caller's dual gradient
/// runs the callee's `f64` dual copies.
#[backprop(hessian)]
fn generic_inner<T: Float>(a: T, b: T) -> T {
    (a * b).sin() + a * a
}

#[backprop(hessian)]
fn uses_generic(x: &[f64; 2]) -> f64 {
    generic_inner(x[0], x[1]) * x[1]
}
fn uses_generic_twin<T: DualNum<f64> + Copy>(x: &[T]) -> T {
    ((x[0] * x[1]).sin() + x[0] * x[0]) * x[1]
}

#[test]
fn generic_callee_matches_num_dual() {
    let x = [0.3, 0.4];
    let hessian = uses_generic_hessian(&x);
    let (v0, g0) = uses_generic_grad(&x);
    check(
        "uses_generic",
        (hessian.0, flat(&hessian.1), hessian.2),
        (v0, flat(&g0)),
        oracle::<2>(uses_generic_twin, &x),
        |d| {
            let (v, g, hv) = uses_generic_hvp(&x, &direction(uses_generic_grad(&x).1, d));
            (v, flat(&g), flat(&hv))
        },
    );
    // The f32 instantiation of the callee keeps its gradient.
    assert!(generic_inner_grad(0.5f32, 2.0f32).1.a.is_finite());
}

// ---- runtime layers ------------------------------------------------------------------------------------

/// A runtime layer: generic over `F: Float`, so its dual copy is itself over `Dual64`.
#[backprop(hessian)]
fn layer_cost(layer: &Dense<2, 2>, x: &[f64; 2]) -> f64 {
    let y = dense(layer, x, Activation::Tanh);
    y[0] * y[1] + logsumexp(&y)
}
/// Over the flat view: w (row-major 2×2), b (2), then x (2).
fn layer_cost_twin<T: DualNum<f64> + Copy>(p: &[T]) -> T {
    let y0 = (p[0] * p[6] + p[1] * p[7] + p[4]).tanh();
    let y1 = (p[2] * p[6] + p[3] * p[7] + p[5]).tanh();
    y0 * y1 + (y0.exp() + y1.exp()).ln()
}

#[test]
fn runtime_layers_match_num_dual() {
    let p = random_vec(8, 23);
    let mut layer = Dense::<2, 2>::zeros();
    backprop::runtime::params::copy_from_slice(&mut layer, &p[..6]).unwrap();
    let x = [p[6], p[7]];
    let hessian = layer_cost_hessian(&layer, &x);
    let (v0, g0) = layer_cost_grad(&layer, &x);
    check(
        "layer_cost",
        (hessian.0, flat(&hessian.1), hessian.2),
        (v0, flat(&g0)),
        oracle::<8>(layer_cost_twin, &p),
        |d| {
            let (v, g, hv) = layer_cost_hvp(&layer, &x, &direction(layer_cost_grad(&layer, &x).1, d));
            (v, flat(&g), flat(&hv))
        },
    );
}
