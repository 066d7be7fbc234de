//! Calls after an early `return` with parameter structs (issue 15, class 5, beyond the reproductions
//! in `combinations.rs`): layers after a return, a return in a counted `while` or a nested loop with
//! calls after it in the same body, an array passed to a call before the return and written after it,
//! iterator idioms over a call's result, a return in a nested `match`, a generic callee. Each gradient
//! is checked against central differences over every scalar (struct, array and `t`), with `t` on
//! either side of the returns.
// Objectives written with index loops and element copies, as the macro reads them.
#![allow(clippy::needless_range_loop, clippy::single_match)]

use backprop::prelude::*;

#[derive(Params, Clone, Debug, PartialEq)]
pub struct L {
    pub w: [[f64; 2]; 2],
    pub b: [f64; 2],
}

#[derive(Params, Clone, Debug, PartialEq)]
pub struct N {
    pub l1: L,
    pub l2: L,
    pub c: f64,
}

#[backprop]
fn layer(l: &L, x: &[f64; 2]) -> [f64; 2] {
    let mut o = [0.0; 2];
    for j in 0..2 {
        o[j] = (l.w[j][0] * x[0] + l.w[j][1] * x[1] + l.b[j]).tanh();
    }
    o
}

#[backprop]
fn dot(a: &[f64; 2], b: &[f64; 2]) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

#[backprop]
fn gen_lin<T: Float>(x: &[T; 2]) -> [T; 2] {
    let mut o = [T::zero(); 2];
    o[0] = (x[0] * x[1]).sin();
    o[1] = x[1].tanh();
    o
}

// Layers after the return, a call as a call's argument.
#[backprop]
fn layers_after_return(p: &N, x: &[f64; 2], t: f64) -> f64 {
    if t > 1.0 {
        return p.c * t;
    }
    let h = layer(&p.l1, x);
    let o = layer(&p.l2, &h);
    dot(&o, &h) + dot(&layer(&p.l1, &o), x)
}

#[backprop]
fn return_in_counted_while(p: &N, x: &[f64; 2], t: f64) -> f64 {
    let mut s = 0.0;
    let mut k = 0;
    while k < 4 {
        if t > 1.0 && k == 2 {
            return s;
        }
        let h = layer(&p.l1, x);
        s += dot(&h, x) * t;
        k += 1;
    }
    let h = layer(&p.l2, x);
    s + h[1]
}

// A return in a `match` arm inside a loop whose other arm calls; a call after the loop.
#[backprop]
fn return_in_match_in_loop(p: &N, x: &[f64; 2], t: f64) -> f64 {
    let mut s = t;
    for i in 0..3 {
        match i {
            1 => {
                if t > 1.0 {
                    return s + x[0];
                }
            }
            _ => {
                let h = layer(&p.l1, x);
                s += h[0] * t;
            }
        }
    }
    let h = layer(&p.l2, x);
    s * h[0]
}

// A generic array-returning callee after the return, fed a local array.
#[backprop]
fn generic_calls_after_return<T: Float>(x: &[T; 2], t: T) -> T {
    if t > T::one() {
        return t;
    }
    let h = gen_lin(x);
    let mut b = [T::zero(); 2];
    b[0] = h[0] * t;
    b[1] = h[1];
    let g = gen_lin(&b);
    g[0] + g[1]
}

// A return whose value comes from a call made in its branch; a return on a call's result.
#[backprop]
fn returns_inside_calls_loop(p: &N, x: &[f64; 2], t: f64) -> f64 {
    if t > 1.0 {
        let h = layer(&p.l2, x);
        return dot(&h, x);
    }
    let mut s = 0.0;
    for i in 0..2 {
        let h = layer(&p.l1, x);
        if i == 1 && h[i] > 0.0 {
            return s;
        }
        s += h[i] * x[i];
    }
    s
}

#[backprop]
fn return_in_nested_loop(p: &N, x: &[f64; 2], t: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        for j in 0..2 {
            if t > 1.0 && i == 1 && j == 1 {
                return s * t;
            }
            s += x[j] * (i as f64 + 1.0);
        }
        let h = layer(&p.l1, x);
        s += dot(&h, x);
    }
    let h = layer(&p.l2, x);
    s + h[0]
}

#[backprop]
fn passed_then_written_after_return(p: &N, x: &[f64; 2], t: f64) -> f64 {
    let h = layer(&p.l1, x);
    let mut b = [0.0; 2];
    b[0] = h[0] * t;
    let mut s = dot(&b, x);
    if t > 1.0 {
        return s;
    }
    b[1] = h[1] * s;
    s += dot(&b, &h);
    b[0] = b[1] * 0.5;
    let g = layer(&p.l2, &b);
    s + dot(&g, &b)
}

#[backprop]
fn return_in_tolerance_loop(p: &N, x: &[f64; 2], t: f64) -> f64 {
    let mut y = x[0];
    let mut s = 0.0;
    loop {
        y = 0.5 * y + 0.3 * t;
        if (y - 0.6 * t).abs() < 1e-3 {
            break;
        }
        if t > 2.0 && y > 1.2 {
            return y * s;
        }
        let mut v = [0.0; 2];
        v[0] = y;
        v[1] = x[1];
        let h = layer(&p.l1, &v);
        s += h[0];
    }
    let h = layer(&p.l2, x);
    s + y * h[1]
}

#[backprop]
fn iterators_after_else_if_returns(p: &N, x: &[f64; 2], t: f64) -> f64 {
    let h = layer(&p.l1, x);
    let s = if t > 2.0 {
        h[0]
    } else if t > 1.0 {
        h[1]
    } else {
        0.5
    };
    if t > 2.0 {
        return s;
    } else if t > 1.0 {
        if x[0] > 0.0 {
            return s * h[0];
        }
    }
    let mut acc = 0.0;
    for (a, b) in h.iter().zip(x.iter()) {
        acc += a * b;
    }
    let g = layer(&p.l2, &h);
    acc + g.iter().map(|v| v * v).sum::<f64>() + s
}

#[backprop]
fn return_in_nested_match(p: &N, x: &[f64; 2], t: f64, k: usize) -> f64 {
    let mut s = t;
    match k {
        0 => match k + 1 {
            1 => {
                if t > 1.0 {
                    return s;
                }
            }
            _ => {}
        },
        _ => {
            let h = layer(&p.l1, x);
            s += h[0];
        }
    }
    let h = layer(&p.l2, x);
    s * h[1] + dot(&h, x)
}

fn flat(p: &N, x: &[f64; 2], t: f64) -> Vec<f64> {
    let mut v = vec![];
    for l in [&p.l1, &p.l2] {
        v.extend(l.w.iter().flatten());
        v.extend(l.b);
    }
    v.push(p.c);
    v.extend(x);
    v.push(t);
    v
}

fn unflat(v: &[f64]) -> (N, [f64; 2], f64) {
    let l = |o: usize| L { w: [[v[o], v[o + 1]], [v[o + 2], v[o + 3]]], b: [v[o + 4], v[o + 5]] };
    (N { l1: l(0), l2: l(6), c: v[12] }, [v[13], v[14]], v[15])
}

/// `grad` (as `flat` orders it) against central differences of `f` at `(p, x, t)`.
fn check(name: &str, f: impl Fn(&N, &[f64; 2], f64) -> f64, grad: Vec<f64>, p: &N, x: &[f64; 2], t: f64) {
    let base = flat(p, x, t);
    for i in 0..base.len() {
        let h = 1e-6 * (1.0 + base[i].abs());
        let (mut a, mut b) = (base.clone(), base.clone());
        a[i] += h;
        b[i] -= h;
        let ((pa, xa, ta), (pb, xb, tb)) = (unflat(&a), unflat(&b));
        let e = (f(&pa, &xa, ta) - f(&pb, &xb, tb)) / (2.0 * h);
        assert!((grad[i] - e).abs() < 1e-6 * (1.0 + e.abs()), "{name}[{i}] at t = {t}: {} vs {e}", grad[i]);
    }
}

fn net() -> N {
    N {
        l1: L { w: [[0.3, -0.5], [0.8, 0.1]], b: [0.2, -0.1] },
        l2: L { w: [[-0.4, 0.6], [0.2, 0.9]], b: [0.05, 0.3] },
        c: 0.7,
    }
}

macro_rules! check_fn {
    ($f:ident, $g:ident, $p:expr, $x:expr, $t:expr) => {{
        let (v, g) = $g($p, $x, $t);
        assert_eq!(v.to_bits(), $f($p, $x, $t).to_bits(), "{} value", stringify!($f));
        check(stringify!($f), $f, flat(&g.p, &g.x, g.t), $p, $x, $t);
    }};
}

#[test]
fn struct_calls_after_early_returns() {
    let p = net();
    for x in [[0.5, -0.8], [-0.3, 0.6]] {
        for t in [0.4, 1.6, 2.6] {
            check_fn!(layers_after_return, layers_after_return_grad, &p, &x, t);
            check_fn!(return_in_counted_while, return_in_counted_while_grad, &p, &x, t);
            check_fn!(return_in_match_in_loop, return_in_match_in_loop_grad, &p, &x, t);
            check_fn!(return_in_nested_loop, return_in_nested_loop_grad, &p, &x, t);
            check_fn!(passed_then_written_after_return, passed_then_written_after_return_grad, &p, &x, t);
            check_fn!(return_in_tolerance_loop, return_in_tolerance_loop_grad, &p, &x, t);
            check_fn!(iterators_after_else_if_returns, iterators_after_else_if_returns_grad, &p, &x, t);
            check_fn!(returns_inside_calls_loop, returns_inside_calls_loop_grad, &p, &x, t);
            for k in 0..2 {
                let (v, g) = return_in_nested_match_grad(&p, &x, t, k);
                assert_eq!(v.to_bits(), return_in_nested_match(&p, &x, t, k).to_bits());
                let f = |p: &N, x: &[f64; 2], t: f64| return_in_nested_match(p, x, t, k);
                check("return_in_nested_match", f, flat(&g.p, &g.x, g.t), &p, &x, t);
            }
            let (v, g) = generic_calls_after_return_grad(&x, t);
            assert_eq!(v.to_bits(), generic_calls_after_return(&x, t).to_bits());
            let f = |_: &N, x: &[f64; 2], t: f64| generic_calls_after_return(x, t);
            let mut grad = vec![0.0; 13];
            grad.extend(g.x);
            grad.push(g.t);
            check("generic_calls_after_return", f, grad, &p, &x, t);
            let (x32, t32) = (x.map(|v| v as f32), t as f32);
            let (v32, g32) = generic_calls_after_return_grad(&x32, t32);
            assert_eq!(v32.to_bits(), generic_calls_after_return(&x32, t32).to_bits());
            for i in 0..2 {
                assert!((g32.x[i] as f64 - g.x[i]).abs() < 1e-4 * (1.0 + g.x[i].abs()), "f32 x[{i}]");
            }
        }
    }
}
