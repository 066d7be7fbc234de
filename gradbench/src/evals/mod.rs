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

/// Whether this CPU runs AVX-512 (`F` and `VL`): GradBench builds its C++ tools with
/// `-march=native`, so an eval whose `#[inline(always)]` objective vectorises to 8 lanes calls a
/// copy compiled for these features when the CPU has them (detected once, at run time, so the
/// binary still runs anywhere).
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vl")
}
