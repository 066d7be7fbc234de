//! Functions generic over their float type, `fn cost<T: Float>(x: &[T]) -> T`, differentiated once
//! per instantiation:
//!
//! ```text
//! expand(cost with T = f64)  ┐   struct CostGrad<T> { .. }            (fields as written, over T)
//! expand(cost with T = f64)  ├─► trait __CostGradFloat { fn cost_grad(..) .. }
//!                            │   impl __CostGradFloat for f64 { the f64 gradient }
//!                            │   impl __CostGradFloat for f32 { the f32 gradient }
//!                            └─► fn cost_grad<T: __CostGradFloat>(..) -> (T, CostGrad<T>)
//! ```
//!
//! Each instantiation goes through the whole pipeline with concrete types, so everything the macro
//! does for `f64` and `f32` holds for both (bit-identical values, the same code shape). The constants
//! generic code writes (`T::zero()`, `T::of_f64(0.5)`, `T::from(0.5).unwrap()`, `T::PI()`) are
//! lowered as literals and constants (`lower/float_calls.rs`). A generic function uses `T` for all
//! its floats.
//!
//! With `hessian`, the `f64` instantiation also prints its second order (`second_order/`): `cost_hvp`,
//! `cost_hessian`, `cost_jvp` and the dual copies, kept concrete (over `f64` and `CostGrad<f64>`)
//! because their tangent sweep runs over `Dual64`, a dual number over `f64`; the `f32` instantiation
//! has a gradient only.

use crate::attr::Options;
use crate::ctxt::Ctxt;
use crate::names::camel_case;
use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};
use syn::visit_mut::VisitMut;

/// The type parameter of a function generic over its float type (exactly one; const generics may
/// stand beside it).
pub fn float_param(func: &syn::ItemFn) -> Option<Ident> {
    let types: Vec<&syn::TypeParam> = func.sig.generics.type_params().collect();
    (types.len() == 1 && func.sig.generics.lifetimes().count() == 0).then(|| types[0].ident.clone())
}

/// Replaces the type parameter by a concrete float type in paths (`T`, `T::zero()`, `<T as Float>`).
struct Substitute<'a> {
    param: &'a Ident,
    with: Ident,
}

impl VisitMut for Substitute<'_> {
    fn visit_path_mut(&mut self, p: &mut syn::Path) {
        if p.leading_colon.is_none() && p.segments.first().is_some_and(|s| s.ident == *self.param) {
            let span = p.segments[0].ident.span();
            p.segments[0].ident = Ident::new(&self.with.to_string(), span);
        }
        syn::visit_mut::visit_path_mut(self, p);
    }
    // A macro's body is tokens, not paths: `vec![T::zero(); n]` needs its `T` replaced too.
    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        m.tokens = substitute_tokens(std::mem::take(&mut m.tokens), self.param, &self.with);
        syn::visit_mut::visit_macro_mut(self, m);
    }
}

/// `param` replaced by `with` in a token stream (through groups), spans kept.
fn substitute_tokens(tokens: TokenStream, param: &Ident, with: &Ident) -> TokenStream {
    tokens
        .into_iter()
        .map(|t| match t {
            TokenTree::Ident(i) if i == *param => TokenTree::Ident(Ident::new(&with.to_string(), i.span())),
            TokenTree::Group(g) => {
                let mut group = proc_macro2::Group::new(g.delimiter(), substitute_tokens(g.stream(), param, with));
                group.set_span(g.span());
                TokenTree::Group(group)
            }
            other => other,
        })
        .collect()
}

/// The function with `param` replaced by `ty` and removed from its generics.
fn monomorphize(func: &syn::ItemFn, param: &Ident, ty: &str) -> syn::ItemFn {
    let mut f = func.clone();
    f.sig.generics.params = f
        .sig
        .generics
        .params
        .into_iter()
        .filter(|p| !matches!(p, syn::GenericParam::Type(t) if t.ident == *param))
        .collect();
    f.sig.generics.where_clause = None;
    Substitute { param, with: Ident::new(ty, Span::call_site()) }.visit_item_fn_mut(&mut f);
    f
}

/// Replaces identifier `from` by the tokens `to` everywhere in `tokens`.
fn replace_ident(tokens: TokenStream, from: &str, to: &TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|t| -> Vec<TokenTree> {
            match t {
                TokenTree::Ident(i) if i == from => to.clone().into_iter().collect(),
                TokenTree::Group(g) => {
                    let mut group = proc_macro2::Group::new(g.delimiter(), replace_ident(g.stream(), from, to));
                    group.set_span(g.span());
                    vec![TokenTree::Group(group)]
                }
                TokenTree::Literal(l) if l.to_string().ends_with("_f64") => {
                    // A typed zero (`0.0_f64`) in the zero gradient: the generic type's own.
                    let digits = l.to_string().trim_end_matches("_f64").to_string();
                    let value: TokenStream = digits.parse().unwrap_or_default();
                    quote!(<#to as ::backprop::__private::Float>::of_f64(#value)).into_iter().collect()
                }
                other => vec![other],
            }
        })
        .collect()
}

/// Adds `T` as the first generic argument of every type path named `name`.
struct AddArgument<'a> {
    name: &'a Ident,
    arg: syn::Type,
}

impl VisitMut for AddArgument<'_> {
    // `CostGrad::<N>::zeros_like()` in a body: a turbofish needs the argument too (E0107 without).
    fn visit_expr_path_mut(&mut self, e: &mut syn::ExprPath) {
        for seg in e.path.segments.iter_mut().filter(|s| s.ident == *self.name) {
            if let syn::PathArguments::AngleBracketed(a) = &mut seg.arguments {
                a.args.insert(0, syn::GenericArgument::Type(self.arg.clone()));
            }
        }
        syn::visit_mut::visit_expr_path_mut(self, e);
    }
    fn visit_type_path_mut(&mut self, t: &mut syn::TypePath) {
        if let Some(last) = t.path.segments.last_mut() {
            if last.ident == *self.name {
                let arg = syn::GenericArgument::Type(self.arg.clone());
                match &mut last.arguments {
                    syn::PathArguments::AngleBracketed(a) => a.args.insert(0, arg),
                    args => *args = syn::PathArguments::AngleBracketed(syn::parse_quote!(<#arg>)),
                }
            }
        }
        syn::visit_mut::visit_type_path_mut(self, t);
    }
}

pub fn expand(options: &Options, func: &syn::ItemFn, param: &Ident) -> Result<TokenStream, TokenStream> {
    if let Some(t) = concrete_float(func.sig.to_token_stream()) {
        let message = format!(
            "a function generic over `{param}` uses `{param}` for all its floats; write `{param}` instead of `{t}` here"
        );
        return Err(syn::Error::new(t.span(), message).to_compile_error());
    }
    if options.explain {
        let message = "`explain` is not supported on a generic function yet; call it on a concrete one";
        return Err(syn::Error::new_spanned(&func.sig.ident, message).to_compile_error());
    }
    let base = func.sig.ident.to_string().trim_start_matches("r#").to_string();
    let grad_fn = format_ident!("{base}_grad");
    let acc_fn = format_ident!("{base}_grad_acc");
    let grad_struct = format_ident!("{}Grad", camel_case(&base));
    let (pullback_fn, vjp_fn) = (format_ident!("{base}_pullback"), format_ident!("{base}_vjp"));
    let dispatch = format_ident!("__{}Float", grad_struct);
    let t = param;

    let mut impls = TokenStream::new();
    let mut header = TokenStream::new();
    let mut wrappers = TokenStream::new();
    let mut signatures = TokenStream::new();
    // `hessian`: the second-order functions of the `f64` instantiation (they run over `Dual64`, a
    // dual number over `f64`), kept as they are with `CostGrad` read as `CostGrad<f64>`.
    let mut second_order = TokenStream::new();
    let (hvp_fn, hessian_fn, jvp_fn) = (format!("{base}_hvp"), format!("{base}_hessian"), format!("{base}_jvp"));
    let grad_field_prefix = format!("{base}_grad_");
    let is_second_order = |name: &str| {
        name.ends_with("_dual")
            || name == hvp_fn
            || name == hessian_fn
            || name == jvp_fn
            || (name.starts_with(&grad_field_prefix) && acc_fn != name)
    };
    let f64_ty: syn::Type = syn::parse_quote!(f64);
    for ty in ["f64", "f32"] {
        let mono = monomorphize(func, param, ty);
        let mut options = options.clone();
        options.hessian &= ty == "f64";
        let tokens = crate::expand_function(Ctxt::new(), &options, &mono)?;
        let file: syn::File = syn::parse2(tokens).map_err(|e| e.to_compile_error())?;
        let concrete: syn::Type = syn::parse_str(ty).expect("a float type");
        let mut methods = TokenStream::new();
        let mut modules = TokenStream::new();
        for item in file.items {
            match item {
                syn::Item::Fn(mut f) if f.sig.ident == grad_fn || f.sig.ident == acc_fn => {
                    // The original function is generic: the marker `let _ = cost;` cannot name it.
                    f.block.stmts.retain(|s| !matches!(s, syn::Stmt::Local(l) if matches!(l.pat, syn::Pat::Wild(_))));
                    let doc: Vec<syn::Attribute> =
                        f.attrs.iter().filter(|a| a.path().is_ident("doc")).cloned().collect();
                    f.attrs.retain(|a| !a.path().is_ident("doc"));
                    f.vis = syn::Visibility::Inherited;
                    AddArgument { name: &grad_struct, arg: concrete.clone() }.visit_item_fn_mut(&mut f);
                    // `cost_grad` calls `cost_grad_acc`: the trait's method for this type, not the
                    // generic wrapper of the same name (which takes `T` first: E0107).
                    SelfCalls { names: [grad_fn.clone(), acc_fn.clone()] }.visit_block_mut(&mut f.block);
                    if ty == "f64" {
                        // The generic wrapper and the trait's method, over `T` and `Self`.
                        let mut sig = f.sig.clone();
                        let generic_sig = replace_ident(sig.to_token_stream(), "f64", &t.to_token_stream());
                        let self_sig = replace_ident(sig.to_token_stream(), "f64", &quote!(Self));
                        sig.generics.params.clear();
                        let name = &f.sig.ident;
                        let args: Vec<TokenStream> = f
                            .sig
                            .inputs
                            .iter()
                            .filter_map(|i| match i {
                                syn::FnArg::Typed(p) => Some(p.pat.to_token_stream()),
                                syn::FnArg::Receiver(_) => None,
                            })
                            .collect();
                        let mut wrapper: syn::ItemFn =
                            syn::parse2(quote!(#generic_sig { <#t as #dispatch>::#name(#(#args),*) }))
                                .map_err(|e| e.to_compile_error())?;
                        wrapper.sig.generics.params.insert(0, syn::parse_quote!(#t: #dispatch));
                        wrapper.vis = func.vis.clone();
                        wrapper.attrs = doc;
                        wrapper.attrs.push(syn::parse_quote!(#[allow(clippy::all)]));
                        wrappers.extend(wrapper.into_token_stream());
                        signatures.extend(quote!(#self_sig;));
                    }
                    methods.extend(f.into_token_stream());
                }
                syn::Item::Fn(mut f) if options.hessian && is_second_order(&f.sig.ident.to_string()) => {
                    AddArgument { name: &grad_struct, arg: f64_ty.clone() }.visit_item_fn_mut(&mut f);
                    second_order.extend(f.into_token_stream());
                }
                syn::Item::Struct(s) if options.hessian && s.ident != grad_struct => {
                    second_order.extend(s.into_token_stream())
                }
                syn::Item::Impl(i) if options.hessian && !impl_of(&i, &grad_struct) => {
                    second_order.extend(i.into_token_stream())
                }
                // The pullback, its sweeps and the vjp: in a module per float type, forwarded to
                // by the dispatch trait, so that `#[backprop]` callers can call them (`calls.rs`).
                syn::Item::Fn(mut f) if is_pullback_item(&f.sig.ident.to_string(), &base) => {
                    f.block.stmts.retain(|s| !matches!(s, syn::Stmt::Local(l) if matches!(l.pat, syn::Pat::Wild(_))));
                    f.vis = syn::parse_quote!(pub(super));
                    let name = f.sig.ident.clone();
                    if name == pullback_fn || name == vjp_fn {
                        let module = format_ident!("__{}_{}", base, ty);
                        let args = argument_patterns(&f.sig);
                        let mut sig = f.sig.clone();
                        sig.generics.where_clause = None;
                        methods.extend(quote!(#[inline] #sig { #module::#name(#(#args),*) }));
                        if ty == "f64" {
                            let self_sig = replace_ident(sig.to_token_stream(), "f64", &quote!(Self));
                            signatures.extend(quote!(#self_sig;));
                            let generic_sig = replace_ident(sig.to_token_stream(), "f64", &t.to_token_stream());
                            let mut wrapper: syn::ItemFn =
                                syn::parse2(quote!(#generic_sig { <#t as #dispatch>::#name(#(#args),*) }))
                                    .map_err(|e| e.to_compile_error())?;
                            let at = wrapper.sig.generics.lifetimes().count();
                            wrapper.sig.generics.params.insert(at, syn::parse_quote!(#t: #dispatch));
                            wrapper.vis = func.vis.clone();
                            wrapper.attrs = vec![syn::parse_quote!(#[allow(clippy::all)])];
                            wrappers.extend(wrapper.into_token_stream());
                        }
                    }
                    modules.extend(f.into_token_stream());
                }
                syn::Item::Struct(s) if s.ident == grad_struct && ty == "f64" => {
                    let mut s: syn::ItemStruct =
                        syn::parse2(replace_ident(s.into_token_stream(), "f64", &t.to_token_stream()))
                            .map_err(|e| e.to_compile_error())?;
                    s.generics.params.insert(0, syn::parse_quote!(#t));
                    header.extend(quote!(#s));
                }
                syn::Item::Impl(i) if ty == "f64" => {
                    let mut i: syn::ItemImpl =
                        syn::parse2(replace_ident(i.into_token_stream(), "f64", &t.to_token_stream()))
                            .map_err(|e| e.to_compile_error())?;
                    // The runtime implements `Params` for `f32` and `f64`; over `T` it is a bound.
                    i.generics.params.insert(
                        0,
                        syn::parse_quote!(#t: ::backprop::__private::Float + ::backprop::__private::Params<Scalar = #t>),
                    );
                    let arg: syn::Type = syn::parse_quote!(#t);
                    AddArgument { name: &grad_struct, arg }.visit_type_mut(&mut i.self_ty);
                    header.extend(quote!(#i));
                }
                _ => {}
            }
        }
        impls.extend(quote!(impl #dispatch for #concrete { #methods }));
        let module = format_ident!("__{}_{}", base, ty);
        impls.extend(quote! {
            #[doc(hidden)]
            #[allow(non_snake_case, clippy::all)]
            mod #module {
                #[allow(unused_imports)]
                use super::*;
                #modules
            }
        });
    }
    let vis = &func.vis;
    Ok(quote! {
        #func
        #header
        #[doc(hidden)]
        #[allow(non_camel_case_types, clippy::all)]
        #vis trait #dispatch: ::backprop::__private::Float + ::backprop::__private::Params<Scalar = Self> {
            #signatures
        }
        #impls
        #wrappers
        #second_order
    })
}

/// Whether `i` implements something for the gradient struct `name`.
fn impl_of(i: &syn::ItemImpl, name: &Ident) -> bool {
    matches!(&*i.self_ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == *name))
}

/// The first `f64` or `f32` written in `tokens`.
fn concrete_float(tokens: TokenStream) -> Option<Ident> {
    tokens.into_iter().find_map(|t| match t {
        TokenTree::Ident(i) if i == "f64" || i == "f32" => Some(i),
        TokenTree::Group(g) => concrete_float(g.stream()),
        _ => None,
    })
}

/// `<base>_pullback`, its sweeps (`<base>_pullback_..`) and `<base>_vjp`.
fn is_pullback_item(name: &str, base: &str) -> bool {
    name == format!("{base}_vjp") || name.starts_with(&format!("{base}_pullback"))
}

/// The names a function's parameters bind, to forward them.
fn argument_patterns(sig: &syn::Signature) -> Vec<TokenStream> {
    sig.inputs
        .iter()
        .filter_map(|i| match i {
            syn::FnArg::Typed(p) => Some(match &*p.pat {
                syn::Pat::Ident(i) => i.ident.to_token_stream(),
                other => other.to_token_stream(),
            }),
            syn::FnArg::Receiver(_) => None,
        })
        .collect()
}

/// Calls of the named sibling functions as `Self::` calls.
struct SelfCalls {
    names: [Ident; 2],
}

impl VisitMut for SelfCalls {
    fn visit_expr_path_mut(&mut self, e: &mut syn::ExprPath) {
        if e.qself.is_none() && e.path.segments.len() == 1 && self.names.contains(&e.path.segments[0].ident) {
            e.path.segments.insert(0, syn::PathSegment::from(Ident::new("Self", Span::call_site())));
        }
        syn::visit_mut::visit_expr_path_mut(self, e);
    }
}
