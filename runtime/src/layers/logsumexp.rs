//! `ln Σ e^x` with the max shift, with its pullback (the softmax weights).
//!
//! With `m = max x` and `k` its first position, `ln Σ e^x = m + ln_1p(Σ_{i≠k} e^{x_i − m})`:
//! every exponent is at most 0, so nothing overflows, and the sum without the `e^0 = 1` term
//! keeps full precision when the other terms are tiny (`ln_1p(t) ≈ t`), which is what a
//! confident classifier's loss is made of.

use crate::Float;

/// `ln Σ_i e^{x_i}`, finite for any finite `x` (`logsumexp(&[1000.0, -1000.0]) == 1000.0`).
///
/// NaN anywhere gives NaN; otherwise a `+∞` entry gives `+∞`, and all entries `−∞` give `−∞`.
/// `N = 0` fails to build, at the call that instantiates it.
///
/// ```
/// use backprop_runtime::layers::logsumexp;
/// assert_eq!(logsumexp(&[1000.0, -1000.0]), 1000.0);
/// assert!((logsumexp(&[0.0, 0.0]) - 2.0_f64.ln()).abs() < 1e-16);
/// ```
#[inline]
pub fn logsumexp<F: Float, const N: usize>(x: &[F; N]) -> F {
    const { assert!(N > 0, "logsumexp of an empty array: N must be at least 1") };
    let (m, rest) = max_and_rest(x);
    if !m.is_finite() {
        return m;
    }
    m + rest.ln_1p()
}

/// The pullback of [`logsumexp`] (the issue 8 convention): `d_x[i] += d_result · softmax(x)_i`,
/// with the softmax weights `e^{x_i − result}` read off the result (each at most 1, so
/// finite at any finite logits). Skipped when `d_x` is `None`.
///
/// Reading the weights off `result` costs one `exp` per entry and no second max pass; their
/// relative error is that of `result`'s rounding, about `ε · |result|` (2e-13 at logits near
/// 1000), where recomputing the shifted sum would cost a second `exp` per entry.
#[inline]
pub fn logsumexp_pullback<F: Float, const N: usize>(
    x: &[F; N],
    result: F,
    d_result: F,
    d_x: Option<&mut [F; N]>,
) -> ((),) {
    if let Some(d_x) = d_x {
        for (d, &v) in d_x.iter_mut().zip(x) {
            *d += d_result * (v - result).exp();
        }
    }
    ((),)
}

/// `(m, Σ_{i≠k} e^{x_i − m})` where `m = x[k]` is the first maximum; `m` is NaN if any entry
/// is (then the sum is meaningless), and the sum is not computed when `m` is infinite.
#[inline]
pub(super) fn max_and_rest<F: Float, const N: usize>(x: &[F; N]) -> (F, F) {
    let mut m = x[0];
    let mut k = 0;
    for (i, &v) in x.iter().enumerate().skip(1) {
        // `m` stays NaN once it is: `v > NaN` is false.
        if v > m || v.is_nan() {
            m = v;
            k = i;
        }
    }
    if !m.is_finite() {
        return (m, F::zero());
    }
    let mut rest = F::zero();
    for (i, &v) in x.iter().enumerate() {
        if i != k {
            rest += (v - m).exp();
        }
    }
    (m, rest)
}

/// [`logsumexp`] and its pullback as one call (the `_vjp` of `docs/CALLS.md`).
#[inline]
#[allow(clippy::type_complexity)]
pub fn logsumexp_vjp<'a, F: Float, const N: usize>(
    x: &'a [F; N],
) -> (F, impl FnOnce(F, Option<&mut [F; N]>) -> ((),) + 'a) {
    let r = logsumexp(x);
    (r, move |d_result: F, d_x: Option<&mut [F; N]>| logsumexp_pullback(x, r, d_result, d_x))
}
