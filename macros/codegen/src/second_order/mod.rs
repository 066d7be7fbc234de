//! Second order and vector outputs (`#[backprop(hessian)]`, `<name>_jacobian`).
//!
//! ```text
//! cost ── pipeline ──► cost_grad, cost_grad_acc, CostGrad          (f64, as always)
//!                         │ retype.rs: the same printed tokens over Dual64
//!                         ▼
//!                      cost_grad_dual, cost_grad_acc_dual, CostGradDual
//!                         │ arguments seeded with the direction v
//!                         ▼
//! cost_hvp   = (re(value), re(gradient), ε(gradient))            forward-over-reverse
//! cost_hessian = cost_hvp at the n unit directions, symmetrised
//! cost_jvp   = (value, ⟨∇C, v⟩)
//! ```
//!
//! The tangent sweep is the generated gradient itself, run over dual numbers: every loop, tape,
//! branch, `while` trip count and call of the gradient carries a tangent because it is the same
//! code. A call inside the function goes through the callee's pullback, which therefore needs a
//! dual copy too: `#[backprop(hessian)]` on any function also emits `<name>_dual`,
//! `<name>_pullback_dual` and `<name>_vjp_dual` (the callee's printed pullback and vjp over
//! `Dual64`), and a caller's dual gradient calls those. A `#[backprop]` callee without `hessian`
//! emits stand-ins of the last two instead (`stubs.rs`) whose bound fails with a message naming the
//! fix at the caller's call. The runtime's layers are generic over `F: Float`, so their dual copies
//! are themselves (re-exported as `dense_vjp_dual`, ...). A custom rule gets dual copies with
//! `#[backprop(pullback = rule, hessian)]` when the rule is generic over `T: Float`
//! (`custom_rule.rs`).
//!
//! `jacobian.rs`: `<name>_jacobian` of functions returning `[f64; M]`, by M pullbacks.

pub mod constant_args;
pub mod custom_rule;
pub mod forward;
pub mod grad_of_grad;
pub mod jacobian;
pub mod passive_args;
pub mod retype;
pub mod scale;
pub mod stubs;
pub mod tangent_alias;
pub mod twin;

use crate::ir;
use crate::names::camel_case;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use retype::{dual_name, Renames};

/// The names every dual copy renames, for a function `name` (its own generated items).
fn own_renames(name: &str, grad_struct: &str) -> Renames {
    let mut r = Renames::new();
    for n in [
        name.to_string(),
        format!("{name}_grad"),
        format!("{name}_grad_acc"),
        format!("{name}_pullback"),
        format!("{name}_pullback_sweep"),
        format!("{name}_vjp"),
    ] {
        r.insert(n.clone(), dual_name(&n));
    }
    r.insert(grad_struct.to_string(), Ident::new(&format!("{grad_struct}Dual"), Span::call_site()));
    r
}

/// Parameter structs named in generated bodies (`&mut Net`) become their twins (`retype.rs`).
fn struct_twins(f: &ir::Function) -> Vec<String> {
    f.params
        .iter()
        .filter_map(|p| p.strukt.as_ref())
        // `Net`, or the name of a generic one (`Dense<4, 3>`, `layers::Dense<2, 2, f64>`).
        .filter_map(|s| match syn::parse2::<syn::Type>(s.clone()).ok()? {
            syn::Type::Path(p) => p.path.segments.last().map(|seg| seg.ident.to_string()),
            _ => None,
        })
        .collect()
}

/// Callees reached through calls: their value, pullback and vjp, renamed to their dual copies.
fn callee_renames(f: &ir::Function, r: &mut Renames) {
    // A passive call's callee is a plain function, called as it is.
    for call in f.calls.iter().filter(|c| !c.passive) {
        for path in [&call.callee, &call.pullback, &call.vjp] {
            if let Some(last) = last_ident(path) {
                let name = last.to_string();
                r.insert(name.clone(), dual_name(&name));
            }
        }
    }
}

pub(crate) fn last_ident(path: &TokenStream) -> Option<Ident> {
    path.clone()
        .into_iter()
        .filter_map(|t| if let proc_macro2::TokenTree::Ident(i) = t { Some(i) } else { None })
        .find(|i| {
            let s = i.to_string();
            !s.is_empty() && s != "crate" && s != "self" && s != "super"
        })
        .and_then(|_| {
            // The last identifier before any turbofish (`layers::dense_pullback::<4, 3>`).
            let mut last = None;
            for t in path.clone() {
                match t {
                    proc_macro2::TokenTree::Ident(i) => last = Some(i),
                    proc_macro2::TokenTree::Punct(p) if p.as_char() == '<' => break,
                    _ => {}
                }
            }
            last
        })
}

/// The dual copies of a function's pullback and vjp, and `<name>_dual` (its value, through the
/// vjp): what callers' dual gradients call. Emitted for every `#[backprop(hessian)]` function.
pub fn dual_callee(
    func: &syn::ItemFn,
    f: &ir::Function,
    pullback: &TokenStream,
    vjp: &TokenStream,
) -> Result<TokenStream, TokenStream> {
    let name = func.sig.ident.to_string().trim_start_matches("r#").to_string();
    let mut renames = own_renames(&name, &format!("{}Grad", camel_case(&name)));
    callee_renames(f, &mut renames);
    let _twins = retype::TwinScope::enter(struct_twins(f));
    let mut out = TokenStream::new();
    for tokens in [pullback, vjp] {
        let file: syn::File = syn::parse2(tokens.clone()).map_err(|e| e.to_compile_error())?;
        for item in &file.items {
            let item = retype::retype_item(item, &renames).map_err(|e| e.to_compile_error())?;
            out.extend(item.into_token_stream());
        }
    }
    // `<name>_dual(args) = <name>_vjp_dual(args).0`: the forward value over duals, without
    // re-printing the user's own body.
    let vjp_file: syn::File = syn::parse2(vjp.clone()).map_err(|e| e.to_compile_error())?;
    let vjp_name = format!("{name}_vjp");
    if let Some(vjp_fn) = vjp_file.items.iter().find_map(|i| match i {
        syn::Item::Fn(f) if f.sig.ident == vjp_name => Some(f),
        _ => None,
    }) {
        let mut sig = vjp_fn.sig.clone();
        syn::visit_mut::VisitMut::visit_signature_mut(&mut retype::RetypeTypes { renames: &renames }, &mut sig);
        sig.ident = dual_name(&name);
        let output = match &sig.output {
            syn::ReturnType::Type(_, t) => match &**t {
                syn::Type::Tuple(tuple) if !tuple.elems.is_empty() => tuple.elems[0].clone(),
                _ => return Ok(out),
            },
            _ => return Ok(out),
        };
        sig.output = syn::parse_quote!(-> #output);
        let vjp_dual = dual_name(&vjp_name);
        let args = arg_names(&sig);
        // Late-bound lifetimes cannot be named in a turbofish: const and type parameters only.
        let params: Vec<TokenStream> = sig
            .generics
            .params
            .iter()
            .filter_map(|g| match g {
                syn::GenericParam::Const(c) => Some(c.ident.to_token_stream()),
                syn::GenericParam::Type(t) => Some(t.ident.to_token_stream()),
                syn::GenericParam::Lifetime(_) => None,
            })
            .collect();
        let generics = if params.is_empty() { TokenStream::new() } else { quote!(::<#(#params),*>) };
        out.extend(tangent_alias::alias(&func.vis, &sig, &name));
        out.extend(quote! {
            #[doc(hidden)]
            #[allow(clippy::all, unused, non_snake_case)]
            #sig { #vjp_dual #generics (#(#args),*).0 }
        });
    }
    Ok(out)
}

fn arg_names(sig: &syn::Signature) -> Vec<TokenStream> {
    sig.inputs
        .iter()
        .filter_map(|i| match i {
            syn::FnArg::Typed(p) => Some(p.pat.to_token_stream()),
            syn::FnArg::Receiver(_) => None,
        })
        .collect()
}

/// `cost_hvp`, `cost_hessian`, `cost_jvp` and the dual gradient they run, for a scalar cost whose
/// gradient the pipeline printed into `expansion`.
pub fn hessian(
    func: &syn::ItemFn,
    f: &ir::Function,
    expansion: &TokenStream,
    with_jvp: bool,
) -> Result<TokenStream, TokenStream> {
    let err = |e: syn::Error| e.to_compile_error();
    let name = func.sig.ident.to_string().trim_start_matches("r#").to_string();
    let grad_struct = format!("{}Grad", camel_case(&name));
    let mut renames = own_renames(&name, &grad_struct);
    callee_renames(f, &mut renames);
    let _twins = retype::TwinScope::enter(struct_twins(f));
    let file: syn::File = syn::parse2(expansion.clone()).map_err(|e| e.to_compile_error())?;
    let (grad_name, acc_name) = (format!("{name}_grad"), format!("{name}_grad_acc"));
    let mut dual_items = Vec::new();
    let mut grad_fn = None;
    for item in &file.items {
        let keep = match item {
            syn::Item::Fn(g) if g.sig.ident == grad_name => {
                grad_fn = Some(g.clone());
                true
            }
            syn::Item::Fn(g) => g.sig.ident == acc_name,
            syn::Item::Struct(s) => s.ident == grad_struct,
            syn::Item::Impl(i) => {
                i.trait_.is_none() && matches!(&*i.self_ty, syn::Type::Path(p) if p.path.is_ident(&grad_struct))
            }
            _ => false,
        };
        if keep {
            dual_items.push(retype::retype_item(item, &renames).map_err(err)?);
        }
    }
    let Some(grad_fn) = grad_fn else {
        return Err(syn::Error::new_spanned(
            &func.sig.ident,
            "internal error: no gradient function to differentiate again",
        )
        .to_compile_error());
    };
    let grad_ty = match &grad_fn.sig.output {
        syn::ReturnType::Type(_, t) => match &**t {
            syn::Type::Tuple(tuple) if tuple.elems.len() == 2 => tuple.elems[1].clone(),
            _ => return Err(quote!(::core::compile_error!("internal error: unexpected gradient signature");)),
        },
        _ => return Err(quote!(::core::compile_error!("internal error: unexpected gradient signature");)),
    };
    if f.float != ir::FloatTy::F64 {
        let message = "`hessian` needs a function over `f64` (its second derivatives run over `Dual64`, a dual number over `f64`); write it over `f64`, or generic over `T: Float` to keep its `f32` gradient and have the Hessian of its `f64` instantiation";
        return Err(syn::Error::new_spanned(&func.sig.ident, message).to_compile_error());
    }

    // Data arguments (not differentiated, flat `f64` arrays) stay `f64` where the dual gradient
    // only reads their elements (`constant_args.rs`).
    let candidates: Vec<(String, syn::Type)> = f
        .params
        .iter()
        .zip(grad_fn.sig.inputs.iter())
        .filter_map(|(p, input)| match input {
            syn::FnArg::Typed(t) if !p.wrt && p.strukt.is_none() && constant_args::is_flat_f64(&t.ty) => {
                Some((p.name.to_string(), (*t.ty).clone()))
            }
            _ => None,
        })
        .collect();
    let (grad_dual_name, acc_dual_name) = (dual_name(&grad_name).to_string(), dual_name(&acc_name).to_string());
    let mut dual_fns: Vec<&mut syn::ItemFn> = dual_items
        .iter_mut()
        .filter_map(|i| match i {
            syn::Item::Fn(g) if g.sig.ident == grad_dual_name || g.sig.ident == acc_dual_name => Some(g),
            _ => None,
        })
        .collect();
    let kept = constant_args::keep_f64(&mut dual_fns, &candidates, &acc_dual_name);
    // Each is called once (`_hvp` calls `_grad_dual`, which calls `_grad_acc_dual`): inlined, the
    // value's tangent, which `_hvp` drops, is not computed at all.
    for g in dual_fns {
        g.attrs.push(syn::parse_quote!(#[inline(always)]));
    }
    let mut duals = TokenStream::new();
    for item in &dual_items {
        duals.extend(item.into_token_stream());
    }

    // The arguments: dual twins seeded by `v` (differentiated), constant twins (other floats and
    // parameter structs), or passed as they are.
    let grad_struct_ident = Ident::new(&grad_struct, Span::call_site());
    let mut prelude = TokenStream::new();
    let mut call_args = Vec::new();
    let mut real_fields = Vec::new();
    let mut tangent_fields = Vec::new();
    let twin = quote!(::backprop::__private::DualTwin);
    let parts = quote!(::backprop::__private::DualParts);
    // The direction is `v` unless an argument has that name.
    let v = if f.params.iter().any(|p| p.name == "v") { format_ident!("__v") } else { format_ident!("v") };
    for (p, input) in f.params.iter().zip(grad_fn.sig.inputs.iter()) {
        let syn::FnArg::Typed(input) = input else {
            return Err(syn::Error::new_spanned(
                input,
                "`hessian` is not supported on methods yet; use a free function",
            )
            .to_compile_error());
        };
        let name = &p.name;
        let reference = matches!(&*input.ty, syn::Type::Reference(_));
        let floaty = p.strukt.is_some() || contains_float(&input.ty.to_token_stream());
        let local = format_ident!("__dual_{}", name);
        if !floaty || kept.iter().any(|k| name == k) {
            call_args.push(quote!(#name));
            continue;
        }
        let arg = if reference { quote!(#name) } else { quote!(&#name) };
        if p.wrt {
            prelude.extend(quote!(let #local = #twin::dualize(#arg, &#v.#name);));
            real_fields.push(quote!(#name: #parts::real(&__g.#name)));
            tangent_fields.push(quote!(#name: #parts::tangent(&__g.#name)));
        } else {
            prelude.extend(quote!(let #local = #twin::constant(#arg);));
        }
        call_args.push(if reference { quote!(&#local) } else { quote!(#local) });
    }
    let grad_dual = dual_name(&grad_name);
    let generics = &grad_fn.sig.generics;
    let (_, ty_generics, _) = generics.split_for_impl();
    let turbofish = ty_generics.as_turbofish();
    let inputs = &grad_fn.sig.inputs;
    let vis = &func.vis;
    let (hvp, hessian, jvp) =
        (format_ident!("{name}_hvp"), format_ident!("{name}_hessian"), format_ident!("{name}_jvp"));
    let plain_args = arg_names(&grad_fn.sig);
    let _ = &grad_struct_ident;
    let hvp_doc = format!(
        " The value, the gradient and the Hessian-vector product `H·v` of [`{name}`], by forward-over-reverse \
         differentiation generated by `#[backprop(hessian)]`.\n\n \
         Returns `({name}(..), ∇C, H·v)`: `H = ∇²C` over the gradient's flat view (`Params` order of \
         `{grad}`: differentiated arguments in order, each row-major), `v` a direction of the gradient's own \
         type (one entry per differentiated scalar). The value and the gradient are bit for bit those of \
         [`{name}_grad`].\n\n \
         # How\n\n \
         One sweep pair, no tape of its own: the code of [`{name}_grad`] (its forward sweep and its reverse \
         sweep, as generated) is printed a second time over the dual number `Dual64 = re + ε·eps`, and run \
         once with every differentiated argument seeded `x + ε·v.x` (the others with zero tangent). That is \
         a forward (tangent) sweep carried through the whole gradient: every value, tape entry and adjoint \
         holds its tangent along `v`, so the real parts are the `f64` computation itself (value and \
         gradient) and the `ε` parts of the adjoints are `H·v`. What the gradient reuses, this reuses: the \
         same loops and tapes (holding duals), the same branches and `while` trip counts (decided on real \
         parts, as the `f64` code decides them), the callees' pullbacks (their dual copies, which \
         `#[backprop(hessian)]` on each callee emits). Cost: one gradient over `Dual64`, each operation \
         about two to three `f64` operations, so a small constant times [`{name}_grad`].",
        grad = grad_struct
    );
    let hessian_doc = format!(
        " The value, the gradient and the dense Hessian of [`{name}`]: `h[i][j] = ∂²C/∂θᵢ∂θⱼ` over the \
         gradient's flat view (`Params` order of `{grad_struct}`: differentiated arguments in order, each \
         row-major; `n = grad.num_params()`, `h` is `n` rows of `n`), generated by `#[backprop(hessian)]`.\n\n \
         # How\n\n \
         `n` Hessian-vector products: column `j` is the tangent part of [`{name}_hvp`] at the unit direction \
         `e_j` (forward-over-reverse, one dual run of the generated gradient per column). Each column runs \
         the whole sweep again; nothing is shared between columns but the direction buffer (one gradient \
         struct, set to `e_j` in turn). The value and the gradient come from one plain [`{name}_grad`] call, \
         so they are bit for bit its own. The columns are then symmetrised, `h[i][j] = (Hᵢⱼ + Hⱼᵢ)/2`, so \
         `h[i][j] == h[j][i]` exactly (the two products differ by rounding only). Cost: `n` dual gradients, \
         about `n` times [`{name}_hvp`]; for large `n` prefer `{name}_hvp` in an iterative solver."
    );
    let jvp_doc = format!(
        " The value of [`{name}`] and its directional derivative `∇C·v` along `v` (a direction of the \
         gradient's shape), from one gradient (`{name}_grad`): for a scalar cost the forward-mode \
         product is the dot product of the gradient with `v`, and costs no more."
    );
    let grad_fn_ident = format_ident!("{name}_grad");
    let doc_attrs = |d: &str| -> TokenStream { quote!(#[doc = #d]) };
    let (hvp_doc, hessian_doc, jvp_doc) = (doc_attrs(&hvp_doc), doc_attrs(&hessian_doc), doc_attrs(&jvp_doc));
    let allows = quote!(#[allow(clippy::all, clippy::pedantic, unused, non_snake_case, clippy::ptr_arg)]);
    let runtime = quote!(::backprop::__private::dual);
    let items = quote! {
        #duals
        #hvp_doc
        #allows
        #vis fn #hvp #generics (#inputs, #v: &#grad_ty) -> (f64, #grad_ty, #grad_ty) {
            #prelude
            let (__value, __g) = #grad_dual #turbofish (#(#call_args),*);
            (__value.re, #grad_struct_ident { #(#real_fields,)* }, #grad_struct_ident { #(#tangent_fields,)* })
        }
        #hessian_doc
        #allows
        #vis fn #hessian #generics (#inputs) -> (f64, #grad_ty, ::std::vec::Vec<::std::vec::Vec<f64>>) {
            let (__value, __grad) = #grad_fn_ident #turbofish (#(#plain_args),*);
            // A buffer of the gradient's shape for the unit directions (gradient structs need not be `Clone`).
            let (_, __buffer) = #grad_fn_ident #turbofish (#(#plain_args),*);
            let __h = #runtime::hessian_by_columns(__buffer, |__direction| #hvp #turbofish (#(#plain_args,)* __direction).2);
            (__value, __grad, __h)
        }
    };
    // With `forward` too, `_jvp` is the forward-mode one (`forward.rs`).
    let jvp_fn = if with_jvp {
        quote! {
            #jvp_doc
            #allows
            #vis fn #jvp #generics (#inputs, #v: &#grad_ty) -> (f64, f64) {
                let (__value, __grad) = #grad_fn_ident #turbofish (#(#plain_args),*);
                (__value, #runtime::flat_dot(&__grad, #v))
            }
        }
    } else {
        TokenStream::new()
    };
    Ok(quote!(#items #jvp_fn))
}

/// `grad_of_grad.rs`: per differentiated argument `p`, `<name>_grad_<p>` with its pullback and vjp
/// (built on `<name>_hvp`), so callers can differentiate through `<name>_grad`.
pub fn grad_of_grad_items(
    func: &syn::ItemFn,
    f: &ir::Function,
    expansion: &TokenStream,
    pullback: &TokenStream,
    vjp: &TokenStream,
    wrt_given: bool,
) -> Result<TokenStream, TokenStream> {
    let name = func.sig.ident.to_string().trim_start_matches("r#").to_string();
    let grad_struct = format!("{}Grad", camel_case(&name));
    let file: syn::File = syn::parse2(expansion.clone()).map_err(|e| e.to_compile_error())?;
    let Some(strukt) = file.items.into_iter().find_map(|i| match i {
        syn::Item::Struct(s) if s.ident == grad_struct => Some(s),
        _ => None,
    }) else {
        return Ok(TokenStream::new());
    };
    grad_of_grad::callee_items(func, f, &strukt, pullback, vjp, wrt_given)
}

/// Whether a type mentions `f64` or `f32`.
pub fn contains_float(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == "f64" || i == "f32",
        proc_macro2::TokenTree::Group(g) => contains_float(&g.stream()),
        _ => false,
    })
}
