use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    let mut y = x;
    'outer: loop {
        y = y * 2.0;
        if y > 10.0 {
            break 'outer;
        }
    }
    y
}

fn main() {}
