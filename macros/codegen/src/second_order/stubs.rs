//! Stand-ins for the dual copies a function without `hessian` does not have.
//!
//! A `#[backprop(hessian)]` caller's dual gradient calls `inner_pullback_dual` or `inner_vjp_dual`
//! (`mod.rs`). Without `hessian`, `inner` emits functions of those names that
//! take anything and are bounded on a runtime trait that never holds
//! (`runtime/src/no_second_order.rs`), so that such a caller's error is that trait's message at
//! its call of `inner` ("this callee is differentiable once only", naming the fix) rather than
//! "cannot find function `inner_vjp_dual`". The bound is higher-ranked, so it is checked at calls
//! only: first-order callers never call these and never see it.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// The stand-ins for `func` (whose printed pullback and vjp are `pullback` and `vjp`), or nothing
/// for a function with generic parameters (a caller's turbofish would not fit) or a method. Without
/// `forward` either, also the stand-in of the alias a `#[backprop(forward)]` caller calls
/// (`tangent_alias.rs`), bounded on `HasForwardMode`.
pub fn stubs(func: &syn::ItemFn, pullback: &TokenStream, vjp: &TokenStream, forward: bool) -> TokenStream {
    let Some(name) = stand_in_name(func) else { return TokenStream::new() };
    let mut out = TokenStream::new();
    let vis = &func.vis;
    if !forward {
        let alias = super::tangent_alias::alias_name(&name);
        out.extend(stand_in(vis, &alias, func.sig.inputs.len(), "NoForwardMode", "HasForwardMode"));
    }
    // Not `<name>_dual`: a user's own `loss_dual` (a dual problem) must not collide with a
    // first-order function's stand-ins. A caller reaches a callee through its pullback or vjp.
    let wanted = [
        (format!("{name}_pullback_dual"), arity(pullback, &format!("{name}_pullback"))),
        (format!("{name}_vjp_dual"), arity(vjp, &format!("{name}_vjp"))),
    ];
    for (stub, n) in wanted {
        let Some(n) = n else { continue };
        out.extend(stand_in(vis, &format_ident!("{stub}"), n, "NoSecondOrder", "HasSecondOrder"));
    }
    out
}

/// `func`'s name (without `r#`) if stand-ins can be called like it: not a method, and no type or
/// const parameters (a caller's turbofish would not fit a stand-in's own parameters).
pub fn stand_in_name(func: &syn::ItemFn) -> Option<String> {
    let generic = func.sig.generics.params.iter().any(|p| !matches!(p, syn::GenericParam::Lifetime(_)));
    if generic || matches!(func.sig.inputs.first(), Some(syn::FnArg::Receiver(_))) {
        return None;
    }
    Some(func.sig.ident.to_string().trim_start_matches("r#").to_string())
}

/// The number of arguments of the function `wanted` among the printed items `tokens`.
pub fn arity(tokens: &TokenStream, wanted: &str) -> Option<usize> {
    let file: syn::File = syn::parse2(tokens.clone()).ok()?;
    file.items.iter().find_map(|i| match i {
        syn::Item::Fn(f) if f.sig.ident == wanted => Some(f.sig.inputs.len()),
        _ => None,
    })
}

/// A hidden function `name` taking `arity` arguments of any types, bounded on
/// `for<'__h> __private::{unmet}: __private::{trait_name}`, a runtime trait `unmet` never
/// implements: a call of it fails with that trait's message (which names the fix) at the caller's
/// call, and nothing that does not call it ever checks the bound.
pub fn stand_in(vis: &syn::Visibility, name: &syn::Ident, arity: usize, unmet: &str, trait_name: &str) -> TokenStream {
    let (unmet, trait_name) = (format_ident!("{unmet}"), format_ident!("{trait_name}"));
    let types: Vec<syn::Ident> = (0..arity).map(|k| format_ident!("__A{k}")).collect();
    quote! {
        #[doc(hidden)]
        #[allow(unused, non_snake_case, clippy::all)]
        #vis fn #name <#(#types),*> (#(_: #types),*) -> !
        where
            for<'__h> ::backprop::__private::#unmet: ::backprop::__private::#trait_name,
        {
            ::core::unreachable!()
        }
    }
}
