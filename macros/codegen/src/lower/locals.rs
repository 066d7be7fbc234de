//! `let`: a name bound to a value (typed by its annotation), to an array (a local one or the
//! array a called function returns), to a tuple (destructured, or read by field `t.0`), or
//! deferred (`let x;`, assigned in every branch of a following `if`).

use super::types::{array_type, scalar_type};
use super::{Binding, Lower};
use crate::ir::{Hint, Op, Ty, ValueId, ROOT};
use syn::{Expr, Pat};

impl Lower<'_> {
    /// Whether a branch of `i` ends in a call of a user function (an array result, where the
    /// binding is used as an array).
    fn if_yields_call(&self, i: &syn::ExprIf) -> bool {
        let tail_call = |b: &syn::Block| match b.stmts.last() {
            Some(syn::Stmt::Expr(e, None)) => self.user_call(e).is_some(),
            _ => false,
        };
        tail_call(&i.then_branch)
            || match i.else_branch.as_ref().map(|(_, e)| &**e) {
                Some(Expr::Block(b)) => tail_call(&b.block),
                Some(Expr::If(nested)) => self.if_yields_call(nested),
                _ => false,
            }
    }

    /// `name` as a writable local array of `t`'s length, zeros until assigned.
    fn zeroed_local(&mut self, name: &syn::Ident, t: &syn::TypeArray) {
        let len = &t.len;
        let zeros: Expr = syn::parse_quote_spanned!(name.span()=> [0.0; #len]);
        self.local_array(name, &zeros, true);
    }

    pub(super) fn local(&mut self, local: &syn::Local) {
        if let Some(init) = &local.init {
            if let Some((else_token, _)) = &init.diverge {
                self.cx.error_spanned_by(
                    else_token,
                    "`let ... else` is not supported in a `#[backprop]` function; compute the value with `if`/`else`",
                );
                return;
            }
        }
        let (pat, annotation) = match &local.pat {
            Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            p => (p, None),
        };
        if let Pat::Tuple(t) = pat {
            match &local.init {
                Some(init) => self.destructure(t, &init.expr),
                None => {
                    self.cx.error_spanned_by(t, "a tuple pattern needs a value: `let (a, b) = (x, y);`");
                    // Its names report nothing more.
                    for p in &t.elems {
                        if let Pat::Ident(i) = p {
                            self.poison_name(&i.ident);
                        }
                    }
                }
            }
            return;
        }
        let name = match pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
            // `let _ = e;` evaluates and discards, as in the user's function.
            Pat::Wild(_) => {
                if let Some(init) = &local.init {
                    self.expr(&init.expr);
                }
                return;
            }
            other => {
                self.cx.error_spanned_by(
                    other,
                    "only `let name = ...`, `let mut name = ...` and tuple bindings `let (a, b) = (x, y);` are supported; other patterns are not",
                );
                return;
            }
        };
        let Some(init) = &local.init else {
            // `let g: [f64; N];` assigned in every branch of a following `if` (`g = f(..);`, an
            // array-returning call in each): a local array whose zeros are never read (rustc rejects
            // a read before assignment in the user's function); each assignment copies a result in.
            if let Some(t) = flat_array(annotation) {
                self.zeroed_local(&name, t);
                return;
            }
            // Deferred initialisation (`let x;` assigned in every branch of a following `if`): the
            // placeholder is never read, since rustc rejects a read before assignment in the user's
            // own function; the assignments make the values, and an `if` merges them as usual.
            let placeholder = match annotation.and_then(scalar_type) {
                Some(Ty::Int) => self.f.add(Op::IntLit(0), Ty::Int, ROOT, name.span()),
                Some(Ty::Bool) => self.f.add(Op::BoolLit(false), Ty::Bool, ROOT, name.span()),
                Some(Ty::Float(t)) => self.f.lit(0.0, t),
                _ if annotation.is_some() => {
                    self.cx.error_spanned_by(
                        annotation,
                        "only scalar types (`f64`, `f32`, integers, `bool`) may annotate a `let`",
                    );
                    self.poison()
                }
                _ => self.poison(),
            };
            if let Some(scope) = self.scopes.last_mut() {
                scope.push((name.to_string(), Binding::Value(placeholder)));
            }
            return;
        };
        if let Expr::Tuple(t) = &*init.expr {
            let parts: Vec<ValueId> = t.elems.iter().map(|e| self.expr(e)).collect();
            for (k, part) in parts.iter().enumerate() {
                self.f.suggest_name(*part, Hint::User(format!("{name}_{k}")));
            }
            self.tuples.push(parts);
            let k = (self.tuples.len() - 1) as u32;
            if let Some(scope) = self.scopes.last_mut() {
                scope.push((name.to_string(), Binding::Tuple(k)));
            }
            return;
        }
        let mutable = matches!(pat, Pat::Ident(p) if p.mutability.is_some());
        // `let g: [f64; N] = if c { f(..) } else { h(..) };`: the array declared, then assigned the
        // tail of each branch (`g = f(..);`), as `let g: [f64; N]; if c { g = f(..); } ..` is.
        if let Expr::If(i) = &*init.expr {
            if let (Some(t), Some(_)) = (flat_array(annotation), &i.else_branch) {
                self.zeroed_local(&name, t);
                let assigned = super::syntax::map_if_blocks(i, &mut |b: &mut syn::Block| {
                    if let Some(syn::Stmt::Expr(tail, None)) = b.stmts.pop() {
                        b.stmts.push(syn::parse_quote!(#name = #tail;));
                    }
                });
                self.stmt(&syn::Stmt::Expr(Expr::If(assigned), Some(Default::default())), false);
                return;
            }
            if self.arrayish.contains(&name.to_string()) && self.if_yields_call(i) {
                self.cx.error_spanned_by(
                    &init.expr,
                    format!(
                        "an `if` yielding arrays needs the array's type: `let {name}: [f64; N] = if .. {{ f(..) }} else {{ g(..) }};`"
                    ),
                );
                self.poison_name(&name);
                return;
            }
        }
        match &*init.expr {
            Expr::Repeat(_) => {
                self.local_array(&name, &init.expr, mutable);
                return;
            }
            Expr::Macro(m) if m.mac.path.is_ident("vec") => {
                self.local_array(&name, &init.expr, mutable);
                return;
            }
            Expr::MethodCall(m) if m.method == "to_vec" && m.args.is_empty() && self.lower_to_vec(&name, m) => return,
            Expr::Call(c) if is_with_capacity(&c.func) && c.args.len() == 1 => {
                self.with_capacity(&name, &c.args[0]);
                return;
            }
            _ => {}
        }
        // `let h = dense(..)` binds the array a function returns when `h` is used as an array
        // (or annotated as one).
        let returns_array = match annotation {
            Some(ty) => array_type(ty).is_some(),
            None => self.arrayish.contains(&name.to_string()),
        };
        // `let mut h: [f64; N] = f(..);`: a local array the function may write, starting as a copy
        // of what `f` returned (the length comes from the annotation; `h` is a local array of its
        // own, so later writes `h[0] = ..` leave the call's result, which its pullback reads, alone).
        if let (true, Some(t)) = (mutable, flat_array(annotation)) {
            if self.user_call(&init.expr).is_some() {
                self.zeroed_local(&name, t);
                let right = &init.expr;
                let assign: syn::ExprAssign = syn::parse_quote!(#name = #right);
                self.assign_array_call(&assign);
                return;
            }
        }
        // `let mut h = f(..);`: the same copy, shaped like what `f` returned.
        if returns_array && mutable && annotation.is_none() {
            if let Some(call) = self.user_call(&init.expr) {
                self.copy_of_call(&name, call);
                return;
            }
        }
        if returns_array {
            if let Some(call) = self.user_call(&init.expr) {
                self.invoke_array(&name, call);
                return;
            }
        }
        let errors_before = self.cx.error_count();
        // `let j: usize = nearest(p, c, i);`: a plain function called for an integer or a `bool`.
        let passive = match annotation.and_then(scalar_type) {
            Some(ty @ (Ty::Int | Ty::Bool)) => self.user_call(&init.expr).map(|call| (call, ty)),
            _ => None,
        };
        let mut value = match passive {
            Some((call, ty)) => self.invoke_passive(call, ty),
            None => self.expr(&init.expr),
        };
        if self.cx.error_count() > errors_before {
            self.poisoned.insert(name.to_string());
        }
        if let Some(ty) = annotation {
            match scalar_type(ty) {
                Some(Ty::Float(t)) => {
                    // `let a: f32 = 1.5;` types the literal.
                    if let Some(x) = self.f.float_lit(value) {
                        value = self.f.lit(x, t);
                    }
                }
                Some(_) => {}
                None => self
                    .cx
                    .error_spanned_by(ty, "only scalar types (`f64`, `f32`, integers, `bool`) may annotate a `let`"),
            }
        }
        self.f.suggest_name(value, Hint::User(name.to_string()));
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.to_string(), Binding::Value(value)));
        }
    }

    /// `let (a, b, _) = (e1, e2, e3);` or `let (a, b) = t;` for a tuple binding `t`.
    fn destructure(&mut self, pat: &syn::PatTuple, init: &Expr) {
        let parts: Vec<ValueId> = match init {
            Expr::Tuple(t) => t.elems.iter().map(|e| self.expr(e)).collect(),
            Expr::Path(p) => match p.path.get_ident().and_then(|i| self.lookup(&i.to_string())) {
                Some((si, vi)) => match self.scopes[si][vi].1 {
                    Binding::Tuple(k) => self.tuples[k as usize].clone(),
                    _ => {
                        self.cx.error_spanned_by(init, "only a tuple can be destructured: `let (a, b) = (x, y);`");
                        return;
                    }
                },
                None => {
                    self.cx.error_spanned_by(init, "only a tuple can be destructured: `let (a, b) = (x, y);`");
                    return;
                }
            },
            other => {
                self.cx.error_spanned_by(
                    other,
                    "a tuple pattern takes a tuple expression `(e1, e2)` or a tuple variable; a function or an `if` returning a tuple is not supported (bind each value separately)",
                );
                return;
            }
        };
        if parts.len() != pat.elems.len() {
            self.cx.error_spanned_by(
                pat,
                format!("the pattern has {} elements but the tuple has {}", pat.elems.len(), parts.len()),
            );
            return;
        }
        for (p, v) in pat.elems.iter().zip(parts) {
            let (p, _) = match p {
                Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
                p => (p, None),
            };
            match p {
                Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => {
                    self.f.suggest_name(v, Hint::User(i.ident.to_string()));
                    if let Some(scope) = self.scopes.last_mut() {
                        scope.push((i.ident.to_string(), Binding::Value(v)));
                    }
                }
                Pat::Wild(_) => {}
                other => self.cx.error_spanned_by(
                    other,
                    "tuple patterns may hold names and `_`; nested patterns are not supported",
                ),
            }
        }
    }

    /// `t.0` of a tuple binding.
    pub(super) fn tuple_field(&mut self, field: &syn::ExprField) -> ValueId {
        let syn::Member::Unnamed(index) = &field.member else { return self.poison() };
        let tuple =
            match &*field.base {
                Expr::Path(p) => p.path.get_ident().and_then(|i| self.lookup(&i.to_string())).and_then(|(si, vi)| {
                    match self.scopes[si][vi].1 {
                        Binding::Tuple(k) => Some(k),
                        _ => None,
                    }
                }),
                _ => None,
            };
        let Some(k) = tuple else {
            self.cx.error_spanned_by(field, "`.0` fields are supported on tuple variables (`let t = (a, b); t.0`)");
            return self.poison();
        };
        match self.tuples[k as usize].get(index.index as usize) {
            Some(v) => *v,
            None => {
                self.cx.error_spanned_by(&field.member, "this tuple has no such field");
                self.poison()
            }
        }
    }
}

/// `Vec::with_capacity` (or `std::vec::Vec::with_capacity`).
fn is_with_capacity(e: &Expr) -> bool {
    let Expr::Path(p) = e else { return false };
    let names: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
    names.ends_with(&["Vec".to_string(), "with_capacity".to_string()])
}

impl Lower<'_> {
    /// `let mut h = f(..);` (no annotation): the call's array bound to a hidden name,
    /// and `h` a local array of the same shape, copied from it element by element, that the
    /// function may write. Its length is not in the source: it is declared as a zero like the
    /// call's array (`Function::copies`).
    fn copy_of_call(&mut self, name: &syn::Ident, call: super::calls::CallExpr) {
        let span = call.span;
        let hidden = self.call_result_name("copied", span);
        self.invoke_array(&hidden, call);
        let Some((si, vi)) = self.lookup(&hidden.to_string()) else {
            self.poison_name(name);
            return;
        };
        let Binding::Array(source) = self.scopes[si][vi].1 else { return };
        let fill = self.f.lit(0.0, self.f.float);
        let array = self.f.add_array(crate::ir::Array {
            name: name.clone(),
            elem: Ty::Float(self.f.float),
            dims: vec![crate::ir::Dim::Dynamic],
            origin: crate::ir::ArrayOrigin::Local { fill },
            mutable: true,
        });
        self.f.copies.push((array, source));
        self.f.add_unique(Op::Declare(array), Ty::Unit, self.block, span);
        self.f.bump_version(array);
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.to_string(), Binding::Array(array)));
        }
        let j = super::syntax::ident(&format!("{}j", crate::plan::HIDDEN));
        let copy: syn::ExprForLoop = syn::parse_quote! {
            for #j in 0..#hidden.len() { #name[#j] = #hidden[#j]; }
        };
        self.for_loop(&copy);
    }
}

/// A one-dimensional array annotation (`[f64; N]`), the shape a call's array is bound to.
fn flat_array(annotation: Option<&syn::Type>) -> Option<&syn::TypeArray> {
    match annotation {
        Some(syn::Type::Array(t)) if !matches!(&*t.elem, syn::Type::Array(_)) => Some(t),
        _ => None,
    }
}
