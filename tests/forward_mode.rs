//! Forward mode (`#[backprop(forward)]`): `_jvp`, `_grad_fwd`, `_hvp_fwd`, and nested
//! derivatives in all four mode pairs (GradBench's `ff`, `fr`, `rf`, `rr`): a forward tangent of a
//! function that calls a reverse-mode gradient (forward over reverse) or a forward-mode gradient
//! (forward over forward), and a reverse gradient through a forward-mode gradient. Checked against
//! the reverse-mode `_grad`/`_hvp` (to rounding), num-dual's hyper-dual numbers (first and second
//! derivatives of closed forms) and central differences for the nested cases.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;
use num_dual::{Dual64 as NdDual, DualNum, HyperDual64};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[backprop(hessian, forward)]
fn rosen(x: &[f64; 3], scale: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..2 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += scale * a * a + b * b;
    }
    s
}

/// Generic twin for num-dual.
fn rosen_nd<D: DualNum<f64> + Copy>(x: &[D; 3], scale: D) -> D {
    let mut s = D::from(0.0);
    for i in 0..2 {
        let a = x[i + 1] - x[i] * x[i];
        let b = D::from(1.0) - x[i];
        s += scale * a * a + b * b;
    }
    s
}

#[test]
fn first_and_second_derivatives_match_reverse_mode_and_num_dual() {
    let x = [0.3, -1.2, 0.8];
    let scale = 7.5;
    let (value, g) = rosen_grad(&x, scale);
    let (fvalue, fg) = rosen_grad_fwd(&x, scale);
    assert_eq!(value, fvalue);
    for i in 0..3 {
        assert!(close(g.x[i], fg.x[i], 1e-14), "x[{i}]: {} vs {}", g.x[i], fg.x[i]);
    }
    assert!(close(g.scale, fg.scale, 1e-14));
    // num-dual: first derivative along each unit direction.
    for i in 0..3 {
        let xd: [NdDual; 3] = std::array::from_fn(|k| NdDual::new(x[k], if k == i { 1.0 } else { 0.0 }));
        let d = rosen_nd(&xd, NdDual::from(scale));
        assert!(close(d.eps, fg.x[i], 1e-14));
    }
    let v = RosenGrad { x: [0.5, -2.0, 1.5], scale: 0.25 };
    let (jv_value, jv) = rosen_jvp(&x, scale, &v);
    let dot = g.x.iter().zip(&v.x).map(|(a, b)| a * b).sum::<f64>() + g.scale * v.scale;
    assert_eq!(jv_value, value);
    assert!(close(jv, dot, 1e-14), "{jv} vs {dot}");
    // Forward over forward against forward over reverse, and num-dual's hyper-duals.
    let (hv_value, hv_g, hv) = rosen_hvp_fwd(&x, scale, &v);
    let (_, _, hv_rev) = rosen_hvp(&x, scale, &v);
    assert_eq!(hv_value, value);
    for i in 0..3 {
        assert!(close(hv.x[i], hv_rev.x[i], 1e-13), "Hv x[{i}]: {} vs {}", hv.x[i], hv_rev.x[i]);
        assert!(close(hv_g.x[i], g.x[i], 1e-14));
        // e_iᵀ H v by a hyper-dual: eps1 along e_i, eps2 along v.
        let xd: [HyperDual64; 3] =
            std::array::from_fn(|k| HyperDual64::new(x[k], if k == i { 1.0 } else { 0.0 }, v.x[k], 0.0));
        let h = rosen_nd(&xd, HyperDual64::new(scale, 0.0, v.scale, 0.0));
        assert!(close(h.eps1eps2, hv.x[i], 1e-13), "x[{i}]: {} vs {}", h.eps1eps2, hv.x[i]);
    }
    assert!(close(hv.scale, hv_rev.scale, 1e-13));
}

/// A potential with a `while` loop, a branch and float methods, differentiated by forward mode
/// only (no `hessian`).
#[backprop(forward)]
fn bumpy(x: &[f64], k: usize) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    while i < x.len() {
        let t = if x[i] > 0.0 { x[i].sin() * (k as f64) } else { (x[i] * x[i]).exp() };
        s += t / (1.0 + x[i].abs());
        i += 1;
    }
    s.sqrt()
}

#[test]
fn forward_only_functions_over_slices_with_while_and_branches() {
    let x = vec![0.4, -0.3, 1.1, -0.9];
    let (value, g) = bumpy_grad(&x, 3);
    let (fv, fg) = bumpy_grad_fwd(&x, 3);
    assert_eq!(value, fv);
    for i in 0..x.len() {
        assert!(close(g.x[i], fg.x[i], 1e-13), "x[{i}]: {} vs {}", g.x[i], fg.x[i]);
    }
    let v = BumpyGrad { x: vec![1.0, 0.5, -0.25, 2.0] };
    let (_, jv) = bumpy_jvp(&x, 3, &v);
    let dot: f64 = g.x.iter().zip(&v.x).map(|(a, b)| a * b).sum();
    assert!(close(jv, dot, 1e-13));
    let (_, _, hv) = bumpy_hvp_fwd(&x, 3, &v);
    // Central differences of the reverse gradient along v.
    let h = 1e-5;
    let at = |t: f64| bumpy_grad(&x.iter().zip(&v.x).map(|(a, b)| a + t * b).collect::<Vec<_>>(), 3).1.x;
    let (p, m) = (at(h), at(-h));
    for i in 0..x.len() {
        let fd = (p[i] - m[i]) / (2.0 * h);
        assert!(close(hv.x[i], fd, 1e-6), "Hv x[{i}]: {} vs {fd}", hv.x[i]);
    }
}

// ---- Nested: the charged particle of Pearlmutter and Siskind, in the four mode pairs. ----

#[backprop(hessian, forward)]
fn potential(x: &[f64; 2], w: f64) -> f64 {
    let a0 = x[0] - 10.0;
    let a1 = x[1] - (10.0 - w);
    let b0 = x[0] - 10.0;
    let b1 = x[1];
    1.0 / (a0 * a0 + a1 * a1).sqrt() + 1.0 / (b0 * b0 + b1 * b1).sqrt()
}

/// Euler steps; the force is `potential`'s gradient by forward mode if `forward_force`, else by
/// reverse mode.
#[backprop(forward)]
fn euler(w: f64, forward_force: bool) -> f64 {
    let mut x = [0.0; 2];
    x[1] = 8.0;
    let mut v = [0.0; 2];
    v[0] = 0.75;
    for _ in 0..40 {
        let g: [f64; 2] = if forward_force { potential_grad_fwd_x(&x, w) } else { potential_grad_x(&x, w) };
        x[0] += 0.1 * v[0];
        x[1] += 0.1 * v[1];
        v[0] -= 0.1 * g[0];
        v[1] -= 0.1 * g[1];
    }
    x[0] * x[0] + x[1]
}

#[test]
fn nested_derivatives_agree_in_all_four_mode_pairs() {
    let w = 0.3;
    let one = EulerGrad { w: 1.0 };
    let (value_rr, rr) = euler_grad(w, false); // reverse over reverse
    let (value_fr, fr) = euler_jvp(w, false, &one); // forward over reverse
    let (value_rf, rf) = euler_grad(w, true); // reverse over forward
    let (value_ff, ff) = euler_jvp(w, true, &one); // forward over forward
    assert_eq!(value_rr, value_fr);
    assert!(close(value_rr, value_ff, 1e-14) && close(value_rr, value_rf, 1e-14));
    let h = 1e-6;
    let fd = (euler(w + h, false) - euler(w - h, false)) / (2.0 * h);
    for (mode, d) in [("rr", rr.w), ("fr", fr), ("rf", rf.w), ("ff", ff)] {
        assert!(close(d, rr.w, 1e-12), "{mode}: {d} vs rr {}", rr.w);
        assert!(close(d, fd, 1e-6), "{mode}: {d} vs central difference {fd}");
    }
    // The forward-mode gradient by itself equals the reverse one.
    let (_, gf) = euler_grad_fwd(w, true);
    assert!(close(gf.w, rr.w, 1e-12));
}

#[backprop(hessian)]
fn energy(x: &[f64; 2], k: f64) -> f64 {
    k * (x[0] * x[0] + 0.5 * x[1] * x[1]) + (x[0] * x[1]).sin()
}

/// Gradient descent on `energy` written with `let (e, g) = energy_grad(..)` in the loop body.
#[backprop(forward)]
fn relaxed(k: f64, x0: &[f64; 2]) -> f64 {
    let mut x = [0.0; 2];
    x[0] = x0[0];
    x[1] = x0[1];
    let mut total = 0.0;
    for _ in 0..25 {
        let (e, g) = energy_grad(&x, k);
        total += 0.1 * e;
        x[0] -= 0.05 * g.x[0];
        x[1] -= 0.05 * g.x[1];
    }
    total + x[0] * x[1]
}

#[test]
fn tangents_through_gradients_used_as_values() {
    let (k, x0) = (1.3, [0.8, -0.6]);
    let (value, g) = relaxed_grad(k, &x0);
    let v = RelaxedGrad { k: 0.7, x0: [-0.2, 1.1] };
    let (jv_value, jv) = relaxed_jvp(k, &x0, &v);
    assert_eq!(jv_value, value);
    let dot = g.k * v.k + g.x0[0] * v.x0[0] + g.x0[1] * v.x0[1];
    assert!(close(jv, dot, 1e-12), "{jv} vs {dot}");
    let (_, gf) = relaxed_grad_fwd(k, &x0);
    assert!(close(gf.k, g.k, 1e-12) && close(gf.x0[0], g.x0[0], 1e-12) && close(gf.x0[1], g.x0[1], 1e-12));
    let h = 1e-6;
    let fd = (relaxed(k + h, &x0) - relaxed(k - h, &x0)) / (2.0 * h);
    assert!(close(gf.k, fd, 1e-6), "{} vs {fd}", gf.k);
}

// ---- callees' tangent copies ---------------------------------------------------------------------

/// A custom rule generic over the float: with `hessian` it has a tangent copy (the function
/// re-printed over `Dual64`), which a `forward` caller runs.
#[backprop(pullback = soft_plus_rule, hessian)]
fn soft_plus(x: f64) -> f64 {
    if x > 30.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

fn soft_plus_rule<T: Float>(x: T, _result: T, d_result: T) -> (T,) {
    (d_result / (T::one() + (-x).exp()),)
}

#[backprop(hessian)]
fn square_sum(x: &[f64; 2]) -> f64 {
    x[0] * x[0] + 3.0 * x[1] * x[1]
}

#[backprop(forward)]
fn cube(z: f64) -> f64 {
    z * z * z
}

/// Callees of all three kinds: a custom rule (`hessian`), a `hessian` function and a `forward` one.
#[backprop(forward)]
fn mixed_callees(x: &[f64; 2], y: f64) -> f64 {
    soft_plus(x[0] * y) + square_sum(x) * cube(y - x[1])
}

fn mixed_callees_nd<D: DualNum<f64> + Copy>(x: &[D; 2], y: D) -> D {
    let sp = (x[0] * y).exp().ln_1p();
    let ss = x[0] * x[0] + D::from(3.0) * x[1] * x[1];
    let z = y - x[1];
    sp + ss * z * z * z
}

#[test]
fn a_forward_caller_runs_every_kind_of_callee_s_tangent_copy() {
    let (x, y) = ([0.7, -0.4], 1.3);
    for (vx, vy) in [([1.0, 0.0], 0.0), ([0.0, 1.0], 0.0), ([0.0, 0.0], 1.0), ([0.5, -2.0], 0.25)] {
        let (value, tangent) = mixed_callees_jvp(&x, y, &MixedCalleesGrad { x: vx, y: vy });
        let xd = [NdDual::new(x[0], vx[0]), NdDual::new(x[1], vx[1])];
        let expect = mixed_callees_nd(&xd, NdDual::new(y, vy));
        assert!(close(value, expect.re, 1e-15), "value {value} vs {}", expect.re);
        assert!(close(tangent, expect.eps, 1e-13), "tangent {tangent} vs num-dual {}", expect.eps);
    }
}

// ---- gradients written entry by entry (up to 8 scalars) and gathered (more) -------------------------

#[backprop(hessian, forward)]
fn coupled(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let j = (i + 1) % x.len();
        s += (x[i] * x[j] * w).sin() + x[i].powi(3) / (1.0 + w * w);
    }
    s
}

#[test]
fn forward_gradients_of_few_and_many_scalars_match_reverse_mode() {
    for n in [3, 7, 8, 9, 12] {
        let x: Vec<f64> = (0..n).map(|i| 0.3 * i as f64 - 1.1).collect();
        let w = 0.6;
        let (value, g) = coupled_grad(&x, w);
        let (fvalue, fg) = coupled_grad_fwd(&x, w);
        assert_eq!(fvalue.to_bits(), value.to_bits(), "n = {n}: value");
        assert!(close(fg.w, g.w, 1e-13), "n = {n}: w {} vs {}", fg.w, g.w);
        for i in 0..n {
            assert!(close(fg.x[i], g.x[i], 1e-13), "n = {n}: x[{i}] {} vs {}", fg.x[i], g.x[i]);
        }
        // The field alone, as a differentiable call would take it.
        let gx = coupled_grad_fwd_x(&x, w);
        assert_eq!(gx, fg.x, "n = {n}: _grad_fwd_x");
        let v = CoupledGrad { x: (0..n).map(|i| 1.0 - 0.2 * i as f64).collect(), w: -0.5 };
        let (_, _, hv) = coupled_hvp(&x, w, &v);
        let (_, hg, fhv) = coupled_hvp_fwd(&x, w, &v);
        assert!(close(hg.w, g.w, 1e-13) && close(fhv.w, hv.w, 1e-12), "n = {n}: (H·v).w {} vs {}", fhv.w, hv.w);
        for i in 0..n {
            assert!(close(hg.x[i], g.x[i], 1e-13), "n = {n}: gradient x[{i}]");
            assert!(close(fhv.x[i], hv.x[i], 1e-12), "n = {n}: (H·v).x[{i}] {} vs {}", fhv.x[i], hv.x[i]);
        }
    }
}
