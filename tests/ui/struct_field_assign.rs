// Assigning to a field of a parameter struct: fields are read-only in a `#[backprop]` function.
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net {
    w: [f64; 3],
    b: f64,
}

#[backprop]
fn cost(net: &Net, x: f64) -> f64 {
    net.b = 0.5;
    net.b * x
}

fn main() {}
