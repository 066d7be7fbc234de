use backprop::prelude::*;

#[derive(Params)]
struct Marker;

#[derive(Params)]
struct Empty {}

fn main() {}
