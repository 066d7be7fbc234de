//! Emission: the differentiated IR becomes Rust tokens, the gradient function and its struct.
//!
//! Shape of the generated code:
//! ```text
//! /// derivation ...
//! pub struct CostGrad { pub w1: f64, ... }
//! pub fn cost_grad(w1: f64, ..) -> (f64, CostGrad) {
//!     let a1 = w1 * a0;                        // forward sweep: the user's statements
//!     let (y, t3) = if c { ..; (y0, t3) } else { ..; (y1, 0.0) };   // `if` outputs and residuals
//!     let d_a3 = 2.0 * t0;                     // backward sweep: one named adjoint per value
//!     let (d_x_0,) = if c { .. } else { .. };   // a branch's contributions, by the same condition
//!     (cost, CostGrad { w1: d_w1, .. })
//! }
//! ```
//! A value gets a `let` when it has a name (the user's, an adjoint's), is used more than once, or is
//! used in another block; otherwise it is written inline into its one use. Conditions are written
//! inline at each `if` (cheap comparisons of named values). A value that a backward branch needs from
//! inside a forward branch is exported from the forward `if` (with a placeholder on the other side).

use crate::diff::Derivation;
use crate::ir::{
    Activation, ArrayId, ArrayOrigin, BinOp, BlockId, CallArg, CallId, Dim, FloatTy, Func, Function, Hint, IfId, Item,
    LoopId, Op, Ty, UnOp, ValueId, ROOT,
};
use crate::names::camel_case;
use crate::plan::{Plan, Tape};
use crate::scope::{Bound, ScopeCheck};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};

mod call_tapes;
pub mod promote;
mod pullback;

pub(crate) use pullback::{vjp_generics, with_lifetime};

/// Operator precedence, loosest first, for parenthesising inline expressions.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Prec {
    Or,
    And,
    Compare,
    Sum,
    Product,
    Cast,
    Prefix,
    Atom,
}

/// Blocks with more statements than this are emitted in chunks of `CHUNK_SIZE`.
const CHUNK_THRESHOLD: usize = 256;
const CHUNK_SIZE: usize = 64;

/// One emitted statement and the names it binds (with whether they are mutable).
struct Statement {
    tokens: TokenStream,
    binds: Vec<(Ident, bool)>,
}

impl Statement {
    fn new(tokens: TokenStream, binds: Vec<(Ident, bool)>) -> Self {
        Statement { tokens, binds }
    }
}

/// The printer: turns a [`Plan`] into tokens. It decides nothing about bindings, tapes or names;
/// the plan's fields are read through `Deref`.
pub struct Emitter<'a> {
    pub plan: Plan<'a>,
    /// Doc rendering: unnamed temporaries are written out (a few levels deep) instead of `t3`.
    doc_depth: std::cell::Cell<Option<u32>>,
    /// The path to the facade crate in generated code.
    krate: TokenStream,
    /// What the printed code binds and uses, checked as it is printed.
    scope: std::cell::RefCell<ScopeCheck>,
    /// What the scope check found in the last `emit`.
    problems: std::cell::RefCell<Vec<String>>,
    /// Per array: its binding is a `&mut` borrow (an adjoint that is the caller's buffer), so a
    /// sink reborrows it (`&mut *d_x`).
    borrowed: std::cell::RefCell<Vec<bool>>,
    /// Printing a pullback (`pullback.rs`): where each argument's adjoint goes, and the activity
    /// flag guarding the writes into it.
    sinks: std::cell::RefCell<pullback::Sinks>,
    /// `#[backprop(max_iterations = N)]`: the bound on a `while` loop's iterations.
    pub max_iterations: Option<u64>,
    /// How the generated functions call each other: directly, or `Self::` for methods.
    pub sibling: TokenStream,
    /// For a method: the type's name, in front of the gradient struct's (`NetLossGrad`).
    pub struct_prefix: String,
}

impl<'a> std::ops::Deref for Emitter<'a> {
    type Target = Plan<'a>;
    fn deref(&self) -> &Plan<'a> {
        &self.plan
    }
}

impl<'a> Emitter<'a> {
    pub fn new(f: &'a Function, d: &Derivation, user_tokens: TokenStream) -> Self {
        Self::with_plan(f, Plan::new(f, d, user_tokens))
    }

    /// The printer of `<name>_vjp` (`Plan::with_mode`).
    pub fn new_vjp(f: &'a Function, d: &Derivation, user_tokens: TokenStream) -> Self {
        Self::with_plan(f, Plan::with_mode(f, d, user_tokens, true))
    }

    fn with_plan(f: &'a Function, plan: Plan<'a>) -> Self {
        Emitter {
            plan,
            doc_depth: std::cell::Cell::new(None),
            krate: quote!(::backprop),
            scope: std::cell::RefCell::new(ScopeCheck::default()),
            problems: std::cell::RefCell::new(Vec::new()),
            borrowed: std::cell::RefCell::new(vec![false; f.arrays.len()]),
            sinks: std::cell::RefCell::new(pullback::Sinks::default()),
            max_iterations: None,
            sibling: TokenStream::new(),
            struct_prefix: String::new(),
        }
    }

    /// Uses outside their binding's scope found while printing the last [`Emitter::emit`]; the
    /// expansion must not be used when there are any.
    pub fn scope_problems(&self) -> Vec<String> {
        self.problems.borrow().clone()
    }

    /// Records that the printed code binds `v`'s name here (see `scope.rs`).
    fn bind(&self, v: ValueId) {
        if let (Some(name), None) = (self.name(v), self.doc_depth.get()) {
            self.scope.borrow_mut().bind(&name.to_string(), Bound::Value(v));
        }
    }

    /// Records that the printed code reads `v` by its name here.
    fn use_value(&self, v: ValueId) {
        if let (Some(name), None) = (self.name(v), self.doc_depth.get()) {
            self.scope.borrow_mut().use_name(&name.to_string(), Bound::Value(v));
        }
    }

    fn bind_array(&self, a: ArrayId) {
        if let Some(name) = &self.array_names[a.index()] {
            self.scope.borrow_mut().bind(&name.to_string(), Bound::Array(a));
        }
    }

    fn open_scope(&self) {
        self.scope.borrow_mut().open();
    }

    fn close_scope(&self) {
        self.scope.borrow_mut().close();
    }

    /// `v` for a reader: unnamed temporaries written out, user names kept.
    pub fn doc_expr(&self, v: ValueId) -> TokenStream {
        self.doc_depth.set(Some(0));
        let out = self.expr(v, false).0;
        self.doc_depth.set(None);
        out
    }

    // ---- expressions -------------------------------------------------------------------------

    fn lit_tokens(&self, x: f64, ty: FloatTy, suffixed: bool) -> (TokenStream, Prec) {
        // `{:?}` is the shortest text that reads back to the same value, always with `.` or `e`.
        let digits = match ty {
            FloatTy::F64 => format!("{:?}", x.abs()),
            FloatTy::F32 => format!("{:?}", x.abs() as f32),
        };
        let text = if suffixed { format!("{digits}_{}", ty.name()) } else { digits };
        let lit: Literal = text.parse().unwrap_or_else(|_| Literal::f64_unsuffixed(0.0));
        if x.is_sign_negative() {
            (quote!(-#lit), Prec::Prefix)
        } else {
            (lit.into_token_stream(), Prec::Atom)
        }
    }

    /// The expression for `v` with its precedence. Literals carry a type suffix when `suffixed`
    /// (where nothing else gives the literal its type).
    fn expr(&self, v: ValueId, suffixed: bool) -> (TokenStream, Prec) {
        if let Some(depth) = self.doc_depth.get() {
            let node = self.f.node(v);
            let unnamed = !matches!(node.hint, Some(Hint::User(_)) | Some(Hint::Output(_)));
            if unnamed && !node.op.is_leaf() && !matches!(node.op, Op::Phi(..)) && depth < 4 {
                self.doc_depth.set(Some(depth + 1));
                let out = self.body(v, false);
                self.doc_depth.set(Some(depth));
                return out;
            }
        }
        if let Some(name) = self.name(v) {
            if self.bound[v.index()] || matches!(self.f.node(v).op, Op::Param(_)) {
                self.use_value(v);
                return (name.to_token_stream(), Prec::Atom);
            }
        }
        self.body(v, suffixed)
    }

    fn operand(&self, v: ValueId, min: Prec, suffixed: bool) -> TokenStream {
        let (tokens, prec) = self.expr(v, suffixed);
        if prec < min {
            quote!((#tokens))
        } else {
            tokens
        }
    }

    fn is_lit(&self, v: ValueId) -> bool {
        matches!(self.f.node(v).op, Op::FloatLit(_) | Op::IntLit(_))
    }

    fn runtime(&self, module: &str, function: &str) -> TokenStream {
        let krate = &self.krate;
        let module = Ident::new(module, Span::call_site());
        let function = Ident::new(function, Span::call_site());
        quote!(#krate::__private::#module::#function)
    }

    /// The right-hand side of `v`'s binding (or its inline form).
    fn body(&self, v: ValueId, suffixed: bool) -> (TokenStream, Prec) {
        let node = self.f.node(v);
        let span = node.span;
        match &node.op {
            Op::Param(i) => (self.f.params[*i as usize].name.to_token_stream(), Prec::Atom),
            Op::FloatLit(bits) => {
                self.lit_tokens(f64::from_bits(*bits), node.ty.float().unwrap_or(self.f.float), suffixed)
            }
            Op::IntLit(i) => {
                let lit = Literal::u128_unsuffixed(i.unsigned_abs());
                if *i < 0 {
                    (quote!(-#lit), Prec::Prefix)
                } else {
                    (lit.into_token_stream(), Prec::Atom)
                }
            }
            Op::BoolLit(b) => (quote!(#b), Prec::Atom),
            Op::Const(idx) => (self.f.paths[*idx as usize].1.clone(), Prec::Atom),
            Op::Unary(op, a) => {
                let a = self.operand(*a, Prec::Prefix, true);
                match op {
                    UnOp::Neg => (quote_spanned!(span=> -#a), Prec::Prefix),
                    UnOp::Not => (quote_spanned!(span=> !#a), Prec::Prefix),
                }
            }
            Op::Binary(op, a, b) => self.binary(*op, *a, *b, span),
            Op::Call(func, args) => self.call(*func, args, node.ty, span),
            Op::Cast(idx, a) => {
                let ty = &self.f.paths[*idx as usize].1;
                let a = self.operand(*a, Prec::Cast, false);
                (quote_spanned!(span=> #a as #ty), Prec::Cast)
            }
            Op::Alias(src) => self.expr(*src, true),
            Op::Load(a, _, indices) => {
                let base = self.array_name(*a);
                let idx: Vec<TokenStream> = indices.iter().map(|i| self.operand(*i, Prec::Or, false)).collect();
                (quote_spanned!(span=> #base #([#idx])*), Prec::Atom)
            }
            Op::Len(a) => match self.f.array(*a).dims.first() {
                // A fixed length is valid anywhere, also in a backward loop outside the array's scope
                // (an array declared inside an outer loop body).
                Some(Dim::Const(n)) if !matches!(self.f.array(*a).origin, ArrayOrigin::Param { .. }) => {
                    let n = n.clone();
                    if syn::parse2::<syn::Lit>(n.clone()).is_ok() || syn::parse2::<syn::Ident>(n.clone()).is_ok() {
                        (n, Prec::Atom)
                    } else {
                        (quote!((#n)), Prec::Atom)
                    }
                }
                Some(Dim::Value(n)) => self.expr(*n, false),
                _ => {
                    let base = self.array_name(*a);
                    (quote_spanned!(span=> #base.len()), Prec::Atom)
                }
            },
            Op::Invoke(call, operands) => (self.invoke_tokens(*call, operands), Prec::Atom),
            Op::Pullback(call, operands) => (self.pullback_tokens(*call, operands), Prec::Atom),
            Op::PullbackOut(pb, k) => {
                self.use_value(*pb);
                let name = self.name(*pb).map(|n| n.to_token_stream()).unwrap_or_else(|| quote!(_));
                let k = Literal::usize_unsuffixed(*k as usize);
                (quote!(#name.#k), Prec::Atom)
            }
            Op::Seed => (self.seed_name.to_token_stream(), Prec::Atom),
            Op::Result => (self.result_name.to_token_stream(), Prec::Atom),
            // Named by their construct (`if`, loop); reached only through their names.
            Op::Phi(..)
            | Op::LoopVar(_)
            | Op::LoopPhi(..)
            | Op::LoopOut(..)
            | Op::LoopTrips(_)
            | Op::Store(..)
            | Op::Declare(_) => (self.name(v).map(|n| n.to_token_stream()).unwrap_or_else(|| quote!(_)), Prec::Atom),
        }
    }

    fn array_name(&self, a: ArrayId) -> TokenStream {
        if self.f.output_is_result && self.f.output_array == Some(a) {
            let result = &self.result_name;
            return quote!((*#result));
        }
        match &self.f.array(a).origin {
            ArrayOrigin::Const(path) => self.f.paths[*path as usize].1.clone(),
            ArrayOrigin::Result => self.result_name.to_token_stream(),
            ArrayOrigin::Field { param, path } => {
                let name = &self.f.params[*param as usize].name;
                quote!(#name #path)
            }
            ArrayOrigin::Adjoint(of) if matches!(self.f.array(*of).origin, ArrayOrigin::Field { .. }) => {
                let ArrayOrigin::Field { param, path } = &self.f.array(*of).origin else { unreachable!() };
                let place = self.gradient_place(*param as usize);
                quote!(#place #path)
            }
            _ => {
                if let (Some(name), None) = (&self.array_names[a.index()], self.doc_depth.get()) {
                    self.scope.borrow_mut().use_name(&name.to_string(), Bound::Array(a));
                }
                self.array_names[a.index()].to_token_stream()
            }
        }
    }

    /// The arguments of a call as the forward sweep passes them (and the pullback again).
    fn call_arguments(&self, call: CallId, operands: &[ValueId]) -> Vec<TokenStream> {
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

    /// `dense(&net.l1, x)` or `self.forward(x)`.
    fn invoke_tokens(&self, call: CallId, operands: &[ValueId]) -> TokenStream {
        let site = &self.f.calls[call.index()];
        let args = self.call_arguments(call, operands);
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
    fn pullback_tokens(&self, call: CallId, operands: &[ValueId]) -> TokenStream {
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

    /// Where the gradient of argument `param` accumulates: its field of the caller's gradient.
    fn gradient_place(&self, param: usize) -> TokenStream {
        if let Some(sink) = self.sinks.borrow().names.get(&param) {
            return sink.to_token_stream();
        }
        let grad = &self.grad_name;
        let name = self.gradient_field(param);
        quote!(#grad.#name)
    }

    /// The gradient struct's field for argument `param`: its name (`self_` for a receiver).
    pub(crate) fn gradient_field(&self, param: usize) -> Ident {
        let name = &self.f.params[param].name;
        if name == "self" {
            Ident::new("self_", name.span())
        } else {
            name.clone()
        }
    }

    /// `[[0.0_f64; N]; M]`, or `vec![..; x.len()]` for a slice's outermost dimension.
    fn filled(&self, a: ArrayId, fill: TokenStream) -> TokenStream {
        let array = self.f.array(a);
        let mut out = fill;
        for dim in array.dims.iter().rev() {
            out = match dim {
                Dim::Const(n) => quote!([#out; #n]),
                Dim::Dynamic => {
                    // Only the outermost dimension of an argument is dynamic; its length is the
                    // argument's (or, for an adjoint, its primal's).
                    let source = match array.origin {
                        ArrayOrigin::Adjoint(of) => of,
                        _ => a,
                    };
                    let base = self.array_name(source);
                    quote!(::std::vec![#out; #base.len()])
                }
                Dim::Value(n) => {
                    let n = self.operand(*n, Prec::Or, false);
                    quote!(::std::vec![#out; #n])
                }
            };
        }
        out
    }

    /// The owned type of an array: `[f64; N]` stays, `[f64]` and `Vec<f64>` become `Vec<f64>`.
    fn owned_type(&self, a: ArrayId) -> TokenStream {
        let array = self.f.array(a);
        let elem = Ident::new(array.elem.float().unwrap_or(self.f.float).name(), Span::call_site());
        let mut out = quote!(#elem);
        for dim in array.dims.iter().rev() {
            out = match dim {
                Dim::Const(n) => quote!([#out; #n]),
                Dim::Dynamic | Dim::Value(_) => quote!(::std::vec::Vec<#out>),
            };
        }
        out
    }

    fn binary(&self, op: BinOp, a: ValueId, b: ValueId, span: Span) -> (TokenStream, Prec) {
        let (prec, tok) = match op {
            BinOp::Add => (Prec::Sum, quote!(+)),
            BinOp::Sub => (Prec::Sum, quote!(-)),
            BinOp::Mul => (Prec::Product, quote!(*)),
            BinOp::Div => (Prec::Product, quote!(/)),
            BinOp::Rem => (Prec::Product, quote!(%)),
            BinOp::Lt => (Prec::Compare, quote!(<)),
            BinOp::Le => (Prec::Compare, quote!(<=)),
            BinOp::Gt => (Prec::Compare, quote!(>)),
            BinOp::Ge => (Prec::Compare, quote!(>=)),
            BinOp::Eq => (Prec::Compare, quote!(==)),
            BinOp::Ne => (Prec::Compare, quote!(!=)),
            BinOp::And => (Prec::And, quote!(&&)),
            BinOp::Or => (Prec::Or, quote!(||)),
        };
        // A literal next to a typed operand takes its type from it; two literals need suffixes.
        let both_lits = self.is_lit(a) && self.is_lit(b);
        let (left_min, right_min) = match prec {
            // `a as f64 < b` would parse `<` as generics: casts get parentheses in comparisons.
            Prec::Compare => (Prec::Prefix, Prec::Prefix),
            p => (p, next(p)),
        };
        let l = self.operand(a, left_min, both_lits);
        let r = self.operand(b, right_min, both_lits);
        (quote_spanned!(span=> #l #tok #r), prec)
    }

    fn call(&self, func: Func, args: &[ValueId], ty: Ty, span: Span) -> (TokenStream, Prec) {
        let helper_args =
            |e: &Self| -> Vec<TokenStream> { args.iter().map(|a| e.operand(*a, Prec::Or, true)).collect() };
        match func {
            Func::SumArray(a, _) => {
                let base = self.array_name(ArrayId(a));
                let elem = Ident::new(ty.float().unwrap_or(self.f.float).name(), Span::call_site());
                (quote_spanned!(span=> #base.iter().sum::<#elem>()), Prec::Atom)
            }
            Func::Activation(_, path) => {
                let path = &self.f.paths[path as usize].1;
                let args = helper_args(self);
                (quote_spanned!(span=> #path(#(#args),*)), Prec::Atom)
            }
            Func::ActivationDerivative(act) => {
                let f = self.runtime("activation", &format!("{}_derivative", act.name()));
                let args = helper_args(self);
                (quote!(#f(#(#args),*)), Prec::Atom)
            }
            Func::ActivationAlphaDerivative(act) => {
                let f = self.runtime("activation", &format!("{}_alpha_derivative", act.name()));
                let args = helper_args(self);
                (quote!(#f(#(#args),*)), Prec::Atom)
            }
            Func::Sign
            | Func::MaxWeight
            | Func::MinWeight
            | Func::ClampWeight
            | Func::ClampLoWeight
            | Func::ClampHiWeight => {
                let name = match func {
                    Func::Sign => "sign",
                    Func::MaxWeight => "max_weight",
                    Func::MinWeight => "min_weight",
                    Func::ClampWeight => "clamp_weight",
                    Func::ClampLoWeight => "clamp_lo_weight",
                    _ => "clamp_hi_weight",
                };
                let f = self.runtime("kinks", name);
                let args = helper_args(self);
                (quote!(#f(#(#args),*)), Prec::Atom)
            }
            Func::UnlessZero => {
                let d = self.operand(args[0], Prec::Compare.max(Prec::Prefix), false);
                let c = self.expr(args[1], false).0;
                // As loose as an expression gets: an operand position parenthesises it.
                (quote!(if #d == 0.0 { 0.0 } else { #c }), Prec::Or)
            }
            method => {
                let name = crate::ir::method_name(method).unwrap_or("unknown");
                let method = Ident::new(name, span);
                let receiver = self.operand(args[0], Prec::Atom, true);
                let rest: Vec<TokenStream> = args[1..].iter().map(|a| self.operand(*a, Prec::Or, false)).collect();
                (quote_spanned!(span=> #receiver.#method(#(#rest),*)), Prec::Atom)
            }
        }
    }

    // ---- statements --------------------------------------------------------------------------

    pub fn block(&self, b: BlockId) -> TokenStream {
        let mut statements: Vec<Statement> = Vec::new();
        // A backward loop body first pops what its forward iteration pushed.
        statements.extend(self.call_tape_pops(b));
        if let Some(mirror) = self.f.block(b).mirror.filter(|_| self.f.block(b).backward) {
            for t in self.tapes.iter().filter(|t| t.body == mirror) {
                let (name, tape) = (self.name(t.value), &t.name);
                let pop = match self.fill_count(t) {
                    Some(len) => quote!(#len -= 1; let #name = #tape[#len];),
                    None => {
                        let zero = self.placeholder(t.value);
                        quote!(let #name = #tape.pop().unwrap_or(#zero);)
                    }
                };
                self.bind(t.value);
                statements.push(Statement::new(pop, name.cloned().map(|n| (n, false)).into_iter().collect()));
            }
            // A carried end-of-iteration value: what the next backward iteration started from.
            for d in self.derived.iter().filter(|d| d.body == mirror) {
                let (name, shadow) = (self.name(d.next), &d.shadow);
                self.bind(d.next);
                statements.push(Statement::new(
                    quote!(let #name = #shadow;),
                    name.cloned().map(|n| (n, false)).into_iter().collect(),
                ));
            }
            let mut again = self.recompute.get(&mirror).cloned().unwrap_or_default();
            again.sort();
            for v in again {
                let name = self.name(v);
                let (rhs, _) = self.body(v, true);
                self.bind(v);
                statements.push(Statement::new(
                    quote!(let #name = #rhs;),
                    name.cloned().map(|n| (n, false)).into_iter().collect(),
                ));
            }
        }
        // A `while` body first computes its condition and leaves when it is false. What it pushes
        // before that point is pushed after it: the last, unfinished iteration pushes nothing, so
        // the backward loop pops exactly what its `trips` iterations pushed.
        let exit =
            self.f.block(b).loop_owner.and_then(|l| self.f.loop_node(l).exit).filter(|_| !self.f.block(b).backward);
        let mut exit_pending = exit.is_some();
        let mut deferred_pushes: Vec<Statement> = Vec::new();
        let exit_at_start = exit.is_some_and(|c| !self.f.block(b).items.contains(&Item::Value(c)));
        if let (true, Some(c)) = (exit_at_start, exit) {
            let cond = self.operand(c, Prec::Prefix, true);
            statements.push(Statement::new(quote!(if !#cond { break; }), vec![]));
            exit_pending = false;
        }
        // A forward loop body pushes its carried variables' values at the start of the iteration.
        if self.f.block(b).loop_owner.is_some() && !self.f.block(b).backward {
            let at_start = |v: ValueId| matches!(self.f.node(v).op, Op::LoopPhi(l, _) if self.f.loop_node(l).body == b);
            for t in self.tapes.iter().filter(|t| t.body == b && at_start(t.value)) {
                let push = Statement::new(self.push(t), vec![]);
                if exit_pending {
                    deferred_pushes.push(push);
                } else {
                    statements.push(push);
                }
            }
        }
        for item in &self.f.block(b).items {
            match *item {
                Item::Value(v) => {
                    if let Some(statement) = self.value_statement(v) {
                        statements.push(statement);
                    }
                }
                Item::If(id) => {
                    if let Some(statement) = self.if_statement(id) {
                        statements.push(statement);
                    }
                }
                Item::Loop(id) => {
                    if self.fused.values().any(|back| *back == id) {
                        continue;
                    }
                    if let Some(statement) = self.loop_statement(id) {
                        statements.push(statement);
                    }
                }
            }
            // Values this item made visible that the backward loop will need: push them.
            let defined: Vec<ValueId> = match *item {
                Item::Value(v) => vec![v],
                Item::If(id) => {
                    let mut out: Vec<ValueId> = self.f.if_node(id).outputs.iter().map(|o| o.phi).collect();
                    out.extend(self.residuals.get(&id).cloned().unwrap_or_default());
                    out
                }
                // After an inner loop: the values its carried variables end with, and its trip count.
                Item::Loop(l) => {
                    let node = self.f.loop_node(l);
                    node.carried.iter().map(|c| c.out).chain(node.trips).collect()
                }
            };
            for t in self.tapes.iter().filter(|t| t.body == b && defined.contains(&t.value)) {
                let push = Statement::new(self.push(t), vec![]);
                if exit_pending {
                    deferred_pushes.push(push);
                } else {
                    statements.push(push);
                }
            }
            if let (true, Some(c)) = (exit_pending, exit) {
                if *item == Item::Value(c) {
                    let cond = self.operand(c, Prec::Prefix, true);
                    statements.push(Statement::new(quote!(if !#cond { break; }), vec![]));
                    statements.append(&mut deferred_pushes);
                    exit_pending = false;
                }
            }
        }
        if statements.len() <= CHUNK_THRESHOLD {
            return statements.into_iter().map(|s| s.tokens).collect();
        }
        // Every `let` opens a scope nested in the previous one, and thousands of nested scopes
        // overflow LLVM's debug-info writer. Long blocks are therefore emitted in chunks, each a
        // block that hands its bindings out through one tuple `let`.
        let mut out = TokenStream::new();
        for chunk in statements.chunks(CHUNK_SIZE) {
            let body: TokenStream = chunk.iter().map(|s| s.tokens.clone()).collect();
            let names: Vec<&Ident> = chunk.iter().flat_map(|s| &s.binds).map(|(n, _)| n).collect();
            let patterns: Vec<TokenStream> = chunk
                .iter()
                .flat_map(|s| &s.binds)
                .map(|(n, mutable)| if *mutable { quote!(mut #n) } else { quote!(#n) })
                .collect();
            out.extend(quote!(let (#(#patterns,)*) = { #body (#(#names,)*) };));
        }
        out
    }

    fn push(&self, t: &Tape) -> TokenStream {
        self.use_value(t.value);
        let (name, tape) = (self.name(t.value), &t.name);
        match self.fill_count(t) {
            Some(len) => quote!(#tape[#len] = #name; #len += 1;),
            None => quote!(#tape.push(#name);),
        }
    }

    /// The fill count of a tape indexed like a stack (a stack array, or a buffer sized once per
    /// call); `None`: a `Vec` pushed and popped (a `while`). The plan decides which (`Tape::len`).
    fn fill_count<'t>(&self, t: &'t Tape) -> Option<&'t Ident> {
        t.len.as_ref()
    }

    /// The statement for a value item: its `let`, an element store, an array declaration.
    fn value_statement(&self, v: ValueId) -> Option<Statement> {
        let mut statement = self.value_statement_unguarded(v)?;
        if let Op::Invoke(call, _) = self.f.node(v).op {
            statement = self.with_call_tape(v, call, statement);
        }
        // In a pullback, a write into an argument's adjoint happens only when the caller asked
        // for that adjoint (a constant per instantiation: the other copy has no such code).
        if let Op::Store(a, _) = self.f.node(v).op {
            if let Some(flag) = self.sinks.borrow().guards.get(&a) {
                let tokens = statement.tokens;
                return Some(Statement::new(quote!(if #flag { #tokens }), statement.binds));
            }
        }
        Some(statement)
    }

    fn value_statement_unguarded(&self, v: ValueId) -> Option<Statement> {
        if !self.live[v.index()] {
            return None;
        }
        let node = self.f.node(v);
        match &node.op {
            Op::Store(a, args) => {
                let (indices, value) = args.split_at(args.len() - 1);
                let base = self.array_name(*a);
                let idx: Vec<TokenStream> = indices.iter().map(|i| self.operand(*i, Prec::Or, false)).collect();
                // `a[i] = a[i] + e` (unbound read) reads as `a[i] += e`.
                if let Op::Binary(BinOp::Add, l, r) = &self.f.node(value[0]).op {
                    if !self.bound[value[0].index()] && !self.bound[l.index()] {
                        if let Op::Load(la, _, li) = &self.f.node(*l).op {
                            if la == a && li.as_slice() == indices {
                                let r = self.expr(*r, false).0;
                                return Some(Statement::new(quote!(#base #([#idx])* += #r;), vec![]));
                            }
                        }
                    }
                }
                let value = self.expr(value[0], true).0;
                Some(Statement::new(quote!(#base #([#idx])* = #value;), vec![]))
            }
            Op::Declare(a) => {
                if let ArrayOrigin::Adjoint(_) = self.f.array(*a).origin {
                    let name = self.array_name(*a);
                    let zero = self.lit_tokens(0.0, self.f.array(*a).elem.float().unwrap_or(self.f.float), true).0;
                    // A buffer sized at run time is cleared in place: no allocation per iteration.
                    if let Some(Dim::Value(_) | Dim::Dynamic) = self.f.array(*a).dims.first() {
                        let mut inner = zero;
                        for dim in self.f.array(*a).dims[1..].iter().rev() {
                            if let Dim::Const(n) = dim {
                                inner = quote!([#inner; #n]);
                            }
                        }
                        return Some(Statement::new(quote!(#name.fill(#inner);), vec![]));
                    }
                    let zeros = self.filled(*a, zero);
                    return Some(Statement::new(quote!(#name = #zeros;), vec![]));
                }
                let ArrayOrigin::Local { fill } = self.f.array(*a).origin else { return None };
                let name = self.array_names[a.index()].clone()?;
                let init = self.filled(*a, self.expr(fill, true).0);
                self.bind_array(*a);
                let mutable = self.f.array(*a).mutable;
                let pattern = if mutable { quote!(mut #name) } else { quote!(#name) };
                Some(Statement::new(quote!(let #pattern = #init;), vec![(name, mutable)]))
            }
            Op::Phi(..) => None,
            Op::Invoke(call, operands) if self.f.calls[call.index()].result.is_some() => {
                let result = self.f.calls[call.index()].result?;
                let name = self.array_names[result.index()].clone()?;
                let rhs = self.invoke_tokens(*call, operands);
                self.bind_array(result);
                let reused = self.f.output_is_result && self.f.output_array == Some(result);
                let mut tokens = match self.backs.get(call) {
                    _ if reused => TokenStream::new(),
                    Some(back) => quote!(let (#name, #back) = #rhs;),
                    None => quote!(let #name = #rhs;),
                };
                let mut binds = vec![(name.clone(), false)];
                // The result's adjoint starts at zero, shaped like the result; in a pullback whose
                // function returns this array, at the caller's adjoint (the seed).
                // In a `_vjp`, the returned array's adjoint is the closure's: declared there.
                let returned = (self.vjp && self.f.output_array == Some(result)) || self.result_adjoint_at_pop(*call);
                if let Some(adjoint) =
                    self.array_adjoints.get(&result).filter(|a| self.live_arrays[a.index()] && !returned)
                {
                    let d_name = self.array_names[adjoint.index()].clone()?;
                    let zeros_like = self.runtime_item("ZerosLike");
                    self.bind_array(*adjoint);
                    let init = if self.f.output_array == Some(result) {
                        let seed = &self.seed_name;
                        quote!(::core::clone::Clone::clone(#seed))
                    } else {
                        quote!(#zeros_like::zeros_like(&#name))
                    };
                    tokens.extend(quote!(let mut #d_name = #init;));
                    binds.push((d_name, true));
                }
                Some(Statement::new(tokens, binds))
            }
            Op::Invoke(call, _) if self.bound[v.index()] && self.backs.contains_key(call) => {
                let (name, back) = (self.name(v)?.clone(), self.backs[call].clone());
                let (rhs, _) = self.body(v, true);
                self.bind(v);
                Some(Statement::new(quote!(let (#name, #back) = #rhs;), vec![(name, false)]))
            }
            Op::Pullback(call, operands) => {
                let rhs = self.pullback_tokens(*call, operands);
                if self.bound[v.index()] {
                    let name = self.name(v)?.clone();
                    self.bind(v);
                    return Some(Statement::new(quote!(let #name = #rhs;), vec![(name, false)]));
                }
                Some(Statement::new(quote!(#rhs;), vec![]))
            }
            _ if self.bound[v.index()] && !self.defined_by_construct(v) => {
                let name = self.name(v)?.clone();
                let (rhs, _) = self.body(v, true);
                self.bind(v);
                Some(Statement::new(quote!(let #name = #rhs;), vec![(name, false)]))
            }
            _ => None,
        }
    }

    /// A loop's live carried variables.
    fn live_carried(&self, id: LoopId) -> Vec<crate::ir::Carried> {
        let node = self.f.loop_node(id);
        node.carried.iter().filter(|c| self.live[c.inner.index()] || self.live[c.out.index()]).copied().collect()
    }

    /// The `let mut` declarations of a loop's live carried variables (before the loop: one variable
    /// holds the carried value and, after the loop, its final value).
    fn carried_decls(&self, id: LoopId, decls: &mut TokenStream, binds: &mut Vec<(Ident, bool)>) -> Option<()> {
        for c in self.live_carried(id) {
            let name = self.name(c.out).or(self.name(c.inner))?.clone();
            let init = self.expr(c.init, true).0;
            decls.extend(quote!(let mut #name = #init;));
            self.bind(c.out);
            binds.push((name, false));
        }
        Some(())
    }

    /// The assignments that carry the next values into the next iteration (all next values are
    /// computed before any is assigned), printed inside the loop body.
    fn carried_updates(&self, id: LoopId, names: &mut Vec<TokenStream>, nexts: &mut Vec<TokenStream>) {
        for c in self.live_carried(id).iter().filter(|c| c.next != c.inner) {
            names.push(self.name(c.inner).to_token_stream());
            nexts.push(self.expr(c.next, true).0);
        }
    }

    /// `let mut c = init; for i in lo..hi { body; c = next; }`; a fused loop's reverse runs in the
    /// same iteration, after the forward body.
    fn loop_statement(&self, id: LoopId) -> Option<Statement> {
        if !self.live_loops[id.index()] {
            return None;
        }
        let node = self.f.loop_node(id);
        let fused = self.fused.get(&id).copied();
        let loops: Vec<LoopId> = std::iter::once(id).chain(fused).collect();
        let (mut decls, mut binds) = (TokenStream::new(), Vec::new());
        // A `while` loop counts its iterations: the backward loop runs that many.
        let trips = node.trips.filter(|_| node.exit.is_some());
        if let Some(t) = trips {
            let name = self.name(t)?.clone();
            decls.extend(quote!(let mut #name = 0usize;));
            self.bind(t);
            binds.push((name, false));
        }
        for &l in &loops {
            self.carried_decls(l, &mut decls, &mut binds)?;
        }
        let lo = self.operand(node.lo, Prec::Or, false);
        let hi = self.operand(node.hi, Prec::Or, false);
        // Carried end-of-iteration values (`Plan::derived`): before the backward loop, the forward
        // loop's final value ...
        let mirror = self.f.block(node.body).mirror.filter(|_| self.f.block(node.body).backward);
        for d in self.derived.iter().filter(|d| Some(d.body) == mirror) {
            let (shadow, out) = (&d.shadow, self.expr(d.out, true).0);
            decls.extend(quote!(let mut #shadow = #out;));
        }
        self.open_scope();
        self.bind(node.var);
        for &l in &loops {
            for c in self.live_carried(l) {
                self.bind(c.inner);
            }
        }
        let mut body = TokenStream::new();
        for &l in &loops {
            body.extend(self.block(self.f.loop_node(l).body));
        }
        // ... and after each backward iteration, that iteration's start value.
        for d in self.derived.iter().filter(|d| Some(d.body) == mirror) {
            let (shadow, inner) = (&d.shadow, self.name(d.inner));
            self.use_value(d.inner);
            body.extend(quote!(#shadow = #inner;));
        }
        let (mut names, mut nexts) = (Vec::new(), Vec::new());
        for &l in &loops {
            self.carried_updates(l, &mut names, &mut nexts);
        }
        self.close_scope();
        let update = match names.len() {
            0 => TokenStream::new(),
            1 => {
                let (n, e) = (&names[0], &nexts[0]);
                quote!(#n = #e;)
            }
            _ => quote!((#(#names),*) = (#(#nexts),*);),
        };
        if let Some(t) = trips {
            let name = self.name(t);
            let limit = match self.max_iterations {
                Some(n) => {
                    let n = proc_macro2::Literal::u64_unsuffixed(n);
                    let message = format!(
                        "a `while` loop in `#[backprop]` function ran more than {n} iterations (`max_iterations = {n}`)"
                    );
                    quote!(if #name >= #n { ::core::panic!(#message); })
                }
                None => TokenStream::new(),
            };
            return Some(Statement::new(quote!(#decls loop { #body #update #limit #name += 1; }), binds));
        }
        let var = match self.name(node.var) {
            Some(name) if self.live[node.var.index()] => name.to_token_stream(),
            _ => quote!(_),
        };
        let rev = node.rev != self.forward_order.contains(&id);
        let range = match (node.inclusive, rev) {
            (false, false) => quote!(#lo..#hi),
            (true, false) => quote!(#lo..=#hi),
            (false, true) => quote!((#lo..#hi).rev()),
            (true, true) => quote!((#lo..=#hi).rev()),
        };
        Some(Statement::new(quote!(#decls for #var in #range { #body #update }), binds))
    }

    /// How many times a loop body runs, as an expression valid on entry, when the plan found every
    /// enclosing loop's bounds fixed on entry (`Plan::trip_loops`).
    fn trip_count(&self, body: BlockId) -> Option<TokenStream> {
        let factors: Vec<TokenStream> = self
            .trip_loops(body)?
            .into_iter()
            .map(|l| {
                let node = self.f.loop_node(l);
                let hi = self.operand(node.hi, Prec::Atom, false);
                let extra = if node.inclusive { quote!(+ 1) } else { TokenStream::new() };
                if matches!(self.f.node(node.lo).op, Op::IntLit(0)) {
                    quote!((#hi as usize #extra))
                } else {
                    let lo = self.operand(node.lo, Prec::Atom, false);
                    quote!(((#hi as usize).saturating_sub(#lo as usize) #extra))
                }
            })
            .collect();
        let first = factors.first()?.clone();
        Some(factors[1..].iter().fold(first, |acc, f| quote!(#acc * #f)))
    }

    /// A placeholder of `v`'s type for the branch where `v` was not computed.
    fn placeholder(&self, v: ValueId) -> TokenStream {
        match self.f.ty(v) {
            Ty::Float(t) => self.lit_tokens(0.0, t, true).0,
            Ty::Int => quote!(0),
            Ty::Bool => quote!(false),
            Ty::Unknown | Ty::Unit => quote!(::core::default::Default::default()),
        }
    }

    fn if_statement(&self, id: IfId) -> Option<Statement> {
        let node = self.f.if_node(id);
        let outputs: Vec<_> = node.outputs.iter().filter(|o| self.live[o.phi.index()]).copied().collect();
        let residuals = self.residuals.get(&id).cloned().unwrap_or_default();
        if outputs.is_empty()
            && residuals.is_empty()
            && !self.has_effects(node.then_block)
            && !self.has_effects(node.else_block)
        {
            return None;
        }
        let mut names: Vec<Ident> = outputs.iter().filter_map(|o| self.name(o.phi).cloned()).collect();
        names.extend(residuals.iter().filter_map(|r| self.name(*r).cloned()));
        let cond = self.expr(node.cond, true).0;
        let side = |block: BlockId, pick: &dyn Fn(&crate::ir::IfOutput) -> ValueId| -> TokenStream {
            self.open_scope();
            let body = self.block(block);
            let mut values: Vec<TokenStream> = outputs.iter().map(|o| self.expr(pick(o), true).0).collect();
            values.extend(residuals.iter().map(|r| {
                if self.f.is_within(self.f.node(*r).block, block) {
                    self.use_value(*r);
                    self.name(*r).to_token_stream()
                } else {
                    self.placeholder(*r)
                }
            }));
            self.close_scope();
            if values.is_empty() {
                quote!({ #body })
            } else if values.len() == 1 {
                let v = &values[0];
                quote!({ #body #v })
            } else {
                quote!({ #body (#(#values),*) })
            }
        };
        let then_side = side(node.then_block, &|o| o.then_value);
        let else_side = side(node.else_block, &|o| o.else_value);
        for v in outputs.iter().map(|o| o.phi).chain(residuals.iter().copied()) {
            self.bind(v);
        }
        if names.is_empty() {
            return Some(Statement::new(quote!(if #cond #then_side else #else_side), vec![]));
        }
        let pattern = if names.len() == 1 { names[0].to_token_stream() } else { quote!((#(#names),*)) };
        let binds = names.into_iter().map(|n| (n, false)).collect();
        Some(Statement::new(quote!(let #pattern = if #cond #then_side else #else_side;), binds))
    }

    /// The whole output: the user's function unchanged, the gradient struct, the gradient function.
    pub fn emit(&self, func: &syn::ItemFn, items: &[syn::Item], d: &Derivation, doc: &str) -> TokenStream {
        let f = self.f;
        let vis = &func.vis;
        let fn_name = &func.sig.ident;
        let grad_fn = format_ident!("{}_grad", fn_name.to_string().trim_start_matches("r#"));
        let grad_struct = format_ident!("{}{}Grad", self.struct_prefix, camel_case(&fn_name.to_string()));
        let ret = Ident::new(f.float.name(), Span::call_site());
        // Const generics (`<const N: usize>`) carry over to the struct and the gradient function.
        let (impl_generics, ty_generics, where_clause) = func.sig.generics.split_for_impl();
        let turbofish = ty_generics.as_turbofish();
        let sibling = &self.sibling;

        let params: Vec<TokenStream> = f
            .params
            .iter()
            .map(|p| {
                let name = &p.name;
                let ty = &p.ty_tokens;
                // An array argument the function writes is written in the gradient function too.
                match p.array {
                    Some(a) if f.array(a).mutable => quote!(mut #name: #ty),
                    _ => quote!(#name: #ty),
                }
            })
            .collect();
        let wrt: Vec<_> = f.params.iter().zip(&d.gradients).filter(|(p, _)| p.wrt).collect();
        let fields: Vec<TokenStream> = wrt
            .iter()
            .map(|(p, _)| {
                let name = &p.name;
                let field = self.gradient_field(self.param_index(p));
                let ty = match (p.array, &p.strukt) {
                    (Some(a), _) => self.owned_type(a),
                    (None, Some(owned)) => owned.clone(),
                    (None, None) => p.ty_tokens.clone(),
                };
                let doc = format!("∂{fn_name}/∂{name}");
                quote!(#[doc = #doc] pub #field: #ty)
            })
            .collect();
        let has_structs = wrt.iter().any(|(p, _)| p.strukt.is_some());
        let copyable =
            wrt.iter().all(|(p, _)| p.array.is_none_or(|a| f.array(a).dims.iter().all(|d| matches!(d, Dim::Const(_)))));
        // A parameter struct's own type decides what it implements; `Clone` is what the trainer
        // and optimizers need.
        let derives = if has_structs {
            TokenStream::new()
        } else if copyable {
            quote!(#[derive(Debug, Clone, Copy, PartialEq)])
        } else {
            quote!(#[derive(Debug, Clone, PartialEq)])
        };
        // The arguments are in scope everywhere in the gradient function.
        self.scope.borrow_mut().start();
        for p in &f.params {
            match p.array {
                Some(a) => self.bind_array(a),
                None => self.bind(p.value),
            }
        }
        // Tapes (the forward sweep pushes) and adjoint arrays (a fused loop fills them during the
        // forward sweep) are declared first.
        let tapes = self.tape_declarations();
        // With array arguments, the sweep runs in the accumulating form and adds into the caller's
        // gradient: the adjoint of an argument the function never writes *is* the caller's buffer
        // (no allocation, nothing copied); other adjoints are local and added at the end.
        let sweep_accumulates = self.sweep_accumulates(d);
        let into_caller = |a: ArrayId| -> Option<&crate::ir::Param> {
            let ArrayOrigin::Adjoint(of) = f.array(a).origin else { return None };
            let p = f.params.iter().find(|p| p.array == Some(of))?;
            (sweep_accumulates && p.wrt && !f.array(of).mutable).then_some(p)
        };
        let mut length_checks = TokenStream::new();
        let adjoint_arrays: Vec<TokenStream> = d
            .array_adjoints
            .values()
            .filter(|a| self.live_arrays[a.index()] && !self.is_field_adjoint(**a) && !self.is_returned_adjoint(**a))
            .map(|a| {
                let name = &self.array_names[a.index()];
                self.bind_array(*a);
                self.borrowed.borrow_mut()[a.index()] = into_caller(*a).is_some();
                if let Some(p) = into_caller(*a) {
                    let field = &p.name;
                    if matches!(f.array(*a).dims.first(), Some(Dim::Dynamic)) {
                        let label = field.to_string();
                        let check = self.runtime("checks", "gradient_length");
                        let grad = &self.grad_name;
                        length_checks.extend(quote!(#check(#label, #grad.#field.len(), #field.len());));
                        return quote!(let #name = &mut #grad.#field[..];);
                    }
                    let grad = &self.grad_name;
                    return quote!(let #name = &mut #grad.#field;);
                }
                let zero = self.lit_tokens(0.0, f.array(*a).elem.float().unwrap_or(f.float), true).0;
                let init = self.filled(*a, zero);
                quote!(let mut #name = #init;)
            })
            .collect();

        let checks = self.activation_checks();
        let forward = self.block(ROOT);
        let backward = self.block(d.backward);
        let output = match f.output {
            Some(o) => self.expr(o, true).0,
            None => quote!(::core::unreachable!()),
        };
        let values: Vec<TokenStream> = wrt
            .iter()
            .map(|(p, g)| {
                let name = &p.name;
                let zero = self.lit_tokens(0.0, p.ty.float().unwrap_or(f.float), true).0;
                let value = match (p.array, g) {
                    (Some(a), _) => match d.array_adjoints.get(&a) {
                        Some(adjoint) => self.array_name(*adjoint),
                        None => self.filled(a, zero),
                    },
                    (None, Some(g)) => self.expr(*g, true).0,
                    (None, None) => zero,
                };
                quote!(#name: #value)
            })
            .collect();
        let params_impl =
            self.params_impl(func, &grad_struct, &wrt.iter().map(|(p, _)| p).copied().collect::<Vec<_>>());
        let struct_doc =
            format!("The gradient of [`{fn_name}`]: one field per differentiated argument. Returned by [`{grad_fn}`].");
        // `#[backprop]` asks for index loops (`for i in 0..n`), which clippy would flag in the
        // user's own function.
        let loops_allowed =
            if f.loops.is_empty() { TokenStream::new() } else { quote!(#[allow(clippy::needless_range_loop)]) };
        let acc_fn = format_ident!("{}_grad_acc", fn_name.to_string().trim_start_matches("r#"));
        let (grad_out, value) = (&self.grad_name, &self.value_name);
        // The scalar wrapper names the callee's gradient after its own locals: nothing of the user's.
        let grad = format_ident!("{}_sweep", grad_out);
        let zeros: Vec<TokenStream> = wrt
            .iter()
            .map(|(p, _)| {
                let field = self.gradient_field(self.param_index(p));
                let zero = self.lit_tokens(0.0, p.ty.float().unwrap_or(f.float), true).0;
                let zeros_like = self.runtime_item("ZerosLike");
                let value = match (p.array, &p.strukt) {
                    (Some(a), _) => self.filled(a, zero),
                    (None, Some(_)) => quote!(#zeros_like::zeros_like(#field)),
                    (None, None) => zero,
                };
                quote!(#field: #value)
            })
            .collect();
        // `zeros_like` takes the differentiated arguments whose length is only known at run time.
        let sized_by: Vec<&crate::ir::Param> = f
            .params
            .iter()
            .filter(|p| {
                p.wrt
                    && (p.strukt.is_some()
                        || p.array.is_some_and(|a| f.array(a).dims.iter().any(|d| matches!(d, Dim::Dynamic))))
            })
            .collect();
        let array_params: Vec<TokenStream> = sized_by
            .iter()
            .map(|p| {
                let (name, ty) = (self.gradient_field(self.param_index(p)), &p.ty_tokens);
                quote!(#name: #ty)
            })
            .collect();
        let array_args: Vec<&Ident> = sized_by.iter().map(|p| &p.name).collect();
        let zeros_doc = if array_params.is_empty() {
            "A zero gradient, to accumulate into.".to_string()
        } else {
            "A zero gradient shaped like these arguments (the slices' lengths), to accumulate into.".to_string()
        };
        let args: Vec<&Ident> = f.params.iter().map(|p| &p.name).collect();
        // What the sweep allocates: tapes not on the stack, and buffers sized at run time.
        let allocates = self.tapes.iter().any(|t| t.stack.is_none())
            || f.arrays.iter().enumerate().any(|(i, a)| {
                self.live_arrays[i]
                    && matches!(a.origin, ArrayOrigin::Local { .. } | ArrayOrigin::Adjoint(_))
                    && a.dims.iter().any(|d| matches!(d, Dim::Value(_) | Dim::Dynamic))
                    && !self.is_field_adjoint(ArrayId(i as u32))
                    // A returned array is a fixed-size array; its adjoint one like it.
                    && !self.is_returned_adjoint(ArrayId(i as u32))
                    // An argument's adjoint is the caller's buffer.
                    && !matches!(a.origin, ArrayOrigin::Adjoint(of)
                        if matches!(f.array(of).origin, ArrayOrigin::Param { .. }) && !f.array(of).mutable)
            });
        let allocation = if allocates {
            "allocating only the buffers sized at run time (tapes of loops whose trip count is not a literal, \
             `vec!` scratch buffers and their adjoints), once per call"
        } else {
            "allocating nothing"
        };
        let acc_doc = format!(
            "Adds the gradient of [`{fn_name}`] at this point into `grad` and returns the value, {allocation}: \
             the form for sums over samples and training loops. `grad` holds the gradient \
             so far: start from [`{grad_struct}::zeros_like`]; its `Vec` fields must have the \
             arguments' lengths."
        );
        let allows = quote!(#[allow(
            unused_variables,
            unused_mut,
            unused_assignments,
            unused_parens,
            non_snake_case,
            clippy::all,
            clippy::pedantic
        )]);
        let header = quote! {
            #loops_allowed
            #func

            #[doc = #struct_doc]
            #derives
            #vis struct #grad_struct #impl_generics #where_clause {
                #(#fields,)*
            }

            #params_impl

            impl #impl_generics #grad_struct #ty_generics #where_clause {
                #[doc = #zeros_doc]
                #[allow(unused_variables, clippy::ptr_arg)]
                #vis fn zeros_like(#(#array_params),*) -> Self {
                    #grad_struct { #(#zeros,)* }
                }
            }
        };
        if !sweep_accumulates {
            // Scalars only: the sweep lives in `_grad`, whose result is a few registers; the
            // accumulating form adds it in.
            let adds: Vec<TokenStream> = wrt
                .iter()
                .map(|(p, _)| {
                    let name = &p.name;
                    quote!(#grad_out.#name += #grad.#name;)
                })
                .collect();
            *self.problems.borrow_mut() = self.scope.borrow_mut().finish();
            // The function holding the sweep comes last: the doc comment lists the last one's code.
            return quote! {
                #header

                #[doc = #acc_doc]
                #[inline]
                #allows
                #vis fn #acc_fn #impl_generics (#(#params,)* #grad_out: &mut #grad_struct #ty_generics) -> #ret #where_clause {
                    let (#value, #grad) = #sibling #grad_fn #turbofish(#(#args),*);
                    #(#adds)*
                    #value
                }

                #[doc = #doc]
                #allows
                #vis fn #grad_fn #impl_generics (#(#params),*) -> (#ret, #grad_struct #ty_generics) #where_clause {
                    // The original function is the user's API too; it counts as used when its gradient is.
                    let _ = #sibling #fn_name #turbofish;
                    #(#items)*
                    #checks
                    #(#tapes)*
                    #(#adjoint_arrays)*
                    #forward
                    #backward
                    (#output, #grad_struct { #(#values,)* })
                }
            };
        }
        // Arrays: the sweep lives in `_grad_acc`; `_grad` starts from zeros and calls it.
        let mut adds = Vec::new();
        for (p, g) in &wrt {
            let name = &p.name;
            match p.array {
                Some(a) => {
                    if let Some(adjoint) = d.array_adjoints.get(&a).filter(|adj| self.live_arrays[adj.index()]) {
                        if into_caller(*adjoint).is_none() {
                            let local = self.array_name(*adjoint);
                            let add = self.runtime("checks", "add_into");
                            adds.push(quote!(#add(&mut #grad_out.#name, &#local);));
                        }
                    }
                }
                None => {
                    if let Some(g) = g {
                        let v = self.expr(*g, true).0;
                        adds.push(quote!(#grad_out.#name += #v;));
                    }
                }
            }
        }
        *self.problems.borrow_mut() = self.scope.borrow_mut().finish();
        quote! {
            #header

            #[doc = #doc]
            #allows
            #vis fn #grad_fn #impl_generics (#(#params),*) -> (#ret, #grad_struct #ty_generics) #where_clause {
                let mut #grad_out = #grad_struct #turbofish::zeros_like(#(#array_args),*);
                let #value = #sibling #acc_fn #turbofish(#(#args,)* &mut #grad_out);
                (#value, #grad_out)
            }

            #[doc = #acc_doc]
            #[inline]
            #allows
            #vis fn #acc_fn #impl_generics (#(#params,)* #grad_out: &mut #grad_struct #ty_generics) -> #ret #where_clause {
                // The original function is the user's API too; it counts as used when its gradient is.
                let _ = #sibling #fn_name #turbofish;
                #(#items)*
                #checks
                #length_checks
                #(#tapes)*
                #(#adjoint_arrays)*
                #forward
                #backward
                #(#adds)*
                #output
            }
        }
    }

    /// Tapes (the forward sweep pushes) are declared first: a stack array with its fill count, a
    /// buffer sized once per call, or a `Vec` for a `while` loop's.
    fn tape_declarations(&self) -> Vec<TokenStream> {
        let mut out = self.value_tape_declarations();
        out.extend(self.call_tape_declarations());
        out
    }

    fn value_tape_declarations(&self) -> Vec<TokenStream> {
        let f = self.f;
        self.tapes
            .iter()
            .map(|t| {
                let name = &t.name;
                match (&t.stack, f.ty(t.value)) {
                    (Some((k, len)), Ty::Float(ft)) => {
                        let ty = Ident::new(ft.name(), Span::call_site());
                        let zero = self.lit_tokens(0.0, ft, false).0;
                        quote!(let mut #name: [#ty; #k] = [#zero; #k]; let mut #len = 0usize;)
                    }
                    // An integer (an index chosen by an `if`) or a bool: the macro does not know
                    // which integer type, so the element type is inferred from what is pushed.
                    (Some((k, len)), _) => {
                        let zero = self.placeholder(t.value);
                        quote!(let mut #name = [#zero; #k]; let mut #len = 0usize;)
                    }
                    // Sized once per call when the trip count is known on entry.
                    (None, ty) if self.fill_count(t).is_some() => {
                        let count = self.trip_count(t.body);
                        let len = self.fill_count(t);
                        let zero = match ty {
                            Ty::Float(ft) => self.lit_tokens(0.0, ft, true).0,
                            _ => self.placeholder(t.value),
                        };
                        quote!(let mut #name = ::std::vec![#zero; #count]; let mut #len = 0usize;)
                    }
                    (None, Ty::Float(ft)) => {
                        let ty = Ident::new(ft.name(), Span::call_site());
                        quote!(let mut #name: ::std::vec::Vec<#ty> = ::std::vec::Vec::new();)
                    }
                    (None, _) => quote!(let mut #name = ::std::vec::Vec::new();),
                }
            })
            .collect()
    }

    /// Whether the sweep runs in the accumulating form `<name>_grad_acc`: when a differentiated
    /// argument is an array whose adjoint the sweep fills.
    fn sweep_accumulates(&self, d: &Derivation) -> bool {
        self.f.params.iter().filter(|p| p.wrt).any(|p| {
            p.strukt.is_some()
                || p.array.and_then(|a| d.array_adjoints.get(&a)).is_some_and(|adj| self.live_arrays[adj.index()])
        })
    }

    /// The index of a parameter in `Function::params`.
    fn param_index(&self, p: &crate::ir::Param) -> usize {
        self.f.params.iter().position(|q| q.value == p.value).unwrap_or(0)
    }

    /// The adjoint of a parameter struct's field: a place in the caller's gradient, not declared.
    fn is_field_adjoint(&self, a: ArrayId) -> bool {
        matches!(self.f.array(a).origin, ArrayOrigin::Adjoint(of) if matches!(self.f.array(of).origin, ArrayOrigin::Field { .. }))
    }

    /// In a pullback, the adjoint of a whole parameter struct: the sink itself, a `&mut`.
    fn is_sink_itself(&self, a: ArrayId) -> bool {
        let ArrayOrigin::Adjoint(of) = self.f.array(a).origin else { return false };
        matches!(&self.f.array(of).origin, ArrayOrigin::Field { param, path }
            if path.is_empty() && self.sinks.borrow().names.contains_key(&(*param as usize)))
    }

    /// The adjoint of an array a call returns: declared where the call is.
    fn is_returned_adjoint(&self, a: ArrayId) -> bool {
        matches!(self.f.array(a).origin, ArrayOrigin::Adjoint(of) if matches!(self.f.array(of).origin, ArrayOrigin::Returned(_)))
    }

    /// `::backprop::__private::<name>`.
    fn runtime_item(&self, name: &str) -> TokenStream {
        let krate = &self.krate;
        let name = Ident::new(name, Span::call_site());
        quote!(#krate::__private::#name)
    }

    /// A compile-time check per activation call that the name resolves to the runtime's function,
    /// so a user's own `sigmoid` never silently gets the runtime's derivative.
    fn activation_checks(&self) -> TokenStream {
        let mut seen = Vec::new();
        let mut out = TokenStream::new();
        for (i, node) in self.f.nodes.iter().enumerate() {
            let Op::Call(Func::Activation(act, path), args) = &node.op else {
                continue;
            };
            if !self.live[i] {
                continue;
            }
            let ty = node.ty.float().or_else(|| self.f.ty(args[0]).float()).unwrap_or(self.f.float);
            if seen.contains(&(*act, *path, ty)) {
                continue;
            }
            seen.push((*act, *path, ty));
            out.extend(self.activation_check(*act, *path, ty, node.span));
        }
        out
    }

    fn activation_check(&self, act: Activation, path: u32, ty: FloatTy, span: Span) -> TokenStream {
        let user_path = &self.f.paths[path as usize].1;
        let runtime_fn = self.runtime("activation", act.name());
        let ty = Ident::new(ty.name(), Span::call_site());
        let check = self.runtime("checks", "activation_must_be_the_runtime_one");
        // The runtime's function fixes the type; a different function at the user's path is then a
        // type error on the user's own tokens.
        quote_spanned!(span=> #check(#runtime_fn::<#ty>, #user_path);)
    }

    /// `impl Params for <Name>Grad`, so optimizers can step a gradient-shaped parameter struct.
    fn params_impl(&self, func: &syn::ItemFn, grad_struct: &Ident, wrt: &[&crate::ir::Param]) -> TokenStream {
        let (impl_generics, ty_generics, where_clause) = func.sig.generics.split_for_impl();
        let tys: Vec<Option<FloatTy>> =
            wrt.iter().map(|p| if p.strukt.is_some() { Some(self.f.float) } else { p.ty.float() }).collect();
        let Some(Some(scalar)) = tys.first().copied() else {
            return TokenStream::new();
        };
        if tys.iter().any(|t| *t != Some(scalar)) {
            return TokenStream::new();
        }
        let scalar = Ident::new(scalar.name(), Span::call_site());
        let krate = &self.krate;
        let names: Vec<Ident> = wrt.iter().map(|p| self.gradient_field(self.param_index(p))).collect();
        let labels: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        quote! {
            impl #impl_generics #krate::__private::Params for #grad_struct #ty_generics #where_clause {
                type Scalar = #scalar;
                fn num_params(&self) -> usize {
                    0 #(+ #krate::__private::Params::num_params(&self.#names))*
                }
                fn visit(&self, f: &mut dyn FnMut(#scalar)) {
                    #(#krate::__private::Params::visit(&self.#names, f);)*
                }
                fn visit_mut(&mut self, f: &mut dyn FnMut(&mut #scalar)) {
                    #(#krate::__private::Params::visit_mut(&mut self.#names, f);)*
                }
                fn describe(&self, index: usize, prefix: &str) -> String {
                    #krate::__private::describe_fields(
                        &[#((#labels, &self.#names as &dyn #krate::__private::Params<Scalar = #scalar>)),*],
                        index,
                        prefix,
                    )
                }
            }
        }
    }
}

fn next(p: Prec) -> Prec {
    match p {
        Prec::Or => Prec::And,
        Prec::And => Prec::Compare,
        Prec::Compare => Prec::Sum,
        Prec::Sum => Prec::Product,
        Prec::Product => Prec::Cast,
        Prec::Cast => Prec::Prefix,
        Prec::Prefix | Prec::Atom => Prec::Atom,
    }
}
