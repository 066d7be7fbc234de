//! The dual twin of a `#[derive(Params)]` struct (emitted by the derive): the same fields over
//! `Dual64` (`<FieldTy as DualTwin>::Twin`), so that the dual copy of a gradient (`mod.rs`) can
//! read `net.l1.w[j][i]` from a struct argument seeded with a direction, and back to real parts.
//!
//! Emitted only when it cannot fail to compile where the struct's `Params` impl compiles: no field
//! mentions `f32` or a type parameter (a struct over `f32` or generic over its float has no twin;
//! `#[backprop(hessian)]` needs `f64`). A field of another struct type needs that type's twin
//! (derived structs and the runtime's `Dense` have one), but only where a twin is used: every
//! requirement on a field type is a `where for<'__twin> Field: DualTwin` bound on the twin struct
//! and its impls. Such a higher-ranked bound on a concrete type is not checked where it is written
//! (a plain `Field: DualTwin` would be, and fail), only where `Net: DualTwin` is needed: in the
//! dual copies a `#[backprop(hessian)]` function emits. A struct with a field whose `Params` impl is
//! hand-written (no twin) therefore derives, and has gradients, as before; only a Hessian over it
//! asks for `DualTwin` on that field. A field of the struct's own type (`kids: Vec<Tree>`) gets no
//! such bound (it would be a cycle); mutually recursive structs overflow and have no Hessian.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// The twin struct and the `DualTwin`/`DualParts`/`ZerosLike` impls, or nothing (see the module doc).
pub fn derive_twin(input: &syn::DeriveInput, members: &[(syn::Member, &syn::Type)]) -> TokenStream {
    let type_params: Vec<String> = input.generics.type_params().map(|p| p.ident.to_string()).collect();
    let unsafe_field = members.iter().any(|(_, ty)| mentions(&quote!(#ty), &type_params));
    if unsafe_field || input.generics.lifetimes().next().is_some() {
        return TokenStream::new();
    }
    let krate = quote!(::backprop::__private);
    let name = &input.ident;
    let twin: Ident = format_ident!("__{}DualTwin", name);
    let vis = &input.vis;
    // The deferred bounds (module doc): every field's twin, its parts back and its zero.
    let mut generics = input.generics.clone();
    let mut parts_generics = input.generics.clone();
    let mut zeros_generics = input.generics.clone();
    // A field of the struct's own type (`kids: Vec<Tree>`) is left to its field type: a bound on it
    // would be a cycle (`Tree: DualTwin` needs `Vec<Tree>: DualTwin` needs `Tree: DualTwin`), which
    // rustc reports as an overflow where the struct is derived.
    let own = [input.ident.to_string()];
    for (_, ty) in members.iter().filter(|(_, ty)| !mentions_any(&quote!(#ty), &own)) {
        let twin_ty = quote!(<#ty as #krate::DualTwin>::Twin);
        let twin_bound: syn::WherePredicate = syn::parse_quote!(for<'__twin> #ty: #krate::DualTwin);
        generics.make_where_clause().predicates.push(twin_bound.clone());
        parts_generics.make_where_clause().predicates.push(twin_bound.clone());
        parts_generics
            .make_where_clause()
            .predicates
            .push(syn::parse_quote!(for<'__twin> #twin_ty: #krate::DualParts<Real = #ty>));
        zeros_generics.make_where_clause().predicates.push(twin_bound);
        zeros_generics.make_where_clause().predicates.push(syn::parse_quote!(for<'__twin> #twin_ty: #krate::ZerosLike));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let (_, _, parts_where) = parts_generics.split_for_impl();
    let (_, _, zeros_where) = zeros_generics.split_for_impl();
    let tys: Vec<TokenStream> = members.iter().map(|(_, ty)| quote!(<#ty as #krate::DualTwin>::Twin)).collect();
    let ms: Vec<&syn::Member> = members.iter().map(|(m, _)| m).collect();
    let tuple = matches!(ms.first(), Some(syn::Member::Unnamed(_)));
    let definition = if tuple {
        quote!(#vis struct #twin #impl_generics (#(#vis #tys),*) #where_clause;)
    } else {
        quote!(#vis struct #twin #impl_generics #where_clause { #(#vis #ms: #tys),* })
    };
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #definition

        #[automatically_derived]
        impl #impl_generics #krate::DualTwin for #name #ty_generics #where_clause {
            type Twin = #twin #ty_generics;
            fn dualize(&self, tangent: &Self) -> Self::Twin {
                #twin { #(#ms: #krate::DualTwin::dualize(&self.#ms, &tangent.#ms)),* }
            }
            fn constant(&self) -> Self::Twin {
                #twin { #(#ms: #krate::DualTwin::constant(&self.#ms)),* }
            }
        }

        #[automatically_derived]
        impl #impl_generics #krate::DualParts for #twin #ty_generics #parts_where {
            type Real = #name #ty_generics;
            fn real(&self) -> Self::Real {
                #name { #(#ms: #krate::DualParts::real(&self.#ms)),* }
            }
            fn tangent(&self) -> Self::Real {
                #name { #(#ms: #krate::DualParts::tangent(&self.#ms)),* }
            }
        }

        #[automatically_derived]
        impl #impl_generics #krate::ZerosLike for #twin #ty_generics #zeros_where {
            fn zeros_like(&self) -> Self {
                #twin { #(#ms: #krate::ZerosLike::zeros_like(&self.#ms)),* }
            }
        }
    }
}

/// Whether `tokens` name one of `names`.
fn mentions_any(tokens: &TokenStream, names: &[String]) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => names.iter().any(|n| i == n),
        proc_macro2::TokenTree::Group(g) => mentions_any(&g.stream(), names),
        _ => false,
    })
}

/// Whether `tokens` name `f32` or one of `params`.
fn mentions(tokens: &TokenStream, params: &[String]) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == "f32" || params.iter().any(|p| i == p),
        proc_macro2::TokenTree::Group(g) => mentions(&g.stream(), params),
        _ => false,
    })
}
