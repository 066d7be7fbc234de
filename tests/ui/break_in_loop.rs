use backprop::prelude::*;

#[backprop]
fn cost(x: &[f64; 4]) -> f64 {
    let mut s = 0.0;
    'rows: for i in 0..2 {
        for j in 0..2 {
            if x[i * 2 + j] < 0.0 {
                break 'rows;
            }
            s += x[i * 2 + j];
        }
    }
    s
}

fn main() {}
