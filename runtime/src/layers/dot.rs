//! The dot product of two arrays, with its pullback.

use super::kernels;
use crate::Float;

/// `Σ a[i] b[i]`, in eight interleaved partial sums so it vectorises (the last bits may differ
/// from a left-to-right loop). 0 for `N = 0`.
///
/// ```
/// use backprop_runtime::layers::dot;
/// assert_eq!(dot(&[1.0, 2.0, 3.0], &[4.0, -5.0, 6.0]), 12.0);
/// ```
#[inline]
pub fn dot<F: Float, const N: usize>(a: &[F; N], b: &[F; N]) -> F {
    kernels::dot(a, b)
}

/// The pullback of [`dot`] (the issue 8 convention): `d_a += d_result · b` and
/// `d_b += d_result · a`, each skipped when its sink is `None`.
#[inline]
pub fn dot_pullback<F: Float, const N: usize>(
    a: &[F; N],
    b: &[F; N],
    _result: F,
    d_result: F,
    d_a: Option<&mut [F; N]>,
    d_b: Option<&mut [F; N]>,
) -> ((), ()) {
    if let Some(d_a) = d_a {
        kernels::axpy(d_a, d_result, b);
    }
    if let Some(d_b) = d_b {
        kernels::axpy(d_b, d_result, a);
    }
    ((), ())
}

/// [`dot`] and its pullback as one call (the `_vjp` of `docs/CALLS.md`).
#[inline]
#[allow(clippy::type_complexity)]
pub fn dot_vjp<'a, F: Float, const N: usize>(
    a: &'a [F; N],
    b: &'a [F; N],
) -> (F, impl FnOnce(F, Option<&mut [F; N]>, Option<&mut [F; N]>) -> ((), ()) + 'a) {
    let r = dot(a, b);
    (r, move |d_result: F, d_a: Option<&mut [F; N]>, d_b: Option<&mut [F; N]>| {
        dot_pullback(a, b, r, d_result, d_a, d_b)
    })
}
