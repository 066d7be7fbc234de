//! argmin's L-BFGS on a `#[backprop]` gradient, next to the runtime's Adam: the extended
//! Rosenbrock function in 100 dimensions from the classic start (-1.2, 1, ...), both stopping
//! at gradient norm 1e-6.
//!
//! ```text
//! cargo run --release --example argmin_rosenbrock
//! ```
//!
//! The problem and both runs live in `examples/argmin_rosenbrock/problem.rs`, shared with
//! `tests/argmin_rosenbrock.rs`.

#[path = "argmin_rosenbrock/problem.rs"]
mod problem;

use std::error::Error;

use problem::{adam, lbfgs, Outcome, N};

fn report(name: &str, o: &Outcome) {
    println!(
        "{name:<28} {:>7} iterations {:>7} gradient calls   cost {:.2e}   |grad| {:.2e}   max |x_i - 1| {:.2e}{}",
        o.iterations,
        o.evaluations,
        o.cost,
        o.grad_norm,
        o.max_error,
        if o.converged { "" } else { "   (not converged)" }
    );
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("extended Rosenbrock, n = {N}, start (-1.2, 1, ...), stop at |grad| < {:e}", problem::GRAD_TOL);
    report("argmin L-BFGS (m = 7)", &lbfgs(7, 1_000)?);
    // The rate is the best of a sweep over 1e-3 ..= 5e-2 (1e-2: ~9,800 steps; 1e-3: not
    // converged in 10^6); L-BFGS needs no rate at all.
    report("backprop Adam (lr 0.05)", &adam(0.05, 100_000)?);
    Ok(())
}
