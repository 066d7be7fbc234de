//! Printing values as expressions: the right-hand side of a value's binding, or its inline form
//! inside another expression (literals with their type suffix where nothing else types them,
//! operators parenthesised by precedence, helper and method calls), and the doc rendering that
//! writes unnamed temporaries out.

use super::Emitter;
use crate::ir::{ArrayId, ArrayOrigin, BinOp, Dim, FloatTy, Func, Hint, Op, Ty, UnOp, ValueId};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};

/// Operator precedence, loosest first, for parenthesising inline expressions.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(super) enum Prec {
    Or,
    And,
    Compare,
    Sum,
    Product,
    Cast,
    Prefix,
    Atom,
}

impl<'a> Emitter<'a> {
    pub(super) fn lit_tokens(&self, x: f64, ty: FloatTy, suffixed: bool) -> (TokenStream, Prec) {
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
    pub(super) fn expr(&self, v: ValueId, suffixed: bool) -> (TokenStream, Prec) {
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

    pub(super) fn operand(&self, v: ValueId, min: Prec, suffixed: bool) -> TokenStream {
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

    /// The right-hand side of `v`'s binding (or its inline form).
    pub(super) fn body(&self, v: ValueId, suffixed: bool) -> (TokenStream, Prec) {
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
                // A copy of a call's array (`let mut h = f(..);`) has the result's length; the
                // result is in scope in the backward block too (popped from its stack).
                _ if self.copy_source(*a).is_some() => {
                    let base = self.array_name(self.copy_source(*a).unwrap_or(*a));
                    (quote_spanned!(span=> #base.len()), Prec::Atom)
                }
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
