//! Learning-rate schedules as pure functions of the step number (optax style): no state to
//! save or restore, and the same step always gets the same rate.

use crate::error::{non_negative, positive};
use crate::Error;

/// How the learning rate varies with the optimizer step (0-based, counted per training run).
///
/// The variants are public data; constructors validate, and the trainer re-validates with
/// [`Schedule::validate`] before it starts, so a hand-built invalid schedule is still an error
/// rather than a panic.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Schedule {
    /// The optimizer's learning rate on every step.
    #[default]
    Constant,
    /// `lr * gamma^(step / every)` (integer division): drop by `gamma` every `every` steps.
    Step {
        /// Steps between drops; at least 1.
        every: usize,
        /// Factor applied at each drop, in `(0, 1]` normally.
        gamma: f64,
    },
    /// `lr * gamma^step`.
    Exponential {
        /// Per-step factor; positive.
        gamma: f64,
    },
    /// Cosine annealing from `lr` to `min_lr` over `total_steps`, then held at `min_lr`:
    /// `min_lr + (lr - min_lr) (1 + cos(pi t / T)) / 2`.
    Cosine {
        /// Length `T` of the annealing; at least 1.
        total_steps: usize,
        /// Final learning rate; non-negative.
        min_lr: f64,
    },
    /// Linear warm-up: `lr (step + 1) / warmup_steps` for the first `warmup_steps` steps, then
    /// `then` with its step count starting at 0.
    LinearWarmup {
        /// Length of the warm-up; at least 1.
        warmup_steps: usize,
        /// The schedule that follows the warm-up.
        then: Box<Schedule>,
    },
}

impl Schedule {
    /// A step decay.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] if `every == 0` or `gamma` not positive and finite.
    pub fn step(every: usize, gamma: f64) -> Result<Self, Error> {
        let s = Schedule::Step { every, gamma };
        s.validate()?;
        Ok(s)
    }

    /// An exponential decay.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] if `gamma` not positive and finite.
    pub fn exponential(gamma: f64) -> Result<Self, Error> {
        let s = Schedule::Exponential { gamma };
        s.validate()?;
        Ok(s)
    }

    /// Cosine annealing.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] if `total_steps == 0` or `min_lr` negative or not finite.
    pub fn cosine(total_steps: usize, min_lr: f64) -> Result<Self, Error> {
        let s = Schedule::Cosine { total_steps, min_lr };
        s.validate()?;
        Ok(s)
    }

    /// Prefixes this schedule with a linear warm-up.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] if `warmup_steps == 0`.
    pub fn with_warmup(self, warmup_steps: usize) -> Result<Self, Error> {
        let s = Schedule::LinearWarmup { warmup_steps, then: Box::new(self) };
        s.validate()?;
        Ok(s)
    }

    /// Checks every setting, recursively.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] naming the first invalid setting.
    pub fn validate(&self) -> Result<(), Error> {
        let at_least_one = |name, value: usize| {
            if value == 0 {
                Err(Error::InvalidHyperParameter {
                    owner: "Schedule",
                    name,
                    value: 0.0,
                    requirement: "must be at least 1",
                })
            } else {
                Ok(())
            }
        };
        match self {
            Schedule::Constant => Ok(()),
            Schedule::Step { every, gamma } => {
                at_least_one("every", *every)?;
                positive("Schedule", "gamma", *gamma).map(drop)
            }
            Schedule::Exponential { gamma } => positive("Schedule", "gamma", *gamma).map(drop),
            Schedule::Cosine { total_steps, min_lr } => {
                at_least_one("total_steps", *total_steps)?;
                non_negative("Schedule", "min_lr", *min_lr).map(drop)
            }
            Schedule::LinearWarmup { warmup_steps, then } => {
                at_least_one("warmup_steps", *warmup_steps)?;
                then.validate()
            }
        }
    }

    /// The learning rate at `step` for a base rate `base`.
    ///
    /// Invalid settings (only possible by building variants by hand) fall back to `base`
    /// rather than dividing by zero; the trainer rejects them before this is reached.
    pub fn learning_rate(&self, base: f64, step: usize) -> f64 {
        match self {
            Schedule::Constant => base,
            Schedule::Step { every, gamma } => {
                let drops = step.checked_div(*every).unwrap_or(0);
                base * gamma.powf(drops as f64)
            }
            Schedule::Exponential { gamma } => base * gamma.powf(step as f64),
            Schedule::Cosine { total_steps, min_lr } => {
                if *total_steps == 0 {
                    return base;
                }
                let t = step.min(*total_steps) as f64 / *total_steps as f64;
                min_lr + (base - min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
            Schedule::LinearWarmup { warmup_steps, then } => {
                if step < *warmup_steps {
                    base * (step + 1) as f64 / *warmup_steps as f64
                } else {
                    then.learning_rate(base, step - warmup_steps)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_follow_their_formulas() {
        assert_eq!(Schedule::Constant.learning_rate(0.1, 1000), 0.1);
        let s = Schedule::step(10, 0.5).unwrap();
        assert_eq!(s.learning_rate(1.0, 9), 1.0);
        assert_eq!(s.learning_rate(1.0, 10), 0.5);
        assert_eq!(s.learning_rate(1.0, 25), 0.25);
        let e = Schedule::exponential(0.9).unwrap();
        assert!((e.learning_rate(2.0, 2) - 1.62).abs() < 1e-15);
        let c = Schedule::cosine(100, 0.01).unwrap();
        assert_eq!(c.learning_rate(1.0, 0), 1.0);
        assert!((c.learning_rate(1.0, 50) - 0.505).abs() < 1e-15);
        assert!((c.learning_rate(1.0, 100) - 0.01).abs() < 1e-15);
        assert!((c.learning_rate(1.0, 500) - 0.01).abs() < 1e-15);
        let w = Schedule::exponential(0.5).unwrap().with_warmup(4).unwrap();
        let rates: Vec<f64> = (0..6).map(|s| w.learning_rate(1.0, s)).collect();
        assert_eq!(rates, vec![0.25, 0.5, 0.75, 1.0, 1.0, 0.5]);
    }

    #[test]
    fn invalid_settings_are_errors_naming_them() {
        let err = Schedule::step(0, 0.5).unwrap_err();
        assert_eq!(err.to_string(), "`Schedule`: `every` must be at least 1, got 0");
        assert!(Schedule::exponential(-0.5).is_err());
        assert!(Schedule::cosine(10, -1.0).is_err());
        assert!(Schedule::Constant.with_warmup(0).is_err());
        let hand_built =
            Schedule::LinearWarmup { warmup_steps: 2, then: Box::new(Schedule::Step { every: 0, gamma: 0.5 }) };
        assert!(hand_built.validate().is_err());
        // Still no panic if used anyway.
        assert_eq!(hand_built.learning_rate(1.0, 7), 1.0);
    }
}
