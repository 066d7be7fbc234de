//! Passive calls: a plain function called for an integer or a `bool` inside a `#[backprop]` body
//! (`let j: usize = nearest(p, c, i);`). The call is made as written, with the real values of its
//! arguments, and its result carries no derivative: the derivative follows the index it picked,
//! as it follows a branch taken. Checked against closed forms (k-means), against num-dual on a
//! generic twin that calls the same plain function on real parts (piecewise-linear
//! interpolation), through every generated form: `_grad`, `_grad_acc`, `_hvp`, `_hessian`,
//! `_jvp`, `_jacobian` (forward lanes), and a pullback called in a caller's loop.

#![allow(clippy::needless_range_loop, clippy::ptr_arg)]

use backprop::prelude::*;
use nalgebra::SVector;
use num_dual::{hessian, DualNum};

// ---- k-means: the nearest centroid, found by a plain function ----------------------------------

/// The index of the centroid nearest to point `i` (the first of equals): plain Rust, free to be
/// written for speed, never differentiated.
fn nearest(p: &[f64], c: &[f64], i: usize, k: usize, d: usize) -> usize {
    let mut best = f64::INFINITY;
    let mut arg = 0;
    for j in 0..k {
        let mut s = 0.0;
        for l in 0..d {
            let t = c[j * d + l] - p[i * d + l];
            s += t * t;
        }
        if s < best {
            best = s;
            arg = j;
        }
    }
    arg
}

#[backprop(hessian, forward, wrt(c))]
fn kmeans(p: &[f64], c: &[f64], n: usize, k: usize, d: usize) -> f64 {
    let mut total = 0.0;
    for i in 0..n {
        let j: usize = nearest(p, c, i, k, d);
        let mut r = 0.0;
        for l in 0..d {
            let t = c[j * d + l] - p[i * d + l];
            r += t * t;
        }
        total += r;
    }
    total
}

fn points(n: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n * d)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
        })
        .collect()
}

/// `∂f/∂c_j = 2 Σ_{i → j} (c_j − p_i)` and `∂²f/∂c_jl² = 2·|{i → j}|`, from the assignment.
fn kmeans_closed_form(p: &[f64], c: &[f64], n: usize, k: usize, d: usize) -> (f64, Vec<f64>, Vec<f64>) {
    let (mut value, mut grad, mut diag) = (0.0, vec![0.0; k * d], vec![0.0; k * d]);
    for i in 0..n {
        let j = nearest(p, c, i, k, d);
        for l in 0..d {
            let t = c[j * d + l] - p[i * d + l];
            value += t * t;
            grad[j * d + l] += 2.0 * t;
            diag[j * d + l] += 2.0;
        }
    }
    (value, grad, diag)
}

#[test]
fn kmeans_gradient_and_hessian_follow_the_nearest_centroid() {
    let (n, k, d) = (37, 5, 3);
    let (p, c) = (points(n, d, 7), points(k, d, 11));
    let (value, grad, diag) = kmeans_closed_form(&p, &c, n, k, d);
    let (v, g) = kmeans_grad(&p, &c, n, k, d);
    assert!((v - value).abs() <= 1e-12 * value, "{v} vs {value}");
    for m in 0..k * d {
        assert!((g.c[m] - grad[m]).abs() <= 1e-12 * (1.0 + grad[m].abs()), "grad[{m}]: {} vs {}", g.c[m], grad[m]);
    }
    // The accumulating form adds into what is there.
    let mut acc = KmeansGrad { c: vec![1.0; k * d] };
    kmeans_grad_acc(&p, &c, n, k, d, &mut acc);
    for m in 0..k * d {
        assert_eq!(acc.c[m], 1.0 + g.c[m]);
    }
    // H·1 is the Hessian's diagonal (each coordinate enters only its own squared distances).
    let ones = KmeansGrad { c: vec![1.0; k * d] };
    let (hv_value, hv_grad, hv) = kmeans_hvp(&p, &c, n, k, d, &ones);
    assert_eq!((hv_value, &hv_grad.c), (v, &g.c), "_hvp's value and gradient are _grad's, bit for bit");
    assert_eq!(hv.c, diag);
    let (_, _, h) = kmeans_hessian(&p, &c, n, k, d);
    for a in 0..k * d {
        for b in 0..k * d {
            assert_eq!(h[a][b], if a == b { diag[a] } else { 0.0 }, "h[{a}][{b}]");
        }
    }
    // Forward mode: the directional derivative is ∇f · v.
    let dir = KmeansGrad { c: (0..k * d).map(|m| (m as f64 * 0.37).sin()).collect() };
    let (jv_value, jv) = kmeans_jvp(&p, &c, n, k, d, &dir);
    let dot: f64 = grad.iter().zip(&dir.c).map(|(a, b)| a * b).sum();
    assert_eq!(jv_value, v);
    assert!((jv - dot).abs() <= 1e-12 * (1.0 + dot.abs()), "{jv} vs {dot}");
    // Forward over forward (the body re-printed over `DualDual64`, the passive call given values).
    let (_, fwd_grad, fwd_hv) = kmeans_hvp_fwd(&p, &c, n, k, d, &ones);
    assert_eq!(fwd_hv.c, diag);
    for m in 0..k * d {
        assert!((fwd_grad.c[m] - grad[m]).abs() <= 1e-12 * (1.0 + grad[m].abs()), "_hvp_fwd grad[{m}]");
    }
}

#[test]
fn an_unused_centroid_gets_a_zero_gradient() {
    // Centroid 2 is far from every point: nothing is assigned to it.
    let (n, k, d) = (6, 3, 2);
    let p = points(n, d, 3);
    let c = vec![-1.0, -1.0, 1.0, 1.0, 50.0, 50.0];
    let (_, g) = kmeans_grad(&p, &c, n, k, d);
    assert_eq!(&g.c[4..], &[0.0, 0.0]);
    let (_, grad, _) = kmeans_closed_form(&p, &c, n, k, d);
    assert_eq!(g.c, grad);
}

// ---- piecewise-linear interpolation: the segment, found by a plain function of a float --------

/// The segment `k` with `xs[k] <= x < xs[k + 1]`, clamped to the first and last (a binary search:
/// plain Rust, on the real value of `x`).
fn segment(xs: &[f64; 6], x: f64) -> usize {
    let (mut lo, mut hi) = (0, xs.len() - 2);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if xs[mid] <= x {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

#[backprop(hessian, wrt(ys, x))]
fn interp(xs: &[f64; 6], ys: &[f64; 6], x: f64) -> f64 {
    let k: usize = segment(xs, x);
    let t = (x - xs[k]) / (xs[k + 1] - xs[k]);
    let y = ys[k] + t * (ys[k + 1] - ys[k]);
    y * y.sin()
}

fn interp_twin<T: DualNum<f64> + Copy>(xs: &[f64; 6], ys: &[T], x: T) -> T {
    let k = segment(xs, x.re());
    let t = (x - xs[k]) / (xs[k + 1] - xs[k]);
    let y = ys[k] + t * (ys[k + 1] - ys[k]);
    y * y.sin()
}

const XS: [f64; 6] = [-2.0, -0.5, 0.25, 1.0, 2.5, 4.0];
const YS: [f64; 6] = [0.3, -1.2, 0.8, 1.9, 0.1, -0.7];

#[test]
fn interpolation_matches_num_dual_in_every_segment_to_second_order() {
    for &x in &[-3.0, -1.0, 0.0, 0.6, 1.7, 3.2, 5.0, 0.25] {
        let (value, g) = interp_grad(&XS, &YS, x);
        let (_, g2, h) = interp_hessian(&XS, &YS, x);
        assert_eq!(g2.ys, g.ys);
        // num-dual's Hessian over (ys, x): 7 variables.
        let mut at = [0.0; 7];
        at[..6].copy_from_slice(&YS);
        at[6] = x;
        let (v, grad, hess) = hessian(|z: SVector<_, 7>| interp_twin(&XS, &z.as_slice()[..6], z[6]), SVector::from(at));
        assert!((value - v).abs() <= 1e-14, "x = {x}");
        for i in 0..7 {
            let ours = if i < 6 { g.ys[i] } else { g.x };
            assert!((ours - grad[i]).abs() <= 1e-13, "x = {x}: grad[{i}] {ours} vs {}", grad[i]);
        }
        // Our Hessian's flat order is `Params` order: ys, then x.
        for i in 0..7 {
            for j in 0..7 {
                let (a, b) = (h[i][j], hess[(i, j)]);
                assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "x = {x}: h[{i}][{j}] {a} vs {b}");
            }
        }
    }
}

/// A caller summing interpolated values at query points in a loop: `interp`'s pullback is
/// called per query, and calls `segment` again on what it recomputes.
#[backprop(wrt(ys))]
fn fit(xs: &[f64; 6], ys: &[f64; 6], qs: &[f64], targets: &[f64]) -> f64 {
    let mut loss = 0.0;
    for s in 0..qs.len() {
        let e = interp(xs, ys, qs[s]) - targets[s];
        loss += e * e;
    }
    loss
}

#[test]
fn a_caller_differentiates_through_the_passive_call_of_its_callee() {
    let qs = [-1.0, 0.3, 0.9, 2.0, 3.9, 4.5];
    let targets = [0.1, 0.2, -0.3, 0.4, 0.0, 0.5];
    let (_, g) = fit_grad(&XS, &YS, &qs, &targets);
    // d/dys of Σ (f(q) − t)², with f's gradient from num-dual per query.
    let mut expected = [0.0; 6];
    for s in 0..qs.len() {
        let mut at = [0.0; 7];
        at[..6].copy_from_slice(&YS);
        at[6] = qs[s];
        let (v, grad, _) = hessian(|z: SVector<_, 7>| interp_twin(&XS, &z.as_slice()[..6], z[6]), SVector::from(at));
        for i in 0..6 {
            expected[i] += 2.0 * (v - targets[s]) * grad[i];
        }
    }
    for i in 0..6 {
        assert!((g.ys[i] - expected[i]).abs() <= 1e-12, "ys[{i}]: {} vs {}", g.ys[i], expected[i]);
    }
}

// ---- a `bool` from a plain function, and `_jacobian`'s forward lanes through a passive call ---

fn inside_unit_ball(x: &[f64; 3]) -> bool {
    x.iter().map(|v| v * v).sum::<f64>() < 1.0
}

#[backprop(hessian)]
fn barrier(x: &[f64; 3], w: f64) -> f64 {
    let inside: bool = inside_unit_ball(x);
    let mut s = 0.0;
    for i in 0..3 {
        s += x[i] * x[i];
    }
    if inside {
        w * s
    } else {
        w * s.sqrt() * 2.0
    }
}

#[test]
fn a_bool_from_a_plain_function_picks_the_branch() {
    let inner = [0.2, -0.3, 0.4];
    let (v, g) = barrier_grad(&inner, 1.5);
    assert_eq!(v, 1.5 * (0.04 + 0.09 + 0.16));
    for i in 0..3 {
        assert_eq!(g.x[i], 1.5 * 2.0 * inner[i]);
    }
    assert_eq!(g.w, 0.04 + 0.09 + 0.16);
    let outer = [1.0, 2.0, -2.0];
    let (v, g) = barrier_grad(&outer, 1.5);
    assert_eq!(v, 1.5 * 3.0 * 2.0);
    for i in 0..3 {
        assert!((g.x[i] - 1.5 * 2.0 * outer[i] / 3.0).abs() <= 1e-15);
    }
    // ∂²/∂x∂w inside the ball is 2x; the Hessian-vector product along w alone gives it.
    let along_w = BarrierGrad { x: [0.0; 3], w: 1.0 };
    let (_, _, hv) = barrier_hvp(&inner, 1.5, &along_w);
    assert_eq!(hv.x, [0.4, -0.6, 0.8]);
}

/// Three outputs over two differentiated floats: `_jacobian` takes forward mode (one sweep of
/// four lanes), which re-prints the passive call over `Dual64x4`.
#[backprop(wrt(a, x))]
fn warped(a: f64, x: f64) -> [f64; 3] {
    let k: usize = segment(&XS, x);
    let mut out = [0.0; 3];
    for m in 0..3 {
        out[m] = a * YS[k + m % 2] * (x - XS[k]) + (m as f64) * a * a;
    }
    out
}

#[test]
fn the_jacobian_forward_lanes_call_the_plain_function_on_values() {
    for &x in &[-1.0, 0.5, 3.0] {
        let (value, j) = warped_jacobian(1.25, x);
        let k = segment(&XS, x);
        for m in 0..3 {
            let y = YS[k + m % 2];
            assert_eq!(value[m], 1.25 * y * (x - XS[k]) + (m as f64) * 1.25 * 1.25);
            let (da, dx) = (y * (x - XS[k]) + 2.0 * (m as f64) * 1.25, 1.25 * y);
            assert!((j[m][0] - da).abs() <= 1e-14 && (j[m][1] - dx).abs() <= 1e-14, "x = {x}, row {m}: {:?}", j[m]);
        }
    }
}

// ---- passive calls in a generic function, a method (a field as the argument) and over f32 -----

fn largest<T: backprop::Float>(x: &[T]) -> usize {
    let mut best = 0;
    for i in 1..x.len() {
        if x[i] > x[best] {
            best = i;
        }
    }
    best
}

#[backprop]
fn peak_squared<T: backprop::Float>(x: &[T]) -> T {
    let j: usize = largest(x);
    x[j] * x[j]
}

fn first_above(w: &[f64], t: f64) -> usize {
    w.iter().position(|&v| v > t).unwrap_or(0)
}

#[derive(Params, Clone)]
struct Knots {
    w: Vec<f64>,
}

#[backprop]
impl Knots {
    #[backprop]
    fn snap(&self, x: f64) -> f64 {
        let j: usize = first_above(&self.w, x);
        (self.w[j] - x) * (self.w[j] - x)
    }
}

#[backprop(wrt(x))]
fn scaled_peak(x: f32, xs: &[f32]) -> f32 {
    let j: usize = largest(xs);
    x * xs[j]
}

fn first_over(xs: &[f32], t: f32) -> usize {
    xs.iter().position(|&v| v > t).unwrap_or(0)
}

/// A literal argument in an `f32` function: printed as `0.5_f32`, as the plain function takes it.
#[backprop(wrt(x))]
fn above_half(x: f32, xs: &[f32]) -> f32 {
    let j: usize = first_over(xs, 0.5);
    x * x * xs[j]
}

#[test]
fn generic_method_and_f32_functions_take_passive_calls() {
    assert_eq!(above_half_grad(3.0, &[0.25, 0.75, 2.0]), (9.0 * 0.75, AboveHalfGrad { x: 6.0 * 0.75 }));
    let (v, g) = peak_squared_grad(&[1.0f64, 3.0, 2.0]);
    assert_eq!((v, g.x), (9.0, vec![0.0, 6.0, 0.0]));
    assert_eq!(peak_squared(&[1.0f32, -4.0]), 1.0f32);
    let knots = Knots { w: vec![0.5, 1.5, 2.5] };
    let (v, g) = knots.snap_grad(1.0);
    assert_eq!(v, 0.25);
    assert_eq!((g.self_.w, g.x), (vec![0.0, 1.0, 0.0], -1.0));
    assert_eq!(scaled_peak_grad(2.0, &[1.0, 4.0, -3.0]), (8.0, ScaledPeakGrad { x: 4.0 }));
}

// ---- an assignment to an integer variable is a passive call too -------------------------------

/// The segment of `x` again, by assignment in a loop: each query reassigns `k`.
#[backprop(hessian, forward, wrt(ys, qs))]
fn interp_sum(ys: &[f64; 6], qs: &[f64; 3]) -> f64 {
    let mut k: usize = 0;
    let mut total = 0.0;
    for s in 0..3 {
        k = segment(&XS, qs[s]);
        let t = (qs[s] - XS[k]) / (XS[k + 1] - XS[k]);
        let y = YS_WEIGHT * (ys[k] + t * (ys[k + 1] - ys[k]));
        total += y * y;
    }
    total + k as f64
}

const YS_WEIGHT: f64 = 1.5;

#[test]
fn an_integer_reassigned_from_a_plain_function_is_a_passive_call() {
    let qs = [-0.3, 1.2, 3.3];
    let (value, g) = interp_sum_grad(&YS, &qs);
    let (mut expected, mut grad, mut grad_q) = (0.0, [0.0; 6], [0.0; 3]);
    for (s, &q) in qs.iter().enumerate() {
        let k = segment(&XS, q);
        let t = (q - XS[k]) / (XS[k + 1] - XS[k]);
        let y = YS_WEIGHT * (YS[k] + t * (YS[k + 1] - YS[k]));
        expected += y * y;
        grad[k] += 2.0 * y * YS_WEIGHT * (1.0 - t);
        grad[k + 1] += 2.0 * y * YS_WEIGHT * t;
        grad_q[s] = 2.0 * y * YS_WEIGHT * (YS[k + 1] - YS[k]) / (XS[k + 1] - XS[k]);
    }
    expected += segment(&XS, qs[2]) as f64;
    assert!((value - expected).abs() <= 1e-14 * expected, "{value} vs {expected}");
    for i in 0..6 {
        assert!((g.ys[i] - grad[i]).abs() <= 1e-13, "ys[{i}]: {} vs {}", g.ys[i], grad[i]);
    }
    for s in 0..3 {
        assert!((g.qs[s] - grad_q[s]).abs() <= 1e-13, "qs[{s}]: {} vs {}", g.qs[s], grad_q[s]);
    }
    // Forward mode re-prints the body with the assignment's arguments (a seeded `qs[s]`) as values.
    let dir = InterpSumGrad { ys: [1.0, -0.5, 0.25, 2.0, 0.0, 1.5], qs: [0.5, -1.0, 2.0] };
    let (_, jv) = interp_sum_jvp(&YS, &qs, &dir);
    let dot: f64 = grad.iter().zip(&dir.ys).chain(grad_q.iter().zip(&dir.qs)).map(|(a, b)| a * b).sum();
    assert!((jv - dot).abs() <= 1e-13, "{jv} vs {dot}");
}

// ---- `_jacobian`'s lanes with an array argument, and `explain` --------------------------------

/// Four outputs over three differentiated scalars (an array): forward mode, the passive call
/// given the array's values from the four-lane re-print.
#[backprop(wrt(x))]
fn snapped(x: &[f64; 3], t: f64) -> [f64; 4] {
    let j: usize = nearest_value(x, t);
    let mut out = [0.0; 4];
    for m in 0..4 {
        out[m] = x[j] * x[(j + m) % 3] + (m as f64) * x[m % 3];
    }
    out
}

fn nearest_value(x: &[f64; 3], t: f64) -> usize {
    let mut best = 0;
    for i in 1..3 {
        if (x[i] - t).abs() < (x[best] - t).abs() {
            best = i;
        }
    }
    best
}

#[test]
fn the_jacobian_lanes_pass_an_array_argument_as_its_values() {
    let x = [0.5, -1.5, 2.0];
    for t in [0.0, -2.0, 3.0] {
        let (value, j) = snapped_jacobian(&x, t);
        let n = nearest_value(&x, t);
        for m in 0..4 {
            let k = (n + m) % 3;
            assert_eq!(value[m], x[n] * x[k] + (m as f64) * x[m % 3]);
            let mut row = [0.0; 3];
            row[n] += x[k];
            row[k] += x[n];
            row[m % 3] += m as f64;
            for i in 0..3 {
                assert!((j[m][i] - row[i]).abs() <= 1e-15, "t = {t}, j[{m}][{i}] = {} vs {}", j[m][i], row[i]);
            }
        }
    }
}

#[backprop(explain)]
fn explained(x: &[f64; 3], t: f64) -> f64 {
    let j: usize = nearest_value(x, t);
    x[j] * x[j] * t
}

#[test]
fn explain_runs_the_passive_call() {
    let e = explained_explain(&[0.5, -1.5, 2.0], 1.8);
    let (value, g) = explained_grad(&[0.5, -1.5, 2.0], 1.8);
    assert_eq!(value, 2.0 * 2.0 * 1.8);
    assert_eq!(g.x, [0.0, 0.0, 2.0 * 2.0 * 1.8]);
    assert!(!format!("{e}").is_empty());
}

// ---- forward mode: a row of an argument passed to a passive call in a loop ---------------------

fn argmax3(r: &[f64; 3]) -> usize {
    let mut best = 0;
    for i in 1..3 {
        if r[i] > r[best] {
            best = i;
        }
    }
    best
}

#[backprop(forward)]
fn row_peaks(rows: &[[f64; 3]; 4]) -> f64 {
    let mut s = 0.0;
    for q in 0..4 {
        let j: usize = argmax3(&rows[q]);
        s += rows[q][j] * rows[q][j];
    }
    s
}

#[test]
fn forward_mode_passes_a_row_of_an_argument_as_its_values() {
    let rows = [[0.5, -1.0, 2.0], [3.0, 1.0, -2.0], [0.1, 0.4, 0.3], [-1.0, -0.5, -2.0]];
    let v = RowPeaksGrad { rows: [[1.0, 2.0, 3.0], [-1.0, 0.5, 0.25], [2.0, -3.0, 1.0], [0.5, 1.5, -0.5]] };
    let (value, jv) = row_peaks_jvp(&rows, &v);
    let (mut expected_value, mut expected_jv) = (0.0, 0.0);
    for q in 0..4 {
        let j = argmax3(&rows[q]);
        expected_value += rows[q][j] * rows[q][j];
        expected_jv += 2.0 * rows[q][j] * v.rows[q][j];
    }
    assert_eq!(value, expected_value);
    assert!((jv - expected_jv).abs() <= 1e-14, "{jv} vs {expected_jv}");
    let (_, forward) = row_peaks_grad_fwd(&rows);
    assert_eq!(forward.rows, row_peaks_grad(&rows).1.rows);
}

// ---- a passive call in a `while` loop (its results on the loop's tape) -----------------------

#[backprop(hessian, forward, wrt(ys, x0))]
fn walk(ys: &[f64; 6], x0: f64) -> f64 {
    let mut x = x0;
    let mut it = 0;
    let mut acc = 0.0;
    while it < 5 {
        let k: usize = segment(&XS, x);
        let t = (x - XS[k]) / (XS[k + 1] - XS[k]);
        let y = ys[k] + t * (ys[k + 1] - ys[k]);
        acc += y * y * x;
        x = x + 0.7 * t + 0.3;
        it += 1;
    }
    acc
}

fn walk_twin<T: DualNum<f64> + Copy>(ys: &[T], x0: T) -> T {
    let (mut x, mut acc) = (x0, T::zero());
    for _ in 0..5 {
        let k = segment(&XS, x.re());
        let t = (x - XS[k]) / (XS[k + 1] - XS[k]);
        let y = ys[k] + t * (ys[k + 1] - ys[k]);
        acc += y * y * x;
        x = x + t * 0.7 + 0.3;
    }
    acc
}

#[test]
fn a_passive_call_in_a_while_loop_matches_num_dual_to_second_order() {
    for &x0 in &[-1.9, -0.2, 1.3] {
        let (value, g) = walk_grad(&YS, x0);
        let (_, _, h) = walk_hessian(&YS, x0);
        let mut at = [0.0; 7];
        at[..6].copy_from_slice(&YS);
        at[6] = x0;
        let (v, grad, hess) = hessian(|z: SVector<_, 7>| walk_twin(&z.as_slice()[..6], z[6]), SVector::from(at));
        assert!((value - v).abs() <= 1e-13 * (1.0 + v.abs()), "x0 = {x0}: {value} vs {v}");
        for i in 0..7 {
            let ours = if i < 6 { g.ys[i] } else { g.x0 };
            assert!(
                (ours - grad[i]).abs() <= 1e-12 * (1.0 + grad[i].abs()),
                "x0 = {x0}: grad[{i}] {ours} vs {}",
                grad[i]
            );
            for j in 0..7 {
                let (a, b) = (h[i][j], hess[(i, j)]);
                assert!((a - b).abs() <= 1e-11 * (1.0 + b.abs()), "x0 = {x0}: h[{i}][{j}] {a} vs {b}");
            }
        }
        // Forward mode over the same loop.
        let (_, forward) = walk_grad_fwd(&YS, x0);
        for i in 0..6 {
            assert!((forward.ys[i] - g.ys[i]).abs() <= 1e-12 * (1.0 + g.ys[i].abs()));
        }
        assert!((forward.x0 - g.x0).abs() <= 1e-12 * (1.0 + g.x0.abs()));
    }
}
