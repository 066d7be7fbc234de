//! The depth-100 sigmoid chain over `&[f64; DEPTH]`, `&[f64]` and `&Vec<f64>`: the objectives,
//! the hand-written reverse sweeps and the `#[inline(never)]` wrappers the cases call.

use super::*;

pub const DEPTH: usize = 100;

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
pub fn hand_chain_arr_acc(
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
pub fn hand_chain_slice_acc(w: &[f64], b: &[f64], x: f64, y: f64, gw: &mut [f64], gb: &mut [f64]) -> f64 {
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
