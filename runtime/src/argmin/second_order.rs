//! Second-order argmin problems: a generated `cost_hessian` as argmin's [`Hessian`] (Newton,
//! Newton-CG, trust region with Cauchy point / Dogleg / Steihaug) and a generated
//! `residuals_jacobian` as argmin's [`Operator`] + [`Jacobian`] (Gauss-Newton, with or without a
//! line search).
//!
//! Both work on the same flat `Vec<F>` view as [`ArgminProblem`] and hand argmin a [`Matrix`]
//! (argmin's `vec` backend cannot invert `Vec<Vec<F>>`; `matrix.rs`).

use std::sync::Mutex;

use ::argmin::core::{ArgminFloat, CostFunction, Gradient, Hessian, Jacobian, Operator};

use super::{ArgminProblem, Evaluation, Matrix};
use crate::params::{copy_from_slice, to_vec, Params};
use crate::{Error, Float as _};
use num_traits::{FromPrimitive, Zero};

/// The Hessian slot of an [`ArgminProblem`] built without one (first-order solvers only).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHessian;

impl<P, G, F> ArgminProblem<P, F, NoHessian>
where
    P: Params + Clone,
    G: Params<Scalar = P::Scalar>,
    F: Fn(&P) -> (P::Scalar, G),
{
    /// The same problem with a Hessian: `hessian(p)` returns `(cost, gradient, h)` with
    /// `h[i][j] = ∂²C/∂θᵢ∂θⱼ` over the flat view, which is exactly what a
    /// `#[backprop(hessian)]` function's `cost_hessian` returns. The problem then implements
    /// argmin's [`Hessian`], so argmin's `Newton`, `NewtonCG` and `TrustRegion` (with
    /// `CauchyPoint`, `Dogleg` or `Steihaug`) run on it.
    ///
    /// Cost and gradient still come from `cost_grad` (one gradient per trial point: the trust
    /// region tries points it then rejects, and a dense Hessian costs `n` Hessian-vector
    /// products); a Hessian evaluation also stores its cost and gradient, so a gradient asked for
    /// at the same point afterwards is free.
    ///
    /// ```
    /// use argmin::core::{Executor, State};
    /// use argmin::solver::newton::Newton;
    /// use backprop_runtime::argmin::ArgminProblem;
    ///
    /// // f(x, y) = x⁴ + (y - 2)², its gradient and Hessian written by hand.
    /// let grad = |p: &[f64; 2]| (p[0].powi(4) + (p[1] - 2.0).powi(2), [4.0 * p[0].powi(3), 2.0 * (p[1] - 2.0)]);
    /// let problem = ArgminProblem::new([1.0_f64, 0.0], grad).with_hessian(|p: &[f64; 2]| {
    ///     let (c, g) = grad(p);
    ///     (c, g, vec![vec![12.0 * p[0] * p[0], 0.0], vec![0.0, 2.0]])
    /// });
    /// let start = problem.initial_param();
    /// let result = Executor::new(problem, Newton::<f64>::new()).configure(|s| s.param(start).max_iters(40)).run()?;
    /// let x = result.state().get_param().unwrap();
    /// assert!(x[0].abs() < 1e-6 && (x[1] - 2.0).abs() < 1e-12);
    /// # Ok::<(), ::argmin::core::Error>(())
    /// ```
    pub fn with_hessian<H, M>(self, hessian: H) -> ArgminProblem<P, F, H>
    where
        H: Fn(&P) -> (P::Scalar, G, M),
        M: Into<Matrix<P::Scalar>>,
    {
        let Self { template, cost_grad, last, .. } = self;
        ArgminProblem { template, cost_grad, hessian, last }
    }
}

impl<P, G, F, H, M> Hessian for ArgminProblem<P, F, H>
where
    P: Params + Clone,
    P::Scalar: ArgminFloat,
    G: Params<Scalar = P::Scalar>,
    F: Fn(&P) -> (P::Scalar, G),
    H: Fn(&P) -> (P::Scalar, G, M),
    M: Into<Matrix<P::Scalar>>,
{
    type Param = Vec<P::Scalar>;
    type Hessian = Matrix<P::Scalar>;

    fn hessian(&self, param: &Self::Param) -> Result<Self::Hessian, ::argmin::core::Error> {
        let p = self.params(param)?;
        let (cost, g, h) = (self.hessian)(&p);
        let h: Matrix<P::Scalar> = h.into();
        let n = param.len();
        if g.num_params() != n || h.rows() != n || h.cols() != n {
            return Err(Error::ShapeMismatch {
                context: "Hessian returned to argmin (gradient entries, rows, columns)".into(),
                expected: n,
                found: if g.num_params() != n {
                    g.num_params()
                } else if h.rows() != n {
                    h.rows()
                } else {
                    h.cols()
                },
            }
            .into());
        }
        let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *last = Some(Evaluation { point: param.clone(), cost, gradient: to_vec(&g) });
        Ok(h)
    }
}

/// Residuals and their Jacobian at one point.
type ResidualsAndJacobian<S> = (Vec<S>, Matrix<S>);

/// The last residuals and Jacobian evaluated.
struct ResidualEvaluation<S> {
    point: Vec<S>,
    residuals: Vec<S>,
    jacobian: Matrix<S>,
}

/// A residual function and its Jacobian as an argmin problem over the flat parameter vector:
/// argmin's [`Operator`] (the residuals `r(θ)`, for `GaussNewton` and `GaussNewtonLS`) and
/// [`Jacobian`] (`j[k][i] = ∂r_k/∂θᵢ`), and also [`CostFunction`] `½‖r‖²` with [`Gradient`]
/// `Jᵀr`, so a first-order solver (L-BFGS) runs on the same least-squares problem.
///
/// `residuals_jacobian(p)` returns `(r, j)`: what a generated `<name>_jacobian` of a function
/// returning `[f64; M]` returns. One call gives both, and the problem remembers the last point,
/// so Gauss-Newton's `apply` and `jacobian` at one point cost one call. (A Jacobian costs `M`
/// pullbacks, so a line search's trial points, which need only `r`, pay for it too.)
///
/// ```
/// use argmin::core::{Executor, State};
/// use argmin::solver::gaussnewton::GaussNewton;
/// use backprop_runtime::argmin::ArgminResiduals;
///
/// // Residuals (x - 3, 2 (y + 1)): linear, so one Gauss-Newton step lands on the zero.
/// let problem = ArgminResiduals::new([0.0_f64, 0.0], |p: &[f64; 2]| {
///     ([p[0] - 3.0, 2.0 * (p[1] + 1.0)], vec![vec![1.0, 0.0], vec![0.0, 2.0]])
/// });
/// let start = problem.initial_param();
/// let result = Executor::new(problem, GaussNewton::new()).configure(|s| s.param(start).max_iters(10)).run()?;
/// assert_eq!(result.state().get_param().unwrap(), &vec![3.0, -1.0]);
/// # Ok::<(), ::argmin::core::Error>(())
/// ```
pub struct ArgminResiduals<P: Params, F> {
    template: P,
    residuals_jacobian: F,
    last: Mutex<Option<ResidualEvaluation<P::Scalar>>>,
}

impl<P, R, M, F> ArgminResiduals<P, F>
where
    P: Params + Clone,
    P::Scalar: ArgminFloat,
    R: Params<Scalar = P::Scalar>,
    M: Into<Matrix<P::Scalar>>,
    F: Fn(&P) -> (R, M),
{
    /// A problem over parameters shaped like `template` (also the start,
    /// [`ArgminResiduals::initial_param`]).
    pub fn new(template: P, residuals_jacobian: F) -> Self {
        Self { template, residuals_jacobian, last: Mutex::new(None) }
    }

    /// `template`'s flat view: the start to hand to argmin's `state.param(..)`.
    pub fn initial_param(&self) -> Vec<P::Scalar> {
        to_vec(&self.template)
    }

    /// The parameters at argmin's flat point `flat`, in their own shape.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `flat` has a different length than the parameters.
    pub fn params(&self, flat: &[P::Scalar]) -> Result<P, Error> {
        let mut p = self.template.clone();
        copy_from_slice(&mut p, flat)?;
        Ok(p)
    }

    /// Residuals and Jacobian at `point`, from the cache when `point` is the last one evaluated
    /// (compared bit for bit).
    fn evaluate(&self, point: &[P::Scalar]) -> Result<ResidualsAndJacobian<P::Scalar>, Error> {
        let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(e) = last.as_ref() {
            let same = e.point.len() == point.len()
                && e.point.iter().zip(point).all(|(a, b)| a.as_f64().to_bits() == b.as_f64().to_bits());
            if same {
                return Ok((e.residuals.clone(), e.jacobian.clone()));
            }
        }
        let p = self.params(point)?;
        let (r, j) = (self.residuals_jacobian)(&p);
        let (residuals, jacobian): (Vec<P::Scalar>, Matrix<P::Scalar>) = (to_vec(&r), j.into());
        if jacobian.rows() != residuals.len() || jacobian.cols() != point.len() {
            return Err(Error::ShapeMismatch {
                context: format!("Jacobian returned to argmin ({} residuals)", residuals.len()),
                expected: residuals.len() * point.len(),
                found: jacobian.rows() * jacobian.cols(),
            });
        }
        *last = Some(ResidualEvaluation {
            point: point.to_vec(),
            residuals: residuals.clone(),
            jacobian: jacobian.clone(),
        });
        Ok((residuals, jacobian))
    }
}

impl<P, R, M, F> Operator for ArgminResiduals<P, F>
where
    P: Params + Clone,
    P::Scalar: ArgminFloat,
    R: Params<Scalar = P::Scalar>,
    M: Into<Matrix<P::Scalar>>,
    F: Fn(&P) -> (R, M),
{
    type Param = Vec<P::Scalar>;
    type Output = Vec<P::Scalar>;

    fn apply(&self, param: &Self::Param) -> Result<Self::Output, ::argmin::core::Error> {
        Ok(self.evaluate(param)?.0)
    }
}

impl<P, R, M, F> Jacobian for ArgminResiduals<P, F>
where
    P: Params + Clone,
    P::Scalar: ArgminFloat,
    R: Params<Scalar = P::Scalar>,
    M: Into<Matrix<P::Scalar>>,
    F: Fn(&P) -> (R, M),
{
    type Param = Vec<P::Scalar>;
    type Jacobian = Matrix<P::Scalar>;

    fn jacobian(&self, param: &Self::Param) -> Result<Self::Jacobian, ::argmin::core::Error> {
        Ok(self.evaluate(param)?.1)
    }
}

impl<P, R, M, F> CostFunction for ArgminResiduals<P, F>
where
    P: Params + Clone,
    P::Scalar: ArgminFloat,
    R: Params<Scalar = P::Scalar>,
    M: Into<Matrix<P::Scalar>>,
    F: Fn(&P) -> (R, M),
{
    type Param = Vec<P::Scalar>;
    type Output = P::Scalar;

    /// `½‖r‖²`.
    fn cost(&self, param: &Self::Param) -> Result<Self::Output, ::argmin::core::Error> {
        let r = self.evaluate(param)?.0;
        let half = P::Scalar::from_f64(0.5).unwrap_or_else(P::Scalar::zero);
        Ok(half * r.iter().fold(P::Scalar::zero(), |s, x| s + *x * *x))
    }
}

impl<P, R, M, F> Gradient for ArgminResiduals<P, F>
where
    P: Params + Clone,
    P::Scalar: ArgminFloat,
    R: Params<Scalar = P::Scalar>,
    M: Into<Matrix<P::Scalar>>,
    F: Fn(&P) -> (R, M),
{
    type Param = Vec<P::Scalar>;
    type Gradient = Vec<P::Scalar>;

    /// `Jᵀr`, the gradient of `½‖r‖²`.
    fn gradient(&self, param: &Self::Param) -> Result<Self::Gradient, ::argmin::core::Error> {
        let (r, j) = self.evaluate(param)?;
        let mut g = vec![P::Scalar::zero(); j.cols()];
        for (k, rk) in r.iter().enumerate() {
            for (gi, jki) in g.iter_mut().zip(j.row(k)) {
                *gi += *jki * *rk;
            }
        }
        Ok(g)
    }
}
