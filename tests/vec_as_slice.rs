//! `&Vec<T>` arguments read as slices in the generated functions (issue 17, `emit/noalias.rs`):
//! generic floats, rows of arrays, two `&Vec` arguments, a method, and a `&Vec` passed on to a
//! called function (left as a `Vec` in the caller, a slice in the callee's pullback). Each
//! gradient against the same function written over slices (the pass's rewrite does not change
//! what is computed: exact equality) and against central finite differences.

#![allow(clippy::needless_range_loop, clippy::ptr_arg)]

use backprop::prelude::*;

fn central<T: Clone>(f: impl Fn(&T) -> f64, x: &T, get: impl Fn(&mut T) -> &mut [f64], n: usize) -> Vec<f64> {
    (0..n)
        .map(|k| {
            let h = 1e-6;
            let (mut a, mut b) = (x.clone(), x.clone());
            get(&mut a)[k] += h;
            get(&mut b)[k] -= h;
            (f(&a) - f(&b)) / (2.0 * h)
        })
        .collect()
}

fn assert_fd(what: &str, g: &[f64], fd: &[f64]) {
    assert_eq!(g.len(), fd.len(), "{what}: lengths");
    for (i, (a, e)) in g.iter().zip(fd).enumerate() {
        assert!((a - e).abs() <= 1e-5 * (1.0 + e.abs()), "{what}[{i}]: generated {a} vs finite differences {e}");
    }
}

#[backprop]
fn weighted<F: Float>(x: &Vec<F>, w: &Vec<F>) -> F {
    let mut s = F::zero();
    for i in 0..x.len() - 1 {
        s += w[i] * (x[i + 1] - x[i] * x[i]).powi(2);
    }
    s
}

#[backprop]
fn weighted_slices<F: Float>(x: &[F], w: &[F]) -> F {
    let mut s = F::zero();
    for i in 0..x.len() - 1 {
        s += w[i] * (x[i + 1] - x[i] * x[i]).powi(2);
    }
    s
}

#[test]
fn two_generic_vec_arguments() {
    let x: Vec<f64> = (0..9).map(|i| 0.3 + 0.1 * i as f64).collect();
    let w: Vec<f64> = (0..9).map(|i| 1.0 + 0.5 * (i % 3) as f64).collect();
    let (v, g) = weighted_grad(&x, &w);
    let (vs, gs) = weighted_slices_grad(&x, &w);
    assert_eq!(v.to_bits(), vs.to_bits());
    assert_eq!(weighted_slices(&x, &w).to_bits(), weighted(&x, &w).to_bits());
    assert_eq!((g.x.clone(), g.w.clone()), (gs.x, gs.w));
    assert_fd("x", &g.x, &central(|x: &Vec<f64>| weighted(x, &w), &x, |v| &mut v[..], 9));
    assert_fd("w", &g.w, &central(|w: &Vec<f64>| weighted(&x, w), &w, |v| &mut v[..], 9));
    let (v32, g32) = weighted_grad(&x.iter().map(|&v| v as f32).collect(), &w.iter().map(|&v| v as f32).collect());
    assert!((f64::from(v32) - v).abs() < 1e-4 * v.abs());
    assert!((f64::from(g32.x[3]) - g.x[3]).abs() < 1e-3 * (1.0 + g.x[3].abs()));
}

#[backprop]
fn rows(p: &Vec<[f64; 3]>) -> f64 {
    let mut s = 0.0;
    for i in 0..p.len() - 1 {
        for k in 0..3 {
            s += (p[i + 1][k] - p[i][k]).powi(2) * (k as f64 + 1.0);
        }
    }
    s
}

#[test]
fn rows_of_arrays() {
    let p: Vec<[f64; 3]> = (0..5).map(|i| [i as f64 * 0.5, (i * i) as f64 * 0.1, 1.0 - i as f64]).collect();
    let (_, g) = rows_grad(&p);
    let flat: Vec<f64> = p.iter().flatten().copied().collect();
    let f = |v: &Vec<f64>| rows(&v.chunks(3).map(|c| [c[0], c[1], c[2]]).collect());
    let gf: Vec<f64> = g.p.iter().flatten().copied().collect();
    assert_fd("p", &gf, &central(f, &flat, |v| &mut v[..], 15));
}

#[derive(Params, Clone)]
struct Model {
    scale: f64,
}

#[backprop]
impl Model {
    #[backprop(wrt(x))]
    fn loss(&self, x: &Vec<f64>) -> f64 {
        let mut s = 0.0;
        for i in 0..x.len() - 1 {
            s += self.scale * (x[i + 1] - x[i]).powi(2);
        }
        s
    }
}

#[backprop]
fn calls_a_vec_function(x: &Vec<f64>, y: &Vec<f64>) -> f64 {
    let a = weighted(x, y);
    a * a
}

#[test]
fn a_method_and_a_called_function() {
    let m = Model { scale: 1.5 };
    let x = vec![0.2, 0.9, -0.4, 1.1, 0.0];
    let (_, g) = m.loss_grad(&x);
    assert_fd("loss", &g.x, &central(|x: &Vec<f64>| m.loss(x), &x, |v| &mut v[..], 5));
    let y = vec![1.0, 2.0, 0.5, 1.5, 1.0];
    let (_, g) = calls_a_vec_function_grad(&x, &y);
    assert_fd("x", &g.x, &central(|x: &Vec<f64>| calls_a_vec_function(x, &y), &x, |v| &mut v[..], 5));
    assert_fd("y", &g.y, &central(|y: &Vec<f64>| calls_a_vec_function(&x, y), &y, |v| &mut v[..], 5));
}
