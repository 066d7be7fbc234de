use backprop::prelude::*;

#[backprop]
struct Layer {
    w: f64,
}

fn main() {}
