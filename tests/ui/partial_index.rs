use backprop::prelude::*;

#[backprop]
fn cost(w: &[[f64; 3]; 2]) -> f64 {
    let row = w[1];
    row[0]
}

fn main() {}
