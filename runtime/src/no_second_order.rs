//! What a caller meets when a callee lacks the derivative it needs: second order (`hessian`), a
//! tangent copy (`forward`), third order, a differentiable gradient.
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

/// Implemented by nothing: the bound of the stand-in `__backprop_dual_inner` that a `#[backprop]`
/// function without `forward` or `hessian` emits (codegen `second_order/tangent_alias.rs`): a
/// `#[backprop(forward)]` caller's tangent sweep calls it for `inner(..)` and meets this message at
/// its call instead of rustc's "cannot find function `inner_dual`".
#[diagnostic::on_unimplemented(
    message = "this callee has no tangent copy: a `#[backprop(forward)]` caller runs its callees over dual numbers",
    label = "callee without `forward` or `hessian`",
    note = "write `#[backprop(forward)]` on the callee (or `#[backprop(hessian)]`, which also gives it a tangent copy; \
            for a custom rule, `#[backprop(pullback = rule, hessian)]` with the rule generic over `T: Float`)"
)]
pub trait HasForwardMode {}

/// The type [`HasForwardMode`] is asked of (see its doc).
pub struct NoForwardMode;

/// Implemented by nothing: the bound of the stand-ins `energy_grad_x_dual`, `_pullback_dual` and
/// `_vjp_dual` that a `#[backprop(hessian)]` function emits next to `energy_grad_x` (the field of
/// its gradient that callers differentiate through). A `#[backprop(hessian)]` caller of
/// `energy_grad_x` would need third derivatives of `energy`; it gets this message at its call.
#[diagnostic::on_unimplemented(
    message = "a gradient called inside a `#[backprop(hessian)]` function: its Hessian would need third derivatives, which are not generated",
    label = "differentiable once (its pullback is a Hessian-vector product)",
    note = "drop `hessian` from the caller (its `_grad` differentiates through this gradient), or write the needed derivative in \
            closed form as its own `#[backprop(hessian)]` function and call that"
)]
pub trait HasThirdOrder {}

/// The type [`HasThirdOrder`] is asked of (see its doc).
pub struct NoThirdOrder;

/// Implemented by nothing: the bound of the stand-ins `energy_grad_x` (and its `_pullback`,
/// `_vjp`) that a `#[backprop(hessian, wrt(..))]` cost emits (its gradient is not differentiable), so that a caller's
/// `let (e, g) = energy_grad(..)` inside `#[backprop]` meets this message at its call.
#[diagnostic::on_unimplemented(
    message = "this gradient is not differentiable: `let (e, g) = energy_grad(..)` inside `#[backprop]` needs `#[backprop(hessian)]` on `energy`, differentiating every float argument",
    label = "gradient of a function with `wrt`",
    note = "write `#[backprop(hessian)]` on the callee, without `wrt(..)`: a mixed partial with an undifferentiated argument would otherwise be silently zero"
)]
pub trait HasGradOfGrad {}

/// Implemented by nothing: the bound of the stand-ins `energy_grad_x` (and its `_pullback`,
/// `_vjp`) that a `#[backprop]` cost without `hessian` emits, so that a caller's
/// `let (e, g) = energy_grad(..)` inside `#[backprop]` (which differentiates the gradient) meets
/// this message at its call instead of rustc's "cannot find function `energy_grad_x`".
#[diagnostic::on_unimplemented(
    message = "this gradient is not differentiable: `let (e, g) = energy_grad(..)` inside `#[backprop]` differentiates `energy`'s gradient, which needs `#[backprop(hessian)]` on `energy`",
    label = "gradient of a function without `hessian`",
    note = "write `#[backprop(hessian)]` on the callee: the pullback of its gradient is its Hessian-vector product"
)]
pub trait HasHessian {}
