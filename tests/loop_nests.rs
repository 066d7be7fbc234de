//! Regressions from issue 7: shapes that real objectives (k-means, Gaussian mixtures, bundle
//! adjustment, hand tracking, layers after inner sums) are written in, each of which once gave a
//! silently wrong gradient or generated code that did not compile. Every gradient is checked
//! against central finite differences, and exact values are asserted where the math gives them.

// `y += y + x[i]` is the shape the issue reported, written as users write it.
#![allow(clippy::needless_range_loop, clippy::misrefactored_assign_op)]

use backprop::prelude::*;

/// Central differences of `f` at `x`, every coordinate, Richardson-extrapolated.
fn numeric_gradient(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let d = |h: f64| {
                let mut p = x.to_vec();
                p[i] = x[i] + h;
                let up = f(&p);
                p[i] = x[i] - h;
                let down = f(&p);
                (up - down) / (2.0 * h)
            };
            let h = 1e-4 * (1.0 + x[i].abs());
            (4.0 * d(h / 2.0) - d(h)) / 3.0
        })
        .collect()
}

fn assert_close(what: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= 1e-6 * (1.0 + e.abs()), "{what}[{i}]: generated {a} vs finite differences {e}");
    }
}

// ---- silent wrong gradients --------------------------------------------------------------------

#[backprop]
fn write_in_branch(x: f64, flag: bool) -> f64 {
    let mut k = [0.0; 1];
    if flag {
        k[0] = x;
    }
    k[0] * 3.0
}

#[test]
fn a_write_inside_a_branch_is_reversed() {
    assert_eq!(write_in_branch_grad(2.0, true), (6.0, WriteInBranchGrad { x: 3.0 }));
    assert_eq!(write_in_branch_grad(2.0, false), (0.0, WriteInBranchGrad { x: 0.0 }));
}

/// Bundle adjustment's shape: the rotated point stored in an array inside the `if` on the angle.
#[backprop(wrt(angle, p))]
fn rotate_in_branch(angle: f64, p: &[f64; 2]) -> f64 {
    let mut r = [0.0; 2];
    if angle.abs() > 1e-8 {
        r[0] = angle.cos() * p[0] - angle.sin() * p[1];
        r[1] = angle.sin() * p[0] + angle.cos() * p[1];
    } else {
        r[0] = p[0] - angle * p[1];
        r[1] = angle * p[0] + p[1];
    }
    r[0] * r[0] + 3.0 * r[1]
}

#[test]
fn rotation_stored_in_a_branch_matches_finite_differences() {
    for &(angle, p) in &[(0.3, [1.0, 2.0]), (-1.2, [0.5, -0.7]), (0.0, [2.0, 1.0])] {
        let (c, g) = rotate_in_branch_grad(angle, &p);
        assert_eq!(c, rotate_in_branch(angle, &p));
        let f = |v: &[f64]| rotate_in_branch(v[0], &[v[1], v[2]]);
        assert_close("rotate_in_branch", &[g.angle, g.p[0], g.p[1]], &numeric_gradient(f, &[angle, p[0], p[1]]));
    }
}

#[backprop]
fn guarded_sqrt(x: f64) -> f64 {
    let n = x.sqrt();
    if n > 0.0 {
        n
    } else {
        0.0
    }
}

#[backprop]
fn guarded_ln_product(x: f64, w: f64) -> f64 {
    let l = x.ln();
    let m = l * w;
    if x > 0.0 {
        m
    } else {
        0.0
    }
}

#[test]
fn a_value_only_the_untaken_branch_uses_contributes_zero() {
    assert_eq!(guarded_sqrt_grad(0.0), (0.0, GuardedSqrtGrad { x: 0.0 }));
    assert_eq!(guarded_sqrt_grad(4.0), (2.0, GuardedSqrtGrad { x: 0.25 }));
    // `l = -inf` at 0 and NaN below: neither reaches the gradient through the untaken branch.
    assert_eq!(guarded_ln_product_grad(0.0, 2.0).1, GuardedLnProductGrad { x: 0.0, w: 0.0 });
    assert_eq!(guarded_ln_product_grad(-1.0, 2.0).1, GuardedLnProductGrad { x: 0.0, w: 0.0 });
    let (_, g) = guarded_ln_product_grad(2.0, 3.0);
    assert_eq!((g.x, g.w), (1.5, 2.0_f64.ln()));
}

#[backprop]
fn doubling(x: &[f64; 3]) -> f64 {
    let mut y = 1.0;
    for i in 0..3 {
        y += y + x[i];
    }
    y
}

#[backprop]
fn self_scaling(w: f64, x: &[f64; 4]) -> f64 {
    let mut s = 1.0;
    for i in 0..4 {
        s += w * s * x[i];
    }
    s
}

#[backprop]
fn ratio_accumulator(w: f64, x: &[f64; 3]) -> f64 {
    let mut s = 1.0;
    for i in 0..3 {
        let a = w * x[i] / s;
        s += a;
    }
    s
}

#[test]
fn an_accumulator_that_reads_itself_is_not_fused() {
    // y = 8 + 4 x0 + 2 x1 + x2 - ... : dy/dx = [4, 2, 1].
    assert_eq!(doubling_grad(&[0.5, -1.0, 2.0]).1.x, [4.0, 2.0, 1.0]);
    let x = [0.5, -0.25, 0.75, 1.5];
    let (_, g) = self_scaling_grad(0.3, &x);
    let f = |v: &[f64]| self_scaling(v[0], &[v[1], v[2], v[3], v[4]]);
    assert_close(
        "self_scaling",
        &[g.w, g.x[0], g.x[1], g.x[2], g.x[3]],
        &numeric_gradient(f, &[0.3, 0.5, -0.25, 0.75, 1.5]),
    );
    let (_, g) = ratio_accumulator_grad(0.7, &[1.0, 2.0, 0.5]);
    let f = |v: &[f64]| ratio_accumulator(v[0], &[v[1], v[2], v[3]]);
    assert_close("ratio_accumulator", &[g.w, g.x[0], g.x[1], g.x[2]], &numeric_gradient(f, &[0.7, 1.0, 2.0, 0.5]));
}

/// A loop whose reverse reads an adjoint element that a *later* iteration adds to: its backward
/// iterations do not commute, so it must not be fused.
#[backprop]
fn neighbour_products(x: &[f64; 4]) -> f64 {
    let mut h = [0.0; 4];
    h[0] = x[0] * 2.0;
    let mut s = 0.0;
    for i in 1..4 {
        h[i] = x[i] * 2.0;
        s += h[i - 1] * h[i];
    }
    s
}

#[test]
fn a_loop_that_reads_a_later_iterations_adjoint_is_not_fused() {
    let x = [1.0, 2.0, 3.0, 4.0];
    // s = 4 (x0 x1 + x1 x2 + x2 x3).
    assert_eq!(neighbour_products_grad(&x).1.x, [8.0, 16.0, 24.0, 12.0]);
}

// ---- loop nests that generated invalid code ------------------------------------------------------

#[backprop(wrt(c))]
pub fn nearest(p: f64, c: &[f64; 6]) -> f64 {
    let mut best = (p - c[0]) * (p - c[0]);
    for k in 1..3 {
        let mut dist = 0.0;
        for j in 0..2 {
            let diff = c[k * 2 + j] - p;
            dist += diff * diff;
        }
        if dist < best {
            best = dist;
        }
    }
    best
}

#[test]
fn an_inner_loops_result_compared_after_it() {
    let p = 0.3;
    for c in [[2.0, 0.1, 0.4, 0.2, 0.35, -0.1], [0.31, 1.0, 1.0, 2.0, 0.2, 0.4], [5.0, 4.0, 3.0, 2.0, 0.0, 0.5]] {
        let (v, g) = nearest_grad(p, &c);
        assert_eq!(v, nearest(p, &c));
        let f = |x: &[f64]| nearest(p, &[x[0], x[1], x[2], x[3], x[4], x[5]]);
        assert_close("nearest", &g.c, &numeric_gradient(f, &c));
    }
}

/// The nearest centre as an index (`useful.rs`): the distances only choose it, the result reads
/// the chosen centre again.
#[backprop(wrt(c))]
pub fn nearest_index(p: &[f64], c: &[f64], k: usize, d: usize) -> f64 {
    let mut best = f64::INFINITY;
    let mut nearest = 0;
    for j in 0..k {
        let mut s = 0.0;
        for l in 0..d {
            let t = c[j * d + l] - p[l];
            s += t * t;
        }
        if s < best {
            best = s;
            nearest = j;
        }
    }
    let mut r = 0.0;
    for l in 0..d {
        let t = c[nearest * d + l] - p[l];
        r += t * t;
    }
    r
}

/// The same, with the nearest distance itself also used after the loop: `best` has an adjoint again.
#[backprop(wrt(c))]
pub fn nearest_index_scaled(p: &[f64], c: &[f64], k: usize, d: usize) -> f64 {
    let mut best = f64::INFINITY;
    let mut nearest = 0;
    for j in 0..k {
        let mut s = 0.0;
        for l in 0..d {
            let t = c[j * d + l] - p[l];
            s += t * t;
        }
        if s < best {
            best = s;
            nearest = j;
        }
    }
    let mut r = 0.0;
    for l in 0..d {
        let t = c[nearest * d + l] - p[l];
        r += t * t * (1.0 + 0.5 * best);
    }
    r
}

#[test]
fn an_index_chosen_by_comparisons_and_a_value_used_after_it() {
    let p = [0.3, -0.2];
    for c in [[2.0, 0.1, 0.4, 0.2, 0.35, -0.1], [0.31, 1.0, 1.0, 2.0, 0.2, 0.4], [5.0, 4.0, 3.0, 2.0, 0.0, 0.5]] {
        let (v, g) = nearest_index_grad(&p, &c, 3, 2);
        assert_eq!(v, nearest_index(&p, &c, 3, 2));
        let f = |x: &[f64]| nearest_index(&p, x, 3, 2);
        assert_close("nearest_index", &g.c, &numeric_gradient(f, &c));
        let (v, g) = nearest_index_scaled_grad(&p, &c, 3, 2);
        assert_eq!(v, nearest_index_scaled(&p, &c, 3, 2));
        let f = |x: &[f64]| nearest_index_scaled(&p, x, 3, 2);
        assert_close("nearest_index_scaled", &g.c, &numeric_gradient(f, &c));
    }
}

#[backprop(wrt(l))]
pub fn tri(l: &[f64], x: &[f64], d: usize, n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        let mut sq = 0.0;
        for r in 0..d {
            let mut v = x[i * d + r];
            for col in 0..r {
                v += l[r * d + col] * x[i * d + col];
            }
            sq += v * v;
        }
        s += sq.ln();
    }
    s
}

#[test]
fn a_triangular_inner_loop_with_its_value_used_after_it() {
    let (d, n) = (3, 4);
    let l: Vec<f64> = (0..d * d).map(|k| 0.1 * k as f64 - 0.3).collect();
    let x: Vec<f64> = (0..d * n).map(|k| ((k * 7 % 5) as f64 - 2.0) * 0.4 + 0.1).collect();
    let (v, g) = tri_grad(&l, &x, d, n);
    assert_eq!(v, tri(&l, &x, d, n));
    assert_close("tri", &g.l, &numeric_gradient(|p: &[f64]| tri(p, &x, d, n), &l));
}

#[backprop]
fn layer_sq(x: &[f64; 2]) -> f64 {
    let mut h = [0.0; 2];
    for j in 0..2 {
        let mut z = 0.0;
        for i in 0..2 {
            z += x[i] * (j as f64 + 1.0);
        }
        h[j] = z * z;
    }
    h[0] + h[1]
}

#[backprop]
fn layer_relu(w: &[[f64; 3]; 2], x: &[f64; 3]) -> f64 {
    let mut h = [0.0; 2];
    for j in 0..2 {
        let mut z = 0.0;
        for i in 0..3 {
            z += w[j][i] * x[i];
        }
        h[j] = relu(z) + z.max(0.1 * z);
        if z > 0.5 {
            h[j] += z * z;
        }
    }
    h[0] * h[1]
}

#[backprop]
fn product_of_sums(x: &[f64; 2]) -> f64 {
    let mut prod = 1.0;
    for _i in 0..2 {
        let mut z = 0.0;
        for j in 0..2 {
            z += x[j];
        }
        prod *= z;
    }
    prod
}

#[test]
fn a_layer_after_an_inner_sum() {
    let x = [0.5, -1.5];
    // h_j = ((j+1)(x0+x1))², sum = 5 (x0+x1)²: gradient 10 (x0+x1) each.
    assert_eq!(layer_sq_grad(&x).1.x, [-10.0, -10.0]);
    // prod = (x0+x1)²: gradient 2 (x0+x1) each.
    assert_eq!(product_of_sums_grad(&[0.75, 0.5]).1.x, [2.5, 2.5]);
    let w = [[0.3, -0.2, 0.8], [0.5, 0.9, -0.4]];
    let x3 = [1.0, 0.5, 0.7];
    let (v, g) = layer_relu_grad(&w, &x3);
    assert_eq!(v, layer_relu(&w, &x3));
    let f = |p: &[f64]| layer_relu(&[[p[0], p[1], p[2]], [p[3], p[4], p[5]]], &[p[6], p[7], p[8]]);
    let point = [w[0][0], w[0][1], w[0][2], w[1][0], w[1][1], w[1][2], x3[0], x3[1], x3[2]];
    let mut actual = g.w.concat();
    actual.extend(g.x);
    assert_close("layer_relu", &actual, &numeric_gradient(f, &point));
}

#[backprop]
fn int_if_in_loop(x: &[f64; 3]) -> f64 {
    let mut acc = [0.0; 3];
    acc[0] = x[0];
    for b in 1..3 {
        let p = if b == 1 { 0 } else { b - 1 };
        acc[b] = acc[p] * x[b];
    }
    acc[2]
}

#[test]
fn an_integer_chosen_by_an_if_in_a_loop() {
    // acc2 = x0 x1 x2.
    assert_eq!(int_if_in_loop_grad(&[2.0, 3.0, 5.0]).1.x, [15.0, 10.0, 6.0]);
}

#[backprop]
fn local_len_bound(x: &[f64; 3], scale: &[f64; 2]) -> f64 {
    let mut s = 1.0;
    for k in 0..2 {
        let mut h = [0.0; 3];
        for r in 0..h.len() {
            h[r] = x[r] * scale[k];
        }
        for r in 0..h.len() {
            s *= 1.0 + h[r] * h[r];
        }
    }
    s
}

#[test]
fn the_length_of_a_loop_local_array_as_an_inner_bound() {
    let (x, scale) = ([0.5, -0.3, 0.2], [1.5, 0.5]);
    let (v, g) = local_len_bound_grad(&x, &scale);
    assert_eq!(v, local_len_bound(&x, &scale));
    let f = |p: &[f64]| local_len_bound(&[p[0], p[1], p[2]], &[p[3], p[4]]);
    let mut actual = g.x.to_vec();
    actual.extend(g.scale);
    assert_close("local_len_bound", &actual, &numeric_gradient(f, &[0.5, -0.3, 0.2, 1.5, 0.5]));
}

#[backprop]
fn iter_squares(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for xi in x.iter() {
        s += xi * xi;
    }
    s
}

#[backprop]
fn iter_squares_array(x: &[f64; 3]) -> f64 {
    let mut s = 0.0;
    for xi in x.iter() {
        s += xi * xi;
    }
    s
}

#[test]
fn iter_without_enumerate() {
    assert_eq!(iter_squares_grad(&[1.0, -2.0, 0.5]).1.x, vec![2.0, -4.0, 1.0]);
    assert_eq!(iter_squares_array_grad(&[1.0, -2.0, 0.5]).1.x, [2.0, -4.0, 1.0]);
}
