//! Gradient checking: compare any gradient function with central finite differences, the
//! first thing to reach for when a gradient is in doubt.

use std::fmt;

use crate::error::positive;
use crate::params::{copy_from_slice, to_vec, Params};
use crate::{Error, Float};

/// The comparison for one scalar parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientCheckEntry {
    /// Flat index of the parameter.
    pub index: usize,
    /// Its name from [`Params::describe`].
    pub name: String,
    /// The gradient function's value.
    pub analytic: f64,
    /// The central difference `(f(p + eps) - f(p - eps)) / (2 eps)`.
    pub numeric: f64,
    /// `|analytic - numeric|`.
    pub abs_error: f64,
    /// `|analytic - numeric| / max(|analytic|, |numeric|)`, 0 when both are 0.
    pub rel_error: f64,
}

impl GradientCheckEntry {
    /// Within tolerance by either measure: the absolute test covers gradients near 0, where
    /// the relative error of a correct gradient is dominated by finite-difference noise.
    pub fn passes(&self, tol: f64) -> bool {
        self.abs_error <= tol || self.rel_error <= tol
    }
}

/// The result of [`check_gradient`]: one entry per scalar parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientCheck {
    /// Entries in flat order.
    pub entries: Vec<GradientCheckEntry>,
}

impl GradientCheck {
    /// The entry with the largest relative error (NaN counts as largest).
    pub fn worst(&self) -> Option<&GradientCheckEntry> {
        self.entries.iter().max_by(|a, b| nan_high(a.rel_error).total_cmp(&nan_high(b.rel_error)))
    }

    /// The worst entry of each named parameter, where a name's group is its part before the
    /// first `[` (so `w[0][1]` and `w[2][0]` both belong to `w`), in first-seen order.
    pub fn worst_per_parameter(&self) -> Vec<&GradientCheckEntry> {
        let mut groups: Vec<(&str, &GradientCheckEntry)> = Vec::new();
        for e in &self.entries {
            let group = e.name.split('[').next().unwrap_or(&e.name);
            match groups.iter_mut().find(|(g, _)| *g == group) {
                Some((_, worst)) if nan_high(e.rel_error) > nan_high(worst.rel_error) => *worst = e,
                Some(_) => {}
                None => groups.push((group, e)),
            }
        }
        groups.into_iter().map(|(_, e)| e).collect()
    }

    /// True when every entry passes at `tol` (see [`GradientCheckEntry::passes`]).
    pub fn passes(&self, tol: f64) -> bool {
        self.entries.iter().all(|e| e.passes(tol))
    }

    /// The entries that fail at `tol`.
    pub fn failures(&self, tol: f64) -> Vec<&GradientCheckEntry> {
        self.entries.iter().filter(|e| !e.passes(tol)).collect()
    }
}

fn nan_high(x: f64) -> f64 {
    if x.is_nan() {
        f64::INFINITY
    } else {
        x
    }
}

/// A table of the worst entry per parameter, for printing when a check fails.
impl fmt::Display for GradientCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<24} {:>14} {:>14} {:>10}", "parameter", "analytic", "numeric", "rel err")?;
        for e in self.worst_per_parameter() {
            writeln!(f, "{:<24} {:>14.6e} {:>14.6e} {:>10.2e}", e.name, e.analytic, e.numeric, e.rel_error)?;
        }
        Ok(())
    }
}

/// Compares `cost_grad(params).1` with central finite differences of `cost_grad(params).0`
/// at `params`, perturbing each scalar by `±eps`. `params` are restored exactly afterwards.
///
/// A step of about `1e-6` suits `f64` (about `1e-2` for `f32`); then a correct gradient
/// usually passes at `1e-6` (`1e-2`).
///
/// # Errors
/// [`Error::InvalidHyperParameter`] unless `eps` is positive and finite;
/// [`Error::ShapeMismatch`] if the gradient has the wrong number of scalars.
///
/// # Example
/// ```
/// use backprop_runtime::gradcheck::check_gradient;
/// let mut p = [1.0_f64, 2.0];
/// let check = check_gradient(|p: &[f64; 2]| (p[0] * p[1], [p[1], p[0]]), &mut p, 1e-6)?;
/// assert!(check.passes(1e-6));
/// # Ok::<(), backprop_runtime::Error>(())
/// ```
pub fn check_gradient<P, C>(mut cost_grad: C, params: &mut P, eps: P::Scalar) -> Result<GradientCheck, Error>
where
    P: Params,
    C: FnMut(&P) -> (P::Scalar, P),
{
    positive("check_gradient", "eps", eps.as_f64())?;
    let (_, grad) = cost_grad(params);
    if grad.num_params() != params.num_params() {
        return Err(Error::ShapeMismatch {
            context: "gradient".into(),
            expected: params.num_params(),
            found: grad.num_params(),
        });
    }
    let analytic = to_vec(&grad);
    let original = to_vec(params);
    let mut probe = original.clone();
    let two_eps = (eps + eps).as_f64();
    let mut entries = Vec::with_capacity(original.len());
    for (i, &a) in analytic.iter().enumerate() {
        probe[i] = original[i] + eps;
        copy_from_slice(params, &probe)?;
        let plus = cost_grad(params).0;
        probe[i] = original[i] - eps;
        copy_from_slice(params, &probe)?;
        let minus = cost_grad(params).0;
        probe[i] = original[i];
        let numeric = (plus.as_f64() - minus.as_f64()) / two_eps;
        let analytic = a.as_f64();
        let abs_error = (analytic - numeric).abs();
        let scale = analytic.abs().max(numeric.abs());
        let rel_error = if abs_error == 0.0 { 0.0 } else { abs_error / scale };
        entries.push(GradientCheckEntry {
            index: i,
            name: params.describe(i, ""),
            analytic,
            numeric,
            abs_error,
            rel_error,
        });
    }
    copy_from_slice(params, &original)?;
    Ok(GradientCheck { entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// cost = sum_i w_i^2 * x_i + w0 w1, on `(w: [f64; 3], b: f64)`.
    fn cost(p: &([f64; 3], f64)) -> f64 {
        let x = [1.0, -2.0, 0.5];
        (0..3).map(|i| p.0[i] * p.0[i] * x[i]).sum::<f64>() + p.0[0] * p.0[1] + p.1.sin()
    }

    fn right(p: &([f64; 3], f64)) -> (f64, ([f64; 3], f64)) {
        let w = p.0;
        let g = [2.0 * w[0] + w[1], -4.0 * w[1] + w[0], w[2]];
        (cost(p), (g, p.1.cos()))
    }

    #[test]
    fn passes_a_right_gradient_and_flags_a_wrong_one() {
        let mut p = ([0.3, -1.2, 2.0], 0.7);
        let before = p;
        let ok = check_gradient(right, &mut p, 1e-6).unwrap();
        assert_eq!(p, before, "params are restored exactly");
        assert!(ok.passes(1e-7), "{ok}");
        assert!(ok.worst().unwrap().rel_error < 1e-7);

        // Forget the cross term's contribution to w1: d/dw1 loses `+ w0`.
        let wrong = |p: &([f64; 3], f64)| {
            let (c, (mut g, gb)) = right(p);
            g[1] -= p.0[0];
            (c, (g, gb))
        };
        let bad = check_gradient(wrong, &mut p, 1e-6).unwrap();
        assert!(!bad.passes(1e-4));
        let worst = bad.worst().unwrap();
        assert_eq!(worst.name, "param.0[1]");
        // analytic -4*(-1.2) = 4.8 against the true 4.8 + 0.3 = 5.1.
        assert!((worst.analytic - 4.8).abs() < 1e-12);
        assert!((worst.numeric - 5.1).abs() < 1e-6);
        assert!((worst.rel_error - 0.3 / 5.1).abs() < 1e-6);
        assert_eq!(bad.failures(1e-4).len(), 1);
        let per = bad.worst_per_parameter();
        assert_eq!(per.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["param.0[1]", "param.1"]);
        assert!(bad.to_string().contains("param.0[1]"));
    }

    #[test]
    fn rejects_bad_eps_and_bad_shapes() {
        let mut p = vec![1.0, 2.0];
        assert!(check_gradient(|p: &Vec<f64>| (0.0, p.clone()), &mut p, 0.0).is_err());
        let err = check_gradient(|_: &Vec<f64>| (0.0, vec![1.0]), &mut p, 1e-6).unwrap_err();
        assert_eq!(err.to_string(), "shape mismatch in gradient: expected 2 scalars, found 1");
    }
}
