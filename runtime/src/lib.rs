//! Runtime support for `#[backprop]`: the scalar trait, activations and kink conventions the
//! generated gradients call, the flat [`Params`] view of any parameter shape, and the
//! optimizers and training loop that consume those gradients.
#![warn(missing_docs)]

pub mod activation;
pub mod clip;
pub mod descent;
mod error;
pub mod explain;
mod float;
pub mod gradcheck;
pub mod kinks;
pub mod optim;
pub mod params;
pub mod plot;
pub mod schedule;
pub mod train;

pub use activation::Activation;
pub use error::{Error, Quantity};
pub use explain::Explanation;
pub use float::Float;
pub use gradcheck::check_gradient;
pub use optim::{Adagrad, Adam, AdamW, GradientDescent, Momentum, Nesterov, Optimizer, RmsProp};
pub use params::Params;
pub use plot::plot_loss;
pub use schedule::Schedule;
pub use train::{History, Stop, Trainer};

/// Re-exported so generated code and users can name `num_traits::Float` methods
/// (`use backprop_runtime::num_traits::Float as _;`) without their own dependency.
pub use num_traits;
