// A `#[backprop]` method taking `&mut self`: the parameters are read through `&self`.
use backprop::prelude::*;

#[derive(Params, Clone)]
struct Net {
    w: [f64; 3],
    b: f64,
}

#[backprop]
impl Net {
    #[backprop]
    fn loss(&mut self, x: &[f64; 3]) -> f64 {
        self.w[0] * x[0] + self.w[1] * x[1] + self.w[2] * x[2] + self.b
    }
}

fn main() {}
