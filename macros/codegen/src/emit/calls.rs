//! Printing calls to other `#[backprop]` functions: the arguments as the forward sweep passes
//! them, the call itself (or its `_vjp`, when the pullback's closure is kept), and the call to its
//! pullback with one sink per place argument (a zero buffer of its own where two sinks overlap).

use super::expr::Prec;
use super::Emitter;
use crate::ir::{ArrayId, ArrayOrigin, CallArg, CallId, ValueId};
use crate::second_order::passive_args::{place_view, real_view};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

impl<'a> Emitter<'a> {
    /// The arguments of a call as the forward sweep passes them (and the pullback again).
    pub(super) fn call_arguments(&self, call: CallId, operands: &[ValueId]) -> Vec<TokenStream> {
        self.call_arguments_with(call, operands, false)
    }

    /// [`Emitter::call_arguments`]; with `copies`, an array argument copied at the call
    /// (`call_tapes.rs`) is the copy, and the array itself is not printed (it may be out of scope).
    fn call_arguments_with(&self, call: CallId, operands: &[ValueId], copies: bool) -> Vec<TokenStream> {
        let site = &self.f.calls[call.index()];
        let mut next = operands.iter();
        let mut out = Vec::new();
        for (j, arg) in site.args.iter().enumerate() {
            match arg {
                CallArg::Value(_) => {
                    let v = next.next().copied().unwrap_or(ValueId(0));
                    out.push(self.expr(v, false).0);
                }
                CallArg::Place { indices, .. } if copies && self.call_tape_arg(call, j).is_some() => {
                    for _ in 0..indices.len() {
                        next.next();
                    }
                    out.extend(self.call_tape_arg(call, j));
                }
                CallArg::Place { array, indices, by_ref } => {
                    let idx = self.place_indices(&mut next, indices.len());
                    let base = self.array_name(*array);
                    out.push(if *by_ref { quote!(&#base #([#idx])*) } else { quote!(#base #([#idx])*) });
                }
            }
        }
        out
    }

    /// The next `count` operands of a call, printed as a place argument's indices.
    fn place_indices(&self, next: &mut std::slice::Iter<'_, ValueId>, count: usize) -> Vec<TokenStream> {
        (0..count).map(|_| self.operand(next.next().copied().unwrap_or(ValueId(0)), Prec::Or, false)).collect()
    }

    /// The arguments of a passive call (`let j: usize = nearest(p, c, i);`): real numbers. A
    /// float is its value part, an array of floats a real view of it: the hoisted one
    /// ([`Emitter::passive_views`]) or one taken at the call. Over `f64` both are the argument
    /// itself; in a re-print over a dual type they are the values.
    fn passive_arguments(&self, call: CallId, operands: &[ValueId]) -> Vec<TokenStream> {
        let site = &self.f.calls[call.index()];
        let views = self.passive_views();
        let mut next = operands.iter();
        let mut out = Vec::new();
        for arg in &site.args {
            match arg {
                CallArg::Value(_) => {
                    let v = next.next().copied().unwrap_or(ValueId(0));
                    out.push(match (self.f.ty(v).float(), self.f.float_lit(v)) {
                        // A literal with its type written: `real_value` is generic, and an
                        // unsuffixed `0.5` in an `f32` function would be an `f64`.
                        (Some(ty), Some(x)) => {
                            let (real, lit) = (self.runtime_item("real_value"), self.lit_tokens(x, ty, true).0);
                            quote!(#real(#lit))
                        }
                        (Some(_), None) => {
                            let (real, value) = (self.runtime_item("real_value"), self.expr(v, false).0);
                            quote!(#real(#value))
                        }
                        (None, _) => self.expr(v, false).0,
                    });
                }
                CallArg::Place { array, indices, by_ref } => {
                    let idx = self.place_indices(&mut next, indices.len());
                    let base = self.array_name(*array);
                    if self.f.array(*array).elem.float().is_none() {
                        out.push(if *by_ref { quote!(&#base #([#idx])*) } else { quote!(#base #([#idx])*) });
                        continue;
                    }
                    let owned = matches!(self.f.array(*array).origin, ArrayOrigin::Param { by_ref: false, .. });
                    out.push(match views.iter().find(|(a, _)| a == array) {
                        Some((_, name)) => place_view(&quote!(#name), &idx, *by_ref, owned),
                        // A local array may change between calls: its view is taken at the call.
                        None => place_view(&real_view(&quote!(#base #([#idx])*)), &[], *by_ref, owned),
                    });
                }
            }
        }
        out
    }

    /// The float arrays passed to passive calls that no code writes (arguments, fields of
    /// parameter structs): their real views are taken once, at the start of the function
    /// ([`Emitter::passive_view_statements`]), not at every call, since over a dual type a view
    /// is a copy.
    pub(super) fn passive_views(&self) -> &[(ArrayId, proc_macro2::Ident)] {
        self.passive_views.get_or_init(|| self.find_passive_views())
    }

    fn find_passive_views(&self) -> Vec<(ArrayId, proc_macro2::Ident)> {
        let mut arrays: Vec<ArrayId> = Vec::new();
        for (i, node) in self.f.nodes.iter().enumerate() {
            let crate::ir::Op::Invoke(call, _) = node.op else { continue };
            let site = &self.f.calls[call.index()];
            if !site.passive || !self.live[i] {
                continue;
            }
            for arg in &site.args {
                let CallArg::Place { array, .. } = arg else { continue };
                let a = self.f.array(*array);
                let fixed = match &a.origin {
                    ArrayOrigin::Param { .. } => true,
                    ArrayOrigin::Field { path, .. } => !path.is_empty(),
                    _ => false,
                };
                if fixed && !a.mutable && a.elem.float().is_some() && !arrays.contains(array) {
                    arrays.push(*array);
                }
            }
        }
        arrays
            .into_iter()
            .map(|a| (a, format_ident!("{}real_{}_{}", crate::plan::HIDDEN, self.f.array(a).name, a.index())))
            .collect()
    }

    /// `let __backprop_real_c_1 = { use RealView as _; (c).real_view() };` for each of
    /// [`Emitter::passive_views`].
    pub(super) fn passive_view_statements(&self) -> Vec<super::Statement> {
        self.passive_views()
            .iter()
            .map(|(a, name)| {
                let (view, name) = (real_view(&self.array_name(*a)), name.clone());
                super::Statement::new(quote!(let #name = #view;), vec![(name, false)])
            })
            .collect()
    }

    /// `dense(&net.l1, x)` or `self.forward(x)`.
    pub(super) fn invoke_tokens(&self, call: CallId, operands: &[ValueId]) -> TokenStream {
        let site = &self.f.calls[call.index()];
        let args =
            if site.passive { self.passive_arguments(call, operands) } else { self.call_arguments(call, operands) };
        // A saved call: `dense_vjp(..)`, which returns the result and the pullback's closure.
        let callee = if self.backs.contains_key(&call) { &site.vjp } else { &site.callee };
        let span = site.span;
        if site.method {
            let (receiver, rest) = args.split_first().expect("a method call has a receiver");
            quote_spanned!(span=> #receiver.#callee(#(#rest),*))
        } else {
            quote_spanned!(span=> #callee(#(#args),*))
        }
    }

    /// `dense_pullback(&net.l1, x, &h, &d_h, sink(&mut grad.net.l1), None)`: the arguments, the
    /// result and its adjoint, then one sink per place argument (`None` where no adjoint is kept).
    pub(super) fn pullback_tokens(&self, call: CallId, operands: &[ValueId]) -> TokenStream {
        let site = &self.f.calls[call.index()];
        let reads = operands.len() - if site.result.is_some() { 0 } else { 2 };
        let mut args = self.call_arguments_with(call, &operands[..reads], true);
        match site.result {
            Some(r) => {
                let result = self.array_name(r);
                let adjoint =
                    self.array_adjoints.get(&r).map(|a| self.array_name(*a)).unwrap_or_else(|| quote!(#result));
                args.push(quote!(&#result));
                args.push(quote!(&#adjoint));
            }
            None => {
                args.push(self.expr(operands[reads], false).0);
                args.push(self.expr(operands[reads + 1], false).0);
            }
        }
        let sink = self.runtime_item("sink");
        let mut next = operands.iter();
        // Two sinks into the same adjoint (`dot(&h, &h)`, `&xs[0]` and `&xs[1]`, `&net` and
        // `&net.l1`) cannot both be borrowed: the later ones get a zero buffer of their own, added
        // in after the call.
        let mut taken: Vec<ArrayId> = Vec::new();
        let (mut before, mut after) = (TokenStream::new(), TokenStream::new());
        for (j, arg) in site.args.iter().enumerate() {
            match arg {
                CallArg::Value(_) => {
                    next.next();
                }
                CallArg::Place { array, indices, .. } => {
                    let idx = self.place_indices(&mut next, indices.len());
                    // An integer table is passive: the callee's pullback has no sink for it.
                    if self.f.array(*array).elem.float().is_none() {
                        continue;
                    }
                    // A copied argument's zero buffer is shaped like the copy.
                    let copied = self.call_tape_arg(call, j).is_some();
                    let adjoint = self.array_adjoints.get(array).filter(|a| self.live_arrays[a.index()]);
                    let Some(a) = adjoint else {
                        args.push(quote!(::core::option::Option::None));
                        continue;
                    };
                    let base = self.array_name(*a);
                    let whole = idx.is_empty() && (self.borrowed.borrow()[a.index()] || self.is_sink_itself(*a));
                    let place = if whole { quote!(*#base) } else { quote!(#base #([#idx])*) };
                    let guard = self.sinks.borrow().guards.get(a).cloned();
                    let guarded = |given: TokenStream| match &guard {
                        Some(flag) => quote!(if #flag { #given } else { ::core::option::Option::None }),
                        None => given,
                    };
                    if taken.iter().any(|t| self.sinks_overlap(*t, *a)) {
                        let alias = format_ident!("{}_alias_{}", self.grad_name, taken.len());
                        let add_in = if copied {
                            let zeros_like = self.runtime_item("ZerosLike");
                            let add = self.runtime("checks", "add_into");
                            let copy = self.call_tape_arg(call, j).unwrap_or_default();
                            before.extend(quote!(let mut #alias = { use #zeros_like as _; (#copy).zeros_like() };));
                            quote!(#add(&mut #place, &#alias);)
                        } else {
                            // A zero buffer shaped like the adjoint place itself (its own type, or a
                            // `Vec` for a slice sink), so it lends to the parameter the place would.
                            let buffer = self.runtime_item("AliasBuffer");
                            before.extend(quote!(let mut #alias = #buffer::alias_buffer(&#place);));
                            quote!(#buffer::add_buffer(&mut #place, &#alias);)
                        };
                        after.extend(match &guard {
                            Some(flag) => quote!(if #flag { #add_in }),
                            None => add_in,
                        });
                        args.push(guarded(quote!(#sink(&mut #alias))));
                    } else {
                        args.push(guarded(quote!(#sink(&mut #place))));
                    }
                    taken.push(*a);
                }
            }
        }
        let (pullback, span) = (&site.pullback, site.span);
        let call = if let Some(back) = self.backs.get(&call) {
            // The closure the forward call returned: the result's adjoint, then the sinks.
            let rest = &args[site.args.len() + 1..];
            quote_spanned!(span=> #back(#(#rest),*))
        } else if site.method {
            let (receiver, rest) = args.split_first().expect("a method call has a receiver");
            let receiver = receiver.clone();
            quote_spanned!(span=> #receiver.#pullback(#(#rest),*))
        } else {
            quote_spanned!(span=> #pullback(#(#args),*))
        };
        if before.is_empty() {
            return call;
        }
        let adjoints = format_ident!("{}_adjoints", self.grad_name);
        quote!({ #before let #adjoints = #call; #after #adjoints })
    }

    /// Whether two adjoint places overlap, so that one call cannot borrow both mutably: the same
    /// array (any elements), or fields of one parameter struct where one contains the other.
    fn sinks_overlap(&self, a: ArrayId, b: ArrayId) -> bool {
        if a == b {
            return true;
        }
        // Compared member by member: a path's printed form depends on who prints it (the
        // compiler's token printer writes `.q.v`, proc_macro2's `. q . v`).
        let members = |path: &TokenStream| -> Vec<String> {
            path.clone()
                .into_iter()
                .filter_map(|t| match t {
                    proc_macro2::TokenTree::Ident(i) => Some(i.to_string()),
                    proc_macro2::TokenTree::Literal(l) => Some(l.to_string()),
                    _ => None,
                })
                .collect()
        };
        let field = |x: ArrayId| match self.f.array(x).origin {
            ArrayOrigin::Adjoint(of) => match &self.f.array(of).origin {
                ArrayOrigin::Field { param, path } => Some((*param, members(path))),
                _ => None,
            },
            _ => None,
        };
        match (field(a), field(b)) {
            (Some((p, x)), Some((q, y))) if p == q => x.starts_with(&y) || y.starts_with(&x),
            _ => false,
        }
    }
}
