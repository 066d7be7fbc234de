//! The second order of a custom rule (`#[backprop(pullback = rule, hessian)]`, `custom.rs`).
//!
//! A caller's dual gradient calls `<name>_dual`, `<name>_pullback_dual` and `<name>_vjp_dual`
//! (`mod.rs`). For a custom rule these are the function, its generated pullback and vjp re-printed
//! over `Dual64` (`retype.rs`), which still call the user's `rule`: with the rule generic over
//! `T: Float` (`fn rule<T: Float>(x: T, result: T, d_result: T) -> (T,)`) it runs over `Dual64`
//! too, so its own derivative is taken by forward mode through the rule as written. That is the
//! second-order hook: the rule's tangent is exact when the rule is. A rule over `f64` only fails
//! to compile at its call in `<name>_pullback_dual`, where rustc names the rule and `Dual64`.

use super::retype::{self, dual_name, Renames};
use proc_macro2::TokenStream;
use quote::ToTokens;

/// The dual copies of a custom-rule function, from its expansion (`custom::expand`'s tokens).
pub fn dual_copies(func: &syn::ItemFn, expansion: &TokenStream) -> Result<TokenStream, TokenStream> {
    let name = func.sig.ident.to_string().trim_start_matches("r#").to_string();
    let mut renames = Renames::new();
    for n in [name.clone(), format!("{name}_pullback"), format!("{name}_vjp")] {
        renames.insert(n.clone(), dual_name(&n));
    }
    let file: syn::File = syn::parse2(expansion.clone()).map_err(|e| e.to_compile_error())?;
    let mut out = TokenStream::new();
    for item in &file.items {
        if let syn::Item::Fn(f) = item {
            if renames.contains_key(&f.sig.ident.to_string()) {
                let dual = retype::retype_fn(f, &renames).map_err(|e| e.to_compile_error())?;
                if f.sig.ident == func.sig.ident {
                    out.extend(super::tangent_alias::alias(&func.vis, &dual.sig, &name));
                }
                out.extend(dual.into_token_stream());
            }
        }
    }
    Ok(out)
}
