//! Stopping rules beyond the step and epoch bounds: cost and gradient-norm tolerances and
//! "no improvement for k epochs" (early stopping).

use crate::error::{non_negative, positive};
use crate::Error;

/// A rule that ends training early. Add with [`Trainer::stop_when`](crate::Trainer::stop_when);
/// adding a rule of a kind already present replaces it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// Stop when the epoch cost is below this positive tolerance.
    CostBelow(f64),
    /// Stop when the epoch gradient norm is below this positive tolerance.
    GradNormBelow(f64),
    /// Stop when the monitored value (the validation metric if one is configured, else the
    /// epoch cost) has not improved on its best by more than `min_delta` for `epochs`
    /// consecutive epochs.
    NoImprovement {
        /// Patience in epochs; at least 1.
        epochs: usize,
        /// Smallest decrease that counts as an improvement; non-negative.
        min_delta: f64,
    },
}

impl Stop {
    /// Checks the rule's settings.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] naming the setting.
    pub fn validate(&self) -> Result<(), Error> {
        match *self {
            Stop::CostBelow(tol) => positive("Stop::CostBelow", "tolerance", tol).map(drop),
            Stop::GradNormBelow(tol) => positive("Stop::GradNormBelow", "tolerance", tol).map(drop),
            Stop::NoImprovement { epochs, min_delta } => {
                if epochs == 0 {
                    return Err(Error::InvalidHyperParameter {
                        owner: "Stop::NoImprovement",
                        name: "epochs",
                        value: 0.0,
                        requirement: "must be at least 1",
                    });
                }
                non_negative("Stop::NoImprovement", "min_delta", min_delta).map(drop)
            }
        }
    }
}

/// The trainer's stopping rules, one slot per kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct StopRules {
    pub max_epochs: Option<usize>,
    pub max_steps: Option<usize>,
    pub cost_below: Option<f64>,
    pub grad_norm_below: Option<f64>,
    pub no_improvement: Option<(usize, f64)>,
}

impl StopRules {
    pub fn add(&mut self, rule: Stop) {
        match rule {
            Stop::CostBelow(tol) => self.cost_below = Some(tol),
            Stop::GradNormBelow(tol) => self.grad_norm_below = Some(tol),
            Stop::NoImprovement { epochs, min_delta } => self.no_improvement = Some((epochs, min_delta)),
        }
    }

    /// True when the tolerance rules say the given cost and gradient norm are good enough.
    pub fn converged(&self, cost: f64, grad_norm: f64) -> Option<super::StopReason> {
        if self.cost_below.is_some_and(|tol| cost < tol) {
            Some(super::StopReason::CostBelow)
        } else if self.grad_norm_below.is_some_and(|tol| grad_norm < tol) {
            Some(super::StopReason::GradNormBelow)
        } else {
            None
        }
    }
}

/// Tracks the best monitored value for [`Stop::NoImprovement`].
#[derive(Debug, Clone)]
pub(crate) struct Patience {
    epochs: usize,
    min_delta: f64,
    best: f64,
    since_best: usize,
}

impl Patience {
    pub fn new(epochs: usize, min_delta: f64) -> Self {
        Self { epochs, min_delta, best: f64::INFINITY, since_best: 0 }
    }

    /// Records one epoch's value; true when patience has run out.
    pub fn exhausted_after(&mut self, value: f64) -> bool {
        if value < self.best - self.min_delta {
            self.best = value;
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        self.since_best >= self.epochs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patience_counts_epochs_without_improvement() {
        let mut p = Patience::new(2, 0.1);
        assert!(!p.exhausted_after(1.0));
        assert!(!p.exhausted_after(0.95)); // within min_delta: not an improvement
        assert!(!p.exhausted_after(0.5)); // improvement resets the count
        assert!(!p.exhausted_after(0.45));
        assert!(p.exhausted_after(0.5));
    }

    #[test]
    fn rules_validate_and_replace() {
        assert!(Stop::CostBelow(0.0).validate().is_err());
        assert!(Stop::GradNormBelow(f64::NAN).validate().is_err());
        let err = Stop::NoImprovement { epochs: 0, min_delta: 0.0 }.validate().unwrap_err();
        assert_eq!(err.to_string(), "`Stop::NoImprovement`: `epochs` must be at least 1, got 0");
        let mut rules = StopRules::default();
        rules.add(Stop::CostBelow(1.0));
        rules.add(Stop::CostBelow(0.5));
        assert_eq!(rules.cost_below, Some(0.5));
        assert_eq!(rules.converged(0.7, 1.0), None);
        assert_eq!(rules.converged(0.4, 1.0), Some(super::super::StopReason::CostBelow));
    }
}
