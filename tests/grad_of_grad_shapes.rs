//! Gradients of gradients in every place a statement can stand (issue 16, item 4): `let (e, g) =
//! energy_grad(..)` inside `for`, `while` and `loop` bodies, in both branches of an `if`, in a
//! nested block shadowing an outer `g`, and of a slice callee. Each gradient is checked against num-dual (`Dual64`, one
//! pass per input) on a generic twin whose energy gradient is written in closed form, to 1e-12
//! relative, and the value bit for bit against the function itself.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;
use num_dual::{Dual64, DualNum};

/// `E(x, w) = x₀²w + x₁w² + sin(x₀x₁)`.
#[backprop(hessian)]
fn energy(x: &[f64; 2], w: f64) -> f64 {
    x[0] * x[0] * w + x[1] * w * w + (x[0] * x[1]).sin()
}

/// `E` and `(∂E/∂x₀, ∂E/∂x₁, ∂E/∂w)` in closed form, for the twins.
fn energy_twin<D: DualNum<f64> + Copy>(x: [D; 2], w: D) -> (D, [D; 2], D) {
    let e = x[0] * x[0] * w + x[1] * w * w + (x[0] * x[1]).sin();
    let c = (x[0] * x[1]).cos();
    (e, [x[0] * w * 2.0 + x[1] * c, w * w + x[0] * c], x[0] * x[0] + x[1] * w * 2.0)
}

/// An explicit descent on the force `-∂E/∂x` in a `for` loop (a particle step), with an outer `g`
/// shadowed by the loop's own.
#[backprop]
fn descend(x0: &[f64; 2], w: f64) -> f64 {
    let (e0, g) = energy_grad(x0, w);
    let mut x = [0.0; 2];
    x[0] = x0[0];
    x[1] = x0[1];
    let mut acc = e0;
    for _k in 0..3 {
        let (e, g) = energy_grad(&x, w);
        x[0] -= 0.1 * g.x[0];
        x[1] -= 0.1 * g.x[1];
        acc += e + 0.5 * g.w * g.w;
    }
    acc + x[0] * x[1] + g.w
}

fn descend_twin<D: DualNum<f64> + Copy>(x0: [D; 2], w: D) -> D {
    let (e0, _, g0w) = energy_twin(x0, w);
    let mut x = x0;
    let mut acc = e0;
    for _ in 0..3 {
        let (e, gx, gw) = energy_twin(x, w);
        x[0] -= gx[0] * 0.1;
        x[1] -= gx[1] * 0.1;
        acc += e + gw * gw * 0.5;
    }
    acc + x[0] * x[1] + g0w
}

/// A different gradient field read in each branch.
#[backprop]
fn branchy(x: &[f64; 2], w: f64) -> f64 {
    let mut c = x[0] * w;
    if w > 0.0 {
        let (_, g) = energy_grad(x, w);
        c += g.x[0] * g.w;
    } else {
        let (e, g) = energy_grad(x, w);
        c += e * g.x[1];
    }
    c
}

fn branchy_twin<D: DualNum<f64> + Copy>(x: [D; 2], w: D) -> D {
    let (e, gx, gw) = energy_twin(x, w);
    if w.re() > 0.0 {
        x[0] * w + gx[0] * gw
    } else {
        x[0] * w + e * gx[1]
    }
}

/// A `while` loop with a counter and a `loop` with a `break`, each taking force steps.
#[backprop]
fn while_and_loop(x: &[f64; 2], w: f64) -> f64 {
    let mut y = [0.0; 2];
    y[0] = x[0];
    y[1] = x[1];
    let mut k = 0;
    while k < 2 {
        let (_, g) = energy_grad(&y, w);
        y[0] -= 0.05 * g.x[0];
        y[1] -= 0.05 * g.x[1];
        k += 1;
    }
    let mut s = 0.0;
    let mut n = 0;
    loop {
        let (e, g) = energy_grad(&y, w);
        s += e * g.w;
        n += 1;
        if n >= 2 {
            break;
        }
        y[1] *= 0.5;
    }
    y[0] * y[0] + y[1] + s
}

fn while_and_loop_twin<D: DualNum<f64> + Copy>(x: [D; 2], w: D) -> D {
    let mut y = x;
    for _ in 0..2 {
        let (_, gx, _) = energy_twin(y, w);
        y[0] -= gx[0] * 0.05;
        y[1] -= gx[1] * 0.05;
    }
    let mut s = D::zero();
    for n in 1..=2 {
        let (e, _, gw) = energy_twin(y, w);
        s += e * gw;
        if n >= 2 {
            break;
        }
        y[1] *= 0.5;
    }
    y[0] * y[0] + y[1] + s
}

/// `E(x, w) = w Σ xᵢ²` over a slice.
#[backprop(hessian)]
fn slice_energy(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i] * w;
    }
    s
}

/// A slice callee's gradient (a `Vec`) read by index in a loop.
#[backprop]
fn uses_slice(x: &[f64], w: f64) -> f64 {
    let mut c = 0.0;
    for k in 0..2 {
        let (e, g) = slice_energy_grad(x, w);
        c += e * g.x[k] + g.w * g.x[1 - k];
    }
    c
}

fn uses_slice_twin<D: DualNum<f64> + Copy>(x: [D; 2], w: D) -> D {
    let e = (x[0] * x[0] + x[1] * x[1]) * w;
    let (gx, gw) = ([x[0] * w * 2.0, x[1] * w * 2.0], x[0] * x[0] + x[1] * x[1]);
    let mut c = D::zero();
    for k in 0..2 {
        c += e * gx[k] + gw * gx[1 - k];
    }
    c
}

/// What to write instead of `energy_jvp(..)` (refused, `tests/ui/jvp_call_in_backprop.rs`): the
/// directional derivative as the gradient's fields times the direction, in a caller with `wrt`.
#[backprop(wrt(x))]
fn directional(x: &[f64; 2], w: f64) -> f64 {
    let (e, g) = energy_grad(x, w);
    e + 0.3 * g.x[0] - 0.7 * g.x[1] + 0.2 * g.w
}

fn directional_twin<D: DualNum<f64> + Copy>(x: [D; 2], w: D) -> D {
    let (e, gx, gw) = energy_twin(x, w);
    e + gx[0] * 0.3 - gx[1] * 0.7 + gw * 0.2
}

/// The gradient `(∂/∂x₀, ∂/∂x₁, ∂/∂w)` of a twin by num-dual, one pass per input.
fn oracle(f: impl Fn([Dual64; 2], Dual64) -> Dual64, x: [f64; 2], w: f64) -> (f64, [f64; 3]) {
    let seed = |k: usize| {
        let d = |i: usize, v: f64| Dual64::new(v, if i == k { 1.0 } else { 0.0 });
        f([d(0, x[0]), d(1, x[1])], d(2, w))
    };
    (seed(0).re, [seed(0).eps, seed(1).eps, seed(2).eps])
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
}

fn check(name: &str, value: f64, got: (f64, [f64; 2], f64), want: (f64, [f64; 3])) {
    assert_eq!(got.0.to_bits(), value.to_bits(), "{name}: value differs from the function's");
    assert!(close(got.0, want.0), "{name}: value {} vs twin {}", got.0, want.0);
    let got = [got.1[0], got.1[1], got.2];
    for k in 0..3 {
        assert!(close(got[k], want.1[k]), "{name}: d/d{k} {} vs num-dual {}", got[k], want.1[k]);
    }
}

const POINTS: [([f64; 2], f64); 4] = [([0.7, -1.3], 0.4), ([-0.2, 0.9], 1.1), ([1.5, 0.3], -0.6), ([0.1, 0.1], -1.4)];

#[test]
fn force_steps_in_a_for_loop_with_shadowing() {
    for (x, w) in POINTS {
        let (v, g) = descend_grad(&x, w);
        check("descend", descend(&x, w), (v, g.x0, g.w), oracle(descend_twin, x, w));
    }
}

#[test]
fn gradient_fields_in_both_branches() {
    for (x, w) in POINTS {
        let (v, g) = branchy_grad(&x, w);
        check("branchy", branchy(&x, w), (v, g.x, g.w), oracle(branchy_twin, x, w));
    }
}

#[test]
fn slice_gradient_indexed_in_a_loop() {
    for (x, w) in POINTS {
        let (v, g) = uses_slice_grad(&x, w);
        check("uses_slice", uses_slice(&x, w), (v, [g.x[0], g.x[1]], g.w), oracle(uses_slice_twin, x, w));
    }
}

#[test]
fn directional_derivative_in_a_caller_with_wrt() {
    for (x, w) in POINTS {
        let (v, g) = directional_grad(&x, w);
        let want = oracle(directional_twin, x, w);
        // `wrt(x)`: no `w` entry; compare the two `x` entries.
        check("directional", directional(&x, w), (v, g.x, want.1[2]), want);
    }
}

#[test]
fn force_steps_in_while_and_loop() {
    for (x, w) in POINTS {
        let (v, g) = while_and_loop_grad(&x, w);
        check("while_and_loop", while_and_loop(&x, w), (v, g.x, g.w), oracle(while_and_loop_twin, x, w));
    }
}

/// Arguments named like generated functions (`acc`, `dual`: `_grad_acc`, `_grad_dual`): the
/// function, its Hessian and a caller reading another field of its gradient work; `g.acc` itself
/// is refused with a message (tests/ui/grad_of_grad_reserved_field.rs).
#[backprop(hessian)]
fn named_like_generated(acc: f64, dual: f64, w: f64) -> f64 {
    acc * acc * w + dual * w * w
}

#[backprop]
fn through_w(acc: f64, dual: f64, w: f64) -> f64 {
    let (e, g) = named_like_generated_grad(acc, dual, w);
    e + g.w * g.w
}

#[test]
fn arguments_named_like_generated_functions() {
    let (a, d, w) = (0.7, -1.3, 1.9);
    let (_, _, h) = named_like_generated_hessian(a, d, w);
    let expected = [[2.0 * w, 0.0, 2.0 * a], [0.0, 0.0, 2.0 * w], [2.0 * a, 2.0 * w, 2.0 * d]];
    for i in 0..3 {
        for j in 0..3 {
            assert!((h[i][j] - expected[i][j]).abs() < 1e-12, "h[{i}][{j}] = {} vs {}", h[i][j], expected[i][j]);
        }
    }
    // T = C + (∂C/∂w)², C = a² w + d w², ∂C/∂w = a² + 2 d w.
    let cw = a * a + 2.0 * d * w;
    let (t, g) = through_w_grad(a, d, w);
    assert!((t - (a * a * w + d * w * w + cw * cw)).abs() < 1e-12);
    assert!((g.acc - (2.0 * a * w + 2.0 * cw * 2.0 * a)).abs() < 1e-12);
    assert!((g.dual - (w * w + 2.0 * cw * 2.0 * w)).abs() < 1e-12);
    assert!((g.w - (cw + 2.0 * cw * 2.0 * d)).abs() < 1e-12);
}

/// Without `hessian`, the stand-ins for `let (e, g) = .._grad(..)` callers skip such names too.
#[backprop]
fn first_order_named_acc(acc: f64, dual: f64) -> f64 {
    acc * dual * dual
}

#[test]
fn first_order_arguments_named_like_generated_functions() {
    let (value, g) = first_order_named_acc_grad(2.0, 3.0);
    assert_eq!((value, g.acc, g.dual), (18.0, 9.0, 12.0));
}

/// A raw-identifier argument: its differentiable field is `<name>_grad_type`, read as `g.r#type`.
#[backprop(hessian)]
fn raw_named(r#type: f64, w: f64) -> f64 {
    r#type * r#type * w
}

#[backprop]
fn through_raw(t: f64, w: f64) -> f64 {
    let (_, g) = raw_named_grad(t, w);
    g.r#type * w
}

#[test]
fn raw_identifier_arguments() {
    // through_raw = 2 t w², so ∂/∂t = 2 w², ∂/∂w = 4 t w.
    let (t, w) = (0.6, -1.4);
    let (value, g) = through_raw_grad(t, w);
    assert!((value - 2.0 * t * w * w).abs() < 1e-12);
    assert!((g.t - 2.0 * w * w).abs() < 1e-12);
    assert!((g.w - 4.0 * t * w).abs() < 1e-12);
}
