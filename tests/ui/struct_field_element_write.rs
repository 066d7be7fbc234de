// Writing an element of a parameter struct's array field: fields are read-only in a `#[backprop]`
// function.
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net {
    w: [f64; 3],
    b: f64,
}

#[backprop]
fn cost(net: &Net, x: f64) -> f64 {
    net.w[0] = 0.5;
    net.w[0] * x + net.b
}

fn main() {}
