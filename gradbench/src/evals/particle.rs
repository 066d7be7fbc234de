//! `particle`: Pearlmutter and Siskind's charged particle. A particle starting at (0, 8) with
//! velocity (0.75, 0) moves in the field `−∇ₓp(x; w)` of two unit charges at (10, 10 − w) and
//! (10, 0), by naive Euler steps of 0.1 until it would cross the x axis, then linearly to the axis;
//! `euler(w)` is the squared x there, and the answer is `argmin_w euler(w)` by the reference's
//! gradient descent (`argmin`, GradBench's haskell/futhark solver: steps `eta` from 1e-5, doubled
//! after 10 accepted steps, halved on a rejected one, stop at `|g| ≤ 1e-5` or a step ≤ 1e-5).
//!
//! Nested AD: `euler` calls `potential_grad_x` (the generated gradient of `#[backprop(hessian)]`
//! `potential`, itself differentiable), and the descent uses the generated `euler_grad`: the `rr`
//! variant (reverse over reverse; the pullback of the inner gradient is the generated
//! Hessian-vector product). The forward-mode variants need a tangent of a function that contains a
//! gradient, which the macro does not generate yet (see gradbench/README.md).

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

/// The potential `p(x; w) = 1/‖x − (10, 10 − w)‖ + 1/‖x − (10, 0)‖`.
#[backprop(hessian)]
pub fn potential(x: &[f64; 2], w: f64) -> f64 {
    let a0 = x[0] - 10.0;
    let a1 = x[1] - (10.0 - w);
    let b0 = x[0] - 10.0;
    let b1 = x[1];
    1.0 / (a0 * a0 + a1 * a1).sqrt() + 1.0 / (b0 * b0 + b1 * b1).sqrt()
}

#[backprop]
pub fn euler(w: f64) -> f64 {
    let mut x = [0.0; 2];
    x[1] = 8.0;
    let mut v = [0.0; 2];
    v[0] = 0.75;
    let dt = 0.1;
    loop {
        let gx = potential_grad_x(&x, w);
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

/// The `rr` variant: the descent's gradient and the Euler steps' force both reverse mode.
pub fn rr(w0: f64) -> f64 {
    super::descent::argmin(|w| euler(w[0]), |w| vec![euler_grad(w[0]).1.w], &[w0])[0]
}
