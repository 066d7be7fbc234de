use backprop::prelude::*;

// `forward` takes floats, integers, arrays, slices and `Vec`s: each case below names what to write.

#[derive(Params)]
struct Net {
    w: [f64; 2],
}

#[backprop(forward)]
fn with_struct(net: &Net, x: f64) -> f64 {
    net.w[0] * x + net.w[1]
}

#[backprop(forward)]
fn array_result(x: &[f64; 2]) -> [f64; 2] {
    let mut out = [0.0; 2];
    out[0] = x[0] * x[1];
    out[1] = x[1];
    out
}

#[backprop(forward)]
fn generic<T: Float>(x: T) -> T {
    x * x
}

#[backprop(forward, forward)]
fn twice(x: f64) -> f64 {
    x * x
}

fn main() {}
