//! Matrix-free second order: a generated `cost_hvp` as argmin's [`Hessian`], handed over as an
//! operator whose only operation is `H·v` ([`HvpOperator`]). argmin's `NewtonCG` and
//! `TrustRegion` with `Steihaug` only ever multiply the Hessian by a vector, so they run on it
//! without the `n` hvps (and `n²` memory) a dense Hessian costs.

use std::sync::{Arc, Mutex};

use ::argmin::core::{ArgminFloat, Hessian};
use argmin_math::ArgminDot;

use super::{ArgminProblem, NoHessian};
use crate::params::{copy_from_slice, to_vec, Params};

/// The Hessian slot of an [`ArgminProblem`] built with [`ArgminProblem::with_hvp`].
pub struct WithHvp<H>(Arc<H>);

impl<P, G, F> ArgminProblem<P, F, NoHessian>
where
    P: Params + Clone,
    G: Params<Scalar = P::Scalar>,
    F: Fn(&P) -> (P::Scalar, G),
{
    /// The same problem with a Hessian-vector product: `hvp(p, v)` returns `(cost, gradient, H·v)`
    /// for a direction `v` of the gradient's shape, which is what a `#[backprop(hessian)]`
    /// function's `cost_hvp` returns. argmin's [`Hessian`] is then an [`HvpOperator`] at the
    /// point, for the solvers that only multiply by it: `NewtonCG` and `TrustRegion` with
    /// `Steihaug` (not `Newton`, `Dogleg` or `CauchyPoint`'s exact form, which need the matrix:
    /// use [`ArgminProblem::with_hessian`] for those).
    ///
    /// ```
    /// use argmin::core::{Executor, State};
    /// use argmin::solver::trustregion::{Steihaug, TrustRegion};
    /// use backprop_runtime::argmin::ArgminProblem;
    ///
    /// // f(x) = Σ (i + 1) x_i², with H·v = 2 (i + 1) v_i written by hand.
    /// let grad = |x: &Vec<f64>| {
    ///     (x.iter().enumerate().map(|(i, v)| (i + 1) as f64 * v * v).sum::<f64>(),
    ///      x.iter().enumerate().map(|(i, v)| 2.0 * (i + 1) as f64 * v).collect::<Vec<f64>>())
    /// };
    /// let problem = ArgminProblem::new(vec![1.0; 50], grad).with_hvp(|x: &Vec<f64>, v: &Vec<f64>| {
    ///     let (c, g) = grad(x);
    ///     (c, g, v.iter().enumerate().map(|(i, v)| 2.0 * (i + 1) as f64 * v).collect())
    /// });
    /// let start = problem.initial_param();
    /// let solver = TrustRegion::new(Steihaug::<Vec<f64>, f64>::new().with_max_iters(100)).with_max_radius(1e3)?;
    /// let result = Executor::new(problem, solver).configure(|s| s.param(start).max_iters(20)).run()?;
    /// assert!(result.state().get_param().unwrap().iter().all(|x| x.abs() < 1e-8));
    /// # Ok::<(), ::argmin::core::Error>(())
    /// ```
    pub fn with_hvp<H>(self, hvp: H) -> ArgminProblem<P, F, WithHvp<H>>
    where
        H: Fn(&P, &G) -> (P::Scalar, G, G),
    {
        let Self { template, cost_grad, last, .. } = self;
        ArgminProblem { template, cost_grad, hessian: WithHvp(Arc::new(hvp)), last }
    }
}

/// The Hessian at one point as an operator: `dot(v)` is one `hvp` call (`H·v`). Clones share the
/// function and the direction buffer (argmin clones the Hessian into its subproblem).
pub struct HvpOperator<P, G, H> {
    hvp: Arc<H>,
    point: P,
    /// A value of the gradient's type, overwritten with each direction (generated gradient
    /// structs need not be `Clone`, so one is kept rather than made per product).
    direction: Arc<Mutex<G>>,
}

impl<P: Clone, G, H> Clone for HvpOperator<P, G, H> {
    fn clone(&self) -> Self {
        Self { hvp: Arc::clone(&self.hvp), point: self.point.clone(), direction: Arc::clone(&self.direction) }
    }
}

impl<P, G, H> HvpOperator<P, G, H>
where
    P: Params,
    G: Params<Scalar = P::Scalar>,
    H: Fn(&P, &G) -> (P::Scalar, G, G),
{
    /// `H·v` over the flat view: one `hvp` call.
    ///
    /// # Panics
    /// If `v` is not as long as the parameters (argmin's solvers always pass vectors of the
    /// parameter's length; `ArgminDot` has no error channel).
    pub fn apply(&self, v: &[P::Scalar]) -> Vec<P::Scalar> {
        let mut direction = self.direction.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        copy_from_slice(&mut *direction, v).expect("HvpOperator: a direction of the parameters' length");
        let (_, _, hv) = (self.hvp)(&self.point, &direction);
        to_vec(&hv)
    }
}

impl<P, G, H> ArgminDot<Vec<P::Scalar>, Vec<P::Scalar>> for HvpOperator<P, G, H>
where
    P: Params,
    G: Params<Scalar = P::Scalar>,
    H: Fn(&P, &G) -> (P::Scalar, G, G),
{
    /// `H·v` ([`HvpOperator::apply`]).
    fn dot(&self, v: &Vec<P::Scalar>) -> Vec<P::Scalar> {
        self.apply(v)
    }
}

impl<P, G, F, H> Hessian for ArgminProblem<P, F, WithHvp<H>>
where
    P: Params + Clone,
    P::Scalar: ArgminFloat,
    G: Params<Scalar = P::Scalar>,
    F: Fn(&P) -> (P::Scalar, G),
    H: Fn(&P, &G) -> (P::Scalar, G, G),
{
    type Param = Vec<P::Scalar>;
    type Hessian = HvpOperator<P, G, H>;

    /// The operator at `param`. Costs one gradient (for a direction buffer of the gradient's
    /// type, and the cache); each product then costs one hvp.
    fn hessian(&self, param: &Self::Param) -> Result<Self::Hessian, ::argmin::core::Error> {
        let point = self.params(param)?;
        let (_, g) = (self.cost_grad)(&point);
        Ok(HvpOperator { hvp: Arc::clone(&self.hessian.0), point, direction: Arc::new(Mutex::new(g)) })
    }
}
