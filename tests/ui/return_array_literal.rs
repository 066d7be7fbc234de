use backprop::prelude::*;

#[backprop]
fn clipped(x: &[f64; 2], t: f64) -> [f64; 2] {
    if t > 1.0 {
        return [x[0], t];
    }
    let mut out = [0.0; 2];
    out[0] = x[0] * t;
    out[1] = x[1].tanh();
    out
}

fn main() {}
