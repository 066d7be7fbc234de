//! backprop: compile-time symbolic reverse-mode differentiation.
//!
//! Put `#[backprop]` on a scalar cost function written in plain Rust; the macro writes
//! `<name>_grad`, which returns the cost and its gradient, computed by a readable backward sweep
//! in which every adjoint is bound once and reused. The runtime supplies activations with their
//! derivatives, optimizers and a training loop.
//!
//! ```
//! use backprop::prelude::*;
//!
//! #[backprop]
//! fn cost(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
//!     let a1 = w1 * a0;
//!     let a2 = w2 * a1;
//!     let a3 = w3 * a2;
//!     (a3 - y).powi(2)
//! }
//!
//! let (c, g) = cost_grad(2.0, 3.0, 0.5, 1.0, 2.0);
//! assert_eq!((c, g.w1, g.w2, g.w3), (1.0, 3.0, 2.0, 12.0));
//! ```

pub use backprop_macros::backprop;
// `#[derive(Params)]`: the derive macro, next to the trait of the same name (as serde does).
pub use backprop_macros::Params;
pub use backprop_runtime as runtime;
pub use backprop_runtime::*;

/// `use backprop::prelude::*;` brings the attribute, `#[derive(Params)]`, the activations and the
/// layers whose names are unlikely to clash into scope.
///
/// Each layer comes with its `_pullback` and `_vjp`, because a `#[backprop]` caller calls the pullback by
/// the path it was given the function by. `dot` and `mse` stay in [`layers`](crate::layers)
/// (`backprop::layers::dot`): a user's own `dot` would shadow the glob import while the
/// glob's `dot_pullback` still resolved, pairing one function with another's derivative.
pub mod prelude {
    pub use crate::backprop;
    pub use backprop_macros::Params;
    pub use backprop_runtime::activation::{elu, gelu, leaky_relu, relu, sigmoid, silu, softplus, softsign};
    pub use backprop_runtime::layers::{
        dense, dense_batch, dense_batch_pullback, dense_batch_vjp, dense_pullback, dense_vjp, logsumexp,
        logsumexp_pullback, logsumexp_vjp, softmax_cross_entropy, softmax_cross_entropy_batch,
        softmax_cross_entropy_batch_pullback, softmax_cross_entropy_batch_vjp, softmax_cross_entropy_pullback,
        softmax_cross_entropy_vjp, Dense,
    };
    // Their dual copies, for `#[backprop(hessian)]` callers (the layers themselves, over `Dual64`).
    #[doc(hidden)]
    pub use backprop_runtime::layers::{
        dense_dual, dense_pullback_dual, dense_vjp_dual, logsumexp_dual, logsumexp_pullback_dual, logsumexp_vjp_dual,
        softmax_cross_entropy_dual, softmax_cross_entropy_pullback_dual, softmax_cross_entropy_vjp_dual,
    };
    pub use backprop_runtime::{Activation, Float, Params, ZerosLike};
}

/// Items the generated code calls. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use backprop_runtime::dual::{self, Dual64, DualParts, DualTwin};
    pub use backprop_runtime::dual2::{self, DualDual64, Seed};
    pub use backprop_runtime::dual_lanes::{self, Dual64x4, Lanes};
    pub use backprop_runtime::no_second_order::{
        HasForwardMode, HasGradOfGrad, HasHessian, HasSecondOrder, HasThirdOrder, NoForwardMode, NoSecondOrder,
        NoThirdOrder,
    };
    pub use backprop_runtime::params::{describe_fields, tensors_fields, TensorInfo};
    pub use backprop_runtime::passive::{real_value, RealValue, RealView};
    pub use backprop_runtime::pullback::{all_zero, sink};
    pub use backprop_runtime::{activation, explain, kinks, Float, Params, ZerosLike};
    // Two arguments of one call with one adjoint: the later one's zero buffer (emit's pullback call).
    pub use backprop_runtime::alias::AliasBuffer;

    pub mod checks {
        use backprop_runtime::Params;

        /// The accumulating form's precondition on a `Vec` field of the caller's gradient: it holds
        /// one entry per element of the argument it belongs to.
        #[inline]
        #[track_caller]
        pub fn gradient_length(field: &str, gradient: usize, argument: usize) {
            assert!(
                gradient == argument,
                "the gradient's `{field}` has {gradient} entries but the argument `{field}` has {argument}: pass a gradient shaped like the arguments (as `_grad` returns it)"
            );
        }

        /// `dst += src`, entry by entry in the flat view (the adjoint of an argument the function
        /// also writes, which is computed locally and added into the caller's gradient at the end).
        pub fn add_into<P: Params + ?Sized>(dst: &mut P, src: &P) {
            let mut entries = Vec::with_capacity(src.num_params());
            src.visit(&mut |x| entries.push(x));
            let mut next = entries.into_iter();
            dst.visit_mut(&mut |x| {
                if let Some(y) = next.next() {
                    *x += y;
                }
            });
        }

        /// Compiles only when `called` is the same function as `runtime`: a call named like an
        /// activation must resolve to the runtime's activation, whose derivative the macro uses.
        #[inline(always)]
        pub fn activation_must_be_the_runtime_one<F>(runtime: F, called: F) {
            let _ = (runtime, called);
        }
    }
}
