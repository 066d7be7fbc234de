//! argmin's L-BFGS runs on a `#[backprop]` gradient through `backprop::argmin::ArgminProblem`
//! and converges on the extended Rosenbrock function (n = 100), in a fraction of the iterations
//! the runtime's Adam needs for the same tolerance (`examples/argmin_rosenbrock.rs` prints both).

#[path = "../examples/argmin_rosenbrock/problem.rs"]
mod problem;

use argmin::core::{CostFunction, Gradient};
use backprop::argmin::ArgminProblem;
use problem::{adam, lbfgs, rosenbrock, rosenbrock_grad, start, GRAD_TOL, N};

#[test]
fn the_adapter_hands_argmin_the_generated_cost_and_gradient() {
    let problem = ArgminProblem::new(start(), |x: &[f64; N]| rosenbrock_grad(x));
    let x = problem.initial_param();
    let (cost, grad) = rosenbrock_grad(&start());
    assert_eq!(problem.cost(&x).unwrap(), cost);
    assert_eq!(problem.cost(&x).unwrap(), rosenbrock(&start()));
    assert_eq!(problem.gradient(&x).unwrap(), grad.x.to_vec());
    // 50 terms at pairs (-1.2, 1): 100 (1 - 1.44)^2 + 2.2^2 = 24.2; 49 at pairs (1, -1.2):
    // 100 (-1.2 - 1)^2 + 0 = 484.
    let expected = 50.0 * 24.2 + 49.0 * 484.0;
    assert!((cost - expected).abs() < 1e-9 * expected, "{cost} vs {expected}");
    assert_eq!(problem.params(&x).unwrap(), start());
}

#[test]
fn lbfgs_converges_to_all_ones_in_a_fraction_of_adams_iterations() {
    let l = lbfgs(7, 1_000).unwrap();
    assert!(l.converged, "{l:?}");
    assert!(l.grad_norm < GRAD_TOL && l.cost < 1e-12 && l.max_error < 1e-6, "{l:?}");
    assert!(l.iterations < 1_000 && l.evaluations <= 2 * l.iterations, "{l:?}");

    let a = adam(0.05, 100_000).unwrap();
    assert!(a.converged, "{a:?}");
    assert!(a.max_error < 1e-5, "{a:?}");
    // About a tenth (538 vs 5,294 when written); a fifth leaves room for argmin releases.
    assert!(5 * l.iterations < a.iterations, "L-BFGS {} vs Adam {} iterations", l.iterations, a.iterations);
}
