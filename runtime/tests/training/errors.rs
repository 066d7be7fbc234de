//! Misuse and numerical failure are errors naming the problem, never panics.

use backprop_runtime::train::Parallelism;
use backprop_runtime::{Adam, Error, GradientDescent, Quantity, Stop, Trainer};

use crate::common::{data, squared_error, Linear, Sample};

#[test]
fn construction_errors_name_the_setting() {
    let err = Trainer::<Linear, _>::new(Adam::new(0.1).unwrap()).batch_size(0).err().unwrap();
    assert_eq!(err.to_string(), "invalid batch size 0: must be at least 1");
    let err = Adam::<f64>::new(0.0).unwrap_err();
    assert_eq!(err.to_string(), "`Adam`: `learning_rate` must be positive and finite, got 0");
    assert!(GradientDescent::new(-0.1).is_err());
    let t = Trainer::<Linear, _>::new(GradientDescent::new(0.1).unwrap());
    assert!(t.stop_when(Stop::CostBelow(-1.0)).is_err());
    let t = Trainer::<Linear, _>::new(GradientDescent::new(0.1).unwrap());
    assert!(t.clip_grad_norm(0.0).is_err());
}

#[test]
fn empty_data_and_unbounded_runs_are_rejected_before_any_step() {
    let mut p = Linear::default();
    let empty: Vec<Sample> = Vec::new();
    let err =
        Trainer::new(GradientDescent::new(0.1).unwrap()).epochs(3).fit(&mut p, &empty, squared_error).unwrap_err();
    assert!(matches!(err, Error::EmptyDataSet), "{err}");
    let err = Trainer::new(GradientDescent::new(0.1).unwrap()).fit(&mut p, &data(3), squared_error).unwrap_err();
    assert!(matches!(err, Error::Unbounded), "{err}");
    assert_eq!(p, Linear::default());
}

#[test]
fn nan_gradient_names_step_and_parameter() {
    let mut p = Linear::default();
    let samples = data(8);
    // Sample 5 produces a NaN in the gradient of `w[1]` once parameters have moved.
    let grad = |p: &Linear, s: &Sample| {
        let (c, mut g) = squared_error(p, s);
        if p.b != 0.0 && s.0 == samples[5].0 {
            g.w[1] = f64::NAN;
        }
        (c, g)
    };
    let err = Trainer::new(GradientDescent::new(0.1).unwrap())
        .epochs(5)
        .parallelism(Parallelism::Parallel)
        .fit(&mut p, &samples, grad)
        .unwrap_err();
    match &err {
        Error::NonFinite { quantity, step, parameter, .. } => {
            assert_eq!(*quantity, Quantity::Gradient);
            assert_eq!(*step, 1);
            assert_eq!(parameter.as_deref(), Some("w[1]"));
        }
        other => panic!("unexpected error {other}"),
    }
    assert_eq!(err.to_string(), "non-finite gradient at step 1: `w[1]` = NaN");
    // The parameters are the last finite iterate (after step 0).
    assert!(p.b != 0.0 && p.b.is_finite());
}

#[test]
fn infinite_cost_and_diverging_parameters_are_reported() {
    let mut x = [1.0];
    let err = Trainer::new(GradientDescent::new(0.1).unwrap())
        .max_steps(10)
        .minimize(&mut x, |p: &[f64; 1]| (if p[0] < 0.85 { f64::INFINITY } else { p[0] }, [1.0]))
        .unwrap_err();
    // x = 1, 0.9, 0.8: the cost is infinite at step 2.
    assert_eq!(err.to_string(), "non-finite cost at step 2: inf");

    // A huge rate overflows the parameter itself.
    let mut y = [1.0];
    let err = Trainer::new(GradientDescent::new(1e308).unwrap())
        .max_steps(10)
        .minimize(&mut y, |p: &[f64; 1]| (p[0], [1e308]))
        .unwrap_err();
    assert_eq!(err.to_string(), "non-finite parameter at step 0: `param[0]` = -inf");
    assert_eq!(y, [1.0]);
}

#[test]
fn wrong_gradient_shapes_are_reported() {
    let mut x = vec![1.0, 2.0];
    let err = Trainer::new(GradientDescent::new(0.1).unwrap())
        .max_steps(1)
        .minimize(&mut x, |_: &Vec<f64>| (1.0, vec![1.0]))
        .unwrap_err();
    assert_eq!(err.to_string(), "shape mismatch in gradient: expected 2 scalars, found 1");
}

#[test]
fn non_finite_validation_metric_is_reported() {
    let mut p = Linear::default();
    let err = Trainer::new(GradientDescent::new(0.1).unwrap())
        .epochs(3)
        .validation(|_: &Linear| f64::NAN)
        .fit(&mut p, &data(4), squared_error)
        .unwrap_err();
    // Validation runs after epoch 0's single update, so the step count is 1.
    assert_eq!(err.to_string(), "non-finite validation metric at step 1: NaN");
}
