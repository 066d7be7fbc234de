//! `a[i] += e` and `a[i] -= e` on local arrays: the reverse passes `±d_a[i]` to `e` and leaves
//! `d_a[i]` as it is (the old element's adjoint is the new one's), instead of clearing it and adding
//! it back; and a backward loop that only reads an adjoint array runs in forward order. Checked
//! against central finite differences on the shapes where that could go wrong: the element read
//! again in `e` (`h[i] += h[j]` with `j == i` for some `i`), the commuted `h[i] = e + h[i]`, a
//! store between the read and the write, accumulation into a buffer a later loop reads (the
//! `Q (x − μ)` shape of GradBench's `gmm`), and the update inside a branch.

#![allow(clippy::needless_range_loop, clippy::assign_op_pattern, clippy::manual_memcpy)]

mod common;

use backprop::prelude::*;
use common::check_fd;

#[backprop]
fn aliased(x: &[f64]) -> f64 {
    let n = x.len();
    let mut h = vec![0.0; n];
    for i in 0..n {
        h[i] += x[i] * x[i];
    }
    // `h[n − 1 − i]` is `h[i]` itself in the middle of an odd length.
    for i in 0..n {
        h[i] += h[n - 1 - i] * x[i];
        h[i] -= 0.5 * x[(i + 1) % n];
    }
    let mut s = 0.0;
    for i in 0..n {
        s += h[i] * h[i];
    }
    s
}

#[backprop]
fn commuted_and_interrupted(x: &[f64]) -> f64 {
    let n = x.len();
    let mut h = vec![0.0; n];
    for i in 0..n {
        h[i] = x[i].sin() + h[i];
        h[i] = h[i] + h[i];
        // A store to another element between the read of `h[i]` and its write.
        let old = h[i];
        h[(i + 1) % n] = h[(i + 1) % n] * 0.5;
        h[i] = old - x[i] * old;
    }
    let mut s = 0.0;
    for i in 0..n {
        s += h[i] * x[i];
    }
    s
}

/// A buffer accumulated row by row, then read by a later loop: the backward sweep of the first
/// loop only reads the buffer's adjoint.
#[backprop(wrt(q, mu))]
fn quadratic_forms(q: &[f64], mu: &[f64], x: &[f64], d: usize, n: usize) -> f64 {
    let mut total = 0.0;
    for ix in 0..n {
        let mut xc = vec![0.0; d];
        for i in 0..d {
            xc[i] += x[ix * d + i] - mu[i];
        }
        let mut qx = vec![0.0; d];
        for j in 0..d {
            let mut v = 0.0;
            for i in 0..j + 1 {
                v += q[j * d + i] * xc[i];
            }
            qx[j] += v;
        }
        let mut sq = 0.0;
        for j in 0..d {
            sq += qx[j] * qx[j];
        }
        total += (-0.5 * sq).exp();
    }
    total
}

#[backprop]
fn in_branches(x: &[f64]) -> f64 {
    let n = x.len();
    let mut h = vec![0.0; n];
    for i in 0..n {
        if x[i] > 0.0 {
            h[i] += x[i].exp();
        } else {
            h[i] -= x[i] * x[i];
        }
        h[i] += h[i] * x[(i + 2) % n];
    }
    let mut s = 0.0;
    for i in 0..n {
        s += h[i].tanh();
    }
    s
}

/// `h[m + 1]` read, then `h[3 − m]` (the same element for `m = 1`) accumulated with a term of a value
/// from outside the loop: the adjoint read for the update must happen before the read's own
/// accumulation into `d_h`, though the term's contribution is summed at the end of the body
/// (`random_nests_2`'s `nest_88` found it).
#[backprop]
fn read_then_accumulated_elsewhere(x: &[f64], m: usize) -> f64 {
    let mut h = [0.0; 4];
    for i in 0..4 {
        h[i] = x[i];
    }
    let t = x[4] * x[4];
    let mut p = 1.0;
    for _ in 0..3 {
        p *= 0.75 + 0.5 * (h[m + 1] * h[m + 1] + 1.0).sqrt();
        h[3 - m] += t.tanh();
    }
    p + h[0] + h[1] + h[2] + h[3]
}

fn points(n: usize) -> Vec<Vec<f64>> {
    // Away from 0, where `in_branches` jumps.
    (0..4).map(|p| (0..n).map(|i| ((i * 7 + p * 3) as f64 * 0.37).sin() * 1.3 + 0.05).collect()).collect()
}

#[test]
fn accumulation_in_place_matches_finite_differences() {
    for n in [1, 2, 3, 5, 8] {
        for x in points(n) {
            check_fd("aliased", &["x"], &x, &|v: &[f64]| aliased(v), &aliased_grad(&x).1.x);
            let g = commuted_and_interrupted_grad(&x).1.x;
            check_fd("commuted_and_interrupted", &["x"], &x, &|v: &[f64]| commuted_and_interrupted(v), &g);
            check_fd("in_branches", &["x"], &x, &|v: &[f64]| in_branches(v), &in_branches_grad(&x).1.x);
        }
    }
}

#[test]
fn an_update_after_a_read_of_the_same_element_matches_finite_differences() {
    for m in [0, 1, 2] {
        for x in points(5) {
            let g = read_then_accumulated_elsewhere_grad(&x, m).1.x;
            check_fd(
                "read_then_accumulated_elsewhere",
                &["x"],
                &x,
                &|v: &[f64]| read_then_accumulated_elsewhere(v, m),
                &g,
            );
        }
    }
}

#[test]
fn a_buffer_accumulated_then_read_matches_finite_differences() {
    for (d, n) in [(1, 2), (3, 4), (4, 3)] {
        let q: Vec<f64> = (0..d * d).map(|i| (i as f64 * 0.61).cos() * 0.8).collect();
        let mu: Vec<f64> = (0..d).map(|i| (i as f64 * 0.9).sin() * 0.5).collect();
        let x: Vec<f64> = (0..n * d).map(|i| (i as f64 * 0.47).sin()).collect();
        let (value, g) = quadratic_forms_grad(&q, &mu, &x, d, n);
        assert_eq!(value, quadratic_forms(&q, &mu, &x, d, n));
        check_fd("quadratic_forms", &["q"], &q, &|v: &[f64]| quadratic_forms(v, &mu, &x, d, n), &g.q);
        check_fd("quadratic_forms", &["mu"], &mu, &|v: &[f64]| quadratic_forms(&q, v, &x, d, n), &g.mu);
    }
}
