//! Calls of differentiable functions: another `#[backprop]` function, one with a custom pullback,
//! or the runtime's layers. The macro cannot see the callee's body (it may live in another crate),
//! so a call is not pasted in: the forward sweep calls the function, the backward sweep calls its
//! pullback `<name>_pullback` by the convention of `docs/CALLS.md`. Arguments are classified the
//! way the convention classifies parameters: floats (their adjoints come back from the pullback),
//! places (arrays, rows of arrays, parameter structs: the pullback adds into their adjoints), and
//! passive values (integers, bools, anything else, such as `Activation::Tanh`).

use super::{Binding, Lower};
use crate::ir::{Array, ArrayId, ArrayOrigin, CallArg, CallId, CallSite, Dim, Op, Ty, ValueId, ROOT};
use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::Expr;

/// A call as the lowering sees it, in either syntax.
pub(super) struct CallExpr<'e> {
    /// `dense` or `layers::dense::<4, 3>`; for a method call, `forward` (with its turbofish).
    pub callee: TokenStream,
    pub pullback: TokenStream,
    /// `<name>_vjp`, the same way.
    pub vjp: TokenStream,
    pub receiver: Option<&'e Expr>,
    pub args: Vec<&'e Expr>,
    /// How the user wrote the callee, for messages.
    pub shown: String,
    pub span: Span,
}

impl<'e> CallExpr<'e> {
    pub fn function(c: &'e syn::ExprCall, p: &syn::ExprPath) -> Self {
        let renamed = |suffix: &str| {
            let mut path = p.clone();
            if let Some(last) = path.path.segments.last_mut() {
                last.ident = syn::Ident::new(
                    &format!("{}_{suffix}", last.ident),
                    last.ident.span().resolved_at(Span::mixed_site()),
                );
            }
            path
        };
        let (pullback, vjp) = (renamed("pullback"), renamed("vjp"));
        let shown = p.path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::");
        CallExpr {
            callee: p.to_token_stream(),
            pullback: pullback.to_token_stream(),
            vjp: vjp.to_token_stream(),
            receiver: None,
            args: c.args.iter().collect(),
            shown,
            span: c.span(),
        }
    }

    pub fn method(m: &'e syn::ExprMethodCall) -> Self {
        let name = &m.method;
        let pullback = syn::Ident::new(&format!("{name}_pullback"), name.span());
        let vjp = syn::Ident::new(&format!("{name}_vjp"), name.span());
        let turbofish = m.turbofish.to_token_stream();
        CallExpr {
            callee: quote!(#name #turbofish),
            pullback: quote!(#pullback #turbofish),
            vjp: quote!(#vjp #turbofish),
            receiver: Some(&m.receiver),
            args: m.args.iter().collect(),
            shown: format!(".{name}()"),
            span: m.span(),
        }
    }
}

impl Lower<'_> {
    /// The body of a function returning an array: statements, then the name of a local array
    /// declared at the top level, whose final contents are the result.
    pub(super) fn array_body(&mut self, func: &syn::ItemFn, stmts: &[syn::Stmt], ty: &syn::Type) {
        self.f.return_type = Some(ty.to_token_stream());
        // `..; layer(&p.l2, &h)`: the array a call returns, returned.
        if let Some((syn::Stmt::Expr(last, None), rest)) = stmts.split_last() {
            if let Some(call) = self.user_call(last) {
                if let Some(r) = super::returns::first_return(stmts) {
                    self.cx.error_spanned_by(r, super::returns::ARRAY_RETURN);
                    return;
                }
                self.block_body(rest, false, func.block.brace_token.span.close());
                let name = syn::Ident::new(&format!("{}out", crate::plan::HIDDEN), last.span());
                self.invoke_array(&name, call);
                if let Some((si, vi)) = self.lookup(&name.to_string()) {
                    if let Binding::Array(a) = self.scopes[si][vi].1 {
                        self.f.output_array = Some(a);
                    }
                }
                return;
            }
        }
        let (tail, rest) = match stmts.split_last() {
            Some((syn::Stmt::Expr(Expr::Path(p), None), rest)) => (Some(p), rest),
            _ => (None, stmts),
        };
        let Some(tail) = tail else {
            let message = "a `#[backprop]` function returning an array ends with the name of a local array (`let mut out = [0.0; N]; ..; out`) or with a call returning one (`layer(&p.l2, &h)`)";
            match stmts.last() {
                Some(last) => self.cx.error_spanned_by(last, message),
                None => self.cx.error_spanned_by(&func.sig.output, message),
            }
            return;
        };
        if let Some(r) = super::returns::first_return(stmts) {
            self.cx.error_spanned_by(r, super::returns::ARRAY_RETURN);
            return;
        }
        // The returned name is an array even where nothing indexes it (`let out = layer(..); out`).
        if let Some(i) = tail.path.get_ident() {
            self.arrayish.insert(i.to_string());
        }
        self.block_body(rest, false, func.block.brace_token.span.close());
        let array = tail.path.get_ident().and_then(|i| self.lookup(&i.to_string())).and_then(|(si, vi)| {
            match self.scopes[si][vi].1 {
                Binding::Array(a) => Some(a),
                _ => None,
            }
        });
        match array {
            Some(a) if matches!(self.f.array(a).origin, ArrayOrigin::Local { .. } | ArrayOrigin::Returned(_)) => {
                self.f.output_array = Some(a)
            }
            _ => self.cx.error_spanned_by(
                tail,
                "a `#[backprop]` function returning an array ends with the name of a local array declared in its body (`let mut out = [0.0; N];`, or `let out = layer(..);`) or with a call returning one (`layer(&p.l2, &h)`)",
            ),
        }
    }

    /// The call `e` is, when it calls a function the macro does not know itself (not a std float
    /// method, an activation, a float constant or a constructor): a differentiable function.
    pub(super) fn user_call<'e>(&self, e: &'e Expr) -> Option<CallExpr<'e>> {
        match e {
            Expr::Call(c) => {
                let Expr::Path(p) = &*c.func else { return None };
                let last = p.path.segments.last()?.ident.to_string();
                let float_path = Self::path_float(p).is_some();
                if float_path || is_constructor(p) || crate::ir::Activation::from_name(&last).is_some() {
                    return None;
                }
                if p.path.segments.len() == 1 && self.poisoned.contains(&last) {
                    return None;
                }
                Some(CallExpr::function(c, p))
            }
            // `net.forward(x)`, `net.l1.apply(&x)`; but `p.a.exp()` is a float method on a float
            // field (the macro cannot see field types: a field's method named like a float method
            // is the float method).
            Expr::MethodCall(m) => match self.field_path(&m.receiver) {
                Some((_, path)) if path.is_empty() || crate::ir::method_by_name(&m.method.to_string()).is_none() => {
                    Some(CallExpr::method(m))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// A call in expression position: the callee returns a float.
    pub(super) fn invoke_float(&mut self, call: CallExpr) -> ValueId {
        match self.invoke(call, None) {
            Some(v) => v,
            None => self.poison(),
        }
    }

    /// `let h = dense(&net.l1, &x, act);`: a call that returns an array, bound to `name`.
    pub(super) fn invoke_array(&mut self, name: &syn::Ident, call: CallExpr) {
        // In a loop or a branch the result and the arrays passed are taped per call site
        // (`call_tapes.rs`): the backward sweep's pullback gets them as the call saw them.
        let array = self.f.add_array(Array {
            name: name.clone(),
            elem: Ty::Float(self.f.float),
            dims: vec![Dim::Dynamic],
            origin: ArrayOrigin::Returned(CallId(self.f.calls.len() as u32)),
            mutable: false,
        });
        if self.invoke(call, Some(array)).is_none() {
            self.poison_name(name);
            return;
        }
        self.f.bump_version(array);
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.to_string(), Binding::Array(array)));
        }
    }

    /// `let j: usize = nearest(p, c, i);`: a plain function called for an integer or a `bool`
    /// (`ty`), which carries no derivative. Its arguments are what a differentiable call takes,
    /// but not a parameter struct (its fields are what a plain function reads: pass those).
    pub(super) fn invoke_passive(&mut self, call: CallExpr, ty: Ty) -> ValueId {
        let span = call.span;
        match self.invoke_as(call, None, Some(ty)) {
            Some(v) => v,
            // A stand-in of the type written, so that its uses (indices) raise nothing more.
            None if ty == Ty::Bool => self.add(Op::BoolLit(false), ty, span),
            None => self.add(Op::IntLit(0), ty, span),
        }
    }

    fn invoke(&mut self, call: CallExpr, result: Option<ArrayId>) -> Option<ValueId> {
        self.invoke_as(call, result, None)
    }

    /// A call; `passive` is the integer or `bool` type of a passive call's result.
    fn invoke_as(&mut self, call: CallExpr, result: Option<ArrayId>, passive: Option<Ty>) -> Option<ValueId> {
        if call.receiver.is_none() && call.shown == self.fn_name {
            self.cx.error_spanned_by(
                &call.callee,
                format!(
                    "`{}` calls itself: recursion is not supported by `#[backprop]`; write the recursion as a loop",
                    call.shown
                ),
            );
            return None;
        }
        let errors_before = self.cx.error_count();
        let mut args = Vec::new();
        if let Some(receiver) = call.receiver {
            args.push(self.call_place(receiver, false)?);
        }
        for a in &call.args {
            // A plain function's argument that is a path naming nothing local (`&TABLE`, `N`): a
            // constant, passed as written. Not any expression of constants: a float literal in one
            // is a dual constant in the dual re-prints (`2.0` → `Dual64::c(2.0)`), so it is lowered
            // as a value and passed as its real value.
            let path = match a {
                Expr::Reference(r) => &*r.expr,
                other => other,
            };
            let constant = passive.is_some()
                && matches!(path, Expr::Path(p) if p.path.get_ident().is_none_or(|i| self.lookup(&i.to_string()).is_none()));
            let arg = if constant { Some(CallArg::Value(self.passive_expression(a))) } else { self.call_arg(a) };
            args.extend(arg);
        }
        if self.cx.error_count() > errors_before {
            return None;
        }
        if passive.is_some() {
            let strukt = args.iter().find_map(|a| match a {
                CallArg::Place { array, .. } => match &self.f.array(*array).origin {
                    ArrayOrigin::Field { path, .. } if path.is_empty() => Some(*array),
                    _ => None,
                },
                _ => None,
            });
            if strukt.is_some() {
                self.cx.error_spanned_by(
                    &call.callee,
                    format!(
                        "`{}` is called for an integer or a `bool`, so it is not differentiated and gets the values of its float arguments; a parameter struct is not such an argument: pass the fields it reads (`&net.w`)",
                        call.shown
                    ),
                );
                return None;
            }
        }
        let id = CallId(self.f.calls.len() as u32);
        let mut operands = Vec::new();
        for a in &args {
            match a {
                CallArg::Value(v) => operands.push(*v),
                CallArg::Place { indices, .. } => operands.extend(indices),
            }
        }
        self.f.calls.push(CallSite {
            callee: call.callee,
            pullback: call.pullback,
            vjp: call.vjp,
            method: call.receiver.is_some(),
            args,
            result,
            passive: passive.is_some(),
            span: call.span,
        });
        let ty = match (result, passive) {
            (_, Some(ty)) => ty,
            (Some(_), None) => Ty::Unit,
            (None, None) => Ty::Float(self.f.float),
        };
        Some(self.f.add_unique(Op::Invoke(id, operands), ty, self.block, call.span))
    }

    /// One argument: a place (`&x`, `&xs[s]`, `x` naming an array, `net`, `&net.l1`) or a value.
    fn call_arg(&mut self, e: &Expr) -> Option<CallArg> {
        match e {
            // `f(&net.l2, &g(&net.l1, x))`: the inner call's array, bound to a hidden name first.
            Expr::Reference(r) if r.mutability.is_none() && self.user_call(&r.expr).is_some() => {
                self.nested_call_arg(&r.expr)
            }
            Expr::Reference(r) if r.mutability.is_none() => self.call_place(&r.expr, true),
            Expr::Reference(r) => {
                self.cx.error_spanned_by(
                    r,
                    "a differentiable function takes its arguments by value or by shared reference (`&x`); `&mut` is not supported",
                );
                None
            }
            Expr::Path(p)
                if p.path.get_ident().and_then(|i| self.lookup(&i.to_string())).is_some_and(|(si, vi)| {
                    matches!(self.scopes[si][vi].1, Binding::Array(_) | Binding::Struct(_))
                }) =>
            {
                self.call_place(e, false)
            }
            _ => {
                let v = self.expr(e);
                Some(CallArg::Value(v))
            }
        }
    }

    /// The place `e` names: an array, a row of one, a parameter struct, or a field of one.
    fn call_place(&mut self, e: &Expr, by_ref: bool) -> Option<CallArg> {
        let mut indices = Vec::new();
        let mut base = e;
        while let Expr::Index(i) = base {
            indices.push(&*i.index);
            base = &i.expr;
        }
        indices.reverse();
        let base = match base {
            Expr::Paren(p) => &*p.expr,
            other => other,
        };
        let array = match self.field_path(base) {
            Some((param, path)) => self.field_array(param, path, 0),
            None => match self.array_place(base, indices.len()) {
                Some(a) => a,
                None => {
                    if !by_ref {
                        let v = self.expr(e);
                        return Some(CallArg::Value(v));
                    }
                    self.cx.error_spanned_by(
                        e,
                        "pass an array, a row of one (`&xs[s]`), a parameter struct or one of its fields by reference (`&net.l1`); pass a float by value",
                    );
                    return None;
                }
            },
        };
        let a = self.f.array(array);
        let field = matches!(a.origin, ArrayOrigin::Field { .. });
        if !field && indices.len() >= a.dims.len() {
            self.cx
                .error_spanned_by(e, format!("`&{}[..]` names one float: pass it by value (`{}[..]`)", a.name, a.name));
            return None;
        }
        // An array the function writes (a local, or a `mut` argument) may change after the call:
        // the pullback gets a snapshot taken at the call (`call_tapes.rs`).
        let mut values = Vec::new();
        for i in indices {
            let v = self.expr(i);
            if self.f.ty(v).float().is_some() {
                self.cx.error_spanned_by(i, "indices must be integers");
                return None;
            }
            values.push(v);
        }
        Some(CallArg::Place { array, indices: values, by_ref })
    }

    /// A constructor such as `Activation::LeakyRelu(0.1)` as an argument: a passive value the macro
    /// does not look into (it may name only constants, not local variables).
    pub(super) fn passive_expression(&mut self, e: &Expr) -> ValueId {
        let mut names = NamesUsed(Vec::new());
        names.visit_expr(e);
        if let Some(local) = names.0.iter().find(|n| self.lookup(n).is_some()) {
            let what = match e {
                Expr::Call(c) => format!("`{}(..)`", c.func.to_token_stream().to_string().replace(' ', "")),
                _ => "this value".to_string(),
            };
            self.cx.error_spanned_by(
                e,
                format!("{what} is a constructor, which `#[backprop]` passes along as it is (not differentiated, e.g. `Activation::LeakyRelu(0.1)`), so it may use constants but not the local variable `{local}`"),
            );
            return self.poison();
        }
        let idx = self.f.intern_path(e.to_token_stream());
        self.f.add(Op::Const(idx), Ty::Unknown, ROOT, e.span())
    }
}

/// The single-identifier paths an expression uses.
struct NamesUsed(Vec<String>);

impl<'ast> Visit<'ast> for NamesUsed {
    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if let Some(i) = p.path.get_ident() {
            self.0.push(i.to_string());
        }
    }
}

/// Names a function uses as arrays: indexed (`h[j]`), borrowed (`&h`), or asked for `.len()` or
/// `.iter()`. A `let h = f(..)` whose `h` is one of them binds the array `f` returns.
pub(super) fn array_names(block: &syn::Block) -> std::collections::HashSet<String> {
    struct Finder(std::collections::HashSet<String>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_index(&mut self, e: &'ast syn::ExprIndex) {
            let mut base = &*e.expr;
            while let Expr::Index(i) = base {
                base = &i.expr;
            }
            if let Expr::Path(p) = base {
                if let Some(i) = p.path.get_ident() {
                    self.0.insert(i.to_string());
                }
            }
            syn::visit::visit_expr_index(self, e);
        }
        fn visit_expr_reference(&mut self, e: &'ast syn::ExprReference) {
            if let Expr::Path(p) = &*e.expr {
                if let Some(i) = p.path.get_ident() {
                    self.0.insert(i.to_string());
                }
            }
            syn::visit::visit_expr_reference(self, e);
        }
        fn visit_expr_method_call(&mut self, e: &'ast syn::ExprMethodCall) {
            if e.method == "len" || e.method == "iter" {
                if let Expr::Path(p) = &*e.receiver {
                    if let Some(i) = p.path.get_ident() {
                        self.0.insert(i.to_string());
                    }
                }
            }
            syn::visit::visit_expr_method_call(self, e);
        }
    }
    let mut finder = Finder(Default::default());
    finder.visit_block(block);
    finder.0
}

/// Whether a call's path names a constructor (`Activation::LeakyRelu`, `Some`): a capitalised
/// last segment.
pub(super) fn is_constructor(p: &syn::ExprPath) -> bool {
    p.path.segments.last().is_some_and(|s| s.ident.to_string().starts_with(|c: char| c.is_ascii_uppercase()))
}
