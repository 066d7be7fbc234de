//! argmin's Newton, trust region and Gauss-Newton run on generated Hessians and Jacobians through
//! `ArgminProblem::with_hessian` and `ArgminResiduals`, and converge to the known minima of the
//! MGH problems (`examples/argmin_newton.rs` and `examples/argmin_gauss_newton.rs` print the
//! iteration tables).

#[path = "../examples/argmin_second_order/problems.rs"]
mod problems;

use argmin::core::{CostFunction, Gradient, Hessian, Jacobian, Operator};
use backprop::argmin::{ArgminProblem, ArgminResiduals, Matrix};
use problems::*;

#[test]
fn the_adapters_hand_argmin_the_generated_hessian_and_jacobian() {
    let x = [-1.2, 1.0];
    let problem = ArgminProblem::new(x, rosenbrock_grad).with_hessian(rosenbrock_hessian);
    let flat = problem.initial_param();
    let (cost, grad, h) = rosenbrock_hessian(&x);
    assert_eq!(problem.hessian(&flat).unwrap(), Matrix::from(h.clone()));
    assert_eq!(problem.cost(&flat).unwrap(), cost);
    assert_eq!(problem.gradient(&flat).unwrap(), grad.x.to_vec());
    // The exact Hessian at (-1.2, 1): [[1200 x² − 400 y + 2, −400 x], [−400 x, 200]].
    assert_eq!(h, vec![vec![1330.0, 480.0], vec![480.0, 200.0]]);
    // The README's "Second order" example.
    let (_, _, hv) = rosenbrock_hvp(&x, &RosenbrockGrad { x: [1.0, 0.0] });
    assert_eq!(hv.x, [1330.0, 480.0]);
    assert_eq!(rosenbrock_residuals_jacobian(&x).1, vec![vec![24.0, 10.0], vec![-1.0, 0.0]]);

    let residuals = ArgminResiduals::new([0.5, -2.0], freudenstein_roth_jacobian);
    let flat = residuals.initial_param();
    let (r, j) = freudenstein_roth_jacobian(&[0.5, -2.0]);
    assert_eq!(residuals.apply(&flat).unwrap(), r.to_vec());
    assert_eq!(residuals.jacobian(&flat).unwrap(), Matrix::from(j.clone()));
    assert_eq!(residuals.cost(&flat).unwrap(), 0.5 * (r[0] * r[0] + r[1] * r[1]));
    let g = residuals.gradient(&flat).unwrap();
    for i in 0..2 {
        assert_eq!(g[i], j[0][i] * r[0] + j[1][i] * r[1]);
    }
}

#[test]
fn a_hessian_of_the_wrong_size_is_an_error() {
    let problem = ArgminProblem::new([1.0, 2.0], rosenbrock_grad).with_hessian(|x: &[f64; 2]| {
        let (c, g, _) = rosenbrock_hessian(x);
        (c, g, vec![vec![1.0]])
    });
    let err = problem.hessian(&vec![1.0, 2.0]).unwrap_err();
    assert!(err.to_string().contains("Hessian returned to argmin"), "{err}");
}

fn assert_solved(o: &Outcome, minimizer: &[f64], f_star: f64, what: &str) {
    let minimizer: &[&[f64]] = &[minimizer];
    assert!(o.converged, "{what}: {o:?}");
    assert!(o.grad_norm < GRAD_TOL, "{what}: {o:?}");
    assert!(o.error(minimizer) < 1e-4, "{what}: {o:?} (error {})", o.error(minimizer));
    assert!((o.f - f_star).abs() <= 1e-9 * (1.0 + f_star), "{what}: f = {} vs {f_star}", o.f);
}

#[test]
fn newton_and_trust_region_converge_on_rosenbrock_powell_and_brown() {
    let r = rosenbrock_problem();
    let p = powell_singular_problem();
    let b = brown_problem();
    for (o, min, name) in [
        (newton(&r).unwrap(), r.minimizers[0].to_vec(), "Newton, Rosenbrock"),
        (trust_region(&r).unwrap(), r.minimizers[0].to_vec(), "trust region, Rosenbrock"),
        (newton(&p).unwrap(), p.minimizers[0].to_vec(), "Newton, Powell singular"),
        (trust_region(&p).unwrap(), p.minimizers[0].to_vec(), "trust region, Powell singular"),
        (newton(&b).unwrap(), b.minimizers[0].to_vec(), "Newton, Brown badly scaled"),
        (trust_region(&b).unwrap(), b.minimizers[0].to_vec(), "trust region, Brown badly scaled"),
    ] {
        // Powell's minimizer is the origin, where only the gradient test (|∇f| ~ |x|³) applies:
        // x itself may be ~1e-2 away when |∇f| < 1e-6.
        if name.contains("Powell") {
            assert!(o.converged && o.f < 1e-8, "{name}: {o:?}");
        } else {
            assert_solved(&o, &min, 0.0, name);
        }
    }
    // Newton's quadratic convergence on Rosenbrock from the standard start: a handful of steps,
    // far fewer than L-BFGS takes.
    let (n, l) = (newton(&r).unwrap(), lbfgs(&r).unwrap());
    assert!(l.converged, "{l:?}");
    assert!(n.iterations < 10 && n.iterations < l.iterations, "Newton {} vs L-BFGS {}", n.iterations, l.iterations);
}

#[test]
fn gauss_newton_converges_on_freudenstein_roth_and_rosenbrock_residuals() {
    let fr = freudenstein_roth_problem();
    // Full Gauss-Newton steps from the standard start reach the global minimum 0 at (5, 4);
    // L-BFGS descends into the local one, Σ r² = 48.98425367924...
    let o = gauss_newton(&fr).unwrap();
    assert_solved(&o, fr.minimizers[0], 0.0, "Gauss-Newton, Freudenstein-Roth");
    let l = lbfgs_residuals(&fr).unwrap();
    assert_solved(&l, fr.minimizers[1], 48.984_253_679_240_45, "L-BFGS, Freudenstein-Roth");
    let rr = rosenbrock_residuals_problem();
    let o = gauss_newton(&rr).unwrap();
    assert_solved(&o, rr.minimizers[0], 0.0, "Gauss-Newton, Rosenbrock residuals");
    // A zero-residual problem with r₂ linear: Gauss-Newton lands on (1, 1) in two steps.
    assert!(o.iterations <= 3, "{o:?}");
    let l = lbfgs_residuals(&rr).unwrap();
    assert!(l.converged && o.iterations < l.iterations, "Gauss-Newton {} vs L-BFGS {}", o.iterations, l.iterations);
}

#[test]
fn matrix_free_newton_cg_and_trust_region_converge_in_1000_dimensions() {
    // The operator's product is the generated hvp at the operator's point.
    let x = extended_start();
    let problem = ArgminProblem::new(x.clone(), |p: &Vec<f64>| extended_rosenbrock_grad(p))
        .with_hvp(|p: &Vec<f64>, v: &ExtendedRosenbrockGrad| extended_rosenbrock_hvp(p, v));
    let h = problem.hessian(&x).unwrap();
    let e0: Vec<f64> = (0..N_LARGE).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect();
    let (_, _, dense) = extended_rosenbrock_hessian(&x[..4]);
    let column = h.apply(&e0);
    assert_eq!(&column[..4], &[dense[0][0], dense[1][0], dense[2][0], dense[3][0]]);
    assert!(column[4..].iter().all(|v| *v == 0.0));

    let ones = vec![1.0; N_LARGE];
    for o in [trust_region_hvp().unwrap(), newton_cg_hvp().unwrap()] {
        assert!(o.converged && o.error(&[&ones]) < 1e-5, "{o:?}");
        assert!(o.iterations < 100, "{o:?}");
    }
}
