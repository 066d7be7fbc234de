//! Runtime support for `#[backprop]`: the scalar trait, activations and kink conventions the
//! generated gradients call, [`layers`] with the pullbacks generated callers call, the flat
//! [`Params`] view of any parameter shape (and [`ZerosLike`], a zero of the same shape), seeded
//! initialisers ([`init`]), and the optimizers and training loop that consume those gradients.
//!
//! Cargo features (all on by default): `plot` ([`plot_loss`], plotters), `progress` (the
//! trainer's progress bar, indicatif), `parallel` (batch gradients on rayon's pool). Without
//! them the crate depends on num-traits alone and everything else works the same, with the
//! same bits. Off by default: `safetensors` ([`weights`]: save and load any [`Params`]) and
//! `argmin` (an adapter that runs argmin's solvers on a generated gradient).
#![warn(missing_docs)]

pub mod activation;
pub mod alias;
#[cfg(feature = "argmin")]
pub mod argmin;
pub mod clip;
pub mod descent;
pub mod dual;
pub mod dual2;
pub mod dual_lanes;
mod error;
pub mod explain;
mod float;
pub mod gradcheck;
pub mod init;
pub mod kinks;
pub mod layers;
#[doc(hidden)]
pub mod no_second_order;
pub mod optim;
pub mod params;
pub mod passive;
#[cfg(feature = "plot")]
pub mod plot;
pub mod pullback;
mod rng;
pub mod schedule;
pub mod train;
#[cfg(feature = "safetensors")]
pub mod weights;

pub use activation::Activation;
pub use error::{Error, Quantity};
pub use explain::Explanation;
pub use float::Float;
pub use gradcheck::check_gradient;
pub use layers::Dense;
pub use optim::{Adagrad, Adam, AdamW, GradientDescent, Momentum, Nesterov, Optimizer, RmsProp};
pub use params::{Params, ZerosLike};
#[cfg(feature = "plot")]
pub use plot::plot_loss;
pub use schedule::Schedule;
pub use train::{History, Stop, Trainer};
#[cfg(feature = "safetensors")]
pub use weights::{load_safetensors, save_safetensors};

/// Re-exported so generated code and users can name `num_traits::Float` methods
/// (`use backprop_runtime::num_traits::Float as _;`) without their own dependency.
pub use num_traits;
