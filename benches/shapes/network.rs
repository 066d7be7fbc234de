//! The 64-32-10 sigmoid network with squared error, one sample (nested arrays, flat slices, flat
//! `Vec`s) and a batch of 256: the objectives, the hand-written gradients and the wrappers.

use super::*;

pub const IN: usize = 64;
pub const HID: usize = 32;
pub const OUT: usize = 10;
pub const BATCH: usize = 256;

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
    pub fn zeros() -> Self {
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
    pub fn zeros() -> Self {
        FlatNet { w1: vec![0.0; IN * HID], b1: vec![0.0; HID], w2: vec![0.0; HID * OUT], b2: vec![0.0; OUT] }
    }
}

/// By hand, nested arrays, one sample added into `g`: `d_z2 = 2 r σ'`, `d_h = w2ᵀ d_z2`,
/// `d_z1 = d_h σ'`, outer products for the weights. Returns the sample's cost.
#[inline]
pub fn hand_net_nested_acc(p: &NestedNet, x: &[f64; IN], y: &[f64; OUT], g: &mut NestedNet) -> f64 {
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
pub fn hand_net_flat_acc(w1: &[f64], b1: &[f64], w2: &[f64], b2: &[f64], x: &[f64], y: &[f64], g: &mut FlatNet) -> f64 {
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
