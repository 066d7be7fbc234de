#![allow(unused_unsafe)]

use backprop::prelude::*;

#[backprop]
fn cost(x: f64) -> f64 {
    unsafe { x * x }
}

fn main() {}
