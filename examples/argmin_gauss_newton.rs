//! argmin's Gauss-Newton on the Jacobians `#[backprop]` generates for residual functions
//! (`fn r(x) -> [f64; M]` gets `r_jacobian`), against argmin's L-BFGS on the same least-squares
//! problem `½‖r‖²`: MGH Freudenstein-Roth and Rosenbrock from their standard starts, every run
//! stopping at `|Jᵀr| < 1e-6`.
//!
//! ```text
//! cargo run --release --example argmin_gauss_newton
//! ```
//!
//! `ArgminResiduals::new(start, r_jacobian)` is the whole adapter; the problems and runs live in
//! `examples/argmin_second_order/problems.rs`, shared with `tests/argmin_second_order.rs`.

#[path = "argmin_second_order/problems.rs"]
mod problems;

use problems::{freudenstein_roth_problem, gauss_newton, lbfgs_residuals, report, rosenbrock_residuals_problem};

fn main() -> Result<(), argmin::core::Error> {
    println!("stop at |J^T r| < {:e}; f = sum of squared residuals at the returned point", problems::GRAD_TOL);
    for r in [freudenstein_roth_problem(), rosenbrock_residuals_problem()] {
        for outcome in [gauss_newton(&r)?, lbfgs_residuals(&r)?] {
            report(r.name, &outcome, r.minimizers);
        }
    }
    Ok(())
}
