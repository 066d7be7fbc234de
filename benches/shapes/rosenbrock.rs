//! Extended Rosenbrock, n = 1000, over `&[f64; N]`, `&[f64]` and `&Vec<f64>`: the objectives,
//! the best hand-written gradient (the adjoint of `x[i + 1]` carried in a register) and the
//! `#[inline(never)]` wrappers the cases call.

use super::*;

pub const N: usize = 1000;

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
pub fn hand_rosen_arr_acc<const N: usize>(x: &[f64; N], g: &mut [f64; N]) -> f64 {
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
pub fn hand_rosen_slice_acc(x: &[f64], g: &mut [f64]) -> f64 {
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
