//! Custom derivatives, in the spirit of JAX's `custom_vjp`: `#[backprop(pullback = erf_rule)]` on a
//! function the macro cannot see into or should not differentiate (a special function, a call into
//! another library, a numerically better rule than the literal one). Its body is kept as written and
//! not differentiated; the macro writes `<name>_pullback` with the convention's exact signature
//! (`docs/CALLS.md`), forwarding to the user's function, so callers' backward sweeps use the given
//! rule and rustc checks the user's signature against the convention, at the user's path.

use crate::ctxt::Ctxt;
use crate::lower::{classify_param, ParamClass};
use crate::names::Names;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

/// The function, unchanged, and `<name>_pullback` calling `pullback`.
pub fn expand(cx: &Ctxt, func: &syn::ItemFn, pullback: &syn::Path) -> TokenStream {
    let sig = &func.sig;
    // `<name>_vjp` is the name the macro gives the function's vjp (`docs/CALLS.md`).
    let vjp_name = format!("{}_vjp", sig.ident.to_string().trim_start_matches("r#"));
    if pullback.segments.len() == 1 && pullback.segments[0].ident == vjp_name {
        let message = format!(
            "`{vjp_name}` is the name `#[backprop]` gives the vjp of `{}` (its value and a closure for its pullback, see docs/CALLS.md); name the custom pullback something else, e.g. `{}_rule`",
            sig.ident, sig.ident
        );
        cx.error_spanned_by(pullback, message);
        return TokenStream::new();
    }
    let mut names = Names::new(func.to_token_stream());
    let result = format_ident!("{}", names.generated("result"));
    let seed = format_ident!("{}", names.generated("d_result"));
    let (result_ty, float) = match &sig.output {
        syn::ReturnType::Type(_, ty) => match crate::lower::result_class(ty) {
            Some((true, _)) => (quote!(#ty), true),
            Some((false, _)) => (quote!(&#ty), false),
            None => {
                cx.error_spanned_by(
                    ty,
                    "a function with a custom pullback returns a float (`f64`, `f32`) or a fixed-size array of floats (`[f64; N]`)",
                );
                return TokenStream::new();
            }
        },
        syn::ReturnType::Default => {
            cx.error_spanned_by(&sig.ident, "a function with a custom pullback returns a float or an array of floats");
            return TokenStream::new();
        }
    };
    let mut params = Vec::new();
    let mut vjp_params = Vec::new();
    let mut sink_types = Vec::new();
    let (vjp_generics, lifetime) = crate::emit::vjp_generics(&sig.generics);
    let mut args = Vec::new();
    let mut sinks = Vec::new();
    let mut sink_args = Vec::new();
    let mut returns = Vec::new();
    for (k, input) in sig.inputs.iter().enumerate() {
        match input {
            syn::FnArg::Receiver(r) => {
                if r.reference.is_none() || r.mutability.is_some() {
                    cx.error_spanned_by(r, "a method with a custom pullback takes `&self`");
                    return TokenStream::new();
                }
                params.push(quote!(&self));
                vjp_params.push(quote!(&#lifetime self));
                let sink = format_ident!("{}", names.generated("d_self"));
                sinks.push(quote!(#sink: ::core::option::Option<&mut Self>));
                sink_types.push(quote!(::core::option::Option<&mut Self>));
                sink_args.push(quote!(#sink));
                returns.push(quote!(()));
                let _ = k;
            }
            syn::FnArg::Typed(t) => {
                let name = match &*t.pat {
                    syn::Pat::Ident(p) => p.ident.clone(),
                    other => {
                        cx.error_spanned_by(other, "name the argument, e.g. `x: f64`");
                        return TokenStream::new();
                    }
                };
                let ty = &t.ty;
                params.push(quote!(#name: #ty));
                let named = crate::emit::with_lifetime(&ty.to_token_stream(), &lifetime);
                vjp_params.push(quote!(#name: #named));
                args.push(quote!(#name));
                match classify_param(ty) {
                    ParamClass::Float(f) => {
                        let f = syn::Ident::new(f.name(), Span::call_site());
                        returns.push(quote!(#f));
                    }
                    ParamClass::Sink(target) => {
                        let sink = format_ident!("{}", names.generated(&format!("d_{name}")));
                        sinks.push(quote!(#sink: ::core::option::Option<&mut #target>));
                        sink_types.push(quote!(::core::option::Option<&mut #target>));
                        sink_args.push(quote!(#sink));
                        returns.push(quote!(()));
                    }
                    ParamClass::Passive => returns.push(quote!(())),
                }
            }
        }
    }
    let vis = &func.vis;
    let name = sig.ident.to_string();
    let pullback_fn = format_ident!("{}_pullback", name.trim_start_matches("r#"));
    let (impl_generics, _, where_clause) = sig.generics.split_for_impl();
    let receiver = sig.receiver().is_some();
    let call = if receiver {
        quote_spanned!(pullback.span()=> #pullback(self, #(#args,)* #result, #seed, #(#sink_args),*))
    } else {
        quote_spanned!(pullback.span()=> #pullback(#(#args,)* #result, #seed, #(#sink_args),*))
    };
    let shown = pullback.to_token_stream().to_string().replace(' ', "");
    let doc = format!(
        "The pullback of [`{name}`], given by its custom derivative `{shown}` (`#[backprop(pullback = {shown})]`): what `#[backprop]` functions calling `{name}` call in their backward sweep."
    );
    // `<name>_vjp`: the function once, then its pullback at the result (`docs/CALLS.md`). The
    // closure keeps the arguments, so a passive argument passed by value must be `Copy`.
    let vjp_fn = format_ident!("{}_vjp", name.trim_start_matches("r#"));
    let fn_ident = &sig.ident;
    let (vjp_impl_generics, _, _) = vjp_generics.split_for_impl();
    let owned = match &sig.output {
        syn::ReturnType::Type(_, ty) => quote!(#ty),
        syn::ReturnType::Default => quote!(()),
    };
    let (forward, back) = if receiver {
        (quote!(self.#fn_ident(#(#args),*)), quote!(self.#pullback_fn))
    } else {
        (quote!(#fn_ident(#(#args),*)), quote!(#pullback_fn))
    };
    let (kept, passed) = if float {
        (quote!(#result), quote!(#result))
    } else {
        (quote!(::core::clone::Clone::clone(&#result)), quote!(&#result))
    };
    let vjp_doc = format!(
        "[`{name}`] and its pullback in one call: what `#[backprop]` functions calling `{name}` once call in their forward sweep. The closure calls `{name}_pullback` at the value `{name}` returned."
    );
    quote! {
        #func

        #[doc = #vjp_doc]
        #[inline]
        #[allow(clippy::too_many_arguments, clippy::type_complexity)]
        #vis fn #vjp_fn #vjp_impl_generics (#(#vjp_params),*)
            -> (#owned, impl ::core::ops::FnOnce(#result_ty, #(#sink_types),*) -> (#(#returns,)*) + #lifetime) #where_clause {
            let #result = #forward;
            (#kept, move |#seed: #result_ty, #(#sinks),*| #back(#(#args,)* #passed, #seed, #(#sink_args),*))
        }

        #[doc = #doc]
        #[inline]
        #[allow(clippy::too_many_arguments)]
        #vis fn #pullback_fn #impl_generics (#(#params,)* #result: #result_ty, #seed: #result_ty, #(#sinks),*) -> (#(#returns,)*) #where_clause {
            #call
        }
    }
}
