//! `particle`: Pearlmutter and Siskind's charged particle. A particle starting at (0, 8) with
//! velocity (0.75, 0) moves in the field `−∇ₓp(x; w)` of two unit charges at (10, 10 − w) and
//! (10, 0), by naive Euler steps of 0.1 until it would cross the x axis, then linearly to the axis;
//! `euler(w)` is the squared x there, and the answer is `argmin_w euler(w)` by the reference's
//! gradient descent (`argmin`, GradBench's haskell/futhark solver: steps `eta` from 1e-5, doubled
//! after 10 accepted steps, halved on a rejected one, stop at `|g| ≤ 1e-5` or a step ≤ 1e-5).
//!
//! Nested AD in the four mode pairs the eval names (outer letter: the descent's derivative of
//! `euler`; inner letter: the force `∇ₓp` inside the Euler steps), every derivative generated:
//!
//! | variant | force in the steps | derivative the descent uses |
//! |---|---|---|
//! | `rr` | `potential_grad_x` (reverse) | `euler_grad` (reverse; the force's pullback is `potential_hvp`, forward over reverse) |
//! | `fr` | `potential_grad_x` (reverse) | `euler_jvp` (one tangent sweep; the force's tangent is `potential`'s reverse gradient over `Dual64`) |
//! | `rf` | `potential_grad_fwd_x` (forward, two tangent sweeps) | `euler_grad` (reverse; the force's pullback is `potential_hvp_fwd`, forward over forward) |
//! | `ff` | `potential_grad_fwd_x` (forward) | `euler_jvp` (one tangent sweep; the force's tangent runs `potential` over `DualDual64`) |
//!
//! One `euler` serves all four: its flag `forward_force` picks the branch with the force's mode.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

/// The potential `p(x; w) = 1/‖x − (10, 10 − w)‖ + 1/‖x − (10, 0)‖`.
#[backprop(hessian, forward)]
pub fn potential(x: &[f64; 2], w: f64) -> f64 {
    let a0 = x[0] - 10.0;
    let a1 = x[1] - (10.0 - w);
    let b0 = x[0] - 10.0;
    let b1 = x[1];
    1.0 / (a0 * a0 + a1 * a1).sqrt() + 1.0 / (b0 * b0 + b1 * b1).sqrt()
}

/// The Euler steps; the force is `potential`'s gradient in `x` by forward mode if `forward_force`,
/// else by reverse mode (each branch a generated gradient, differentiable both ways).
#[backprop(forward)]
pub fn euler(w: f64, forward_force: bool) -> f64 {
    let mut x = [0.0; 2];
    x[1] = 8.0;
    let mut v = [0.0; 2];
    v[0] = 0.75;
    let dt = 0.1;
    loop {
        let gx: [f64; 2] = if forward_force { potential_grad_fwd_x(&x, w) } else { potential_grad_x(&x, w) };
        let n0 = x[0] + dt * v[0];
        let n1 = x[1] + dt * v[1];
        if n1 > 0.0 {
            x[0] = n0;
            x[1] = n1;
            v[0] -= dt * gx[0];
            v[1] -= dt * gx[1];
        } else {
            break;
        }
    }
    let dtf = -x[1] / v[1];
    let xf = x[0] + dtf * v[0];
    xf * xf
}

/// `argmin_w euler(w)` by the reference's descent: the force by forward mode if `forward_force`,
/// the descent's `d euler/dw` by one tangent sweep (`euler_jvp`) if `forward_outer`, else by the
/// reverse gradient (`euler_grad`).
fn descend(w0: f64, forward_outer: bool, forward_force: bool) -> f64 {
    let derivative = |w: f64| {
        if forward_outer {
            euler_jvp(w, forward_force, &EulerGrad { w: 1.0 }).1
        } else {
            euler_grad(w, forward_force).1.w
        }
    };
    super::descent::argmin(|w| euler(w[0], forward_force), |w| vec![derivative(w[0])], &[w0])[0]
}

/// `rr`: reverse over reverse.
pub fn rr(w0: f64) -> f64 {
    descend(w0, false, false)
}

/// `fr`: forward over reverse.
pub fn fr(w0: f64) -> f64 {
    descend(w0, true, false)
}

/// `rf`: reverse over forward.
pub fn rf(w0: f64) -> f64 {
    descend(w0, false, true)
}

/// `ff`: forward over forward.
pub fn ff(w0: f64) -> f64 {
    descend(w0, true, true)
}
