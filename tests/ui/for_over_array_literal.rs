use backprop::prelude::*;

#[backprop]
fn cost(w: f64) -> f64 {
    let mut s = 0.0;
    for v in [1.0, 2.0, 3.0] {
        s += w * v;
    }
    s
}

fn main() {}
