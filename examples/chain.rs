//! The lesson, step by step: a three-weight chain, its forward pass, the chain rule factor by
//! factor, the same chain with sigmoids, and gradient descent driven by the generated gradient.
//!
//! Run with `cargo run --example chain`.

use backprop::prelude::*;
use backprop::runtime::descent::gradient_descent;

/// The lesson's cost: input a0, weights w1..w3, target y.
#[backprop(wrt(w1, w2, w3))]
fn cost(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
    let a1 = w1 * a0;
    let a2 = w2 * a1;
    let a3 = w3 * a2;
    (a3 - y).powi(2)
}

/// The same chain with a sigmoid on every layer: each layer adds one factor σ'(z) = a(1 − a).
#[backprop(wrt(w1, w2, w3))]
fn sigmoid_cost(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
    let a1 = sigmoid(w1 * a0);
    let a2 = sigmoid(w2 * a1);
    let a3 = sigmoid(w3 * a2);
    (a3 - y).powi(2)
}

fn main() -> Result<(), backprop::Error> {
    let (w1, w2, w3, a0, y) = (2.0, 3.0, 0.5, 1.0, 2.0);

    println!("== Forward pass");
    let (a1, a2, a3) = (w1 * a0, w2 * w1 * a0, w3 * w2 * w1 * a0);
    let (c, g) = cost_grad(w1, w2, w3, a0, y);
    println!("a1 = w1·a0 = {a1}, a2 = w2·a1 = {a2}, a3 = w3·a2 = {a3}, C = (a3 − y)² = {c}");

    println!("\n== Backward pass: dC/dw1 as a product of local factors");
    let factors =
        [("dC/da3 = 2(a3 − y)", 2.0 * (a3 - y)), ("da3/da2 = w3", w3), ("da2/da1 = w2", w2), ("da1/dw1 = a0", a0)];
    for (name, value) in factors {
        println!("  {name:<20} = {value}");
    }
    let product: f64 = factors.iter().map(|(_, v)| v).product();
    println!("  product              = {product}   (generated: dC/dw1 = {})", g.w1);
    println!("dC/dw2 = {}, dC/dw3 = {}", g.w2, g.w3);

    println!("\n== The same chain with sigmoids");
    let (c, g) = sigmoid_cost_grad(w1, w2, w3, a0, 0.2);
    println!("C = {c:.6}, dC/dw1 = {:.6}, dC/dw2 = {:.6}, dC/dw3 = {:.6}", g.w1, g.w2, g.w3);
    println!("(the generated code, with every factor named, is in the doc comment of `sigmoid_cost_grad`)");

    println!("\n== Gradient descent on the linear chain (learning rate 0.01)");
    let mut w = CostGrad { w1, w2, w3 };
    let step = |w: &CostGrad| cost_grad(w.w1, w.w2, w.w3, a0, y);
    for n in 1..=8 {
        let report = gradient_descent(&mut w, 0.01, 1, step)?;
        println!("step {n}: C = {:.3e}   w = ({:.4}, {:.4}, {:.4})", report.final_cost, w.w1, w.w2, w.w3);
    }
    let report = gradient_descent(&mut w, 0.01, 40, step)?;
    println!("step 48: C = {:.3e}, so w1·w2·w3·a0 = {:.9} ≈ y = {y}", report.final_cost, w.w1 * w.w2 * w.w3 * a0);
    Ok(())
}
