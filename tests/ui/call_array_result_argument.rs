// A function returning an array must end with the name of a local array declared in its body; an
// argument array is refused.
use backprop::prelude::*;

#[backprop]
fn identity(x: [f64; 2]) -> [f64; 2] {
    x
}

fn main() {}
