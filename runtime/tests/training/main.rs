//! End-to-end training tests, one binary (to keep link time down) with a module per concern.

mod common;
mod errors;
#[cfg(feature = "plot")]
mod plot;
mod rosenbrock;
mod trainer;
#[cfg(feature = "safetensors")]
mod weights;
