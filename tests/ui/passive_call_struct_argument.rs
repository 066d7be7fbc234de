// A passive call (`let j: usize = ..`) gets the values of its float arguments; a parameter struct
// passed whole has no such view, and the error says to pass the fields the function reads.
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Model {
    centers: Vec<f64>,
    scale: f64,
}

fn nearest(m: &Model, x: f64) -> usize {
    m.centers.iter().position(|&v| v >= x * m.scale).unwrap_or(0)
}

#[backprop]
fn cost(m: &Model, x: f64) -> f64 {
    let j: usize = nearest(m, x);
    let t = m.centers[j] - x;
    t * t
}

fn main() {}
