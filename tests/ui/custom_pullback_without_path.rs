// `pullback` without `= path`: the message shows the form to write.
use backprop::prelude::*;

#[backprop(pullback)]
fn scaled(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {}
