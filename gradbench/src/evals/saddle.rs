//! `saddle`: `min_x max_y f(x, y)`, `f(x, y) = (x₁² + x₂²) − (y₁² + y₂²)` (the README's
//! `(x₁, y₁)` is the first point, `(x₂, y₂)` the second), both by the reference's
//! gradient descent (`descent`) from the given start. The outer cost `r1cost(x) = max_y f(x, y)`
//! contains the whole inner ascent, which steps along a generated gradient of `f` in `y`; the outer
//! descent differentiates `r1cost` through the inner ascent's iterations. The four variants the eval
//! names (outer letter: the outer descent's derivative and the final ascent's; inner letter: the
//! inner ascent's), every derivative generated:
//!
//! | variant | inner ascent steps along | outer descent uses | final ascent uses |
//! |---|---|---|---|
//! | `rr` | `f_grad_y` (reverse) | `r1cost_grad` (reverse; pullback of `f_grad_y` = `f_hvp`) | `f_grad` |
//! | `fr` | `f_grad_y` (reverse) | `r1cost_grad_fwd` (two tangent sweeps; `f`'s reverse gradient over `Dual64`) | `f_grad_fwd` |
//! | `rf` | `f_grad_fwd_y` (forward) | `r1cost_grad` (reverse; pullback of `f_grad_fwd_y` = `f_hvp_fwd`) | `f_grad` |
//! | `ff` | `f_grad_fwd_y` (forward) | `r1cost_grad_fwd` (two tangent sweeps; `f` over `DualDual64`) | `f_grad_fwd` |
//!
//! One `r1cost` serves all four: its flag `forward_inner` picks the inner gradient's mode.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

#[backprop(hessian, forward)]
pub fn f(x: &[f64; 2], y: &[f64; 2]) -> f64 {
    (x[0] * x[0] + x[1] * x[1]) - (y[0] * y[0] + y[1] * y[1])
}

/// `max_y f(x, y)` by the reference's ascent from `start` (its `multivariateMax`: descent on `−f`).
#[backprop(wrt(x), forward)]
pub fn r1cost(x: &[f64; 2], start: &[f64; 2], forward_inner: bool) -> f64 {
    let mut y = [0.0; 2];
    y[0] = start[0];
    y[1] = start[1];
    let mut fy = -f(x, &y);
    let g0: [f64; 2] = if forward_inner { f_grad_fwd_y(x, &y) } else { f_grad_y(x, &y) };
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
            let gn: [f64; 2] = if forward_inner { f_grad_fwd_y(x, &yn) } else { f_grad_y(x, &yn) };
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

/// `[x*, y*]` flattened: `x*` by the outer descent on `r1cost` (its inner ascent along the
/// forward-mode gradient if `forward_inner`), with `r1cost`'s gradient by forward mode
/// (`r1cost_grad_fwd`, two tangent sweeps) if `forward_outer`, else by reverse mode; then `y*` by the
/// ascent on `f(x*, ·)` with the outer mode's gradient of `f`.
fn solve(start: [f64; 2], forward_outer: bool, forward_inner: bool) -> Vec<f64> {
    use super::descent::{argmax, argmin};
    let outer = |x: &[f64; 2]| {
        if forward_outer {
            r1cost_grad_fwd(x, &start, forward_inner).1.x
        } else {
            r1cost_grad(x, &start, forward_inner).1.x
        }
    };
    let r1 = argmin(|x| r1cost(&pair(x), &start, forward_inner), |x| outer(&pair(x)).to_vec(), &start);
    let x = pair(&r1);
    let last = |y: &[f64; 2]| if forward_outer { f_grad_fwd(&x, y).1.y } else { f_grad(&x, y).1.y };
    let r2 = argmax(|y| f(&x, &pair(y)), |y| last(&pair(y)).to_vec(), &start);
    r1.into_iter().chain(r2).collect()
}

/// `rr`: reverse over reverse.
pub fn rr(start: [f64; 2]) -> Vec<f64> {
    solve(start, false, false)
}

/// `fr`: forward over reverse.
pub fn fr(start: [f64; 2]) -> Vec<f64> {
    solve(start, true, false)
}

/// `rf`: reverse over forward.
pub fn rf(start: [f64; 2]) -> Vec<f64> {
    solve(start, false, true)
}

/// `ff`: forward over forward.
pub fn ff(start: [f64; 2]) -> Vec<f64> {
    solve(start, true, true)
}
