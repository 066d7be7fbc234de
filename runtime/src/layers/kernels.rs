//! The two loops every layer is made of, written so LLVM vectorises them: a reduction with
//! eight independent partial sums, and `y += a·x`.
//!
//! A plain `for` sum is one chain of dependent additions, which LLVM may not reorder for
//! floats, so it neither vectorises nor pipelines. Eight partial sums give it eight
//! independent chains (four SSE2 or two AVX registers of `f64`). The result is deterministic
//! but may differ in the last bits from a left-to-right sum.

use crate::Float;

/// Partial sums per reduction: two AVX registers of `f64`, enough to hide the add latency.
const LANES: usize = 8;

/// `Σ term(i)` for `i` in `0..n`, in [`LANES`] interleaved partial sums combined pairwise.
///
/// `term` is called once per index, in an unspecified order.
#[inline(always)]
pub(super) fn sum<F: Float>(n: usize, term: impl Fn(usize) -> F) -> F {
    let mut acc = [F::zero(); LANES];
    let full = n - n % LANES;
    let mut i = 0;
    while i < full {
        for (k, a) in acc.iter_mut().enumerate() {
            *a += term(i + k);
        }
        i += LANES;
    }
    let mut tail = F::zero();
    for i in full..n {
        tail += term(i);
    }
    let [a0, a1, a2, a3, a4, a5, a6, a7] = acc;
    (((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7))) + tail
}

/// `Σ a[i] b[i]` (the slices have equal lengths; callers pass rows of const-generic arrays).
#[inline(always)]
pub(super) fn dot<F: Float>(a: &[F], b: &[F]) -> F {
    debug_assert_eq!(a.len(), b.len());
    let b = &b[..a.len()];
    sum(a.len(), |i| a[i] * b[i])
}

/// `y += alpha · x`, element by element (no reduction, so it vectorises as written).
#[inline(always)]
pub(super) fn axpy<F: Float>(y: &mut [F], alpha: F, x: &[F]) {
    debug_assert_eq!(y.len(), x.len());
    for (y, &x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_term_once_at_every_length() {
        for n in 0..40 {
            // Integers are exact, so any summation order gives the same value.
            let expected = (n * (n + 1) / 2) as f64;
            assert_eq!(sum(n, |i| (i + 1) as f64), expected, "n = {n}");
        }
        let a: Vec<f64> = (0..19).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..19).map(|i| (2 * i) as f64).collect();
        assert_eq!(dot(&a, &b), (0..19).map(|i| 2.0 * (i * i) as f64).sum::<f64>());
        let mut y = [1.0_f32, 2.0, 3.0];
        axpy(&mut y, 2.0, &[1.0, -1.0, 0.5]);
        assert_eq!(y, [3.0, 0.0, 4.0]);
    }
}
