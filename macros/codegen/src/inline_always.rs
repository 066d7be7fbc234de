//! `#[inline(always)]` on a `#[backprop]` function carries to every function generated from it.
//!
//! A caller compiled for more of the CPU (`#[target_feature(enable = "avx512f")]`, chosen at run
//! time with `is_x86_feature_detected!`) compiles for that CPU only what is inlined into it: with
//! the attribute on the primal, `cost_hvp` and the sweeps it runs are inlined into such a caller
//! and vectorised for it, which a separately compiled `cost_hvp` never is. The generated functions'
//! own inline hints are replaced, so every one of them is `#[inline(always)]`.

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Whether `attrs` hold `#[inline(always)]`.
fn is_inline_always(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("inline")
            && matches!(&a.meta, syn::Meta::List(list) if list.tokens.to_string().trim() == "always")
    })
}

/// `items` (the expansion of `func`) with every function `#[inline(always)]` when `func` is; else
/// `items` unchanged. Items that are not a file of items (a method's, printed into its `impl`)
/// are left as they are.
pub fn carry(func: &syn::ItemFn, items: TokenStream) -> TokenStream {
    if !is_inline_always(&func.attrs) {
        return items;
    }
    let Ok(mut file) = syn::parse2::<syn::File>(items.clone()) else { return items };
    for item in &mut file.items {
        if let syn::Item::Fn(f) = item {
            f.attrs.retain(|a| !a.path().is_ident("inline"));
            f.attrs.push(syn::parse_quote!(#[inline(always)]));
        }
    }
    file.into_token_stream()
}
