//! Statements and blocks: a block's statements in order and its tail value, items inside the
//! body (`const` and `use` are kept), assignment and compound assignment (`x = e`, `x += e`,
//! `a[i] = e`), a name's new value replacing the old one in its scope.

use super::{Binding, Lower};
use crate::ir::{BinOp, Hint, Ty, ValueId};
use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, Stmt};

impl Lower<'_> {
    /// Lowers statements of a block; returns the tail expression's value when `want_value`.
    pub(super) fn block_body(&mut self, stmts: &[Stmt], want_value: bool, end: Span) -> Option<ValueId> {
        let errors_before = self.cx.error_count();
        let mut tail = None;
        for (i, stmt) in stmts.iter().enumerate() {
            let is_last = i + 1 == stmts.len();
            tail = self.stmt(stmt, is_last && want_value);
        }
        if want_value && tail.is_none() {
            // Only report a missing value when the block itself is fine, so a bad last statement
            // gives one error, not two.
            let quiet = self.missing_return || self.cx.error_count() > errors_before;
            if !matches!(stmts.last(), Some(Stmt::Expr(_, None))) && !quiet {
                self.cx.error_at(end, "expected a final expression giving the value here (no trailing `;`)");
            }
            return Some(self.poison());
        }
        tail
    }

    /// Lowers one statement; returns the value when it is the tail expression and `want_value`.
    pub(super) fn stmt(&mut self, stmt: &Stmt, tail: bool) -> Option<ValueId> {
        match stmt {
            Stmt::Local(local) => {
                self.local(local);
                None
            }
            Stmt::Item(item) => {
                match item {
                    syn::Item::Const(_) | syn::Item::Use(_) => self.items.push(item.clone()),
                    syn::Item::Fn(inner) => {
                        self.poisoned.insert(inner.sig.ident.to_string());
                        self.cx.error_spanned_by(
                            &inner.sig,
                            "nested functions are not supported: `#[backprop]` cannot differentiate calls of other functions; write the computation inline",
                        );
                    }
                    other => self.cx.error_spanned_by(
                        other,
                        "only `const` and `use` items are supported inside a `#[backprop]` function; move other items outside it",
                    ),
                }
                None
            }
            Stmt::Macro(m) => {
                self.cx.error_spanned_by(
                    &m.mac,
                    format!(
                        "macro calls (`{}!`) are not supported inside a `#[backprop]` function; write the computation out",
                        m.mac.path.to_token_stream()
                    ),
                );
                None
            }
            Stmt::Expr(e, semi) => match e {
                Expr::MethodCall(m) if m.method == "push" && m.args.len() == 1 && self.push(m) => None,
                Expr::Assign(a) if self.assign_array_call(a) => None,
                Expr::Assign(a) => {
                    // Assigning a whole parameter struct is one error, whatever the value is.
                    let value = if self.field_path(&a.left).is_some_and(|(_, path)| path.is_empty()) {
                        self.poison()
                    } else if let Some((call, ty)) = self.passive_assignment(a) {
                        self.invoke_passive(call, ty)
                    } else {
                        self.expr(&a.right)
                    };
                    self.assign(&a.left, value);
                    None
                }
                Expr::Binary(b) if compound_op(&b.op).is_some() => {
                    let op = compound_op(&b.op).unwrap_or(BinOp::Add);
                    let current = self.expr(&b.left);
                    let rhs = self.expr(&b.right);
                    let value = self.binary_value(op, current, rhs, b.span());
                    self.assign(&b.left, value);
                    None
                }
                Expr::If(i) => self.if_expr(i, tail && semi.is_none()),
                Expr::Match(m) => self.match_expr(m, tail && semi.is_none()),
                Expr::ForLoop(l) => {
                    self.for_loop(l);
                    None
                }
                Expr::While(w) => {
                    self.while_loop(w);
                    None
                }
                Expr::Loop(l) if l.label.is_none() => {
                    self.plain_loop(l);
                    None
                }
                Expr::Block(b) if b.label.is_none() && b.attrs.is_empty() => {
                    self.scopes.push(Vec::new());
                    let v = self.block_body(&b.block.stmts, tail && semi.is_none(), b.block.brace_token.span.close());
                    self.scopes.pop();
                    v
                }
                _ if tail && semi.is_none() => Some(self.expr(e)),
                _ => {
                    // Evaluated for its errors; the value is unused, as in the user's function.
                    self.expr(e);
                    None
                }
            },
        }
    }

    /// `j = nearest(..)` to an integer or `bool` variable: a passive call, as `let j: usize = ..`.
    fn passive_assignment<'e>(&self, a: &'e syn::ExprAssign) -> Option<(super::calls::CallExpr<'e>, Ty)> {
        let Expr::Path(p) = &*a.left else { return None };
        let (si, vi) = self.lookup(&p.path.get_ident()?.to_string())?;
        let Binding::Value(v) = self.scopes[si][vi].1 else { return None };
        let ty = self.f.ty(v);
        if !matches!(ty, Ty::Int | Ty::Bool) {
            return None;
        }
        Some((self.user_call(&a.right)?, ty))
    }

    fn assign(&mut self, place: &Expr, value: ValueId) {
        if let Expr::Index(index) = place {
            self.store(index, value);
            return;
        }
        if let Some((param, path)) = self.field_path(place).filter(|(_, path)| !path.is_empty()) {
            self.cx.error_spanned_by(
                place,
                format!(
                    "`{}` is a field of the parameter struct `{}`, read-only in a `#[backprop]` function; compute the new value in a local variable",
                    self.field_shown(param, &path),
                    self.f.params[param as usize].name
                ),
            );
            return;
        }
        let Expr::Path(p) = place else {
            self.cx.error_spanned_by(
                place,
                "only assignment to a local variable (`x = ...`) or an array element (`h[j] = ...`) is supported",
            );
            return;
        };
        let Some(ident) = p.path.get_ident() else {
            self.cx.error_spanned_by(place, "only assignment to a local variable (`x = ...`) is supported");
            return;
        };
        match self.lookup(&ident.to_string()) {
            Some((si, vi)) => match self.scopes[si][vi].1 {
                Binding::Value(_) => {
                    self.f.suggest_name(value, Hint::User(ident.to_string()));
                    self.scopes[si][vi].1 = Binding::Value(value);
                }
                Binding::Array(_) => self.cx.error_spanned_by(
                    ident,
                    format!("assigning a whole array is not supported; assign its elements: `{ident}[i] = ...`"),
                ),
                Binding::Tuple(_) => self.cx.error_spanned_by(
                    ident,
                    format!("assigning a tuple is not supported; bind a new one (`let {ident} = (..);`) or use separate variables"),
                ),
                Binding::Struct(_) => self.cx.error_spanned_by(
                    ident,
                    format!("`{ident}` is a parameter struct, read-only in a `#[backprop]` function"),
                ),
            },
            None => self
                .cx
                .error_spanned_by(ident, format!("cannot assign to `{ident}`: it is not a local variable or argument")),
        }
    }
}

pub(super) fn compound_op(op: &syn::BinOp) -> Option<BinOp> {
    use syn::BinOp as S;
    Some(match op {
        S::AddAssign(_) => BinOp::Add,
        S::SubAssign(_) => BinOp::Sub,
        S::MulAssign(_) => BinOp::Mul,
        S::DivAssign(_) => BinOp::Div,
        _ => return None,
    })
}
