//! Constructs inside constructs (issue 15): exits inside `match` arms, float methods on struct
//! fields, integer tables passed to calls, aliased call arguments, calls after an early `return`,
//! scratch buffers sized by a field or generic, integer counters in `while`. Each gradient is checked
//! against central finite differences (or exact values where the function is linear).
// The reproductions are kept exactly as reported (match for an equality, borrows, `a = a + b`): they are the shapes under test.
#![allow(
    clippy::ptr_arg,
    clippy::single_match,
    clippy::needless_borrow,
    clippy::assign_op_pattern,
    clippy::needless_range_loop,
    clippy::manual_memcpy
)]

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

// 2. Float methods on struct fields (were taken for calls of differentiable methods).

#[derive(Params, Clone, Debug, PartialEq)]
pub struct P {
    pub a: f64,
    pub b: f64,
    pub w: Vec<f64>,
    pub q: Q,
}

#[derive(Params, Clone, Debug, PartialEq)]
pub struct Q {
    pub c: f64,
    pub v: [f64; 2],
}

impl P {
    fn flat(&self) -> [f64; 7] {
        [self.a, self.b, self.w[0], self.w[1], self.q.c, self.q.v[0], self.q.v[1]]
    }
    fn from_flat(x: &[f64; 7]) -> P {
        P { a: x[0], b: x[1], w: vec![x[2], x[3]], q: Q { c: x[4], v: [x[5], x[6]] } }
    }
}

fn p0() -> P {
    P { a: 0.3, b: -0.7, w: vec![0.4, 1.2], q: Q { c: 0.9, v: [-0.25, 0.6] } }
}

fn check_p(what: &str, f: impl Fn(&P) -> f64, grad: impl Fn(&P) -> (f64, P)) {
    let p = p0();
    let (v, g) = grad(&p);
    assert_eq!(v, f(&p), "{what}: value");
    let expected = fd(&p.flat(), |x| f(&P::from_flat(x)));
    assert_close(what, &g.flat(), &expected);
}

#[backprop]
fn field_methods(p: &P) -> f64 {
    p.a.exp() + p.b.tanh() * p.q.c.sin() + p.a.atan() + p.b.powi(3) + p.q.c.abs() + p.a.min(p.b) + (p.q.c).max(p.a)
}

#[backprop]
fn field_methods_mixed(p: &P) -> f64 {
    let mut s = p.q.c.exp2();
    for i in 0..2 {
        s += p.w[i].sin() * p.q.v[i].cos() + p.a.mul_add(p.w[i], p.b.sqrt().abs());
    }
    s + p.a.hypot(p.b) + p.q.c.clamp(-0.5, 0.5) + p.b.powf(2.0)
}

// The reproduction as written, and its two spellings that compiled.
#[backprop]
fn field_exp(p: &P) -> f64 {
    p.a.exp()
}

#[backprop]
fn indexed_field_exp(p: &P) -> f64 {
    p.w[0].exp()
}

#[backprop]
fn bound_field_exp(p: &P) -> f64 {
    let a = p.a;
    a.exp()
}

#[test]
fn float_methods_on_fields() {
    let p = p0();
    let (v, g) = field_exp_grad(&p);
    assert_eq!((v, g.p.a, g.p.b, g.p.w[0]), (p.a.exp(), p.a.exp(), 0.0, 0.0));
    let (v, g) = indexed_field_exp_grad(&p);
    assert_eq!((v, g.p.w[0], g.p.a), (p.w[0].exp(), p.w[0].exp(), 0.0));
    let (v, g) = bound_field_exp_grad(&p);
    assert_eq!((v, g.p.a), (p.a.exp(), p.a.exp()));
    check_p("field_methods", field_methods, |p| {
        let (v, g) = field_methods_grad(p);
        (v, g.p)
    });
    let p = P { b: 0.7, ..p0() };
    let (v, g) = field_methods_mixed_grad(&p);
    assert_eq!(v, field_methods_mixed(&p));
    assert_close("field_methods_mixed", &g.p.flat(), &fd(&p.flat(), |x| field_methods_mixed(&P::from_flat(x))));
}

// 3. Integer tables passed to a `#[backprop]` callee (passive: no sink, no adjoint).

#[backprop]
fn gather(x: &[f64], idx: &[usize]) -> f64 {
    let mut s = 0.0;
    for k in 0..idx.len() {
        s += x[idx[k]] * x[idx[k]];
    }
    s
}

#[backprop]
fn passes_table(x: &[f64], idx: &[usize]) -> f64 {
    gather(x, idx) + 0.5 * gather(&x, &idx) * x[0]
}

#[backprop]
fn pair_term(x: &[f64; 3], pair: &[usize; 2], w: f64) -> f64 {
    (x[pair[0]] - x[pair[1]]).powi(2) * w
}

#[backprop]
fn pairs_in_loop(x: &[f64; 3], pairs: &[[usize; 2]], w: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..pairs.len() {
        if w[k] > 0.0 {
            s += pair_term(x, &pairs[k], w[k]);
        } else {
            s -= gather(w, &pairs[k]) * x[0];
        }
    }
    s + pair_term(x, &pairs[0], 1.0)
}

#[test]
fn integer_tables_through_calls() {
    let pairs = [[0usize, 1], [2, 0], [1, 2]];
    let x = [0.5, -1.5, 2.0];
    let w = [0.3, -0.6, 1.1];
    let (v, g) = pairs_in_loop_grad(&x, &pairs, &w);
    assert_eq!(v, pairs_in_loop(&x, &pairs, &w));
    assert_close("pairs_in_loop x", &g.x, &fd(&x, |x| pairs_in_loop(x, &pairs, &w)));
    assert_close("pairs_in_loop w", &g.w, &fd(&w, |w| pairs_in_loop(&x, &pairs, w)));

    let x = [0.5, -1.5, 2.0];
    let idx = [2usize, 0, 2, 1];
    let (v, g) = passes_table_grad(&x, &idx);
    assert_eq!(v, passes_table(&x, &idx));
    assert_close("passes_table", &g.x, &fd(&x, |x| passes_table(x, &idx)));
}

// 8. Integer and bool variables carried by loops: counters, strides, found-flags.

#[backprop]
fn newton_sqrt_counted(a: f64) -> f64 {
    let mut x = a;
    let mut k = 0;
    while (x * x - a).abs() > 1e-12 && k < 50 {
        x = 0.5 * (x + a / x);
        k += 1;
    }
    x + 0.001 * (k as f64) * a
}

#[backprop]
fn counter_as_index(x: &[f64; 6]) -> f64 {
    let mut s = 0.0;
    let mut k = 0usize;
    let mut seen = false;
    while k < 6 {
        s += x[k] * x[k] * (k as f64 + 1.0);
        if x[k] < 0.0 && !seen {
            seen = true;
            s *= x[k].exp();
        }
        k += 2;
    }
    let mut j = 5;
    for i in 0..3 {
        s += x[j] * x[i];
        j -= 1;
    }
    if seen {
        s * 2.0
    } else {
        s
    }
}

#[backprop]
fn counted_passes(x: &[f64; 3]) -> f64 {
    let mut s = 1.0;
    let mut passes = 0;
    let mut i = 0;
    loop {
        s = s * 0.9 + x[i].sin();
        i = (i + 1) % 3;
        passes += 1;
        if passes >= 7 {
            break;
        }
    }
    s
}

#[backprop]
fn counter_writes(x: &[f64; 4]) -> f64 {
    let mut h = [0.0; 10];
    let mut n = 0;
    for i in 0..4 {
        for j in 0..i {
            h[n] = (x[i] - x[j]).tanh();
            n += 1;
        }
        if x[i] > 0.0 {
            h[n] = h[n] + x[i] * x[i];
            n += 1;
        }
    }
    let mut s = 0.0;
    let mut t = n;
    while t > 0 {
        t -= 1;
        s = s * 0.5 + h[t] * h[t];
    }
    s
}

#[backprop]
fn flag_driven_while(x: f64) -> f64 {
    let mut go = true;
    let mut y = x;
    let mut steps = 0;
    while go {
        y = y.sin() + 0.5 * x;
        steps += 1;
        if steps == 4 || y > 10.0 {
            go = false;
        }
    }
    y * (steps as f64)
}

#[test]
fn integer_counters_in_loops() {
    for x in [0.3, -1.2, 2.5] {
        let (v, g) = flag_driven_while_grad(x);
        assert_eq!(v, flag_driven_while(x));
        let e = fd(&[x], |x| flag_driven_while(x[0]));
        assert_close("flag_driven_while", &[g.x], &e);
    }
    for x in [[0.5, -1.5, 2.0, 0.7], [-0.3, 0.2, -0.1, 0.4]] {
        let (v, g) = counter_writes_grad(&x);
        assert_eq!(v, counter_writes(&x));
        assert_close("counter_writes", &g.x, &fd(&x, counter_writes));
    }
    for a in [0.5, 2.0, 9.0] {
        let (v, g) = newton_sqrt_counted_grad(a);
        assert_eq!(v, newton_sqrt_counted(a));
        let h = 1e-6 * a;
        let e = (newton_sqrt_counted(a + h) - newton_sqrt_counted(a - h)) / (2.0 * h);
        assert!((g.a - e).abs() < 1e-5 * (1.0 + e.abs()), "newton_sqrt_counted'({a}) = {}, fd {e}", g.a);
    }
    for x in [[0.5, -1.5, 2.0, 0.7, -0.2, 1.1], [0.3, 0.2, 0.1, 0.4, 0.8, -0.9]] {
        let (v, g) = counter_as_index_grad(&x);
        assert_eq!(v, counter_as_index(&x));
        assert_close("counter_as_index", &g.x, &fd(&x, counter_as_index));
    }
    let x = [0.5, -1.5, 2.0];
    let (v, g) = counted_passes_grad(&x);
    assert_eq!(v, counted_passes(&x));
    assert_close("counted_passes", &g.x, &fd(&x, counted_passes));
}

// 6, 7. Scratch buffers sized by a field's length, filled with a generic zero.

#[backprop]
fn field_sized_scratch(p: &P, x: &[f64]) -> f64 {
    let mut h = vec![0.0; p.w.len()];
    let mut g = vec![0.0; p.q.v.len() + x.len() - 1];
    for i in 0..h.len() {
        h[i] = (p.w[i] * x[i] + p.a).tanh();
        g[i] = h[i] * p.q.v[i];
    }
    let mut s = 0.0;
    for i in 0..g.len() {
        s += g[i] + h[i % 2] * x[i % x.len()];
    }
    s
}

#[backprop]
fn generic_scratch<T: Float>(x: &[T], w: &[T]) -> T {
    let mut h = vec![T::zero(); x.len()];
    let mut acc = vec![T::one(); w.len()];
    for i in 0..x.len() {
        h[i] = x[i] * w[i] + T::of_f64(0.5);
        acc[i] = acc[i] * h[i];
    }
    let mut s = T::zero();
    for i in 0..h.len() {
        s = s + h[i].sin() * acc[i];
    }
    s
}

#[test]
fn scratch_buffers_sized_by_fields_and_generic() {
    let p = p0();
    let x = [0.5, -1.5];
    let (v, g) = field_sized_scratch_grad(&p, &x);
    assert_eq!(v, field_sized_scratch(&p, &x));
    assert_close("field_sized_scratch p", &g.p.flat(), &fd(&p.flat(), |f| field_sized_scratch(&P::from_flat(f), &x)));
    assert_close("field_sized_scratch x", &g.x, &fd(&x, |x| field_sized_scratch(&p, x)));
    let w = [0.3, 0.9];
    let (v, g) = generic_scratch_grad(&x[..], &w[..]);
    assert_eq!(v, generic_scratch(&x[..], &w[..]));
    assert_close("generic_scratch x", &g.x, &fd(&x, |x| generic_scratch(&x[..], &w[..])));
    assert_close("generic_scratch w", &g.w, &fd(&w, |w| generic_scratch(&x[..], &w[..])));
    let (xf, wf) = ([0.5f32, -1.5], [0.3f32, 0.9]);
    let (v, g) = generic_scratch_grad(&xf[..], &wf[..]);
    assert_eq!(v, generic_scratch(&xf[..], &wf[..]));
    let g64: Vec<f64> = g.x.iter().map(|&v| v as f64).collect();
    let e = fd(&x, |x| generic_scratch(&x[..], &w[..]));
    for (a, b) in g64.iter().zip(&e) {
        assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "generic_scratch f32: {a} vs {b}");
    }
}

// 4. Two arguments of one call that share an adjoint (a struct and its own field, a field twice).

#[backprop]
fn qdot(q: &Q, v: &[f64; 2]) -> f64 {
    q.c * (q.v[0] * v[0] + q.v[1] * v[1])
}

#[backprop]
fn dot2(a: &[f64], b: &[f64]) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

#[backprop]
fn dotf(a: &[f64; 2], b: &[f64; 2]) -> f64 {
    a[0] * b[1] - a[1] * b[0] + a[0] * b[0]
}

#[backprop]
fn hs(p: &P, v: &[f64]) -> f64 {
    p.a * v[0] + p.q.v[1] * v[1] * p.b
}

#[backprop]
fn aliased_arguments(p: &P, x: &[f64; 2]) -> f64 {
    let mut s = qdot(&p.q, &p.q.v) + dot2(&p.w, &p.w) + dotf(&p.q.v, &p.q.v) + dotf(x, x);
    for j in 0..2 {
        s += hs(p, &p.q.v) * p.q.v[j] + qdot(&p.q, &p.q.v) * x[j] + dot2(&p.w, &p.w) * p.w[j];
    }
    s
}

#[test]
fn aliased_call_arguments() {
    let p = p0();
    let x = [0.5, -1.5];
    let (v, g) = aliased_arguments_grad(&p, &x);
    assert_eq!(v, aliased_arguments(&p, &x));
    assert_close("aliased_arguments p", &g.p.flat(), &fd(&p.flat(), |f| aliased_arguments(&P::from_flat(f), &x)));
    assert_close("aliased_arguments x", &g.x, &fd(&x, |x| aliased_arguments(&p, x)));
}

// 5. Calls after an early `return` (the rest of the body runs under the macro's `!returned` flag,
//    which was refused as "inside a loop or a branch" for array-returning calls and local arrays).

#[backprop]
fn lin3(x: &[f64; 3]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = (x[i] * 0.7 + x[(i + 1) % 3]).tanh();
    }
    out
}

#[backprop]
fn sq3(h: &[f64; 3], x: &[f64; 3]) -> f64 {
    h[0] * x[0] + h[1] * h[1] * x[1] + (h[2] * x[2]).sin()
}

#[backprop]
fn sum_sq(v: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..v.len() {
        s += v[i] * v[i];
    }
    s
}

#[backprop]
fn scalar_call_after_return(x: &[f64; 3], t: f64) -> f64 {
    if t > 1.0 {
        return t;
    }
    sq3(x, x) * t + sum_sq(x)
}

#[backprop]
fn array_call_after_return(x: &[f64; 3], t: f64) -> f64 {
    if t > 1.0 {
        return t;
    }
    let h = lin3(x);
    h[0] * h[1] + h[2] * t
}

#[backprop]
fn local_array_to_call_after_return(x: &[f64; 3], t: f64) -> f64 {
    if t > 1.0 {
        return t;
    }
    let mut h = [0.0; 3];
    for i in 0..3 {
        h[i] = x[i] * t + 0.5;
    }
    sq3(&h, x) + sum_sq(&h)
}

#[backprop]
fn chained_calls_after_return(x: &[f64; 3], t: f64) -> f64 {
    let mut s = x[0] * t;
    if t > 1.0 {
        return s * s;
    }
    let h = lin3(x);
    let g = lin3(&h);
    let mut buf = [0.0; 3];
    for i in 0..3 {
        buf[i] = g[i] * h[(i + 2) % 3];
    }
    s += sq3(&buf, &g) + sq3(&h, x);
    s
}

#[backprop]
fn calls_after_return_in_loop(x: &[f64; 3], t: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        if t > 1.0 && i == 1 {
            return s + x[i] * t;
        }
        let h = lin3(x);
        let mut buf = [0.0; 3];
        buf[i] = h[i] * t;
        s += sq3(&buf, &h) + sum_sq(&h) * 0.1;
    }
    let h = lin3(x);
    s + h[0] + sq3(&h, x)
}

#[backprop]
fn several_returns_then_calls(x: &[f64; 3], t: f64) -> f64 {
    if t > 2.0 {
        return t * x[0];
    }
    let h = lin3(x);
    if h[0] > 0.99 {
        return sq3(&h, x);
    }
    let mut buf = [0.0; 3];
    for i in 0..3 {
        buf[i] = h[i] * x[i];
    }
    if t > 1.0 {
        return sum_sq(&buf) * t;
    }
    let g = lin3(&buf);
    sq3(&g, &h) + t
}

#[backprop]
fn return_in_match_arm_then_calls(x: &[f64; 3], t: f64, k: usize) -> f64 {
    let mut s = t;
    match k {
        0 => {
            if t > 1.0 {
                return s * x[0];
            }
        }
        1 => return sq3(x, x),
        _ => s += x[1],
    }
    let h = lin3(x);
    let mut buf = [0.0; 3];
    for i in 0..3 {
        buf[i] = h[i] + s;
    }
    s + sq3(&buf, x) + sum_sq(&h)
}

#[test]
fn calls_after_an_early_return() {
    type F = fn(&[f64; 3], f64) -> f64;
    type G = fn(&[f64; 3], f64) -> (f64, [f64; 3], f64);
    let cases: [(&str, F, G); 6] = [
        ("scalar_call_after_return", scalar_call_after_return, |x, t| {
            let (v, g) = scalar_call_after_return_grad(x, t);
            (v, g.x, g.t)
        }),
        ("array_call_after_return", array_call_after_return, |x, t| {
            let (v, g) = array_call_after_return_grad(x, t);
            (v, g.x, g.t)
        }),
        ("local_array_to_call_after_return", local_array_to_call_after_return, |x, t| {
            let (v, g) = local_array_to_call_after_return_grad(x, t);
            (v, g.x, g.t)
        }),
        ("chained_calls_after_return", chained_calls_after_return, |x, t| {
            let (v, g) = chained_calls_after_return_grad(x, t);
            (v, g.x, g.t)
        }),
        ("calls_after_return_in_loop", calls_after_return_in_loop, |x, t| {
            let (v, g) = calls_after_return_in_loop_grad(x, t);
            (v, g.x, g.t)
        }),
        ("several_returns_then_calls", several_returns_then_calls, |x, t| {
            let (v, g) = several_returns_then_calls_grad(x, t);
            (v, g.x, g.t)
        }),
    ];
    for (name, f, g) in cases {
        for t in [0.4, 1.6, 2.5] {
            for x in [[0.5, -1.5, 0.2], [0.3, 0.8, -0.4]] {
                let (v, gx, gt) = g(&x, t);
                assert_eq!(v.to_bits(), f(&x, t).to_bits(), "{name} value at t = {t}");
                let all = [x[0], x[1], x[2], t];
                let e = fd(&all, |a| f(&[a[0], a[1], a[2]], a[3]));
                assert_close(&format!("{name} at t = {t}"), &[gx[0], gx[1], gx[2], gt], &e);
            }
        }
    }
    for k in 0..3 {
        for t in [0.4, 1.6] {
            let x = [0.5, -1.5, 0.2];
            let (v, g) = return_in_match_arm_then_calls_grad(&x, t, k);
            assert_eq!(v.to_bits(), return_in_match_arm_then_calls(&x, t, k).to_bits());
            let all = [x[0], x[1], x[2], t];
            let e = fd(&all, |a| return_in_match_arm_then_calls(&[a[0], a[1], a[2]], a[3], k));
            assert_close(&format!("return_in_match_arm k = {k} t = {t}"), &[g.x[0], g.x[1], g.x[2], g.t], &e);
        }
    }
}
