//! argmin's Newton and trust-region methods on `#[backprop(hessian)]` Hessians, against argmin's
//! L-BFGS on the same gradients: MGH Rosenbrock, Powell singular and Brown badly scaled from their
//! standard starts, every run stopping at `|∇f| < 1e-6`; then matrix-free Newton-CG and trust
//! region on the extended Rosenbrock function with n = 1,000, every Hessian product one `_hvp`.
//!
//! ```text
//! cargo run --release --example argmin_newton
//! ```
//!
//! `ArgminProblem::new(start, cost_grad).with_hessian(cost_hessian)` is the whole adapter; the
//! problems and runs live in `examples/argmin_second_order/problems.rs`, shared with
//! `tests/argmin_second_order.rs`.

#[path = "argmin_second_order/problems.rs"]
mod problems;

use backprop::Params;
use problems::{
    brown_problem, lbfgs, lbfgs_extended, newton, newton_cg_hvp, powell_singular_problem, report, rosenbrock_problem,
    trust_region, trust_region_hvp, Cost, N_LARGE,
};

fn run<const N: usize, G: Params<Scalar = f64> + Clone>(c: &Cost<N, G>) -> Result<(), argmin::core::Error> {
    for outcome in [newton(c)?, trust_region(c)?, lbfgs(c)?] {
        report(c.name, &outcome, c.minimizers);
    }
    Ok(())
}

fn main() -> Result<(), argmin::core::Error> {
    println!("stop at |grad| < {:e}; f is the cost at the returned point", problems::GRAD_TOL);
    run(&rosenbrock_problem())?;
    run(&powell_singular_problem())?;
    run(&brown_problem())?;
    // Matrix-free: `ArgminProblem::with_hvp(cost_hvp)`, the Hessian only ever multiplied.
    let ones = vec![1.0; N_LARGE];
    for outcome in [trust_region_hvp()?, newton_cg_hvp()?, lbfgs_extended()?] {
        report("ext. Rosenbrock 1000", &outcome, &[&ones]);
    }
    Ok(())
}
