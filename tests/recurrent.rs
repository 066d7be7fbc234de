//! Composition without exceptions (issue 18): the three shapes that were rejected before, each
//! against a flat twin (the same function with the callee written inline) to 1e-12 and against
//! central differences: a call as the argument of a call, an array-returning call in a branch on
//! an array computed before it, and the recurrent cell fed its own previous result in a loop.
// Objectives written with index loops and element copies, as the macro reads them.
#![allow(clippy::needless_range_loop, clippy::manual_memcpy)]

use backprop::prelude::*;
use backprop::runtime::params::{copy_from_slice, to_vec};

/// Central differences of `f` over every scalar of `p`.
fn fd<P: Params<Scalar = f64> + Clone>(p: &P, f: impl Fn(&P) -> f64) -> Vec<f64> {
    let base = to_vec(p);
    (0..base.len())
        .map(|i| {
            let h = 1e-6 * (1.0 + base[i].abs());
            let at = |delta: f64| {
                let mut v = base.clone();
                v[i] += delta;
                let mut q = p.clone();
                copy_from_slice(&mut q, &v).unwrap();
                f(&q)
            };
            (at(h) - at(-h)) / (2.0 * h)
        })
        .collect()
}

fn close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{what}[{i}]: {g} vs {w}");
    }
}

const H: usize = 3;
const X: usize = 2;

#[derive(Params, Clone, Debug, PartialEq)]
pub struct Tanh<const I: usize, const O: usize> {
    pub w: [[f64; I]; O],
    pub b: [f64; O],
}

#[backprop]
pub fn tanh_layer<const I: usize, const O: usize>(l: &Tanh<I, O>, x: &[f64; I]) -> [f64; O] {
    let mut out = [0.0; O];
    for j in 0..O {
        let mut z = l.b[j];
        for i in 0..I {
            z += l.w[j][i] * x[i];
        }
        out[j] = z.tanh();
    }
    out
}

#[backprop]
pub fn head_value<const I: usize>(l: &Tanh<I, 1>, h: &[f64; I]) -> f64 {
    let mut z = l.b[0];
    for i in 0..I {
        z += l.w[0][i] * h[i];
    }
    z
}

fn tanh_of<const I: usize>(w: &[[f64; I]], b: &[f64], x: &[f64]) -> Vec<f64> {
    w.iter().zip(b).map(|(row, b)| (b + row.iter().zip(x).map(|(w, x)| w * x).sum::<f64>()).tanh()).collect()
}

// ---- a call as the argument of a call ----------------------------------------------------------

#[derive(Params, Clone, Debug, PartialEq)]
pub struct Two {
    pub l1: Tanh<X, H>,
    pub l2: Tanh<H, H>,
}

fn two() -> Two {
    Two {
        l1: Tanh { w: [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.25]], b: [0.05, -0.1, 0.2] },
        l2: Tanh { w: [[0.2, -0.3, 0.4], [0.6, 0.1, -0.2], [-0.4, 0.5, 0.3]], b: [0.1, 0.0, -0.05] },
    }
}

#[backprop(wrt(net))]
pub fn nested(net: &Two, x: &[f64; X]) -> f64 {
    let a = tanh_layer(&net.l2, &tanh_layer(&net.l1, x));
    a[0] * a[0] + a[1] - 0.5 * a[2]
}

#[backprop(wrt(net))]
pub fn nested_flat(net: &Two, x: &[f64; X]) -> f64 {
    let mut h = [0.0; H];
    for j in 0..H {
        let mut z = net.l1.b[j];
        for i in 0..X {
            z += net.l1.w[j][i] * x[i];
        }
        h[j] = z.tanh();
    }
    let mut a = [0.0; H];
    for j in 0..H {
        let mut z = net.l2.b[j];
        for i in 0..H {
            z += net.l2.w[j][i] * h[i];
        }
        a[j] = z.tanh();
    }
    a[0] * a[0] + a[1] - 0.5 * a[2]
}

/// Nested in a loop too: the inner call's array is taped per iteration.
#[backprop(wrt(net))]
pub fn nested_in_loop(net: &Two, xs: &[[f64; X]; 3]) -> f64 {
    let mut s = 0.0;
    for t in 0..3 {
        let a = tanh_layer(&net.l2, &tanh_layer(&net.l1, &xs[t]));
        s += a[0] * a[1] - a[2];
    }
    s
}

const XS: [[f64; X]; 3] = [[0.5, -1.0], [1.5, 0.25], [-0.75, 1.0]];

#[test]
fn a_call_as_the_argument_of_a_call() {
    let net = two();
    let x = [0.7, -0.3];
    let (c, g) = nested_grad(&net, &x);
    let (cf, gf) = nested_flat_grad(&net, &x);
    assert!((c - cf).abs() < 1e-12);
    close("nested vs flat", &to_vec(&g.net), &to_vec(&gf.net), 1e-12);
    close("nested vs fd", &to_vec(&g.net), &fd(&net, |n| nested(n, &x)), 1e-6);
    let (_, g) = nested_in_loop_grad(&net, &XS);
    close("nested in a loop vs fd", &to_vec(&g.net), &fd(&net, |n| nested_in_loop(n, &XS)), 1e-6);
    // Its value by hand.
    let mut want = 0.0;
    for x in &XS {
        let h = tanh_of(&net.l1.w, &net.l1.b, x);
        let a = tanh_of(&net.l2.w, &net.l2.b, &h);
        want += a[0] * a[1] - a[2];
    }
    assert!((nested_in_loop(&net, &XS) - want).abs() < 1e-12);
}

// ---- an array-returning call in a branch, on an array computed before it -----------------------

#[derive(Params, Clone, Debug, PartialEq)]
pub struct MultiTask {
    pub trunk: Tanh<X, H>,
    pub reg: Tanh<H, 1>,
    pub cls: Tanh<H, H>,
}

fn multi() -> MultiTask {
    let t = two();
    MultiTask { trunk: t.l1, reg: Tanh { w: [[0.3, -0.6, 0.2]], b: [0.1] }, cls: t.l2 }
}

#[backprop(wrt(m))]
pub fn multitask(m: &MultiTask, x: &[f64; X], task: usize, target: f64) -> f64 {
    let h = tanh_layer(&m.trunk, x);
    if task == 0 {
        (head_value(&m.reg, &h) - target).powi(2)
    } else {
        let a = tanh_layer(&m.cls, &h);
        (a[0] - target).powi(2) + a[1] * a[2]
    }
}

#[backprop(wrt(m))]
pub fn multitask_flat(m: &MultiTask, x: &[f64; X], task: usize, target: f64) -> f64 {
    let mut h = [0.0; H];
    for j in 0..H {
        let mut z = m.trunk.b[j];
        for i in 0..X {
            z += m.trunk.w[j][i] * x[i];
        }
        h[j] = z.tanh();
    }
    if task == 0 {
        let mut z = m.reg.b[0];
        for i in 0..H {
            z += m.reg.w[0][i] * h[i];
        }
        (z - target).powi(2)
    } else {
        let mut a = [0.0; H];
        for j in 0..H {
            let mut z = m.cls.b[j];
            for i in 0..H {
                z += m.cls.w[j][i] * h[i];
            }
            a[j] = z.tanh();
        }
        (a[0] - target).powi(2) + a[1] * a[2]
    }
}

#[test]
fn an_array_returning_call_in_a_branch() {
    let m = multi();
    let x = [0.4, -0.9];
    for task in [0, 1] {
        let (c, g) = multitask_grad(&m, &x, task, 0.3);
        let (cf, gf) = multitask_flat_grad(&m, &x, task, 0.3);
        assert!((c - cf).abs() < 1e-12, "task {task}");
        close(&format!("task {task} vs flat"), &to_vec(&g.m), &to_vec(&gf.m), 1e-12);
        close(&format!("task {task} vs fd"), &to_vec(&g.m), &fd(&m, |p| multitask(p, &x, task, 0.3)), 1e-6);
    }
}

// ---- the recurrent cell: an array-returning call in a loop, fed its own previous result ----------

#[derive(Params, Clone, Debug, PartialEq)]
pub struct Cell {
    pub wx: [[f64; X]; H],
    pub wh: [[f64; H]; H],
    pub b: [f64; H],
}

#[derive(Params, Clone, Debug, PartialEq)]
pub struct Rnn {
    pub cell: Cell,
    pub out: [f64; H],
}

#[backprop]
pub fn rnn_cell(c: &Cell, h: &[f64; H], x: &[f64; X]) -> [f64; H] {
    let mut out = [0.0; H];
    for j in 0..H {
        let mut z = c.b[j];
        for i in 0..X {
            z += c.wx[j][i] * x[i];
        }
        for i in 0..H {
            z += c.wh[j][i] * h[i];
        }
        out[j] = z.tanh();
    }
    out
}

fn rnn() -> Rnn {
    Rnn {
        cell: Cell {
            wx: [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.25]],
            wh: [[0.2, -0.3, 0.4], [0.6, 0.1, -0.2], [-0.4, 0.5, 0.3]],
            b: [0.05, -0.1, 0.2],
        },
        out: [0.5, -0.7, 0.3],
    }
}

const T: usize = 5;
const SEQ: [[f64; X]; T] = [[0.5, -1.0], [1.5, 0.25], [-0.75, 1.0], [0.2, 0.3], [-1.0, -0.4]];

/// The loss at the end of the sequence.
#[backprop(wrt(p))]
pub fn rnn_last(p: &Rnn, xs: &[[f64; X]; T], target: f64) -> f64 {
    let mut h = [0.0; H];
    for t in 0..T {
        h = rnn_cell(&p.cell, &h, &xs[t]);
    }
    let mut y = 0.0;
    for j in 0..H {
        y += p.out[j] * h[j];
    }
    (y - target).powi(2)
}

#[backprop(wrt(p))]
pub fn rnn_last_flat(p: &Rnn, xs: &[[f64; X]; T], target: f64) -> f64 {
    let mut h = [0.0; H];
    for t in 0..T {
        let mut next = [0.0; H];
        for j in 0..H {
            let mut z = p.cell.b[j];
            for i in 0..X {
                z += p.cell.wx[j][i] * xs[t][i];
            }
            for i in 0..H {
                z += p.cell.wh[j][i] * h[i];
            }
            next[j] = z.tanh();
        }
        for j in 0..H {
            h[j] = next[j];
        }
    }
    let mut y = 0.0;
    for j in 0..H {
        y += p.out[j] * h[j];
    }
    (y - target).powi(2)
}

/// The loss at every step, the trip count from the argument (a buffer sized once per call).
#[backprop(wrt(p))]
pub fn rnn_every(p: &Rnn, xs: &[[f64; X]], targets: &[f64]) -> f64 {
    let mut h = [0.0; H];
    let mut loss = 0.0;
    for t in 0..xs.len() {
        h = rnn_cell(&p.cell, &h, &xs[t]);
        let mut y = 0.0;
        for j in 0..H {
            y += p.out[j] * h[j];
        }
        loss += (y - targets[t]).powi(2);
    }
    loss
}

#[backprop(wrt(p))]
pub fn rnn_every_flat(p: &Rnn, xs: &[[f64; X]], targets: &[f64]) -> f64 {
    let mut h = [0.0; H];
    let mut loss = 0.0;
    for t in 0..xs.len() {
        let mut next = [0.0; H];
        for j in 0..H {
            let mut z = p.cell.b[j];
            for i in 0..X {
                z += p.cell.wx[j][i] * xs[t][i];
            }
            for i in 0..H {
                z += p.cell.wh[j][i] * h[i];
            }
            next[j] = z.tanh();
        }
        for j in 0..H {
            h[j] = next[j];
        }
        let mut y = 0.0;
        for j in 0..H {
            y += p.out[j] * h[j];
        }
        loss += (y - targets[t]).powi(2);
    }
    loss
}

#[test]
fn the_recurrent_cell_fed_its_own_previous_result() {
    let p = rnn();
    let (c, g) = rnn_last_grad(&p, &SEQ, 0.4);
    let (cf, gf) = rnn_last_flat_grad(&p, &SEQ, 0.4);
    assert!((c - cf).abs() < 1e-12, "{c} vs {cf}");
    close("last vs flat", &to_vec(&g.p), &to_vec(&gf.p), 1e-12);
    close("last vs fd", &to_vec(&g.p), &fd(&p, |q| rnn_last(q, &SEQ, 0.4)), 1e-6);

    let targets = [0.1, -0.2, 0.3, 0.0, 0.5];
    let (c, g) = rnn_every_grad(&p, &SEQ, &targets);
    let (cf, gf) = rnn_every_flat_grad(&p, &SEQ, &targets);
    assert!((c - cf).abs() < 1e-12, "{c} vs {cf}");
    close("every vs flat", &to_vec(&g.p), &to_vec(&gf.p), 1e-12);
    close("every vs fd", &to_vec(&g.p), &fd(&p, |q| rnn_every(q, &SEQ, &targets)), 1e-6);
}

// ---- the shapes the UI tests used to reject -----------------------------------------------------

#[derive(Params, Clone, Debug, PartialEq)]
pub struct Small {
    pub w: [f64; 3],
    pub b: f64,
}

#[backprop]
pub fn small_layer(p: &Small, x: &[f64; 3]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = (p.w[i] * x[i] + p.b).tanh();
    }
    out
}

#[backprop]
pub fn total(v: &[f64; 2]) -> f64 {
    v[0] * v[1]
}

/// Formerly `tests/ui/call_array_in_loop.rs`.
#[backprop]
pub fn layer_in_loop(p: &Small, xs: &[[f64; 3]]) -> f64 {
    let mut total = 0.0;
    for s in 0..xs.len() {
        let h = small_layer(p, &xs[s]);
        total += h[0] * h[1] + h[2];
    }
    total
}

/// Formerly `tests/ui/call_array_written_after.rs`: the pullback gets a copy of `h` as the call
/// saw it.
#[backprop]
pub fn written_after(x: &[f64; 2]) -> f64 {
    let mut h = [0.0; 2];
    h[0] = x[0].tanh();
    h[1] = x[1].tanh();
    let a = total(&h);
    h[0] = 2.0 * a;
    a + h[0] * h[1]
}

/// Formerly `tests/ui/call_local_array_in_loop.rs`, with `h` changing between the calls.
#[backprop]
pub fn local_in_loop(x: &[f64; 2]) -> f64 {
    let mut h = [0.0; 2];
    h[0] = x[0].tanh();
    h[1] = x[1].tanh();
    let mut sum = 0.0;
    for k in 0..3 {
        sum += total(&h);
        h[k % 2] = h[0] * 0.5 + h[1].sin();
    }
    sum
}

fn fd_slice(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * (1.0 + x[i].abs());
            let mut a = x.to_vec();
            a[i] += h;
            let mut b = x.to_vec();
            b[i] -= h;
            (f(&a) - f(&b)) / (2.0 * h)
        })
        .collect()
}

#[test]
fn array_calls_in_loops_and_local_arrays_written_later() {
    let p = Small { w: [0.3, -0.7, 1.1], b: 0.2 };
    let xs = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-0.75, 1.0, 0.3]];
    let (_, g) = layer_in_loop_grad(&p, &xs);
    close("layer in loop, p", &to_vec(&g.p), &fd(&p, |q| layer_in_loop(q, &xs)), 1e-6);
    let flat: Vec<f64> = xs.iter().flatten().copied().collect();
    let rows = |v: &[f64]| -> Vec<[f64; 3]> { v.chunks(3).map(|c| [c[0], c[1], c[2]]).collect() };
    let want = fd_slice(&flat, |v| layer_in_loop(&p, &rows(v)));
    let got: Vec<f64> = g.xs.iter().flatten().copied().collect();
    close("layer in loop, xs", &got, &want, 1e-6);

    let x = [0.4, -0.8];
    let (_, g) = written_after_grad(&x);
    close("written after", &g.x, &fd_slice(&x, |v| written_after(&[v[0], v[1]])), 1e-6);
    let (_, g) = local_in_loop_grad(&x);
    close("local in loop", &g.x, &fd_slice(&x, |v| local_in_loop(&[v[0], v[1]])), 1e-6);
}

// ---- an array result's adjoint at an untaken branch ----------------------------------------------

#[backprop]
pub fn roots(v: &[f64; 2]) -> [f64; 2] {
    let mut out = [0.0; 2];
    for i in 0..2 {
        out[i] = v[i].sqrt();
    }
    out
}

/// At `v[0] = 0` the branch reading `roots`' result does not run: the infinite derivative of the
/// square root there must contribute exactly zero (the pullback of an all-zero adjoint adds 0).
#[backprop]
pub fn guarded_array_call(v: &[f64; 2]) -> f64 {
    let r = roots(v);
    if v[0] > 0.0 {
        r[0] + r[1]
    } else {
        0.0
    }
}

/// The same with the call inside the branch that is not taken, in a loop.
#[backprop]
pub fn guarded_array_call_in_loop(vs: &[[f64; 2]]) -> f64 {
    let mut s = 0.0;
    for k in 0..vs.len() {
        let r = roots(&vs[k]);
        if vs[k][0] > 0.0 {
            s += r[0] * r[1];
        }
    }
    s
}

#[test]
fn an_untaken_branch_does_not_run_the_array_pullback_into_nan() {
    let (c, g) = guarded_array_call_grad(&[0.0, 1.0]);
    assert_eq!(c, 0.0);
    assert_eq!(g.v, [0.0, 0.0], "no NaN from the untaken branch's pullback");
    let (_, g) = guarded_array_call_grad(&[4.0, 1.0]);
    assert_eq!(g.v, [0.25, 0.5]);
    let (_, g) = guarded_array_call_in_loop_grad(&[[0.0, 0.0], [4.0, 1.0]]);
    assert_eq!(g.vs, vec![[0.0, 0.0], [0.25, 1.0]]);
}
