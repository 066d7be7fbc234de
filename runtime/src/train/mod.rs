//! Training: the [`Trainer`] loop and the pieces it is configured with (batching, stopping
//! rules, observers, progress bar) and produces (the [`History`]).

mod batch;
mod history;
mod observer;
mod progress;
mod stop;
mod trainer;

pub use batch::{sum_gradients, Parallelism, Reduction, AUTO_PARALLEL_MIN};
pub use history::{EpochRecord, History, StepRecord, StopReason};
pub use observer::{Control, Observer};
pub use progress::Progress;
pub use stop::Stop;
pub use trainer::Trainer;
