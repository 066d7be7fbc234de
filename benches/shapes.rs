//! Argument-shape benchmarks (issue 7): the same objectives written over fixed arrays, `&[f64]`,
//! `&Vec<f64>` and nested arrays, each `#[backprop]` gradient against a hand-written gradient of the
//! same shape and return convention, so a slowdown that only one shape has shows up.
//!
//! | objective | shapes | forms |
//! | --- | --- | --- |
//! | extended Rosenbrock, n = 1000 | `&[f64; N]`, `&[f64]`, `&Vec<f64>` | `_grad`, `_grad_acc` |
//! | depth-100 sigmoid chain `a = σ(w[l] a + b[l])`, cost `(a − y)²` | `&[f64; 100]`, `&[f64]`, `&Vec<f64>` | `_grad`, `_grad_acc` |
//! | 64-32-10 sigmoid network, one sample | nested arrays, flat `&[f64]` (`w1[j * 64 + i]`), flat `&Vec<f64>` | `_grad`, `_grad_acc` |
//! | the same network, batch of 256 | nested arrays, flat `&[f64]`: a loop over samples in the cost (`_grad`), and a sum of per-sample `_grad_acc` calls | |
//!
//! `hand` is a competent hand-written reverse sweep in plain indexed loops. Its `_grad` form
//! allocates and returns its gradient as the generated `_grad` does (an array by value, or `Vec`s
//! for slice arguments); its accumulating form adds into a caller's buffer as `_grad_acc` does.
//! Every benchmarked function is called through an `#[inline(never)]` wrapper (`hand_*`, `gen_*`),
//! so the instruction counts and the disassembly of each are easy to find.
//!
//! Before anything is timed, [`verify`] checks every gradient, hand-written and generated, against
//! central finite differences of its cost at a few coordinates, and every accumulating form
//! against its `_grad`.
//!
//! ```text
//! cargo bench --bench shapes                                                # criterion, then the ratio table
//! cargo bench --bench shapes -- --warm-up-time 1 --measurement-time 2       # quick mode (≈ 7 min on 2 busy cores)
//! SHAPES_TABLE_ONLY=1 cargo bench --bench shapes                            # only the ratio table (≈ 20 s)
//! bash benches/shapes_callgrind.sh                                          # instructions per call (valgrind)
//! ```
//!
//! The ratio table times hand-written and generated in alternating short rounds (the order flipping
//! every round) and reports the median of the per-round ratios, so load from other processes on a
//! shared machine cancels out. `SHAPES_CALLGRIND=<case>/<hand|generated>` runs one case a fixed number
//! of times inside `measure`, for `valgrind --tool=callgrind --toggle-collect='*shapes::measure*'`
//! (what `shapes_callgrind.sh` does); `SHAPES_LIST=1` prints the case names.

// The costs are written with indexed loops, the form `#[backprop]` differentiates, and the
// hand-written gradients mirror them; `&Vec<f64>` arguments are one of the shapes under test.
#![allow(clippy::needless_range_loop, clippy::ptr_arg, clippy::type_complexity)]

use std::hint::black_box;
use std::time::Instant;

use backprop::prelude::*;
use criterion::Criterion;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

// ==============================================================================================
// (1) Extended Rosenbrock, n = 1000
// ==============================================================================================

const N: usize = 1000;

/// `Σ_{i<n-1} 100 (x[i+1] − x[i]²)² + (1 − x[i])²` over a fixed-size array.
#[backprop]
pub fn rosen_arr<const N: usize>(x: &[f64; N]) -> f64 {
    let mut f = 0.0;
    for i in 0..N - 1 {
        f += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
    }
    f
}

/// The same over a slice whose length is known at run time.
#[backprop]
pub fn rosen_slice(x: &[f64]) -> f64 {
    let mut f = 0.0;
    for i in 0..x.len() - 1 {
        f += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
    }
    f
}

/// The same over `&Vec<f64>`.
#[backprop]
pub fn rosen_vec(x: &Vec<f64>) -> f64 {
    let mut f = 0.0;
    for i in 0..x.len() - 1 {
        f += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
    }
    f
}

/// By hand, fixed size: one fused pass, each term adding into the two coordinates it touches.
#[inline]
fn hand_rosen_arr_acc<const N: usize>(x: &[f64; N], g: &mut [f64; N]) -> f64 {
    let mut f = 0.0;
    // The adjoint of x[i + 1] written in iteration i is that of x[i] in iteration i + 1: carried
    // in a register (the best hand-written form, issue 17), each element loaded and stored once.
    let mut carry = g[0];
    for i in 0..N - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        f += 100.0 * a * a + b * b;
        g[i] = carry + (-400.0 * a * x[i] - 2.0 * b);
        carry = g[i + 1] + 200.0 * a;
    }
    g[N - 1] = carry;
    f
}

/// By hand over slices; checks the gradient's length as `_grad_acc` does.
#[inline]
fn hand_rosen_slice_acc(x: &[f64], g: &mut [f64]) -> f64 {
    assert_eq!(g.len(), x.len(), "gradient length");
    let n = x.len();
    let mut f = 0.0;
    let mut carry = g[0];
    for i in 0..n - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        f += 100.0 * a * a + b * b;
        g[i] = carry + (-400.0 * a * x[i] - 2.0 * b);
        carry = g[i + 1] + 200.0 * a;
    }
    g[n - 1] = carry;
    f
}

#[inline(never)]
pub fn hand_rosen_arr(x: &[f64; N]) -> (f64, [f64; N]) {
    let mut g = [0.0; N];
    let f = hand_rosen_arr_acc(x, &mut g);
    (f, g)
}
#[inline(never)]
pub fn gen_rosen_arr(x: &[f64; N]) -> (f64, RosenArrGrad<N>) {
    rosen_arr_grad(x)
}
#[inline(never)]
pub fn hand_rosen_slice(x: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; x.len()];
    let f = hand_rosen_slice_acc(x, &mut g);
    (f, g)
}
#[inline(never)]
pub fn gen_rosen_slice(x: &[f64]) -> (f64, RosenSliceGrad) {
    rosen_slice_grad(x)
}
#[inline(never)]
pub fn hand_rosen_vec(x: &Vec<f64>) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; x.len()];
    let f = hand_rosen_slice_acc(x, &mut g);
    (f, g)
}
#[inline(never)]
pub fn gen_rosen_vec(x: &Vec<f64>) -> (f64, RosenVecGrad) {
    rosen_vec_grad(x)
}
#[inline(never)]
pub fn hand_rosen_arr_acc_ni(x: &[f64; N], g: &mut [f64; N]) -> f64 {
    hand_rosen_arr_acc(x, g)
}
#[inline(never)]
pub fn gen_rosen_arr_acc(x: &[f64; N], g: &mut RosenArrGrad<N>) -> f64 {
    rosen_arr_grad_acc(x, g)
}
#[inline(never)]
pub fn hand_rosen_slice_acc_ni(x: &[f64], g: &mut [f64]) -> f64 {
    hand_rosen_slice_acc(x, g)
}
#[inline(never)]
pub fn gen_rosen_slice_acc(x: &[f64], g: &mut RosenSliceGrad) -> f64 {
    rosen_slice_grad_acc(x, g)
}
#[inline(never)]
pub fn hand_rosen_vec_acc(x: &Vec<f64>, g: &mut Vec<f64>) -> f64 {
    hand_rosen_slice_acc(x, g)
}
#[inline(never)]
pub fn gen_rosen_vec_acc(x: &Vec<f64>, g: &mut RosenVecGrad) -> f64 {
    rosen_vec_grad_acc(x, g)
}

// ==============================================================================================
// (2) Depth-100 sigmoid chain
// ==============================================================================================

const DEPTH: usize = 100;

/// `a = σ(w[l] a + b[l])` for 100 layers from `a = x`, cost `(a − y)²`, over fixed arrays.
#[backprop(wrt(w, b))]
pub fn chain_arr(w: &[f64; DEPTH], b: &[f64; DEPTH], x: f64, y: f64) -> f64 {
    let mut a = x;
    for l in 0..DEPTH {
        a = sigmoid(w[l] * a + b[l]);
    }
    (a - y).powi(2)
}

/// The same over slices (depth `w.len()`).
#[backprop(wrt(w, b))]
pub fn chain_slice(w: &[f64], b: &[f64], x: f64, y: f64) -> f64 {
    let mut a = x;
    for l in 0..w.len() {
        a = sigmoid(w[l] * a + b[l]);
    }
    (a - y).powi(2)
}

/// The same over `&Vec<f64>`.
#[backprop(wrt(w, b))]
pub fn chain_vec(w: &Vec<f64>, b: &Vec<f64>, x: f64, y: f64) -> f64 {
    let mut a = x;
    for l in 0..w.len() {
        a = sigmoid(w[l] * a + b[l]);
    }
    (a - y).powi(2)
}

/// By hand, fixed depth: keep each layer's output on a stack array, then walk back with
/// `d_z = d_a σ (1 − σ)`; the previous layer's output is the input `a`.
#[inline]
fn hand_chain_arr_acc(
    w: &[f64; DEPTH],
    b: &[f64; DEPTH],
    x: f64,
    y: f64,
    gw: &mut [f64; DEPTH],
    gb: &mut [f64; DEPTH],
) -> f64 {
    let mut acts = [0.0; DEPTH];
    let mut a = x;
    for l in 0..DEPTH {
        a = sigmoid(w[l] * a + b[l]);
        acts[l] = a;
    }
    let r = a - y;
    let mut d_a = 2.0 * r;
    for l in (0..DEPTH).rev() {
        let s = acts[l];
        let input = if l > 0 { acts[l - 1] } else { x };
        let d_z = d_a * s * (1.0 - s);
        gb[l] += d_z;
        gw[l] += d_z * input;
        d_a = d_z * w[l];
    }
    r * r
}

/// By hand over slices: the outputs go on a `Vec` reserved once.
#[inline]
fn hand_chain_slice_acc(w: &[f64], b: &[f64], x: f64, y: f64, gw: &mut [f64], gb: &mut [f64]) -> f64 {
    let n = w.len();
    assert!(b.len() == n && gw.len() == n && gb.len() == n, "lengths");
    let mut acts = Vec::with_capacity(n);
    let mut a = x;
    for l in 0..n {
        a = sigmoid(w[l] * a + b[l]);
        acts.push(a);
    }
    let r = a - y;
    let mut d_a = 2.0 * r;
    for l in (0..n).rev() {
        let s = acts[l];
        let input = if l > 0 { acts[l - 1] } else { x };
        let d_z = d_a * s * (1.0 - s);
        gb[l] += d_z;
        gw[l] += d_z * input;
        d_a = d_z * w[l];
    }
    r * r
}

/// The hand-written chain gradient over slices (what `hand_chain_slice`/`_vec` return).
#[derive(Clone)]
pub struct HandChainGrad {
    pub w: Vec<f64>,
    pub b: Vec<f64>,
}

#[inline(never)]
pub fn hand_chain_arr(w: &[f64; DEPTH], b: &[f64; DEPTH], x: f64, y: f64) -> (f64, [[f64; DEPTH]; 2]) {
    let mut g = [[0.0; DEPTH]; 2];
    let [gw, gb] = &mut g;
    let c = hand_chain_arr_acc(w, b, x, y, gw, gb);
    (c, g)
}
#[inline(never)]
pub fn gen_chain_arr(w: &[f64; DEPTH], b: &[f64; DEPTH], x: f64, y: f64) -> (f64, ChainArrGrad) {
    chain_arr_grad(w, b, x, y)
}
#[inline(never)]
pub fn hand_chain_slice(w: &[f64], b: &[f64], x: f64, y: f64) -> (f64, HandChainGrad) {
    let mut g = HandChainGrad { w: vec![0.0; w.len()], b: vec![0.0; b.len()] };
    let c = hand_chain_slice_acc(w, b, x, y, &mut g.w, &mut g.b);
    (c, g)
}
#[inline(never)]
pub fn gen_chain_slice(w: &[f64], b: &[f64], x: f64, y: f64) -> (f64, ChainSliceGrad) {
    chain_slice_grad(w, b, x, y)
}
#[inline(never)]
pub fn hand_chain_vec(w: &Vec<f64>, b: &Vec<f64>, x: f64, y: f64) -> (f64, HandChainGrad) {
    let mut g = HandChainGrad { w: vec![0.0; w.len()], b: vec![0.0; b.len()] };
    let c = hand_chain_slice_acc(w, b, x, y, &mut g.w, &mut g.b);
    (c, g)
}
#[inline(never)]
pub fn gen_chain_vec(w: &Vec<f64>, b: &Vec<f64>, x: f64, y: f64) -> (f64, ChainVecGrad) {
    chain_vec_grad(w, b, x, y)
}
#[inline(never)]
pub fn hand_chain_arr_acc_ni(w: &[f64; DEPTH], b: &[f64; DEPTH], x: f64, y: f64, g: &mut [[f64; DEPTH]; 2]) -> f64 {
    let [gw, gb] = g;
    hand_chain_arr_acc(w, b, x, y, gw, gb)
}
#[inline(never)]
pub fn gen_chain_arr_acc(w: &[f64; DEPTH], b: &[f64; DEPTH], x: f64, y: f64, g: &mut ChainArrGrad) -> f64 {
    chain_arr_grad_acc(w, b, x, y, g)
}
#[inline(never)]
pub fn hand_chain_slice_acc_ni(w: &[f64], b: &[f64], x: f64, y: f64, g: &mut HandChainGrad) -> f64 {
    hand_chain_slice_acc(w, b, x, y, &mut g.w, &mut g.b)
}
#[inline(never)]
pub fn gen_chain_slice_acc(w: &[f64], b: &[f64], x: f64, y: f64, g: &mut ChainSliceGrad) -> f64 {
    chain_slice_grad_acc(w, b, x, y, g)
}
#[inline(never)]
pub fn hand_chain_vec_acc(w: &Vec<f64>, b: &Vec<f64>, x: f64, y: f64, g: &mut HandChainGrad) -> f64 {
    hand_chain_slice_acc(w, b, x, y, &mut g.w, &mut g.b)
}
#[inline(never)]
pub fn gen_chain_vec_acc(w: &Vec<f64>, b: &Vec<f64>, x: f64, y: f64, g: &mut ChainVecGrad) -> f64 {
    chain_vec_grad_acc(w, b, x, y, g)
}

// ==============================================================================================
// (3), (4) A 64-32-10 sigmoid network with squared error: one sample, and a batch of 256
// ==============================================================================================

const IN: usize = 64;
const HID: usize = 32;
const OUT: usize = 10;
const BATCH: usize = 256;

/// One sample over nested arrays.
#[backprop(wrt(w1, b1, w2, b2))]
pub fn net_nested(
    w1: &[[f64; IN]; HID],
    b1: &[f64; HID],
    w2: &[[f64; HID]; OUT],
    b2: &[f64; OUT],
    x: &[f64; IN],
    y: &[f64; OUT],
) -> f64 {
    let mut h = [0.0; HID];
    for j in 0..HID {
        let mut z = b1[j];
        for i in 0..IN {
            z += w1[j][i] * x[i];
        }
        h[j] = sigmoid(z);
    }
    let mut c = 0.0;
    for k in 0..OUT {
        let mut z = b2[k];
        for j in 0..HID {
            z += w2[k][j] * h[j];
        }
        let r = sigmoid(z) - y[k];
        c += r * r;
    }
    c
}

/// One sample over flat slices, row-major (`w1[j * IN + i]`).
#[backprop(wrt(w1, b1, w2, b2))]
pub fn net_flat(w1: &[f64], b1: &[f64], w2: &[f64], b2: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let mut h = [0.0; HID];
    for j in 0..HID {
        let mut z = b1[j];
        for i in 0..IN {
            z += w1[j * IN + i] * x[i];
        }
        h[j] = sigmoid(z);
    }
    let mut c = 0.0;
    for k in 0..OUT {
        let mut z = b2[k];
        for j in 0..HID {
            z += w2[k * HID + j] * h[j];
        }
        let r = sigmoid(z) - y[k];
        c += r * r;
    }
    c
}

/// One sample over flat `&Vec<f64>`s.
#[backprop(wrt(w1, b1, w2, b2))]
pub fn net_vec(w1: &Vec<f64>, b1: &Vec<f64>, w2: &Vec<f64>, b2: &Vec<f64>, x: &Vec<f64>, y: &Vec<f64>) -> f64 {
    let mut h = [0.0; HID];
    for j in 0..HID {
        let mut z = b1[j];
        for i in 0..IN {
            z += w1[j * IN + i] * x[i];
        }
        h[j] = sigmoid(z);
    }
    let mut c = 0.0;
    for k in 0..OUT {
        let mut z = b2[k];
        for j in 0..HID {
            z += w2[k * HID + j] * h[j];
        }
        let r = sigmoid(z) - y[k];
        c += r * r;
    }
    c
}

/// A batch over nested arrays: a loop over the samples inside the cost.
#[backprop(wrt(w1, b1, w2, b2))]
pub fn batch_nested(
    w1: &[[f64; IN]; HID],
    b1: &[f64; HID],
    w2: &[[f64; HID]; OUT],
    b2: &[f64; OUT],
    xs: &[[f64; IN]; BATCH],
    ys: &[[f64; OUT]; BATCH],
) -> f64 {
    let mut c = 0.0;
    for s in 0..BATCH {
        let mut h = [0.0; HID];
        for j in 0..HID {
            let mut z = b1[j];
            for i in 0..IN {
                z += w1[j][i] * xs[s][i];
            }
            h[j] = sigmoid(z);
        }
        for k in 0..OUT {
            let mut z = b2[k];
            for j in 0..HID {
                z += w2[k][j] * h[j];
            }
            let r = sigmoid(z) - ys[s][k];
            c += r * r;
        }
    }
    c
}

/// A batch over flat slices (`xs[s * IN + i]`).
#[backprop(wrt(w1, b1, w2, b2))]
pub fn batch_flat(w1: &[f64], b1: &[f64], w2: &[f64], b2: &[f64], xs: &[f64], ys: &[f64]) -> f64 {
    let mut c = 0.0;
    for s in 0..BATCH {
        let mut h = [0.0; HID];
        for j in 0..HID {
            let mut z = b1[j];
            for i in 0..IN {
                z += w1[j * IN + i] * xs[s * IN + i];
            }
            h[j] = sigmoid(z);
        }
        for k in 0..OUT {
            let mut z = b2[k];
            for j in 0..HID {
                z += w2[k * HID + j] * h[j];
            }
            let r = sigmoid(z) - ys[s * OUT + k];
            c += r * r;
        }
    }
    c
}

/// Nested-array parameters (and the hand-written gradient over them).
#[derive(Clone)]
pub struct NestedNet {
    pub w1: [[f64; IN]; HID],
    pub b1: [f64; HID],
    pub w2: [[f64; HID]; OUT],
    pub b2: [f64; OUT],
}

impl NestedNet {
    fn zeros() -> Self {
        NestedNet { w1: [[0.0; IN]; HID], b1: [0.0; HID], w2: [[0.0; HID]; OUT], b2: [0.0; OUT] }
    }
}

/// Flat parameters (and the hand-written gradient over them).
#[derive(Clone)]
pub struct FlatNet {
    pub w1: Vec<f64>,
    pub b1: Vec<f64>,
    pub w2: Vec<f64>,
    pub b2: Vec<f64>,
}

impl FlatNet {
    fn zeros() -> Self {
        FlatNet { w1: vec![0.0; IN * HID], b1: vec![0.0; HID], w2: vec![0.0; HID * OUT], b2: vec![0.0; OUT] }
    }
}

/// By hand, nested arrays, one sample added into `g`: `d_z2 = 2 r σ'`, `d_h = w2ᵀ d_z2`,
/// `d_z1 = d_h σ'`, outer products for the weights. Returns the sample's cost.
#[inline]
fn hand_net_nested_acc(p: &NestedNet, x: &[f64; IN], y: &[f64; OUT], g: &mut NestedNet) -> f64 {
    let mut h = [0.0; HID];
    for j in 0..HID {
        let mut z = p.b1[j];
        for i in 0..IN {
            z += p.w1[j][i] * x[i];
        }
        h[j] = sigmoid(z);
    }
    let mut c = 0.0;
    let mut d_h = [0.0; HID];
    for k in 0..OUT {
        let mut z = p.b2[k];
        for j in 0..HID {
            z += p.w2[k][j] * h[j];
        }
        let a = sigmoid(z);
        let r = a - y[k];
        c += r * r;
        let d_z = 2.0 * r * a * (1.0 - a);
        g.b2[k] += d_z;
        for j in 0..HID {
            g.w2[k][j] += d_z * h[j];
            d_h[j] += d_z * p.w2[k][j];
        }
    }
    for j in 0..HID {
        let d_z = d_h[j] * h[j] * (1.0 - h[j]);
        g.b1[j] += d_z;
        for i in 0..IN {
            g.w1[j][i] += d_z * x[i];
        }
    }
    c
}

/// By hand, flat slices, the same sweep with `w1[j * IN + i]` indexing; checks the lengths once.
#[inline]
fn hand_net_flat_acc(w1: &[f64], b1: &[f64], w2: &[f64], b2: &[f64], x: &[f64], y: &[f64], g: &mut FlatNet) -> f64 {
    assert!(
        g.w1.len() == w1.len() && g.b1.len() == b1.len() && g.w2.len() == w2.len() && g.b2.len() == b2.len(),
        "gradient lengths"
    );
    let mut h = [0.0; HID];
    for j in 0..HID {
        let mut z = b1[j];
        for i in 0..IN {
            z += w1[j * IN + i] * x[i];
        }
        h[j] = sigmoid(z);
    }
    let mut c = 0.0;
    let mut d_h = [0.0; HID];
    for k in 0..OUT {
        let mut z = b2[k];
        for j in 0..HID {
            z += w2[k * HID + j] * h[j];
        }
        let a = sigmoid(z);
        let r = a - y[k];
        c += r * r;
        let d_z = 2.0 * r * a * (1.0 - a);
        g.b2[k] += d_z;
        for j in 0..HID {
            g.w2[k * HID + j] += d_z * h[j];
            d_h[j] += d_z * w2[k * HID + j];
        }
    }
    for j in 0..HID {
        let d_z = d_h[j] * h[j] * (1.0 - h[j]);
        g.b1[j] += d_z;
        for i in 0..IN {
            g.w1[j * IN + i] += d_z * x[i];
        }
    }
    c
}

#[inline(never)]
pub fn hand_net_nested(p: &NestedNet, x: &[f64; IN], y: &[f64; OUT]) -> (f64, NestedNet) {
    let mut g = NestedNet::zeros();
    let c = hand_net_nested_acc(p, x, y, &mut g);
    (c, g)
}
#[inline(never)]
pub fn gen_net_nested(p: &NestedNet, x: &[f64; IN], y: &[f64; OUT]) -> (f64, NetNestedGrad) {
    net_nested_grad(&p.w1, &p.b1, &p.w2, &p.b2, x, y)
}
#[inline(never)]
pub fn hand_net_flat(p: &FlatNet, x: &[f64], y: &[f64]) -> (f64, FlatNet) {
    let mut g = FlatNet::zeros();
    let c = hand_net_flat_acc(&p.w1, &p.b1, &p.w2, &p.b2, x, y, &mut g);
    (c, g)
}
#[inline(never)]
pub fn gen_net_flat(p: &FlatNet, x: &[f64], y: &[f64]) -> (f64, NetFlatGrad) {
    net_flat_grad(&p.w1, &p.b1, &p.w2, &p.b2, x, y)
}
#[inline(never)]
pub fn hand_net_vec(p: &FlatNet, x: &Vec<f64>, y: &Vec<f64>) -> (f64, FlatNet) {
    let mut g = FlatNet::zeros();
    let c = hand_net_flat_acc(&p.w1, &p.b1, &p.w2, &p.b2, x, y, &mut g);
    (c, g)
}
#[inline(never)]
pub fn gen_net_vec(p: &FlatNet, x: &Vec<f64>, y: &Vec<f64>) -> (f64, NetVecGrad) {
    net_vec_grad(&p.w1, &p.b1, &p.w2, &p.b2, x, y)
}
#[inline(never)]
pub fn hand_net_nested_acc_ni(p: &NestedNet, x: &[f64; IN], y: &[f64; OUT], g: &mut NestedNet) -> f64 {
    hand_net_nested_acc(p, x, y, g)
}
#[inline(never)]
pub fn gen_net_nested_acc(p: &NestedNet, x: &[f64; IN], y: &[f64; OUT], g: &mut NetNestedGrad) -> f64 {
    net_nested_grad_acc(&p.w1, &p.b1, &p.w2, &p.b2, x, y, g)
}
#[inline(never)]
pub fn hand_net_flat_acc_ni(p: &FlatNet, x: &[f64], y: &[f64], g: &mut FlatNet) -> f64 {
    hand_net_flat_acc(&p.w1, &p.b1, &p.w2, &p.b2, x, y, g)
}
#[inline(never)]
pub fn gen_net_flat_acc(p: &FlatNet, x: &[f64], y: &[f64], g: &mut NetFlatGrad) -> f64 {
    net_flat_grad_acc(&p.w1, &p.b1, &p.w2, &p.b2, x, y, g)
}
#[inline(never)]
pub fn hand_net_vec_acc(p: &FlatNet, x: &Vec<f64>, y: &Vec<f64>, g: &mut FlatNet) -> f64 {
    hand_net_flat_acc(&p.w1, &p.b1, &p.w2, &p.b2, x, y, g)
}
#[inline(never)]
pub fn gen_net_vec_acc(p: &FlatNet, x: &Vec<f64>, y: &Vec<f64>, g: &mut NetVecGrad) -> f64 {
    net_vec_grad_acc(&p.w1, &p.b1, &p.w2, &p.b2, x, y, g)
}

/// By hand, nested batch: one accumulator for all samples.
#[inline(never)]
pub fn hand_batch_nested(p: &NestedNet, xs: &[[f64; IN]; BATCH], ys: &[[f64; OUT]; BATCH]) -> (f64, NestedNet) {
    let mut g = NestedNet::zeros();
    let mut c = 0.0;
    for s in 0..BATCH {
        c += hand_net_nested_acc(p, &xs[s], &ys[s], &mut g);
    }
    (c, g)
}
#[inline(never)]
pub fn gen_batch_nested(p: &NestedNet, xs: &[[f64; IN]; BATCH], ys: &[[f64; OUT]; BATCH]) -> (f64, BatchNestedGrad) {
    batch_nested_grad(&p.w1, &p.b1, &p.w2, &p.b2, xs, ys)
}
#[inline(never)]
pub fn hand_batch_flat(p: &FlatNet, xs: &[f64], ys: &[f64]) -> (f64, FlatNet) {
    let mut g = FlatNet::zeros();
    let mut c = 0.0;
    for s in 0..BATCH {
        c += hand_net_flat_acc(&p.w1, &p.b1, &p.w2, &p.b2, &xs[s * IN..][..IN], &ys[s * OUT..][..OUT], &mut g);
    }
    (c, g)
}
#[inline(never)]
pub fn gen_batch_flat(p: &FlatNet, xs: &[f64], ys: &[f64]) -> (f64, BatchFlatGrad) {
    batch_flat_grad(&p.w1, &p.b1, &p.w2, &p.b2, xs, ys)
}
/// The per-sample accumulating form summed over the batch, nested arrays.
#[inline(never)]
pub fn gen_batch_nested_acc(p: &NestedNet, xs: &[[f64; IN]; BATCH], ys: &[[f64; OUT]; BATCH]) -> (f64, NetNestedGrad) {
    let mut g = NetNestedGrad::zeros_like();
    let mut c = 0.0;
    for s in 0..BATCH {
        c += net_nested_grad_acc(&p.w1, &p.b1, &p.w2, &p.b2, &xs[s], &ys[s], &mut g);
    }
    (c, g)
}
/// The per-sample accumulating form summed over the batch, flat slices.
#[inline(never)]
pub fn gen_batch_flat_acc(p: &FlatNet, xs: &[f64], ys: &[f64]) -> (f64, NetFlatGrad) {
    let mut g = NetFlatGrad::zeros_like(&p.w1, &p.b1, &p.w2, &p.b2);
    let mut c = 0.0;
    for s in 0..BATCH {
        c += net_flat_grad_acc(&p.w1, &p.b1, &p.w2, &p.b2, &xs[s * IN..][..IN], &ys[s * OUT..][..OUT], &mut g);
    }
    (c, g)
}

// ==============================================================================================
// Inputs and the correctness check
// ==============================================================================================

/// Every input, built once (leaked, so the benchmark closures can borrow it for `'static`).
struct Data {
    rosen_arr: Box<[f64; N]>,
    rosen_vec: Vec<f64>,
    chain_w_arr: [f64; DEPTH],
    chain_b_arr: [f64; DEPTH],
    chain_w: Vec<f64>,
    chain_b: Vec<f64>,
    chain_x: f64,
    chain_y: f64,
    nested: Box<NestedNet>,
    flat: FlatNet,
    xs: Box<[[f64; IN]; BATCH]>,
    ys: Box<[[f64; OUT]; BATCH]>,
    xs_flat: Vec<f64>,
    ys_flat: Vec<f64>,
    x0: Vec<f64>,
    y0: Vec<f64>,
}

fn uniform(rng: &mut StdRng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

fn data() -> Data {
    let mut rng = StdRng::seed_from_u64(1);
    let rosen_vec = uniform(&mut rng, N, -1.5, 1.5);
    // Weights near 4 and biases near −w/2 keep every layer near σ's steep middle, so the gradient
    // neither vanishes nor explodes over 100 layers and finite differences check something.
    let chain_w = uniform(&mut rng, DEPTH, 3.5, 4.5);
    let chain_b: Vec<f64> = chain_w.iter().map(|w| -0.5 * w + rng.random_range(-0.1..0.1)).collect();
    let (a1, a2) = ((6.0 / (IN + HID) as f64).sqrt(), (6.0 / (HID + OUT) as f64).sqrt());
    let flat = FlatNet {
        w1: uniform(&mut rng, IN * HID, -a1, a1),
        b1: uniform(&mut rng, HID, -0.1, 0.1),
        w2: uniform(&mut rng, HID * OUT, -a2, a2),
        b2: uniform(&mut rng, OUT, -0.1, 0.1),
    };
    let xs_flat = uniform(&mut rng, BATCH * IN, 0.0, 1.0);
    let mut ys_flat = vec![0.0; BATCH * OUT];
    for s in 0..BATCH {
        ys_flat[s * OUT + rng.random_range(0..OUT)] = 1.0;
    }
    let mut nested = Box::new(NestedNet::zeros());
    nested_from_flat(&flat, &mut nested);
    let mut xs = Box::new([[0.0; IN]; BATCH]);
    let mut ys = Box::new([[0.0; OUT]; BATCH]);
    for s in 0..BATCH {
        xs[s].copy_from_slice(&xs_flat[s * IN..][..IN]);
        ys[s].copy_from_slice(&ys_flat[s * OUT..][..OUT]);
    }
    Data {
        rosen_arr: Box::new(rosen_vec.clone().try_into().unwrap()),
        rosen_vec,
        chain_w_arr: chain_w.clone().try_into().unwrap(),
        chain_b_arr: chain_b.clone().try_into().unwrap(),
        chain_w,
        chain_b,
        chain_x: 0.3,
        chain_y: 0.9,
        x0: xs_flat[..IN].to_vec(),
        y0: ys_flat[..OUT].to_vec(),
        nested,
        flat,
        xs,
        ys,
        xs_flat,
        ys_flat,
    }
}

fn nested_from_flat(f: &FlatNet, n: &mut NestedNet) {
    for j in 0..HID {
        n.w1[j].copy_from_slice(&f.w1[j * IN..][..IN]);
    }
    n.b1.copy_from_slice(&f.b1);
    for k in 0..OUT {
        n.w2[k].copy_from_slice(&f.w2[k * HID..][..HID]);
    }
    n.b2.copy_from_slice(&f.b2);
}

/// All network parameters (or gradients) in one vector: `w1, b1, w2, b2`, row-major.
fn flatten(w1: &[f64], b1: &[f64], w2: &[f64], b2: &[f64]) -> Vec<f64> {
    [w1, b1, w2, b2].concat()
}

fn flatten_nested(w1: &[[f64; IN]; HID], b1: &[f64; HID], w2: &[[f64; HID]; OUT], b2: &[f64; OUT]) -> Vec<f64> {
    flatten(w1.as_flattened(), b1, w2.as_flattened(), b2)
}

fn unflatten(v: &[f64]) -> FlatNet {
    let (w1, rest) = v.split_at(IN * HID);
    let (b1, rest) = rest.split_at(HID);
    let (w2, b2) = rest.split_at(HID * OUT);
    FlatNet { w1: w1.to_vec(), b1: b1.to_vec(), w2: w2.to_vec(), b2: b2.to_vec() }
}

/// Panics unless `grad` matches central differences of `cost` at the coordinates `probe`
/// (relative error 1e-5, or absolute 1e-7 near zero).
fn check_fd(what: &str, x: &[f64], grad: &[f64], probe: &[usize], cost: impl Fn(&[f64]) -> f64) {
    assert_eq!(x.len(), grad.len(), "{what}: gradient length");
    let mut xp = x.to_vec();
    for &i in probe {
        let eps = 1e-6 * x[i].abs().max(1.0);
        xp[i] = x[i] + eps;
        let plus = cost(&xp);
        xp[i] = x[i] - eps;
        let minus = cost(&xp);
        xp[i] = x[i];
        let numeric = (plus - minus) / (2.0 * eps);
        let err = (grad[i] - numeric).abs();
        assert!(
            err <= 1e-7 || err <= 1e-5 * numeric.abs().max(grad[i].abs()),
            "{what}: d/dx[{i}] = {} but finite differences give {numeric}",
            grad[i]
        );
    }
}

/// Panics unless `a` and `b` agree to `tol` relative to their size.
fn check_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * x.abs().max(y.abs()).max(1.0), "{what}[{i}]: {x} vs {y}");
    }
}

/// Checks every benchmarked gradient, hand-written and generated, before anything is timed.
fn verify(d: &Data) {
    // Rosenbrock: every shape against finite differences, and the accumulating forms against `_grad`.
    let probe = [0, 1, 500, N - 2, N - 1];
    let x = &d.rosen_vec;
    let cost = |v: &[f64]| rosen_slice(v);
    let f0 = rosen_slice(x);
    assert_eq!(rosen_arr(&d.rosen_arr), f0);
    assert_eq!(rosen_vec(x), f0);
    let candidates: [(&str, f64, Vec<f64>); 6] = [
        ("hand_rosen_arr", hand_rosen_arr(&d.rosen_arr).0, hand_rosen_arr(&d.rosen_arr).1.to_vec()),
        ("gen_rosen_arr", gen_rosen_arr(&d.rosen_arr).0, gen_rosen_arr(&d.rosen_arr).1.x.to_vec()),
        ("hand_rosen_slice", hand_rosen_slice(x).0, hand_rosen_slice(x).1),
        ("gen_rosen_slice", gen_rosen_slice(x).0, gen_rosen_slice(x).1.x),
        ("hand_rosen_vec", hand_rosen_vec(x).0, hand_rosen_vec(x).1),
        ("gen_rosen_vec", gen_rosen_vec(x).0, gen_rosen_vec(x).1.x),
    ];
    for (what, f, g) in &candidates {
        assert!((f - f0).abs() <= 1e-12 * f0.abs(), "{what}: value {f} vs {f0}");
        check_fd(what, x, g, &probe, cost);
    }
    let mut h = [0.0; N];
    hand_rosen_arr_acc_ni(&d.rosen_arr, &mut h);
    check_close("hand_rosen_arr_acc", &h, &candidates[0].2, 0.0);
    let mut g = RosenArrGrad::<N>::zeros_like();
    gen_rosen_arr_acc(&d.rosen_arr, &mut g);
    check_close("gen_rosen_arr_acc", &g.x, &candidates[1].2, 0.0);
    let mut h = vec![0.0; N];
    hand_rosen_slice_acc_ni(x, &mut h);
    check_close("hand_rosen_slice_acc", &h, &candidates[2].2, 0.0);
    let mut g = RosenSliceGrad::zeros_like(x);
    gen_rosen_slice_acc(x, &mut g);
    check_close("gen_rosen_slice_acc", &g.x, &candidates[3].2, 0.0);
    let mut h = vec![0.0; N];
    hand_rosen_vec_acc(x, &mut h);
    check_close("hand_rosen_vec_acc", &h, &candidates[4].2, 0.0);
    let mut g = RosenVecGrad::zeros_like(x);
    gen_rosen_vec_acc(x, &mut g);
    check_close("gen_rosen_vec_acc", &g.x, &candidates[5].2, 0.0);

    // The sigmoid chain: parameters `w ++ b`.
    let (cx, cy) = (d.chain_x, d.chain_y);
    let wb = [&d.chain_w[..], &d.chain_b[..]].concat();
    let cost = |v: &[f64]| chain_slice(&v[..DEPTH], &v[DEPTH..], cx, cy);
    let probe = [0, 50, DEPTH - 1, DEPTH, DEPTH + 70, 2 * DEPTH - 1];
    let f0 = chain_slice(&d.chain_w, &d.chain_b, cx, cy);
    assert_eq!(chain_arr(&d.chain_w_arr, &d.chain_b_arr, cx, cy), f0);
    assert_eq!(chain_vec(&d.chain_w, &d.chain_b, cx, cy), f0);
    let (fa, ga) = hand_chain_arr(&d.chain_w_arr, &d.chain_b_arr, cx, cy);
    let (fb, gb) = gen_chain_arr(&d.chain_w_arr, &d.chain_b_arr, cx, cy);
    let (fc, gc) = hand_chain_slice(&d.chain_w, &d.chain_b, cx, cy);
    let (fd, gd) = gen_chain_slice(&d.chain_w, &d.chain_b, cx, cy);
    let (fe, ge) = hand_chain_vec(&d.chain_w, &d.chain_b, cx, cy);
    let (ff, gf) = gen_chain_vec(&d.chain_w, &d.chain_b, cx, cy);
    let candidates: [(&str, f64, Vec<f64>); 6] = [
        ("hand_chain_arr", fa, ga.concat()),
        ("gen_chain_arr", fb, [gb.w, gb.b].concat()),
        ("hand_chain_slice", fc, [gc.w, gc.b].concat()),
        ("gen_chain_slice", fd, [gd.w, gd.b].concat()),
        ("hand_chain_vec", fe, [ge.w, ge.b].concat()),
        ("gen_chain_vec", ff, [gf.w, gf.b].concat()),
    ];
    for (what, f, g) in &candidates {
        assert!((f - f0).abs() <= 1e-12 * f0.abs(), "{what}: value {f} vs {f0}");
        check_fd(what, &wb, g, &probe, cost);
    }
    // The gradient must not have vanished, or the check above would be empty.
    assert!(candidates[0].2[0].abs() > 1e-6, "chain gradient vanished: {}", candidates[0].2[0]);
    let mut h = [[0.0; DEPTH]; 2];
    hand_chain_arr_acc_ni(&d.chain_w_arr, &d.chain_b_arr, cx, cy, &mut h);
    check_close("hand_chain_arr_acc", &h.concat(), &candidates[0].2, 0.0);
    let mut g = ChainArrGrad::zeros_like();
    gen_chain_arr_acc(&d.chain_w_arr, &d.chain_b_arr, cx, cy, &mut g);
    check_close("gen_chain_arr_acc", &[g.w, g.b].concat(), &candidates[1].2, 0.0);
    let mut h = HandChainGrad { w: vec![0.0; DEPTH], b: vec![0.0; DEPTH] };
    hand_chain_slice_acc_ni(&d.chain_w, &d.chain_b, cx, cy, &mut h);
    check_close("hand_chain_slice_acc", &[h.w, h.b].concat(), &candidates[2].2, 0.0);
    let mut g = ChainSliceGrad::zeros_like(&d.chain_w, &d.chain_b);
    gen_chain_slice_acc(&d.chain_w, &d.chain_b, cx, cy, &mut g);
    check_close("gen_chain_slice_acc", &[g.w, g.b].concat(), &candidates[3].2, 0.0);
    let mut h = HandChainGrad { w: vec![0.0; DEPTH], b: vec![0.0; DEPTH] };
    hand_chain_vec_acc(&d.chain_w, &d.chain_b, cx, cy, &mut h);
    check_close("hand_chain_vec_acc", &[h.w, h.b].concat(), &candidates[4].2, 0.0);
    let mut g = ChainVecGrad::zeros_like(&d.chain_w, &d.chain_b);
    gen_chain_vec_acc(&d.chain_w, &d.chain_b, cx, cy, &mut g);
    check_close("gen_chain_vec_acc", &[g.w, g.b].concat(), &candidates[5].2, 0.0);

    // The network, one sample: parameters flattened `w1, b1, w2, b2`.
    let (p, n) = (&d.flat, &*d.nested);
    let params = flatten(&p.w1, &p.b1, &p.w2, &p.b2);
    let (x, y) = (&d.x0, &d.y0);
    let (xa, ya) = (&d.xs[0], &d.ys[0]);
    let cost = |v: &[f64]| {
        let q = unflatten(v);
        net_flat(&q.w1, &q.b1, &q.w2, &q.b2, x, y)
    };
    let probe = [0, 5, IN * HID - 1, IN * HID + 3, IN * HID + HID + 7, params.len() - 1];
    let f0 = net_flat(&p.w1, &p.b1, &p.w2, &p.b2, x, y);
    assert_eq!(net_nested(&n.w1, &n.b1, &n.w2, &n.b2, xa, ya), f0);
    assert_eq!(net_vec(&p.w1, &p.b1, &p.w2, &p.b2, x, y), f0);
    let (fa, ga) = hand_net_nested(n, xa, ya);
    let (fb, gb) = gen_net_nested(n, xa, ya);
    let (fc, gc) = hand_net_flat(p, x, y);
    let (fd, gd) = gen_net_flat(p, x, y);
    let (fe, ge) = hand_net_vec(p, x, y);
    let (ff, gf) = gen_net_vec(p, x, y);
    let candidates: [(&str, f64, Vec<f64>); 6] = [
        ("hand_net_nested", fa, flatten_nested(&ga.w1, &ga.b1, &ga.w2, &ga.b2)),
        ("gen_net_nested", fb, flatten_nested(&gb.w1, &gb.b1, &gb.w2, &gb.b2)),
        ("hand_net_flat", fc, flatten(&gc.w1, &gc.b1, &gc.w2, &gc.b2)),
        ("gen_net_flat", fd, flatten(&gd.w1, &gd.b1, &gd.w2, &gd.b2)),
        ("hand_net_vec", fe, flatten(&ge.w1, &ge.b1, &ge.w2, &ge.b2)),
        ("gen_net_vec", ff, flatten(&gf.w1, &gf.b1, &gf.w2, &gf.b2)),
    ];
    for (what, f, g) in &candidates {
        assert!((f - f0).abs() <= 1e-12 * f0.abs(), "{what}: value {f} vs {f0}");
        check_fd(what, &params, g, &probe, cost);
        check_close(what, g, &candidates[0].2, 1e-12);
    }
    let mut h = NestedNet::zeros();
    hand_net_nested_acc_ni(n, xa, ya, &mut h);
    check_close("hand_net_nested_acc", &flatten_nested(&h.w1, &h.b1, &h.w2, &h.b2), &candidates[0].2, 0.0);
    let mut g = NetNestedGrad::zeros_like();
    gen_net_nested_acc(n, xa, ya, &mut g);
    check_close("gen_net_nested_acc", &flatten_nested(&g.w1, &g.b1, &g.w2, &g.b2), &candidates[1].2, 0.0);
    let mut h = FlatNet::zeros();
    hand_net_flat_acc_ni(p, x, y, &mut h);
    check_close("hand_net_flat_acc", &flatten(&h.w1, &h.b1, &h.w2, &h.b2), &candidates[2].2, 0.0);
    let mut g = NetFlatGrad::zeros_like(&p.w1, &p.b1, &p.w2, &p.b2);
    gen_net_flat_acc(p, x, y, &mut g);
    check_close("gen_net_flat_acc", &flatten(&g.w1, &g.b1, &g.w2, &g.b2), &candidates[3].2, 0.0);
    let mut h = FlatNet::zeros();
    hand_net_vec_acc(p, x, y, &mut h);
    check_close("hand_net_vec_acc", &flatten(&h.w1, &h.b1, &h.w2, &h.b2), &candidates[4].2, 0.0);
    let mut g = NetVecGrad::zeros_like(&p.w1, &p.b1, &p.w2, &p.b2);
    gen_net_vec_acc(p, x, y, &mut g);
    check_close("gen_net_vec_acc", &flatten(&g.w1, &g.b1, &g.w2, &g.b2), &candidates[5].2, 0.0);

    // The batch: every form against finite differences of the flat batch cost.
    let (xs, ys) = (&d.xs_flat, &d.ys_flat);
    let cost = |v: &[f64]| {
        let q = unflatten(v);
        batch_flat(&q.w1, &q.b1, &q.w2, &q.b2, xs, ys)
    };
    let f0 = batch_flat(&p.w1, &p.b1, &p.w2, &p.b2, xs, ys);
    assert_eq!(batch_nested(&n.w1, &n.b1, &n.w2, &n.b2, &d.xs, &d.ys), f0);
    let (fa, ga) = hand_batch_nested(n, &d.xs, &d.ys);
    let (fb, gb) = gen_batch_nested(n, &d.xs, &d.ys);
    let (fc, gc) = gen_batch_nested_acc(n, &d.xs, &d.ys);
    let (fd, gd) = hand_batch_flat(p, xs, ys);
    let (fe, ge) = gen_batch_flat(p, xs, ys);
    let (ff, gf) = gen_batch_flat_acc(p, xs, ys);
    let candidates: [(&str, f64, Vec<f64>); 6] = [
        ("hand_batch_nested", fa, flatten_nested(&ga.w1, &ga.b1, &ga.w2, &ga.b2)),
        ("gen_batch_nested", fb, flatten_nested(&gb.w1, &gb.b1, &gb.w2, &gb.b2)),
        ("gen_batch_nested_acc", fc, flatten_nested(&gc.w1, &gc.b1, &gc.w2, &gc.b2)),
        ("hand_batch_flat", fd, flatten(&gd.w1, &gd.b1, &gd.w2, &gd.b2)),
        ("gen_batch_flat", fe, flatten(&ge.w1, &ge.b1, &ge.w2, &ge.b2)),
        ("gen_batch_flat_acc", ff, flatten(&gf.w1, &gf.b1, &gf.w2, &gf.b2)),
    ];
    for (what, f, g) in &candidates {
        assert!((f - f0).abs() <= 1e-12 * f0.abs(), "{what}: value {f} vs {f0}");
        check_fd(what, &params, g, &probe, cost);
        check_close(what, g, &candidates[0].2, 1e-10);
    }
}

// ==============================================================================================
// The cases: one hand-written and one generated closure per objective × shape × form
// ==============================================================================================

type Run = Box<dyn FnMut()>;

/// One row of the table: the same work done by hand and by the generated code.
struct Case {
    objective: &'static str,
    shape: &'static str,
    hand: Run,
    generated: Run,
    /// Calls per `measure` under callgrind (about 10–20 M instructions).
    callgrind_reps: usize,
}

impl Case {
    fn name(&self) -> String {
        format!("{}/{}", self.objective, self.shape)
    }
}

/// Boxes a call whose result (value and gradient) is passed to `black_box`.
macro_rules! run {
    ($call:expr) => {
        Box::new(move || {
            let r = $call;
            black_box(&r);
        }) as Run
    };
}

fn cases(d: &'static Data) -> Vec<Case> {
    let (ra, rv) = (&*d.rosen_arr, &d.rosen_vec);
    let (cwa, cba, cw, cb, cx, cy) = (&d.chain_w_arr, &d.chain_b_arr, &d.chain_w, &d.chain_b, d.chain_x, d.chain_y);
    let (n, p, x, y, xa, ya) = (&*d.nested, &d.flat, &d.x0, &d.y0, &d.xs[0], &d.ys[0]);
    let (xs, ys, xsn, ysn) = (&d.xs_flat, &d.ys_flat, &*d.xs, &*d.ys);
    let case =
        |objective, shape, hand, generated, callgrind_reps| Case { objective, shape, hand, generated, callgrind_reps };
    vec![
        case("rosenbrock_1000", "array", run!(hand_rosen_arr(black_box(ra))), run!(gen_rosen_arr(black_box(ra))), 2000),
        case(
            "rosenbrock_1000",
            "slice",
            run!(hand_rosen_slice(black_box(rv))),
            run!(gen_rosen_slice(black_box(rv))),
            2000,
        ),
        case("rosenbrock_1000", "vec", run!(hand_rosen_vec(black_box(rv))), run!(gen_rosen_vec(black_box(rv))), 2000),
        case(
            "rosenbrock_1000",
            "array_acc",
            {
                let mut g = [0.0; N];
                run!(hand_rosen_arr_acc_ni(black_box(ra), black_box(&mut g)))
            },
            {
                let mut g = RosenArrGrad::<N>::zeros_like();
                run!(gen_rosen_arr_acc(black_box(ra), black_box(&mut g)))
            },
            2000,
        ),
        case(
            "rosenbrock_1000",
            "slice_acc",
            {
                let mut g = vec![0.0; N];
                run!(hand_rosen_slice_acc_ni(black_box(rv), black_box(&mut g)))
            },
            {
                let mut g = RosenSliceGrad::zeros_like(rv);
                run!(gen_rosen_slice_acc(black_box(rv), black_box(&mut g)))
            },
            2000,
        ),
        case(
            "rosenbrock_1000",
            "vec_acc",
            {
                let mut g = vec![0.0; N];
                run!(hand_rosen_vec_acc(black_box(rv), black_box(&mut g)))
            },
            {
                let mut g = RosenVecGrad::zeros_like(rv);
                run!(gen_rosen_vec_acc(black_box(rv), black_box(&mut g)))
            },
            2000,
        ),
        case(
            "sigmoid_chain_100",
            "array",
            run!(hand_chain_arr(black_box(cwa), black_box(cba), black_box(cx), black_box(cy))),
            run!(gen_chain_arr(black_box(cwa), black_box(cba), black_box(cx), black_box(cy))),
            5000,
        ),
        case(
            "sigmoid_chain_100",
            "slice",
            run!(hand_chain_slice(black_box(cw), black_box(cb), black_box(cx), black_box(cy))),
            run!(gen_chain_slice(black_box(cw), black_box(cb), black_box(cx), black_box(cy))),
            5000,
        ),
        case(
            "sigmoid_chain_100",
            "vec",
            run!(hand_chain_vec(black_box(cw), black_box(cb), black_box(cx), black_box(cy))),
            run!(gen_chain_vec(black_box(cw), black_box(cb), black_box(cx), black_box(cy))),
            5000,
        ),
        case(
            "sigmoid_chain_100",
            "array_acc",
            {
                let mut g = [[0.0; DEPTH]; 2];
                run!(hand_chain_arr_acc_ni(
                    black_box(cwa),
                    black_box(cba),
                    black_box(cx),
                    black_box(cy),
                    black_box(&mut g)
                ))
            },
            {
                let mut g = ChainArrGrad::zeros_like();
                run!(gen_chain_arr_acc(black_box(cwa), black_box(cba), black_box(cx), black_box(cy), black_box(&mut g)))
            },
            5000,
        ),
        case(
            "sigmoid_chain_100",
            "slice_acc",
            {
                let mut g = HandChainGrad { w: vec![0.0; DEPTH], b: vec![0.0; DEPTH] };
                run!(hand_chain_slice_acc_ni(
                    black_box(cw),
                    black_box(cb),
                    black_box(cx),
                    black_box(cy),
                    black_box(&mut g)
                ))
            },
            {
                let mut g = ChainSliceGrad::zeros_like(cw, cb);
                run!(gen_chain_slice_acc(black_box(cw), black_box(cb), black_box(cx), black_box(cy), black_box(&mut g)))
            },
            5000,
        ),
        case(
            "sigmoid_chain_100",
            "vec_acc",
            {
                let mut g = HandChainGrad { w: vec![0.0; DEPTH], b: vec![0.0; DEPTH] };
                run!(hand_chain_vec_acc(black_box(cw), black_box(cb), black_box(cx), black_box(cy), black_box(&mut g)))
            },
            {
                let mut g = ChainVecGrad::zeros_like(cw, cb);
                run!(gen_chain_vec_acc(black_box(cw), black_box(cb), black_box(cx), black_box(cy), black_box(&mut g)))
            },
            5000,
        ),
        case(
            "net_sample",
            "nested",
            run!(hand_net_nested(black_box(n), black_box(xa), black_box(ya))),
            run!(gen_net_nested(black_box(n), black_box(xa), black_box(ya))),
            1000,
        ),
        case(
            "net_sample",
            "slice",
            run!(hand_net_flat(black_box(p), black_box(x), black_box(y))),
            run!(gen_net_flat(black_box(p), black_box(x), black_box(y))),
            1000,
        ),
        case(
            "net_sample",
            "vec",
            run!(hand_net_vec(black_box(p), black_box(x), black_box(y))),
            run!(gen_net_vec(black_box(p), black_box(x), black_box(y))),
            1000,
        ),
        case(
            "net_sample",
            "nested_acc",
            {
                let mut g = NestedNet::zeros();
                run!(hand_net_nested_acc_ni(black_box(n), black_box(xa), black_box(ya), black_box(&mut g)))
            },
            {
                let mut g = NetNestedGrad::zeros_like();
                run!(gen_net_nested_acc(black_box(n), black_box(xa), black_box(ya), black_box(&mut g)))
            },
            1000,
        ),
        case(
            "net_sample",
            "slice_acc",
            {
                let mut g = FlatNet::zeros();
                run!(hand_net_flat_acc_ni(black_box(p), black_box(x), black_box(y), black_box(&mut g)))
            },
            {
                let mut g = NetFlatGrad::zeros_like(&p.w1, &p.b1, &p.w2, &p.b2);
                run!(gen_net_flat_acc(black_box(p), black_box(x), black_box(y), black_box(&mut g)))
            },
            1000,
        ),
        case(
            "net_sample",
            "vec_acc",
            {
                let mut g = FlatNet::zeros();
                run!(hand_net_vec_acc(black_box(p), black_box(x), black_box(y), black_box(&mut g)))
            },
            {
                let mut g = NetVecGrad::zeros_like(&p.w1, &p.b1, &p.w2, &p.b2);
                run!(gen_net_vec_acc(black_box(p), black_box(x), black_box(y), black_box(&mut g)))
            },
            1000,
        ),
        case(
            "net_batch_256",
            "nested",
            run!(hand_batch_nested(black_box(n), black_box(xsn), black_box(ysn))),
            run!(gen_batch_nested(black_box(n), black_box(xsn), black_box(ysn))),
            5,
        ),
        case(
            "net_batch_256",
            "slice",
            run!(hand_batch_flat(black_box(p), black_box(xs), black_box(ys))),
            run!(gen_batch_flat(black_box(p), black_box(xs), black_box(ys))),
            5,
        ),
        case(
            "net_batch_256",
            "nested_acc_sum",
            run!(hand_batch_nested(black_box(n), black_box(xsn), black_box(ysn))),
            run!(gen_batch_nested_acc(black_box(n), black_box(xsn), black_box(ysn))),
            5,
        ),
        case(
            "net_batch_256",
            "slice_acc_sum",
            run!(hand_batch_flat(black_box(p), black_box(xs), black_box(ys))),
            run!(gen_batch_flat_acc(black_box(p), black_box(xs), black_box(ys))),
            5,
        ),
    ]
}

// ==============================================================================================
// Timing: criterion per function, then the interleaved ratio table
// ==============================================================================================

fn bench_criterion(c: &mut Criterion, cases: &mut [Case]) {
    for case in cases.iter_mut() {
        let mut group = c.benchmark_group(case.objective);
        group.bench_function(format!("{}/hand", case.shape), |b| b.iter(&mut case.hand));
        group.bench_function(format!("{}/generated", case.shape), |b| b.iter(&mut case.generated));
        group.finish();
    }
}

/// Seconds per call of `reps` calls.
fn time(f: &mut dyn FnMut(), reps: usize) -> f64 {
    time_both(f, reps).0
}

/// Wall-clock and on-CPU seconds per call of `reps` calls. On-CPU time (this thread's
/// `CLOCK_THREAD_CPUTIME_ID`) still counts every stall, but not the time other processes hold
/// the core: on a loaded machine its ratio moves far less than the wall-clock one.
fn time_both(f: &mut dyn FnMut(), reps: usize) -> (f64, f64) {
    let (start, cpu) = (Instant::now(), thread_cpu_seconds());
    for _ in 0..reps {
        f();
    }
    (start.elapsed().as_secs_f64() / reps as f64, (thread_cpu_seconds() - cpu) / reps as f64)
}

#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// This thread's CPU time (Linux `CLOCK_THREAD_CPUTIME_ID`; std links the C library already).
fn thread_cpu_seconds() -> f64 {
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec (two 64-bit fields on 64-bit Linux).
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.sec as f64 + ts.nsec as f64 * 1e-9
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

fn format_time(s: f64) -> String {
    if s < 1e-6 {
        format!("{:.1} ns", s * 1e9)
    } else if s < 1e-3 {
        format!("{:.2} µs", s * 1e6)
    } else {
        format!("{:.3} ms", s * 1e3)
    }
}

/// Hand-written and generated in alternating rounds of about 10 ms each (which goes first flips
/// every round); the ratio is the median of the per-round ratios, and the last column the ratio
/// of each side's fastest round.
fn ratio_table(cases: &mut [Case]) {
    const ROUNDS: usize = 31;
    println!("\nInterleaved ratio table ({ROUNDS} rounds of ~10 ms each side; medians):\n");
    println!("| objective | shape | hand-written | generated | generated / hand | best / best | on-CPU ratio |");
    println!("|---|---|---|---|---|---|---|");
    for case in cases.iter_mut() {
        // Calibrate the round length on the hand-written version.
        (case.hand)();
        (case.generated)();
        let one = time(&mut case.hand, 3);
        let reps = ((0.01 / one) as usize).max(1);
        let (mut th, mut tg, mut ratio, mut cpu_ratio) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let (h, g) = if round % 2 == 0 {
                let h = time_both(&mut case.hand, reps);
                (h, time_both(&mut case.generated, reps))
            } else {
                let g = time_both(&mut case.generated, reps);
                (time_both(&mut case.hand, reps), g)
            };
            th.push(h.0);
            tg.push(g.0);
            ratio.push(g.0 / h.0);
            cpu_ratio.push(g.1 / h.1);
        }
        // The fastest round of each side: what each runs at when the machine lets it (the
        // issue's "best of n"), a second view on a loaded machine where medians wander.
        let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        let best_ratio = best(&tg) / best(&th);
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.2} | {:.2} |",
            case.objective,
            case.shape,
            format_time(median(&mut th)),
            format_time(median(&mut tg)),
            median(&mut ratio),
            best_ratio,
            median(&mut cpu_ratio)
        );
    }
}

/// The loop callgrind counts (`--toggle-collect='*shapes::measure*'`).
#[inline(never)]
fn measure(f: &mut dyn FnMut(), reps: usize) {
    for _ in 0..reps {
        f();
    }
}

fn main() {
    let d: &'static Data = Box::leak(Box::new(data()));
    let mut cases = cases(d);
    if std::env::var_os("SHAPES_LIST").is_some() {
        for case in &cases {
            println!("{} {}", case.name(), case.callgrind_reps);
        }
        return;
    }
    verify(d);
    if let Ok(which) = std::env::var("SHAPES_CALLGRIND") {
        let (name, side) = which.rsplit_once('/').expect("SHAPES_CALLGRIND=<objective>/<shape>/<hand|generated>");
        let case = cases.iter_mut().find(|c| c.name() == name).unwrap_or_else(|| panic!("no case {name}"));
        let reps = case.callgrind_reps;
        let f = match side {
            "hand" => &mut case.hand,
            "generated" => &mut case.generated,
            _ => panic!("{side}: expected hand or generated"),
        };
        f();
        measure(f, reps);
        println!("{which}: {reps} calls measured");
        return;
    }
    println!("verified: every hand-written and generated gradient matches finite differences");
    if std::env::var_os("SHAPES_TABLE_ONLY").is_none() {
        let mut c = Criterion::default().configure_from_args();
        bench_criterion(&mut c, &mut cases);
        c.final_summary();
    }
    ratio_table(&mut cases);
}
