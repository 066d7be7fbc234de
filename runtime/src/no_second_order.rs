//! What a `#[backprop(hessian)]` caller meets when a callee has no second order.
//!
//! The dual gradient of a `#[backprop(hessian)]` function calls its callees' dual copies
//! (`inner_vjp_dual`, `inner_pullback_dual`), which only a callee with `#[backprop(hessian)]`
//! emits. A `#[backprop]` function without it emits stand-ins of those
//! names instead, bounded on [`HasSecondOrder`] for [`NoSecondOrder`], which never holds: a caller
//! that needs the second order gets this trait's message at its call, naming the fix, instead of
//! rustc's "cannot find function `inner_vjp_dual`". Callers that only need a gradient never call
//! the stand-ins.

/// Implemented by nothing (see the module doc).
#[diagnostic::on_unimplemented(
    message = "this callee is differentiable once only: a `#[backprop(hessian)]` caller needs its second order",
    label = "callee without `hessian`",
    note = "write `#[backprop(hessian)]` on the callee (for a custom rule, `#[backprop(pullback = rule, hessian)]` \
            with the rule generic over `T: Float`)"
)]
pub trait HasSecondOrder {}

/// The type [`HasSecondOrder`] is asked of (see the module doc).
pub struct NoSecondOrder;
