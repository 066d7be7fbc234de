//! argmin adapter (the `argmin` feature): any `|&P| -> (cost, gradient)` over a [`Params`]
//! value, a `#[backprop]` gradient function included, as argmin's [`CostFunction`] and
//! [`Gradient`], so argmin's solvers (L-BFGS, BFGS, conjugate gradient, line searches, ...)
//! run on it.
//!
//! argmin's solvers need vector arithmetic on their parameter type, which an arbitrary
//! parameter struct does not have; so the problem works on the flat view, `Vec<F>`
//! (argmin-math's `vec` backend, enabled by this feature), and converts to and from `P` with
//! [`ArgminProblem::initial_param`] and [`ArgminProblem::params`].
//!
//! argmin asks for the cost and the gradient at the same point in separate calls; the
//! problem remembers its last evaluation so a point costs one call of the gradient function.
//!
//! Second order (`second_order.rs`): [`ArgminProblem::with_hessian`] adds argmin's [`Hessian`]
//! (a generated `cost_hessian`) for Newton and the trust-region methods, and [`ArgminResiduals`]
//! makes a generated `residuals_jacobian` argmin's `Operator` + `Jacobian` for Gauss-Newton. Both
//! hand argmin a [`Matrix`] (`matrix.rs` says why not `Vec<Vec<f64>>`). Matrix-free
//! (`hvp.rs`): [`ArgminProblem::with_hvp`] hands `NewtonCG` and `TrustRegion` + `Steihaug` an
//! operator whose product is one `cost_hvp`.
//!
//! [`Hessian`]: ::argmin::core::Hessian

mod hvp;
mod matrix;
mod second_order;

pub use hvp::{HvpOperator, WithHvp};
pub use matrix::Matrix;
pub use second_order::{ArgminResiduals, NoHessian};

use std::sync::Mutex;

use ::argmin::core::{ArgminFloat, CostFunction, Gradient};

use crate::params::{copy_from_slice, to_vec, Params};
use crate::{Error, Float as _};

/// The last point evaluated and its results.
struct Evaluation<S> {
    point: Vec<S>,
    cost: S,
    gradient: Vec<S>,
}

/// A gradient function as an argmin problem over the flat parameter vector.
///
/// ```
/// use argmin::core::{Executor, State};
/// use argmin::solver::linesearch::MoreThuenteLineSearch;
/// use argmin::solver::quasinewton::LBFGS;
/// use backprop_runtime::argmin::ArgminProblem;
///
/// // f(x, y) = (x - 1)^2 + 10 (y + 2)^2, starting from the origin.
/// let problem = ArgminProblem::new([0.0_f64, 0.0], |p: &[f64; 2]| {
///     let (a, b) = (p[0] - 1.0, p[1] + 2.0);
///     (a * a + 10.0 * b * b, [2.0 * a, 20.0 * b])
/// });
/// let start = problem.initial_param();
/// let solver = LBFGS::new(MoreThuenteLineSearch::new(), 5);
/// let result = Executor::new(problem, solver).configure(|s| s.param(start).max_iters(50)).run()?;
/// let best = result.state().get_best_param().unwrap();
/// assert!((best[0] - 1.0).abs() < 1e-8 && (best[1] + 2.0).abs() < 1e-8);
/// # Ok::<(), ::argmin::core::Error>(())
/// ```
pub struct ArgminProblem<P: Params, F, H = NoHessian> {
    template: P,
    cost_grad: F,
    /// The Hessian function of [`ArgminProblem::with_hessian`], or [`NoHessian`].
    hessian: H,
    last: Mutex<Option<Evaluation<P::Scalar>>>,
}

impl<P, G, F> ArgminProblem<P, F>
where
    P: Params + Clone,
    G: Params<Scalar = P::Scalar>,
    F: Fn(&P) -> (P::Scalar, G),
{
    /// A problem over parameters shaped like `template` (whose values are also the natural
    /// starting point, [`ArgminProblem::initial_param`]). `cost_grad` returns the cost and a
    /// gradient with as many scalars as the parameters, in the same order (a generated
    /// gradient struct, or a value of the parameters' own type).
    pub fn new(template: P, cost_grad: F) -> Self {
        Self { template, cost_grad, hessian: NoHessian, last: Mutex::new(None) }
    }
}

impl<P, G, F, H> ArgminProblem<P, F, H>
where
    P: Params + Clone,
    G: Params<Scalar = P::Scalar>,
    F: Fn(&P) -> (P::Scalar, G),
{
    /// `template`'s flat view: the start to hand to argmin's `state.param(..)`.
    pub fn initial_param(&self) -> Vec<P::Scalar> {
        to_vec(&self.template)
    }

    /// The parameters at argmin's flat point `flat` (e.g. its best parameter), in their own
    /// shape.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `flat` has a different length than the parameters.
    pub fn params(&self, flat: &[P::Scalar]) -> Result<P, Error> {
        let mut p = self.template.clone();
        copy_from_slice(&mut p, flat)?;
        Ok(p)
    }

    /// Cost and flat gradient at `point`, from the cache when `point` is the last one
    /// evaluated (compared bit for bit).
    fn evaluate(&self, point: &[P::Scalar]) -> Result<(P::Scalar, Vec<P::Scalar>), Error> {
        // A poisoned lock only means an earlier call panicked inside the user's function;
        // the cache itself is always consistent, so keep using it.
        let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(e) = last.as_ref() {
            let same = e.point.len() == point.len()
                && e.point.iter().zip(point).all(|(a, b)| a.as_f64().to_bits() == b.as_f64().to_bits());
            if same {
                return Ok((e.cost, e.gradient.clone()));
            }
        }
        let p = self.params(point)?;
        let (cost, g) = (self.cost_grad)(&p);
        if g.num_params() != point.len() {
            return Err(Error::ShapeMismatch {
                context: "gradient returned to argmin".into(),
                expected: point.len(),
                found: g.num_params(),
            });
        }
        let gradient = to_vec(&g);
        *last = Some(Evaluation { point: point.to_vec(), cost, gradient: gradient.clone() });
        Ok((cost, gradient))
    }
}

impl<P, G, F, H> CostFunction for ArgminProblem<P, F, H>
where
    P: Params + Clone,
    P::Scalar: ArgminFloat,
    G: Params<Scalar = P::Scalar>,
    F: Fn(&P) -> (P::Scalar, G),
{
    type Param = Vec<P::Scalar>;
    type Output = P::Scalar;

    fn cost(&self, param: &Self::Param) -> Result<Self::Output, ::argmin::core::Error> {
        Ok(self.evaluate(param)?.0)
    }
}

impl<P, G, F, H> Gradient for ArgminProblem<P, F, H>
where
    P: Params + Clone,
    P::Scalar: ArgminFloat,
    G: Params<Scalar = P::Scalar>,
    F: Fn(&P) -> (P::Scalar, G),
{
    type Param = Vec<P::Scalar>;
    type Gradient = Vec<P::Scalar>;

    fn gradient(&self, param: &Self::Param) -> Result<Self::Gradient, ::argmin::core::Error> {
        Ok(self.evaluate(param)?.1)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn cost_and_gradient_at_one_point_cost_one_evaluation() {
        let calls = Cell::new(0);
        let problem = ArgminProblem::new((1.0_f64, [2.0, 3.0]), |p: &(f64, [f64; 2])| {
            calls.set(calls.get() + 1);
            (p.0 * p.1[0] * p.1[1], (p.1[0] * p.1[1], [p.0 * p.1[1], p.0 * p.1[0]]))
        });
        let x = problem.initial_param();
        assert_eq!(x, vec![1.0, 2.0, 3.0]);
        assert_eq!(problem.cost(&x).unwrap(), 6.0);
        assert_eq!(problem.gradient(&x).unwrap(), vec![6.0, 3.0, 2.0]);
        assert_eq!(calls.get(), 1);
        let y = vec![2.0, 2.0, 3.0];
        assert_eq!(problem.gradient(&y).unwrap(), vec![6.0, 6.0, 4.0]);
        assert_eq!(problem.cost(&y).unwrap(), 12.0);
        assert_eq!(calls.get(), 2);
        assert_eq!(problem.params(&y).unwrap(), (2.0, [2.0, 3.0]));
    }

    #[test]
    fn wrong_lengths_are_errors_naming_the_problem() {
        let problem = ArgminProblem::new([0.0_f64; 2], |p: &[f64; 2]| (p[0], vec![1.0]));
        let err = problem.gradient(&vec![0.0, 0.0]).unwrap_err();
        assert_eq!(err.to_string(), "shape mismatch in gradient returned to argmin: expected 2 scalars, found 1");
        let err = problem.cost(&vec![0.0; 3]).unwrap_err();
        assert_eq!(err.to_string(), "shape mismatch in copy_from_slice: expected 2 scalars, found 3");
        assert!(problem.params(&[1.0]).is_err());
    }
}
