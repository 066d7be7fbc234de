use backprop::prelude::*;

/// A user's two-argument "softsign": not the runtime's one-argument activation.
fn softsign(x: f64, k: f64) -> f64 {
    x / (k + x.abs())
}

#[backprop]
fn cost(x: f64) -> f64 {
    softsign(x, 2.0)
}

fn main() {}
