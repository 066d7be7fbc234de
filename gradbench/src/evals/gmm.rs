//! `gmm`: the log posterior of a Gaussian mixture with a Wishart prior on the precision matrices,
//! written as the eval's README simplifies it (`Q = diag(exp q) + strictly lower l`, column by
//! column; log-sum-exp with the max shift). The `jacobian` is the generated gradient with respect
//! to `alpha`, `mu`, `q`, `l` (all flattened row after row).
//!
//! Two formulations of the same objective: [`objective_rows`] for `d ≤ 64` (what [`Input`] runs;
//! rows of `Q` in `[f64; D]`, `D` a power of two, points in blocks of 8 as lanes) and the flat
//! [`objective`] (packed triangles, point after point) for any `d`. What made the rows form
//! 0.2–0.9× GradBench's `manual` where the flat one was 0.75–3× (1.3–1.9× at `d ≥ 32`): no bounds
//! checks in the inner loops (a row is a fixed-size array read below its diagonal), `x − μ` once
//! per point and component, each `Q` entry multiplying 8 points at once (no reduction chain) and
//! reused from cache across them (in the reverse too), no tape (buffers accumulated with `+=`, so
//! the backward loops run forward), and the log-sum-exp's terms below `e^−700` left out (the sum
//! is the same to the bit; their subnormal adjoints had made `d = 64` 2.4× slower).

// `manual_div_ceil`: `#[backprop]` knows no integer methods, so `(n + P − 1) / P` stays written out.
#![allow(clippy::needless_range_loop, clippy::too_many_arguments, clippy::manual_div_ceil)]

use backprop::prelude::*;

/// `ln Γ(x)` for `x` a positive multiple of ½ (all `log_gamma_distrib` needs), by the recurrence
/// `Γ(x) = (x − 1) Γ(x − 1)` from `Γ(1) = 1`, `Γ(½) = √π`.
fn ln_gamma_half(x: f64) -> f64 {
    let mut v = x;
    let mut acc = 0.0;
    while v > 1.0 + 1e-9 {
        v -= 1.0;
        acc += v.ln();
    }
    if (v - 0.5).abs() < 1e-9 {
        acc + 0.5 * std::f64::consts::PI.ln()
    } else {
        acc
    }
}

/// `ln Γ_p(a)`, the multivariate gamma function (a constant of the prior).
fn log_gamma_distrib(a: f64, p: usize) -> f64 {
    let pf = p as f64;
    let mut out = 0.25 * pf * (pf - 1.0) * std::f64::consts::PI.ln();
    for j in 1..=p {
        out += ln_gamma_half(a + 0.5 * (1.0 - j as f64));
    }
    out
}

/// The data-only constant of the objective: `−N D/2 ln 2π + K (n D (ln γ − ½ ln 2) − ln Γ_D(n/2))`.
pub fn constant(d: usize, k: usize, n: usize, m: usize, gamma: f64) -> f64 {
    let nn = (d + m + 1) as f64;
    let df = d as f64;
    let c = nn * df * (gamma.ln() - 0.5 * 2f64.ln()) - log_gamma_distrib(0.5 * nn, d);
    -(n as f64) * df * 0.5 * (2.0 * std::f64::consts::PI).ln() + k as f64 * c
}

#[backprop(wrt(alpha, mu, q, l))]
pub fn objective(
    alpha: &[f64],
    mu: &[f64],
    q: &[f64],
    l: &[f64],
    x: &[f64],
    d: usize,
    k: usize,
    n: usize,
    m: usize,
    gamma: f64,
    constant: f64,
) -> f64 {
    let lsz = d * (d - 1) / 2;
    let tri = d * (d + 1) / 2;
    // Each component's `Q` (its lower triangle packed row after row: row `j` starts at `j(j+1)/2`)
    // and `Σⱼ qⱼ = ln det Q`, once per call rather than once per point: the point loop then reads
    // `Q`'s row `j` contiguously (and its adjoint accumulates contiguously), where `l`'s column order
    // would stride by `d − i`; packed, `Q` and its adjoint take no more memory than `l`.
    let mut qmat = vec![0.0; k * tri];
    let mut sum_q = vec![0.0; k];
    for ik in 0..k {
        let mut sq = 0.0;
        for j in 0..d {
            qmat[ik * tri + j * (j + 1) / 2 + j] = q[ik * d + j].exp();
            sq += q[ik * d + j];
        }
        sum_q[ik] = sq;
        for i in 0..d {
            for j in i + 1..d {
                qmat[ik * tri + j * (j + 1) / 2 + i] = l[ik * lsz + i * d - i * (i + 1) / 2 + j - i - 1];
            }
        }
    }
    let mut amx = alpha[0];
    for ik in 1..k {
        amx = amx.max(alpha[ik]);
    }
    let mut ase = 0.0;
    for ik in 0..k {
        ase += (alpha[ik] - amx).exp();
    }
    let lse_alpha = ase.ln() + amx;
    // The Wishart prior: −Σₖ (γ²/2 ‖Qₖ‖²_F − m Σⱼ qₖⱼ).
    let mut prior = 0.0;
    for ik in 0..k {
        let mut frob = 0.0;
        for j in 0..tri {
            frob += qmat[ik * tri + j] * qmat[ik * tri + j];
        }
        prior += 0.5 * gamma * gamma * frob - (m as f64) * sum_q[ik];
    }
    // The data term last: its loop is then the first thing the backward sweep runs, so each point's
    // reverse can run right after its forward (no tape of the point loop's intermediates).
    let mut slse = 0.0;
    for ix in 0..n {
        let mut main = vec![0.0; k];
        for ik in 0..k {
            // ‖Q (x − μ)‖², row `j` of `Q` against `x − μ` up to the diagonal.
            let mut sqn = 0.0;
            for j in 0..d {
                let mut v = 0.0;
                for i in 0..j + 1 {
                    v += qmat[ik * tri + j * (j + 1) / 2 + i] * (x[ix * d + i] - mu[ik * d + i]);
                }
                sqn += v * v;
            }
            main[ik] = alpha[ik] + sum_q[ik] - 0.5 * sqn;
        }
        let mut mx = main[0];
        for ik in 1..k {
            mx = mx.max(main[ik]);
        }
        let mut se = 0.0;
        for ik in 0..k {
            // Terms below e^−700 left out, as in `objective_rows` (the sum is the same to the bit).
            let t = main[ik] - mx;
            if t > -700.0 {
                se += t.exp();
            }
        }
        slse += se.ln() + mx;
    }
    constant + slse - (n as f64) * lse_alpha - prior
}

/// Points per block of [`objective_rows`]'s data term.
const P: usize = 8;

/// [`objective`] with each row of each component's `Q` in a fixed-size array `[f64; D]`, for
/// `d ≤ D` (the caller, [`Input`], picks `D`, a power of two), and the points in blocks of [`P`].
/// The same terms, summed in another order. What changes is what the compiler knows and what stays
/// in cache: row `j` is read up to its diagonal, `i ≤ j < d ≤ D`, so the inner loops index a
/// `[f64; D]` without bounds checks (over the flat packed triangle they kept three bounds checks and
/// a subtraction per element: 1.3–1.9× GradBench's `manual` at `d ≥ 32`); and each component's `Q`
/// and adjoint are swept once per block, not once per point.
#[backprop(wrt(alpha, mu, q, l))]
fn objective_rows<const D: usize>(
    alpha: &[f64],
    mu: &[f64],
    q: &[f64],
    l: &[f64],
    x: &[f64],
    d: usize,
    k: usize,
    n: usize,
    m: usize,
    gamma: f64,
    constant: f64,
) -> f64 {
    // `d` itself (the caller guarantees `d ≤ D`), written so that the compiler sees `dd ≤ D`.
    let dd = d.min(D);
    let lsz = dd * (dd - 1) / 2;
    // Row `j` of component `c`'s `Q` at `qrows[c d + j]`, entries `0..=j` (the rest stay zero).
    let mut qrows = vec![[0.0; D]; k * d];
    let mut sum_q = vec![0.0; k];
    for ik in 0..k {
        let mut sq = 0.0;
        for j in 0..dd {
            qrows[ik * dd + j][j] = q[ik * dd + j].exp();
            sq += q[ik * dd + j];
        }
        sum_q[ik] = sq;
        for i in 0..dd {
            for j in i + 1..dd {
                qrows[ik * dd + j][i] = l[ik * lsz + i * dd - i * (i + 1) / 2 + j - i - 1];
            }
        }
    }
    let mut amx = alpha[0];
    for ik in 1..k {
        amx = amx.max(alpha[ik]);
    }
    let mut ase = 0.0;
    for ik in 0..k {
        ase += (alpha[ik] - amx).exp();
    }
    let lse_alpha = ase.ln() + amx;
    // The Wishart prior: −Σₖ (γ²/2 ‖Qₖ‖²_F − m Σⱼ qₖⱼ), each sum over all components at once (the
    // zeros above the diagonals add nothing).
    let mut frob = 0.0;
    for r in 0..k * dd {
        for i in 0..D {
            frob += qrows[r][i] * qrows[r][i];
        }
    }
    let mut all_q = 0.0;
    for ik in 0..k {
        all_q += sum_q[ik];
    }
    let prior = 0.5 * gamma * gamma * frob - (m as f64) * all_q;
    // The data term last, over blocks of `P` points: the block loop is then the first thing the
    // backward sweep runs, so each block's reverse runs right after its forward (no tape of the
    // point loop's intermediates). Within a block, component after component: each component's `Q`
    // (and in the reverse its adjoint) is read from memory once per block and stays in cache for the
    // block's points, where point after point swept all of them (megabytes at `d = 64, k = 100`).
    let mut slse = 0.0;
    let nb = (n + P - 1) / P;
    for b in 0..nb {
        let lo = b * P;
        let np = (n - lo).min(P);
        // `x − μ` and `Q (x − μ)` of component `c` and the block's points: entry `i` of `c` at
        // `[c d + i]`, lane `p` (the lanes past the last point stay zero and never reach the
        // result). Each `Q` entry then multiplies `P` points at once (independent lanes, no
        // reduction chain), and `x − μ` is computed once per point and component. Added into zeroed
        // buffers rather than assigned, and `main` likewise: the reverse then only reads their
        // adjoints, so its loops run forward through `Q` and its adjoint and vectorise.
        let mut xc = vec![[0.0; P]; k * d];
        for ik in 0..k {
            for i in 0..dd {
                for p in 0..np {
                    xc[ik * dd + i][p] += x[(lo + p) * dd + i] - mu[ik * dd + i];
                }
            }
        }
        let mut qx = vec![[0.0; P]; k * d];
        for ik in 0..k {
            for j in 0..dd {
                // Row `j` of `Q` against `x − μ` up to the diagonal.
                let mut v = [0.0; P];
                for i in 0..j + 1 {
                    let qji = qrows[ik * dd + j][i];
                    for p in 0..P {
                        v[p] += qji * xc[ik * dd + i][p];
                    }
                }
                for p in 0..P {
                    qx[ik * dd + j][p] += v[p];
                }
            }
        }
        let mut main = vec![0.0; k * P];
        for ik in 0..k {
            // ‖Q (x − μ)‖².
            let mut sqn = [0.0; P];
            for j in 0..dd {
                for p in 0..P {
                    sqn[p] += qx[ik * dd + j][p] * qx[ik * dd + j][p];
                }
            }
            for p in 0..P {
                main[ik * P + p] += alpha[ik] + sum_q[ik] - 0.5 * sqn[p];
            }
        }
        for p in 0..np {
            let mut mx = main[p];
            for ik in 1..k {
                mx = mx.max(main[ik * P + p]);
            }
            let mut se = 0.0;
            for ik in 0..k {
                // A term below e^−700 (1e−304) cannot change `se ≥ 1` (the maximum's term is 1):
                // left out, the sum is the same to the bit, and the term's adjoint, a few factors
                // from the subnormal range, no longer reaches that component's reverse sweep, where
                // each multiply by a subnormal takes a microcode assist (at d = 64 most points have
                // components that far below their best one: 2.4× the whole gradient).
                let t = main[ik * P + p] - mx;
                if t > -700.0 {
                    se += t.exp();
                }
            }
            slse += se.ln() + mx;
        }
    }
    constant + slse - (n as f64) * lse_alpha - prior
}

/// The parsed input: independent variables and data, flat row after row.
pub struct Input {
    pub d: usize,
    pub k: usize,
    pub n: usize,
    pub m: usize,
    pub gamma: f64,
    pub alpha: Vec<f64>,
    pub mu: Vec<f64>,
    pub q: Vec<f64>,
    pub l: Vec<f64>,
    pub x: Vec<f64>,
}

/// Calls `$body` with `D` the smallest power of two (4 at least) that holds a row of `Q`, or runs
/// `$flat` for `d > 64`.
macro_rules! by_width {
    ($d:expr, $D:ident => $body:expr, $flat:expr) => {
        match $d {
            0..=4 => {
                const $D: usize = 4;
                $body
            }
            5..=8 => {
                const $D: usize = 8;
                $body
            }
            9..=16 => {
                const $D: usize = 16;
                $body
            }
            17..=32 => {
                const $D: usize = 32;
                $body
            }
            33..=64 => {
                const $D: usize = 64;
                $body
            }
            _ => $flat,
        }
    };
}

impl Input {
    pub fn objective(&self) -> f64 {
        let c = constant(self.d, self.k, self.n, self.m, self.gamma);
        let (a, mu, q, l, x) = (&self.alpha, &self.mu, &self.q, &self.l, &self.x);
        let (d, k, n, m, g) = (self.d, self.k, self.n, self.m, self.gamma);
        by_width!(d, D => objective_rows::<D>(a, mu, q, l, x, d, k, n, m, g, c), self.objective_flat())
    }

    /// Gradients of `alpha`, `mu`, `q`, `l` (flat).
    pub fn jacobian(&self) -> [Vec<f64>; 4] {
        let c = constant(self.d, self.k, self.n, self.m, self.gamma);
        let (a, mu, q, l, x) = (&self.alpha, &self.mu, &self.q, &self.l, &self.x);
        let (d, k, n, m, g) = (self.d, self.k, self.n, self.m, self.gamma);
        by_width!(
            d,
            D => {
                let g = objective_rows_grad::<D>(a, mu, q, l, x, d, k, n, m, g, c).1;
                [g.alpha, g.mu, g.q, g.l]
            },
            self.jacobian_flat()
        )
    }

    /// The objective by [`objective`] (packed triangles, any `d`).
    pub fn objective_flat(&self) -> f64 {
        let c = constant(self.d, self.k, self.n, self.m, self.gamma);
        objective(&self.alpha, &self.mu, &self.q, &self.l, &self.x, self.d, self.k, self.n, self.m, self.gamma, c)
    }

    /// The gradients by [`objective`]'s generated gradient (packed triangles, any `d`).
    pub fn jacobian_flat(&self) -> [Vec<f64>; 4] {
        let c = constant(self.d, self.k, self.n, self.m, self.gamma);
        let g = objective_grad(
            &self.alpha,
            &self.mu,
            &self.q,
            &self.l,
            &self.x,
            self.d,
            self.k,
            self.n,
            self.m,
            self.gamma,
            c,
        )
        .1;
        [g.alpha, g.mu, g.q, g.l]
    }
}
