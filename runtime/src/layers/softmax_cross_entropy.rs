//! Softmax cross-entropy of logits against a class label, with its pullback (softmax − one-hot).
//!
//! Computed without forming the softmax or `logsumexp` itself: the loss is
//! `(m − x[label]) + ln_1p(Σ_{i≠k} e^{x_i − m})` with `m = x[k]` the maximum, and the pullback
//! reads the softmax weights off the loss as `e^{(x_i − x[label]) − loss}`. Both stay finite at
//! any finite logits, and a confident right answer's tiny loss and gradient keep full precision.

use super::logsumexp::max_and_rest;
use crate::Float;

/// `−ln softmax(logits)[label] = logsumexp(logits) − logits[label]`, with the max shift.
///
/// # Panics
/// If `label >= N`, like indexing `logits[label]` (the message names both). `N = 0` fails to
/// build, at the call that instantiates it. NaN logits give NaN; infinite ones `+∞` or NaN.
///
/// ```
/// use backprop_runtime::layers::softmax_cross_entropy;
/// assert_eq!(softmax_cross_entropy(&[1000.0, -1000.0], 0), 0.0);
/// assert_eq!(softmax_cross_entropy(&[1000.0, -1000.0], 1), 2000.0);
/// ```
#[inline]
#[track_caller]
pub fn softmax_cross_entropy<F: Float, const N: usize>(logits: &[F; N], label: usize) -> F {
    const { assert!(N > 0, "softmax_cross_entropy over no classes: N must be at least 1") };
    let Some(&x_label) = logits.get(label) else { label_out_of_range(label, N) };
    let (m, rest) = max_and_rest(logits);
    if !m.is_finite() {
        return m - x_label;
    }
    (m - x_label) + rest.ln_1p()
}

/// The pullback of [`softmax_cross_entropy`] (the issue 8 convention):
/// `d_logits += d_result · (softmax(logits) − onehot(label))`, skipped when `d_logits` is
/// `None`; `label` is passive.
///
/// `result` must be the loss at these arguments: the softmax weights are read off it, and the
/// label's entry `e^{−result} − 1` is computed as `exp_m1(−result)`, exact when the loss is tiny.
///
/// # Panics
/// If `label >= N`, as [`softmax_cross_entropy`] does.
#[inline]
#[track_caller]
pub fn softmax_cross_entropy_pullback<F: Float, const N: usize>(
    logits: &[F; N],
    label: usize,
    result: F,
    d_result: F,
    d_logits: Option<&mut [F; N]>,
) -> ((), ()) {
    let Some(&x_label) = logits.get(label) else { label_out_of_range(label, N) };
    if let Some(d) = d_logits {
        for (i, (d, &v)) in d.iter_mut().zip(logits).enumerate() {
            // At the label, e^{-result} − 1 without the cancellation.
            let weight = if i == label { (-result).exp_m1() } else { ((v - x_label) - result).exp() };
            *d += d_result * weight;
        }
    }
    ((), ())
}

#[cold]
#[inline(never)]
#[track_caller]
fn label_out_of_range(label: usize, classes: usize) -> ! {
    panic!("softmax_cross_entropy: label {label} out of range for {classes} classes")
}

/// [`softmax_cross_entropy`] and its pullback as one call (the `_vjp` of `docs/CALLS.md`).
#[inline]
#[allow(clippy::type_complexity)]
pub fn softmax_cross_entropy_vjp<'a, F: Float, const N: usize>(
    logits: &'a [F; N],
    label: usize,
) -> (F, impl FnOnce(F, Option<&mut [F; N]>) -> ((), ()) + 'a) {
    let r = softmax_cross_entropy(logits, label);
    (r, move |d_result: F, d_logits: Option<&mut [F; N]>| {
        softmax_cross_entropy_pullback(logits, label, r, d_result, d_logits)
    })
}
