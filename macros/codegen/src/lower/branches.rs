//! `if` and `match`. An `if` becomes a structured IR `if`: its value, and the variables either
//! branch reassigns, are its outputs. A `match` on an integer or a `bool` is lowered as the
//! `if`/`else if` chain it means.

use super::{Binding, Lower};
use crate::ir::{Hint, Ty, ValueId};
use syn::spanned::Spanned;
use syn::{Expr, Pat, Stmt};

impl Lower<'_> {
    /// Lowers an `if`. With `want_value`, both branches must give a value and the `if`'s value is
    /// returned. Variables that either branch reassigns become outputs of the `if`.
    pub(super) fn if_expr(&mut self, ifx: &syn::ExprIf, want_value: bool) -> Option<ValueId> {
        if let Expr::Let(l) = &*ifx.cond {
            self.cx.error_spanned_by(l, "`if let` is not supported; compare values with `if a < b`");
            return want_value.then(|| self.poison());
        }
        let cond = self.expr(&ifx.cond);
        if self.f.ty(cond).float().is_some() {
            self.cx.error_spanned_by(&ifx.cond, "the condition must be a comparison or a `bool`");
        }
        let outer = self.block;
        let snapshot = self.scopes.clone();

        let then_block = self.f.new_block(Some(outer), None, false);
        self.block = then_block;
        self.scopes.push(Vec::new());
        let then_value = self.block_body(&ifx.then_branch.stmts, want_value, ifx.then_branch.brace_token.span.close());
        self.scopes.pop();
        let then_scopes = std::mem::replace(&mut self.scopes, snapshot.clone());

        let else_block = self.f.new_block(Some(outer), None, false);
        self.block = else_block;
        let else_value = match &ifx.else_branch {
            Some((_, e)) => match &**e {
                Expr::If(nested) => self.if_expr(nested, want_value),
                Expr::Block(b) => {
                    self.scopes.push(Vec::new());
                    let v = self.block_body(&b.block.stmts, want_value, b.block.brace_token.span.close());
                    self.scopes.pop();
                    v
                }
                other => {
                    self.cx.error_spanned_by(other, "expected a block after `else`");
                    None
                }
            },
            None => {
                if want_value {
                    self.cx.error_spanned_by(
                        ifx,
                        "an `if` used as a value needs an `else` branch giving the value in the other case",
                    );
                }
                None
            }
        };
        let else_scopes = std::mem::replace(&mut self.scopes, snapshot.clone());
        self.block = outer;

        let id = self.f.add_if(cond, then_block, else_block, outer);
        // A branch may have written array elements: later reads are new values.
        self.f.bump_all_versions();
        let span = ifx.span();
        let mut result = None;
        if want_value {
            let (t, e) = match (then_value, else_value) {
                (Some(t), Some(e)) => (t, e),
                _ => {
                    let p = self.poison();
                    (then_value.unwrap_or(p), else_value.unwrap_or(p))
                }
            };
            let ty = merge_ty(self.f.ty(t), self.f.ty(e));
            result = Some(self.f.add_if_output(id, t, e, ty, span));
        }
        for (si, scope) in snapshot.iter().enumerate() {
            for (vi, (name, before)) in scope.iter().enumerate() {
                let (Binding::Value(before), Binding::Value(t), Binding::Value(e)) =
                    (*before, then_scopes[si][vi].1, else_scopes[si][vi].1)
                else {
                    continue;
                };
                if t != before || e != before {
                    let ty = merge_ty(self.f.ty(t), self.f.ty(e));
                    let phi = self.f.add_if_output(id, t, e, ty, span);
                    self.f.suggest_name(phi, Hint::User(name.clone()));
                    self.scopes[si][vi].1 = Binding::Value(phi);
                }
            }
        }
        result
    }

    /// `match` on an integer or a `bool`, lowered as the `if`/`else if` chain it means: each arm's
    /// patterns (literals, `a..=b` and `a..b` ranges, `|`, `_`, a name binding the value) become a
    /// condition, an arm's guard is `&&`-ed on, and the derivative follows the arm taken.
    pub(super) fn match_expr(&mut self, m: &syn::ExprMatch, want_value: bool) -> Option<ValueId> {
        let scrutinee = self.expr(&m.expr);
        if self.f.ty(scrutinee).float().is_some() {
            self.cx.error_spanned_by(
                &m.expr,
                "`match` on a float is not supported; compare with `if x < a { .. } else { .. }`",
            );
            return want_value.then(|| self.poison());
        }
        // The scrutinee is evaluated once, then named for the conditions (in a scope of its own, so
        // a nested `match` has its own).
        self.scopes.push(vec![(SCRUTINEE.to_string(), Binding::Value(scrutinee))]);
        let subject_name = syn::Ident::new(SCRUTINEE, m.match_token.span);
        let subject: Expr = syn::parse_quote!(#subject_name);
        let mut chain: Option<Expr> = None;
        for arm in m.arms.iter().rev() {
            let Some((cond, binding)) = self.arm_condition(&arm.pat, &subject) else {
                self.scopes.pop();
                return want_value.then(|| self.poison());
            };
            // A guard may read the name the arm binds: `k if k < 0 =>`.
            let guard: Option<Expr> = arm.guard.as_ref().map(|(_, g)| match &binding {
                Some(name) => syn::parse_quote!({ let #name = #subject; #g }),
                None => (**g).clone(),
            });
            let cond = match (guard, cond) {
                (Some(g), Some(c)) => Some(syn::parse_quote!((#c) && (#g))),
                (Some(g), None) => Some(g),
                (None, c) => c,
            };
            let body = &arm.body;
            let mut block: syn::Block = match &**body {
                Expr::Block(b) if b.label.is_none() => b.block.clone(),
                other => syn::parse_quote!({ #other }),
            };
            if let Some(name) = binding {
                let bind: Stmt = syn::parse_quote!(let #name = #subject_name;);
                block.stmts.insert(0, bind);
            }
            chain = Some(match (cond, chain) {
                // The last arm needs no condition (rustc checked that the arms are exhaustive), and
                // a catch-all makes the arms after it unreachable.
                (Some(c), Some(rest)) => syn::parse_quote!(if #c #block else { #rest }),
                _ => Expr::Block(syn::ExprBlock { attrs: vec![], label: None, block }),
            });
        }
        let out = match chain {
            Some(Expr::If(i)) => self.if_expr(&i, want_value),
            Some(Expr::Block(b)) => {
                self.scopes.push(Vec::new());
                let v = self.block_body(&b.block.stmts, want_value, b.block.brace_token.span.close());
                self.scopes.pop();
                v
            }
            _ => {
                self.cx.error_spanned_by(m, "a `match` needs at least one arm");
                None
            }
        };
        self.scopes.pop();
        out
    }

    /// The condition under which `pat` matches `subject` (`None`: always), and a name it binds.
    fn arm_condition(&mut self, pat: &Pat, subject: &Expr) -> Option<(Option<Expr>, Option<syn::Ident>)> {
        match pat {
            Pat::Wild(_) => Some((None, None)),
            Pat::Ident(i) if i.subpat.is_none() && i.by_ref.is_none() => Some((None, Some(i.ident.clone()))),
            Pat::Lit(l) => Some((Some(syn::parse_quote!(#subject == #l)), None)),
            Pat::Range(r) => {
                let mut parts: Vec<Expr> = Vec::new();
                if let Some(lo) = &r.start {
                    parts.push(syn::parse_quote!(#subject >= #lo));
                }
                if let Some(hi) = &r.end {
                    parts.push(match r.limits {
                        syn::RangeLimits::Closed(_) => syn::parse_quote!(#subject <= #hi),
                        syn::RangeLimits::HalfOpen(_) => syn::parse_quote!(#subject < #hi),
                    });
                }
                let cond = parts.into_iter().reduce(|a, b| syn::parse_quote!((#a) && (#b)));
                Some((cond, None))
            }
            Pat::Or(o) => {
                let mut conds: Vec<Expr> = Vec::new();
                for case in &o.cases {
                    match self.arm_condition(case, subject)? {
                        (Some(c), None) => conds.push(c),
                        _ => {
                            self.cx.error_spanned_by(case, "`|` alternatives must be literals or ranges");
                            return None;
                        }
                    }
                }
                let cond = conds.into_iter().reduce(|a, b| syn::parse_quote!((#a) || (#b)));
                Some((cond, None))
            }
            Pat::Paren(p) => self.arm_condition(&p.pat, subject),
            other => {
                self.cx.error_spanned_by(
                    other,
                    "`match` arms may be integer or `bool` literals, ranges (`1..=3`), alternatives (`1 | 2`), a name or `_`; write other cases with `if`",
                );
                None
            }
        }
    }
}

/// The name a `match` gives its scrutinee while its arms' conditions are lowered.
const SCRUTINEE: &str = "__backprop_match_scrutinee";

fn merge_ty(a: Ty, b: Ty) -> Ty {
    match (a, b) {
        (Ty::Float(f), _) | (_, Ty::Float(f)) => Ty::Float(f),
        (a, _) => a,
    }
}
