//! Each eval's outputs against values computed independently of `#[backprop]`: closed forms
//! (`hello`, `lse`, `llsq`, `ode`'s exact solution for one step of a linear chain) and central
//! finite differences of the plain-Rust primal (`ode`, `gmm`, `lstm`), plus `gmm`'s objective
//! against the direct formula with explicit precision matrices.

#![allow(clippy::needless_range_loop)]

use backprop_gradbench::evals::{gmm, hello, llsq, lse, lstm, ode};

mod common;
use common::Rng;

/// Central differences with Richardson extrapolation (error O(h⁴)).
fn finite_differences(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let d = |h: f64| {
                let mut p = x.to_vec();
                p[i] = x[i] + h;
                let up = f(&p);
                p[i] = x[i] - h;
                (up - f(&p)) / (2.0 * h)
            };
            let h = 1e-3 * (1.0 + x[i].abs());
            (4.0 * d(h / 2.0) - d(h)) / 3.0
        })
        .collect()
}

fn assert_close(what: &str, actual: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= tol * (1.0 + e.abs()), "{what}[{i}]: {a} vs {e}");
    }
}

#[test]
fn hello_square_and_double() {
    assert_eq!(hello::square(3.0), 9.0);
    assert_eq!(hello::double(3.0), 6.0);
    assert_eq!(hello::double(-0.25), -0.5);
}

#[test]
fn lse_is_log_sum_exp_and_its_gradient_softmax() {
    let mut rng = Rng(1);
    let x = rng.vec(50, -100.0, 100.0);
    let expected: f64 = {
        let a = x.iter().copied().fold(f64::MIN, f64::max);
        a + x.iter().map(|v| (v - a).exp()).sum::<f64>().ln()
    };
    assert!((lse::lse(&x) - expected).abs() < 1e-12 * expected.abs());
    let softmax: Vec<f64> = x.iter().map(|v| (v - expected).exp()).collect();
    assert_close("lse gradient", &lse::gradient(&x), &softmax, 1e-12);
    // A tie at the maximum: the gradient is still the softmax.
    let tie = [1.0, 3.0, 3.0, -2.0];
    let z = lse::lse(&tie);
    let softmax: Vec<f64> = tie.iter().map(|v| (v - z).exp()).collect();
    assert_close("lse gradient at a tie", &lse::gradient(&tie), &softmax, 1e-12);
    // Lengths around the four partial sums and the rule's chunks of 8, the maximum anywhere.
    for n in [1, 2, 3, 5, 7, 9, 13, 17, 37] {
        let x = rng.vec(n, -5.0, 5.0);
        let z = lse::lse(&x);
        let a = x.iter().copied().fold(f64::MIN, f64::max);
        assert!((z - (a + x.iter().map(|v| (v - a).exp()).sum::<f64>().ln())).abs() < 1e-12 * (1.0 + z.abs()));
        let softmax: Vec<f64> = x.iter().map(|v| (v - z).exp()).collect();
        assert_close(&format!("lse gradient, n = {n}"), &lse::gradient(&x), &softmax, 1e-12);
    }
}

#[test]
fn llsq_gradient_is_the_normal_equations_residual() {
    let mut rng = Rng(2);
    // n mod 4 = 0, 1, 3 and n < 4: the four-point blocks and the one-point tail.
    for (n, m) in [(16, 8), (33, 5), (7, 1), (3, 4)] {
        let x = rng.vec(m, 0.0, 1.0);
        // ∂y/∂xⱼ = −Σᵢ rᵢ tᵢʲ with rᵢ = sᵢ − Σⱼ xⱼ tᵢʲ (and sign(0) = 0 at the middle of odd n).
        let mut value = 0.0;
        let mut grad = vec![0.0; m];
        for i in 0..n {
            let t = -1.0 + i as f64 * 2.0 / (n - 1) as f64;
            let s = if t > 0.0 {
                1.0
            } else if t < 0.0 {
                -1.0
            } else {
                0.0
            };
            let r = s - (0..m).map(|j| x[j] * t.powi(j as i32)).sum::<f64>();
            value += 0.5 * r * r;
            for j in 0..m {
                grad[j] -= r * t.powi(j as i32);
            }
        }
        assert!((llsq::llsq(&x, n) - value).abs() < 1e-10 * (1.0 + value.abs()), "n={n} m={m}");
        assert_close("llsq gradient", &llsq::gradient(&x, n), &grad, 1e-10);
    }
}

#[test]
fn ode_primal_and_gradient() {
    // y₀ = x₀ t; with n = 2, y₁ = x₁ x₀ t²/2 is quadratic, which RK4 integrates exactly (t = 2).
    let y = ode::primal(&[0.7, 0.3], 3);
    assert_close("ode primal", &y, &[1.4, 0.3 * 0.7 * 4.0 / 2.0], 1e-13);
    let mut rng = Rng(3);
    for (n, s) in [(2, 1), (5, 3), (12, 10)] {
        let x = rng.vec(n, 0.0, 1.0);
        let last = ode::primal(&x, s)[n - 1];
        assert!((ode::ode_last(&x, s) - last).abs() <= 1e-15 * (1.0 + last.abs()));
        let fd = finite_differences(|p| ode::primal(p, s)[n - 1], &x);
        assert_close("ode gradient", &ode::gradient(&x, s), &fd, 1e-8);
    }
}

fn gmm_input(seed: u64, d: usize, k: usize, n: usize, m: usize, gamma: f64) -> gmm::Input {
    let mut rng = Rng(seed);
    gmm::Input {
        d,
        k,
        n,
        m,
        gamma,
        alpha: rng.vec(k, -1.0, 1.0),
        mu: rng.vec(k * d, 0.0, 1.0),
        q: rng.vec(k * d, -1.0, 1.0),
        l: rng.vec(k * d * (d - 1) / 2, -1.0, 1.0),
        x: rng.vec(n * d, -1.5, 1.5),
    }
}

/// The log posterior from its definition: explicit Q, Σ⁻¹ = QᵀQ, Gaussian densities, Wishart
/// prior with V = I/γ², log Γ_D by the half-integer recurrence written out again.
fn gmm_naive(g: &gmm::Input) -> f64 {
    let (d, k) = (g.d, g.k);
    let pi = std::f64::consts::PI;
    let lsz = d * (d - 1) / 2;
    let qm = |c: usize| {
        let mut qmat = vec![vec![0.0; d]; d];
        let mut idx = 0;
        for j in 0..d {
            qmat[j][j] = g.q[c * d + j].exp();
            for i in j + 1..d {
                qmat[i][j] = g.l[c * lsz + idx];
                idx += 1;
            }
        }
        qmat
    };
    let asum: f64 = g.alpha.iter().map(|a| a.exp()).sum();
    let mut log_lik = 0.0;
    for ix in 0..g.n {
        let mut p = 0.0;
        for c in 0..k {
            let qmat = qm(c);
            let diff: Vec<f64> = (0..d).map(|j| g.x[ix * d + j] - g.mu[c * d + j]).collect();
            let qd: Vec<f64> = (0..d).map(|i| (0..d).map(|j| qmat[i][j] * diff[j]).sum()).collect();
            let quad: f64 = qd.iter().map(|v| v * v).sum();
            let det_q: f64 = (0..d).map(|j| qmat[j][j]).product();
            p += g.alpha[c].exp() / asum * (-0.5 * quad).exp() * det_q / (2.0 * pi).powf(d as f64 / 2.0);
        }
        log_lik += p.ln();
    }
    let nn = (d + g.m + 1) as f64;
    let lgamma = |x: f64| {
        // ln Γ at a half-integer, by Γ(x) = (x − 1)Γ(x − 1).
        let (mut v, mut acc) = (x, 0.0);
        while v > 1.0 + 1e-9 {
            v -= 1.0;
            acc += f64::ln(v);
        }
        if (v - 0.5).abs() < 1e-9 {
            acc + 0.5 * pi.ln()
        } else {
            acc
        }
    };
    let ln_mvgamma =
        (d * (d - 1)) as f64 / 4.0 * pi.ln() + (1..=d).map(|j| lgamma(nn / 2.0 + (1.0 - j as f64) / 2.0)).sum::<f64>();
    let mut log_prior = 0.0;
    for c in 0..k {
        let qmat = qm(c);
        // X = QᵀQ: ln det X = 2 Σ q, tr(V⁻¹ X) = γ² ‖Q‖²_F, ln det V = −2D ln γ.
        let logdet_x = 2.0 * (0..d).map(|j| g.q[c * d + j]).sum::<f64>();
        let frob: f64 = qmat.iter().flatten().map(|v| v * v).sum();
        log_prior += (nn - d as f64 - 1.0) / 2.0 * logdet_x
            - g.gamma * g.gamma * frob / 2.0
            - nn * d as f64 / 2.0 * 2f64.ln()
            - nn / 2.0 * (-2.0 * d as f64 * g.gamma.ln())
            - ln_mvgamma;
    }
    log_lik + log_prior
}

#[test]
fn gmm_objective_matches_the_definition_and_gradient_finite_differences() {
    for (seed, d, k, n, m, gamma) in [(4, 2, 3, 5, 0, 1.0), (5, 3, 2, 4, 2, 0.7), (6, 1, 2, 3, 1, 1.3)] {
        let g = gmm_input(seed, d, k, n, m, gamma);
        let naive = gmm_naive(&g);
        assert!((g.objective() - naive).abs() < 1e-9 * (1.0 + naive.abs()), "{} vs {naive}", g.objective());
        let [ga, gm, gq, gl] = g.jacobian();
        let with = |which: usize, v: &[f64]| {
            let mut h = gmm_input(seed, d, k, n, m, gamma);
            match which {
                0 => h.alpha = v.to_vec(),
                1 => h.mu = v.to_vec(),
                2 => h.q = v.to_vec(),
                _ => h.l = v.to_vec(),
            }
            h.objective()
        };
        assert_close("gmm alpha", &ga, &finite_differences(|v| with(0, v), &g.alpha), 1e-7);
        assert_close("gmm mu", &gm, &finite_differences(|v| with(1, v), &g.mu), 1e-7);
        assert_close("gmm q", &gq, &finite_differences(|v| with(2, v), &g.q), 1e-7);
        assert_close("gmm l", &gl, &finite_differences(|v| with(3, v), &g.l), 1e-7);
    }
}

/// The width buckets of `gmm`'s rows (`d` up to 4, 8, 16) with several blocks of points, the last
/// one partial, against the flat packed form (any `d`), and both against finite differences.
#[test]
fn gmm_row_widths_and_blocks_match_the_flat_form() {
    for (seed, d, k, n, m, gamma) in [(7, 5, 3, 11, 1, 0.9), (8, 9, 2, 17, 0, 1.1), (9, 4, 4, 8, 2, 1.0)] {
        let g = gmm_input(seed, d, k, n, m, gamma);
        let naive = gmm_naive(&g);
        assert!((g.objective() - naive).abs() < 1e-9 * (1.0 + naive.abs()), "{} vs {naive}", g.objective());
        assert!((g.objective_flat() - naive).abs() < 1e-9 * (1.0 + naive.abs()));
        let rows = g.jacobian();
        let flat = g.jacobian_flat();
        for (name, (a, b)) in ["alpha", "mu", "q", "l"].iter().zip(rows.iter().zip(&flat)) {
            assert_close(&format!("gmm {name} rows vs flat"), a, b, 1e-10);
        }
        let with = |which: usize, v: &[f64]| {
            let mut h = gmm_input(seed, d, k, n, m, gamma);
            match which {
                0 => h.alpha = v.to_vec(),
                1 => h.mu = v.to_vec(),
                2 => h.q = v.to_vec(),
                _ => h.l = v.to_vec(),
            }
            h.objective_flat()
        };
        assert_close("gmm mu", &rows[1], &finite_differences(|v| with(1, v), &g.mu), 1e-7);
        assert_close("gmm l", &rows[3], &finite_differences(|v| with(3, v), &g.l), 1e-7);
    }
}

#[test]
fn lstm_gradient_finite_differences() {
    let mut rng = Rng(7);
    for (l, c, b) in [(1, 3, 2), (2, 4, 3)] {
        let input = lstm::Input {
            l,
            c,
            b,
            main: rng.vec(8 * l * b, 0.0, 1.0),
            extra: rng.vec(3 * b, 0.0, 1.0),
            state: rng.vec(2 * l * b, 0.0, 1.0),
            seq: (0..c * b).map(|_| (rng.next() * 2.0).floor()).collect(),
        };
        let all: Vec<f64> = input.main.iter().chain(&input.extra).copied().collect();
        let f = |p: &[f64]| {
            let (main, extra) = p.split_at(8 * l * b);
            lstm::objective(main, extra, &input.state, &input.seq, l, c, b)
        };
        assert_close("lstm jacobian", &input.jacobian(), &finite_differences(f, &all), 1e-8);
    }
}

/// The determinant by Gaussian elimination with partial pivoting: an independent algorithm.
fn det_lu(a: &[f64], n: usize) -> f64 {
    let mut m = a.to_vec();
    let mut det = 1.0;
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| m[i * n + c].abs().total_cmp(&m[j * n + c].abs())).unwrap();
        if p != c {
            for k in 0..n {
                m.swap(p * n + k, c * n + k);
            }
            det = -det;
        }
        det *= m[c * n + c];
        for r in c + 1..n {
            let f = m[r * n + c] / m[c * n + c];
            for k in c..n {
                m[r * n + k] -= f * m[c * n + k];
            }
        }
    }
    det
}

#[test]
fn det_by_minors_matches_elimination_and_cofactors() {
    use backprop_gradbench::evals::det;
    assert_eq!(det::primal(&[2.0], 1), Some(2.0));
    assert_eq!(det::primal(&[1.0, 2.0, 3.0, 4.0], 2), Some(-2.0));
    assert_eq!(det::gradient(&[1.0, 2.0, 3.0, 4.0], 2), Some(vec![4.0, -3.0, -2.0, 1.0]));
    let mut rng = Rng(8);
    for n in [3, 4, 5] {
        let a = rng.vec(n * n, -1.0, 1.0);
        let d = det::primal(&a, n).unwrap();
        assert!((d - det_lu(&a, n)).abs() < 1e-12, "ℓ={n}: {d} vs {}", det_lu(&a, n));
        // ∂det/∂Aᵢⱼ is the cofactor: det A · (A⁻¹)ⱼᵢ, here by finite differences of elimination.
        let fd = finite_differences(|p| det_lu(p, n), &a);
        assert_close("det gradient", &det::gradient(&a, n).unwrap(), &fd, 1e-9);
    }
    assert_eq!(det::primal(&[1.0; 289], 17), None);
}
