use backprop::prelude::*;

struct Point {
    x: f64,
}

const ORIGIN: Point = Point { x: 1.0 };

#[backprop]
fn cost(w: f64) -> f64 {
    w * ORIGIN.x
}

fn main() {}
