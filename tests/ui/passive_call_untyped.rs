// A plain function returning an index, bound without its type: `#[backprop]` takes a call it
// cannot see into for a differentiable function returning a float, so the index it is used as
// gets an error that says to write the type (`let j: usize = ..`), which makes the call passive.
use backprop::prelude::*;

fn nearest(c: &[f64], x: f64) -> usize {
    c.iter().position(|&v| v >= x).unwrap_or(0)
}

#[backprop]
fn cost(c: &[f64], x: f64) -> f64 {
    let j = nearest(c, x);
    let t = c[j] - x;
    t * t
}

fn main() {}
