// A parameter struct in arithmetic (`net + 1.0`): read its fields instead.
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net {
    w: [f64; 3],
    b: f64,
}

#[backprop]
fn cost(net: &Net, x: f64) -> f64 {
    net + x
}

fn main() {}
