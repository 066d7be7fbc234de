use backprop::prelude::*;

#[backprop]
const RATE: f64 = 0.1;

fn main() {}
