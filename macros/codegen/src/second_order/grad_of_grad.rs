//! Gradients of gradients: a `#[backprop]` function may call `energy_grad(..)` of a function with
//! `#[backprop(hessian)]` and use the value and the gradient's fields:
//!
//! ```text
//! let (e, g) = energy_grad(&x, &y);          rewritten before lowering (`rewrite`) to
//! ... e ... g.x[i] ... g.y ...         ──►   let e = energy(&x, &y);
//!                                             let g__x = energy_grad_x(&x, &y);
//!                                             let g__y = energy_grad_y(&x, &y);
//!                                             ... e ... g__x[i] ... g__y ...
//! ```
//!
//! so that each piece is an ordinary call of a differentiable function (docs/CALLS.md), in every
//! block (loop bodies, branches), innermost first. Refused with spanned errors naming the fix: such a
//! `let` in a `#[backprop(hessian)]` function (third order), `_jvp`/`_hvp`/`_hessian` calls, the
//! gradient struct used whole, a struct argument's gradient (`g.net.w`). The callee
//! (`callee_items`) provides, per differentiated argument `p`, `energy_grad_p` (that field of the
//! gradient), its pullback and its vjp. The pullback of `∂E/∂p` with seed `d` is the Hessian's block
//! `H[p, ·]ᵀ·d = H·v` with `v` zero except `v.p = d` (H is symmetric): one `energy_hvp`.
//! Only a callee differentiating every float argument (no `wrt`) has them: a mixed partial with an
//! undifferentiated argument would otherwise be silently zero.

use crate::ir::{self, Ty};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use std::collections::HashMap;
use syn::visit_mut::VisitMut;

/// `energy_grad_<p>`, `_pullback` and `_vjp` for every differentiated argument `p` of `func`.
pub fn callee_items(
    func: &syn::ItemFn,
    f: &ir::Function,
    grad_struct: &syn::ItemStruct,
    pullback: &TokenStream,
    vjp: &TokenStream,
    wrt_given: bool,
) -> Result<TokenStream, TokenStream> {
    if !func.sig.generics.params.is_empty() {
        return Ok(TokenStream::new());
    }
    if wrt_given {
        return Ok(once_only(func, f, pullback, vjp, "HasGradOfGrad"));
    }
    callee_items_of(func, f, grad_struct, pullback, vjp, &Flavor::Reverse)
}

/// Which gradient a differentiable `<name>_grad..<p>` call is the field of.
pub enum Flavor {
    /// `<name>_grad_<p>`: the reverse-mode gradient (`hessian`); pullback by `<name>_hvp`
    /// (forward over reverse). Its copy over `Dual64` arguments, `<name>_grad_<p>_dual`, is the field
    /// of the gradient re-printed over `Dual64` (what a caller's forward sweep calls).
    Reverse,
    /// `<name>_grad_fwd_<p>`: the forward-mode gradient (`forward.rs`); pullback by
    /// `<name>_hvp_fwd` (forward over forward). `forward.rs` emits its `_dual` copy. Holds the
    /// expression of a zero gradient of the arguments' shape (the pullback's direction buffer,
    /// without running the `n` sweeps of `_grad_fwd` for it).
    Forward(TokenStream),
}

/// [`callee_items`] for one flavor, for a function differentiating every float argument.
pub fn callee_items_of(
    func: &syn::ItemFn,
    f: &ir::Function,
    grad_struct: &syn::ItemStruct,
    pullback: &TokenStream,
    vjp: &TokenStream,
    flavor: &Flavor,
) -> Result<TokenStream, TokenStream> {
    let err = |e: syn::Error| e.to_compile_error();
    let name = func.sig.ident.to_string().trim_start_matches("r#").to_string();
    let find = |tokens: &TokenStream, wanted: &str| -> Result<Option<syn::ItemFn>, TokenStream> {
        let file: syn::File = syn::parse2(tokens.clone()).map_err(err)?;
        Ok(file.items.into_iter().find_map(|i| match i {
            syn::Item::Fn(g) if g.sig.ident == wanted => Some(g),
            _ => None,
        }))
    };
    let (Some(pb), Some(vj)) = (find(pullback, &format!("{name}_pullback"))?, find(vjp, &format!("{name}_vjp"))?)
    else {
        return Ok(TokenStream::new());
    };
    let n = f.params.len();
    let pb_inputs: Vec<&syn::FnArg> = pb.sig.inputs.iter().collect();
    let sink_inputs = &pb_inputs[n + 2..];
    let ret = &pb.sig.output;
    let params = &pb_inputs[..n];
    let args: Vec<&Ident> = f.params.iter().map(|p| &p.name).collect();
    let (grad_fn, hvp, infix) = match flavor {
        Flavor::Reverse => (format_ident!("{name}_grad"), format_ident!("{name}_hvp"), "grad"),
        Flavor::Forward(_) => (format_ident!("{name}_grad_fwd"), format_ident!("{name}_hvp_fwd"), "grad_fwd"),
    };
    let zero_direction = match flavor {
        Flavor::Reverse => quote! {
            let (_, mut __v) = #grad_fn(#(#args),*);
            ::backprop::__private::dual::zero_flat(&mut __v);
        },
        Flavor::Forward(zeros) => quote!(let mut __v = #zeros;),
    };
    let dual = quote!(::backprop::__private::dual);
    let field_types: HashMap<String, syn::Type> =
        grad_struct.fields.iter().filter_map(|fd| Some((fd.ident.as_ref()?.to_string(), fd.ty.clone()))).collect();

    // Which sink each array or struct argument has (the pullback's order: docs/CALLS.md).
    let mut sink_of = HashMap::new();
    let mut next_sink = 0;
    for (k, p) in f.params.iter().enumerate() {
        let float_array = p.array.is_some_and(|a| f.array(a).elem.float().is_some());
        if p.strukt.is_some() || float_array {
            sink_of.insert(k, next_sink);
            next_sink += 1;
        }
    }
    if next_sink != sink_inputs.len() {
        return Ok(TokenStream::new());
    }
    let sink_names: Vec<TokenStream> = sink_inputs
        .iter()
        .map(|i| match i {
            syn::FnArg::Typed(t) => t.pat.to_token_stream(),
            syn::FnArg::Receiver(_) => quote!(self),
        })
        .collect();

    // What the pullback returns and adds, from `H·v` (`hv`), argument by argument.
    let mut returns = Vec::new();
    let mut adds = TokenStream::new();
    for (k, p) in f.params.iter().enumerate() {
        let pname = &p.name;
        if let Some(&s) = sink_of.get(&k) {
            let sink = &sink_names[s];
            adds.extend(quote!(if let Some(__s) = #sink { #dual::add_flat(__s, &__hv.#pname); }));
            returns.push(quote!(()));
        } else if matches!(p.ty, Ty::Float(_)) && p.array.is_none() {
            returns.push(quote!(__hv.#pname));
        } else {
            returns.push(quote!(()));
        }
    }

    let mut out = TokenStream::new();
    for p in f.params.iter().filter(|p| p.wrt && !generated_suffix(&p.name.to_string())) {
        let pname = &p.name;
        let Some(field_ty) = field_types.get(&pname.to_string()) else { continue };
        let scalar = matches!(field_ty, syn::Type::Path(tp) if tp.path.is_ident("f64"));
        let rr = if scalar { quote!(f64) } else { quote!(&#field_ty) };
        let field = field_fn(&format!("{name}_{infix}"), &pname.to_string());
        let (value_fn, pb_fn, vjp_fn) =
            (format_ident!("{field}"), format_ident!("{field}_pullback"), format_ident!("{field}_vjp"));
        let seed = if scalar {
            quote!(__v.#pname = __d_result;)
        } else {
            quote!(#dual::copy_flat(&mut __v.#pname, __d_result);)
        };
        let doc = format!(
            " `∂{name}/∂{pname}` alone (the field `{pname}` of [`{grad_fn}`]), a differentiable function: its \
             pullback is a Hessian-vector product ([`{hvp}`]). What `let (e, g) = {name}_grad(..)` inside a \
             `#[backprop]` function calls for `g.{pname}`."
        );
        let pb_doc = format!(
            " The pullback of [`{value_fn}`] (docs/CALLS.md): `d_result · ∂²{name}/∂{pname}∂a` for every argument \
             `a`, as `H·v` with `v` zero but for `v.{pname} = d_result` (one [`{hvp}`])."
        );
        let vjp_params: Vec<&syn::FnArg> = vj.sig.inputs.iter().collect();
        let vjp_generics = &vj.sig.generics;
        let sink_types: Vec<TokenStream> = sink_inputs
            .iter()
            .map(|i| match i {
                syn::FnArg::Typed(t) => {
                    let mut ty = (*t.ty).clone();
                    // The closure's sinks: the same types with elided lifetimes.
                    StripLifetimes.visit_type_mut(&mut ty);
                    ty.to_token_stream()
                }
                syn::FnArg::Receiver(_) => quote!(()),
            })
            .collect();
        let ret_ty = match ret {
            syn::ReturnType::Type(_, t) => t.to_token_stream(),
            syn::ReturnType::Default => quote!(()),
        };
        let kept = if scalar { quote!(__kept) } else { quote!(&__kept) };
        // What a `#[backprop(hessian)]` caller's dual copies would call: stand-ins whose bound
        // never holds (runtime `HasThirdOrder`), so its error names the fix at its call.
        let public: syn::Visibility = syn::parse_quote!(pub);
        for (stub, arity) in [
            (format_ident!("{pb_fn}_dual"), n + 2 + sink_inputs.len()),
            (format_ident!("{vjp_fn}_dual"), vjp_params.len()),
        ] {
            out.extend(super::stubs::stand_in(&public, &stub, arity, "NoThirdOrder", "HasThirdOrder"));
        }
        if let Flavor::Reverse = flavor {
            // The field over `Dual64` arguments: the gradient re-printed over `Dual64` (`mod.rs`),
            // what a `#[backprop(forward)]` caller's tangent sweep calls (forward over reverse).
            let renames = super::retype::Renames::new();
            let mut dual_params: Vec<syn::FnArg> = params.iter().map(|p| (*p).clone()).collect();
            for p in &mut dual_params {
                syn::visit_mut::VisitMut::visit_fn_arg_mut(&mut super::retype::RetypeTypes { renames: &renames }, p);
            }
            let mut dual_field = field_ty.clone();
            syn::visit_mut::VisitMut::visit_type_mut(
                &mut super::retype::RetypeTypes { renames: &renames },
                &mut dual_field,
            );
            let (value_dual, grad_dual) = (format_ident!("{value_fn}_dual"), format_ident!("{grad_fn}_dual"));
            let sig: syn::Signature = syn::parse_quote!(fn #value_dual(#(#dual_params),*) -> #dual_field);
            out.extend(super::tangent_alias::alias(&public, &sig, &value_fn.to_string()));
            out.extend(quote! {
                #[doc(hidden)]
                #[allow(clippy::all, clippy::pedantic, unused, non_snake_case)]
                pub #sig {
                    #grad_dual(#(#args),*).1.#pname
                }
            });
        }
        // `forward.rs` prints the forward-mode field itself (sweeping only that argument).
        if let Flavor::Reverse = flavor {
            out.extend(quote! {
                #[doc = #doc]
                #[allow(clippy::all, clippy::pedantic, unused, non_snake_case)]
                pub fn #value_fn(#(#params),*) -> #field_ty {
                    #grad_fn(#(#args),*).1.#pname
                }
            });
        }
        out.extend(quote! {
            #[doc = #pb_doc]
            #[allow(clippy::all, clippy::pedantic, unused, non_snake_case, clippy::too_many_arguments)]
            pub fn #pb_fn(#(#params,)* __result: #rr, __d_result: #rr, #(#sink_inputs),*) #ret {
                #zero_direction
                #seed
                let (_, _, __hv) = #hvp(#(#args,)* &__v);
                #adds
                (#(#returns,)*)
            }
            #[doc(hidden)]
            #[allow(clippy::all, clippy::pedantic, unused, non_snake_case)]
            pub fn #vjp_fn #vjp_generics (#(#vjp_params),*) -> (#field_ty, impl FnOnce(#rr, #(#sink_types),*) -> #ret_ty + 'a) {
                let __result = #value_fn(#(#args),*);
                // The pullback does not read its `__result` (H·v needs the arguments only): a zero
                // of its shape stands in, so the struct need not be `Clone`.
                let __kept = ::backprop::__private::ZerosLike::zeros_like(&__result);
                (__result, move |__d_result: #rr, #(#sink_inputs),*| #pb_fn(#(#args,)* #kept, __d_result, #(#sink_names),*))
            }
        });
    }
    Ok(out)
}

/// The per-field function a caller's `g.<field>` calls, for the gradient function `gradient`
/// (`energy_grad`, or `energy_grad_fwd`): `energy_grad_x`, and `energy_grad_type` for `r#type`.
fn field_fn(gradient: &str, field: &str) -> String {
    format!("{gradient}_{}", field.trim_start_matches("r#"))
}

/// Argument names whose `<name>_grad_<p>` is another generated function (`_grad_acc`,
/// `_grad_dual`, `_grad_acc_dual`, `_grad_fwd`): such an argument gets no differentiable field
/// (the caller's rewrite refuses `g.acc` with a message saying to rename it).
pub fn generated_suffix(p: &str) -> bool {
    matches!(p.trim_start_matches("r#"), "acc" | "dual" | "acc_dual" | "fwd")
}

/// For a cost whose `_grad` is not differentiable (module doc): stand-ins `<name>_grad_<p>`,
/// `_pullback` and `_vjp` for each float, array or struct argument, bounded on the runtime trait
/// `unmet` (`HasGradOfGrad` for `#[backprop(hessian, wrt(..))]`, `HasHessian` without
/// `hessian`), which never holds, so that a caller's `let (e, g) = name_grad(..)` gets that
/// trait's message naming the fix at its call instead of "cannot find function `name_grad_x`".
/// Nothing for a generic function (no turbofish fits).
pub fn once_only(
    func: &syn::ItemFn,
    f: &ir::Function,
    pullback: &TokenStream,
    vjp: &TokenStream,
    unmet: &str,
) -> TokenStream {
    use super::stubs::{arity, stand_in_name};
    let Some(name) = stand_in_name(func) else { return TokenStream::new() };
    let (Some(pb_arity), Some(vjp_arity)) =
        (arity(pullback, &format!("{name}_pullback")), arity(vjp, &format!("{name}_vjp")))
    else {
        return TokenStream::new();
    };
    let vis = &func.vis;
    let mut out = TokenStream::new();
    for p in &f.params {
        let float_array = p.array.is_some_and(|a| f.array(a).elem.float().is_some());
        if !(matches!(p.ty, Ty::Float(_)) || float_array || p.strukt.is_some()) || generated_suffix(&p.name.to_string())
        {
            continue;
        }
        let value_fn = field_fn(&format!("{name}_grad"), &p.name.to_string());
        for (stub, n) in [
            (format_ident!("{value_fn}"), f.params.len()),
            (format_ident!("{value_fn}_pullback"), pb_arity),
            (format_ident!("{value_fn}_vjp"), vjp_arity),
        ] {
            out.extend(super::stubs::stand_in(vis, &stub, n, "NoSecondOrder", unmet));
        }
    }
    out
}

struct StripLifetimes;
impl VisitMut for StripLifetimes {
    fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
        r.lifetime = None;
        syn::visit_mut::visit_type_reference_mut(self, r);
    }
}

/// The caller's rewrite (module doc): `let (e, g) = name_grad(args);` statements anywhere in
/// `func`'s body (top level, `for`/`while`/`loop` bodies, branches, blocks), with the `g.field`
/// uses after them in the same block replaced.
///
/// Refused with a spanned error in `cx`, naming what works instead: such a `let` in a
/// `#[backprop(hessian)]` function (its Hessian would need third derivatives of the callee), and
/// `let (v, d) = name_jvp(..)` (a directional derivative is `g`'s fields dotted with the direction).
pub fn rewrite(func: &syn::ItemFn, cx: &crate::ctxt::Ctxt, hessian: bool) -> syn::ItemFn {
    let mut func = func.clone();
    Blocks { cx, hessian }.visit_block_mut(&mut func.block);
    func
}

/// Rewrites every block, innermost first: an inner `let (v, g) = ..` has renamed its own uses
/// (which shadow an outer `g`) before the outer block renames what is left.
struct Blocks<'a> {
    cx: &'a crate::ctxt::Ctxt,
    hessian: bool,
}

impl VisitMut for Blocks<'_> {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        syn::visit_mut::visit_block_mut(self, block);
        for (k, stmt) in block.stmts.iter().enumerate() {
            if let Some((_, grad, _, callee)) = grad_call(stmt) {
                if let Some(nested) = struct_field_use(&block.stmts[k + 1..], &grad) {
                    self.cx.error_spanned_by(
                        &nested,
                        format!(
                            "`{}`: the gradient of a struct argument is not usable inside `#[backprop]` (a struct \
                             local is not supported); give `{}` the struct's fields as array or float arguments, and \
                             read `{grad}.<argument>`",
                            nested.to_token_stream(),
                            callee.trim_end_matches("_grad")
                        ),
                    );
                }
                if let Some(field) = used_fields(&block.stmts[k + 1..], &grad).into_iter().find(|f| generated_suffix(f))
                {
                    let base = callee.trim_end_matches("_grad");
                    self.cx.error_spanned_by(
                        stmt,
                        format!(
                            "`{grad}.{field}` cannot be differentiated: `{base}_grad_{field}` is another generated \
                             function (`{base}_grad_acc`, `_grad_dual`, `_grad_fwd`); rename `{base}`'s argument \
                             `{field}`"
                        ),
                    );
                }
                if let Some(bare) = bare_use(&block.stmts[k + 1..], &grad) {
                    self.cx.error_spanned_by(
                        bare,
                        format!(
                            "`{grad}` (the gradient from `{callee}(..)`) can be read by its fields only inside \
                             `#[backprop]`: write `{grad}.<field>` (`{grad}.x[i]`) where the value is needed"
                        ),
                    );
                }
            }
            if let Some(call) = tuple_call(stmt, "_hvp").or_else(|| tuple_call(stmt, "_hessian")) {
                let name = callee_name(call).unwrap_or_default();
                let base = name.trim_end_matches("_hvp").trim_end_matches("_hessian");
                self.cx.error_spanned_by(
                    call,
                    format!(
                        "`{name}(..)` is not differentiable inside `#[backprop]` (that would need third derivatives, \
                         which are not generated); a gradient is: `let (e, g) = {base}_grad(..);` and `g`'s fields"
                    ),
                );
            } else if let Some(call) = tuple_call(stmt, "_jvp") {
                let name = callee_name(call).unwrap_or_default();
                let base = name.trim_end_matches("_jvp");
                self.cx.error_spanned_by(
                    call,
                    format!(
                        "`{name}(..)` is not differentiable inside `#[backprop]`: write `let (e, g) = {base}_grad(..);` \
                         and the directional derivative as `g`'s fields times the direction (`g.x[0] * v0 + g.y * v1 + ..`), \
                         which is differentiable"
                    ),
                );
            } else if let (true, Some((_, _, call, callee))) = (self.hessian, grad_call(stmt)) {
                let base = callee.trim_end_matches("_grad");
                self.cx.error_spanned_by(
                    &call,
                    format!(
                        "a gradient inside a `#[backprop(hessian)]` function: its Hessian would need third derivatives \
                         of `{base}`, which are not generated; drop `hessian` here (`_grad` of this function differentiates \
                         through `{callee}`), or write the needed derivative of `{base}` as its own `#[backprop(hessian)]` \
                         function and call that"
                    ),
                );
            }
        }
        rewrite_block(block);
    }
    // A closure or nested item is not lowered as part of the function: left as written.
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// One block's statements (`rewrite`).
fn rewrite_block(block: &mut syn::Block) {
    let mut stmts = Vec::new();
    let mut renames: HashMap<String, String> = HashMap::new();
    let original = std::mem::take(&mut block.stmts);
    for (k, stmt) in original.iter().enumerate() {
        let mut stmt = stmt.clone();
        if !renames.is_empty() {
            FieldUses { renames: &renames }.visit_stmt_mut(&mut stmt);
        }
        if let Some((value, grad, call, callee)) = grad_call(&stmt) {
            let base = callee.trim_end_matches("_grad").to_string();
            // A later `let (.., g) = ..` of the same name starts its own renames.
            renames.retain(|k, _| !k.starts_with(&format!("{grad}.")));
            let fields = used_fields(&original[k + 1..], &grad);
            if let Some(e) = value {
                let mut c = call.clone();
                set_callee(&mut c, &base);
                stmts.push(syn::parse_quote!(let #e = #c;));
            }
            for field in &fields {
                let local = Ident::new(&format!("{grad}__{}", field.trim_start_matches("r#")), Span::call_site());
                let mut c = call.clone();
                set_callee(&mut c, &field_fn(&format!("{base}_grad"), field));
                stmts.push(syn::parse_quote!(let #local = #c;));
                renames.insert(format!("{grad}.{field}"), local.to_string());
            }
            continue;
        }
        stmts.push(stmt);
    }
    block.stmts = stmts;
}

/// The first `grad.field.inner` in `stmts` (a field of a struct argument's gradient).
fn struct_field_use(stmts: &[syn::Stmt], grad: &str) -> Option<syn::ExprField> {
    struct Nested<'a> {
        grad: &'a str,
        found: Option<syn::ExprField>,
    }
    impl<'ast> syn::visit::Visit<'ast> for Nested<'_> {
        fn visit_expr_field(&mut self, e: &'ast syn::ExprField) {
            if let syn::Expr::Field(inner) = &*e.base {
                if matches!(&*inner.base, syn::Expr::Path(p) if p.path.is_ident(self.grad)) && self.found.is_none() {
                    self.found = Some(e.clone());
                }
            }
            syn::visit::visit_expr_field(self, e);
        }
    }
    let mut v = Nested { grad, found: None };
    for stmt in stmts {
        syn::visit::Visit::visit_stmt(&mut v, stmt);
    }
    v.found
}

/// The first use of `grad` other than `grad.field` in `stmts`, up to a `let` that binds `grad` again.
fn bare_use(stmts: &[syn::Stmt], grad: &str) -> Option<syn::ExprPath> {
    struct Bare<'a> {
        grad: &'a str,
        found: Option<syn::ExprPath>,
    }
    impl<'ast> syn::visit::Visit<'ast> for Bare<'_> {
        fn visit_expr_field(&mut self, e: &'ast syn::ExprField) {
            match &*e.base {
                syn::Expr::Path(p) if p.path.is_ident(self.grad) => {}
                _ => syn::visit::visit_expr_field(self, e),
            }
        }
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            if self.found.is_none() && p.path.is_ident(self.grad) {
                self.found = Some(p.clone());
            }
        }
        fn visit_block(&mut self, b: &'ast syn::Block) {
            for stmt in &b.stmts {
                self.visit_stmt(stmt);
                if rebinds(stmt, self.grad) {
                    return;
                }
            }
        }
        // `for g in ..` binds its own `g` in the body.
        fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
            self.visit_expr(&f.expr);
            if !binds(&f.pat, self.grad) {
                self.visit_block(&f.body);
            }
        }
        // A closure or nested item is not lowered with the function.
        fn visit_item(&mut self, _: &'ast syn::Item) {}
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    fn binds(pat: &syn::Pat, grad: &str) -> bool {
        struct Binds<'a>(&'a str, bool);
        impl<'ast> syn::visit::Visit<'ast> for Binds<'_> {
            fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
                self.1 |= p.ident == self.0;
            }
        }
        let mut b = Binds(grad, false);
        syn::visit::Visit::visit_pat(&mut b, pat);
        b.1
    }
    fn rebinds(stmt: &syn::Stmt, grad: &str) -> bool {
        matches!(stmt, syn::Stmt::Local(local) if binds(&local.pat, grad))
    }
    let mut v = Bare { grad, found: None };
    for stmt in stmts {
        syn::visit::Visit::visit_stmt(&mut v, stmt);
        if v.found.is_some() || rebinds(stmt, grad) {
            break;
        }
    }
    v.found
}

/// `let (a, b) = <name><suffix>(args);` → the call.
fn tuple_call<'s>(stmt: &'s syn::Stmt, suffix: &str) -> Option<&'s syn::ExprCall> {
    let syn::Stmt::Local(local) = stmt else { return None };
    let syn::Pat::Tuple(_) = &local.pat else { return None };
    let syn::Expr::Call(call) = &*local.init.as_ref()?.expr else { return None };
    callee_name(call)?.ends_with(suffix).then_some(call)
}

/// The callee of `name(..)` (a single-segment path).
fn callee_name(call: &syn::ExprCall) -> Option<String> {
    let syn::Expr::Path(p) = &*call.func else { return None };
    p.path.get_ident().map(|i| i.to_string())
}

/// `let (e, g) = <name>_grad(args);` → (`e` unless `_`, `g`, the call, `<name>_grad`).
fn grad_call(stmt: &syn::Stmt) -> Option<(Option<syn::Pat>, String, syn::ExprCall, String)> {
    let syn::Stmt::Local(local) = stmt else { return None };
    let syn::Pat::Tuple(t) = &local.pat else { return None };
    if t.elems.len() != 2 {
        return None;
    }
    let init = local.init.as_ref()?;
    let syn::Expr::Call(call) = &*init.expr else { return None };
    let syn::Expr::Path(p) = &*call.func else { return None };
    let callee = p.path.segments.last()?.ident.to_string();
    if !callee.ends_with("_grad") || p.path.segments.len() != 1 {
        return None;
    }
    let grad = match &t.elems[1] {
        syn::Pat::Ident(i) => i.ident.to_string(),
        _ => return None,
    };
    let value = match &t.elems[0] {
        syn::Pat::Wild(_) => None,
        other => Some(other.clone()),
    };
    Some((value, grad, call.clone(), callee))
}

fn set_callee(call: &mut syn::ExprCall, name: &str) {
    if let syn::Expr::Path(p) = &mut *call.func {
        if let Some(last) = p.path.segments.last_mut() {
            last.ident = Ident::new(name, last.ident.span());
        }
    }
}

/// The fields read as `grad.field` anywhere in `stmts`, in order of first use.
fn used_fields(stmts: &[syn::Stmt], grad: &str) -> Vec<String> {
    struct Uses<'a> {
        grad: &'a str,
        fields: Vec<String>,
    }
    impl<'ast> syn::visit::Visit<'ast> for Uses<'_> {
        fn visit_expr_field(&mut self, e: &'ast syn::ExprField) {
            if let (syn::Expr::Path(p), syn::Member::Named(m)) = (&*e.base, &e.member) {
                if p.path.is_ident(self.grad) && !self.fields.contains(&m.to_string()) {
                    self.fields.push(m.to_string());
                }
            }
            syn::visit::visit_expr_field(self, e);
        }
    }
    let mut uses = Uses { grad, fields: Vec::new() };
    for stmt in stmts {
        syn::visit::Visit::visit_stmt(&mut uses, stmt);
    }
    uses.fields
}

/// Replaces `g.field` by its local.
struct FieldUses<'a> {
    renames: &'a HashMap<String, String>,
}

impl VisitMut for FieldUses<'_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        if let syn::Expr::Field(f) = e {
            if let (syn::Expr::Path(p), syn::Member::Named(m)) = (&*f.base, &f.member) {
                if let Some(base) = p.path.get_ident() {
                    if let Some(local) = self.renames.get(&format!("{base}.{m}")) {
                        let local = Ident::new(local, m.span());
                        *e = syn::parse_quote!(#local);
                        return;
                    }
                }
            }
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: TokenStream, hessian: bool) -> (String, Vec<String>) {
        let func: syn::ItemFn = syn::parse_quote!(fn outer(x: &[f64; 2], w: f64) -> f64 #body);
        let cx = crate::ctxt::Ctxt::new();
        let out = rewrite(&func, &cx, hessian).to_token_stream().to_string();
        let errors = match cx.check() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        };
        (out, errors)
    }

    #[test]
    fn rewrites_inside_loops_and_branches_innermost_first() {
        let (out, errors) = run(
            quote!({
                let (e0, g) = energy_grad(x, w);
                let mut s = 0.0;
                for _k in 0..2 {
                    if w > 0.0 {
                        let (e, g) = energy_grad(x, w);
                        s = s + e * g.x[0];
                    }
                }
                s + g.w + e0
            }),
            false,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!out.contains("energy_grad ("), "{out}");
        // The inner `g` reads its own field; the outer one only `w` (its `x` is never read).
        assert_eq!(out.matches("let g__x = energy_grad_x (x , w)").count(), 1, "{out}");
        assert_eq!(out.matches("let g__w = energy_grad_w (x , w)").count(), 1, "{out}");
        assert!(out.contains("e * g__x [0]") && out.contains("s + g__w + e0"), "{out}");
    }

    #[test]
    fn a_rebinding_is_not_a_bare_use_but_the_struct_itself_is() {
        let (_, errors) = run(
            quote!({
                let (e, g) = energy_grad(x, w);
                let mut s = g.w;
                for g in 0..2 {
                    s = s + g as f64;
                }
                let g = 2.0;
                s * g + e
            }),
            false,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let (_, errors) = run(
            quote!({
                let (e, g) = energy_grad(x, w);
                let h = g;
                e + h.w
            }),
            false,
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("by its fields only"), "{errors:?}");
    }

    #[test]
    fn refuses_third_order_and_jvp_naming_the_fix() {
        let (_, errors) = run(
            quote!({
                loop {
                    let (e, g) = energy_grad(x, w);
                    return e * g.w;
                }
            }),
            true,
        );
        assert!(errors.len() == 1 && errors[0].contains("third derivatives of `energy`"), "{errors:?}");
        let (_, errors) = run(
            quote!({
                let (v, d) = energy_jvp(x, w, &v);
                v + d
            }),
            false,
        );
        assert!(errors.len() == 1 && errors[0].contains("let (e, g) = energy_grad(..);"), "{errors:?}");
        let (_, errors) = run(
            quote!({
                let (v, g, hv) = energy_hvp(x, w, &v);
                v + hv.w
            }),
            false,
        );
        assert!(errors.len() == 1 && errors[0].contains("third derivatives"), "{errors:?}");
    }
}
