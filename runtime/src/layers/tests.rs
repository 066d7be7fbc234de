//! Every pullback against central finite differences at seeded random points, plus the
//! convention's obligations: sinks are added into (never overwritten), `None` sinks leave the
//! other sinks' values unchanged, `d_result` scales the result, and the max-shifted functions
//! stay finite at huge logits.

use super::*;
use crate::gradcheck::{check_gradient, GradientCheck};
use crate::params::Params;
use crate::rng::SplitMix64;
use crate::Activation;

/// Finite-difference step: truncation (~h²) and rounding (~ε/h) errors both near 1e-11.
const EPS: f64 = 1e-5;

/// Every variant, with leaky relu on both sides of the Ω-form's `alpha >= 0` condition.
const ACTIVATIONS: [Activation<f64>; 12] = [
    Activation::Sigmoid,
    Activation::Relu,
    Activation::LeakyRelu(0.1),
    Activation::LeakyRelu(0.0),
    Activation::LeakyRelu(-0.5),
    Activation::Softplus,
    Activation::Elu(1.5),
    Activation::Silu,
    Activation::Gelu,
    Activation::Softsign,
    Activation::Tanh,
    Activation::Identity,
];

fn uniform(rng: &mut SplitMix64, lo: f64, hi: f64) -> f64 {
    let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    lo + (hi - lo) * unit
}

fn array<const N: usize>(rng: &mut SplitMix64, lo: f64, hi: f64) -> [f64; N] {
    std::array::from_fn(|_| uniform(rng, lo, hi))
}

/// An adjoint seed that is not 1 and not tiny, so scaling by it is visible.
fn seed(rng: &mut SplitMix64) -> f64 {
    let magnitude = uniform(rng, 0.3, 2.5);
    if rng.next_u64() % 2 == 0 {
        magnitude
    } else {
        -magnitude
    }
}

/// Relative tolerance 1e-6, with an absolute floor for entries that are 0 up to FD noise.
fn assert_matches(check: &GradientCheck, context: &str) {
    for e in &check.entries {
        let ok = e.abs_error <= 1e-9 || e.rel_error <= 1e-6;
        assert!(
            ok,
            "{context}: {} analytic {:e} numeric {:e} (rel {:e})\n{check}",
            e.name, e.analytic, e.numeric, e.rel_error
        );
    }
}

/// The difference `after − before` entry by entry: what a pullback added into a buffer.
fn added<P: Params<Scalar = f64> + Clone>(after: &P, before: &P) -> P {
    let mut before_values = Vec::new();
    before.visit(&mut |x| before_values.push(x));
    let mut out = after.clone();
    let mut it = before_values.into_iter();
    out.visit_mut(&mut |x| *x -= it.next().unwrap_or(f64::NAN));
    out
}

fn dense_random<const I: usize, const O: usize>(rng: &mut SplitMix64) -> Dense<I, O> {
    Dense { w: std::array::from_fn(|_| array(rng, -1.0, 1.0)), b: array(rng, -0.5, 0.5) }
}

/// A point where every pre-activation is at least 0.05 from the kink at 0, so the finite
/// differences never straddle it.
fn away_from_kinks<const I: usize, const O: usize>(rng: &mut SplitMix64) -> (Dense<I, O>, [f64; I]) {
    loop {
        let layer = dense_random::<I, O>(rng);
        let x = array(rng, -1.5, 1.5);
        let z = dense(&layer, &x, Activation::Identity);
        if z.iter().all(|z| z.abs() > 0.05) {
            return (layer, x);
        }
    }
}

fn check_dense<const I: usize, const O: usize>(seed_base: u64) {
    for activation in ACTIVATIONS {
        for s in 0..4 {
            let mut rng = SplitMix64::new(seed_base + s);
            let (layer, x) = away_from_kinks::<I, O>(&mut rng);
            let d_result: [f64; O] = std::array::from_fn(|_| seed(&mut rng));
            // Nonzero starting buffers: the pullback must add into them.
            let start_layer = dense_random::<I, O>(&mut rng);
            let start_x: [f64; I] = array(&mut rng, -3.0, 3.0);
            let cost_grad = |p: &(Dense<I, O>, [f64; I])| {
                let y = dense(&p.0, &p.1, activation);
                let cost = y.iter().zip(&d_result).map(|(y, d)| y * d).sum::<f64>();
                let (mut d_layer, mut d_x) = (start_layer, start_x);
                let units = dense_pullback(&p.0, &p.1, activation, &y, &d_result, Some(&mut d_layer), Some(&mut d_x));
                assert_eq!(units, ((), (), ()));
                (cost, (added(&d_layer, &start_layer), added(&d_x, &start_x)))
            };
            let check = check_gradient(cost_grad, &mut (layer, x), EPS).unwrap();
            assert_eq!(check.entries.len(), I * O + O + I);
            assert_matches(&check, &format!("dense {I}->{O} {activation:?} seed {}", seed_base + s));
        }
    }
}

#[test]
fn dense_pullback_matches_finite_differences_for_every_activation() {
    check_dense::<5, 3>(0);
    // Wider than the eight partial sums, with a tail: the lanes and the remainder both count.
    check_dense::<11, 4>(100);
    check_dense::<1, 1>(200);
}

#[test]
fn dense_computes_activation_of_w_x_plus_b() {
    let layer = Dense { w: [[1.0, 2.0, -1.0], [0.5, -0.25, 2.0]], b: [0.1, -0.3] };
    let x = [0.3, -0.7, 1.1];
    // Written out: z0 = 0.1 + 0.3 - 1.4 - 1.1, z1 = -0.3 + 0.15 + 0.175 + 2.2.
    let z = [0.1 + 0.3 - 1.4 - 1.1, -0.3 + 0.15 + 0.175 + 2.2];
    for activation in ACTIVATIONS {
        let y = dense(&layer, &x, activation);
        for j in 0..2 {
            let expected = activation.apply(z[j]);
            assert!((y[j] - expected).abs() <= 1e-15, "{activation:?}: {} vs {expected}", y[j]);
        }
    }
    assert_eq!(dense(&Dense::<0, 2>::zeros(), &[], Activation::Identity), [0.0, 0.0]);
}

#[test]
fn dense_pullback_none_sinks_skip_only_their_own_work() {
    let mut rng = SplitMix64::new(7);
    let (layer, x) = away_from_kinks::<9, 5>(&mut rng);
    let d_result: [f64; 5] = std::array::from_fn(|_| seed(&mut rng));
    for activation in ACTIVATIONS {
        let y = dense(&layer, &x, activation);
        let (mut both_layer, mut both_x) = (Dense::zeros(), [0.0; 9]);
        dense_pullback(&layer, &x, activation, &y, &d_result, Some(&mut both_layer), Some(&mut both_x));
        let mut only_layer = Dense::zeros();
        dense_pullback(&layer, &x, activation, &y, &d_result, Some(&mut only_layer), None);
        let mut only_x = [0.0; 9];
        dense_pullback(&layer, &x, activation, &y, &d_result, None, Some(&mut only_x));
        assert_eq!(only_layer, both_layer, "{activation:?}");
        assert_eq!(only_x, both_x, "{activation:?}");
        assert_eq!(dense_pullback(&layer, &x, activation, &y, &d_result, None, None), ((), (), ()));
        assert!(both_x.iter().any(|&v| v != 0.0), "{activation:?}: the test needs a nonzero gradient");
    }
}

#[test]
fn dense_pullback_is_linear_in_d_result() {
    let mut rng = SplitMix64::new(11);
    let (layer, x) = away_from_kinks::<6, 3>(&mut rng);
    for activation in ACTIVATIONS {
        let y = dense(&layer, &x, activation);
        let (mut g1, mut x1) = (Dense::zeros(), [0.0; 6]);
        dense_pullback(&layer, &x, activation, &y, &[1.0, -0.5, 0.25], Some(&mut g1), Some(&mut x1));
        let (mut g3, mut x3) = (Dense::zeros(), [0.0; 6]);
        dense_pullback(&layer, &x, activation, &y, &[3.0, -1.5, 0.75], Some(&mut g3), Some(&mut x3));
        // Scaling by 3 is exact except for the final rounding of each sum.
        for (a, b) in crate::params::to_vec(&(g1, x1)).iter().zip(crate::params::to_vec(&(g3, x3))) {
            assert!((3.0 * a - b).abs() <= 1e-15 * b.abs().max(1.0), "{activation:?}: {a} {b}");
        }
    }
}

#[test]
fn dense_in_f32_agrees_with_f64() {
    let mut rng = SplitMix64::new(5);
    let (layer, x) = away_from_kinks::<7, 3>(&mut rng);
    let layer32 = Dense { w: layer.w.map(|r| r.map(|v| v as f32)), b: layer.b.map(|v| v as f32) };
    let x32 = x.map(|v| v as f32);
    let d = [0.5, -2.0, 1.5];
    let y = dense(&layer, &x, Activation::Tanh);
    let y32 = dense(&layer32, &x32, Activation::Tanh);
    let (mut g, mut gx) = (Dense::zeros(), [0.0; 7]);
    dense_pullback(&layer, &x, Activation::Tanh, &y, &d, Some(&mut g), Some(&mut gx));
    let (mut g32, mut gx32) = (Dense::<7, 3, f32>::zeros(), [0.0_f32; 7]);
    dense_pullback(&layer32, &x32, Activation::Tanh, &y32, &d.map(|v| v as f32), Some(&mut g32), Some(&mut gx32));
    let wide = crate::params::to_vec(&(g, gx));
    let narrow = crate::params::to_vec(&(g32, gx32));
    for (a, b) in wide.iter().zip(narrow) {
        assert!((a - f64::from(b)).abs() <= 1e-5 * a.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn dense_is_params_in_field_order_with_field_names() {
    let layer = Dense::<3, 2> { w: [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], b: [7.0, 8.0] };
    assert_eq!(layer.num_params(), 8);
    assert_eq!(crate::params::to_vec(&layer), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    assert_eq!(layer.describe(0, ""), "w[0][0]");
    assert_eq!(layer.describe(5, ""), "w[1][2]");
    assert_eq!(layer.describe(6, ""), "b[0]");
    assert_eq!(layer.describe(7, "l1"), "l1.b[1]");
    assert_eq!(layer.describe(4, "net.l2"), "net.l2.w[1][1]");
    assert_eq!(layer.describe(8, "l1"), "l1[<index 8 out of range>]");
    let tensors = layer.tensors("l1");
    assert_eq!(tensors.len(), 2);
    assert_eq!(
        (tensors[0].name.as_str(), &tensors[0].shape[..], tensors[0].range.clone()),
        ("l1.w", &[2, 3][..], 0..6)
    );
    assert_eq!((tensors[1].name.as_str(), &tensors[1].shape[..], tensors[1].range.clone()), ("l1.b", &[2][..], 6..8));
    // Nested in a tuple, its names come out as `describe_fields` would give them.
    assert_eq!((layer, 1.0).describe(3, ""), "param.0.w[1][0]");
    let mut zeroed = layer;
    crate::params::fill(&mut zeroed, 0.0);
    assert_eq!(zeroed, Dense::zeros());
    assert_eq!(Dense::<3, 2>::default(), Dense::zeros());
}

#[test]
fn dot_pullback_matches_finite_differences() {
    for s in 0..5 {
        let mut rng = SplitMix64::new(300 + s);
        let (a, b): ([f64; 13], [f64; 13]) = (array(&mut rng, -2.0, 2.0), array(&mut rng, -2.0, 2.0));
        let d_result = seed(&mut rng);
        let (start_a, start_b) = (array::<13>(&mut rng, -1.0, 1.0), array::<13>(&mut rng, -1.0, 1.0));
        let cost_grad = |p: &([f64; 13], [f64; 13])| {
            let r = dot(&p.0, &p.1);
            let (mut d_a, mut d_b) = (start_a, start_b);
            dot_pullback(&p.0, &p.1, r, d_result, Some(&mut d_a), Some(&mut d_b));
            (d_result * r, (added(&d_a, &start_a), added(&d_b, &start_b)))
        };
        assert_matches(&check_gradient(cost_grad, &mut (a, b), EPS).unwrap(), "dot");
    }
}

#[test]
fn dot_values_and_none_sinks() {
    assert_eq!(dot(&[1.0, 2.0, 3.0], &[4.0, -5.0, 6.0]), 12.0);
    assert_eq!(dot::<f64, 0>(&[], &[]), 0.0);
    let (a, b) = ([1.0, 2.0], [3.0, -4.0]);
    let mut d_a = [10.0, 20.0];
    dot_pullback(&a, &b, dot(&a, &b), 2.0, Some(&mut d_a), None);
    assert_eq!(d_a, [16.0, 12.0]);
    let mut d_b = [1.0, 1.0];
    dot_pullback(&a, &b, dot(&a, &b), -1.0, None, Some(&mut d_b));
    assert_eq!(d_b, [0.0, -1.0]);
}

#[test]
fn mse_pullback_matches_finite_differences() {
    for s in 0..5 {
        let mut rng = SplitMix64::new(400 + s);
        let (p, t): ([f64; 10], [f64; 10]) = (array(&mut rng, -2.0, 2.0), array(&mut rng, -2.0, 2.0));
        let d_result = seed(&mut rng);
        let (start_p, start_t) = (array::<10>(&mut rng, -1.0, 1.0), array::<10>(&mut rng, -1.0, 1.0));
        let cost_grad = |q: &([f64; 10], [f64; 10])| {
            let r = mse(&q.0, &q.1);
            let (mut d_p, mut d_t) = (start_p, start_t);
            mse_pullback(&q.0, &q.1, r, d_result, Some(&mut d_p), Some(&mut d_t));
            (d_result * r, (added(&d_p, &start_p), added(&d_t, &start_t)))
        };
        assert_matches(&check_gradient(cost_grad, &mut (p, t), EPS).unwrap(), "mse");
    }
}

#[test]
fn mse_values_and_none_sinks() {
    assert_eq!(mse(&[1.0, 2.0, 4.0], &[1.0, 1.0, 1.0]), 10.0 / 3.0);
    assert_eq!(mse(&[0.5_f32], &[0.5]), 0.0);
    let (p, t) = ([1.0, 3.0], [0.0, 0.0]);
    // d/dp = 2/N (p - t) = [1, 3]; times d_result 0.5.
    let mut d_p = [1.0, 1.0];
    mse_pullback(&p, &t, mse(&p, &t), 0.5, Some(&mut d_p), None);
    assert_eq!(d_p, [1.5, 2.5]);
    let mut d_t = [0.0, 0.0];
    mse_pullback(&p, &t, mse(&p, &t), 0.5, None, Some(&mut d_t));
    assert_eq!(d_t, [-0.5, -1.5]);
}

#[test]
fn logsumexp_pullback_matches_finite_differences() {
    for s in 0..6 {
        let mut rng = SplitMix64::new(500 + s);
        let x: [f64; 7] = array(&mut rng, -4.0, 4.0);
        let d_result = seed(&mut rng);
        let start = array::<7>(&mut rng, -1.0, 1.0);
        let cost_grad = |x: &[f64; 7]| {
            let r = logsumexp(x);
            let mut d_x = start;
            assert_eq!(logsumexp_pullback(x, r, d_result, Some(&mut d_x)), ((),));
            (d_result * r, added(&d_x, &start))
        };
        assert_matches(&check_gradient(cost_grad, &mut { x }, EPS).unwrap(), "logsumexp");
    }
}

#[test]
fn logsumexp_values() {
    let direct = (1.0_f64.exp() + 2.0_f64.exp() + 3.0_f64.exp()).ln();
    assert!((logsumexp(&[1.0, 2.0, 3.0]) - direct).abs() <= 1e-15);
    assert_eq!(logsumexp(&[-2.5]), -2.5);
    assert!(logsumexp(&[1.0, f64::NAN]).is_nan());
    assert!(logsumexp(&[f64::NAN, 1.0]).is_nan());
    assert_eq!(logsumexp(&[1.0, f64::INFINITY]), f64::INFINITY);
    assert_eq!(logsumexp(&[f64::NEG_INFINITY; 3]), f64::NEG_INFINITY);
    assert_eq!(logsumexp(&[0.0, f64::NEG_INFINITY]), 0.0);
    // The tiny terms survive: ln(1 + e^-40) = e^-40 to full precision, not 0.
    let t = logsumexp(&[0.0, -40.0]);
    assert!((t / (-40.0_f64).exp() - 1.0).abs() < 1e-15, "{t}");
}

#[test]
fn logsumexp_is_finite_at_huge_logits() {
    assert_eq!(logsumexp(&[1000.0, -1000.0]), 1000.0);
    assert_eq!(logsumexp(&[-1000.0, -1000.0]), -1000.0 + 2.0_f64.ln());
    assert_eq!(logsumexp(&[1000.0, 1000.0, -1000.0]), 1000.0 + 2.0_f64.ln());
    let x: [f64; 3] = [1000.0, 1000.0, -1000.0];
    let mut d_x: [f64; 3] = [1.0, 0.0, 0.0];
    logsumexp_pullback(&x, logsumexp(&x), 4.0, Some(&mut d_x));
    // The weights read off a result near 1000 carry its rounding: relative error ~ 1000 ε.
    assert!((d_x[0] - 3.0).abs() < 1e-12 && (d_x[1] - 2.0).abs() < 1e-12 && d_x[2] == 0.0, "{d_x:?}");
    assert_eq!(logsumexp(&[100.0_f32, -100.0]), 100.0);
    for s in 0..4 {
        let mut rng = SplitMix64::new(600 + s);
        let x: [f64; 9] = array(&mut rng, -1000.0, 1000.0);
        let r = logsumexp(&x);
        let mut d_x = [0.0; 9];
        logsumexp_pullback(&x, r, 1.0, Some(&mut d_x));
        assert!(r.is_finite() && d_x.iter().all(|d| d.is_finite() && *d >= 0.0), "{r} {d_x:?}");
        assert!((d_x.iter().sum::<f64>() - 1.0).abs() < 1e-12, "softmax weights sum to 1: {d_x:?}");
    }
}

#[test]
fn softmax_cross_entropy_pullback_matches_finite_differences() {
    for s in 0..6 {
        let mut rng = SplitMix64::new(700 + s);
        let x: [f64; 5] = array(&mut rng, -3.0, 3.0);
        let d_result = seed(&mut rng);
        let start = array::<5>(&mut rng, -1.0, 1.0);
        for label in 0..5 {
            let cost_grad = |x: &[f64; 5]| {
                let r = softmax_cross_entropy(x, label);
                let mut d_x = start;
                assert_eq!(softmax_cross_entropy_pullback(x, label, r, d_result, Some(&mut d_x)), ((), ()));
                (d_result * r, added(&d_x, &start))
            };
            let check = check_gradient(cost_grad, &mut { x }, EPS).unwrap();
            assert_matches(&check, &format!("softmax_cross_entropy label {label}"));
        }
    }
}

#[test]
fn softmax_cross_entropy_values() {
    let mut rng = SplitMix64::new(800);
    for _ in 0..10 {
        let x: [f64; 6] = array(&mut rng, -5.0, 5.0);
        for label in 0..6 {
            let via_logsumexp = logsumexp(&x) - x[label];
            let loss = softmax_cross_entropy(&x, label);
            assert!((loss - via_logsumexp).abs() <= 1e-14, "{loss} vs {via_logsumexp}");
        }
    }
    assert_eq!(softmax_cross_entropy(&[0.0, 0.0], 1), 2.0_f64.ln());
    assert!(softmax_cross_entropy(&[f64::NAN, 0.0], 1).is_nan());
    // A confident right answer keeps its tiny loss and gradient (no 1 − 1 cancellation).
    let x = [0.0, -40.0];
    let loss = softmax_cross_entropy(&x, 0);
    assert!((loss / (-40.0_f64).exp() - 1.0).abs() < 1e-15, "{loss}");
    let mut d_x = [0.0; 2];
    softmax_cross_entropy_pullback(&x, 0, loss, 1.0, Some(&mut d_x));
    assert!((d_x[0] / -(-40.0_f64).exp() - 1.0).abs() < 1e-14, "{d_x:?}");
    assert!((d_x[1] / (-40.0_f64).exp() - 1.0).abs() < 1e-14, "{d_x:?}");
}

#[test]
fn softmax_cross_entropy_is_finite_at_huge_logits() {
    let x = [1000.0, -1000.0];
    assert_eq!(softmax_cross_entropy(&x, 0), 0.0);
    assert_eq!(softmax_cross_entropy(&x, 1), 2000.0);
    let mut d_x = [0.0; 2];
    softmax_cross_entropy_pullback(&x, 0, 0.0, 2.0, Some(&mut d_x));
    assert_eq!(d_x, [0.0, 0.0]);
    softmax_cross_entropy_pullback(&x, 1, 2000.0, 2.0, Some(&mut d_x));
    assert_eq!(d_x, [2.0, -2.0]);
    assert_eq!(softmax_cross_entropy(&[100.0_f32, -100.0], 1), 200.0);
    for s in 0..4 {
        let mut rng = SplitMix64::new(900 + s);
        let x: [f64; 8] = array(&mut rng, -1000.0, 1000.0);
        for label in 0..8 {
            let r = softmax_cross_entropy(&x, label);
            let mut d_x = [0.0; 8];
            softmax_cross_entropy_pullback(&x, label, r, 1.0, Some(&mut d_x));
            assert!(r.is_finite() && r >= 0.0, "{r}");
            assert!(d_x.iter().all(|d| d.is_finite()), "{d_x:?}");
            assert!(d_x.iter().sum::<f64>().abs() < 1e-12, "softmax − one-hot sums to 0: {d_x:?}");
        }
    }
}

#[test]
fn softmax_cross_entropy_none_sink_needs_no_work() {
    let x = [0.5, 1.5, -0.5];
    assert_eq!(softmax_cross_entropy_pullback(&x, 2, softmax_cross_entropy(&x, 2), 1.0, None), ((), ()));
}

#[test]
#[should_panic(expected = "softmax_cross_entropy: label 3 out of range for 3 classes")]
fn softmax_cross_entropy_panics_on_a_label_out_of_range() {
    softmax_cross_entropy(&[0.0, 1.0, 2.0], 3);
}

#[test]
#[should_panic(expected = "softmax_cross_entropy: label 7 out of range for 2 classes")]
fn softmax_cross_entropy_pullback_panics_on_a_label_out_of_range() {
    softmax_cross_entropy_pullback(&[0.0, 1.0], 7, 0.0, 1.0, None);
}
