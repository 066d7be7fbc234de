//! `saddle`: `min_x max_y f(x, y)`, `f(x, y) = (x₁² + x₂²) − (y₁² + y₂²)` (the README's
//! `(x₁, y₁)` is the first point, `(x₂, y₂)` the second), both by the reference's
//! gradient descent (`descent`) from the given start. The outer cost `r1cost(x) = max_y f(x, y)`
//! contains the whole inner ascent, which steps along the generated `f_grad_y` (the gradient of the
//! `#[backprop(hessian)]` `f`, differentiable); the outer descent uses the generated `r1cost_grad`,
//! which differentiates through the inner ascent's iterations (the pullback of `f_grad_y` is `f`'s
//! Hessian-vector product). That is the `rr` variant; the forward-mode variants need tangents the
//! macro does not generate for these shapes yet (see gradbench/README.md).

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

#[backprop(hessian)]
pub fn f(x: &[f64; 2], y: &[f64; 2]) -> f64 {
    (x[0] * x[0] + x[1] * x[1]) - (y[0] * y[0] + y[1] * y[1])
}

/// `max_y f(x, y)` by the reference's ascent from `start` (its `multivariateMax`: descent on `−f`).
#[backprop(wrt(x))]
pub fn r1cost(x: &[f64; 2], start: &[f64; 2]) -> f64 {
    let mut y = [0.0; 2];
    y[0] = start[0];
    y[1] = start[1];
    let mut fy = -f(x, &y);
    let g0 = f_grad_y(x, &y);
    let mut gy = [0.0; 2];
    gy[0] = -g0[0];
    gy[1] = -g0[1];
    let mut eta = 0.00001;
    let mut i = 0;
    loop {
        if (gy[0] * gy[0] + gy[1] * gy[1]).sqrt() <= 0.00001 {
            break;
        }
        if i == 10 {
            eta *= 2.0;
            i = 0;
            continue;
        }
        let mut yn = [0.0; 2];
        yn[0] = y[0] - eta * gy[0];
        yn[1] = y[1] - eta * gy[1];
        let s0 = y[0] - yn[0];
        let s1 = y[1] - yn[1];
        if (s0 * s0 + s1 * s1).sqrt() <= 0.00001 {
            break;
        }
        let fyn = -f(x, &yn);
        if fyn < fy {
            let gn = f_grad_y(x, &yn);
            y[0] = yn[0];
            y[1] = yn[1];
            fy = fyn;
            gy[0] = -gn[0];
            gy[1] = -gn[1];
            i += 1;
        } else {
            eta /= 2.0;
            i = 0;
        }
    }
    f(x, &y)
}

fn pair(v: &[f64]) -> [f64; 2] {
    [v[0], v[1]]
}

/// The `rr` variant: `[x*, y*]` flattened.
pub fn rr(start: [f64; 2]) -> Vec<f64> {
    use super::descent::{argmax, argmin};
    let r1 = argmin(|x| r1cost(&pair(x), &start), |x| r1cost_grad(&pair(x), &start).1.x.to_vec(), &start);
    let x = pair(&r1);
    let r2 = argmax(|y| f(&x, &pair(y)), |y| f_grad(&x, &pair(y)).1.y.to_vec(), &start);
    r1.into_iter().chain(r2).collect()
}
