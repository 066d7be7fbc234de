//! The extended Rosenbrock problem (n = 100) shared by `examples/argmin_rosenbrock.rs` and
//! `tests/argmin_rosenbrock.rs`: the cost with its `#[backprop]` gradient, solved by argmin's
//! L-BFGS through the runtime's adapter and by the runtime's own Adam, both stopping when the
//! gradient norm falls below the same tolerance.

use argmin::core::{Executor, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use backprop::argmin::ArgminProblem;
use backprop::backprop;
use backprop::{Adam, Stop, Trainer};

/// Problem size.
pub const N: usize = 100;
/// Both solvers stop once the gradient's Euclidean norm is below this.
pub const GRAD_TOL: f64 = 1e-6;

/// Extended (chained) Rosenbrock: `Σ_{i<n-1} 100 (x[i+1] − x[i]²)² + (1 − x[i])²`, minimum 0
/// at all ones.
#[backprop]
pub fn rosenbrock(x: &[f64; N]) -> f64 {
    let mut f = 0.0;
    for i in 0..N - 1 {
        f += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
    }
    f
}

/// The classic start: (-1.2, 1, -1.2, 1, ...).
pub fn start() -> [f64; N] {
    std::array::from_fn(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
}

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    /// Solver iterations (optimizer steps for Adam).
    pub iterations: u64,
    /// Calls of the gradient function.
    pub evaluations: u64,
    /// Cost at the returned point.
    pub cost: f64,
    /// Gradient norm at the returned point.
    pub grad_norm: f64,
    /// Largest `|x[i] - 1|`.
    pub max_error: f64,
    /// Whether the gradient tolerance was met (rather than an iteration limit).
    pub converged: bool,
}

fn outcome(x: &[f64; N], iterations: u64, evaluations: u64) -> Outcome {
    let (cost, g) = rosenbrock_grad(x);
    let grad_norm = g.x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let max_error = x.iter().map(|v| (v - 1.0).abs()).fold(0.0, f64::max);
    Outcome { iterations, evaluations, cost, grad_norm, max_error, converged: grad_norm < GRAD_TOL }
}

/// argmin's L-BFGS (memory `m`, Moré–Thuente line search) on the generated gradient.
pub fn lbfgs(m: usize, max_iters: u64) -> Result<Outcome, argmin::core::Error> {
    let evaluations = std::cell::Cell::new(0u64);
    let problem = ArgminProblem::new(start(), |x: &[f64; N]| {
        evaluations.set(evaluations.get() + 1);
        rosenbrock_grad(x)
    });
    let init = problem.initial_param();
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), m).with_tolerance_grad(GRAD_TOL)?.with_tolerance_cost(0.0)?;
    let result = Executor::new(problem, solver).configure(|s| s.param(init).max_iters(max_iters)).run()?;
    let state = result.state();
    let best = state.get_best_param().ok_or_else(|| argmin::core::Error::msg("L-BFGS returned no parameter"))?;
    let x: [f64; N] = best.as_slice().try_into()?;
    let mut out = outcome(&x, state.get_iter(), evaluations.get());
    out.converged &=
        *state.get_termination_status() == TerminationStatus::Terminated(TerminationReason::SolverConverged);
    Ok(out)
}

/// The runtime's Adam (constant rate `lr`) on the same gradient.
pub fn adam(lr: f64, max_steps: usize) -> Result<Outcome, backprop::Error> {
    let mut x = start();
    let history = Trainer::new(Adam::new(lr)?)
        .max_steps(max_steps)
        .stop_when(Stop::GradNormBelow(GRAD_TOL))?
        .minimize(&mut x, |p: &[f64; N]| {
            let (cost, g) = rosenbrock_grad(p);
            (cost, g.x)
        })?;
    let steps = history.steps.len() as u64;
    // The trainer evaluates once per step, and stops before updating at the step that met the
    // tolerance, so the returned point is the one whose gradient was small.
    Ok(outcome(&x, steps.saturating_sub(1), steps))
}
