//! The smallest useful training loop: fixed-rate gradient descent on a cost function that
//! returns its own gradient, for when a full [`Trainer`](crate::Trainer) is more than needed.

use crate::error::positive;
use crate::params::{first_non_finite, Params};
use crate::{Error, Float, Quantity};
use num_traits::Float as _;

/// What a [`gradient_descent`] run did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DescentReport<F> {
    /// Number of updates applied.
    pub steps: usize,
    /// Cost at the starting parameters.
    pub initial_cost: F,
    /// Cost at the returned parameters (one extra evaluation after the last update).
    pub final_cost: F,
    /// Euclidean norm of the gradient at the returned parameters.
    pub final_grad_norm: F,
}

/// Runs `steps` updates `p -= learning_rate * grad(p)` where `cost_grad(p)` returns
/// `(cost, gradient)` with the gradient in the same shape as the parameters.
///
/// # Errors
/// - [`Error::InvalidHyperParameter`] if `learning_rate` is not positive and finite.
/// - [`Error::ShapeMismatch`] if a gradient has a different number of scalars than `params`.
/// - [`Error::NonFinite`] naming the step and parameter if a cost or gradient is NaN or
///   infinite; `params` then hold the last finite iterate.
///
/// # Example
/// ```
/// use backprop_runtime::descent::gradient_descent;
/// let mut x = [3.0_f64, -1.0];
/// // cost = x0^2 + x1^2, gradient = 2x
/// let report = gradient_descent(&mut x, 0.25, 50, |p: &[f64; 2]| {
///     (p[0] * p[0] + p[1] * p[1], [2.0 * p[0], 2.0 * p[1]])
/// })?;
/// assert!(report.final_cost < 1e-20);
/// # Ok::<(), backprop_runtime::Error>(())
/// ```
pub fn gradient_descent<P, C>(
    params: &mut P,
    learning_rate: P::Scalar,
    steps: usize,
    mut cost_grad: C,
) -> Result<DescentReport<P::Scalar>, Error>
where
    P: Params,
    C: FnMut(&P) -> (P::Scalar, P),
{
    positive("gradient_descent", "learning_rate", learning_rate.as_f64())?;
    let (mut cost, mut grad) = evaluate(params, &mut cost_grad, 0)?;
    let initial_cost = cost;
    for step in 0..steps {
        let mut g = grad.iter();
        params.visit_mut(&mut |x| {
            if let Some(&gi) = g.next() {
                *x -= learning_rate * gi;
            }
        });
        (cost, grad) = evaluate(params, &mut cost_grad, step + 1)?;
    }
    Ok(DescentReport { steps, initial_cost, final_cost: cost, final_grad_norm: crate::params::slice_norm(&grad) })
}

/// One checked evaluation: the cost and the flat gradient, or the error naming what broke.
fn evaluate<P, C>(params: &P, cost_grad: &mut C, step: usize) -> Result<(P::Scalar, Vec<P::Scalar>), Error>
where
    P: Params,
    C: FnMut(&P) -> (P::Scalar, P),
{
    let (cost, grad) = cost_grad(params);
    if !cost.is_finite() {
        return Err(Error::NonFinite { quantity: Quantity::Cost, step, parameter: None, value: cost.as_f64() });
    }
    if grad.num_params() != params.num_params() {
        return Err(Error::ShapeMismatch {
            context: "gradient".into(),
            expected: params.num_params(),
            found: grad.num_params(),
        });
    }
    if let Some((i, v)) = first_non_finite(&grad) {
        return Err(Error::NonFinite {
            quantity: Quantity::Gradient,
            step,
            parameter: Some(params.describe(i, "")),
            value: v.as_f64(),
        });
    }
    Ok((cost, crate::params::to_vec(&grad)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// cost = (w3 * w2 * w1 * x - y)^2 for one sample, the chain the macro's first example uses.
    fn chain(p: &[f64; 3]) -> (f64, [f64; 3]) {
        let (x, y) = (1.5, 0.75);
        let r = p[2] * p[1] * p[0] * x - y;
        let d = 2.0 * r * x;
        (r * r, [d * p[1] * p[2], d * p[0] * p[2], d * p[0] * p[1]])
    }

    #[test]
    fn trains_a_three_weight_chain() {
        let mut w = [0.5, 0.8, 1.1];
        let report = gradient_descent(&mut w, 0.05, 500, chain).unwrap();
        assert_eq!(report.steps, 500);
        assert!((report.initial_cost - (1.1 * 0.8 * 0.5 * 1.5 - 0.75_f64).powi(2)).abs() < 1e-15);
        assert!(report.final_cost < 1e-10, "{report:?}");
        assert!((w[0] * w[1] * w[2] * 1.5 - 0.75).abs() < 1e-5);
    }

    #[test]
    fn rejects_bad_rate_and_reports_nan_with_its_name() {
        let mut w = [1.0, 1.0, 1.0];
        let err = gradient_descent(&mut w, 0.0, 3, chain).unwrap_err();
        assert_eq!(err.to_string(), "`gradient_descent`: `learning_rate` must be positive and finite, got 0");
        let err = gradient_descent(&mut w, 0.1, 3, |p: &[f64; 3]| (1.0, [p[0], f64::NAN, 0.0])).unwrap_err();
        assert_eq!(err.to_string(), "non-finite gradient at step 0: `param[1]` = NaN");
        // A NaN cost is caught too, naming the step it happened at.
        let mut calls = 0;
        let err = gradient_descent(&mut w, 0.1, 3, |_: &[f64; 3]| {
            calls += 1;
            (if calls == 3 { f64::INFINITY } else { 1.0 }, [0.0; 3])
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "non-finite cost at step 2: inf");
    }
}
