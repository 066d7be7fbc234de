use backprop::prelude::*;

#[derive(Params)]
enum Layer {
    Dense { w: [[f64; 3]; 2] },
    Identity,
}

fn main() {}
