//! The accumulating form `<name>_grad_acc(args.., &mut grad) -> value`: it adds the gradient into a
//! gradient the caller owns, so a sum over samples allocates nothing per sample. It must agree bit
//! for bit with `<name>_grad` for every argument shape, add rather than overwrite, and handle the
//! cases where it cannot write straight into the caller's buffer.

#![allow(clippy::needless_range_loop, clippy::ptr_arg, clippy::assign_op_pattern)]

use backprop::prelude::*;

#[backprop]
fn rosen(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        s += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
    }
    s
}

#[backprop(wrt(w))]
fn weighted(w: &[[f64; 3]; 2], x: &Vec<f64>, scale: f64) -> f64 {
    let mut s = 0.0;
    for j in 0..2 {
        for i in 0..3 {
            s += (w[j][i] * x[i] * scale).tanh();
        }
    }
    s
}

#[backprop]
fn lesson(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
    let a1 = w1 * a0;
    let a2 = w2 * a1;
    let a3 = w3 * a2;
    (a3 - y).powi(2)
}

/// An argument the function also writes: its adjoint is computed locally and added at the end.
#[backprop]
fn writes_its_argument(mut x: [f64; 3], w: f64) -> f64 {
    x[0] = x[0] * w;
    x[1] += x[0];
    x[0] * x[1] + x[2]
}

/// The caller's names never collide with the generated function's own.
#[backprop]
fn named_like_the_generated_code(grad: &[f64; 2], value: f64, grad_sweep: f64) -> f64 {
    grad[0] * value + grad[1] * grad_sweep
}

#[test]
fn the_accumulating_form_adds_what_grad_returns() {
    let x: Vec<f64> = (0..50).map(|i| (i as f64 * 0.3).sin()).collect();
    let (c, g) = rosen_grad(&x);
    let mut acc = RosenGrad::zeros_like(&x);
    assert_eq!(acc.x, vec![0.0; 50]);
    assert_eq!(rosen_grad_acc(&x, &mut acc), c);
    assert_eq!(acc, g);
    rosen_grad_acc(&x, &mut acc);
    // Each entry is a sum of a few terms, added onto what is there: equal to twice the gradient up to
    // the rounding of that reassociation.
    for (i, (a, g)) in acc.x.iter().zip(&g.x).enumerate() {
        assert!((a - 2.0 * g).abs() <= 1e-12 * (1.0 + g.abs()), "x[{i}]: {a} vs 2 × {g}");
    }
}

#[test]
fn nested_arrays_and_vecs_accumulate() {
    let w = [[0.3, -0.2, 0.8], [0.5, 0.9, -0.4]];
    let x = vec![1.0, 0.5, -0.7];
    let (c, g) = weighted_grad(&w, &x, 1.5);
    let mut acc = WeightedGrad::zeros_like();
    assert_eq!(weighted_grad_acc(&w, &x, 1.5, &mut acc), c);
    weighted_grad_acc(&w, &x, 1.5, &mut acc);
    for j in 0..2 {
        for i in 0..3 {
            let (a, g) = (acc.w[j][i], g.w[j][i]);
            assert!((a - 2.0 * g).abs() <= 1e-12 * (1.0 + g.abs()), "w[{j}][{i}]: {a} vs 2 × {g}");
        }
    }
}

#[test]
fn scalar_functions_accumulate_too() {
    let mut acc = LessonGrad::zeros_like();
    assert_eq!(lesson_grad_acc(2.0, 3.0, 0.5, 1.0, 2.0, &mut acc), 1.0);
    lesson_grad_acc(2.0, 3.0, 0.5, 1.0, 2.0, &mut acc);
    assert_eq!((acc.w1, acc.w2, acc.w3), (6.0, 4.0, 24.0));
}

#[test]
fn an_argument_the_function_writes_is_added_not_overwritten() {
    let (c, g) = writes_its_argument_grad([1.0, 2.0, 3.0], 4.0);
    // x0' = 4, x1' = 6: C = x0' x1' + x2 = 24 + 3.
    assert_eq!(c, 27.0);
    // dC/dx0 = w x1' + x0' w = 4*6 + 4*4 = 40, dC/dx1 = x0' = 4, dC/dx2 = 1, dC/dw = x0 x1' + x0' x0 = 6 + 4.
    assert_eq!((g.x, g.w), ([40.0, 4.0, 1.0], 10.0));
    let mut acc = g;
    writes_its_argument_grad_acc([1.0, 2.0, 3.0], 4.0, &mut acc);
    assert_eq!((acc.x, acc.w), ([80.0, 8.0, 2.0], 20.0));
}

#[test]
fn generated_names_do_not_capture_the_callers() {
    let (c, g) = named_like_the_generated_code_grad(&[2.0, 3.0], 5.0, 7.0);
    assert_eq!(c, 31.0);
    assert_eq!((g.grad, g.value, g.grad_sweep), ([5.0, 7.0], 2.0, 3.0));
    let mut acc = g;
    named_like_the_generated_code_grad_acc(&[2.0, 3.0], 5.0, 7.0, &mut acc);
    assert_eq!((acc.grad, acc.value, acc.grad_sweep), ([10.0, 14.0], 4.0, 6.0));
}

#[test]
#[should_panic(expected = "the gradient's `x` has 3 entries but the argument `x` has 50")]
fn a_gradient_of_the_wrong_length_is_named() {
    let x: Vec<f64> = (0..50).map(|i| i as f64).collect();
    let mut wrong = RosenGrad::zeros_like(&x[..3]);
    rosen_grad_acc(&x, &mut wrong);
}
