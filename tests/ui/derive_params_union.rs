use backprop::prelude::*;

#[derive(Params)]
union Weights {
    double: f64,
    single: f32,
}

fn main() {}
