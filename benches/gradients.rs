//! Gradient benchmarks: what `#[backprop]` generates against a hand-written reverse sweep, written
//! as a competent engineer would (one fused pass or a forward and a backward loop, no heap
//! allocation, straightforward indexed loops), with `num-dual` forward mode as a second baseline.
//!
//! ```text
//! cargo bench --bench gradients
//! cargo bench --bench gradients -- --warm-up-time 1 --measurement-time 2   # quicker
//! ```
//!
//! | case | cost | hand-written | generated | other |
//! | --- | --- | --- | --- | --- |
//! | extended Rosenbrock, n = 1000 (and 100) | [`rosenbrock`] | [`hand_rosenbrock`] | `generated_rosenbrock` (slot) | [`dual_rosenbrock`], n = 100 |
//! | 64-32-10 sigmoid network, one sample | [`net_cost`] | [`hand_net`] | `generated_net` (slot) | |
//! | the same network, batch of 256 | [`batch_cost`] | [`hand_batch`] | `generated_batch` (slot) | |
//! | the lesson's three-weight chain | [`lesson`] | [`hand_lesson`] | [`generated_lesson`] | |
//!
//! Every case's cost is an ordinary function written with arrays and `for` loops, exactly as it
//! will be handed to `#[backprop]` once the macro differentiates arrays and loops; until then
//! the `generated_*` slots are commented out (search for `GENERATED`). Hand-written and
//! generated gradients return the gradient by value, as `#[backprop]`'s `<name>_grad` does, so
//! both pay for the same result handling. Before timing, [`verify`] checks every gradient
//! against central finite differences of its cost.

// The costs are written with indexed loops, the form `#[backprop]` differentiates, and the
// hand-written gradients mirror them.
#![allow(clippy::needless_range_loop)]

use std::hint::black_box;

use backprop::prelude::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use num_dual::Dual64;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

// ==============================================================================================
// (a) Extended Rosenbrock
// ==============================================================================================

/// The problem size of the reverse-mode benchmarks.
const N: usize = 1000;
/// The size for forward mode, which needs one pass per coordinate (O(n²) in all).
const N_DUAL: usize = 100;

/// Extended (chained) Rosenbrock: `Σ_{i<n-1} 100 (x[i+1] − x[i]²)² + (1 − x[i])²`.
#[backprop]
pub fn rosenbrock<const N: usize>(x: &[f64; N]) -> f64 {
    let mut f = 0.0;
    for i in 0..N - 1 {
        f += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
    }
    f
}

/// By hand: one fused pass, each term scattering into the two coordinates it touches.
pub fn hand_rosenbrock<const N: usize>(x: &[f64; N]) -> (f64, [f64; N]) {
    let mut g = [0.0; N];
    let mut f = 0.0;
    for i in 0..N - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        f += 100.0 * a * a + b * b;
        g[i] += -400.0 * a * x[i] - 2.0 * b;
        g[i + 1] += 200.0 * a;
    }
    (f, g)
}

/// Rosenbrock over `num_dual::Dual64`.
fn rosenbrock_dual(x: &[Dual64]) -> Dual64 {
    let mut f = Dual64::from(0.0);
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = Dual64::from(1.0) - x[i];
        f += a * a * 100.0 + b * b;
    }
    f
}

/// Forward mode with `num-dual`: one pass per coordinate, seeding that coordinate's `eps`.
/// The dual vector lives on the stack and is reused across passes.
pub fn dual_rosenbrock<const N: usize>(x: &[f64; N]) -> (f64, [f64; N]) {
    let mut xd = [Dual64::from(0.0); N];
    for (d, &v) in xd.iter_mut().zip(x) {
        *d = Dual64::from(v);
    }
    let mut g = [0.0; N];
    let mut f = 0.0;
    for i in 0..N {
        xd[i].eps = 1.0;
        let y = rosenbrock_dual(&xd);
        xd[i].eps = 0.0;
        f = y.re;
        g[i] = y.eps;
    }
    (f, g)
}

/// The same function written with products (`100 a a + b b`): its gradient has a longer chain of
/// operations (`d_a = 100 a + 100 a`, where a person writes `200 a`), measured separately.
#[backprop]
pub fn rosenbrock_products<const N: usize>(x: &[f64; N]) -> f64 {
    let mut f = 0.0;
    for i in 0..N - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        f += 100.0 * a * a + b * b;
    }
    f
}

// The generated gradient, in the same shape as `hand_rosenbrock`.
pub fn generated_rosenbrock<const N: usize>(x: &[f64; N]) -> (f64, RosenbrockGrad<N>) {
    rosenbrock_grad(x)
}

// ==============================================================================================
// (b), (c) A 64-32-10 sigmoid network with squared error, on one sample and on a batch of 256
// ==============================================================================================

const IN: usize = 64;
const HID: usize = 32;
const OUT: usize = 10;
const BATCH: usize = 256;

/// The network's parameters, as separate arrays so they can be `#[backprop]` arguments.
pub struct Net {
    pub w1: [[f64; IN]; HID],
    pub b1: [f64; HID],
    pub w2: [[f64; HID]; OUT],
    pub b2: [f64; OUT],
}

/// The gradient, shaped like the struct `#[backprop(wrt(w1, b1, w2, b2))]` generates.
pub struct NetGrad {
    pub w1: [[f64; IN]; HID],
    pub b1: [f64; HID],
    pub w2: [[f64; HID]; OUT],
    pub b2: [f64; OUT],
}

impl NetGrad {
    fn zeros() -> Self {
        NetGrad { w1: [[0.0; IN]; HID], b1: [0.0; HID], w2: [[0.0; HID]; OUT], b2: [0.0; OUT] }
    }

    fn flat(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.w1.iter().flatten().copied().collect();
        v.extend(self.b1);
        v.extend(self.w2.iter().flatten());
        v.extend(self.b2);
        v
    }
}

/// `C = Σ_k (σ(w2 σ(w1 x + b1) + b2)_k − y_k)²` for one sample.
#[backprop(wrt(w1, b1, w2, b2))]
pub fn net_cost(
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

/// `Σ_s net_cost(.., xs[s], ys[s])`, written as one function with a loop over the batch.
#[backprop(wrt(w1, b1, w2, b2))]
pub fn batch_cost(
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

/// One sample's backward pass, adding into `g`: `d_z2 = 2 r σ'`, `d_h = w2ᵀ d_z2`,
/// `d_z1 = d_h σ'`, outer products for the weights. Returns the sample's cost.
#[inline(always)]
fn hand_net_accumulate(p: &Net, x: &[f64; IN], y: &[f64; OUT], g: &mut NetGrad) -> f64 {
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

/// By hand, one sample.
pub fn hand_net(p: &Net, x: &[f64; IN], y: &[f64; OUT]) -> (f64, NetGrad) {
    let mut g = NetGrad::zeros();
    let c = hand_net_accumulate(p, x, y, &mut g);
    (c, g)
}

/// By hand, a batch: one gradient accumulator for all samples.
pub fn hand_batch(p: &Net, xs: &[[f64; IN]; BATCH], ys: &[[f64; OUT]; BATCH]) -> (f64, NetGrad) {
    let mut g = NetGrad::zeros();
    let mut c = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        c += hand_net_accumulate(p, x, y, &mut g);
    }
    (c, g)
}

// The generated gradients, in the same shape as `hand_net` and `hand_batch`.
pub fn generated_net(p: &Net, x: &[f64; IN], y: &[f64; OUT]) -> (f64, NetCostGrad) {
    net_cost_grad(&p.w1, &p.b1, &p.w2, &p.b2, x, y)
}

pub fn generated_batch(p: &Net, xs: &[[f64; IN]; BATCH], ys: &[[f64; OUT]; BATCH]) -> (f64, BatchCostGrad) {
    batch_cost_grad(&p.w1, &p.b1, &p.w2, &p.b2, xs, ys)
}

// ==============================================================================================
// (d) The lesson's chain: `#[backprop]` already generates this one
// ==============================================================================================

/// The lesson's cost (as in `tests/lesson.rs`), differentiated with respect to the weights.
#[backprop(wrt(w1, w2, w3))]
pub fn lesson(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
    let a1 = w1 * a0;
    let a2 = w2 * a1;
    let a3 = w3 * a2;
    (a3 - y).powi(2)
}

/// What `#[backprop]` generates, returned in the hand-written version's shape.
#[inline(always)]
pub fn generated_lesson(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> (f64, [f64; 3]) {
    let (c, g) = lesson_grad(w1, w2, w3, a0, y);
    (c, [g.w1, g.w2, g.w3])
}

/// By hand: the forward chain, then the adjoints back down it.
pub fn hand_lesson(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> (f64, [f64; 3]) {
    let a1 = w1 * a0;
    let a2 = w2 * a1;
    let a3 = w3 * a2;
    let r = a3 - y;
    let d_a3 = 2.0 * r;
    let d_a2 = d_a3 * w3;
    let d_a1 = d_a2 * w2;
    (r * r, [d_a1 * a0, d_a2 * a1, d_a3 * a2])
}

// ==============================================================================================
// Inputs and the correctness check
// ==============================================================================================

fn uniform<const M: usize>(rng: &mut StdRng, lo: f64, hi: f64) -> [f64; M] {
    std::array::from_fn(|_| rng.random_range(lo..hi))
}

/// A deterministic Rosenbrock point away from the minimum.
fn rosenbrock_point<const M: usize>() -> [f64; M] {
    uniform(&mut StdRng::seed_from_u64(1), -1.5, 1.5)
}

/// Weights and a batch of samples.
struct Problem {
    net: Net,
    xs: Box<[[f64; IN]; BATCH]>,
    ys: Box<[[f64; OUT]; BATCH]>,
}

/// Deterministic weights and a batch of inputs in `[0, 1]` with one-hot targets.
fn net_problem() -> Problem {
    let mut rng = StdRng::seed_from_u64(2);
    let (a1, a2) = ((6.0 / (IN + HID) as f64).sqrt(), (6.0 / (HID + OUT) as f64).sqrt());
    let net = Net {
        w1: std::array::from_fn(|_| uniform(&mut rng, -a1, a1)),
        b1: uniform(&mut rng, -0.1, 0.1),
        w2: std::array::from_fn(|_| uniform(&mut rng, -a2, a2)),
        b2: uniform(&mut rng, -0.1, 0.1),
    };
    let mut xs = Box::new([[0.0; IN]; BATCH]);
    let mut ys = Box::new([[0.0; OUT]; BATCH]);
    for (x, y) in xs.iter_mut().zip(ys.iter_mut()) {
        *x = uniform(&mut rng, 0.0, 1.0);
        y[rng.random_range(0..OUT)] = 1.0;
    }
    Problem { net, xs, ys }
}

/// Panics unless `grad` matches central differences of `cost` at the coordinates `probe`
/// (relative error 1e-5, or absolute 1e-7 near zero).
fn check_fd(what: &str, x: &[f64], grad: &[f64], probe: &[usize], cost: impl Fn(&[f64]) -> f64) {
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

/// Checks every benchmarked gradient before anything is timed.
fn verify() {
    // Rosenbrock: hand vs finite differences; forward mode vs hand.
    let x: [f64; N] = rosenbrock_point();
    let (f, g) = hand_rosenbrock(&x);
    assert_eq!(f, rosenbrock(&x));
    check_fd("hand_rosenbrock", &x, &g, &[0, 1, 500, N - 2, N - 1], |v| rosenbrock::<N>(v.try_into().unwrap()));
    let x: [f64; N_DUAL] = rosenbrock_point();
    let (fh, gh) = hand_rosenbrock(&x);
    let (fd, gd) = dual_rosenbrock(&x);
    assert!((fh - fd).abs() <= 1e-12 * fh.abs());
    for (a, b) in gh.iter().zip(&gd) {
        assert!((a - b).abs() <= 1e-10 * a.abs().max(1.0), "dual_rosenbrock: {a} vs {b}");
    }

    // The network: the batch gradient is the sum of the sample gradients, and both match
    // finite differences in a few entries of every parameter array.
    let Problem { net: p, xs, ys } = net_problem();
    let flat_params = NetGrad { w1: p.w1, b1: p.b1, w2: p.w2, b2: p.b2 }.flat();
    let unflat = |v: &[f64]| {
        let (w1, rest) = v.split_at(IN * HID);
        let (b1, rest) = rest.split_at(HID);
        let (w2, b2) = rest.split_at(HID * OUT);
        Net {
            w1: std::array::from_fn(|j| w1[j * IN..][..IN].try_into().unwrap()),
            b1: b1.try_into().unwrap(),
            w2: std::array::from_fn(|k| w2[k * HID..][..HID].try_into().unwrap()),
            b2: b2.try_into().unwrap(),
        }
    };
    let probe = [0, 5, IN * HID - 1, IN * HID + 3, IN * HID + HID + 7, flat_params.len() - 1];
    let (c, g) = hand_net(&p, &xs[0], &ys[0]);
    assert_eq!(c, net_cost(&p.w1, &p.b1, &p.w2, &p.b2, &xs[0], &ys[0]));
    check_fd("hand_net", &flat_params, &g.flat(), &probe, |v| {
        let q = unflat(v);
        net_cost(&q.w1, &q.b1, &q.w2, &q.b2, &xs[0], &ys[0])
    });
    let (c, g) = hand_batch(&p, &xs, &ys);
    let cost = batch_cost(&p.w1, &p.b1, &p.w2, &p.b2, &xs, &ys);
    assert!((c - cost).abs() <= 1e-12 * cost);
    check_fd("hand_batch", &flat_params, &g.flat(), &probe, |v| {
        let q = unflat(v);
        batch_cost(&q.w1, &q.b1, &q.w2, &q.b2, &xs, &ys)
    });

    // The generated gradients agree with the hand-written ones.
    let x: [f64; N] = rosenbrock_point();
    let ((fh, gh), (fg, gg)) = (hand_rosenbrock(&x), generated_rosenbrock(&x));
    assert_eq!(fg, rosenbrock(&x));
    assert!((fh - fg).abs() <= 1e-12 * fh.abs());
    for (a, b) in gh.iter().zip(&gg.x) {
        assert!((a - b).abs() <= 1e-10 * a.abs().max(1.0), "generated_rosenbrock: {a} vs {b}");
    }
    let (fp, gp) = rosenbrock_products_grad(&x);
    assert_eq!(fp, rosenbrock_products(&x));
    for (a, b) in gh.iter().zip(&gp.x) {
        assert!((a - b).abs() <= 1e-10 * a.abs().max(1.0), "rosenbrock_products_grad: {a} vs {b}");
    }
    let (c, g) = generated_net(&p, &xs[0], &ys[0]);
    let generated = NetGrad { w1: g.w1, b1: g.b1, w2: g.w2, b2: g.b2 }.flat();
    assert_eq!(c, net_cost(&p.w1, &p.b1, &p.w2, &p.b2, &xs[0], &ys[0]));
    for (a, b) in hand_net(&p, &xs[0], &ys[0]).1.flat().iter().zip(&generated) {
        assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "generated_net: {a} vs {b}");
    }
    let (_, g) = generated_batch(&p, &xs, &ys);
    let generated = NetGrad { w1: g.w1, b1: g.b1, w2: g.w2, b2: g.b2 }.flat();
    for (a, b) in hand_batch(&p, &xs, &ys).1.flat().iter().zip(&generated) {
        assert!((a - b).abs() <= 1e-10 * a.abs().max(1.0), "generated_batch: {a} vs {b}");
    }

    // The lesson: generated and hand-written agree exactly at the lesson's numbers.
    assert_eq!(hand_lesson(2.0, 3.0, 0.5, 1.0, 2.0), (1.0, [3.0, 2.0, 12.0]));
    assert_eq!(generated_lesson(2.0, 3.0, 0.5, 1.0, 2.0), (1.0, [3.0, 2.0, 12.0]));
    assert_eq!(lesson(2.0, 3.0, 0.5, 1.0, 2.0), 1.0);
}

// ==============================================================================================
// Benchmarks
// ==============================================================================================

fn bench_rosenbrock(c: &mut Criterion) {
    let mut group = c.benchmark_group("rosenbrock");
    let x: [f64; N] = rosenbrock_point();
    group.bench_with_input(BenchmarkId::new("hand", N), &x, |b, x| {
        b.iter(|| {
            let (f, g) = hand_rosenbrock(black_box(x));
            black_box((f, &g));
        })
    });
    group.bench_with_input(BenchmarkId::new("generated", N), &x, |b, x| {
        b.iter(|| {
            let (f, g) = generated_rosenbrock(black_box(x));
            black_box((f, &g));
        })
    });
    group.bench_with_input(BenchmarkId::new("generated_products", N), &x, |b, x| {
        b.iter(|| {
            let (f, g) = rosenbrock_products_grad(black_box(x));
            black_box((f, &g));
        })
    });
    let x: [f64; N_DUAL] = rosenbrock_point();
    group.bench_with_input(BenchmarkId::new("hand", N_DUAL), &x, |b, x| {
        b.iter(|| {
            let (f, g) = hand_rosenbrock(black_box(x));
            black_box((f, &g));
        })
    });
    group.bench_with_input(BenchmarkId::new("generated", N_DUAL), &x, |b, x| {
        b.iter(|| {
            let (f, g) = generated_rosenbrock(black_box(x));
            black_box((f, &g));
        })
    });
    group.bench_with_input(BenchmarkId::new("num_dual_forward", N_DUAL), &x, |b, x| {
        b.iter(|| {
            let (f, g) = dual_rosenbrock(black_box(x));
            black_box((f, &g));
        })
    });
    group.finish();
}

fn bench_network(c: &mut Criterion) {
    let Problem { net: p, xs, ys } = net_problem();
    let mut group = c.benchmark_group("net_64_32_10");
    group.bench_function("hand/sample", |b| {
        b.iter(|| {
            let (c, g) = hand_net(black_box(&p), black_box(&xs[0]), black_box(&ys[0]));
            black_box((c, &g));
        })
    });
    group.bench_function("generated/sample", |b| {
        b.iter(|| {
            let (c, g) = generated_net(black_box(&p), black_box(&xs[0]), black_box(&ys[0]));
            black_box((c, &g));
        })
    });
    group.bench_function(BenchmarkId::new("hand/batch", BATCH), |b| {
        b.iter(|| {
            let (c, g) = hand_batch(black_box(&p), black_box(&xs), black_box(&ys));
            black_box((c, &g));
        })
    });
    group.bench_function(BenchmarkId::new("generated/batch", BATCH), |b| {
        b.iter(|| {
            let (c, g) = generated_batch(black_box(&p), black_box(&xs), black_box(&ys));
            black_box((c, &g));
        })
    });
    group.finish();
}

fn bench_lesson(c: &mut Criterion) {
    let mut group = c.benchmark_group("lesson");
    let args = (2.0, 3.0, 0.5, 1.0, 2.0);
    group.bench_function("generated", |b| {
        b.iter(|| {
            let (w1, w2, w3, a0, y) = black_box(args);
            black_box(generated_lesson(w1, w2, w3, a0, y))
        })
    });
    group.bench_function("hand", |b| {
        b.iter(|| {
            let (w1, w2, w3, a0, y) = black_box(args);
            black_box(hand_lesson(w1, w2, w3, a0, y))
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    verify();
    bench_rosenbrock(c);
    bench_network(c);
    bench_lesson(c);
}

criterion_group!(gradients, benches);
criterion_main!(gradients);
