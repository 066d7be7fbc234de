//! `_hvp` of functions with data arguments (float arrays not differentiated): the ones only read
//! element-wise stay `f64` in the dual gradient (`macros/codegen/src/second_order/constant_args.rs`),
//! the others (a `&Vec` read through a slice, one passed to a callee) keep their dual twins. Either
//! way: value and gradient bit for bit those of `_grad`, `H·v` against central differences of
//! `_grad` along `v`.

#![allow(clippy::needless_range_loop, clippy::ptr_arg)]

use backprop::prelude::*;

#[backprop(hessian, wrt(w))]
pub fn fit(x: &[f64], y: &Vec<f64>, s: [f64; 3], t: &[f64; 3], w: &[f64], n: usize) -> f64 {
    let mut total = 0.0;
    for i in 0..n {
        let mut z = 0.0;
        for j in 0..3 {
            z += w[j] * x[i * 3 + j] * s[j] + t[j] * w[j] * w[j];
        }
        let r = z.tanh() - y[i];
        let scale = if x[i * 3] > t[0] { 1.0 + x.len() as f64 * 0.01 } else { 0.5 };
        total += r * r * scale;
    }
    total
}

#[backprop(hessian)]
pub fn inner(a: &[f64], b: f64) -> f64 {
    a[0] * b * b + a[1] * b.sin()
}

#[backprop(hessian, wrt(w))]
pub fn outer(x: &[f64], w: &[f64]) -> f64 {
    inner(x, w[0]) * w[1] + x[2] * w[1] * w[1] * w[0]
}

fn assert_hvp(what: &str, hv: &[f64], grad: impl Fn(&[f64]) -> Vec<f64>, w: &[f64], v: &[f64]) {
    let h = 1e-5;
    let at = |e: f64| grad(&w.iter().zip(v).map(|(a, b)| a + e * b).collect::<Vec<_>>());
    let (plus, minus) = (at(h), at(-h));
    for k in 0..w.len() {
        let fd = (plus[k] - minus[k]) / (2.0 * h);
        assert!((hv[k] - fd).abs() <= 1e-6 * (1.0 + fd.abs()), "{what}[{k}]: hvp {} vs differences {fd}", hv[k]);
    }
}

#[test]
fn data_arguments_read_element_wise_or_passed_on() {
    let n = 4;
    let x: Vec<f64> = (0..3 * n).map(|k| ((k * 7 % 11) as f64 - 5.0) * 0.13).collect();
    let y: Vec<f64> = (0..n).map(|k| 0.2 * k as f64 - 0.3).collect();
    let (s, t) = ([0.5, -1.2, 0.8], [0.1, 0.3, -0.4]);
    let w = [0.3, -0.7, 0.45];
    let v = [1.0, -0.5, 2.0];
    let (value, g, hv) = fit_hvp(&x, &y, s, &t, &w, n, &FitGrad { w: v.to_vec() });
    let (value_f64, g_f64) = fit_grad(&x, &y, s, &t, &w, n);
    assert_eq!(value.to_bits(), value_f64.to_bits());
    assert_eq!(g.w, g_f64.w);
    assert_eq!(value, fit(&x, &y, s, &t, &w, n));
    assert_hvp("fit", &hv.w, |w| fit_grad(&x, &y, s, &t, w, n).1.w, &w, &v);

    let w = [0.6, -0.9];
    let v = [0.7, 1.3];
    let (value, g, hv) = outer_hvp(&x, &w, &OuterGrad { w: v.to_vec() });
    let (value_f64, g_f64) = outer_grad(&x, &w);
    assert_eq!(value.to_bits(), value_f64.to_bits());
    assert_eq!(g.w, g_f64.w);
    assert_hvp("outer", &hv.w, |w| outer_grad(&x, w).1.w, &w, &v);
}
