//! Building blocks a `#[backprop]` function can call, each with its pullback.
//!
//! Every function `f` here has a sibling `f_pullback` with the calling convention a
//! `#[backprop]` caller's backward sweep uses (issue 8): the arguments, then `result` (what `f`
//! returned) and `d_result` (its adjoint), then one `Option<&mut _>` sink per array or struct
//! argument that the pullback *adds* into, skipping the work for `None` (callers lend their
//! adjoints with [`sink`](crate::pullback::sink)); it returns one `()` per argument (none of
//! them is a scalar float).
//! Shapes are const generics, so mismatched lengths do not compile.
//!
//! | function | computes | pullback uses |
//! | --- | --- | --- |
//! | [`dense`] | `activation(w x + b)` | the output for tanh, sigmoid, softplus, relu, identity; `w x + b` recomputed for the rest |
//! | [`dense_batch`] | `activation(X Wᵀ + b)`, one row per sample | GEMMs `Δᵀ X`, `Δ W` on the output |
//! | [`softmax_cross_entropy_batch`] | `Σ_s logsumexp(x_s) − y_s · x_s` | the softmax, recomputed |
//! | [`dot`] | `Σ a_i b_i` | the other argument |
//! | [`mse`] | `(1/N) Σ (p_i − t_i)²` | the differences |
//! | [`logsumexp`] | `ln Σ e^x_i`, max-shifted | the softmax `e^(x_i − result)` |
//! | [`softmax_cross_entropy`] | `logsumexp(x) − x[label]` | softmax − one-hot, read off the loss |

mod dense;
mod dense_batch;
mod dot;
mod kernels;
mod logsumexp;
mod mse;
mod softmax_cross_entropy;
#[cfg(test)]
mod tests;
mod vexp;

pub use dense::{dense, dense_pullback, dense_vjp, Dense};
pub use dense_batch::{
    dense_batch, dense_batch_pullback, dense_batch_vjp, softmax_cross_entropy_batch,
    softmax_cross_entropy_batch_pullback, softmax_cross_entropy_batch_vjp, Gemm,
};
pub use dot::{dot, dot_pullback, dot_vjp};
pub use logsumexp::{logsumexp, logsumexp_pullback, logsumexp_vjp};
pub use mse::{mse, mse_pullback, mse_vjp};
pub use softmax_cross_entropy::{softmax_cross_entropy, softmax_cross_entropy_pullback, softmax_cross_entropy_vjp};
// The dual copies a `#[backprop(hessian)]` caller's second order calls (`<callee>_pullback_dual`,
// `<callee>_vjp_dual`, see macros/codegen/src/second_order/): these layers are generic over
// `F: Float` and `Dual64` is one, so their dual copies are themselves.
pub use dense::{dense as dense_dual, dense_pullback as dense_pullback_dual, dense_vjp as dense_vjp_dual};
pub use dot::{dot as dot_dual, dot_pullback as dot_pullback_dual, dot_vjp as dot_vjp_dual};
pub use logsumexp::{
    logsumexp as logsumexp_dual, logsumexp_pullback as logsumexp_pullback_dual, logsumexp_vjp as logsumexp_vjp_dual,
};
pub use mse::{mse as mse_dual, mse_pullback as mse_pullback_dual, mse_vjp as mse_vjp_dual};
pub use softmax_cross_entropy::{
    softmax_cross_entropy as softmax_cross_entropy_dual,
    softmax_cross_entropy_pullback as softmax_cross_entropy_pullback_dual,
    softmax_cross_entropy_vjp as softmax_cross_entropy_vjp_dual,
};
