//! `backprop-gradbench`: GradBench's evals written with `#[backprop]` and the JSON-lines protocol
//! that GradBench's evals drive (`start`, `define`, `evaluate`, `analysis`). The binary reads
//! messages on stdin and answers on stdout; see README.md for running GradBench against it.

pub mod evals;
pub mod protocol;
