//! Lowering of `for` loops. A loop becomes a structured `LoopNode`: variables the body reassigns
//! are carried (a `LoopPhi` at the start of each iteration, a `LoopOut` after the loop), the index
//! is a `LoopVar`. Accepted headers: `a..b`, `a..=b`, `(a..b).rev()`, `x.iter()`,
//! `x.iter().enumerate()`.

use super::{Binding, Lower};
use crate::ir::{Carried, Hint, LoopNode, Op, Ty, ValueId};
use std::collections::BTreeSet;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Pat};

/// What a loop header iterates over.
struct Header {
    lo: ValueId,
    hi: ValueId,
    inclusive: bool,
    rev: bool,
    index_name: Option<syn::Ident>,
    /// `(array, element name)` for `x.iter()` forms.
    element: Option<(crate::ir::ArrayId, syn::Ident)>,
}

const HEADERS: &str = "loops must be `for i in a..b`, `for i in a..=b`, `for i in (a..b).rev()`, \
`for xi in x.iter()` or `for (i, xi) in x.iter().enumerate()`";

/// Names assigned anywhere in a loop body (`x = ..`, `x += ..`), to find carried variables.
#[derive(Default)]
struct Assigned(BTreeSet<String>);

impl<'ast> Visit<'ast> for Assigned {
    fn visit_expr_assign(&mut self, e: &'ast syn::ExprAssign) {
        if let Expr::Path(p) = &*e.left {
            if let Some(i) = p.path.get_ident() {
                self.0.insert(i.to_string());
            }
        }
        syn::visit::visit_expr_assign(self, e);
    }
    /// `v.push(e)` advances the push count of a `Vec::with_capacity` buffer (`arrays.rs`).
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if m.method == "push" {
            if let Expr::Path(p) = &*m.receiver {
                if let Some(i) = p.path.get_ident() {
                    self.0.insert(format!("{}len_{i}", crate::plan::HIDDEN));
                }
            }
        }
        syn::visit::visit_expr_method_call(self, m);
    }
    fn visit_expr_binary(&mut self, e: &'ast syn::ExprBinary) {
        use syn::BinOp::*;
        if matches!(e.op, AddAssign(_) | SubAssign(_) | MulAssign(_) | DivAssign(_)) {
            if let Expr::Path(p) = &*e.left {
                if let Some(i) = p.path.get_ident() {
                    self.0.insert(i.to_string());
                }
            }
        }
        syn::visit::visit_expr_binary(self, e);
    }
}

fn ident_of(pat: &Pat) -> Option<Option<syn::Ident>> {
    match pat {
        Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => Some(Some(p.ident.clone())),
        Pat::Wild(_) => Some(None),
        Pat::Reference(r) => ident_of(&r.pat),
        _ => None,
    }
}

impl Lower<'_> {
    fn array_named(&self, e: &Expr) -> Option<crate::ir::ArrayId> {
        let Expr::Path(p) = e else { return None };
        let (si, vi) = self.lookup(&p.path.get_ident()?.to_string())?;
        match self.scopes[si][vi].1 {
            Binding::Array(a) => Some(a),
            Binding::Value(_) | Binding::Tuple(_) | Binding::Struct(_) => None,
        }
    }

    fn header(&mut self, pat: &Pat, iter: &Expr) -> Option<Header> {
        let iter = match iter {
            Expr::Paren(p) => &*p.expr,
            e => e,
        };
        let range = |this: &mut Self, r: &syn::ExprRange, rev: bool| -> Option<Header> {
            let (Some(start), Some(end)) = (&r.start, &r.end) else {
                this.cx.error_spanned_by(r, "a loop range needs both bounds: `a..b`");
                return None;
            };
            let lo = this.expr(start);
            let hi = this.expr(end);
            if this.f.ty(lo).float().is_some() || this.f.ty(hi).float().is_some() {
                this.cx.error_spanned_by(r, "loop bounds must be integers");
                return None;
            }
            let Some(index_name) = ident_of(pat) else {
                this.cx.error_spanned_by(pat, "the loop variable must be a name: `for i in 0..n`");
                return None;
            };
            let inclusive = matches!(r.limits, syn::RangeLimits::Closed(_));
            Some(Header { lo, hi, inclusive, rev, index_name, element: None })
        };
        match iter {
            Expr::Range(r) => range(self, r, false),
            Expr::MethodCall(m) if m.method == "rev" && m.args.is_empty() => match &*m.receiver {
                Expr::Paren(p) => match &*p.expr {
                    Expr::Range(r) => range(self, r, true),
                    other => {
                        self.cx.error_spanned_by(other, HEADERS);
                        None
                    }
                },
                other => {
                    self.cx.error_spanned_by(other, HEADERS);
                    None
                }
            },
            Expr::MethodCall(m) if m.method == "iter" && m.args.is_empty() => {
                let Some(array) = self.array_named(&m.receiver) else {
                    self.cx.error_spanned_by(
                        &m.receiver,
                        format!("`.iter()` loops are supported over array arguments and locals; {HEADERS}"),
                    );
                    return None;
                };
                let Some(Some(name)) = ident_of(pat) else {
                    self.cx.error_spanned_by(pat, "name the element: `for xi in x.iter()`");
                    return None;
                };
                self.iter_header(array, None, name, m.span())
            }
            Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty() => {
                let Expr::MethodCall(it) = &*m.receiver else {
                    self.cx.error_spanned_by(iter, HEADERS);
                    return None;
                };
                let array =
                    (it.method == "iter" && it.args.is_empty()).then(|| self.array_named(&it.receiver)).flatten();
                let Some(array) = array else {
                    self.cx.error_spanned_by(iter, HEADERS);
                    return None;
                };
                let Pat::Tuple(t) = pat else {
                    self.cx
                        .error_spanned_by(pat, "name the index and the element: `for (i, xi) in x.iter().enumerate()`");
                    return None;
                };
                let names: Vec<_> = t.elems.iter().map(ident_of).collect();
                let [Some(index), Some(Some(element))] = names.as_slice() else {
                    self.cx
                        .error_spanned_by(pat, "name the index and the element: `for (i, xi) in x.iter().enumerate()`");
                    return None;
                };
                self.iter_header(array, index.clone(), element.clone(), m.span())
            }
            other => {
                self.cx.error_spanned_by(other, HEADERS);
                None
            }
        }
    }

    fn iter_header(
        &mut self,
        array: crate::ir::ArrayId,
        index_name: Option<syn::Ident>,
        element: syn::Ident,
        span: proc_macro2::Span,
    ) -> Option<Header> {
        if self.f.array(array).dims.len() != 1 {
            self.cx
                .error_at(span, "`.iter()` loops are supported over one-dimensional arrays; use `for i in 0..x.len()`");
            return None;
        }
        let lo = self.f.add(Op::IntLit(0), Ty::Int, crate::ir::ROOT, span);
        let hi = self.array_len(array, span);
        Some(Header { lo, hi, inclusive: false, rev: false, index_name, element: Some((array, element)) })
    }

    /// The variables a loop body reassigns, which the loop carries: `(name, scope, index, value
    /// before the loop)`. Integer and bool variables (counters, strides, found-flags) are carried like
    /// the flags the rewrites of `break` and `push` make up: their values are taped or replayed for
    /// the backward loop as any carried value's are.
    fn carried_variables(&mut self, body: &syn::Block) -> Option<Vec<(String, usize, usize, ValueId)>> {
        let mut assigned = Assigned::default();
        assigned.visit_block(body);
        let mut carried = Vec::new();
        for name in &assigned.0 {
            let Some((si, vi)) = self.lookup(name) else { continue };
            let Binding::Value(v) = self.scopes[si][vi].1 else { continue };
            carried.push((name.clone(), si, vi, v));
        }
        Some(carried)
    }

    pub(super) fn for_loop(&mut self, l: &syn::ExprForLoop) {
        if let Some(indexed) = super::iterators::for_loop(l) {
            return self.for_loop(&indexed);
        }
        match super::exits::exits(&l.body) {
            Err(span) => {
                self.cx.error_at(span, "loop labels and `break` with a value are not supported by `#[backprop]`");
                return;
            }
            Ok(e) if e.breaks || e.continues => {
                let flags = self.loop_flags();
                let body = self.exit_body(&l.body.stmts, e, &flags);
                let mut plain = l.clone();
                plain.body.stmts = match e.breaks {
                    true => {
                        let done = &flags.done;
                        vec![syn::parse_quote!(if !#done { #(#body)* })]
                    }
                    false => body,
                };
                return self.for_loop(&plain);
            }
            Ok(_) => {}
        }
        if let Some(label) = &l.label {
            self.cx.error_spanned_by(label, "loop labels are not supported by `#[backprop]`");
        }
        let Some(header) = self.header(&l.pat, &l.expr) else { return };

        // Variables the body reassigns are carried from one iteration to the next.
        let Some(carried_names) = self.carried_variables(&l.body) else { return };

        let outer = self.block;
        self.f.bump_all_versions();
        let body = self.f.new_block(Some(outer), None, false);
        let var_name = header.index_name.clone().unwrap_or_else(|| syn::Ident::new("_", l.pat.span()));
        let id = self.f.reserve_loop(LoopNode {
            var: ValueId(0),
            var_name: var_name.clone(),
            lo: header.lo,
            hi: header.hi,
            inclusive: header.inclusive,
            rev: header.rev,
            body,
            block: outer,
            carried: Vec::new(),
            exit: None,
            trips: None,
        });
        let var = self.f.add_defined_by_construct(Op::LoopVar(id), Ty::Int, body, l.pat.span());
        self.f.loops[id.index()].var = var;

        let mut inners = Vec::new();
        for (k, (name, si, vi, init)) in carried_names.iter().enumerate() {
            let ty = self.f.ty(*init);
            let inner = self.f.add_defined_by_construct(Op::LoopPhi(id, k as u32), ty, body, l.span());
            self.f.suggest_name(inner, Hint::User(name.clone()));
            self.scopes[*si][*vi].1 = Binding::Value(inner);
            inners.push(inner);
        }

        self.block = body;
        self.loop_depth += 1;
        self.scopes.push(Vec::new());
        if let Some(name) = &header.index_name {
            if let Some(scope) = self.scopes.last_mut() {
                scope.push((name.to_string(), Binding::Value(var)));
            }
        }
        if let Some((array, element)) = &header.element {
            self.bind_element(element, *array, var);
        }
        self.block_body(&l.body.stmts, false, l.body.brace_token.span.close());
        self.scopes.pop();
        self.loop_depth -= 1;
        self.block = outer;

        let mut carried = Vec::new();
        for (k, (name, si, vi, init)) in carried_names.iter().enumerate() {
            let next = match self.scopes[*si][*vi].1 {
                Binding::Value(v) => v,
                Binding::Array(_) | Binding::Tuple(_) | Binding::Struct(_) => *init,
            };
            let ty = self.f.ty(inners[k]);
            let out = self.f.add_defined_by_construct(Op::LoopOut(id, k as u32), ty, outer, l.span());
            self.f.suggest_name(out, Hint::User(name.clone()));
            self.scopes[*si][*vi].1 = Binding::Value(out);
            carried.push(Carried { init: *init, inner: inners[k], next, out });
        }
        self.f.loops[id.index()].carried = carried;
        self.f.place_loop(id);
        self.f.bump_all_versions();
    }
}

impl Lower<'_> {
    /// `while cond { body }`: a loop whose trip count is recorded as it runs. The condition is
    /// computed at the start of every iteration from the carried variables; the backward loop runs
    /// the recorded number of iterations in reverse. The condition may read float state, integer
    /// counters (`k < 50`) or bool flags the body sets.
    pub(super) fn while_loop(&mut self, w: &syn::ExprWhile) {
        match super::exits::exits(&w.body) {
            Err(span) => {
                self.cx.error_at(span, "loop labels and `break` with a value are not supported by `#[backprop]`");
                return;
            }
            Ok(e) if e.breaks || e.continues => {
                let flags = self.loop_flags();
                let body = self.exit_body(&w.body.stmts, e, &flags);
                let mut plain = w.clone();
                plain.body.stmts = body;
                if e.breaks {
                    let done = &flags.done;
                    let cond = &w.cond;
                    // `loop` arrives as `while true`.
                    let always = matches!(&**cond, Expr::Lit(l) if matches!(&l.lit, syn::Lit::Bool(b) if b.value));
                    *plain.cond = if always { syn::parse_quote!(!#done) } else { syn::parse_quote!(!#done && (#cond)) };
                }
                return self.while_loop(&plain);
            }
            Ok(_) => {}
        }
        if let Some(label) = &w.label {
            self.cx.error_spanned_by(label, "loop labels are not supported by `#[backprop]`");
        }
        if let Expr::Let(l) = &*w.cond {
            self.cx.error_spanned_by(l, "`while let` is not supported; loop `while a < b`");
            return;
        }
        let Some(carried_names) = self.carried_variables(&w.body) else { return };
        let outer = self.block;
        self.f.bump_all_versions();
        let body = self.f.new_block(Some(outer), None, false);
        let zero = self.f.add(Op::IntLit(0), Ty::Int, crate::ir::ROOT, w.span());
        let id = self.f.reserve_loop(LoopNode {
            var: ValueId(0),
            var_name: syn::Ident::new("_", w.while_token.span),
            lo: zero,
            hi: zero,
            inclusive: false,
            rev: false,
            body,
            block: outer,
            carried: Vec::new(),
            exit: None,
            trips: None,
        });
        let var = self.f.add_defined_by_construct(Op::LoopVar(id), Ty::Int, body, w.span());
        self.f.loops[id.index()].var = var;
        let mut inners = Vec::new();
        for (k, (name, si, vi, init)) in carried_names.iter().enumerate() {
            let ty = self.f.ty(*init);
            let inner = self.f.add_defined_by_construct(Op::LoopPhi(id, k as u32), ty, body, w.span());
            self.f.suggest_name(inner, Hint::User(name.clone()));
            self.scopes[*si][*vi].1 = Binding::Value(inner);
            inners.push(inner);
        }
        self.block = body;
        self.loop_depth += 1;
        self.scopes.push(Vec::new());
        let cond = self.expr(&w.cond);
        if self.f.ty(cond) != Ty::Bool {
            self.cx.error_spanned_by(&w.cond, "the condition must be a comparison or a `bool`");
        }
        self.block_body(&w.body.stmts, false, w.body.brace_token.span.close());
        self.scopes.pop();
        self.loop_depth -= 1;
        self.block = outer;
        let mut carried = Vec::new();
        for (k, (name, si, vi, init)) in carried_names.iter().enumerate() {
            let next = match self.scopes[*si][*vi].1 {
                Binding::Value(v) => v,
                Binding::Array(_) | Binding::Tuple(_) | Binding::Struct(_) => *init,
            };
            let ty = self.f.ty(inners[k]);
            let out = self.f.add_defined_by_construct(Op::LoopOut(id, k as u32), ty, outer, w.span());
            self.f.suggest_name(out, Hint::User(name.clone()));
            self.scopes[*si][*vi].1 = Binding::Value(out);
            carried.push(Carried { init: *init, inner: inners[k], next, out });
        }
        let trips = self.f.add_defined_by_construct(Op::LoopTrips(id), Ty::Int, outer, w.span());
        self.f.suggest_name(trips, Hint::User(format!("{}trips", crate::plan::HIDDEN)));
        let node = &mut self.f.loops[id.index()];
        node.carried = carried;
        node.exit = Some(cond);
        node.trips = Some(trips);
        node.hi = trips;
        self.f.place_loop(id);
        self.f.bump_all_versions();
    }
}

impl Lower<'_> {
    /// A loop body with its `break`/`continue` rewritten (see `exits.rs`); declares the `done` flag
    /// before the loop when the body breaks, and starts the body with a fresh `skip` flag when it
    /// continues.
    fn exit_body(
        &mut self,
        stmts: &[syn::Stmt],
        e: super::exits::Exits,
        flags: &super::exits::Flags,
    ) -> Vec<syn::Stmt> {
        let (done, skip) = (&flags.done, &flags.skip);
        if e.breaks {
            let declare: syn::Stmt = syn::parse_quote!(let mut #done = false;);
            self.stmt(&declare, false);
        }
        let mut body = Vec::new();
        if e.continues {
            body.push(syn::parse_quote!(let mut #skip = false;));
        }
        let rewritten = super::exits::rewrite(stmts, flags);
        // An exit the rewrite cannot reach (inside an expression: `let a = match i { 1 => continue, .. }`)
        // would make the caller lower the same loop again, forever: report it and drop the body.
        let block: syn::Block = syn::parse_quote!({ #(#rewritten)* });
        if let Ok(super::exits::Exits { first: Some(span), .. }) = super::exits::exits(&block) {
            self.cx.error_at(
                span,
                "`break` and `continue` are supported as statements (of a block, an `if` or a `match` arm), \
                 not inside an expression; assign a flag or restructure with `if`",
            );
            return Vec::new();
        }
        body.extend(rewritten);
        body
    }

    /// Fresh flags for a loop's exits (see `exits::Flags`).
    fn loop_flags(&mut self) -> super::exits::Flags {
        self.loops_with_exits += 1;
        super::exits::Flags::numbered(self.loops_with_exits)
    }

    /// `loop { body }`: a `while` on the `done` flag its `break`s set.
    pub(super) fn plain_loop(&mut self, l: &syn::ExprLoop) {
        let body = &l.body;
        let as_while: syn::ExprWhile = syn::parse_quote!(while true #body);
        match super::exits::exits(&l.body) {
            Err(span) => {
                self.cx.error_at(span, "loop labels and `break` with a value are not supported by `#[backprop]`")
            }
            Ok(e) if e.breaks => self.while_loop(&as_while),
            Ok(_) => self.cx.error_spanned_by(
                l.loop_token,
                "this `loop` has no `break`, so it never ends; write `while condition { .. }` or add a `break`",
            ),
        }
    }
}
