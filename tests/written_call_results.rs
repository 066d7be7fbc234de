//! A call's array bound to a mutable local and then written (issue 18):
//! `let mut h: [f64; N] = f(..);` followed by `h[0] = ..`, `h[i] += ..`, at the top level, in a
//! loop over time steps and in a branch, `let h: [f64; N];` assigned a call in each branch and `let h: [f64; N] = if .. { f(..) } else { g(..) };`. Each is checked against its flat twin (the same function
//! with the callee written inline, whose gradient the macro derives without calls) to 1e-12 and
//! against central differences.
// Objectives written with index loops, as the macro reads them.
// `let h: [f64; 2];` assigned in each branch is one of the forms under test.
#![allow(clippy::needless_range_loop, clippy::manual_memcpy, clippy::needless_late_init)]

use backprop::prelude::*;

#[backprop]
pub fn pair(a: f64, b: f64) -> [f64; 2] {
    let mut out = [0.0; 2];
    out[0] = (a + b).tanh();
    out[1] = a * b;
    out
}

#[backprop]
pub fn cell3(w: &[f64; 4], h: &[f64; 3], t: f64) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = (w[0] * h[i] + w[1] * h[(i + 1) % 3] + w[2] * t + 0.5 * w[3]).tanh();
    }
    out
}

/// Written at the top level: a write, a compound write, then read.
#[backprop]
fn top(a: f64, b: f64) -> f64 {
    let mut h: [f64; 2] = pair(a, b);
    h[0] = h[0] * h[1] + a;
    h[1] += 0.5 * h[0];
    h[0] * h[0] + h[1]
}

#[backprop]
fn top_flat(a: f64, b: f64) -> f64 {
    let mut h = [0.0; 2];
    h[0] = (a + b).tanh();
    h[1] = a * b;
    h[0] = h[0] * h[1] + a;
    h[1] += 0.5 * h[0];
    h[0] * h[0] + h[1]
}

/// The recurrent cell in a loop, its fresh state damped element by element before it is carried.
#[backprop]
fn recurrent(w: &[f64; 4], x: &[f64; 5]) -> f64 {
    let mut h = [0.0; 3];
    h[0] = 0.1;
    h[1] = -0.2;
    h[2] = 0.3;
    let mut loss = 0.0;
    for t in 0..5 {
        let mut g: [f64; 3] = cell3(w, &h, x[t]);
        g[t % 3] *= 0.5;
        for i in 0..3 {
            g[i] += 0.1 * h[i];
        }
        for i in 0..3 {
            h[i] = g[i];
        }
        loss += h[0] * h[1] - h[2];
    }
    loss
}

#[backprop]
fn recurrent_flat(w: &[f64; 4], x: &[f64; 5]) -> f64 {
    let mut h = [0.0; 3];
    h[0] = 0.1;
    h[1] = -0.2;
    h[2] = 0.3;
    let mut loss = 0.0;
    for t in 0..5 {
        let mut g = [0.0; 3];
        for i in 0..3 {
            g[i] = (w[0] * h[i] + w[1] * h[(i + 1) % 3] + w[2] * x[t] + 0.5 * w[3]).tanh();
        }
        g[t % 3] *= 0.5;
        for i in 0..3 {
            g[i] += 0.1 * h[i];
        }
        for i in 0..3 {
            h[i] = g[i];
        }
        loss += h[0] * h[1] - h[2];
    }
    loss
}

/// A state initialised by a call, then reassigned by the recurrent cell in a loop.
#[backprop]
fn reassigned(w: &[f64; 4], x: &[f64; 5], a: f64) -> f64 {
    let mut h: [f64; 3] = pair3(a);
    for t in 0..5 {
        h = cell3(w, &h, x[t]);
    }
    h[0] - h[1] * h[2]
}

#[backprop]
pub fn pair3(a: f64) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = (a * (i as f64 + 1.0)).sin();
    }
    out
}

#[backprop]
fn reassigned_flat(w: &[f64; 4], x: &[f64; 5], a: f64) -> f64 {
    let mut h = [0.0; 3];
    for i in 0..3 {
        h[i] = (a * (i as f64 + 1.0)).sin();
    }
    for t in 0..5 {
        let mut g = [0.0; 3];
        for i in 0..3 {
            g[i] = (w[0] * h[i] + w[1] * h[(i + 1) % 3] + w[2] * x[t] + 0.5 * w[3]).tanh();
        }
        for i in 0..3 {
            h[i] = g[i];
        }
    }
    h[0] - h[1] * h[2]
}

/// The same without the annotation, at the top level: the copy is shaped like `pair`'s array.
#[backprop]
fn top_unannotated(a: f64, b: f64) -> f64 {
    let mut h = pair(a, b);
    h[0] = h[0] * h[1] + a;
    h[1] += 0.5 * h[0];
    h[0] * h[0] + h[1]
}

/// A state initialised by a call without annotation, reassigned by the cell in a loop; public,
/// so that callers call it through its vjp and its pullback.
#[backprop]
pub fn reassigned_unannotated(w: &[f64; 4], x: &[f64; 5], a: f64) -> f64 {
    let mut h = pair3(a);
    for t in 0..5 {
        h = cell3(w, &h, x[t]);
    }
    h[0] - h[1] * h[2]
}

/// An array-returning function whose result is the written copy.
#[backprop]
pub fn bumped(a: f64) -> [f64; 3] {
    let mut out = pair3(a);
    out[0] += a * out[1];
    out
}

/// The two above called at the top level (through their vjps) and in a loop (their pullbacks).
#[backprop]
fn callers(w: &[f64; 4], x: &[f64; 5], a: f64) -> f64 {
    let top = reassigned_unannotated(w, x, a);
    let b = bumped(a);
    let mut s = top * b[0] + b[2] + 0.5 * recurrent_unannotated(w, x);
    for k in 0..2 {
        let c = bumped(a * (k as f64 + 0.5));
        s += reassigned_unannotated(w, x, c[1]) * c[0] + recurrent_unannotated(w, x) * c[2];
    }
    s
}

/// The recurrent loop with an unannotated copy per time step, its length read with `.len()`.
#[backprop]
pub fn recurrent_unannotated(w: &[f64; 4], x: &[f64; 5]) -> f64 {
    let mut h = [0.0; 3];
    h[0] = 0.1;
    h[1] = -0.2;
    h[2] = 0.3;
    let mut loss = 0.0;
    for t in 0..5 {
        let mut g = cell3(w, &h, x[t]);
        g[t % 3] *= 0.5;
        for i in 0..g.len() {
            g[i] += 0.1 * h[i];
        }
        for i in 0..3 {
            h[i] = g[i];
        }
        loss += h[0] * h[1] - h[2];
    }
    loss
}

/// Written in one branch only, without annotation.
#[backprop]
fn branch_unannotated(a: f64, b: f64, flag: bool) -> f64 {
    let mut s = a;
    if flag {
        let mut h = pair(a, b);
        h[1] = h[1].sin() * h[0];
        s += h[0] + h[1];
    } else {
        s *= b;
    }
    s
}

/// Written in one branch only.
#[backprop]
fn branch(a: f64, b: f64, flag: bool) -> f64 {
    let mut s = a;
    if flag {
        let mut h: [f64; 2] = pair(a, b);
        h[1] = h[1].sin() * h[0];
        s += h[0] + h[1];
    } else {
        s *= b;
    }
    s
}

#[backprop]
fn branch_flat(a: f64, b: f64, flag: bool) -> f64 {
    let mut s = a;
    if flag {
        let mut h = [0.0; 2];
        h[0] = (a + b).tanh();
        h[1] = a * b;
        h[1] = h[1].sin() * h[0];
        s += h[0] + h[1];
    } else {
        s *= b;
    }
    s
}

/// Declared, then assigned a different call's array in each branch (`let h: [f64; 2];`), inside a loop
/// that carries a state through it.
#[backprop]
fn chosen(a: f64, b: f64, flag: bool) -> f64 {
    let mut s = 0.25;
    for k in 0..3 {
        let h: [f64; 2];
        if flag || k == 1 {
            h = pair(a * s, b);
        } else {
            h = pair(b, a + s);
        }
        s += h[0] * h[1];
        // The same choice as a value, with the array's type.
        let e: [f64; 2] = if k == 2 {
            pair(s, a)
        } else if flag {
            pair(b, s)
        } else {
            pair(s * s, b)
        };
        s += 0.5 * e[1] - e[0];
    }
    s
}

#[backprop]
fn chosen_flat(a: f64, b: f64, flag: bool) -> f64 {
    let mut s = 0.25;
    for k in 0..3 {
        let mut h = [0.0; 2];
        if flag || k == 1 {
            h[0] = (a * s + b).tanh();
            h[1] = a * s * b;
        } else {
            h[0] = (b + a + s).tanh();
            h[1] = b * (a + s);
        }
        s += h[0] * h[1];
        let mut e = [0.0; 2];
        if k == 2 {
            e[0] = (s + a).tanh();
            e[1] = s * a;
        } else if flag {
            e[0] = (b + s).tanh();
            e[1] = b * s;
        } else {
            e[0] = (s * s + b).tanh();
            e[1] = s * s * b;
        }
        s += 0.5 * e[1] - e[0];
    }
    s
}

fn fd(f: impl Fn(&[f64]) -> f64, p: &[f64]) -> Vec<f64> {
    (0..p.len())
        .map(|i| {
            let h = 1e-6 * (1.0 + p[i].abs());
            let (mut a, mut b) = (p.to_vec(), p.to_vec());
            a[i] += h;
            b[i] -= h;
            (f(&a) - f(&b)) / (2.0 * h)
        })
        .collect()
}

fn close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{what}[{i}]: {g} vs {w}");
    }
}

#[test]
fn a_returned_array_written_at_the_top_level() {
    for &(a, b) in &[(0.3, -0.7), (1.1, 0.4), (-0.5, 2.0)] {
        let (v, g) = top_grad(a, b);
        let (vf, gf) = top_flat_grad(a, b);
        assert!((v - vf).abs() <= 1e-12, "value {v} vs {vf}");
        close("top vs flat", &[g.a, g.b], &[gf.a, gf.b], 1e-12);
        close("top vs fd", &[g.a, g.b], &fd(|p| top(p[0], p[1]), &[a, b]), 1e-6);
    }
}

#[test]
fn a_returned_array_written_in_a_loop_over_time_steps() {
    let w = [0.7, -0.4, 0.9, 0.2];
    let x = [0.5, -1.0, 0.25, 0.8, -0.3];
    let (v, g) = recurrent_grad(&w, &x);
    let (vf, gf) = recurrent_flat_grad(&w, &x);
    assert!((v - vf).abs() <= 1e-12, "value {v} vs {vf}");
    close("recurrent w vs flat", &g.w, &gf.w, 1e-12);
    close("recurrent x vs flat", &g.x, &gf.x, 1e-12);
    let mut p = w.to_vec();
    p.extend_from_slice(&x);
    let f = |p: &[f64]| recurrent(&p[..4].try_into().unwrap(), &p[4..].try_into().unwrap());
    let want = fd(f, &p);
    close("recurrent w vs fd", &g.w, &want[..4], 1e-6);
    close("recurrent x vs fd", &g.x, &want[4..], 1e-6);
}

#[test]
fn a_returned_array_written_in_a_branch() {
    for flag in [true, false] {
        let (a, b) = (0.4, -1.3);
        let (v, g) = branch_grad(a, b, flag);
        let (vf, gf) = branch_flat_grad(a, b, flag);
        assert!((v - vf).abs() <= 1e-12, "value {v} vs {vf}");
        close("branch vs flat", &[g.a, g.b], &[gf.a, gf.b], 1e-12);
        close("branch vs fd", &[g.a, g.b], &fd(|p| branch(p[0], p[1], flag), &[a, b]), 1e-6);
    }
}

#[test]
fn a_state_initialised_by_a_call_then_reassigned_in_a_loop() {
    let w = [0.6, -0.3, 0.8, 0.1];
    let x = [0.5, -1.0, 0.25, 0.8, -0.3];
    let a = 0.7;
    let (v, g) = reassigned_grad(&w, &x, a);
    let (vf, gf) = reassigned_flat_grad(&w, &x, a);
    assert!((v - vf).abs() <= 1e-12, "value {v} vs {vf}");
    close("reassigned w vs flat", &g.w, &gf.w, 1e-12);
    close("reassigned x vs flat", &g.x, &gf.x, 1e-12);
    close("reassigned a vs flat", &[g.a], &[gf.a], 1e-12);
    let mut p = w.to_vec();
    p.extend_from_slice(&x);
    p.push(a);
    let f = |p: &[f64]| reassigned(&p[..4].try_into().unwrap(), &p[4..9].try_into().unwrap(), p[9]);
    let want = fd(f, &p);
    close("reassigned vs fd", &[&g.w[..], &g.x[..], &[g.a]].concat(), &want, 1e-6);
}

#[test]
fn a_returned_array_bound_without_annotation_is_copied_and_written() {
    for &(a, b) in &[(0.3, -0.7), (1.1, 0.4)] {
        let (v, g) = top_unannotated_grad(a, b);
        let (vf, gf) = top_flat_grad(a, b);
        assert!((v - vf).abs() <= 1e-12, "value {v} vs {vf}");
        close("unannotated vs flat", &[g.a, g.b], &[gf.a, gf.b], 1e-12);
    }
    let w = [0.6, -0.3, 0.8, 0.1];
    let x = [0.5, -1.0, 0.25, 0.8, -0.3];
    let (v, g) = reassigned_unannotated_grad(&w, &x, 0.7);
    let (vf, gf) = reassigned_flat_grad(&w, &x, 0.7);
    assert!((v - vf).abs() <= 1e-12, "value {v} vs {vf}");
    close("unannotated state w", &g.w, &gf.w, 1e-12);
    close("unannotated state x", &g.x, &gf.x, 1e-12);
    close("unannotated state a", &[g.a], &[gf.a], 1e-12);
}

#[test]
fn written_copies_through_vjps_and_pullbacks_match_finite_differences() {
    let w = [0.6, -0.3, 0.8, 0.1];
    let x = [0.5, -1.0, 0.25, 0.8, -0.3];
    let a = 0.45;
    let (v, g) = callers_grad(&w, &x, a);
    assert_eq!(v, callers(&w, &x, a));
    let mut p = w.to_vec();
    p.extend_from_slice(&x);
    p.push(a);
    let f = |p: &[f64]| callers(&p[..4].try_into().unwrap(), &p[4..9].try_into().unwrap(), p[9]);
    close("callers vs fd", &[&g.w[..], &g.x[..], &[g.a]].concat(), &fd(f, &p), 1e-6);
    // The pullback of the array-returning function: seed · jacobian against differences.
    let seed = [0.3, -1.2, 0.7];
    let r = bumped(a);
    let (da,) = bumped_pullback(a, &r, &seed);
    let dot = |a: f64| bumped(a).iter().zip(&seed).map(|(y, s)| y * s).sum::<f64>();
    close("bumped pullback vs fd", &[da], &fd(|p| dot(p[0]), &[a]), 1e-6);
}

#[test]
fn unannotated_copies_in_loops_and_branches_match_their_flat_twins() {
    let w = [0.7, -0.4, 0.9, 0.2];
    let x = [0.5, -1.0, 0.25, 0.8, -0.3];
    let (v, g) = recurrent_unannotated_grad(&w, &x);
    let (vf, gf) = recurrent_flat_grad(&w, &x);
    assert!((v - vf).abs() <= 1e-12, "value {v} vs {vf}");
    close("unannotated loop w", &g.w, &gf.w, 1e-12);
    close("unannotated loop x", &g.x, &gf.x, 1e-12);
    for flag in [true, false] {
        let (v, g) = branch_unannotated_grad(0.4, -1.3, flag);
        let (vf, gf) = branch_flat_grad(0.4, -1.3, flag);
        assert!((v - vf).abs() <= 1e-12, "value {v} vs {vf}");
        close("unannotated branch", &[g.a, g.b], &[gf.a, gf.b], 1e-12);
    }
}

#[test]
fn an_if_chooses_between_calls_arrays() {
    for flag in [true, false] {
        let (v, g) = chosen_grad(0.4, -1.3, flag);
        let (vf, gf) = chosen_flat_grad(0.4, -1.3, flag);
        assert!((v - vf).abs() <= 1e-12, "value {v} vs {vf}");
        close("declared then assigned", &[g.a, g.b], &[gf.a, gf.b], 1e-12);
        close("declared then assigned vs fd", &[g.a, g.b], &fd(|p| chosen(p[0], p[1], flag), &[0.4, -1.3]), 1e-6);
    }
}
