//! Issue 18: reassigned tuples (complex Horner) and calls of generic-float functions with const
//! generics, against finite differences and closed forms.

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
