// `#[backprop]` on a generic `impl` block: not supported yet.
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net<const H: usize> {
    w: [f64; H],
    b: f64,
}

#[backprop]
impl<const H: usize> Net<H> {
    #[backprop]
    fn loss(&self, x: &[f64; H]) -> f64 {
        let mut z = self.b;
        for i in 0..H {
            z += self.w[i] * x[i];
        }
        z * z
    }
}

fn main() {}
