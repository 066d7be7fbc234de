//! Scalar expressions: literals, names and constants, unary and binary operators, casts, blocks
//! and `if`/`match` as values; and the message for an expression `#[backprop]` does not accept.

use super::statements::compound_op;
use super::types::scalar_type;
use super::{Binding, Lower, SUPPORTED};
use crate::ir::{BinOp, FloatTy, Op, Ty, UnOp, ValueId, ROOT};
use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::Expr;

impl Lower<'_> {
    pub(super) fn expr(&mut self, e: &Expr) -> ValueId {
        match e {
            Expr::Lit(l) => self.literal(&l.lit),
            Expr::Path(p) => self.path(p),
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Unary(u) => {
                let op = match u.op {
                    syn::UnOp::Neg(_) => UnOp::Neg,
                    syn::UnOp::Not(_) => UnOp::Not,
                    // `*xi` of an element from `x.iter()`: the macro's values are plain floats already.
                    syn::UnOp::Deref(_) => return self.expr(&u.expr),
                    _ => {
                        self.cx.error_spanned_by(u, format!("this operator is not supported; {SUPPORTED}"));
                        return self.poison();
                    }
                };
                let a = self.expr(&u.expr);
                let ty = self.f.ty(a);
                self.add(Op::Unary(op, a), ty, u.span())
            }
            Expr::Binary(b) => {
                let Some(op) = binary_op(&b.op) else {
                    if compound_op(&b.op).is_some() {
                        self.cx.error_spanned_by(b, "compound assignment is only supported as a statement: `x += e;`");
                    } else {
                        let op = b.op.to_token_stream().to_string();
                        self.cx.error_spanned_by(
                            b.op,
                            format!("the operator `{op}` is not supported by `#[backprop]`; arithmetic is `+ - * /`, comparisons and `&&`/`||` work in conditions"),
                        );
                    }
                    return self.poison();
                };
                let l = self.expr(&b.left);
                let r = self.expr(&b.right);
                self.binary_value(op, l, r, b.span())
            }
            Expr::Index(i) => self.load(i),
            Expr::MethodCall(m) => self.method_call(m),
            Expr::Call(c) => self.call(c),
            Expr::Cast(c) => self.cast(c),
            Expr::If(i) => match self.if_expr(i, true) {
                Some(v) => v,
                None => self.poison(),
            },
            Expr::Block(b) if b.label.is_none() => {
                self.scopes.push(Vec::new());
                let v = self.block_body(&b.block.stmts, true, b.block.brace_token.span.close());
                self.scopes.pop();
                v.unwrap_or_else(|| self.poison())
            }
            Expr::Field(_) if self.poisoned_root(e) => self.poison(),
            Expr::Field(field) if matches!(field.member, syn::Member::Unnamed(_)) => self.tuple_field(field),
            Expr::Field(field) if self.field_path(e).is_some() => match self.field_value(field) {
                Some(v) => v,
                None => self.poison(),
            },
            Expr::Match(m) => match self.match_expr(m, true) {
                Some(v) => v,
                None => self.poison(),
            },
            other => {
                self.cx.error_spanned_by(other, unsupported_message(other));
                self.poison()
            }
        }
    }

    pub(super) fn binary_value(&mut self, op: BinOp, l: ValueId, r: ValueId, span: Span) -> ValueId {
        if let (Ty::Float(a), Ty::Float(b)) = (self.f.ty(l), self.f.ty(r)) {
            if a != b {
                self.cx.error_at(
                    span,
                    format!("this mixes `{}` and `{}`; convert one side with `as {}`", a.name(), b.name(), a.name()),
                );
                return self.poison();
            }
        }
        let ty = if op.is_comparison() || op.is_logical() {
            Ty::Bool
        } else {
            match (self.f.ty(l), self.f.ty(r)) {
                (Ty::Float(a), _) => Ty::Float(a),
                (_, Ty::Float(b)) => Ty::Float(b),
                (Ty::Int, _) | (_, Ty::Int) => Ty::Int,
                (a, _) => a,
            }
        };
        self.add(Op::Binary(op, l, r), ty, span)
    }

    fn literal(&mut self, lit: &syn::Lit) -> ValueId {
        match lit {
            syn::Lit::Float(f) => {
                let ty = match f.suffix() {
                    "" => self.f.float,
                    s => FloatTy::from_name(s).unwrap_or(self.f.float),
                };
                match f.base10_parse::<f64>() {
                    Ok(x) => self.f.lit(x, ty),
                    Err(e) => {
                        self.cx.syn_error(e);
                        self.poison()
                    }
                }
            }
            syn::Lit::Int(i) => {
                if let Some(ty) = FloatTy::from_name(i.suffix()) {
                    // `5f64` is a float literal written with integer digits.
                    return match i.base10_parse::<f64>() {
                        Ok(x) => self.f.lit(x, ty),
                        Err(e) => {
                            self.cx.syn_error(e);
                            self.poison()
                        }
                    };
                }
                match i.base10_parse::<i128>() {
                    Ok(x) => self.f.add(Op::IntLit(x), Ty::Int, ROOT, i.span()),
                    Err(e) => {
                        self.cx.syn_error(e);
                        self.poison()
                    }
                }
            }
            syn::Lit::Bool(b) => self.f.add(Op::BoolLit(b.value), Ty::Bool, ROOT, b.span()),
            other => {
                self.cx.error_spanned_by(other, format!("this literal is not supported; {SUPPORTED}"));
                self.poison()
            }
        }
    }

    pub(super) fn path(&mut self, p: &syn::ExprPath) -> ValueId {
        if let Some(ident) = p.path.get_ident() {
            if let Some((si, vi)) = self.lookup(&ident.to_string()) {
                match self.scopes[si][vi].1 {
                    Binding::Value(v) => return v,
                    Binding::Tuple(_) => {
                        self.cx.error_spanned_by(
                            p,
                            format!("tuple `{ident}` is used as a value; read its fields (`{ident}.0`) or destructure it (`let (a, b) = {ident};`)"),
                        );
                        return self.poison();
                    }
                    Binding::Array(_) => {
                        self.cx.error_spanned_by(
                            p,
                            format!("array `{ident}` is used as a value; read its elements (`{ident}[i]`) or sum them (`{ident}.iter().sum::<f64>()`)"),
                        );
                        return self.poison();
                    }
                    Binding::Struct(_) => {
                        self.cx.error_spanned_by(
                            p,
                            format!("parameter struct `{ident}` is used as a value; read its fields (`{ident}.w[j][i]`) or pass it to a differentiable function (`loss(&{ident}, ..)`)"),
                        );
                        return self.poison();
                    }
                }
            }
        }
        // Not a variable: a constant (`PI`, `std::f64::consts::E`, a `const` item). rustc resolves it;
        // its derivative is zero.
        let idx = self.f.intern_path(p.to_token_stream());
        let ty = const_type(&p.path);
        self.f.add(Op::Const(idx), ty, ROOT, p.span())
    }

    fn cast(&mut self, c: &syn::ExprCast) -> ValueId {
        let v = self.expr(&c.expr);
        let Some(target) = scalar_type(&c.ty) else {
            self.cx.error_spanned_by(&c.ty, "only casts to `f64`, `f32` and integer types are supported");
            return v;
        };
        if self.f.ty(v) == Ty::Bool {
            self.cx.error_spanned_by(
                c,
                "casting a `bool` to a number is not supported; write `if flag { 1.0 } else { 0.0 }`",
            );
            return self.poison();
        }
        if target == self.f.ty(v) && target.float().is_some() {
            // `x as f64` on an f64 is the identity.
            return v;
        }
        if let (Ty::Float(t), Some(x)) = (target, self.f.float_lit(v)) {
            return self.f.lit(x, t);
        }
        let idx = self.f.intern_path(c.ty.to_token_stream());
        self.add(Op::Cast(idx, v), target, c.span())
    }
}

/// A constant's type when the path says it (`std::f64::consts::PI`), otherwise unknown.
fn const_type(path: &syn::Path) -> Ty {
    path.segments.iter().find_map(|s| FloatTy::from_name(&s.ident.to_string())).map(Ty::Float).unwrap_or(Ty::Unknown)
}

fn binary_op(op: &syn::BinOp) -> Option<BinOp> {
    use syn::BinOp as S;
    Some(match op {
        S::Add(_) => BinOp::Add,
        S::Sub(_) => BinOp::Sub,
        S::Mul(_) => BinOp::Mul,
        S::Div(_) => BinOp::Div,
        S::Rem(_) => BinOp::Rem,
        S::Lt(_) => BinOp::Lt,
        S::Le(_) => BinOp::Le,
        S::Gt(_) => BinOp::Gt,
        S::Ge(_) => BinOp::Ge,
        S::Eq(_) => BinOp::Eq,
        S::Ne(_) => BinOp::Ne,
        S::And(_) => BinOp::And,
        S::Or(_) => BinOp::Or,
        _ => return None,
    })
}

/// The message for an expression `#[backprop]` does not accept, saying what to do instead.
pub fn unsupported_message(e: &Expr) -> String {
    match e {
        Expr::Closure(_) => {
            "closures are not supported in a `#[backprop]` function; write the computation inline".into()
        }
        Expr::Return(_) => {
            "`return` is supported as a statement (`if c { return e; }`), not inside an expression; bind the value first".into()
        }
        Expr::Try(_) => "the `?` operator is not supported; a `#[backprop]` function computes a plain float".into(),
        Expr::Macro(m) => format!(
            "macro calls (`{}!`) are not supported inside a `#[backprop]` function; write the computation out",
            m.mac.path.to_token_stream()
        ),
        Expr::ForLoop(_) => "a `for` loop is only supported as a statement".into(),
        Expr::While(_) => "a `while` loop is only supported as a statement".into(),
        Expr::Loop(_) => {
            "a labelled `loop`, or one used as a value, is not supported by `#[backprop]`; drop the label (`break` leaves the innermost loop) and bind results to variables".into()
        }
        Expr::Break(_) | Expr::Continue(_) => {
            "`break` and `continue` are supported as statements in a loop body (`if c { break; }`), not inside expressions".into()
        }
        Expr::Async(_) | Expr::Await(_) => "`async` and `.await` are not supported by `#[backprop]`".into(),
        Expr::Index(_) => {
            "indexing is not supported yet by `#[backprop]`; pass the elements as scalar arguments".into()
        }
        Expr::Field(_) => "field access is supported on parameter structs taken by reference (`net: &Net`, a `#[derive(Params)]` struct: `net.w[j]`) and on tuple variables (`t.0`); pass other values as their own arguments".into(),
        Expr::Let(_) => "`let` expressions are not supported; compare values with `if a < b`".into(),
        Expr::Assign(_) => "assignment is only supported as a statement: `x = e;`".into(),
        Expr::Unsafe(_) => "`unsafe` blocks are not supported by `#[backprop]`".into(),
        Expr::Array(_) => "array literals are not supported; declare `let mut a = [0.0; N];` and assign the elements (`a[0] = x;`)".into(),
        Expr::Tuple(_) => "a tuple is supported in `let t = (a, b);` and `let (a, b) = (x, y);`; the function itself returns one float (the cost)".into(),
        _ => format!("this expression is not supported by `#[backprop]`; {SUPPORTED}"),
    }
}
