//! The `#[backprop]` attribute macro and `#[derive(Params)]`: a thin shell over `backprop-codegen`, which does all the work on
//! `proc_macro2` token streams so that it can be tested without a compiler.

use proc_macro::TokenStream;

/// Differentiates a scalar cost function in reverse mode at compile time and writes its gradient
/// function `<name>_grad` and gradient struct `<Name>Grad` next to it.
///
/// `#[backprop(wrt(a, b))]` differentiates only the listed arguments; by default every float argument.
#[proc_macro_attribute]
pub fn backprop(attr: TokenStream, item: TokenStream) -> TokenStream {
    backprop_codegen::expand(attr.into(), item.into()).into()
}

/// Implements `Params` (the flat view optimizers and the trainer step, fields in declaration
/// order, scalars named like `l1.w[3][17]`) and `ZerosLike` (a zero of the same shape, for
/// gradients) for a struct whose fields are floats, arrays, `Vec<f64>`/`Vec<f32>` or other
/// `#[derive(Params)]` structs.
#[proc_macro_derive(Params)]
pub fn derive_params(item: TokenStream) -> TokenStream {
    backprop_codegen::derive_params::derive(item.into()).into()
}
