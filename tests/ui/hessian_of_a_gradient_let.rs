use backprop::prelude::*;

#[backprop(hessian)]
fn energy(x: &[f64; 2], w: f64) -> f64 {
    x[0] * x[0] * w + x[1] * w * w
}

// Its Hessian would need third derivatives of `energy`.
#[backprop(hessian)]
fn outer(x: &[f64; 2], w: f64) -> f64 {
    let mut s = 0.0;
    for _k in 0..2 {
        let (e, g) = energy_grad(x, w);
        s = s + e * g.w;
    }
    s
}

fn main() {}
