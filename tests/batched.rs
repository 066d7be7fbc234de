//! Batched network blocks (issue 17): `dense_batch` and `softmax_cross_entropy_batch` called
//! from `#[backprop]` code, their pullbacks against central finite differences and against the
//! per-sample gradient summed over the batch.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

#[derive(Params, Clone)]
pub struct Mlp {
    pub l1: Dense<64, 32>,
    pub l2: Dense<32, 10>,
}

#[backprop(wrt(net))]
fn batch_cost(net: &Mlp, xs: &[[f64; 64]], ys: &[[f64; 10]]) -> f64 {
    let h = dense_batch(&net.l1, xs, Activation::Sigmoid);
    let o = dense_batch(&net.l2, &h, Activation::Sigmoid);
    let mut c = 0.0;
    for s in 0..o.len() {
        for k in 0..10 {
            c += (o[s][k] - ys[s][k]).powi(2);
        }
    }
    c
}

/// The same network on one sample with the per-sample `dense`.
#[backprop(wrt(net))]
fn sample_cost(net: &Mlp, x: &[f64; 64], y: &[f64; 10]) -> f64 {
    let h = dense(&net.l1, x, Activation::Sigmoid);
    let o = dense(&net.l2, &h, Activation::Sigmoid);
    let mut c = 0.0;
    for k in 0..10 {
        c += (o[k] - y[k]).powi(2);
    }
    c
}

/// Tanh hidden layer, identity logits and the batched softmax cross-entropy.
#[backprop(wrt(net))]
fn batch_xent(net: &Mlp, xs: &[[f64; 64]], ys: &[[f64; 10]]) -> f64 {
    let h = dense_batch(&net.l1, xs, Activation::Tanh);
    let o = dense_batch(&net.l2, &h, Activation::Identity);
    softmax_cross_entropy_batch(&o, ys)
}

#[backprop(wrt(net))]
fn sample_xent(net: &Mlp, x: &[f64; 64], label: usize) -> f64 {
    let h = dense(&net.l1, x, Activation::Tanh);
    let o = dense(&net.l2, &h, Activation::Identity);
    softmax_cross_entropy(&o, label)
}

/// A deterministic generator (no dependency): xorshift in [-1, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

fn net(seed: u64) -> Mlp {
    let mut r = Lcg(seed);
    let mut n = Mlp { l1: Dense::zeros(), l2: Dense::zeros() };
    n.visit_mut(&mut |v| *v = 0.4 * r.next());
    n
}

fn batch(seed: u64, size: usize) -> (Vec<[f64; 64]>, Vec<[f64; 10]>, Vec<usize>) {
    let mut r = Lcg(seed);
    let xs: Vec<[f64; 64]> = (0..size).map(|_| std::array::from_fn(|_| r.next())).collect();
    let labels: Vec<usize> = (0..size).map(|s| (s * 7 + 3) % 10).collect();
    let ys = labels.iter().map(|&l| std::array::from_fn(|k| if k == l { 1.0 } else { 0.0 })).collect();
    (xs, ys, labels)
}

fn flat(p: &impl Params<Scalar = f64>) -> Vec<f64> {
    let mut v = Vec::new();
    p.visit(&mut |x| v.push(x));
    v
}

fn assert_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())), "{what}[{i}]: {x} vs {y}");
    }
}

/// Central differences of `cost` at a few parameters of each kind.
fn check_fd(what: &str, n: &Mlp, grad: &[f64], cost: impl Fn(&Mlp) -> f64) {
    let total = n.num_params();
    for idx in [0, 5, 64 * 32 - 1, 64 * 32 + 3, 64 * 32 + 32 + 17, total - 10, total - 1] {
        let h = 1e-6;
        let mut p = n.clone();
        let mut k = 0;
        p.visit_mut(&mut |v| {
            if k == idx {
                *v += h;
            }
            k += 1;
        });
        let up = cost(&p);
        let mut k = 0;
        p.visit_mut(&mut |v| {
            if k == idx {
                *v -= 2.0 * h;
            }
            k += 1;
        });
        let down = cost(&p);
        let fd = (up - down) / (2.0 * h);
        assert!(
            (fd - grad[idx]).abs() <= 1e-6 * (1.0 + fd.abs()),
            "{what} {}: {} vs fd {fd}",
            n.describe(idx, "net"),
            grad[idx]
        );
    }
}

#[test]
fn batch_cost_matches_per_sample_sum_and_finite_differences() {
    batch_cost_at(37);
    batch_cost_at(2);
}

fn batch_cost_at(size: usize) {
    let n = net(7);
    let (xs, ys, _) = batch(11, size);
    let (c, g) = batch_cost_grad(&n, &xs, &ys);
    let mut sum = MlpSampleGrad::default_for(&n);
    let mut c_sum = 0.0;
    for s in 0..xs.len() {
        let (cs, gs) = sample_cost_grad(&n, &xs[s], &ys[s]);
        c_sum += cs;
        sum.add(&gs.net);
    }
    assert!((c - c_sum).abs() <= 1e-10 * c_sum.abs(), "value {c} vs per-sample sum {c_sum}");
    assert_close("batch_cost vs per-sample sum", &flat(&g.net), &flat(&sum.0), 1e-10);
    check_fd("batch_cost", &n, &flat(&g.net), |p| batch_cost(p, &xs, &ys));
}

#[test]
fn batch_softmax_cross_entropy_matches_per_sample_sum_and_finite_differences() {
    let n = net(3);
    let (xs, ys, labels) = batch(5, 19);
    let (c, g) = batch_xent_grad(&n, &xs, &ys);
    let mut sum = MlpSampleGrad::default_for(&n);
    let mut c_sum = 0.0;
    for s in 0..xs.len() {
        let (cs, gs) = sample_xent_grad(&n, &xs[s], labels[s]);
        c_sum += cs;
        sum.add(&gs.net);
    }
    assert!((c - c_sum).abs() <= 1e-10 * c_sum.abs(), "value {c} vs per-sample sum {c_sum}");
    assert_close("batch_xent vs per-sample sum", &flat(&g.net), &flat(&sum.0), 1e-10);
    check_fd("batch_xent", &n, &flat(&g.net), |p| batch_xent(p, &xs, &ys));
}

/// The input sink of `dense_batch_pullback` and the targets' sink of the batched loss, directly,
/// against finite differences; every activation's derivative through the pullback.
#[test]
fn pullbacks_of_inputs_and_every_activation() {
    for size in [3, 12] {
        pullbacks_at(size);
    }
}

/// A batch below and above the size where `dense_batch` switches to GEMMs.
fn pullbacks_at(size: usize) {
    let n = net(9);
    let (xs, _, _) = batch(2, size);
    let mut r = Lcg(4);
    let d_out: Vec<[f64; 32]> = (0..xs.len()).map(|_| std::array::from_fn(|_| r.next())).collect();
    let acts = [
        Activation::Identity,
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Softplus,
        Activation::LeakyRelu(0.1),
        Activation::Elu(1.0),
        Activation::Gelu,
    ];
    for act in acts {
        let y = dense_batch(&n.l1, &xs, act);
        let proj = |xs: &[[f64; 64]], l: &Dense<64, 32>| -> f64 {
            let y = dense_batch(l, xs, act);
            y.iter().zip(&d_out).map(|(a, b)| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>()).sum()
        };
        let mut d_l = Dense::<64, 32>::zeros();
        let mut d_xs = vec![[0.0; 64]; xs.len()];
        dense_batch_pullback(&n.l1, &xs, act, &y, &d_out, Some(&mut d_l), Some(&mut d_xs[..]));
        // The per-sample pullback, summed.
        let mut d_l_sum = Dense::<64, 32>::zeros();
        for s in 0..xs.len() {
            let ys1 = dense(&n.l1, &xs[s], act);
            let mut d_x1 = [0.0; 64];
            dense_pullback(&n.l1, &xs[s], act, &ys1, &d_out[s], Some(&mut d_l_sum), Some(&mut d_x1));
            assert_close(&format!("{act:?} d_xs[{s}]"), &d_xs[s], &d_x1, 1e-10);
        }
        assert_close(&format!("{act:?} d_layer"), &flat(&d_l), &flat(&d_l_sum), 1e-10);
        for s in 0..xs.len() {
            assert_close(&format!("{act:?} row {s}"), &y[s], &dense(&n.l1, &xs[s], act), 1e-12);
        }
        for (s, i) in [(0, 0), (2, 17), (size - 1, 63)] {
            let h = 1e-6;
            let mut p = xs.clone();
            p[s][i] += h;
            let up = proj(&p, &n.l1);
            p[s][i] -= 2.0 * h;
            let down = proj(&p, &n.l1);
            let fd = (up - down) / (2.0 * h);
            assert!(
                (fd - d_xs[s][i]).abs() <= 1e-6 * (1.0 + fd.abs()),
                "{act:?} d_xs[{s}][{i}] {} vs fd {fd}",
                d_xs[s][i]
            );
        }
    }
    // Soft targets: the targets' adjoint.
    let logits: Vec<[f64; 10]> = (0..4).map(|_| std::array::from_fn(|_| 3.0 * r.next())).collect();
    let soft: Vec<[f64; 10]> = (0..4).map(|_| std::array::from_fn(|_| 0.5 + 0.5 * r.next())).collect();
    let v = softmax_cross_entropy_batch(&logits, &soft);
    let (mut dl, mut dy) = (vec![[0.0; 10]; 4], vec![[0.0; 10]; 4]);
    softmax_cross_entropy_batch_pullback(&logits, &soft, v, 1.5, Some(&mut dl[..]), Some(&mut dy[..]));
    for (s, k) in [(0, 0), (1, 4), (3, 9)] {
        let h = 1e-6;
        let f = |l: &[[f64; 10]], t: &[[f64; 10]]| 1.5 * softmax_cross_entropy_batch(l, t);
        let (mut a, mut b) = (logits.clone(), logits.clone());
        a[s][k] += h;
        b[s][k] -= h;
        let fd = (f(&a, &soft) - f(&b, &soft)) / (2.0 * h);
        assert!((fd - dl[s][k]).abs() <= 1e-6 * (1.0 + fd.abs()), "d_logits[{s}][{k}] {} vs fd {fd}", dl[s][k]);
        let (mut a, mut b) = (soft.clone(), soft.clone());
        a[s][k] += h;
        b[s][k] -= h;
        let fd = (f(&logits, &a) - f(&logits, &b)) / (2.0 * h);
        assert!((fd - dy[s][k]).abs() <= 1e-6 * (1.0 + fd.abs()), "d_ys[{s}][{k}] {} vs fd {fd}", dy[s][k]);
    }
}

#[derive(Params, Clone)]
pub struct Mlp32 {
    pub l1: Dense<64, 32, f32>,
    pub l2: Dense<32, 10, f32>,
}

#[backprop(wrt(net))]
fn batch_cost_f32(net: &Mlp32, xs: &[[f32; 64]], ys: &[[f32; 10]]) -> f32 {
    let h = dense_batch(&net.l1, xs, Activation::Sigmoid);
    let o = dense_batch(&net.l2, &h, Activation::Sigmoid);
    let mut c = 0.0;
    for s in 0..o.len() {
        for k in 0..10 {
            c += (o[s][k] - ys[s][k]).powi(2);
        }
    }
    c
}

#[test]
fn f32_matches_f64() {
    let n = net(21);
    let (xs, ys, _) = batch(8, 16);
    let (c, g) = batch_cost_grad(&n, &xs, &ys);
    let mut n32 = Mlp32 { l1: Dense::zeros(), l2: Dense::zeros() };
    let src = flat(&n);
    let mut k = 0;
    n32.visit_mut(&mut |v| {
        *v = src[k] as f32;
        k += 1;
    });
    let xs32: Vec<[f32; 64]> = xs.iter().map(|r| r.map(|v| v as f32)).collect();
    let ys32: Vec<[f32; 10]> = ys.iter().map(|r| r.map(|v| v as f32)).collect();
    let (c32, g32) = batch_cost_f32_grad(&n32, &xs32, &ys32);
    assert!((c - c32 as f64).abs() <= 1e-4 * c.abs(), "{c} vs {c32}");
    let mut v32 = Vec::new();
    g32.net.visit(&mut |v| v32.push(v as f64));
    assert_close("f32", &v32, &flat(&g.net), 1e-3);
}

/// The per-sample gradients summed, shaped like the network.
struct MlpSampleGrad(Mlp);
impl MlpSampleGrad {
    fn default_for(n: &Mlp) -> Self {
        MlpSampleGrad(n.zeros_like())
    }
    fn add(&mut self, g: &Mlp) {
        let src = flat(g);
        let mut k = 0;
        self.0.visit_mut(&mut |v| {
            *v += src[k];
            k += 1;
        });
    }
}
