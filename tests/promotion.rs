//! Scalar promotion of carried adjoint elements (issue 17, `emit/promote.rs`): loops whose
//! backward statements add into `d_x[i]` and `d_x[i + 1]` (or `i - 1`/`i`) keep the carried element
//! in a local. Every argument shape (array, slice, `&Vec`, struct fields, nested rows), ascending
//! and descending loops, empty and one-iteration ranges, the pullback and the vjp of a called
//! function: gradients against num-dual forward mode.

#![allow(clippy::needless_range_loop, clippy::ptr_arg)]

use backprop::prelude::*;
use num_dual::{Dual64, DualNum};

fn assert_close(what: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= 1e-10 * (1.0 + e.abs()), "{what}[{i}]: generated {a} vs num-dual {e}");
    }
}

/// Forward-mode gradient of `f` at `x`, one dual pass per coordinate.
fn dual_grad(f: impl Fn(&[Dual64]) -> Dual64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|k| {
            let xs: Vec<Dual64> = x
                .iter()
                .enumerate()
                .map(|(j, &v)| if j == k { Dual64::from(v).derivative() } else { Dual64::from(v) })
                .collect();
            f(&xs).eps
        })
        .collect()
}

fn rosen_dual(x: &[Dual64]) -> Dual64 {
    let mut f = Dual64::from(0.0);
    for i in 0..x.len().saturating_sub(1) {
        f += (x[i + 1] - x[i].powi(2)).powi(2) * 100.0 + (-x[i] + 1.0).powi(2);
    }
    f
}

#[backprop]
fn rosen_slice(x: &[f64]) -> f64 {
    let mut f = 0.0;
    for i in 0..x.len() - 1 {
        f += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
    }
    f
}

#[backprop]
fn rosen_arr(x: &[f64; 7]) -> f64 {
    let mut f = 0.0;
    for i in 0..6 {
        f += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
    }
    f
}

#[backprop]
fn rosen_vec(x: &Vec<f64>) -> f64 {
    let mut f = 0.0;
    for i in 0..x.len() - 1 {
        f += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
    }
    f
}

/// Offsets `i - 1` and `i`, from 1.
#[backprop]
fn rosen_back(x: &[f64]) -> f64 {
    let mut f = 0.0;
    for i in 1..x.len() {
        f += 100.0 * (x[i] - x[i - 1].powi(2)).powi(2) + (1.0 - x[i - 1]).powi(2);
    }
    f
}

fn point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.3 + 0.7 * ((i as f64) * 1.3).sin()).collect()
}

#[test]
fn rosenbrock_every_shape_and_length() {
    for n in [1usize, 2, 3, 8, 33] {
        let x = point(n);
        let expected = dual_grad(rosen_dual, &x);
        if n >= 1 {
            let (_, g) = rosen_back_grad(&x);
            assert_close(&format!("rosen_back n={n}"), &g.x, &expected);
        }
        if n >= 2 {
            let (_, g) = rosen_slice_grad(&x);
            assert_close(&format!("rosen_slice n={n}"), &g.x, &expected);
            let (_, g) = rosen_vec_grad(&x);
            assert_close(&format!("rosen_vec n={n}"), &g.x, &expected);
            // The accumulating form adds to what is there.
            let mut acc = RosenSliceGrad { x: vec![1.5; n] };
            rosen_slice_grad_acc(&x, &mut acc);
            let shifted: Vec<f64> = expected.iter().map(|e| e + 1.5).collect();
            assert_close(&format!("rosen_slice_grad_acc n={n}"), &acc.x, &shifted);
        }
    }
    let x = point(7);
    let (_, g) = rosen_arr_grad(x.as_slice().try_into().unwrap());
    assert_close("rosen_arr", &g.x, &dual_grad(rosen_dual, &x));
}

/// A recurrence: the backward loop runs descending, carrying `d_x[i + 1]` down to `d_x[i]`.
#[backprop]
fn recurrence(x: &[f64]) -> f64 {
    let mut a = 0.5;
    for i in 0..x.len() - 1 {
        a = (a * x[i] + x[i + 1]).sin();
    }
    a * a
}

fn recurrence_dual(x: &[Dual64]) -> Dual64 {
    let mut a = Dual64::from(0.5);
    for i in 0..x.len() - 1 {
        a = (a * x[i] + x[i + 1]).sin();
    }
    a * a
}

#[test]
fn descending_loop() {
    for n in [2usize, 3, 9] {
        let x = point(n);
        let (_, g) = recurrence_grad(&x);
        assert_close(&format!("recurrence n={n}"), &g.x, &dual_grad(recurrence_dual, &x));
    }
}

#[derive(Params, Clone)]
struct Chain {
    w: Vec<f64>,
    a: [f64; 5],
}

/// Two promoted sinks in struct fields, one loop each, and both in one loop.
#[backprop(wrt(p))]
fn fields(p: &Chain) -> f64 {
    let mut f = 0.0;
    for i in 0..p.w.len() - 1 {
        f += (p.w[i + 1] - p.w[i] * p.w[i]).powi(2);
    }
    for i in 0..4 {
        f += (p.a[i + 1] * p.a[i] - 0.5).powi(2) + p.w[i] * p.w[i + 1] * p.a[i + 1];
    }
    f
}

fn fields_dual(v: &[Dual64]) -> Dual64 {
    let (w, a) = v.split_at(v.len() - 5);
    let mut f = Dual64::from(0.0);
    for i in 0..w.len() - 1 {
        f += (w[i + 1] - w[i] * w[i]).powi(2);
    }
    for i in 0..4 {
        f += (a[i + 1] * a[i] - 0.5).powi(2) + w[i] * w[i + 1] * a[i + 1];
    }
    f
}

#[test]
fn struct_fields() {
    let v = point(11);
    let p = Chain { w: v[..6].to_vec(), a: v[6..].try_into().unwrap() };
    let (_, g) = fields_grad(&p);
    let mut got = g.p.w.clone();
    got.extend_from_slice(&g.p.a);
    assert_close("fields", &got, &dual_grad(fields_dual, &v));
}

/// Rows of a nested array: `d_w[j][i]` and `d_w[j][i + 1]` in the inner loop.
#[backprop(wrt(w))]
fn rows(w: &[[f64; 4]; 3]) -> f64 {
    let mut f = 0.0;
    for j in 0..3 {
        for i in 0..3 {
            f += (w[j][i + 1] - w[j][i] * w[j][i]).powi(2) * (j as f64 + 1.0);
        }
    }
    f
}

fn rows_dual(v: &[Dual64]) -> Dual64 {
    let mut f = Dual64::from(0.0);
    for j in 0..3 {
        for i in 0..3 {
            f += (v[j * 4 + i + 1] - v[j * 4 + i] * v[j * 4 + i]).powi(2) * (j as f64 + 1.0);
        }
    }
    f
}

#[test]
fn nested_rows() {
    let v = point(12);
    let mut w = [[0.0; 4]; 3];
    for j in 0..3 {
        w[j].copy_from_slice(&v[j * 4..j * 4 + 4]);
    }
    let (_, g) = rows_grad(&w);
    let got: Vec<f64> = g.w.iter().flatten().copied().collect();
    assert_close("rows", &got, &dual_grad(rows_dual, &v));
}

/// Calls: `rosen_slice` through its vjp (top level) and its pullback (in a loop).
#[backprop(wrt(x))]
fn calls(x: &[f64], k: f64) -> f64 {
    let top = rosen_slice(x);
    let mut f = top * k;
    for r in 0..2 {
        f += rosen_slice(x) * (r as f64 + 0.5);
    }
    f
}

#[test]
fn through_pullback_and_vjp() {
    let x = point(6);
    let k = 0.75;
    let expected = dual_grad(|v| rosen_dual(v) * (k + 0.5 + 1.5), &x);
    let (_, g) = calls_grad(&x, k);
    assert_close("calls", &g.x, &expected);
}

/// The pass keeps what it rewrites identical: promotion reached the generated code.
#[test]
fn promotion_applies() {
    let f: syn::ItemFn = syn::parse_quote! {
        fn rosen(x: &[f64]) -> f64 {
            let mut f = 0.0;
            for i in 0..x.len() - 1 {
                f += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
            }
            f
        }
    };
    let tokens: proc_macro2::TokenStream = syn::parse_quote!(#f);
    let text = backprop_codegen::expand(proc_macro2::TokenStream::new(), tokens).to_string();
    // The gradient, the pullback and the vjp.
    assert!(text.matches("__bp_carry").count() >= 3 * 4, "promotion missing: {text}");
}
