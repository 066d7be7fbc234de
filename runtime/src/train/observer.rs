//! Observers: callbacks the trainer calls after every step and every epoch, for logging,
//! custom metrics or early stopping (argmin's `Observe`, burn's early-stopping strategy).

use super::history::{EpochRecord, StepRecord};

/// An observer's verdict after a step or epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Control {
    /// Keep training.
    #[default]
    Continue,
    /// Stop after this step or epoch; the run ends with
    /// [`StopReason::Observer`](crate::train::StopReason::Observer).
    Stop,
}

/// Lets logging closures return `()` instead of spelling out `Control::Continue`.
impl From<()> for Control {
    fn from((): ()) -> Self {
        Control::Continue
    }
}

/// Lets closures return `true` to stop ("should stop?"), the shape of an early-stopping rule.
impl From<bool> for Control {
    fn from(stop: bool) -> Self {
        if stop {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// Receives every step and epoch record; both hooks default to doing nothing.
pub trait Observer {
    /// Called after each step's cost and gradient are known (before the next step).
    fn on_step(&mut self, _record: &StepRecord) -> Control {
        Control::Continue
    }
    /// Called after each epoch, validation metric included.
    fn on_epoch(&mut self, _record: &EpochRecord) -> Control {
        Control::Continue
    }
}

/// Adapts a per-step closure; built by [`Trainer::on_step`](crate::Trainer::on_step).
pub(crate) struct StepFn<C>(pub C);

impl<C: FnMut(&StepRecord) -> R, R: Into<Control>> Observer for StepFn<C> {
    fn on_step(&mut self, record: &StepRecord) -> Control {
        (self.0)(record).into()
    }
}

/// Adapts a per-epoch closure; built by [`Trainer::on_epoch`](crate::Trainer::on_epoch).
pub(crate) struct EpochFn<C>(pub C);

impl<C: FnMut(&EpochRecord) -> R, R: Into<Control>> Observer for EpochFn<C> {
    fn on_epoch(&mut self, record: &EpochRecord) -> Control {
        (self.0)(record).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closures_adapt_to_observers() {
        let mut seen = Vec::new();
        {
            let mut obs = EpochFn(|e: &EpochRecord| {
                seen.push(e.epoch);
                e.cost < 1.0
            });
            let rec = |epoch, cost| EpochRecord {
                epoch,
                steps: 1,
                cost,
                grad_norm: 0.0,
                validation: None,
                learning_rate: 0.1,
            };
            assert_eq!(obs.on_epoch(&rec(0, 2.0)), Control::Continue);
            assert_eq!(obs.on_epoch(&rec(1, 0.5)), Control::Stop);
            // An epoch observer ignores steps.
            let step = StepRecord { epoch: 0, step: 0, cost: 0.0, grad_norm: 0.0, learning_rate: 0.1, batch_len: 1 };
            assert_eq!(obs.on_step(&step), Control::Continue);
        }
        assert_eq!(seen, vec![0, 1]);
        assert_eq!(Control::from(()), Control::Continue);
    }
}
