//! The `#[backprop]` pipeline on `proc_macro2` token streams, callable without a compiler round trip:
//!
//! ```text
//! attr (options) ─┐
//! item ── syn ── lower (IR, hash-consed SSA) ── diff (backward sweep, rules) ── emit (+ doc)
//!                      └──────── simplify: rules applied as values are built ───────┘
//! ```
//!
//! `derive_params::derive` is `#[derive(Params)]`, separate from the pipeline.
//!
//! `expand` never panics: every problem becomes a `compile_error!` spanned on the user's code, and
//! the user's function is still emitted unchanged so that other code keeps compiling.

pub mod attr;
pub mod call_tapes;
pub mod ctxt;
pub mod custom;
pub mod derive_params;
pub mod diff;
pub mod doc;
pub mod emit;
#[cfg(test)]
mod eval;
pub mod explain;
pub mod generic;
pub mod inline_always;
pub mod ir;
pub mod lower;
pub mod methods;
pub mod names;
pub mod plan;
pub mod reuse;
pub mod rules;
pub mod scope;
pub mod second_order;
pub mod simplify;
pub mod useful;
pub mod verify;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// Expands `#[backprop(attr)] item`.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let fallback = item.clone();
    if std::env::var_os("BACKPROP_NO_CATCH").is_some() {
        return expand_checked(attr, item).unwrap_or_else(|e| e);
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| expand_checked(attr, item))) {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(tokens)) => tokens,
        Err(_) => {
            let message = "internal error in `#[backprop]`; please report this function as a bug";
            quote!(::core::compile_error!(#message); #fallback)
        }
    }
}

/// The expansion, or on error the `compile_error!`s followed by the user's function unchanged.
fn expand_checked(attr: TokenStream, item: TokenStream) -> Result<TokenStream, TokenStream> {
    let cx = ctxt::Ctxt::new();
    let attr_tokens = attr.clone();
    let options = attr::parse_options(&cx, attr);
    let func = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(func)) => func,
        // Methods: `#[backprop]` on the `impl` block, and on each method to differentiate.
        Ok(syn::Item::Impl(block)) => {
            if let Some(e) = cx.check().err() {
                let e = e.to_compile_error();
                return Err(quote!(#e #block));
            }
            return methods::expand(attr_tokens, block);
        }
        Ok(other) => {
            cx.error_spanned_by(
                item_head(&other),
                "`#[backprop]` applies to a function (`fn cost(w: f64, x: f64) -> f64 { ... }`) or to an `impl` block whose methods carry `#[backprop]` too",
            );
            return Err(with_errors(cx, item));
        }
        Err(e) => {
            cx.syn_error(e);
            return Err(with_errors(cx, item));
        }
    };
    // A custom derivative: the body is kept, the given pullback is used (`custom.rs`).
    if let Some(path) = &options.pullback {
        if options.forward {
            cx.error_spanned_by(
                path,
                "`forward` is not supported with a custom `pullback` yet; differentiate the body with `#[backprop(forward)]` instead",
            );
        }
        if options.wrt.is_some() || options.explain {
            cx.error_spanned_by(
                path,
                "`pullback = ..` gives the whole derivative; it cannot be combined with `wrt` or `explain`",
            );
        }
        let tokens = custom::expand(&cx, &func, path);
        return match cx.check() {
            // `hessian`: the dual copies callers' second order runs; else stand-ins naming the fix.
            Ok(()) if options.hessian => {
                let duals = second_order::custom_rule::dual_copies(&func, &tokens)?;
                Ok(quote!(#tokens #duals))
            }
            Ok(()) => {
                let stubs = second_order::stubs::stubs(&func, &tokens, &tokens, options.forward);
                Ok(quote!(#tokens #stubs))
            }
            Err(e) => {
                let e = e.to_compile_error();
                Err(quote!(#e #func))
            }
        };
    }
    // `let (e, g) = energy_grad(..)`: a gradient used as a value, as calls (`second_order/grad_of_grad.rs`).
    let errors_before = cx.has_errors();
    let func = second_order::grad_of_grad::rewrite(&func, &cx, options.hessian);
    if !errors_before && cx.has_errors() {
        return Err(with_errors(cx, item));
    }
    // A function generic over its float type is expanded once per instantiation (`generic.rs`).
    if let Some(param) = generic::float_param(&func) {
        if options.forward {
            let message =
                "`forward` needs a function over `f64`; write this one over `f64` (its tangents are `Dual64`)";
            cx.error_spanned_by(&param, message);
        }
        if cx.has_errors() {
            return Err(with_errors(cx, func.to_token_stream()));
        }
        drop(cx);
        return generic::expand(&options, &func, &param).map_err(|errors| quote!(#errors #func));
    }
    expand_function(cx, &options, &func).map_err(|errors| quote!(#errors #func))
}

/// The expansion of a function with concrete float types, or its `compile_error!`s alone.
pub(crate) fn expand_function(
    cx: ctxt::Ctxt,
    options: &attr::Options,
    func: &syn::ItemFn,
) -> Result<TokenStream, TokenStream> {
    expand_function_in(cx, options, func, &methods::Place::Free)
}

/// [`expand_function`] for a free function or a method (whose generated functions call each
/// other as `Self::..`, and whose gradient struct is named after its type too).
pub(crate) fn expand_function_in(
    cx: ctxt::Ctxt,
    options: &attr::Options,
    func: &syn::ItemFn,
    place: &methods::Place,
) -> Result<TokenStream, TokenStream> {
    generated_items(cx, options, func, place).map(|items| inline_always::carry(func, items))
}

/// [`expand_function_in`]'s items, before `#[inline(always)]` is carried to them.
fn generated_items(
    cx: ctxt::Ctxt,
    options: &attr::Options,
    func: &syn::ItemFn,
    place: &methods::Place,
) -> Result<TokenStream, TokenStream> {
    let func = func.clone();
    let mut lowered = lower::lower(&cx, &func, options);
    if cx.has_errors() {
        return Err(cx.check().err().map(|e| e.to_compile_error()).unwrap_or_default());
    }
    internal_check(&lowered.function, &func, "lowering")?;
    // A function returning an array has no gradient of its own (its result is not a cost), only
    // a pullback for the functions that call it.
    if lowered.function.output_array.is_some() {
        if options.explain {
            let message = "`explain` needs a function returning a float (a cost); this one returns an array";
            return Err(syn::Error::new_spanned(&func.sig.output, message).to_compile_error());
        }
        let pullback = pullback(options, &func, place)?;
        let vjp = vjp(options, &func, place)?;
        let second = second_order_items(options, &func, &lowered.function, place, None, &pullback, &vjp)?;
        let pullback = emit::noalias::vec_arguments_as_slices(pullback, &func.sig.ident);
        // `let out = layer(..); out` is one of the forms such a function ends with.
        return Ok(quote!(#[allow(clippy::needless_range_loop, clippy::let_and_return)] #func #pullback #vjp #second));
    }
    let derivation = diff::differentiate(&mut lowered.function);
    internal_check(&lowered.function, &func, "differentiation")?;

    let user_tokens = func.to_token_stream();
    let mut emitter = emit::Emitter::new(&lowered.function, &derivation, user_tokens);
    emitter.max_iterations = options.max_iterations;
    place.configure(&mut emitter);
    let draft = emitter.emit(&func, &lowered.items, &derivation, "");
    let generated = generated_body_text(draft);
    let doc = doc::DocWriter { emitter: &emitter, derivation: &derivation, result_name: func.sig.ident.to_string() }
        .write(&generated);
    let expansion = emitter.emit(&func, &lowered.items, &derivation, &doc);
    let problems = emitter.scope_problems();
    // `BACKPROP_SCOPE_CHECK=off` prints the expansion anyway, to debug the macro itself.
    if !problems.is_empty() && std::env::var_os("BACKPROP_SCOPE_CHECK").is_none_or(|v| v != "off") {
        let message = format!(
            "internal error in `#[backprop]`: the generated gradient would not be valid ({}); please report this function as a bug",
            problems.join("; ")
        );
        return Err(syn::Error::new_spanned(&func.sig.ident, message).to_compile_error());
    }
    let pullback = pullback(options, &func, place)?;
    let vjp = vjp(options, &func, place)?;
    // Carried adjoint elements in registers (issue 17), in the generated functions only.
    let expansion = emit::promote::carried_adjoints(expansion, &func.sig.ident);
    let second = second_order_items(options, &func, &lowered.function, place, Some(&expansion), &pullback, &vjp)?;
    // `&Vec` arguments read as slices (issue 17), after the second-order items read the sweep.
    let expansion = emit::noalias::vec_arguments_as_slices(expansion, &func.sig.ident);
    let pullback = emit::noalias::vec_arguments_as_slices(pullback, &func.sig.ident);
    if options.explain {
        let explain = explain::generate(&emitter, &derivation, &func, &expansion);
        return Ok(quote!(#expansion #pullback #vjp #explain #second));
    }
    Ok(quote!(#expansion #pullback #vjp #second))
}

/// `second_order/`: the Jacobian of an array-returning function (always), and with `hessian` the
/// Hessian-vector product, Hessian and jvp of a cost (`expansion`) and the dual copies of the
/// pullback that callers' second derivatives run.
fn second_order_items(
    options: &attr::Options,
    func: &syn::ItemFn,
    f: &ir::Function,
    place: &methods::Place,
    expansion: Option<&TokenStream>,
    pullback: &TokenStream,
    vjp: &TokenStream,
) -> Result<TokenStream, TokenStream> {
    if !matches!(place, methods::Place::Free) {
        if options.forward {
            let message = "`forward` is not supported on methods yet; differentiate a free function";
            return Err(syn::Error::new_spanned(&func.sig.ident, message).to_compile_error());
        }
        if options.hessian {
            let message = "`hessian` is not supported on methods yet; differentiate a free function";
            return Err(syn::Error::new_spanned(&func.sig.ident, message).to_compile_error());
        }
        return Ok(TokenStream::new());
    }
    let mut out = TokenStream::new();
    match expansion {
        None => out.extend(second_order::jacobian::jacobian(func, f, vjp)?),
        Some(expansion) if options.hessian => {
            out.extend(second_order::hessian(func, f, expansion, !options.forward)?);
            out.extend(second_order::grad_of_grad_items(func, f, expansion, pullback, vjp, options.wrt.is_some())?);
        }
        Some(_) => {}
    }
    if options.forward {
        let Some(expansion) = expansion else {
            let message = "`forward` needs a function returning a float (a cost); for an array result, `_jacobian` picks forward mode by itself";
            return Err(syn::Error::new_spanned(&func.sig.output, message).to_compile_error());
        };
        let wrt_given = options.wrt.is_some();
        out.extend(second_order::forward::items(func, f, expansion, pullback, vjp, options.hessian, wrt_given)?);
    }
    if options.hessian {
        out.extend(second_order::dual_callee(func, f, pullback, vjp)?);
    } else if f.float == ir::FloatTy::F64 {
        out.extend(second_order::stubs::stubs(func, pullback, vjp, options.forward));
        // `let (e, g) = name_grad(..)` in a caller differentiates this gradient, which needs
        // `hessian`: stand-ins of the fields it calls, whose bound names the fix.
        if expansion.is_some() && !options.forward {
            out.extend(second_order::grad_of_grad::once_only(func, f, pullback, vjp, "HasHessian"));
        }
    }
    Ok(out)
}

/// `<name>_vjp`, for callers of this function at their top level (`docs/CALLS.md`): its value and
/// a closure holding its backward sweep, which keeps what the forward sweep computed. Every float
/// argument is differentiated, from a seed; planned without fusion, and without `reuse.rs` (the
/// closure keeps what the forward sweep computed, the result included).
fn vjp(options: &attr::Options, func: &syn::ItemFn, place: &methods::Place) -> Result<TokenStream, TokenStream> {
    seeded(options, func, place, Seeded::Vjp)
}

/// `<name>_pullback`, for callers of this function (`docs/CALLS.md`): every float argument is
/// differentiated whatever `wrt` says (a caller may need any of them), from a seed.
fn pullback(options: &attr::Options, func: &syn::ItemFn, place: &methods::Place) -> Result<TokenStream, TokenStream> {
    seeded(options, func, place, Seeded::Pullback)
}

/// The two forms a caller differentiates this function through.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seeded {
    Pullback,
    Vjp,
}

/// Lowers the function again with every float argument differentiated, differentiates it from a
/// seed, and prints its pullback or its vjp (checked by the scope check like the gradient).
fn seeded(
    options: &attr::Options,
    func: &syn::ItemFn,
    place: &methods::Place,
    form: Seeded,
) -> Result<TokenStream, TokenStream> {
    let what = match form {
        Seeded::Pullback => "pullback",
        Seeded::Vjp => "vjp",
    };
    let cx = ctxt::Ctxt::new();
    let all = attr::Options { wrt: None, ..options.clone() };
    let mut lowered = lower::lower(&cx, func, &all);
    if cx.has_errors() {
        return Err(cx.check().err().map(|e| e.to_compile_error()).unwrap_or_default());
    }
    let derivation = diff::differentiate_seeded(&mut lowered.function);
    internal_check(&lowered.function, func, &format!("differentiation of the {what}"))?;
    if form == Seeded::Pullback {
        reuse::reuse_result(&mut lowered.function);
        internal_check(&lowered.function, func, "reuse of the result")?;
    }
    let user_tokens = func.to_token_stream();
    let mut emitter = match form {
        Seeded::Pullback => emit::Emitter::new(&lowered.function, &derivation, user_tokens),
        Seeded::Vjp => emit::Emitter::new_vjp(&lowered.function, &derivation, user_tokens),
    };
    emitter.max_iterations = options.max_iterations;
    place.configure(&mut emitter);
    let tokens = match form {
        Seeded::Pullback => emitter.emit_pullback(func, &lowered.items, &derivation),
        Seeded::Vjp => emitter.emit_vjp(func, &lowered.items, &derivation),
    };
    let tokens = emit::promote::carried_adjoints(tokens, &func.sig.ident);
    let problems = emitter.scope_problems();
    if !problems.is_empty() && std::env::var_os("BACKPROP_SCOPE_CHECK").is_none_or(|v| v != "off") {
        let message = format!(
            "internal error in `#[backprop]`: the generated {what} would not be valid ({}); please report this function as a bug",
            problems.join("; ")
        );
        return Err(syn::Error::new_spanned(&func.sig.ident, message).to_compile_error());
    }
    Ok(tokens)
}

fn with_errors(cx: ctxt::Ctxt, item: TokenStream) -> TokenStream {
    let errors = cx.check().err().map(|e| e.to_compile_error());
    quote!(#errors #item)
}

fn internal_check(f: &ir::Function, func: &syn::ItemFn, pass: &str) -> Result<(), TokenStream> {
    if !cfg!(debug_assertions) {
        return Ok(());
    }
    let problems = verify::verify(f);
    if problems.is_empty() {
        return Ok(());
    }
    let message = format!("internal error in `#[backprop]` after {pass}: {}; please report it", problems.join("; "));
    Err(syn::Error::new_spanned(&func.sig.ident, message).to_compile_error())
}

/// A short head of a non-function item to span the error on (not its whole body).
fn item_head(item: &syn::Item) -> TokenStream {
    match item {
        syn::Item::Struct(s) => {
            let (t, i) = (&s.struct_token, &s.ident);
            quote!(#t #i)
        }
        syn::Item::Enum(e) => {
            let (t, i) = (&e.enum_token, &e.ident);
            quote!(#t #i)
        }
        other => other.to_token_stream(),
    }
}

/// The generated gradient function's body, pretty-printed, for the doc comment.
fn generated_body_text(tokens: TokenStream) -> String {
    let Ok(file) = syn::parse2::<syn::File>(tokens) else {
        return String::new();
    };
    let grad = file.items.iter().rev().find_map(|item| match item {
        syn::Item::Fn(f) => Some(f.clone()),
        _ => None,
    });
    let Some(mut grad) = grad else {
        return String::new();
    };
    grad.attrs.clear();
    let printed = prettyplease::unparse(&syn::File { shebang: None, attrs: vec![], items: vec![syn::Item::Fn(grad)] });
    printed.trim_end().to_string()
}
