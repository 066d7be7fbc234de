use backprop::prelude::*;

// Not supported yet, pinned so a fix shows here: the runtime's layers have no dual copies
// (`dense_vjp_dual`), and the runtime's `Dense` in a closure signature is not re-typed to
// `Dense<.., Dual64>`. Until then, write the layer as a `#[backprop(hessian)]` function.
#[backprop(hessian)]
fn cost(layer: &Dense<2, 2>, x: &[f64; 2]) -> f64 {
    let y = dense(layer, x, Activation::Tanh);
    y[0] * y[1]
}

fn main() {}
