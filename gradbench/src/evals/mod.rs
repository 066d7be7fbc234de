//! The evals, one module each: the objective as a `#[backprop]` function (primal in plain Rust) and
//! the derivative the eval asks for, read off the generated functions.

pub mod ba;
pub mod descent;
pub mod det;
pub mod gmm;
pub mod hello;
pub mod ht;
pub mod kmeans;
pub mod llsq;
pub mod lse;
pub mod lstm;
pub mod ode;
pub mod particle;
pub mod saddle;
