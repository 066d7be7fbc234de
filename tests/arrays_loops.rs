//! Arrays and loops: gradients against central finite differences and num-dual forward mode.

// Index loops are the form `#[backprop]` differentiates; the checks below use the same style.
#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;
use num_dual::{Dual64, DualNum};

/// Central differences of `f` at `x`, every coordinate.
fn numeric_gradient(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * (1.0 + x[i].abs());
            let mut p = x.to_vec();
            p[i] = x[i] + h;
            let up = f(&p);
            p[i] = x[i] - h;
            let down = f(&p);
            (up - down) / (2.0 * h)
        })
        .collect()
}

fn assert_close(what: &str, actual: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= tol * (1.0 + e.abs()), "{what}[{i}]: generated {a} vs reference {e}");
    }
}

#[backprop]
fn dot(w: &[f64; 4], x: &[f64; 4]) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        s += w[i] * x[i];
    }
    s
}

#[test]
fn dot_product_gradient_is_the_other_vector() {
    let w = [1.0, -2.0, 0.5, 3.0];
    let x = [0.25, 4.0, -1.0, 2.0];
    let (c, g) = dot_grad(&w, &x);
    assert_eq!(c, dot(&w, &x));
    assert_eq!(g.w, x);
    assert_eq!(g.x, w);
}

/// The lesson's chain as a loop over `w: [f64; 3]`.
#[backprop(wrt(w))]
fn chain_loop(w: [f64; 3], a0: f64, y: f64) -> f64 {
    let mut a = a0;
    for l in 0..3 {
        a *= w[l];
    }
    (a - y).powi(2)
}

#[test]
fn lesson_chain_as_a_loop_is_exact() {
    let (c, g) = chain_loop_grad([2.0, 3.0, 0.5], 1.0, 2.0);
    assert_eq!((c, g.w), (1.0, [3.0, 2.0, 12.0]));
}

#[backprop]
fn matvec_loss(m: &[[f64; 3]; 2], v: &[f64; 3], target: &[f64; 2]) -> f64 {
    let mut out = [0.0; 2];
    for r in 0..2 {
        let mut z = 0.0;
        for c in 0..3 {
            z += m[r][c] * v[c];
        }
        out[r] = z;
    }
    let mut loss = 0.0;
    for r in 0..2 {
        loss += (out[r] - target[r]).powi(2);
    }
    loss
}

#[test]
fn matrix_vector_product_matches_finite_differences() {
    let m = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]];
    let v = [1.0, 2.0, -0.5];
    let t = [0.3, -0.2];
    let (c, g) = matvec_loss_grad(&m, &v, &t);
    assert_eq!(c, matvec_loss(&m, &v, &t));
    let flat: Vec<f64> = m.iter().flatten().chain(&v).copied().collect();
    let numeric = numeric_gradient(
        |p| {
            let m = [[p[0], p[1], p[2]], [p[3], p[4], p[5]]];
            matvec_loss(&m, &[p[6], p[7], p[8]], &t)
        },
        &flat,
    );
    let generated: Vec<f64> = g.m.iter().flatten().chain(&g.v).copied().collect();
    assert_close("matvec", &generated, &numeric, 1e-6);
}

#[backprop(wrt(z))]
fn softmax_cross_entropy(z: &[f64; 5], label: usize) -> f64 {
    let mut m = z[0];
    for k in 1..5 {
        m = m.max(z[k]);
    }
    let mut total = 0.0;
    for k in 0..5 {
        total += (z[k] - m).exp();
    }
    total.ln() + m - z[label]
}

#[test]
fn softmax_cross_entropy_gradient_is_softmax_minus_one_hot() {
    let z = [1.0, 2.0, -0.5, 0.3, 800.0];
    let (c, g) = softmax_cross_entropy_grad(&z, 1);
    assert!(c.is_finite());
    let m = 800.0;
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    let expected: Vec<f64> = e.iter().enumerate().map(|(k, v)| v / s - if k == 1 { 1.0 } else { 0.0 }).collect();
    assert_close("softmax", &g.z, &expected, 1e-12);
    let z = [0.1, -0.4, 0.9, 0.3, 0.2];
    let (_, g) = softmax_cross_entropy_grad(&z, 3);
    let numeric = numeric_gradient(|p| softmax_cross_entropy(&[p[0], p[1], p[2], p[3], p[4]], 3), &z);
    assert_close("softmax fd", &g.z, &numeric, 1e-6);
}

#[backprop]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..x.len() - 1 {
        total += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
    }
    total
}

fn rosenbrock_dual<D: DualNum<f64> + Copy>(x: &[D]) -> D {
    let mut total = D::from(0.0);
    for i in 0..x.len() - 1 {
        total += (x[i + 1] - x[i] * x[i]).powi(2) * 100.0 + (-x[i] + 1.0).powi(2);
    }
    total
}

#[test]
fn extended_rosenbrock_matches_dual_numbers_for_many_sizes() {
    for n in 2..=100 {
        let x: Vec<f64> = (0..n).map(|i| 0.3 * (i as f64).sin() - 0.5).collect();
        let (c, g) = rosenbrock_grad(&x);
        assert_eq!(c, rosenbrock(&x));
        assert_eq!(g.x.len(), n);
        for i in 0..n {
            let duals: Vec<Dual64> = x
                .iter()
                .enumerate()
                .map(|(j, v)| if i == j { Dual64::new(*v, 1.0) } else { Dual64::from_re(*v) })
                .collect();
            let d = rosenbrock_dual(&duals).eps;
            assert!((g.x[i] - d).abs() <= 1e-10 * (1.0 + d.abs()), "n = {n}, i = {i}: {} vs {d}", g.x[i]);
        }
    }
}

#[backprop(wrt(w, h0))]
fn recurrence(w: f64, h0: f64, x: &[f64]) -> f64 {
    let mut h = h0;
    for t in 0..x.len() {
        h = (w * h + x[t]).tanh();
    }
    h * h
}

#[test]
fn recurrence_over_fifty_steps_matches_finite_differences() {
    let x: Vec<f64> = (0..50).map(|t| (t as f64 * 0.37).cos()).collect();
    let (c, g) = recurrence_grad(0.9, 0.1, &x);
    assert_eq!(c, recurrence(0.9, 0.1, &x));
    let numeric = numeric_gradient(|p| recurrence(p[0], p[1], &x), &[0.9, 0.1]);
    assert_close("recurrence", &[g.w, g.h0], &numeric, 1e-6);
}

#[backprop]
fn branchy_loop(x: &[f64; 6], k: f64) -> f64 {
    let mut total = 0.0;
    for i in 0..6 {
        if x[i] > 0.0 {
            total += k * x[i].sin();
        } else {
            total -= (k * x[i]).exp();
        }
    }
    total
}

#[test]
fn loop_with_if_follows_the_branch_taken() {
    let x = [0.5, -0.3, 1.2, -2.0, 0.1, 0.7];
    let (c, g) = branchy_loop_grad(&x, 1.3);
    assert_eq!(c, branchy_loop(&x, 1.3));
    let mut p = x.to_vec();
    p.push(1.3);
    let numeric = numeric_gradient(|p| branchy_loop(&[p[0], p[1], p[2], p[3], p[4], p[5]], p[6]), &p);
    let mut generated = g.x.to_vec();
    generated.push(g.k);
    assert_close("branchy", &generated, &numeric, 1e-6);
}

#[backprop]
fn two_layer(w1: &[[f64; 3]; 4], b1: &[f64; 4], w2: &[f64; 4], b2: f64, x: &[f64; 3], y: f64) -> f64 {
    let mut hidden = [0.0; 4];
    for j in 0..4 {
        let mut z = b1[j];
        for i in 0..3 {
            z += w1[j][i] * x[i];
        }
        hidden[j] = sigmoid(z);
    }
    let mut out = b2;
    for j in 0..4 {
        out += w2[j] * hidden[j];
    }
    (out - y).powi(2)
}

#[test]
fn two_layer_network_matches_finite_differences() {
    let w1 = [[0.1, -0.2, 0.3], [0.5, 0.4, -0.6], [-0.7, 0.8, 0.2], [0.05, -0.15, 0.25]];
    let b1 = [0.1, -0.1, 0.2, 0.0];
    let w2 = [0.3, -0.5, 0.7, 0.2];
    let x = [1.0, 0.5, -1.5];
    let (c, g) = two_layer_grad(&w1, &b1, &w2, 0.05, &x, 0.4);
    assert_eq!(c, two_layer(&w1, &b1, &w2, 0.05, &x, 0.4));
    let mut flat: Vec<f64> = w1.iter().flatten().copied().collect();
    flat.extend(b1);
    flat.extend(w2);
    flat.push(0.05);
    let unflat = |p: &[f64]| {
        let mut w1 = [[0.0; 3]; 4];
        for j in 0..4 {
            for i in 0..3 {
                w1[j][i] = p[3 * j + i];
            }
        }
        let b1 = [p[12], p[13], p[14], p[15]];
        let w2 = [p[16], p[17], p[18], p[19]];
        two_layer(&w1, &b1, &w2, p[20], &x, 0.4)
    };
    let numeric = numeric_gradient(unflat, &flat);
    let mut generated: Vec<f64> = g.w1.iter().flatten().copied().collect();
    generated.extend(g.b1);
    generated.extend(g.w2);
    generated.push(g.b2);
    assert_close("two layer", &generated, &numeric, 1e-6);
}

#[backprop]
fn slice_norm(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, xi) in x.iter().enumerate() {
        s += (i as f64 + 1.0) * xi * xi;
    }
    s.sqrt() + x.iter().sum::<f64>()
}

#[test]
fn slice_argument_with_enumerate_and_sum() {
    let x = vec![0.5, -1.0, 2.0, 0.25];
    let (c, g) = slice_norm_grad(&x);
    assert_eq!(c, slice_norm(&x));
    let numeric = numeric_gradient(slice_norm, &x);
    assert_close("slice", &g.x, &numeric, 1e-6);
}

#[backprop]
fn cube(t: &[[[f64; 2]; 3]; 2]) -> f64 {
    let mut s = 0.0;
    for a in 0..2 {
        for b in 0..3 {
            for c in 0..2 {
                s += t[a][b][c] * t[a][b][c] * (a + b + c + 1) as f64;
            }
        }
    }
    s
}

#[test]
fn nested_arrays_of_depth_three() {
    let mut t = [[[0.0; 2]; 3]; 2];
    for a in 0..2 {
        for b in 0..3 {
            for c in 0..2 {
                t[a][b][c] = (a * 6 + b * 2 + c) as f64 * 0.1 - 0.4;
            }
        }
    }
    let (_, g) = cube_grad(&t);
    for a in 0..2 {
        for b in 0..3 {
            for c in 0..2 {
                assert_eq!(g.t[a][b][c], 2.0 * t[a][b][c] * (a + b + c + 1) as f64);
            }
        }
    }
}

#[backprop(wrt(w))]
fn generic_rosenbrock<const N: usize>(w: &[f64; N]) -> f64 {
    let mut total = 0.0;
    for i in 0..N - 1 {
        total += 100.0 * (w[i + 1] - w[i] * w[i]).powi(2) + (1.0 - w[i]).powi(2);
    }
    total
}

#[test]
fn const_generic_sizes_carry_over_to_the_gradient() {
    let w = [0.5, -0.3, 1.2, 0.8, -1.0];
    let (c, g) = generic_rosenbrock_grad(&w);
    let g: GenericRosenbrockGrad<5> = g;
    assert_eq!(c, generic_rosenbrock(&w));
    let (_, reference) = rosenbrock_grad(&w);
    assert_eq!(g.w.to_vec(), reference.x);
}

/// A local array declared inside a loop starts afresh every iteration.
#[backprop(wrt(w))]
fn batch_loss(w: &[[f64; 2]; 3], xs: &[[f64; 2]; 4]) -> f64 {
    let mut loss = 0.0;
    for s in 0..4 {
        let mut h = [0.0; 3];
        for j in 0..3 {
            h[j] = (w[j][0] * xs[s][0] + w[j][1] * xs[s][1]).tanh();
        }
        let mut out = 0.0;
        for j in 0..3 {
            out += h[j] * h[j];
        }
        loss += (out - 1.0).powi(2);
    }
    loss
}

#[test]
fn arrays_declared_in_loops_match_finite_differences() {
    let w = [[0.3, -0.2], [0.5, 0.7], [-0.4, 0.1]];
    let xs = [[1.0, 0.5], [-0.5, 2.0], [0.25, -1.0], [1.5, 1.5]];
    let (c, g) = batch_loss_grad(&w, &xs);
    assert_eq!(c, batch_loss(&w, &xs));
    let flat: Vec<f64> = w.iter().flatten().copied().collect();
    let numeric = numeric_gradient(|p| batch_loss(&[[p[0], p[1]], [p[2], p[3]], [p[4], p[5]]], &xs), &flat);
    let generated: Vec<f64> = g.w.iter().flatten().copied().collect();
    assert_close("batch", &generated, &numeric, 1e-6);
}

const TABLE: [f64; 5] = [0.5, -1.0, 2.0, 0.25, 1.5];

/// Index arithmetic, an inclusive range, a constant table, a `&Vec` argument and a nested local.
#[allow(clippy::ptr_arg)] // `&Vec` arguments are part of what is tested
#[backprop(wrt(x))]
fn index_arithmetic(x: &Vec<f64>, n: usize) -> f64 {
    let mut grid = [[0.0; 2]; 3];
    for r in 0..3 {
        for c in 0..2 {
            grid[r][c] = x[2 * r + c] * TABLE[r + c];
        }
    }
    let mut s = 0.0;
    for i in 0..=n - 1 {
        s += x[n - 1 - i] * (i + 1) as f64;
    }
    for r in (0..3).rev() {
        s += grid[r][0] * grid[r][1];
    }
    s
}

#[test]
fn index_arithmetic_tables_and_nested_locals_match_finite_differences() {
    let x = vec![0.3, -0.8, 1.1, 0.4, -0.2, 0.9];
    let (c, g) = index_arithmetic_grad(&x, 6);
    assert_eq!(c, index_arithmetic(&x, 6));
    let g: Vec<f64> = g.x;
    let numeric = numeric_gradient(|p| index_arithmetic(&p.to_vec(), 6), &x);
    assert_close("index arithmetic", &g, &numeric, 1e-6);
}

#[backprop]
fn f32_layer(w: &[[f32; 3]; 2], x: &[f32; 3]) -> f32 {
    let mut s = 0.0;
    for j in 0..2 {
        let mut z = 0.0;
        for i in 0..3 {
            z += w[j][i] * x[i];
        }
        s += z.tanh();
    }
    s
}

#[test]
fn f32_arrays_keep_their_type() {
    let w = [[0.1f32, -0.3, 0.5], [0.7, 0.2, -0.4]];
    let x = [1.0f32, -2.0, 0.5];
    let (c, g) = f32_layer_grad(&w, &x);
    let _: (f32, [[f32; 3]; 2], [f32; 3]) = (c, g.w, g.x);
    for j in 0..2 {
        let z: f32 = (0..3).map(|i| w[j][i] * x[i]).sum();
        let dz = 1.0 - z.tanh() * z.tanh();
        for i in 0..3 {
            assert!((g.w[j][i] - dz * x[i]).abs() < 1e-6, "w[{j}][{i}]");
        }
    }
}
