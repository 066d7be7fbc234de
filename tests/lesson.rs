//! The canonical worked example: exact values.
use backprop::prelude::*;

#[backprop]
fn cost(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
    let a1 = w1 * a0;
    let a2 = w2 * a1;
    let a3 = w3 * a2;
    (a3 - y).powi(2)
}

#[test]
fn lesson_numbers_are_exact() {
    let (c, g) = cost_grad(2.0, 3.0, 0.5, 1.0, 2.0);
    assert_eq!((c, g.w1, g.w2, g.w3), (1.0, 3.0, 2.0, 12.0));
    assert_eq!(c, cost(2.0, 3.0, 0.5, 1.0, 2.0));
}
