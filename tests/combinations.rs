//! Constructs inside constructs (issue 15): exits inside `match` arms, float methods on struct
//! fields, integer tables passed to calls, aliased call arguments, calls after an early `return`,
//! scratch buffers sized by a field or generic, integer counters in `while`. Each gradient is checked
//! against central finite differences (or exact values where the function is linear).
#![allow(clippy::ptr_arg)]

use backprop::prelude::*;

/// Central differences of `f` at `x`.
fn fd<const N: usize>(x: &[f64; N], f: impl Fn(&[f64; N]) -> f64) -> [f64; N] {
    let mut g = [0.0; N];
    for i in 0..N {
        let h = 1e-6 * (1.0 + x[i].abs());
        let (mut a, mut b) = (*x, *x);
        a[i] += h;
        b[i] -= h;
        g[i] = (f(&a) - f(&b)) / (2.0 * h);
    }
    g
}

fn assert_close(what: &str, got: &[f64], expected: &[f64]) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() <= 1e-6 * (1.0 + e.abs()), "{what}: [{i}] = {g}, expected {e}");
    }
}

// 1. `break` / `continue` inside `match` arms (rustc overflowed its stack on these).

#[backprop]
fn continue_in_match(x: &[f64; 3]) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        match i {
            1 => {
                continue;
            }
            _ => {}
        }
        s += x[i];
    }
    s
}

#[backprop]
fn break_in_match_arm_expr(x: &[f64; 4]) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        s += x[i] * x[i];
        match i {
            0 => s *= 2.0,
            2 => break,
            _ => s += 1.0,
        }
    }
    s
}

#[backprop]
fn exits_in_nested_match(x: &[f64; 4]) -> f64 {
    let mut s = 0.0;
    let mut k = 0.0;
    while s < 10.0 {
        k += 1.0;
        for i in 0..4 {
            if x[i] > 0.0 {
                match i {
                    1 | 2 => {
                        if k > 2.0 {
                            continue;
                        }
                        s += x[i].sin();
                    }
                    3 => {
                        s += x[i] * k;
                        break;
                    }
                    _ => s += x[i],
                }
            }
            s += 0.5 * x[i];
        }
        match k as i64 {
            5 => break,
            _ => {}
        }
    }
    s
}

#[test]
fn exits_inside_match_arms() {
    let (v, g) = continue_in_match_grad(&[1.0, 2.0, 3.0]);
    assert_eq!(v, 4.0);
    assert_eq!(g.x, [1.0, 0.0, 1.0]);
    let x = [0.5, -1.5, 2.0, 0.7];
    let (v, g) = break_in_match_arm_expr_grad(&x);
    assert_eq!(v, break_in_match_arm_expr(&x));
    assert_close("break_in_match_arm_expr", &g.x, &fd(&x, break_in_match_arm_expr));
    for x in [[0.5, -1.5, 2.0, 0.7], [0.3, 0.2, 0.1, -0.4], [1.0, 2.0, 3.0, 4.0]] {
        let (v, g) = exits_in_nested_match_grad(&x);
        assert_eq!(v, exits_in_nested_match(&x));
        assert_close("exits_in_nested_match", &g.x, &fd(&x, exits_in_nested_match));
    }
}
