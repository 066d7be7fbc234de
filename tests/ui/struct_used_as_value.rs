// A parameter struct bound to another name (`let n = net;`): read its fields instead.
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net {
    w: [f64; 3],
    b: f64,
}

#[backprop]
fn cost(net: &Net, x: f64) -> f64 {
    let n = net;
    n.b * x
}

fn main() {}
