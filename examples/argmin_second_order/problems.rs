//! MGH test problems (Moré, Garbow, Hillstrom 1981) with their generated second derivatives, and
//! the argmin runs on them, shared by `examples/argmin_newton.rs`,
//! `examples/argmin_gauss_newton.rs` and `tests/argmin_second_order.rs`.
//!
//! Every run stops at the same test, `|∇f| < GRAD_TOL` at the current point, so iteration counts
//! compare: L-BFGS through its own gradient tolerance, the second-order solvers (which have no
//! gradient test of their own) through [`UntilGradNorm`].

#![allow(dead_code)] // each of the three users runs the part it needs

use argmin::core::{
    ArgminFloat, Error, Executor, Gradient, Problem, Solver, State, TerminationReason, TerminationStatus, KV,
};
use argmin::solver::gaussnewton::GaussNewton;
use argmin::solver::linesearch::condition::ArmijoCondition;
use argmin::solver::linesearch::{BacktrackingLineSearch, MoreThuenteLineSearch};
use argmin::solver::newton::{Newton, NewtonCG};
use argmin::solver::quasinewton::LBFGS;
use argmin::solver::trustregion::{Steihaug, TrustRegion};
use backprop::argmin::{ArgminProblem, ArgminResiduals};
use backprop::{backprop, Params};

/// Every solver stops once the gradient's Euclidean norm is below this.
pub const GRAD_TOL: f64 = 1e-6;
/// Iteration limit of every run.
pub const MAX_ITERS: u64 = 10_000;

// ---- Costs with Hessians -------------------------------------------------------------------------

/// MGH 1, Rosenbrock: `100 (x₂ − x₁²)² + (1 − x₁)²`; minimum 0 at (1, 1).
#[backprop(hessian)]
pub fn rosenbrock(x: &[f64; 2]) -> f64 {
    let a = x[1] - x[0] * x[0];
    let b = 1.0 - x[0];
    100.0 * a * a + b * b
}

/// MGH 13, Powell singular; minimum 0 at the origin, where the Hessian is singular (so Newton
/// converges only linearly there).
#[backprop(hessian)]
pub fn powell_singular(x: &[f64; 4]) -> f64 {
    let a = x[0] + 10.0 * x[1];
    let b = x[2] - x[3];
    let c = x[1] - 2.0 * x[2];
    let d = x[0] - x[3];
    a * a + 5.0 * b * b + c.powi(4) + 10.0 * d.powi(4)
}

/// MGH 4, Brown badly scaled: `(x₁ − 10⁶)² + (x₂ − 2·10⁻⁶)² + (x₁x₂ − 2)²`; minimum 0 at
/// (10⁶, 2·10⁻⁶).
#[backprop(hessian)]
pub fn brown_badly_scaled(x: &[f64; 2]) -> f64 {
    let a = x[0] - 1e6;
    let b = x[1] - 2e-6;
    let c = x[0] * x[1] - 2.0;
    a * a + b * b + c * c
}

/// MGH 21, the extended Rosenbrock function over a slice (n = [`N_LARGE`] in the matrix-free
/// runs): `Σ_i 100 (x[2i+1] − x[2i]²)² + (1 − x[2i])²`, minimum 0 at all ones.
#[backprop(hessian)]
pub fn extended_rosenbrock(x: &[f64]) -> f64 {
    let mut f = 0.0;
    for i in 0..x.len() / 2 {
        let a = x[2 * i + 1] - x[2 * i] * x[2 * i];
        let b = 1.0 - x[2 * i];
        f += 100.0 * a * a + b * b;
    }
    f
}

/// Size of the matrix-free runs (a dense Hessian would be 1,000 hvps and 8 MB per iteration).
pub const N_LARGE: usize = 1000;

/// The classic start (-1.2, 1, -1.2, 1, ...).
pub fn extended_start() -> Vec<f64> {
    (0..N_LARGE).map(|i| if i % 2 == 0 { -1.2 } else { 1.0 }).collect()
}

// ---- Residuals with Jacobians --------------------------------------------------------------------

/// MGH 2, Freudenstein-Roth residuals. `Σ r²` has its global minimum 0 at (5, 4) and a local one,
/// 48.9842..., at (11.41..., −0.8968...). From the standard start (0.5, −2), L-BFGS descends into
/// the local one; full Gauss-Newton steps jump over it and reach the global one.
#[backprop]
pub fn freudenstein_roth(x: &[f64; 2]) -> [f64; 2] {
    let mut r = [0.0; 2];
    r[0] = -13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1];
    r[1] = -29.0 + x[0] + ((x[1] + 1.0) * x[1] - 14.0) * x[1];
    r
}

/// MGH 1 as residuals: `r = (10 (x₂ − x₁²), 1 − x₁)`, `Σ r²` is [`rosenbrock`].
#[backprop]
pub fn rosenbrock_residuals(x: &[f64; 2]) -> [f64; 2] {
    let mut r = [0.0; 2];
    r[0] = 10.0 * (x[1] - x[0] * x[0]);
    r[1] = 1.0 - x[0];
    r
}

// ---- The problems --------------------------------------------------------------------------------

/// A dense Hessian as `_hessian` returns it.
pub type DenseHessian = Vec<Vec<f64>>;
/// A Jacobian as `_jacobian` returns it, one row per residual.
pub type JacobianRows = Vec<Vec<f64>>;

/// A cost with its gradient and Hessian (the generated `_grad` and `_hessian`).
pub struct Cost<const N: usize, G> {
    pub name: &'static str,
    pub start: [f64; N],
    /// The known minimizers.
    pub minimizers: &'static [&'static [f64]],
    pub grad: fn(&[f64; N]) -> (f64, G),
    pub hessian: fn(&[f64; N]) -> (f64, G, DenseHessian),
}

pub fn rosenbrock_problem() -> Cost<2, RosenbrockGrad> {
    Cost {
        name: "Rosenbrock",
        start: [-1.2, 1.0],
        minimizers: &[&[1.0, 1.0]],
        grad: rosenbrock_grad,
        hessian: rosenbrock_hessian,
    }
}

pub fn powell_singular_problem() -> Cost<4, PowellSingularGrad> {
    Cost {
        name: "Powell singular",
        start: [3.0, -1.0, 0.0, 1.0],
        minimizers: &[&[0.0; 4]],
        grad: powell_singular_grad,
        hessian: powell_singular_hessian,
    }
}

pub fn brown_problem() -> Cost<2, BrownBadlyScaledGrad> {
    Cost {
        name: "Brown badly scaled",
        start: [1.0, 1.0],
        minimizers: &[&[1e6, 2e-6]],
        grad: brown_badly_scaled_grad,
        hessian: brown_badly_scaled_hessian,
    }
}

/// Residuals with their Jacobian (the generated `_jacobian`).
pub struct Residuals<const N: usize, const M: usize> {
    pub name: &'static str,
    pub start: [f64; N],
    /// The known minimizers (global first).
    pub minimizers: &'static [&'static [f64]],
    pub jacobian: fn(&[f64; N]) -> ([f64; M], JacobianRows),
}

pub fn freudenstein_roth_problem() -> Residuals<2, 2> {
    Residuals {
        name: "Freudenstein-Roth",
        start: [0.5, -2.0],
        minimizers: &[&[5.0, 4.0], &[11.412_778_996_659_06, -0.896_805_253_205_478_3]],
        jacobian: freudenstein_roth_jacobian,
    }
}

pub fn rosenbrock_residuals_problem() -> Residuals<2, 2> {
    Residuals {
        name: "Rosenbrock",
        start: [-1.2, 1.0],
        minimizers: &[&[1.0, 1.0]],
        jacobian: rosenbrock_residuals_jacobian,
    }
}

// ---- Runs ----------------------------------------------------------------------------------------

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub solver: &'static str,
    pub iterations: u64,
    /// The MGH objective at the returned point (`Σ r²` for residual problems).
    pub f: f64,
    /// `|∇f|` at the returned point (of the cost the solver minimised).
    pub grad_norm: f64,
    pub x: Vec<f64>,
    /// Whether the gradient test was met (rather than the iteration limit).
    pub converged: bool,
}

impl Outcome {
    /// Largest `|x_i − x*_i| / max(1, |x*_i|)` against the nearest of the known minimizers.
    pub fn error(&self, minimizers: &[&[f64]]) -> f64 {
        let one = |m: &[f64]| self.x.iter().zip(m).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f64::max);
        minimizers.iter().map(|m| one(m)).fold(f64::INFINITY, f64::min)
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Runs `inner` until `|∇f| < tol` at the state's parameter, the stopping test argmin's Newton,
/// trust region and Gauss-Newton lack (Newton has none; the others test the cost's change). The
/// gradient comes from the problem, whose cache makes it free at a point just evaluated.
pub struct UntilGradNorm<S> {
    pub inner: S,
    pub tol: f64,
    norm: f64,
}

impl<S> UntilGradNorm<S> {
    pub fn new(inner: S, tol: f64) -> Self {
        Self { inner, tol, norm: f64::INFINITY }
    }

    fn measure<O, I>(&mut self, problem: &mut Problem<O>, state: &I) -> Result<(), Error>
    where
        I: State<Param = Vec<f64>>,
        O: Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
    {
        if let Some(p) = state.get_param() {
            self.norm = norm(&problem.gradient(p)?);
        }
        Ok(())
    }
}

impl<O, S, I> Solver<O, I> for UntilGradNorm<S>
where
    I: State<Param = Vec<f64>>,
    I::Float: ArgminFloat,
    S: Solver<O, I>,
    O: Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
{
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn init(&mut self, problem: &mut Problem<O>, state: I) -> Result<(I, Option<KV>), Error> {
        let (state, kv) = self.inner.init(problem, state)?;
        self.measure(problem, &state)?;
        Ok((state, kv))
    }

    fn next_iter(&mut self, problem: &mut Problem<O>, state: I) -> Result<(I, Option<KV>), Error> {
        let (state, kv) = self.inner.next_iter(problem, state)?;
        self.measure(problem, &state)?;
        Ok((state, kv))
    }

    fn terminate(&mut self, state: &I) -> TerminationStatus {
        if self.norm < self.tol {
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        } else {
            self.inner.terminate(state)
        }
    }
}

fn finish<const N: usize>(
    solver: &'static str,
    iterations: u64,
    x: &[f64],
    status: &TerminationStatus,
    f_and_grad: impl Fn(&[f64; N]) -> (f64, Vec<f64>),
) -> Result<Outcome, Error> {
    let point: [f64; N] = x.try_into()?;
    let (f, g) = f_and_grad(&point);
    let grad_norm = norm(&g);
    let converged =
        *status == TerminationStatus::Terminated(TerminationReason::SolverConverged) && grad_norm < GRAD_TOL;
    Ok(Outcome { solver, iterations, f, grad_norm, x: x.to_vec(), converged })
}

fn flat<G: Params<Scalar = f64>>(g: &G) -> Vec<f64> {
    backprop::runtime::params::to_vec(g)
}

/// The last parameter of a finished run (argmin's best parameter needs a cost, which Newton never
/// computes).
fn last_param<I: State<Param = Vec<f64>>>(state: &I) -> Result<Vec<f64>, Error> {
    state.get_param().cloned().ok_or_else(|| Error::msg("the solver returned no parameter"))
}

/// argmin's Newton (full steps, `H⁻¹∇f` with the generated Hessian).
pub fn newton<const N: usize, G: Params<Scalar = f64> + Clone>(c: &Cost<N, G>) -> Result<Outcome, Error> {
    let problem = ArgminProblem::new(c.start, c.grad).with_hessian(c.hessian);
    let init = problem.initial_param();
    let solver = UntilGradNorm::new(Newton::<f64>::new(), GRAD_TOL);
    let result = Executor::new(problem, solver).configure(|s| s.param(init).max_iters(MAX_ITERS)).run()?;
    let state = result.state();
    let x = last_param(state)?;
    finish::<N>("Newton", state.get_iter(), &x, state.get_termination_status(), |p| {
        let (f, g) = (c.grad)(p);
        (f, flat(&g))
    })
}

/// argmin's trust region with the Steihaug (truncated CG) subproblem on the generated Hessian.
/// The radius may grow to 10⁸ (argmin's default cap, 100, would take Brown's minimizer at 10⁶ ten
/// thousand steps to reach).
pub fn trust_region<const N: usize, G: Params<Scalar = f64> + Clone>(c: &Cost<N, G>) -> Result<Outcome, Error> {
    let problem = ArgminProblem::new(c.start, c.grad).with_hessian(c.hessian);
    let init = problem.initial_param();
    let solver = UntilGradNorm::new(
        TrustRegion::new(Steihaug::<Vec<f64>, f64>::new().with_max_iters(100)).with_max_radius(1e8)?,
        GRAD_TOL,
    );
    let result = Executor::new(problem, solver).configure(|s| s.param(init).max_iters(MAX_ITERS)).run()?;
    let state = result.state();
    let x = last_param(state)?;
    finish::<N>("trust region (Steihaug)", state.get_iter(), &x, state.get_termination_status(), |p| {
        let (f, g) = (c.grad)(p);
        (f, flat(&g))
    })
}

/// argmin's L-BFGS (memory 7, Moré–Thuente line search) on the generated gradient.
pub fn lbfgs<const N: usize, G: Params<Scalar = f64> + Clone>(c: &Cost<N, G>) -> Result<Outcome, Error> {
    let problem = ArgminProblem::new(c.start, c.grad);
    let init = problem.initial_param();
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7).with_tolerance_grad(GRAD_TOL)?.with_tolerance_cost(0.0)?;
    let result = Executor::new(problem, solver).configure(|s| s.param(init).max_iters(MAX_ITERS)).run()?;
    let state = result.state();
    let x = last_param(state)?;
    finish::<N>("L-BFGS (m = 7)", state.get_iter(), &x, state.get_termination_status(), |p| {
        let (f, g) = (c.grad)(p);
        (f, flat(&g))
    })
}

fn least_squares<const N: usize, const M: usize>(r: &Residuals<N, M>, p: &[f64; N]) -> (f64, Vec<f64>) {
    // f = Σ r² (the MGH objective); |∇(½‖r‖²)| = |Jᵀr| is what every solver's test sees.
    let (res, j) = (r.jacobian)(p);
    let g: Vec<f64> = (0..N).map(|i| (0..M).map(|k| j[k][i] * res[k]).sum()).collect();
    (res.iter().map(|v| v * v).sum(), g)
}

/// argmin's Gauss-Newton (full steps, `(JᵀJ)⁻¹Jᵀr` with the generated Jacobian).
pub fn gauss_newton<const N: usize, const M: usize>(r: &Residuals<N, M>) -> Result<Outcome, Error> {
    let problem = ArgminResiduals::new(r.start, r.jacobian);
    let init = problem.initial_param();
    // Gauss-Newton's own test (change of ‖r‖ below `tol`) stays out of the way of the shared one.
    let solver = UntilGradNorm::new(GaussNewton::<f64>::new().with_tolerance(1e-15)?, GRAD_TOL);
    let result = Executor::new(problem, solver).configure(|s| s.param(init).max_iters(MAX_ITERS)).run()?;
    let state = result.state();
    let x = last_param(state)?;
    finish::<N>("Gauss-Newton", state.get_iter(), &x, state.get_termination_status(), |p| least_squares(r, p))
}

/// argmin's L-BFGS on the same least-squares problem (`½‖r‖²`, gradient `Jᵀr`).
pub fn lbfgs_residuals<const N: usize, const M: usize>(r: &Residuals<N, M>) -> Result<Outcome, Error> {
    let problem = ArgminResiduals::new(r.start, r.jacobian);
    let init = problem.initial_param();
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7).with_tolerance_grad(GRAD_TOL)?.with_tolerance_cost(0.0)?;
    let result = Executor::new(problem, solver).configure(|s| s.param(init).max_iters(MAX_ITERS)).run()?;
    let state = result.state();
    let x = last_param(state)?;
    finish::<N>("L-BFGS (m = 7)", state.get_iter(), &x, state.get_termination_status(), |p| least_squares(r, p))
}

/// One row of the examples' tables.
pub fn report(problem: &str, o: &Outcome, minimizers: &[&[f64]]) {
    println!(
        "{problem:<20} {:<24} {:>6} iterations   f {:.3e}   |grad| {:.1e}   error of x {:.1e}{}",
        o.solver,
        o.iterations,
        o.f,
        o.grad_norm,
        o.error(minimizers),
        if o.converged { "" } else { "   (not converged)" }
    );
}

// ---- Matrix-free: `_hvp` only -------------------------------------------------------------------

fn extended(solver: &'static str, iterations: u64, x: &[f64], status: &TerminationStatus) -> Result<Outcome, Error> {
    finish::<N_LARGE>(solver, iterations, x, status, |p| {
        let (f, g) = extended_rosenbrock_grad(p);
        (f, g.x)
    })
}

/// The extended Rosenbrock problem over argmin's own parameter type.
type ExtendedProblem = ArgminProblem<Vec<f64>, fn(&Vec<f64>) -> (f64, ExtendedRosenbrockGrad)>;

fn extended_problem() -> ExtendedProblem {
    ArgminProblem::new(extended_start(), |x: &Vec<f64>| extended_rosenbrock_grad(x))
}

#[allow(clippy::ptr_arg)] // the problem's parameter type is `Vec<f64>`, so `with_hvp` passes `&Vec<f64>`
fn hvp(x: &Vec<f64>, v: &ExtendedRosenbrockGrad) -> (f64, ExtendedRosenbrockGrad, ExtendedRosenbrockGrad) {
    extended_rosenbrock_hvp(x, v)
}

/// argmin's trust region with Steihaug's truncated CG, each CG step one generated `_hvp`.
pub fn trust_region_hvp() -> Result<Outcome, Error> {
    let problem = extended_problem().with_hvp(hvp);
    let init = problem.initial_param();
    let inner =
        TrustRegion::new(Steihaug::<Vec<f64>, f64>::new().with_max_iters(N_LARGE as u64)).with_max_radius(1e3)?;
    let result = Executor::new(problem, UntilGradNorm::new(inner, GRAD_TOL))
        .configure(|s| s.param(init).max_iters(MAX_ITERS))
        .run()?;
    let state = result.state();
    extended("trust region (Steihaug, hvp)", state.get_iter(), &last_param(state)?, state.get_termination_status())
}

/// argmin's Newton-CG (backtracking Armijo line search), each CG step one generated `_hvp`. (With
/// Moré–Thuente, argmin 0.11's Newton-CG stalls here at `|∇f| ≈ 1e-5`.)
pub fn newton_cg_hvp() -> Result<Outcome, Error> {
    let problem = extended_problem().with_hvp(hvp);
    let init = problem.initial_param();
    let linesearch = BacktrackingLineSearch::new(ArmijoCondition::new(1e-4)?);
    let inner = NewtonCG::<_, f64>::new(linesearch);
    let result = Executor::new(problem, UntilGradNorm::new(inner, GRAD_TOL))
        .configure(|s| s.param(init).max_iters(MAX_ITERS))
        .run()?;
    let state = result.state();
    extended("Newton-CG (hvp)", state.get_iter(), &last_param(state)?, state.get_termination_status())
}

/// argmin's L-BFGS on the same problem.
pub fn lbfgs_extended() -> Result<Outcome, Error> {
    let problem = extended_problem();
    let init = problem.initial_param();
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7).with_tolerance_grad(GRAD_TOL)?.with_tolerance_cost(0.0)?;
    let result = Executor::new(problem, solver).configure(|s| s.param(init).max_iters(MAX_ITERS)).run()?;
    let state = result.state();
    extended("L-BFGS (m = 7)", state.get_iter(), &last_param(state)?, state.get_termination_status())
}
