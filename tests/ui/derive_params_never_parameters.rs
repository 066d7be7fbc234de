use backprop::prelude::*;

// Every field that can never be a parameter is reported, in one compile.
#[derive(Params)]
struct Model<'a> {
    w: [[f64; 3]; 2],
    steps: usize,
    inputs: &'a [f64],
    labels: Vec<[u8; 2]>,
    trained: bool,
}

fn main() {}
