use backprop::prelude::*;

// Forgot `#[derive(Params)]` on the layer.
struct Dense {
    w: [[f64; 3]; 2],
    b: [f64; 2],
}

#[derive(Params)]
struct Net {
    l1: Dense,
    scale: f64,
}

fn main() {}
