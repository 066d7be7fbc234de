use backprop::prelude::*;

// `wrt`: a mixed partial with `w` would be silently zero.
#[backprop(hessian, wrt(x))]
fn partial(x: &[f64; 2], w: f64) -> f64 {
    x[0] * x[1] * w
}

#[backprop]
fn uses_partial(x: &[f64; 2], w: f64) -> f64 {
    let (_, g) = partial_grad(x, w);
    g.x[1]
}

fn main() {}
