//! Derivative conventions at points where a function is not differentiable.
//!
//! Generated gradients call these so that every kink has one documented answer. Each follows a
//! mainstream framework, so gradients from `#[backprop]` agree with what users get elsewhere:
//!
//! | function | convention | follows |
//! | --- | --- | --- |
//! | `abs` | [`sign`]: 0 at 0 | PyTorch `abs`, JAX `abs` |
//! | `max`/`min` | [`max_weight`]/[`min_weight`]: ties split 0.5/0.5 | PyTorch `maximum`, JAX `max` |
//! | `clamp` | [`clamp_weight`]: 1 on the closed interval | PyTorch `clamp` |
//!
//! NaN inputs follow the *value* semantics of Rust's `f64::max`/`min` (which return the non-NaN
//! operand), so that the gradient flows to the operand whose value was actually selected.

use crate::Float;

/// `d|x|/dx`: 1 for `x > 0`, -1 for `x < 0`, 0 at either zero, NaN for NaN.
///
/// Unlike `f64::signum`, which returns ±1 for ±0, the subgradient 0 is used at 0 (PyTorch, JAX).
#[inline]
pub fn sign<F: Float>(x: F) -> F {
    if x > F::zero() {
        F::one()
    } else if x < F::zero() {
        -F::one()
    } else if x.is_nan() {
        x
    } else {
        F::zero()
    }
}

/// The share of `d a.max(b)` that flows to `a`: 1 if `a > b`, 0 if `a < b`, 0.5 on a tie.
///
/// The 0.5 split on ties follows PyTorch's `torch.maximum` and JAX. NaN follows `f64::max`,
/// which returns the non-NaN operand: if only `b` is NaN the result is `a` (weight 1); if only
/// `a` is NaN the result is `b` (weight 0); if both are NaN the weight is NaN.
/// The share flowing to `b` is `1 - max_weight(a, b)`.
#[inline]
pub fn max_weight<F: Float>(a: F, b: F) -> F {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => a,
        (false, true) => F::one(),
        (true, false) => F::zero(),
        (false, false) => {
            if a > b {
                F::one()
            } else if a < b {
                F::zero()
            } else {
                F::one() / (F::one() + F::one())
            }
        }
    }
}

/// The share of `d a.min(b)` that flows to `a`: 1 if `a < b`, 0 if `a > b`, 0.5 on a tie.
///
/// Same tie and NaN conventions as [`max_weight`] (`f64::min` also returns the non-NaN operand).
#[inline]
pub fn min_weight<F: Float>(a: F, b: F) -> F {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => a,
        (false, true) => F::one(),
        (true, false) => F::zero(),
        (false, false) => {
            if a < b {
                F::one()
            } else if a > b {
                F::zero()
            } else {
                F::one() / (F::one() + F::one())
            }
        }
    }
}

/// `d x.clamp(lo, hi) / dx`: 1 when `lo <= x <= hi` (edges inclusive, like PyTorch `clamp`),
/// else 0; NaN for NaN `x` (the clamped value is NaN too).
#[inline]
pub fn clamp_weight<F: Float>(x: F, lo: F, hi: F) -> F {
    if x.is_nan() {
        x
    } else if lo <= x && x <= hi {
        F::one()
    } else {
        F::zero()
    }
}

/// `d x.clamp(lo, hi) / d lo`: 1 if `x < lo` (the lower bound is the output), else 0;
/// NaN for NaN `x`.
#[inline]
pub fn clamp_lo_weight<F: Float>(x: F, lo: F) -> F {
    if x.is_nan() {
        x
    } else if x < lo {
        F::one()
    } else {
        F::zero()
    }
}

/// `d x.clamp(lo, hi) / d hi`: 1 if `x > hi` (the upper bound is the output), else 0;
/// NaN for NaN `x`.
#[inline]
pub fn clamp_hi_weight<F: Float>(x: F, hi: F) -> F {
    if x.is_nan() {
        x
    } else if x > hi {
        F::one()
    } else {
        F::zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_uses_zero_subgradient() {
        assert_eq!(sign(2.5), 1.0);
        assert_eq!(sign(-1e-300), -1.0);
        assert_eq!(sign(0.0), 0.0);
        assert_eq!(sign(-0.0), 0.0);
        assert!(sign(f64::NAN).is_nan());
        assert_eq!(sign(-3.0_f32), -1.0);
    }

    #[test]
    fn max_min_split_ties_and_follow_std_on_nan() {
        assert_eq!(max_weight(2.0, 1.0), 1.0);
        assert_eq!(max_weight(1.0, 2.0), 0.0);
        assert_eq!(max_weight(1.0, 1.0), 0.5);
        assert_eq!(min_weight(1.0, 2.0), 1.0);
        assert_eq!(min_weight(2.0, 1.0), 0.0);
        assert_eq!(min_weight(-0.0, 0.0), 0.5);
        let nan = f64::NAN;
        // The weight agrees with which operand std's max/min returns.
        assert_eq!(1.0_f64.max(nan), 1.0);
        assert_eq!(max_weight(1.0, nan), 1.0);
        assert_eq!(max_weight(nan, 1.0), 0.0);
        assert!(max_weight(nan, nan).is_nan());
        assert_eq!(min_weight(1.0, nan), 1.0);
        assert_eq!(min_weight(nan, 1.0), 0.0);
        assert!(min_weight(nan, nan).is_nan());
    }

    #[test]
    fn clamp_edges_are_inclusive() {
        assert_eq!(clamp_weight(0.0, 0.0, 1.0), 1.0);
        assert_eq!(clamp_weight(1.0, 0.0, 1.0), 1.0);
        assert_eq!(clamp_weight(1.5, 0.0, 1.0), 0.0);
        assert_eq!(clamp_weight(-0.5, 0.0, 1.0), 0.0);
        assert_eq!(clamp_lo_weight(-0.5, 0.0), 1.0);
        assert_eq!(clamp_lo_weight(0.0, 0.0), 0.0);
        assert_eq!(clamp_hi_weight(1.5, 1.0), 1.0);
        assert_eq!(clamp_hi_weight(1.0, 1.0), 0.0);
        assert!(clamp_weight(f64::NAN, 0.0, 1.0).is_nan());
        assert!(clamp_lo_weight(f64::NAN, 0.0).is_nan());
        assert!(clamp_hi_weight(f64::NAN, 0.0).is_nan());
    }
}
