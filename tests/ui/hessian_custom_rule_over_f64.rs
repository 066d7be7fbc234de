use backprop::prelude::*;

// `hessian` on a custom rule runs the rule over `Dual64`: a rule over `f64` only does not fit
// (write it generic over `T: Float`).
#[backprop(pullback = soft_rule, hessian)]
fn soft(x: f64) -> f64 {
    x.exp().ln_1p()
}

fn soft_rule(x: f64, _result: f64, d_result: f64) -> (f64,) {
    (d_result / (1.0 + (-x).exp()),)
}

#[backprop(hessian)]
fn cost(x: &[f64; 2]) -> f64 {
    soft(x[0]) * x[1]
}

fn main() {}
