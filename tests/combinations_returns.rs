//! Calls after an early `return` with parameter structs (issue 15, class 5, beyond the reproductions
//! in `combinations.rs`): layers after a return, a return in a counted `while` or a nested loop with
//! calls after it in the same body, an array passed to a call before the return and written after it,
//! iterator idioms over a call's result, a return in a nested `match`, a generic callee; scratch
//! buffers sized by a field, rows of an integer table passed to an array-returning callee, counters
//! and exits in `match` arms around the returns; functions returning arrays (also generic, nested)
//! that return early. Each gradient is checked against central differences over every scalar
//! (struct, array and `t`), with `t` on either side of the returns.
// Objectives written with index loops and element copies, as the macro reads them.
// The shapes under test are kept as a user writes them (nested `if`s around returns, `s = s + ..` on
// generic floats).
#![allow(
    clippy::needless_range_loop,
    clippy::single_match,
    clippy::let_and_return,
    clippy::collapsible_if,
    clippy::collapsible_match,
    clippy::assign_op_pattern
)]

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

// Scratch buffers, integer-table rows and counters around early returns (classes 3, 6, 8 after 5).

#[derive(Params, Clone, Debug, PartialEq)]
pub struct Pv {
    pub a: f64,
    pub w: Vec<f64>,
    pub v: [f64; 3],
}

#[backprop]
fn pick2(x: &[f64], pair: &[usize; 2]) -> [f64; 2] {
    let mut o = [0.0; 2];
    o[0] = x[pair[0]] * x[pair[1]];
    o[1] = (x[pair[1]] - x[pair[0]]).tanh();
    o
}

#[backprop]
fn dots(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * b[i];
    }
    s
}

#[backprop]
fn gdots<T: Float>(a: &[T], b: &[T]) -> T {
    let mut s = T::zero();
    for i in 0..a.len() {
        s = s + a[i] * b[i];
    }
    s
}

#[backprop]
fn scratch_and_table_rows_after_return(p: &Pv, x: &[f64], pairs: &[[usize; 2]], t: f64) -> f64 {
    if t > 1.0 {
        return p.a * t;
    }
    let mut h = vec![0.0; p.w.len()];
    for i in 0..h.len() {
        h[i] = p.w[i] * x[i] + p.v[i % 3].sin();
    }
    let mut s = dots(&h, x) + dots(&p.w, &p.w);
    let mut k = 0;
    while k < pairs.len() {
        match k {
            1 => {
                if t > 0.5 {
                    return s + h[0];
                }
            }
            _ => {
                let o = pick2(&h, &pairs[k]);
                s += o[0] + o[1] * p.a.exp();
            }
        }
        k += 1;
    }
    s + (k as f64) * p.v[2].tanh()
}

#[backprop]
fn generic_vecs_after_return_in_loop<T: Float>(x: &[T], t: T) -> T {
    let mut s = T::zero();
    for i in 0..x.len() {
        if t > T::one() && i == 2 {
            return s;
        }
        let mut h = vec![T::zero(); x.len()];
        for j in 0..x.len() {
            h[j] = x[j] * t + T::of_f64(j as f64);
        }
        s = s + gdots(&h, x) * T::of_f64(0.1);
    }
    let mut g = vec![T::one(); x.len()];
    g[0] = s;
    s + gdots(&g, &g)
}

#[backprop]
fn counters_and_exits_in_arms_then_return(p: &Pv, x: &[f64], pairs: &[[usize; 2]], t: f64) -> f64 {
    let mut s = 0.0;
    let mut n = 0;
    for i in 0..x.len() {
        match i % 3 {
            0 => {
                n += 1;
                continue;
            }
            1 => {
                if x[i] > 0.0 {
                    break;
                }
                s += dots(&p.v, &p.v) * x[i];
            }
            _ => {
                let o = pick2(x, &pairs[i % 3]);
                s += o[0];
            }
        }
        n += 2;
    }
    if t > 1.0 {
        return s * (n as f64);
    }
    s + dots(&p.w, x) * (n as f64)
}

fn fd_all(f: &dyn Fn(&[f64]) -> f64, v: &[f64]) -> Vec<f64> {
    (0..v.len())
        .map(|i| {
            let h = 1e-6 * (1.0 + v[i].abs());
            let (mut a, mut b) = (v.to_vec(), v.to_vec());
            a[i] += h;
            b[i] -= h;
            (f(&a) - f(&b)) / (2.0 * h)
        })
        .collect()
}

fn close_all(name: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{name}: lengths");
    for i in 0..got.len() {
        assert!((got[i] - want[i]).abs() < 1e-6 * (1.0 + want[i].abs()), "{name}[{i}]: {} vs {}", got[i], want[i]);
    }
}

#[test]
fn scratch_buffers_tables_and_counters_after_returns() {
    let pairs = [[0usize, 1], [2, 1], [1, 0]];
    for t in [0.3, 0.8, 1.6] {
        for x in [[0.5, -0.7, 0.9], [-0.4, 0.3, 0.2]] {
            let p = Pv { a: 0.3, w: vec![0.4, -0.2, 0.7], v: [0.1, -0.5, 0.8] };
            let fl = |v: &[f64]| {
                let p = Pv { a: v[0], w: v[1..4].to_vec(), v: [v[4], v[5], v[6]] };
                (p, [v[7], v[8], v[9]], v[10])
            };
            let mut base = vec![p.a];
            base.extend(&p.w);
            base.extend(p.v);
            base.extend(x);
            base.push(t);
            let (v, g) = scratch_and_table_rows_after_return_grad(&p, &x, &pairs, t);
            assert_eq!(v, scratch_and_table_rows_after_return(&p, &x, &pairs, t));
            let mut gv = vec![g.p.a];
            gv.extend(&g.p.w);
            gv.extend(g.p.v);
            gv.extend(&g.x);
            gv.push(g.t);
            close_all(
                "scratch_and_table_rows_after_return",
                &gv,
                &fd_all(
                    &|v| {
                        let (p, x, t) = fl(v);
                        scratch_and_table_rows_after_return(&p, &x, &pairs, t)
                    },
                    &base,
                ),
            );
            let (v, g) = counters_and_exits_in_arms_then_return_grad(&p, &x, &pairs, t);
            assert_eq!(v, counters_and_exits_in_arms_then_return(&p, &x, &pairs, t));
            let mut gv = vec![g.p.a];
            gv.extend(&g.p.w);
            gv.extend(g.p.v);
            gv.extend(&g.x);
            gv.push(g.t);
            close_all(
                "counters_and_exits_in_arms_then_return",
                &gv,
                &fd_all(
                    &|v| {
                        let (p, x, t) = fl(v);
                        counters_and_exits_in_arms_then_return(&p, &x, &pairs, t)
                    },
                    &base,
                ),
            );
            let (v, g) = generic_vecs_after_return_in_loop_grad(&x[..], t);
            assert_eq!(v, generic_vecs_after_return_in_loop(&x[..], t));
            let mut gv = g.x.clone();
            gv.push(g.t);
            close_all(
                "generic_vecs_after_return_in_loop",
                &gv,
                &fd_all(&|v| generic_vecs_after_return_in_loop(&v[..3], v[3]), &[x[0], x[1], x[2], t]),
            );
        }
    }
}

// A callee with early returns and calls, called in a loop, in a branch, in the caller's own
// returned expression, and as a method.

#[backprop]
fn lin3r(x: &[f64; 3]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = (x[i] * 0.7 + x[(i + 1) % 3]).tanh();
    }
    out
}

#[backprop]
fn returning_callee(x: &[f64; 3], t: f64) -> f64 {
    let mut s = x[0] * t;
    for i in 0..3 {
        if t > 1.0 && x[i] > 0.0 {
            return s * x[i];
        }
        let h = lin3r(x);
        s += h[i] * t;
    }
    let h = lin3r(x);
    s + h[2]
}

#[backprop]
fn calls_returning_callee(x: &[f64; 3], t: f64) -> f64 {
    let mut s = 0.0;
    let mut b = [0.0; 3];
    for k in 0..3 {
        b[k] = x[k] * t;
        if x[k] > 0.0 {
            s += returning_callee(&b, t + 0.3 * (k as f64));
        } else {
            s -= returning_callee(x, t);
        }
        if t > 1.5 {
            return s + returning_callee(&b, t);
        }
    }
    s * returning_callee(&b, 0.5)
}

#[derive(Params, Clone, Debug, PartialEq)]
pub struct Mr {
    pub w: [f64; 3],
}

#[backprop]
impl Mr {
    #[backprop]
    fn scaled(&self, x: &[f64; 3], t: f64) -> f64 {
        if t > 1.0 {
            return self.w[0] * t;
        }
        let h = lin3r(x);
        self.w[1] * h[0] + returning_callee(&self.w, t)
    }
}

#[test]
fn callees_with_early_returns_in_loops_and_methods() {
    for t in [0.35, 0.8, 1.25, 1.8] {
        for x in [[0.5, -0.7, 0.9], [-0.4, 0.3, -0.2]] {
            let (v, g) = calls_returning_callee_grad(&x, t);
            assert_eq!(v, calls_returning_callee(&x, t));
            for i in 0..4 {
                let mut a = [x[0], x[1], x[2], t];
                let mut b = a;
                a[i] += 1e-6;
                b[i] -= 1e-6;
                let e = (calls_returning_callee(&[a[0], a[1], a[2]], a[3])
                    - calls_returning_callee(&[b[0], b[1], b[2]], b[3]))
                    / 2e-6;
                let gi = if i < 3 { g.x[i] } else { g.t };
                assert!((gi - e).abs() < 1e-6 * (1.0 + e.abs()), "calls_returning_callee[{i}] t={t}: {gi} vs {e}");
            }
            let m = Mr { w: [0.3, -0.6, 0.8] };
            let (v, g) = m.scaled_grad(&x, t);
            assert_eq!(v, m.scaled(&x, t));
            for i in 0..3 {
                let mut a = m.w;
                a[i] += 1e-6;
                let mut b = m.w;
                b[i] -= 1e-6;
                let e = (Mr { w: a }.scaled(&x, t) - Mr { w: b }.scaled(&x, t)) / 2e-6;
                assert!((g.self_.w[i] - e).abs() < 1e-6 * (1.0 + e.abs()), "m w[{i}] t={t}: {} vs {e}", g.self_.w[i]);
            }
        }
    }
}

// Functions returning arrays with early returns (the result is a local array; a returned name is
// copied element by element, a returned call's array bound and copied), one-dimensional, generic
// and nested; and a nested-array callee in a branch.

#[derive(Params, Clone, Debug, PartialEq)]
pub struct La {
    pub w: [[f64; 2]; 2],
    pub b: [f64; 2],
}

#[backprop]
fn layer_a(l: &La, x: &[f64; 2]) -> [f64; 2] {
    let mut o = [0.0; 2];
    for j in 0..2 {
        o[j] = (l.w[j][0] * x[0] + l.w[j][1] * x[1] + l.b[j]).tanh();
    }
    o
}

#[backprop]
fn clipped_layer(l: &La, x: &[f64; 2], t: f64) -> [f64; 2] {
    if t > 1.0 {
        return layer_a(l, x);
    }
    let h = layer_a(l, x);
    if h[0] > 0.5 {
        let mut o = [0.0; 2];
        o[0] = h[1] * t;
        o[1] = h[0];
        return o;
    }
    for i in 0..2 {
        if t < 0.2 && i == 1 {
            return h;
        }
    }
    let out = layer_a(l, &h);
    out
}

#[backprop]
fn generic_returning_array<T: Float>(x: &[T; 2], t: T) -> [T; 2] {
    let mut o = [T::zero(); 2];
    o[0] = x[0] * t;
    if t > T::one() {
        return o;
    }
    o[1] = (x[1] * t).sin();
    o
}

#[backprop]
fn uses_returning_arrays(l: &La, x: &[f64; 2], t: f64) -> f64 {
    let a = clipped_layer(l, x, t);
    let g = generic_returning_array(&a, t);
    let mut s = 0.0;
    for k in 0..2 {
        let b = clipped_layer(l, &g, t * 0.5);
        s += b[k] * a[k];
    }
    s + g[0] * g[1]
}

#[backprop]
fn rows_with_returns(x: &[f64; 2], t: f64) -> [[f64; 2]; 2] {
    let mut out = [[0.0; 2]; 2];
    out[1][0] = x[0] * x[1];
    if t > 1.0 {
        return out;
    }
    out[0][0] = x[0] * t;
    out[1][1] = x[1].tanh();
    if t < 0.3 {
        return outer_rows(x);
    }
    out
}

#[backprop]
fn nested_call_in_branch(x: &[f64; 2], t: f64) -> f64 {
    let mut s = t;
    if t < 0.3 {
        let r = outer_rows(x);
        s += r[0][1] * r[1][0];
    }
    s
}

#[backprop]
fn outer_rows(x: &[f64; 2]) -> [[f64; 2]; 2] {
    let mut o = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            o[i][j] = x[i] * x[j].sin();
        }
    }
    o
}

#[backprop]
fn uses_rows_with_returns(x: &[f64; 2], t: f64) -> f64 {
    let r = rows_with_returns(x, t);
    r[0][0] * r[1][1] + r[1][0] * t + r[0][1] + nested_call_in_branch(x, t)
}

#[test]
fn functions_returning_arrays_return_early() {
    let l = La { w: [[0.3, -0.5], [0.8, 0.1]], b: [0.2, -0.1] };
    for t in [0.1, 0.6, 1.6] {
        for x in [[0.5, -0.8], [0.9, 0.6], [-0.3, 0.4]] {
            let (v, g) = uses_returning_arrays_grad(&l, &x, t);
            assert_eq!(v, uses_returning_arrays(&l, &x, t));
            let mut base: Vec<f64> = l.w.iter().flatten().copied().collect();
            base.extend(l.b);
            base.extend(x);
            base.push(t);
            let mut gv: Vec<f64> = g.l.w.iter().flatten().copied().collect();
            gv.extend(g.l.b);
            gv.extend(g.x);
            gv.push(g.t);
            let f = |v: &[f64]| {
                uses_returning_arrays(&La { w: [[v[0], v[1]], [v[2], v[3]]], b: [v[4], v[5]] }, &[v[6], v[7]], v[8])
            };
            for i in 0..9 {
                let (mut a, mut b) = (base.clone(), base.clone());
                a[i] += 1e-6;
                b[i] -= 1e-6;
                let e = (f(&a) - f(&b)) / 2e-6;
                assert!((gv[i] - e).abs() < 1e-6 * (1.0 + e.abs()), "[{i}] t={t} x={x:?}: {} vs {e}", gv[i]);
            }
        }
    }
}

#[test]
fn functions_returning_nested_arrays_return_early() {
    for t in [0.1, 0.6, 1.6] {
        let x = [0.5, -0.8];
        let (v, g) = uses_rows_with_returns_grad(&x, t);
        assert_eq!(v, uses_rows_with_returns(&x, t));
        for i in 0..3 {
            let mut a = [x[0], x[1], t];
            let mut b = a;
            a[i] += 1e-6;
            b[i] -= 1e-6;
            let e = (uses_rows_with_returns(&[a[0], a[1]], a[2]) - uses_rows_with_returns(&[b[0], b[1]], b[2])) / 2e-6;
            let gi = if i < 2 { g.x[i] } else { g.t };
            assert!((gi - e).abs() < 1e-6 * (1.0 + e.abs()), "rows_with_returns[{i}] t={t}: {gi} vs {e}");
        }
    }
}

// An `f32` function returning an array that returns a call's array or its argument (`*x`), and one
// returning an array argument taken by value.

#[backprop]
fn lin32(x: &[f32; 3]) -> [f32; 3] {
    let mut o = [0.0; 3];
    for i in 0..3 {
        o[i] = (x[i] * 0.5 + x[(i + 1) % 3]).tanh();
    }
    o
}

#[backprop]
fn f32_ret(x: &[f32; 3], t: f32) -> [f32; 3] {
    if t > 1.0 {
        return lin32(x);
    }
    let h = lin32(x);
    if t < 0.3 {
        return *x;
    }
    h
}

#[backprop]
fn byval(x: [f64; 2], t: f64) -> [f64; 2] {
    if t > 1.0 {
        return x;
    }
    let mut o = [0.0; 2];
    o[0] = x[0] * t;
    o[1] = x[1].sin();
    o
}

#[backprop]
fn use32(x: &[f32; 3], t: f32) -> f32 {
    let a = f32_ret(x, t);
    a[0] * a[1] + a[2] * t
}

#[backprop]
fn usebv(x: &[f64; 2], t: f64) -> f64 {
    let mut v = [0.0; 2];
    v[0] = x[0];
    v[1] = x[1] * t;
    let a = byval(v, t);
    a[0] * a[1]
}

#[test]
fn functions_returning_arrays_f32_and_arguments_return_early() {
    for t in [0.2f32, 0.6, 1.6] {
        let x = [0.5f32, -0.8, 0.3];
        let (v, g) = use32_grad(&x, t);
        assert_eq!(v, use32(&x, t));
        let e = (use32(&[x[0] + 1e-3, x[1], x[2]], t) - use32(&[x[0] - 1e-3, x[1], x[2]], t)) / 2e-3;
        assert!((g.x[0] - e).abs() < 1e-2, "{} {e}", g.x[0]);
    }
    for t in [0.6, 1.6] {
        let x = [0.5, -0.8];
        let (v, g) = usebv_grad(&x, t);
        assert_eq!(v, usebv(&x, t));
        let e = (usebv(&x, t + 1e-6) - usebv(&x, t - 1e-6)) / 2e-6;
        assert!((g.t - e).abs() < 1e-6, "{} {e}", g.t);
    }
}
