//! Float methods and functions: `x.exp()`, `f64::exp(x)`, the runtime's activations
//! (`sigmoid(x)`), and the constants generic code writes (`T::zero()`, `T::from(0.5)`). Calls of
//! differentiable functions go on to `calls.rs`, array methods to `arrays.rs`, iterator reductions
//! to `iterators.rs`.

use super::types::scalar_type;
use super::{calls, iterators, Lower, SUPPORTED};
use crate::ir::{self, Activation, FloatTy, Func, Op, Ty, ValueId, ROOT};
use proc_macro2::Span;
use proc_macro2::TokenStream as TokenStream2;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::Expr;

impl Lower<'_> {
    pub(super) fn method_call(&mut self, m: &syn::ExprMethodCall) -> ValueId {
        let name = m.method.to_string();
        if let Some(v) = self.array_method(m) {
            return v;
        }
        // `T::from(0.5).unwrap()` in generic code: the conversion is the value.
        if (name == "unwrap" || name == "expect")
            && matches!(&*m.receiver, Expr::Call(c) if matches!(&*c.func, Expr::Path(p) if Self::path_float(p).is_some()))
        {
            return self.expr(&m.receiver);
        }
        if let Some(desugared) = iterators::reduction(m) {
            return self.expr(&desugared);
        }
        if ITERATOR_METHODS.contains(&name.as_str()) {
            self.cx.error_spanned_by(
                m,
                "this iterator chain is not supported by `#[backprop]`; supported: `x.iter().sum()`, `a.iter().zip(b).map(|(x, y)| ..).sum()`, `.map(|v| ..).sum()` / `.product()`, `.fold(init, |acc, v| ..)`, `.copied().fold(f64::MIN, f64::max)`; or write a `for i in 0..x.len()` loop",
            );
            return self.poison();
        }
        // A method of a parameter struct (`self.forward(x)`, `net.l1.apply(&x)`): differentiable.
        if let Some(call) = self.user_call(&Expr::MethodCall(m.clone())) {
            return self.invoke_float(call);
        }
        let receiver = self.expr(&m.receiver);
        let args: Vec<ValueId> = m.args.iter().map(|a| self.expr(a)).collect();
        if m.turbofish.is_some() {
            self.cx.error_spanned_by(&m.turbofish, "turbofish on a method is not supported here");
            return self.poison();
        }
        let Some((func, arity)) = ir::method_by_name(&name) else {
            self.cx.error_spanned_by(&m.method, unknown_method_message(&name));
            return self.poison();
        };
        if args.len() != arity {
            self.cx.error_spanned_by(&m.method, format!("`{name}` takes {arity} argument(s), found {}", args.len()));
            return self.poison();
        }
        if !self.check_method_arguments(func, &name, &args, m) {
            return self.poison();
        }
        let mut all = vec![receiver];
        all.extend(args);
        self.call_value(func, all, m.span())
    }

    /// `powi` takes an integer, the other float methods floats: say so here instead of leaving
    /// rustc to report it twice (in the function and in its gradient).
    fn check_method_arguments<T: ToTokens>(&mut self, func: Func, name: &str, args: &[ValueId], at: T) -> bool {
        for &a in args {
            match (func, self.f.ty(a)) {
                (Func::Powi, Ty::Float(_)) => {
                    self.cx.error_spanned_by(
                        at,
                        "`powi` takes an integer exponent (`x.powi(2)`); use `powf` for a float exponent",
                    );
                    return false;
                }
                (f, Ty::Int) if f != Func::Powi => {
                    if let Op::IntLit(_) = self.f.node(a).op {
                        self.cx.error_spanned_by(
                            at,
                            format!("`{name}` takes floats; write the integer literal as a float (`1.0`)"),
                        );
                    } else {
                        self.cx
                            .error_spanned_by(at, format!("`{name}` takes floats; convert the integer with `as f64`"));
                    }
                    return false;
                }
                _ => {}
            }
        }
        true
    }

    /// The float type a path names as its type: `f64::..`, `<f64>::..`, `<f64 as Float>::..`.
    pub(super) fn path_float(p: &syn::ExprPath) -> Option<FloatTy> {
        match &p.qself {
            Some(q) => match scalar_type(&q.ty) {
                Some(Ty::Float(t)) => Some(t),
                _ => None,
            },
            None if p.path.segments.len() == 2 => FloatTy::from_name(&p.path.segments[0].ident.to_string()),
            None => None,
        }
    }

    /// Constants as generic float code writes them, once the type parameter is a concrete float
    /// (see `generic.rs`): `T::zero()`, `T::one()`, `T::of_f64(0.5)`, `T::epsilon()`, `T::PI()`,
    /// and `T::from(0.5)` / `T::from_f64(0.5)` (whose `.unwrap()` is lowered by `method_call`).
    fn float_constant(&mut self, p: &syn::ExprPath, last: &str, c: &syn::ExprCall) -> Option<ValueId> {
        let ty = Self::path_float(p)?;
        let name = |n: &str| -> TokenStream2 {
            let t = syn::Ident::new(ty.name(), Span::call_site());
            let n = syn::Ident::new(n, Span::call_site());
            quote::quote!(::core::#t::#n)
        };
        let constant = |this: &mut Self, tokens: TokenStream2| -> ValueId {
            let idx = this.f.intern_path(tokens);
            this.f.add(Op::Const(idx), Ty::Float(ty), ROOT, c.span())
        };
        let v = match (last, c.args.len()) {
            ("zero", 0) => self.f.lit(0.0, ty),
            ("one", 0) => self.f.lit(1.0, ty),
            ("epsilon", 0) => constant(self, name("EPSILON")),
            ("infinity", 0) => constant(self, name("INFINITY")),
            ("neg_infinity", 0) => constant(self, name("NEG_INFINITY")),
            ("max_value", 0) => constant(self, name("MAX")),
            ("min_value", 0) => constant(self, name("MIN")),
            ("min_positive_value", 0) => constant(self, name("MIN_POSITIVE")),
            ("PI" | "E" | "LN_2" | "LN_10" | "SQRT_2" | "FRAC_PI_2" | "TAU", 0) => {
                let t = syn::Ident::new(ty.name(), Span::call_site());
                let n = syn::Ident::new(last, Span::call_site());
                constant(self, quote::quote!(::core::#t::consts::#n))
            }
            ("of_f64" | "from" | "from_f64", 1) => {
                let v = self.expr(&c.args[0]);
                match (self.f.float_lit(v), self.f.ty(v)) {
                    (Some(x), _) => self.f.lit(x, ty),
                    (None, Ty::Float(t)) if t == ty => v,
                    _ => {
                        let idx = self.f.intern_path(syn::Ident::new(ty.name(), Span::call_site()).to_token_stream());
                        self.add(Op::Cast(idx, v), Ty::Float(ty), c.span())
                    }
                }
            }
            _ => return None,
        };
        Some(v)
    }

    fn call_value(&mut self, func: Func, args: Vec<ValueId>, span: Span) -> ValueId {
        let ty = match self.f.ty(args[0]) {
            Ty::Float(f) => Ty::Float(f),
            Ty::Int => Ty::Int,
            _ => args.iter().find_map(|a| self.f.ty(*a).float()).map(Ty::Float).unwrap_or(Ty::Unknown),
        };
        let ty = if func == Func::Powi && ty == Ty::Int { Ty::Int } else { ty };
        self.add(Op::Call(func, args), ty, span)
    }

    pub(super) fn call(&mut self, c: &syn::ExprCall) -> ValueId {
        let Expr::Path(p) = &*c.func else {
            self.cx.error_spanned_by(&c.func, format!("only calls of named functions are supported; {SUPPORTED}"));
            return self.poison();
        };
        let segments: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() == 1 && self.poisoned.contains(&segments[0]) {
            for a in &c.args {
                self.expr(a);
            }
            return self.poison();
        }
        let last = segments.last().cloned().unwrap_or_default();
        if let Some(v) = self.float_constant(p, &last, c) {
            return v;
        }
        // `f64::exp(x)` or `<f64>::exp(x)`: a std method in path form.
        let float_type_path = match &p.qself {
            Some(q) => segments.len() == 1 && matches!(scalar_type(&q.ty), Some(Ty::Float(_))),
            None => segments.len() == 2 && FloatTy::from_name(&segments[0]).is_some(),
        };
        if !float_type_path && Activation::from_name(&last).is_none() {
            if calls::is_constructor(p) {
                return self.passive_expression(&Expr::Call(c.clone()));
            }
            return match self.user_call(&Expr::Call(c.clone())) {
                Some(call) => self.invoke_float(call),
                None => self.poison(),
            };
        }
        let args: Vec<ValueId> = c.args.iter().map(|a| self.expr(a)).collect();
        if float_type_path {
            let Some((func, arity)) = ir::method_by_name(&last) else {
                self.cx.error_spanned_by(&c.func, unknown_method_message(&last));
                return self.poison();
            };
            if args.len() != arity + 1 {
                self.cx.error_spanned_by(
                    c,
                    format!("`f64::{last}` takes {} argument(s), found {}", arity + 1, args.len()),
                );
                return self.poison();
            }
            if !self.check_method_arguments(func, &last, &args[1..], c) {
                return self.poison();
            }
            return self.call_value(func, args, c.span());
        }
        if let Some(act) = Activation::from_name(&last) {
            if args.len() != act.arity() {
                let parameters = if act.arity() == 1 { "(x)" } else { "(x, alpha)" };
                self.cx.error_spanned_by(
                    c,
                    format!(
                        "`{last}` is the runtime's activation `{last}{parameters}`, called here with {} argument(s); `#[backprop]` cannot differentiate a function of your own with that name: rename it and inline its body",
                        args.len()
                    ),
                );
                return self.poison();
            }
            let path = self.f.intern_path(p.to_token_stream());
            return self.call_value(Func::Activation(act, path), args, c.span());
        }
        self.poison()
    }
}

fn unknown_method_message(name: &str) -> String {
    let list: Vec<&str> = ir::METHODS.iter().map(|(n, _, _)| *n).collect();
    format!("method `{name}` is not supported by `#[backprop]`; supported float methods: {}", list.join(", "))
}

/// Methods that build or consume iterators: one error for the whole chain.
const ITERATOR_METHODS: &[&str] = &[
    "iter",
    "into_iter",
    "iter_mut",
    "map",
    "filter",
    "zip",
    "fold",
    "product",
    "collect",
    "rev",
    "enumerate",
    "windows",
    "chunks",
    "step_by",
    "take",
    "skip",
    "for_each",
    "sum",
];
