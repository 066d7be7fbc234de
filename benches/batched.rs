//! Batched networks (issue 17): the 64-32-10 sigmoid network with a squared-error cost over a
//! batch, `#[backprop]` over `dense_batch` against a hand-written gradient formulated as matrix
//! products on `matrixmultiply` (the best hand-written form at this size), in f64 and f32, and
//! at batch 1 against the per-sample `dense` network.
//!
//! ```text
//! cargo bench --bench batched                                   # criterion, then the ratio table
//! BATCHED_TABLE_ONLY=1 cargo bench --bench batched              # only the interleaved ratio table
//! python3 benches/peers/batched_peers.py                        # JAX / PyTorch on the same network
//! (cd benches/peers/candle && cargo run --release)              # candle on the same network
//! ```
//!
//! The table times the two sides in alternating rounds (the order flipping every round) and
//! reports medians, so load from other processes cancels out of the ratios.

#![allow(clippy::needless_range_loop)]

use std::hint::black_box;

use backprop::prelude::*;
use criterion::Criterion;

#[macro_use]
#[path = "common/timing.rs"]
mod timing;
use timing::{interleaved, Run, ROUNDS};

const IN: usize = 64;
const HID: usize = 32;
const OUT: usize = 10;

#[derive(Params, Clone)]
pub struct Mlp<F: Float = f64> {
    pub l1: Dense<IN, HID, F>,
    pub l2: Dense<HID, OUT, F>,
}

/// The issue's objective, word for word.
#[backprop(wrt(net))]
pub fn batch_cost(net: &Mlp, xs: &[[f64; 64]], ys: &[[f64; 10]]) -> f64 {
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

/// The same in f32.
#[backprop(wrt(net))]
pub fn batch_cost_f32(net: &Mlp<f32>, xs: &[[f32; 64]], ys: &[[f32; 10]]) -> f32 {
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

/// One sample through the per-sample layers (what batch 1 was before `dense_batch`).
#[backprop(wrt(net))]
pub fn sample_cost(net: &Mlp, x: &[f64; 64], y: &[f64; 10]) -> f64 {
    let h = dense(&net.l1, x, Activation::Sigmoid);
    let o = dense(&net.l2, &h, Activation::Sigmoid);
    let mut c = 0.0;
    for k in 0..10 {
        c += (o[k] - y[k]).powi(2);
    }
    c
}

/// `C ← A B + β C` on matrixmultiply, row-major operands given by strides.
macro_rules! hand_gemm {
    ($name:ident, $t:ty, $f:ident) => {
        #[allow(clippy::too_many_arguments)]
        fn $name(
            m: usize,
            k: usize,
            n: usize,
            a: &[$t],
            ars: usize,
            acs: usize,
            b: &[$t],
            brs: usize,
            bcs: usize,
            beta: $t,
            c: &mut [$t],
        ) {
            // SAFETY: the callers pass slices the strides stay inside (sizes fixed by the network).
            unsafe {
                matrixmultiply::$f(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr(),
                    ars as isize,
                    acs as isize,
                    b.as_ptr(),
                    brs as isize,
                    bcs as isize,
                    beta,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                )
            }
        }
    };
}
hand_gemm!(gemm64, f64, dgemm);
hand_gemm!(gemm32, f32, sgemm);

/// The hand-written gradient as matrix products: forward `Z1 = X W1ᵀ + b1`, `H = σ(Z1)`,
/// `Z2 = H W2ᵀ + b2`, `O = σ(Z2)`; backward `Δ2 = 2 (O − Y) O (1 − O)`, `dW2 = Δ2ᵀ H`,
/// `dH = Δ2 W2`, `Δ1 = dH H (1 − H)`, `dW1 = Δ1ᵀ X`, biases the column sums.
macro_rules! hand_grad {
    ($name:ident, $t:ty, $gemm:ident) => {
        #[inline(never)]
        pub fn $name(net: &Mlp<$t>, xs: &[[$t; IN]], ys: &[[$t; OUT]]) -> ($t, Mlp<$t>) {
            let s = xs.len();
            let x = xs.as_flattened();
            let mut h = vec![0.0; s * HID];
            for r in 0..s {
                h[r * HID..][..HID].copy_from_slice(&net.l1.b);
            }
            $gemm(s, IN, HID, x, IN, 1, net.l1.w.as_flattened(), 1, IN, 1.0, &mut h);
            h.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp()));
            let mut o = vec![0.0; s * OUT];
            for r in 0..s {
                o[r * OUT..][..OUT].copy_from_slice(&net.l2.b);
            }
            $gemm(s, HID, OUT, &h, HID, 1, net.l2.w.as_flattened(), 1, HID, 1.0, &mut o);
            let mut c = 0.0;
            let y = ys.as_flattened();
            for (v, &t) in o.iter_mut().zip(y) {
                let a = 1.0 / (1.0 + (-*v).exp());
                let r = a - t;
                c += r * r;
                *v = 2.0 * r * a * (1.0 - a);
            }
            let mut g = Mlp { l1: Dense::zeros(), l2: Dense::zeros() };
            $gemm(OUT, s, HID, &o, 1, OUT, &h, HID, 1, 0.0, g.l2.w.as_flattened_mut());
            for r in 0..s {
                for k in 0..OUT {
                    g.l2.b[k] += o[r * OUT + k];
                }
            }
            let mut dh = vec![0.0; s * HID];
            $gemm(s, OUT, HID, &o, OUT, 1, net.l2.w.as_flattened(), HID, 1, 0.0, &mut dh);
            for (d, &a) in dh.iter_mut().zip(&h) {
                *d *= a * (1.0 - a);
            }
            $gemm(HID, s, IN, &dh, 1, HID, x, IN, 1, 0.0, g.l1.w.as_flattened_mut());
            for r in 0..s {
                for j in 0..HID {
                    g.l1.b[j] += dh[r * HID + j];
                }
            }
            (c, g)
        }
    };
}
hand_grad!(hand_batch64, f64, gemm64);
hand_grad!(hand_batch32, f32, gemm32);

#[inline(never)]
pub fn gen_batch64(net: &Mlp, xs: &[[f64; IN]], ys: &[[f64; OUT]]) -> (f64, BatchCostGrad) {
    batch_cost_grad(net, xs, ys)
}
#[inline(never)]
pub fn gen_batch64_acc(net: &Mlp, xs: &[[f64; IN]], ys: &[[f64; OUT]], g: &mut BatchCostGrad) -> f64 {
    batch_cost_grad_acc(net, xs, ys, g)
}
#[inline(never)]
pub fn gen_batch32(net: &Mlp<f32>, xs: &[[f32; IN]], ys: &[[f32; OUT]]) -> (f32, BatchCostF32Grad) {
    batch_cost_f32_grad(net, xs, ys)
}
#[inline(never)]
pub fn gen_sample(net: &Mlp, x: &[f64; IN], y: &[f64; OUT]) -> (f64, SampleCostGrad) {
    sample_cost_grad(net, x, y)
}

/// A deterministic generator: xorshift in [-1, 1).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

struct Data {
    net: Mlp,
    net32: Mlp<f32>,
    xs: Vec<[f64; IN]>,
    ys: Vec<[f64; OUT]>,
    xs32: Vec<[f32; IN]>,
    ys32: Vec<[f32; OUT]>,
}

fn data(batch: usize) -> Data {
    let mut r = Rng(0x9e3779b97f4a7c15);
    let mut net = Mlp { l1: Dense::zeros(), l2: Dense::zeros() };
    net.visit_mut(&mut |v| *v = 0.3 * r.next());
    let xs: Vec<[f64; IN]> = (0..batch).map(|_| std::array::from_fn(|_| 0.5 + 0.5 * r.next())).collect();
    let ys: Vec<[f64; OUT]> = (0..batch).map(|s| std::array::from_fn(|k| f64::from(u8::from(k == s % OUT)))).collect();
    let mut flat = Vec::new();
    net.visit(&mut |v| flat.push(v as f32));
    let mut net32 = Mlp { l1: Dense::zeros(), l2: Dense::zeros() };
    let mut k = 0;
    net32.visit_mut(&mut |v| {
        *v = flat[k];
        k += 1;
    });
    let xs32 = xs.iter().map(|r| r.map(|v| v as f32)).collect();
    let ys32 = ys.iter().map(|r| r.map(|v| v as f32)).collect();
    Data { net, net32, xs, ys, xs32, ys32 }
}

fn params(p: &impl Params) -> Vec<f64> {
    let mut v = Vec::new();
    p.visit(&mut |x| v.push(x.as_f64()));
    v
}

/// Every gradient timed is checked first: generated against hand-written.
fn verify(d: &Data) {
    let (c, g) = gen_batch64(&d.net, &d.xs, &d.ys);
    let (ch, gh) = hand_batch64(&d.net, &d.xs, &d.ys);
    assert!((c - ch).abs() <= 1e-10 * c.abs(), "f64 value {c} vs {ch}");
    for (a, b) in params(&g.net).iter().zip(params(&gh)) {
        assert!((a - b).abs() <= 1e-9 * (1.0 + b.abs()), "f64 gradient {a} vs {b}");
    }
    let (c, g) = gen_batch32(&d.net32, &d.xs32, &d.ys32);
    let (ch, gh) = hand_batch32(&d.net32, &d.xs32, &d.ys32);
    assert!((c - ch).abs() <= 1e-4 * c.abs(), "f32 value {c} vs {ch}");
    for (a, b) in params(&g.net).iter().zip(params(&gh)) {
        assert!((a - b).abs() <= 1e-3 * (1.0 + b.abs()), "f32 gradient {a} vs {b}");
    }
}

fn main() {
    let d: &'static Data = Box::leak(Box::new(data(256)));
    let one: &'static Data = Box::leak(Box::new(data(1)));
    verify(d);
    verify(one);
    let mut cases: Vec<(&str, Run, Run)> = vec![
        (
            "f64, batch 256, _grad",
            run!(hand_batch64(&d.net, black_box(&d.xs), &d.ys)),
            run!(gen_batch64(&d.net, black_box(&d.xs), &d.ys)),
        ),
        ("f64, batch 256, _grad_acc", run!(hand_batch64(&d.net, black_box(&d.xs), &d.ys)), {
            let mut g = BatchCostGrad { net: d.net.zeros_like() };
            run!(gen_batch64_acc(&d.net, black_box(&d.xs), &d.ys, &mut g))
        }),
        (
            "f32, batch 256, _grad",
            run!(hand_batch32(&d.net32, black_box(&d.xs32), &d.ys32)),
            run!(gen_batch32(&d.net32, black_box(&d.xs32), &d.ys32)),
        ),
        (
            "f64, batch 1, _grad",
            run!(hand_batch64(&one.net, black_box(&one.xs), &one.ys)),
            run!(gen_batch64(&one.net, black_box(&one.xs), &one.ys)),
        ),
        (
            "f32, batch 1, _grad",
            run!(hand_batch32(&one.net32, black_box(&one.xs32), &one.ys32)),
            run!(gen_batch32(&one.net32, black_box(&one.xs32), &one.ys32)),
        ),
        (
            "f64, batch 1: dense_batch / per-sample dense",
            run!(gen_sample(&one.net, black_box(&one.xs[0]), &one.ys[0])),
            run!(gen_batch64(&one.net, black_box(&one.xs), &one.ys)),
        ),
    ];
    if std::env::var_os("BATCHED_TABLE_ONLY").is_none() {
        let mut c = Criterion::default().configure_from_args();
        for (name, hand, generated) in cases.iter_mut() {
            let mut group = c.benchmark_group(name.replace([',', ' ', ':', '/'], "_"));
            group.bench_function("hand", |b| b.iter(&mut *hand));
            group.bench_function("generated", |b| b.iter(&mut *generated));
            group.finish();
        }
        c.final_summary();
    }
    println!("\nInterleaved ratio table ({ROUNDS} rounds of ~10 ms each side; medians):\n");
    println!(
        "| case | hand-written (matrixmultiply) | generated (dense_batch) | generated / hand | best / best | on-CPU ratio | fastest rounds (hand, generated) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, hand, generated) in cases.iter_mut() {
        let c = interleaved(&mut **hand, &mut **generated);
        println!(
            "| {name} | {:.2} µs | {:.2} µs | {:.2} | {:.2} | {:.2} | {:.2} µs, {:.2} µs |",
            c.hand * 1e6,
            c.generated * 1e6,
            c.ratio,
            c.best_ratio,
            c.cpu_ratio,
            c.hand_best * 1e6,
            c.generated_best * 1e6
        );
    }
}
