use backprop::prelude::*;

// Every field shares the first field's scalar type.
#[derive(Params)]
struct Net {
    w: [[f64; 3]; 2],
    b: Vec<f32>,
}

fn main() {}
