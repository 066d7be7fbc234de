//! The runtime trains parameters held in the gradient structs `#[backprop]` generates.

use backprop::prelude::*;
use backprop::{Error, GradientDescent, Momentum, Stop, Trainer};

#[backprop]
fn rosenbrock_2d(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

#[test]
fn momentum_on_the_generated_gradient_reaches_the_minimum() {
    let mut p = Rosenbrock2dGrad { x: -1.2, y: 1.0 };
    let history = Trainer::new(Momentum::new(1e-3, 0.9).unwrap())
        .max_steps(200_000)
        .stop_when(Stop::GradNormBelow(1e-9))
        .unwrap()
        .minimize(&mut p, |p: &Rosenbrock2dGrad| rosenbrock_2d_grad(p.x, p.y))
        .unwrap();
    assert!((p.x - 1.0).abs() < 1e-6 && (p.y - 1.0).abs() < 1e-6, "ended at ({}, {})", p.x, p.y);
    assert!(history.final_cost().unwrap() < 1e-12);
}

#[backprop(wrt(w, b))]
fn line_fit(w: &[f64; 2], b: f64, xs: &[[f64; 2]; 4], ys: &[f64; 4]) -> f64 {
    let mut loss = 0.0;
    for s in 0..4 {
        let prediction = w[0] * xs[s][0] + w[1] * xs[s][1] + b;
        loss += (prediction - ys[s]).powi(2);
    }
    loss / 4.0
}

#[test]
fn momentum_fits_array_parameters_in_a_generated_struct() {
    let xs = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]];
    // y = 2 x0 - x1 + 0.5
    let ys = [2.5, -0.5, 1.5, 5.5];
    let mut p = LineFitGrad { w: [0.0, 0.0], b: 0.0 };
    Trainer::new(Momentum::new(0.05, 0.9).unwrap())
        .max_steps(3_000)
        .minimize(&mut p, |p: &LineFitGrad| line_fit_grad(&p.w, p.b, &xs, &ys))
        .unwrap();
    assert!((p.w[0] - 2.0).abs() < 1e-8 && (p.w[1] + 1.0).abs() < 1e-8 && (p.b - 0.5).abs() < 1e-8, "{p:?}");
    assert_eq!(p.num_params(), 3);
    assert_eq!(p.describe(1, ""), "w[1]");
    assert_eq!(p.describe(2, ""), "b");
}

/// Defined for `x >= 0` only: a step past 0 makes the cost NaN.
#[backprop]
fn root(x: f64) -> f64 {
    x.sqrt()
}

#[test]
fn a_nan_cost_is_an_error_naming_the_parameter() {
    let mut p = RootGrad { x: 0.25 };
    let err = Trainer::new(GradientDescent::new(1.0).unwrap())
        .max_steps(100)
        .minimize(&mut p, |p: &RootGrad| root_grad(p.x))
        .unwrap_err();
    assert!(matches!(err, Error::NonFinite { .. }), "{err}");
    assert!(err.to_string().contains("step 1"), "{err}");
}

/// `sqrt(|x|)` at 0: a finite cost with a non-finite derivative.
#[backprop]
fn cusp(x: f64, y: f64) -> f64 {
    x.abs().sqrt() + y * y
}

#[test]
fn a_nan_gradient_is_an_error_naming_step_and_parameter() {
    let mut p = CuspGrad { x: 0.0, y: 1.0 };
    let err = Trainer::new(GradientDescent::new(0.1).unwrap())
        .max_steps(10)
        .minimize(&mut p, |p: &CuspGrad| cusp_grad(p.x, p.y))
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("step 0") && message.contains("`x`"), "{message}");
}

/// One sample's cost, for training over a data set with the accumulating form.
#[backprop(wrt(w, b))]
fn sample_loss(w: &[f64; 2], b: f64, x: &[f64; 2], y: f64) -> f64 {
    let prediction = w[0] * x[0] + w[1] * x[1] + b;
    (prediction - y).powi(2)
}

#[test]
fn fit_accumulating_trains_with_the_generated_accumulating_form() {
    // y = 2 x0 - x1 + 0.5 on 100 points, in batches of 40 (chunks of 32 inside each batch).
    let data: Vec<([f64; 2], f64)> = (0..100)
        .map(|i| {
            let x = [(i % 10) as f64 * 0.3 - 1.0, (i / 10) as f64 * 0.2 - 0.8];
            (x, 2.0 * x[0] - x[1] + 0.5)
        })
        .collect();
    let train = |accumulating: bool| {
        let mut p = SampleLossGrad { w: [0.0, 0.0], b: 0.0 };
        let mut trainer = Trainer::new(Momentum::new(0.05, 0.9).unwrap()).batch_size(40).unwrap().epochs(150).seed(7);
        if accumulating {
            trainer
                .fit_accumulating(
                    &mut p,
                    &data,
                    |p: &SampleLossGrad, (x, y): &([f64; 2], f64), g: &mut SampleLossGrad| {
                        sample_loss_grad_acc(&p.w, p.b, x, *y, g)
                    },
                )
                .unwrap();
        } else {
            trainer
                .fit(&mut p, &data, |p: &SampleLossGrad, (x, y): &([f64; 2], f64)| sample_loss_grad(&p.w, p.b, x, *y))
                .unwrap();
        }
        p
    };
    let (acc, plain) = (train(true), train(false));
    assert!((acc.w[0] - 2.0).abs() < 1e-6 && (acc.w[1] + 1.0).abs() < 1e-6 && (acc.b - 0.5).abs() < 1e-6, "{acc:?}");
    // The same steps: the two sums differ only in the order of their additions.
    for (a, b) in [(acc.w[0], plain.w[0]), (acc.w[1], plain.w[1]), (acc.b, plain.b)] {
        assert!((a - b).abs() < 1e-9, "{acc:?} vs {plain:?}");
    }
}
