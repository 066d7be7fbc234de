use backprop::prelude::*;

#[backprop(hessian)]
fn energy(x: &[f64; 2], w: f64) -> f64 {
    x[0] * x[0] * w + x[1] * w * w
}

// The gradient struct is used by its fields only.
#[backprop]
fn whole(x: &[f64; 2], w: f64) -> f64 {
    let (e, g) = energy_grad(x, w);
    let h = g;
    e + h.w
}

// A Hessian-vector product inside a gradient would need third derivatives.
#[backprop]
fn uses_hvp(x: &[f64; 2], w: f64) -> f64 {
    let v = EnergyGrad { x: [1.0, 0.0], w: 0.0 };
    let (e, _g, hv) = energy_hvp(x, w, &v);
    e + hv.w
}

#[derive(Params)]
struct Pair {
    a: [f64; 2],
    b: f64,
}

#[backprop(hessian)]
fn pair_energy(p: &Pair, w: f64) -> f64 {
    p.a[0] * p.a[1] * w + p.b * w * w
}

// The gradient of a struct argument would be a struct local.
#[backprop]
fn uses_pair(p: &Pair, w: f64) -> f64 {
    let (e, g) = pair_energy_grad(p, w);
    e * g.w + g.p.a[0]
}

fn main() {}
