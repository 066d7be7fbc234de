// Assigning to a parameter struct: it is read-only in a `#[backprop]` function. (`'static` only
// keeps rustc's lifetime check out of the expected output.)
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net {
    w: [f64; 3],
    b: f64,
}

#[backprop]
fn cost(mut net: &'static Net, other: &'static Net, x: f64) -> f64 {
    if x > 0.0 {
        net = other;
    }
    net.b * x
}

fn main() {}
