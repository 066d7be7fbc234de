//! Composition benchmark (issue 8): "a network built from called layers is within 1.1× of the same
//! network written flat". The 64 → 32 (tanh) → 10 softmax cross-entropy network of
//! `examples/digits`, per-sample gradient, in six forms that all compute the same gradient:
//!
//! | form | written as |
//! | --- | --- |
//! | `hand` | a hand-written forward and backward pass in plain indexed loops, into a `Net` (the reference) |
//! | `flat` | one `#[backprop]` function over arrays with loops (`sample_cost` of `examples/digits/model.rs`) |
//! | `layers` | `#[derive(Params)] struct Net { l1: Dense<64, 32>, l2: Dense<32, 10> }` and a cost calling the runtime's `dense`, `dense`, `softmax_cross_entropy` |
//! | `user_layers` | the same calls to user-written `#[backprop]` layers (`tanh_layer`, `linear_layer`: loops as in `flat`) and a user-written softmax cross-entropy |
//! | `nested` | a `#[backprop]` `logits(net, x)` calling the runtime's layers, and a cost calling `logits` then `softmax_cross_entropy`: `logits`' pullback recomputes both layers |
//! | `nested_user` | `nested` with the user-written layers |
//!
//! Each generated form is measured as `_grad_acc` (adds into a caller's gradient; what a training
//! loop calls per sample) and as `_grad` (returns a fresh gradient); `hand` has the same two forms.
//! One measured call runs the form over [`SAMPLES`] samples; the tables report per sample.
//!
//! Before anything is measured, [`verify`] checks that every form's value and gradient (both
//! `_grad` and `_grad_acc`) equal the hand-written ones to 1e-12 relative at every sample, and the
//! hand-written gradient against central differences, so the benchmark cannot compare different
//! computations.
//!
//! ```text
//! cargo bench --bench composition                                          # criterion, then the ratio table
//! COMPOSITION_TABLE_ONLY=1 cargo bench --bench composition                 # only the wall-clock ratio table
//! bash benches/composition_callgrind.sh                                    # instructions per sample (valgrind)
//! ```
//!
//! Callgrind counts the `rep stosb`/`rep movsb` with which glibc zeroes and copies the 19 KB
//! gradient once per byte, so the `_grad` rows carry about 38,600 instructions a sample that cost
//! far less time; their instruction ratios understate differences (the wall-clock table does not).
//!
//! `COMPOSITION_CALLGRIND=<form>/<acc|grad>` runs one form a fixed number of times inside `measure`,
//! for `valgrind --tool=callgrind --toggle-collect='*composition::measure*'` (what
//! `composition_callgrind.sh` does); `COMPOSITION_LIST=1` prints the case names and repetitions.

// The costs and the hand-written gradient are written with indexed loops, the form `#[backprop]`
// differentiates (also the copy of a called layer's result into `logits`' returned array).
#![allow(clippy::needless_range_loop, clippy::manual_memcpy)]

use std::hint::black_box;
use std::time::Instant;

use backprop::prelude::*;
use backprop::runtime::params::to_vec;
use criterion::Criterion;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Pixels of a digit.
pub const PIXELS: usize = 64;
/// Hidden units.
pub const HIDDEN: usize = 32;
/// Classes.
pub const CLASSES: usize = 10;
/// Samples per measured call.
pub const SAMPLES: usize = 16;

/// The network as a parameter struct: two runtime `Dense` layers.
#[derive(Params, Clone, Debug, PartialEq)]
pub struct Net {
    pub l1: Dense<PIXELS, HIDDEN>,
    pub l2: Dense<HIDDEN, CLASSES>,
}

impl Net {
    fn zeros() -> Self {
        Net { l1: Dense::zeros(), l2: Dense::zeros() }
    }
}

// ==============================================================================================
// (a) flat: `sample_cost` of examples/digits/model.rs, unchanged
// ==============================================================================================

/// Softmax cross-entropy of one digit, `m + ln Σ_k exp(logits[k] − m) − logits[label]`.
#[backprop(wrt(w1, b1, w2, b2))]
pub fn sample_cost<const H: usize>(
    w1: &[[f64; PIXELS]; H],
    b1: &[f64; H],
    w2: &[[f64; H]; CLASSES],
    b2: &[f64; CLASSES],
    x: &[f64; PIXELS],
    label: usize,
) -> f64 {
    let mut h = [0.0; H];
    for j in 0..H {
        let mut z = b1[j];
        for i in 0..PIXELS {
            z += w1[j][i] * x[i];
        }
        h[j] = z.tanh();
    }
    let mut logits = [0.0; CLASSES];
    for k in 0..CLASSES {
        let mut z = b2[k];
        for j in 0..H {
            z += w2[k][j] * h[j];
        }
        logits[k] = z;
    }
    let mut m = logits[0];
    for k in 1..CLASSES {
        if logits[k] > m {
            m = logits[k];
        }
    }
    let mut s = 0.0;
    for k in 0..CLASSES {
        s += (logits[k] - m).exp();
    }
    m + s.ln() - logits[label]
}

// ==============================================================================================
// (b) the runtime's layers, called
// ==============================================================================================

#[backprop(wrt(net))]
pub fn layers_cost(net: &Net, x: &[f64; PIXELS], label: usize) -> f64 {
    let h = dense(&net.l1, x, Activation::Tanh);
    let logits = dense(&net.l2, &h, Activation::Identity);
    softmax_cross_entropy(&logits, label)
}

// ==============================================================================================
// (c) user-written layers, called
// ==============================================================================================

/// `tanh(w x + b)`, the loops of `sample_cost`'s first layer.
#[backprop]
pub fn tanh_layer<const I: usize, const O: usize>(p: &Dense<I, O>, x: &[f64; I]) -> [f64; O] {
    let mut out = [0.0; O];
    for j in 0..O {
        let mut z = p.b[j];
        for i in 0..I {
            z += p.w[j][i] * x[i];
        }
        out[j] = z.tanh();
    }
    out
}

/// `w x + b`, the loops of `sample_cost`'s second layer.
#[backprop]
pub fn linear_layer<const I: usize, const O: usize>(p: &Dense<I, O>, x: &[f64; I]) -> [f64; O] {
    let mut out = [0.0; O];
    for j in 0..O {
        let mut z = p.b[j];
        for i in 0..I {
            z += p.w[j][i] * x[i];
        }
        out[j] = z;
    }
    out
}

/// The tail of `sample_cost`: `m + ln Σ_k exp(logits[k] − m) − logits[label]`.
#[backprop]
pub fn user_softmax_ce<const N: usize>(logits: &[f64; N], label: usize) -> f64 {
    let mut m = logits[0];
    for k in 1..N {
        if logits[k] > m {
            m = logits[k];
        }
    }
    let mut s = 0.0;
    for k in 0..N {
        s += (logits[k] - m).exp();
    }
    m + s.ln() - logits[label]
}

#[backprop(wrt(net))]
pub fn user_layers_cost(net: &Net, x: &[f64; PIXELS], label: usize) -> f64 {
    let h = tanh_layer(&net.l1, x);
    let logits = linear_layer(&net.l2, &h);
    user_softmax_ce(&logits, label)
}

// ==============================================================================================
// (e) nested composition: a `logits` function calling the layers, called by the cost
// ==============================================================================================

/// The network's output scores, from the runtime's layers. The cost calls it through
/// `logits_vjp`, whose closure keeps both layers' outputs (its pullback, for calls in loops, reads
/// the second layer's output from its result and recomputes the first layer's).
#[backprop]
pub fn logits(net: &Net, x: &[f64; PIXELS]) -> [f64; CLASSES] {
    let h = dense(&net.l1, x, Activation::Tanh);
    dense(&net.l2, &h, Activation::Identity)
}

#[backprop(wrt(net))]
pub fn nested_cost(net: &Net, x: &[f64; PIXELS], label: usize) -> f64 {
    let z = logits(net, x);
    softmax_cross_entropy(&z, label)
}

/// [`logits`] from the user-written layers.
#[backprop]
pub fn user_logits(net: &Net, x: &[f64; PIXELS]) -> [f64; CLASSES] {
    let h = tanh_layer(&net.l1, x);
    linear_layer(&net.l2, &h)
}

#[backprop(wrt(net))]
pub fn nested_user_cost(net: &Net, x: &[f64; PIXELS], label: usize) -> f64 {
    let z = user_logits(net, x);
    user_softmax_ce(&z, label)
}

// ==============================================================================================
// (d) by hand: forward, then backward, in plain indexed loops (the loops of `flat`)
// ==============================================================================================

/// Adds the gradient of the cost at one sample into `g`; returns the cost.
#[inline]
fn hand_acc(net: &Net, x: &[f64; PIXELS], label: usize, g: &mut Net) -> f64 {
    let (l1, l2) = (&net.l1, &net.l2);
    let mut h = [0.0; HIDDEN];
    for j in 0..HIDDEN {
        let mut z = l1.b[j];
        for i in 0..PIXELS {
            z += l1.w[j][i] * x[i];
        }
        h[j] = z.tanh();
    }
    let mut logits = [0.0; CLASSES];
    for k in 0..CLASSES {
        let mut z = l2.b[k];
        for j in 0..HIDDEN {
            z += l2.w[k][j] * h[j];
        }
        logits[k] = z;
    }
    let mut m = logits[0];
    for k in 1..CLASSES {
        if logits[k] > m {
            m = logits[k];
        }
    }
    let mut e = [0.0; CLASSES];
    let mut s = 0.0;
    for k in 0..CLASSES {
        e[k] = (logits[k] - m).exp();
        s += e[k];
    }
    let cost = m + s.ln() - logits[label];
    // d logits = softmax − one-hot; back through the second layer, row by row.
    let inv_s = 1.0 / s;
    let mut d_h = [0.0; HIDDEN];
    for k in 0..CLASSES {
        let d = e[k] * inv_s - if k == label { 1.0 } else { 0.0 };
        for j in 0..HIDDEN {
            g.l2.w[k][j] += d * h[j];
            d_h[j] += d * l2.w[k][j];
        }
        g.l2.b[k] += d;
    }
    // Through tanh (1 − h²) and the first layer; the input's adjoint is not needed.
    for j in 0..HIDDEN {
        let d = d_h[j] * (1.0 - h[j] * h[j]);
        for i in 0..PIXELS {
            g.l1.w[j][i] += d * x[i];
        }
        g.l1.b[j] += d;
    }
    cost
}

// ==============================================================================================
// The measured functions, one `#[inline(never)]` wrapper each (easy to find in the disassembly)
// ==============================================================================================

type FlatGrad = SampleCostGrad<HIDDEN>;

#[inline(never)]
pub fn hand_grad_acc(net: &Net, x: &[f64; PIXELS], label: usize, g: &mut Net) -> f64 {
    hand_acc(net, x, label, g)
}
#[inline(never)]
pub fn hand_grad(net: &Net, x: &[f64; PIXELS], label: usize) -> (f64, Net) {
    let mut g = Net::zeros();
    let c = hand_acc(net, x, label, &mut g);
    (c, g)
}
#[inline(never)]
pub fn flat_grad_acc(net: &Net, x: &[f64; PIXELS], label: usize, g: &mut FlatGrad) -> f64 {
    sample_cost_grad_acc(&net.l1.w, &net.l1.b, &net.l2.w, &net.l2.b, x, label, g)
}
#[inline(never)]
pub fn flat_grad(net: &Net, x: &[f64; PIXELS], label: usize) -> (f64, FlatGrad) {
    sample_cost_grad(&net.l1.w, &net.l1.b, &net.l2.w, &net.l2.b, x, label)
}
#[inline(never)]
pub fn layers_grad_acc(net: &Net, x: &[f64; PIXELS], label: usize, g: &mut LayersCostGrad) -> f64 {
    layers_cost_grad_acc(net, x, label, g)
}
#[inline(never)]
pub fn layers_grad(net: &Net, x: &[f64; PIXELS], label: usize) -> (f64, LayersCostGrad) {
    layers_cost_grad(net, x, label)
}
#[inline(never)]
pub fn user_layers_grad_acc(net: &Net, x: &[f64; PIXELS], label: usize, g: &mut UserLayersCostGrad) -> f64 {
    user_layers_cost_grad_acc(net, x, label, g)
}
#[inline(never)]
pub fn user_layers_grad(net: &Net, x: &[f64; PIXELS], label: usize) -> (f64, UserLayersCostGrad) {
    user_layers_cost_grad(net, x, label)
}
#[inline(never)]
pub fn nested_grad_acc(net: &Net, x: &[f64; PIXELS], label: usize, g: &mut NestedCostGrad) -> f64 {
    nested_cost_grad_acc(net, x, label, g)
}
#[inline(never)]
pub fn nested_grad(net: &Net, x: &[f64; PIXELS], label: usize) -> (f64, NestedCostGrad) {
    nested_cost_grad(net, x, label)
}
#[inline(never)]
pub fn nested_user_grad_acc(net: &Net, x: &[f64; PIXELS], label: usize, g: &mut NestedUserCostGrad) -> f64 {
    nested_user_cost_grad_acc(net, x, label, g)
}
#[inline(never)]
pub fn nested_user_grad(net: &Net, x: &[f64; PIXELS], label: usize) -> (f64, NestedUserCostGrad) {
    nested_user_cost_grad(net, x, label)
}

// ==============================================================================================
// Inputs and the correctness check
// ==============================================================================================

/// The network and the samples, built once (leaked, so the benchmark closures can borrow them).
struct Data {
    net: Net,
    xs: [[f64; PIXELS]; SAMPLES],
    labels: [usize; SAMPLES],
}

fn data() -> Data {
    let mut net = Net::zeros();
    backprop::init::glorot_uniform(&mut net, 3);
    backprop::init::uniform(&mut net.l1.b, -0.1, 0.1, 4);
    backprop::init::uniform(&mut net.l2.b, -0.1, 0.1, 5);
    let mut rng = StdRng::seed_from_u64(1);
    let mut xs = [[0.0; PIXELS]; SAMPLES];
    for x in xs.iter_mut().flatten() {
        // Pixels as the digits example scales them: sixteenths in [0, 1].
        *x = f64::from(rng.random_range(0..=16u8)) / 16.0;
    }
    let labels = std::array::from_fn(|_| rng.random_range(0..CLASSES));
    Data { net, xs, labels }
}

/// The largest `|a − b| / max(|a|, |b|)` over the entries (0 where both are 0), and where.
fn max_relative_error(a: &[f64], b: &[f64]) -> (f64, usize) {
    assert_eq!(a.len(), b.len(), "number of parameters");
    let mut worst = (0.0, 0);
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let scale = x.abs().max(y.abs());
        let e = if scale == 0.0 { 0.0 } else { (x - y).abs() / scale };
        assert!(!e.is_nan(), "entry {i}: {x} vs {y}");
        if e > worst.0 {
            worst = (e, i);
        }
    }
    worst
}

/// Every form's value and gradient (`_grad` and `_grad_acc`) against the hand-written ones at every
/// sample, to 1e-12 relative entry by entry; the hand-written gradient against central differences.
/// Returns the largest relative difference seen.
fn verify(d: &Data) -> f64 {
    let net = &d.net;
    let names = Net::zeros();
    let mut worst = 0.0_f64;
    for s in 0..SAMPLES {
        let (x, label) = (&d.xs[s], d.labels[s]);
        let (c_ref, g_ref) = hand_grad(net, x, label);
        let g_ref = to_vec(&g_ref);
        let mut g_acc = Net::zeros();
        assert_eq!(hand_grad_acc(net, x, label, &mut g_acc), c_ref);
        assert_eq!(to_vec(&g_acc), g_ref, "hand _grad_acc vs _grad");

        let mut check = |form: &str, c: f64, g: Vec<f64>| {
            let ce = (c - c_ref).abs() / c_ref.abs();
            let (ge, at) = max_relative_error(&g, &g_ref);
            assert!(ce <= 1e-12, "{form}, sample {s}: cost {c} vs hand-written {c_ref}");
            assert!(
                ge <= 1e-12,
                "{form}, sample {s}: ∂/∂{} = {} vs hand-written {} (relative {ge:.1e})",
                names.describe(at, ""),
                g[at],
                g_ref[at]
            );
            worst = worst.max(ce).max(ge);
        };
        let (c, g) = flat_grad(net, x, label);
        assert_eq!(c, sample_cost(&net.l1.w, &net.l1.b, &net.l2.w, &net.l2.b, x, label));
        check("flat _grad", c, to_vec(&g));
        let mut g = FlatGrad::zeros_like();
        check("flat _grad_acc", flat_grad_acc(net, x, label, &mut g), to_vec(&g));

        let (c, g) = layers_grad(net, x, label);
        assert_eq!(c, layers_cost(net, x, label));
        check("layers _grad", c, to_vec(&g.net));
        let mut g = LayersCostGrad::zeros_like(net);
        check("layers _grad_acc", layers_grad_acc(net, x, label, &mut g), to_vec(&g.net));

        let (c, g) = user_layers_grad(net, x, label);
        assert_eq!(c, user_layers_cost(net, x, label));
        check("user_layers _grad", c, to_vec(&g.net));
        let mut g = UserLayersCostGrad::zeros_like(net);
        check("user_layers _grad_acc", user_layers_grad_acc(net, x, label, &mut g), to_vec(&g.net));

        let (c, g) = nested_grad(net, x, label);
        assert_eq!(c, nested_cost(net, x, label));
        check("nested _grad", c, to_vec(&g.net));
        let mut g = NestedCostGrad::zeros_like(net);
        check("nested _grad_acc", nested_grad_acc(net, x, label, &mut g), to_vec(&g.net));

        let (c, g) = nested_user_grad(net, x, label);
        assert_eq!(c, nested_user_cost(net, x, label));
        check("nested_user _grad", c, to_vec(&g.net));
        let mut g = NestedUserCostGrad::zeros_like(net);
        check("nested_user _grad_acc", nested_user_grad_acc(net, x, label, &mut g), to_vec(&g.net));
    }
    // The reference itself, at a spread of coordinates of both layers' weights and biases.
    let (x, label) = (&d.xs[0], d.labels[0]);
    let g = to_vec(&hand_grad(net, x, label).1);
    let base = to_vec(net);
    let cost_at = |v: &[f64]| {
        let mut q = net.clone();
        backprop::runtime::params::copy_from_slice(&mut q, v).unwrap();
        layers_cost(&q, x, label)
    };
    for i in (0..base.len()).step_by(97).chain([PIXELS * HIDDEN + 5, base.len() - 1]) {
        let h = 1e-6;
        let (mut up, mut down) = (base.clone(), base.clone());
        up[i] += h;
        down[i] -= h;
        let fd = (cost_at(&up) - cost_at(&down)) / (2.0 * h);
        assert!(
            (fd - g[i]).abs() <= 1e-6 * (1.0 + fd.abs()),
            "hand-written ∂/∂{} = {} but central differences give {fd}",
            names.describe(i, ""),
            g[i]
        );
    }
    worst
}

// ==============================================================================================
// The cases: each form over all samples, accumulating and returning
// ==============================================================================================

type Run = Box<dyn FnMut()>;

/// The two entry points of each form.
const KINDS: [&str; 2] = ["acc", "grad"];

/// One measured function: a form's entry point over all samples.
struct Case {
    form: &'static str,
    kind: &'static str,
    run: Run,
}

impl Case {
    fn name(&self) -> String {
        format!("{}/{}", self.form, self.kind)
    }
}

/// Calls of a case per `measure` under callgrind (each is `SAMPLES` gradients).
const CALLGRIND_REPS: usize = 100;

/// The accumulating form over every sample, into one gradient made by `$zero`.
macro_rules! acc {
    ($d:expr, $f:ident, $zero:expr) => {{
        let d: &'static Data = $d;
        let mut g = $zero;
        Box::new(move || {
            for (x, &label) in d.xs.iter().zip(&d.labels) {
                black_box($f(black_box(&d.net), black_box(x), black_box(label), black_box(&mut g)));
            }
        }) as Run
    }};
}

/// The returning form at every sample; each result goes to `black_box`.
macro_rules! grad {
    ($d:expr, $f:ident) => {{
        let d: &'static Data = $d;
        Box::new(move || {
            for (x, &label) in d.xs.iter().zip(&d.labels) {
                let r = $f(black_box(&d.net), black_box(x), black_box(label));
                black_box(&r);
            }
        }) as Run
    }};
}

fn cases(d: &'static Data) -> Vec<Case> {
    let net = &d.net;
    let case = |form, kind, run| Case { form, kind, run };
    vec![
        case("hand", "acc", acc!(d, hand_grad_acc, Net::zeros())),
        case("flat", "acc", acc!(d, flat_grad_acc, FlatGrad::zeros_like())),
        case("layers", "acc", acc!(d, layers_grad_acc, LayersCostGrad::zeros_like(net))),
        case("user_layers", "acc", acc!(d, user_layers_grad_acc, UserLayersCostGrad::zeros_like(net))),
        case("nested", "acc", acc!(d, nested_grad_acc, NestedCostGrad::zeros_like(net))),
        case("nested_user", "acc", acc!(d, nested_user_grad_acc, NestedUserCostGrad::zeros_like(net))),
        case("hand", "grad", grad!(d, hand_grad)),
        case("flat", "grad", grad!(d, flat_grad)),
        case("layers", "grad", grad!(d, layers_grad)),
        case("user_layers", "grad", grad!(d, user_layers_grad)),
        case("nested", "grad", grad!(d, nested_grad)),
        case("nested_user", "grad", grad!(d, nested_user_grad)),
    ]
}

// ==============================================================================================
// Timing: criterion per case, then the interleaved ratio table
// ==============================================================================================

fn bench_criterion(c: &mut Criterion, cases: &mut [Case]) {
    let mut group = c.benchmark_group(format!("composition_{SAMPLES}_samples"));
    for case in cases.iter_mut() {
        group.bench_function(case.name(), |b| b.iter(&mut case.run));
    }
    group.finish();
}

/// Seconds per call of `reps` calls.
fn time(f: &mut dyn FnMut(), reps: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..reps {
        f();
    }
    start.elapsed().as_secs_f64() / reps as f64
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

/// Per kind, every form in rounds of about 5 ms each, the order rotating every round; the ratios
/// to `hand` and `flat` are medians of the per-round ratios, so load that drifts between rounds
/// cancels out.
fn ratio_table(cases: &mut [Case]) {
    const ROUNDS: usize = 31;
    println!("\nInterleaved wall-clock table ({ROUNDS} rounds of ~5 ms per form; medians; per sample):\n");
    println!("| form | entry | time/sample | / hand | / flat |");
    println!("|---|---|---|---|---|");
    for kind in KINDS {
        let mut group: Vec<&mut Case> = cases.iter_mut().filter(|c| c.kind == kind).collect();
        let hand = group.iter().position(|c| c.form == "hand").expect("a hand-written case");
        let flat = group.iter().position(|c| c.form == "flat").expect("a flat case");
        for c in group.iter_mut() {
            (c.run)();
        }
        let reps = ((0.005 / time(&mut group[hand].run, 5)) as usize).max(1);
        let n = group.len();
        let (mut t, mut to_hand, mut to_flat) = (vec![Vec::new(); n], vec![Vec::new(); n], vec![Vec::new(); n]);
        for round in 0..ROUNDS {
            let mut this = vec![0.0; n];
            for k in 0..n {
                let i = (k + round) % n;
                this[i] = time(&mut group[i].run, reps);
            }
            for i in 0..n {
                t[i].push(this[i]);
                to_hand[i].push(this[i] / this[hand]);
                to_flat[i].push(this[i] / this[flat]);
            }
        }
        for (i, c) in group.iter().enumerate() {
            println!(
                "| {} | `_{}` | {:.2} µs | {:.3} | {:.3} |",
                c.form,
                if kind == "acc" { "grad_acc" } else { "grad" },
                median(&mut t[i]) * 1e6 / SAMPLES as f64,
                median(&mut to_hand[i]),
                median(&mut to_flat[i])
            );
        }
    }
}

/// The loop callgrind counts (`--toggle-collect='*composition::measure*'`).
#[inline(never)]
fn measure(f: &mut dyn FnMut(), reps: usize) {
    for _ in 0..reps {
        f();
    }
}

fn main() {
    let d: &'static Data = Box::leak(Box::new(data()));
    let mut cases = cases(d);
    if std::env::var_os("COMPOSITION_LIST").is_some() {
        for case in &cases {
            println!("{} {}", case.name(), CALLGRIND_REPS * SAMPLES);
        }
        return;
    }
    let worst = verify(d);
    if let Ok(which) = std::env::var("COMPOSITION_CALLGRIND") {
        let case = cases.iter_mut().find(|c| c.name() == which).unwrap_or_else(|| panic!("no case {which}"));
        (case.run)();
        measure(&mut case.run, CALLGRIND_REPS);
        println!("{which}: {} samples measured", CALLGRIND_REPS * SAMPLES);
        return;
    }
    println!(
        "verified: every form's value and gradient equal the hand-written ones (largest relative difference {worst:.1e}), \
         and the hand-written gradient matches central differences"
    );
    if std::env::var_os("COMPOSITION_TABLE_ONLY").is_none() {
        let mut c = Criterion::default().configure_from_args();
        bench_criterion(&mut c, &mut cases);
        c.final_summary();
    }
    ratio_table(&mut cases);
}
