//! How a `#[backprop(forward)]` caller reaches its callees' tangent copies.
//!
//! A forward caller's tangent sweep (`forward.rs`) calls, for a callee `inner`, the hidden
//! `__backprop_dual_inner`. Every function with a tangent copy emits that alias next to the copy
//! (`inner_dual` of a `forward` or `hessian` function or of a custom rule with `hessian`, and the
//! gradient fields' `energy_grad_x_dual`, `energy_grad_fwd_x_dual`); every other `#[backprop]`
//! function over `f64` emits a stand-in of that name (`stubs.rs`) bounded on a runtime trait that
//! never holds (`HasForwardMode`), so the caller's error is that trait's message at its call,
//! naming the fix. Calling `inner_dual` directly gave rustc's "cannot find function `inner_dual`",
//! which suggested `inner_grad`. The public `<name>_dual` keeps its name; the alias's prefix cannot
//! meet a user's own item, as a stand-in named `inner_dual` could (a user's `loss_dual`).

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// The name a forward caller calls for the callee `name` (the last segment of its path).
pub fn alias_name(name: &str) -> Ident {
    format_ident!("__backprop_dual_{}", name.trim_start_matches("r#"))
}

/// `__backprop_dual_<name>`, calling the tangent copy `sig` (its signature, with its own name).
pub fn alias(vis: &syn::Visibility, sig: &syn::Signature, name: &str) -> TokenStream {
    let target = sig.ident.clone();
    let mut sig = sig.clone();
    sig.ident = alias_name(name);
    let mut args = Vec::new();
    for (k, input) in sig.inputs.iter_mut().enumerate() {
        if let syn::FnArg::Typed(arg) = input {
            let id = format_ident!("__a{k}");
            *arg.pat = syn::parse_quote!(#id);
            args.push(id);
        }
    }
    // Late-bound lifetimes cannot be named in a turbofish: const and type parameters only.
    let params: Vec<&Ident> = sig
        .generics
        .params
        .iter()
        .filter_map(|g| match g {
            syn::GenericParam::Const(c) => Some(&c.ident),
            syn::GenericParam::Type(t) => Some(&t.ident),
            syn::GenericParam::Lifetime(_) => None,
        })
        .collect();
    let turbofish = if params.is_empty() { TokenStream::new() } else { quote!(::<#(#params),*>) };
    quote! {
        #[doc(hidden)]
        #[inline(always)]
        #[allow(clippy::all, clippy::pedantic, unused, non_snake_case)]
        #vis #sig { #target #turbofish(#(#args),*) }
    }
}
