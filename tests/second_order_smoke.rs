use backprop::prelude::*;

#[backprop(hessian)]
fn rosen(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
    }
    s
}

#[backprop(hessian)]
fn scal(a: f64, b: f64) -> f64 {
    (a * b).sin() + a * a * b
}

#[test]
fn smoke() {
    let x = [1.2, 0.8, -0.5];
    let (v, g, h) = rosen_hessian(&x);
    println!("{v} {g:?} {h:?}");
    let (v2, g2, h2) = scal_hessian(0.3, 0.7);
    println!("{v2} {g2:?} {h2:?}");
}
