use backprop::prelude::*;

#[backprop]
fn pair(a: f64, b: f64) -> [f64; 2] {
    let mut out = [0.0; 2];
    out[0] = a * b;
    out[1] = a + b;
    out
}

// An `if` yielding arrays needs the array's type (`let h: [f64; 2] = if ..`).
#[backprop]
fn chosen(a: f64, b: f64, flag: bool) -> f64 {
    let h = if flag { pair(a, b) } else { pair(b, a) };
    h[0] * h[1]
}

fn main() {}
