// Indexing a parameter struct (`net[0]`): index its array fields instead.
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net {
    w: [f64; 3],
    b: f64,
}

#[backprop]
fn cost(net: &Net, x: f64) -> f64 {
    net[0] * x
}

fn main() {}
