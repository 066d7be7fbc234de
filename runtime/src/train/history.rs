//! What a training run leaves behind: one record per optimizer step and per epoch, why it
//! stopped, and a CSV writer for both tables.
//!
//! Values are stored as `f64` whatever the parameter scalar, so observers, CSV and plots need
//! no type parameter.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::Error;

/// One optimizer step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepRecord {
    /// 0-based epoch the step belongs to.
    pub epoch: usize,
    /// 0-based step number within the run.
    pub step: usize,
    /// The batch cost at the parameters *before* this step's update.
    pub cost: f64,
    /// Euclidean norm of the batch gradient, before clipping.
    pub grad_norm: f64,
    /// The (scheduled) learning rate used for the update.
    pub learning_rate: f64,
    /// Number of samples in the batch (1 for [`Trainer::minimize`](crate::Trainer::minimize)).
    pub batch_len: usize,
}

/// One pass over the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochRecord {
    /// 0-based epoch number.
    pub epoch: usize,
    /// Steps taken in the run so far, this epoch included.
    pub steps: usize,
    /// Sample-weighted mean of the epoch's batch costs; with one batch per epoch, the cost at
    /// the parameters before that batch's update.
    pub cost: f64,
    /// Mean of the epoch's batch gradient norms.
    pub grad_norm: f64,
    /// The validation metric at the parameters after the epoch, when one is configured.
    pub validation: Option<f64>,
    /// The learning rate of the epoch's last step.
    pub learning_rate: f64,
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The configured number of epochs completed.
    MaxEpochs,
    /// The configured number of steps was taken.
    MaxSteps,
    /// The epoch cost fell below the tolerance.
    CostBelow,
    /// The epoch gradient norm fell below the tolerance.
    GradNormBelow,
    /// The monitored value did not improve for the configured number of epochs.
    NoImprovement,
    /// An observer returned [`Control::Stop`](crate::train::Control::Stop).
    Observer,
}

/// The record of a training run, returned by the trainer.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Every step, in order.
    pub steps: Vec<StepRecord>,
    /// Every epoch (a final partial epoch included), in order.
    pub epochs: Vec<EpochRecord>,
    /// Why the run ended.
    pub stop_reason: StopReason,
}

impl History {
    /// The last epoch's cost, if any epoch ran.
    pub fn final_cost(&self) -> Option<f64> {
        self.epochs.last().map(|e| e.cost)
    }

    /// The lowest epoch cost and its epoch.
    pub fn best_cost(&self) -> Option<(usize, f64)> {
        self.epochs.iter().map(|e| (e.epoch, e.cost)).min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// The epoch table as CSV: `epoch,steps,cost,grad_norm,learning_rate,validation`
    /// (validation empty when not configured). Numbers use Rust's shortest round-trip format.
    pub fn epochs_csv(&self) -> String {
        let mut out = String::from("epoch,steps,cost,grad_norm,learning_rate,validation\n");
        for e in &self.epochs {
            let validation = e.validation.map(|v| v.to_string()).unwrap_or_default();
            // Writing to a String cannot fail.
            let _ =
                writeln!(out, "{},{},{},{},{},{}", e.epoch, e.steps, e.cost, e.grad_norm, e.learning_rate, validation);
        }
        out
    }

    /// The step table as CSV: `epoch,step,cost,grad_norm,learning_rate,batch_len`.
    pub fn steps_csv(&self) -> String {
        let mut out = String::from("epoch,step,cost,grad_norm,learning_rate,batch_len\n");
        for s in &self.steps {
            let _ =
                writeln!(out, "{},{},{},{},{},{}", s.epoch, s.step, s.cost, s.grad_norm, s.learning_rate, s.batch_len);
        }
        out
    }

    /// Writes [`History::epochs_csv`] to `path`.
    ///
    /// # Errors
    /// [`Error::Io`] naming the path.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        write_file(path.as_ref(), &self.epochs_csv())
    }

    /// Writes [`History::steps_csv`] to `path`.
    ///
    /// # Errors
    /// [`Error::Io`] naming the path.
    pub fn write_steps_csv(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        write_file(path.as_ref(), &self.steps_csv())
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let mut file = std::fs::File::create(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> History {
        let epoch = |epoch, cost, validation| EpochRecord {
            epoch,
            steps: epoch + 1,
            cost,
            grad_norm: 0.5,
            validation,
            learning_rate: 0.1,
        };
        History {
            steps: vec![StepRecord { epoch: 0, step: 0, cost: 2.0, grad_norm: 0.5, learning_rate: 0.1, batch_len: 4 }],
            epochs: vec![epoch(0, 2.0, Some(1.5)), epoch(1, 0.25, None)],
            stop_reason: StopReason::MaxEpochs,
        }
    }

    #[test]
    fn csv_tables() {
        let h = sample();
        assert_eq!(
            h.epochs_csv(),
            "epoch,steps,cost,grad_norm,learning_rate,validation\n\
             0,1,2,0.5,0.1,1.5\n\
             1,2,0.25,0.5,0.1,\n"
        );
        assert_eq!(h.steps_csv(), "epoch,step,cost,grad_norm,learning_rate,batch_len\n0,0,2,0.5,0.1,4\n");
        assert_eq!(h.final_cost(), Some(0.25));
        assert_eq!(h.best_cost(), Some((1, 0.25)));
    }

    #[test]
    fn write_errors_name_the_path() {
        let err = sample().write_csv("/nonexistent-dir/h.csv").unwrap_err();
        assert!(err.to_string().starts_with("cannot write /nonexistent-dir/h.csv: "), "{err}");
    }
}
