//! Issue 18: reassigned tuples (complex Horner) and calls of generic-float functions with const
//! generics, against finite differences and closed forms.
// The objectives are written with index loops, as the macro reads them.
#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

/// The real part of `p(z)`, `p` with coefficients `c` (highest first), by Horner in complex
/// arithmetic: the accumulator is a reassigned tuple.
#[backprop]
pub fn horner_re(c: &[f64; 4], re: f64, im: f64) -> f64 {
    let mut acc = (0.0, 0.0);
    for k in 0..4 {
        acc = (acc.0 * re - acc.1 * im + c[k], acc.0 * im + acc.1 * re);
    }
    let (a, b) = acc;
    a * a + b
}

/// Swap and branch: every component is evaluated before any is assigned.
#[backprop]
pub fn swap_in_branch(x: f64, y: f64) -> f64 {
    let mut t = (x, y * y);
    if x > 0.0 {
        t = (t.1, t.0);
    }
    t.0 * 3.0 + t.1.sin()
}

fn horner_plain(c: &[f64; 4], re: f64, im: f64) -> f64 {
    let (mut a, mut b) = (0.0, 0.0);
    for ck in c {
        let next = (a * re - b * im + ck, a * im + b * re);
        a = next.0;
        b = next.1;
    }
    a * a + b
}

fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * (1.0 + x.abs());
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn a_reassigned_tuple_is_carried_by_its_components() {
    let c = [0.5, -1.25, 2.0, 0.75];
    let (re, im) = (0.8, -0.6);
    let (v, g) = horner_re_grad(&c, re, im);
    assert_eq!(v, horner_plain(&c, re, im));
    assert!((g.re - central(|r| horner_plain(&c, r, im), re)).abs() < 1e-6);
    assert!((g.im - central(|i| horner_plain(&c, re, i), im)).abs() < 1e-6);
    for k in 0..4 {
        let fk = |x: f64| {
            let mut d = c;
            d[k] = x;
            horner_plain(&d, re, im)
        };
        assert!((g.c[k] - central(fk, c[k])).abs() < 1e-6, "c[{k}]");
    }
    for (x, y) in [(0.7, -0.4), (-0.7, 0.4)] {
        let (v, g) = swap_in_branch_grad(x, y);
        let plain = |x: f64, y: f64| if x > 0.0 { y * y * 3.0 + x.sin() } else { x * 3.0 + (y * y).sin() };
        assert_eq!(v, plain(x, y));
        assert!((g.x - central(|a| plain(a, y), x)).abs() < 1e-6);
        assert!((g.y - central(|b| plain(x, b), y)).abs() < 1e-6);
    }
}

// ---- generic-float callees with const generics -----------------------------------------------------

/// Softmax cross-entropy over `C` classes, generic over its float type.
#[backprop]
pub fn softmax_xent<T: Float, const C: usize>(logits: &[T; C], label: usize) -> T {
    let mut m = logits[0];
    for k in 0..C {
        m = m.max(logits[k]);
    }
    let mut s = T::zero();
    for k in 0..C {
        s += (logits[k] - m).exp();
    }
    s.ln() + m - logits[label]
}

/// A generic float scale, called with a float argument.
#[backprop]
pub fn scaled<T: Float>(x: T, k: T) -> T {
    x * k + x.sin()
}

#[backprop]
pub fn generic_caller(w: &[f64; 3], x: f64, label: usize) -> f64 {
    let mut z = [0.0; 3];
    for k in 0..3 {
        z[k] = w[k] * x + scaled(w[k], 0.5);
    }
    let top = softmax_xent(&z, label);
    let mut inner = 0.0;
    for k in 0..3 {
        if k != label {
            inner += 0.1 * scaled(z[k], x);
        }
    }
    top + inner
}

#[backprop]
pub fn generic_caller_f32(w: &[f32; 3], label: usize) -> f32 {
    softmax_xent(w, label) * 2.0
}

#[test]
fn generic_float_callees_with_const_generics() {
    let w = [0.3, -0.8, 1.1];
    let (x, label) = (0.7, 2);
    let (v, g) = generic_caller_grad(&w, x, label);
    assert_eq!(v, generic_caller(&w, x, label));
    for k in 0..3 {
        let fk = |a: f64| {
            let mut d = w;
            d[k] = a;
            generic_caller(&d, x, label)
        };
        assert!((g.w[k] - central(fk, w[k])).abs() < 1e-6, "w[{k}]: {} vs {}", g.w[k], central(fk, w[k]));
    }
    assert!((g.x - central(|a| generic_caller(&w, a, label), x)).abs() < 1e-6);
    // The generic function's own gradient, at both float types.
    let (_, g64) = softmax_xent_grad(&[1.0f64, 2.0, 0.5], 1);
    let e: Vec<f64> = [1.0f64, 2.0, 0.5].iter().map(|z| z.exp()).collect();
    let s: f64 = e.iter().sum();
    for k in 0..3 {
        let want = e[k] / s - if k == 1 { 1.0 } else { 0.0 };
        assert!((g64.logits[k] - want).abs() < 1e-12);
    }
    let (_, g32) = generic_caller_f32_grad(&[1.0f32, 2.0, 0.5], 1);
    for k in 0..3 {
        let want = 2.0 * (e[k] / s - if k == 1 { 1.0 } else { 0.0 });
        assert!((g32.w[k] as f64 - want).abs() < 1e-5);
    }
}
