//! Passive calls in the user's own body, re-printed over a dual type (`forward.rs`'s tangent
//! sweeps): `let j: usize = nearest(p, c, i);` must still call `nearest` with plain floats when
//! `c` holds duals. The emitted sweeps print such calls from the IR (`emit/calls.rs`); the user's
//! body is re-printed from its source, so its passive calls' arguments are wrapped here, by what
//! the lowering found each argument to be: a float becomes `real_value(x)`, an array of floats
//! `&*real_view(c)` (borrowed over `f64`, the values copied over a dual type), anything else
//! stays as written. An argument array's view is taken once, at the start of the body
//! (`let __backprop_real_c = ..`), as the emitted sweeps take it: over a dual type a view is a
//! copy, and a passive call in a loop would otherwise copy the array at every iteration.

use crate::ir::{ArrayOrigin, CallArg, CallSite, Function, Ty};
use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut;

/// `func` with every passive call's arguments as the real numbers a plain function takes.
pub fn real_arguments(func: &syn::ItemFn, f: &Function) -> syn::ItemFn {
    let mut func = func.clone();
    let mut wrap = Wrap { f, passive: f.calls.iter().filter(|c| c.passive).collect(), next: 0, views: Vec::new() };
    if !wrap.passive.is_empty() {
        wrap.visit_block_mut(&mut func.block);
    }
    let views: Vec<syn::Stmt> = wrap
        .views
        .iter()
        .map(|(param, view)| {
            let real = real_view(&quote!(#param));
            syn::parse_quote!(let #view = #real;)
        })
        .collect();
    func.block.stmts.splice(0..0, views);
    func
}

struct Wrap<'a> {
    f: &'a Function,
    /// The passive calls, in the order the lowering met them (source order).
    passive: Vec<&'a CallSite>,
    next: usize,
    /// Argument arrays passed to passive calls, with the name of their view taken at the start.
    views: Vec<(syn::Ident, syn::Ident)>,
}

/// `{ use RealView as _; (c).real_view() }`: the array `base` as plain floats (borrowed over
/// `f64`, its values copied over a dual type). Also what the emitted sweeps print
/// (`emit/calls.rs`).
pub(crate) fn real_view(base: &TokenStream) -> TokenStream {
    quote!({ use ::backprop::__private::RealView as _; (#base).real_view() })
}

/// A passive call's array argument from its real `view`: a row of it (`&(*view)[s]`), the whole
/// of it by reference (`&*view`), or, for an array argument taken by value, a copy (`*view`).
pub(crate) fn place_view(view: &TokenStream, indices: &[TokenStream], by_ref: bool, owned: bool) -> TokenStream {
    match (indices.is_empty(), by_ref || !owned) {
        (false, _) => quote!(&(*#view) #([#indices])*),
        (true, true) => quote!(&*#view),
        (true, false) => quote!(*#view),
    }
}

impl VisitMut for Wrap<'_> {
    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        // The lowering's passive call: a `let` typed as an integer or a `bool`, set by a call.
        let typed = matches!(&local.pat, syn::Pat::Type(t) if is_integer_or_bool(&t.ty));
        if let (true, Some(init)) = (typed, local.init.as_mut()) {
            if self.wrap_call(&mut init.expr) {
                return;
            }
        }
        syn::visit_mut::visit_local_mut(self, local);
    }

    fn visit_expr_assign_mut(&mut self, assign: &mut syn::ExprAssign) {
        // `j = nearest(..)` to an integer or `bool` variable (the lowering knew the type).
        if matches!(&*assign.left, syn::Expr::Path(_)) && self.wrap_call(&mut assign.right) {
            return;
        }
        syn::visit_mut::visit_expr_assign_mut(self, assign);
    }
}

impl Wrap<'_> {
    /// Wraps the arguments of `e` when it is the next passive call, by callee as written (`let n:
    /// usize = xs.len();` is not a call the lowering made). A method's receiver is its first
    /// argument.
    fn wrap_call(&mut self, e: &mut syn::Expr) -> bool {
        let (args, callee, skip) = match e {
            syn::Expr::Call(call) => {
                let func = &call.func;
                (&mut call.args, quote!(#func).to_string(), 0)
            }
            syn::Expr::MethodCall(call) => {
                let (method, turbofish) = (&call.method, &call.turbofish);
                (&mut call.args, quote!(#method #turbofish).to_string(), 1)
            }
            _ => return false,
        };
        let Some(site) = self.passive.get(self.next).filter(|site| site.callee.to_string() == callee) else {
            return false;
        };
        self.next += 1;
        for (arg, kind) in args.iter_mut().zip(site.args.iter().skip(skip)) {
            *arg = self.real(arg, kind);
        }
        true
    }

    fn real(&mut self, arg: &syn::Expr, kind: &CallArg) -> syn::Expr {
        match kind {
            CallArg::Value(v) if self.f.ty(*v).float().is_some() => {
                syn::parse_quote!(::backprop::__private::real_value(#arg))
            }
            CallArg::Place { array, by_ref, .. } if self.f.array(*array).elem.float().is_some() => {
                let inner = match arg {
                    syn::Expr::Reference(r) => &*r.expr,
                    other => other,
                };
                let a = self.f.array(*array);
                let owned = matches!(a.origin, ArrayOrigin::Param { by_ref: false, .. });
                // An argument (or a row of one, `&xs[s]`) that nothing writes: its view from the start.
                let (base, indices) = index_chain(inner);
                let param = match a.origin {
                    ArrayOrigin::Param { index, .. } if !a.mutable => Some(&self.f.params[index as usize].name),
                    _ => None,
                };
                let tokens = match (param, base) {
                    (Some(param), syn::Expr::Path(path)) if path.path.is_ident(param) => {
                        let view = self.view_of(param);
                        let indices: Vec<TokenStream> = indices.iter().map(|i| quote!(#i)).collect();
                        place_view(&quote!(#view), &indices, *by_ref, owned)
                    }
                    _ => place_view(&real_view(&quote!(#inner)), &[], *by_ref, owned),
                };
                syn::parse2(tokens).unwrap_or_else(|_| arg.clone())
            }
            _ => arg.clone(),
        }
    }

    /// The name of `param`'s view, taken at the start of the body.
    fn view_of(&mut self, param: &syn::Ident) -> syn::Ident {
        if let Some((_, view)) = self.views.iter().find(|(p, _)| p == param) {
            return view.clone();
        }
        let view = quote::format_ident!("{}real_{}", crate::plan::HIDDEN, param);
        self.views.push((param.clone(), view.clone()));
        view
    }
}

/// `xs[s][t]` as `xs` and `[s, t]`.
fn index_chain(e: &syn::Expr) -> (&syn::Expr, Vec<&syn::Expr>) {
    let (mut base, mut indices) = (e, Vec::new());
    while let syn::Expr::Index(i) = base {
        indices.push(&*i.index);
        base = &i.expr;
    }
    indices.reverse();
    (base, indices)
}

/// The lowering's test for a passive `let`'s type.
fn is_integer_or_bool(ty: &syn::Type) -> bool {
    matches!(crate::lower::scalar_type(ty), Some(Ty::Int | Ty::Bool))
}
