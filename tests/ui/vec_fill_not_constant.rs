use backprop::prelude::*;

#[backprop]
fn cost(x: &[f64]) -> f64 {
    let mut h = vec![x[0]; x.len()];
    for i in 0..x.len() {
        h[i] += x[i];
    }
    h[0]
}

fn main() {}
