//! Mean squared error between a prediction and a target, with its pullback.

use super::kernels;
use crate::Float;

/// `(1/N) Σ (prediction[i] − target[i])²`.
///
/// `N = 0` (a mean of nothing) fails to build, at the call that instantiates it.
///
/// ```
/// use backprop_runtime::layers::mse;
/// assert_eq!(mse(&[1.0, 2.0, 4.0], &[1.0, 1.0, 1.0]), 10.0 / 3.0);
/// ```
#[inline]
pub fn mse<F: Float, const N: usize>(prediction: &[F; N], target: &[F; N]) -> F {
    const { assert!(N > 0, "mse of an empty array: N must be at least 1") };
    let sum = kernels::sum(N, |i| {
        let e = prediction[i] - target[i];
        e * e
    });
    sum / F::of_f64(N as f64)
}

/// The pullback of [`mse`] (the issue 8 convention): with `e = prediction − target`,
/// `d_prediction += (2 d_result / N) e` and `d_target −= (2 d_result / N) e`, each skipped
/// when its sink is `None`.
#[inline]
pub fn mse_pullback<F: Float, const N: usize>(
    prediction: &[F; N],
    target: &[F; N],
    _result: F,
    d_result: F,
    d_prediction: Option<&mut [F; N]>,
    d_target: Option<&mut [F; N]>,
) -> ((), ()) {
    let k = (d_result + d_result) / F::of_f64(N as f64);
    if let Some(d_p) = d_prediction {
        for ((d, &p), &t) in d_p.iter_mut().zip(prediction).zip(target) {
            *d += k * (p - t);
        }
    }
    if let Some(d_t) = d_target {
        for ((d, &p), &t) in d_t.iter_mut().zip(prediction).zip(target) {
            *d -= k * (p - t);
        }
    }
    ((), ())
}

/// [`mse`] and its pullback as one call (the `_vjp` of `docs/CALLS.md`).
#[inline]
#[allow(clippy::type_complexity)]
pub fn mse_vjp<'a, F: Float, const N: usize>(
    prediction: &'a [F; N],
    target: &'a [F; N],
) -> (F, impl FnOnce(F, Option<&mut [F; N]>, Option<&mut [F; N]>) -> ((), ()) + 'a) {
    let r = mse(prediction, target);
    (r, move |d_result: F, d_prediction: Option<&mut [F; N]>, d_target: Option<&mut [F; N]>| {
        mse_pullback(prediction, target, r, d_result, d_prediction, d_target)
    })
}
