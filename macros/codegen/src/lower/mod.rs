//! Lowering: a parsed `syn::ItemFn` becomes an IR `Function`. Variables become single-assignment
//! values (reassignment and shadowing make new values), `if`/`else` becomes a structured `if` whose
//! merged variables are outputs. Unsupported constructs are reported into the `Ctxt` with their spans,
//! and lowering goes on with a placeholder value so that every error of the function is found.

use crate::attr::Options;
use crate::ctxt::Ctxt;
use crate::ir::{
    self, Activation, Array, ArrayId, ArrayOrigin, BinOp, BlockId, Dim, FloatTy, Func, Function, Hint, Op, Ty, UnOp,
    ValueId, ROOT,
};
use crate::simplify::{build, Sweep};
use proc_macro2::Span;
use proc_macro2::TokenStream as TokenStream2;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, Pat, ReturnType, Stmt, Type};

mod arrays;
mod calls;
mod exits;
mod fields;
mod iterators;
mod loops;
mod nested_calls;
mod returns;
mod syntax;
mod tuples;

/// What the rest of the pipeline needs from the source besides the IR.
pub struct Lowered {
    pub function: Function,
    /// Items written inside the body (`const`, `use`), re-emitted in the gradient function.
    pub items: Vec<syn::Item>,
}

pub const SUPPORTED: &str = "supported: float arguments and literals, arrays of floats and their elements, \
`+ - * /`, `let`, assignment and `+= -= *= /=`, `if`/`else`, `for i in a..b` loops, `as` casts, std float \
methods (`powi`, `exp`, `ln`, `sqrt`, `max`, ...) and the runtime's activations (`sigmoid`, `relu`, ...)";

const INT_TYPES: &[&str] = &["i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize"];

/// Classifies a type written in a signature or a cast.
fn scalar_type(ty: &Type) -> Option<Ty> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() || p.path.segments.len() != 1 {
        return None;
    }
    let name = p.path.segments[0].ident.to_string();
    if let Some(f) = FloatTy::from_name(&name) {
        Some(Ty::Float(f))
    } else if INT_TYPES.contains(&name.as_str()) {
        Some(Ty::Int)
    } else if name == "bool" {
        Some(Ty::Bool)
    } else {
        None
    }
}

/// An array argument's element type, dimensions (outermost first) and whether it is a reference:
/// `[f64; N]`, `&[f64; N]`, `&[[f64; N]; M]`, `&[f64]`, `&Vec<f64>`, `&[[f32; 3]]`, and the same
/// shapes of integers (`&[[usize; 2]]`, `&[u8]`, `&Vec<i32>`), which carry a data set's structure
/// (which camera sees which point, a skeleton's parents, labels) and are read as indices.
fn array_type(ty: &Type) -> Option<(Ty, Vec<Dim>, bool)> {
    let (inner, by_ref) = match ty {
        Type::Reference(r) if r.mutability.is_none() => (&*r.elem, true),
        other => (other, false),
    };
    let mut dims = Vec::new();
    let mut cur = inner;
    loop {
        match cur {
            Type::Array(a) => {
                dims.push(Dim::Const(a.len.to_token_stream()));
                cur = &a.elem;
            }
            // Slices and `Vec`s only behind a reference, and only as the outermost dimension.
            Type::Slice(sl) if by_ref && dims.is_empty() => {
                dims.push(Dim::Dynamic);
                cur = &sl.elem;
            }
            Type::Path(p)
                if by_ref && dims.is_empty() && p.path.segments.len() == 1 && p.path.segments[0].ident == "Vec" =>
            {
                let syn::PathArguments::AngleBracketed(args) = &p.path.segments[0].arguments else { return None };
                let Some(syn::GenericArgument::Type(elem)) = args.args.first() else { return None };
                dims.push(Dim::Dynamic);
                cur = elem;
            }
            other => {
                return match (scalar_type(other), dims.is_empty()) {
                    (Some(t @ (Ty::Float(_) | Ty::Int)), false) => Some((t, dims, by_ref)),
                    _ => None,
                };
            }
        }
    }
}

/// The owned type of a parameter struct taken by reference: `&Net<H>` gives `Net<H>`. Any path
/// type that is not a float, an integer, `bool` or `Vec` (those are scalars and arrays).
fn struct_type(ty: &Type) -> Option<TokenStream2> {
    let Type::Reference(r) = ty else { return None };
    if r.mutability.is_some() {
        return None;
    }
    let Type::Path(p) = &*r.elem else { return None };
    if p.qself.is_some() || scalar_type(&r.elem).is_some() {
        return None;
    }
    let last = p.path.segments.last()?;
    if last.ident == "Vec" || last.ident == "str" || last.ident == "String" {
        return None;
    }
    Some(r.elem.to_token_stream())
}

/// How the pullback convention (`docs/CALLS.md`) treats a parameter of this type.
pub enum ParamClass {
    /// A float: its adjoint is returned.
    Float(FloatTy),
    /// An array of floats or a parameter struct: a sink `Option<&mut T>` of this `T`.
    Sink(TokenStream2),
    /// Anything else (integers, bools, integer arrays, enums): no adjoint.
    Passive,
}

/// The `U` of a sink `Option<&mut U>` for a parameter of this type: the type without its
/// reference, and a slice for `&Vec<F>` (so any caller's adjoint buffer fits: a `Vec`, a slice of
/// one, or the caller's own `&mut [F]`).
pub fn sink_target(ty: &Type) -> TokenStream2 {
    let Type::Reference(r) = ty else { return ty.to_token_stream() };
    if let Type::Path(p) = &*r.elem {
        if let Some(last) = p.path.segments.last().filter(|s| s.ident == "Vec") {
            if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
                if let Some(syn::GenericArgument::Type(elem)) = args.args.first() {
                    return quote::quote!([#elem]);
                }
            }
        }
    }
    r.elem.to_token_stream()
}

pub fn classify_param(ty: &Type) -> ParamClass {
    if let Some(Ty::Float(f)) = scalar_type(ty) {
        return ParamClass::Float(f);
    }
    let target = sink_target;
    if let Some((elem, _, _)) = array_type(ty) {
        return if elem.float().is_some() { ParamClass::Sink(target(ty)) } else { ParamClass::Passive };
    }
    if struct_type(ty).is_some() {
        return ParamClass::Sink(target(ty));
    }
    ParamClass::Passive
}

/// A function's result as the convention passes it: `(true, f)` for a float, `(false, f)` for a
/// fixed-size array of floats (passed by reference).
pub fn result_class(ty: &Type) -> Option<(bool, FloatTy)> {
    match scalar_type(ty) {
        Some(Ty::Float(f)) => Some((true, f)),
        _ => returned_array(ty).map(|f| (false, f)),
    }
}

/// The element type of a fixed-size float array returned by value (`[f64; O]`, `[[f32; 3]; 2]`):
/// a function other `#[backprop]` functions call, a layer.
fn returned_array(ty: &Type) -> Option<FloatTy> {
    match array_type(ty) {
        Some((Ty::Float(f), dims, false)) if dims.iter().all(|d| matches!(d, Dim::Const(_))) => Some(f),
        _ => None,
    }
}

/// The float type of the function's result, or an error on the return type.
fn return_float(cx: &Ctxt, func: &syn::ItemFn) -> FloatTy {
    match &func.sig.output {
        ReturnType::Default => {
            cx.error_spanned_by(
                &func.sig.ident,
                "a `#[backprop]` function must return the cost as `f64` or `f32`; add `-> f64`",
            );
            FloatTy::F64
        }
        ReturnType::Type(_, ty) => match (scalar_type(ty), returned_array(ty)) {
            (Some(Ty::Float(f)), _) => f,
            (_, Some(f)) => f,
            _ => {
                cx.error_spanned_by(
                    ty,
                    "a `#[backprop]` function must return the cost as `f64` or `f32` (or, to be called from other `#[backprop]` functions, a fixed-size array of floats `[f64; N]`); return a scalar float",
                );
                FloatTy::F64
            }
        },
    }
}

pub fn lower(cx: &Ctxt, func: &syn::ItemFn, options: &Options) -> Lowered {
    let float = return_float(cx, func);
    let mut lower = Lower {
        cx,
        f: Function::new(float),
        scopes: vec![Vec::new()],
        block: ROOT,
        items: Vec::new(),
        loop_depth: 0,
        poisoned: Default::default(),
        tuples: Vec::new(),
        pushed: Default::default(),
        loops_with_exits: 0,
        missing_return: !matches!(&func.sig.output, ReturnType::Type(_, ty) if matches!(scalar_type(ty), Some(Ty::Float(_))) || returned_array(ty).is_some()),
        fn_name: func.sig.ident.to_string(),
        arrayish: calls::array_names(&func.block),
    };
    lower.signature(func, options);
    lower.scopes.push(Vec::new());
    // With a return type that is not a float (already reported), the body's value says nothing.
    let want_value = !lower.missing_return;
    // Early returns become assignments to a result variable on every path (`returns.rs`).
    // Reassigned tuples become one variable per component (`tuples.rs`).
    let split = tuples::rewrite(&func.block.stmts);
    let base = split.as_deref().unwrap_or(&func.block.stmts);
    let rewritten = match (&func.sig.output, want_value && returns::has_return(&func.block)) {
        (ReturnType::Type(_, ty), true) => Some(returns::rewrite_function(base, ty)),
        _ => None,
    };
    let stmts = rewritten.as_deref().unwrap_or(base);
    if let ReturnType::Type(_, ty) = &func.sig.output {
        if returned_array(ty).is_some() {
            lower.array_body(func, stmts, ty);
            return Lowered { function: lower.f, items: lower.items };
        }
    }
    let output = lower.block_body(stmts, want_value, func.block.brace_token.span.close());
    if let Some(out) = output {
        let name = func.sig.ident.to_string();
        lower.f.suggest_name(out, Hint::Output(name));
        lower.f.output = Some(out);
    }
    Lowered { function: lower.f, items: lower.items }
}

/// What a name in scope stands for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Binding {
    Value(ValueId),
    Array(ArrayId),
    /// A tuple of values (`let t = (a, b);`), index into `Lower::tuples`. Tuples are immutable:
    /// destructured (`let (a, b) = t;`) or read by field (`t.0`).
    Tuple(u32),
    /// A parameter struct argument (`net: &Net`), by its index in `Function::params`; its fields
    /// are read as places (`fields.rs`).
    Struct(u32),
}

struct Lower<'a> {
    cx: &'a Ctxt,
    f: Function,
    /// Variables in scope, innermost scope last. Vectors keep declaration order, so merged `if`
    /// outputs come out in a stable order.
    scopes: Vec<Vec<(String, Binding)>>,
    block: BlockId,
    items: Vec<syn::Item>,
    /// How many loops enclose the code being lowered.
    loop_depth: usize,
    /// Names bound to something that already had an error: their uses report nothing more.
    poisoned: std::collections::HashSet<String>,
    /// The parts of each tuple binding.
    tuples: Vec<Vec<ValueId>>,
    /// How many loops with `break`/`continue` were rewritten so far (each gets its own flags).
    loops_with_exits: usize,
    /// Buffers made with `Vec::with_capacity(n)`: the name of the variable counting their `push`es.
    pushed: std::collections::HashMap<ArrayId, String>,
    /// The return type is missing (already reported): a missing final expression is no news.
    missing_return: bool,
    /// The function's name (a call of it is recursion).
    fn_name: String,
    /// Names used as arrays somewhere in the body (`calls::array_names`).
    arrayish: std::collections::HashSet<String>,
}

impl Lower<'_> {
    fn signature(&mut self, func: &syn::ItemFn, options: &Options) {
        let sig = &func.sig;
        if let Some(a) = &sig.asyncness {
            self.cx.error_spanned_by(a, "`async fn` is not supported by `#[backprop]`; the cost must be a plain `fn`");
        }
        for param in &sig.generics.params {
            if let syn::GenericParam::Const(c) = param {
                self.f.const_generics.push(c.ident.to_string());
            }
            if !matches!(param, syn::GenericParam::Const(_)) {
                self.cx.error_spanned_by(
                    param,
                    "only const generic parameters (`<const N: usize>`) are supported by `#[backprop]`; write the function for `f64` or `f32`",
                );
            }
        }
        if let Some(v) = &sig.variadic {
            self.cx.error_spanned_by(v, "variadic arguments are not supported by `#[backprop]`");
        }
        for (index, input) in sig.inputs.iter().enumerate() {
            let typed = match input {
                syn::FnArg::Receiver(r) => {
                    match (&options.self_ty, &r.reference, &r.mutability) {
                        (Some(self_ty), Some(_), None) => {
                            let name = syn::Ident::new("self", r.self_token.span);
                            self.struct_param(index, name, quote::quote!(&#self_ty), self_ty.clone(), options);
                        }
                        (Some(_), _, _) => {
                            self.poisoned.insert("self".to_string());
                            self.cx.error_spanned_by(r, "a `#[backprop]` method reads its parameters through `&self`; `&mut self` and `self` by value are not supported");
                        }
                        (None, _, _) => {
                            self.poisoned.insert("self".to_string());
                            self.cx.error_spanned_by(
                                r,
                                "a `#[backprop]` method needs `#[backprop]` on its `impl` block too, where its gradient struct can be written: `#[backprop] impl Net { #[backprop] fn loss(&self, ..) -> f64 { .. } }`",
                            );
                        }
                    }
                    continue;
                }
                syn::FnArg::Typed(t) => t,
            };
            let name = match &*typed.pat {
                Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
                other => {
                    self.cx.error_spanned_by(
                        other,
                        "argument patterns are not supported by `#[backprop]`; name the argument, e.g. `x: f64`",
                    );
                    continue;
                }
            };
            let mutable = matches!(&*typed.pat, Pat::Ident(p) if p.mutability.is_some());
            if let Some((elem, dims, by_ref)) = array_type(&typed.ty) {
                let array = self.f.add_array(Array {
                    name: name.clone(),
                    elem,
                    dims,
                    origin: ArrayOrigin::Param { index: index as u32, by_ref },
                    mutable,
                });
                // Integer arrays are data (indices, labels): never differentiated.
                let wrt = match &options.wrt {
                    None => elem.float().is_some(),
                    Some(list) => list.contains(&name) && elem.float().is_some(),
                };
                let value = self.f.add(Op::Param(index as u32), Ty::Unit, ROOT, name.span());
                self.f.params.push(ir::Param {
                    array: Some(array),
                    name: name.clone(),
                    ty: elem,
                    ty_tokens: typed.ty.to_token_stream(),
                    wrt,
                    value,
                    strukt: None,
                });
                self.scopes[0].push((name.to_string(), Binding::Array(array)));
                continue;
            }
            if let Some(owned) = struct_type(&typed.ty) {
                self.struct_param(index, name, typed.ty.to_token_stream(), owned, options);
                continue;
            }
            let Some(ty) = scalar_type(&typed.ty) else {
                self.poison_name(&name);
                self.cx.error_spanned_by(
                    &typed.ty,
                    format!(
                        "argument `{name}` has a type `#[backprop]` does not support; arguments may be `f64`, `f32`, integers, `bool`, arrays of floats or integers (`[f64; N]`, `&[f64; N]`, `&[[f64; N]; M]`, `&[f64]`, `&Vec<f64>`, `&[usize]`, `&[[u32; 2]]`), or a `#[derive(Params)]` struct by reference (`net: &Net`)"
                    ),
                );
                continue;
            };
            let wrt = match &options.wrt {
                None => ty.float().is_some(),
                Some(list) => list.contains(&name),
            };
            let value = self.f.add(Op::Param(index as u32), ty, ROOT, name.span());
            self.f.params.push(ir::Param {
                array: None,
                name: name.clone(),
                ty,
                ty_tokens: typed.ty.to_token_stream(),
                wrt,
                value,
                strukt: None,
            });
            self.scopes[0].push((name.to_string(), Binding::Value(value)));
        }
        if let Some(list) = &options.wrt {
            for w in list {
                match self.f.params.iter().find(|p| p.name == *w) {
                    None => {
                        let names: Vec<String> =
                            self.f.params.iter().filter(|p| p.ty.float().is_some()).map(|p| format!("`{}`", p.name)).collect();
                        self.cx.error_spanned_by(
                            w,
                            format!(
                                "`wrt` names `{w}`, which is not an argument of `{}`; its float arguments are {}",
                                sig.ident,
                                names.join(", ")
                            ),
                        )
                    }
                    Some(p) if p.ty.float().is_none() && p.strukt.is_none() => self.cx.error_spanned_by(
                        w,
                        format!("`wrt` names `{w}`, which is not a float argument; only `f64` and `f32` arguments, arrays of them and parameter structs can be differentiated"),
                    ),
                    Some(_) => {}
                }
            }
        }
    }

    /// Binds `name` to a placeholder whose uses report nothing more (its error is already out).
    fn poison_name(&mut self, name: &syn::Ident) {
        self.poisoned.insert(name.to_string());
        let poison = self.poison();
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.to_string(), Binding::Value(poison)));
        }
    }

    /// Whether `e` (`n.b`, `self.w[0]`) reads through a name whose error is already out.
    fn poisoned_root(&self, e: &Expr) -> bool {
        let mut cur = e;
        loop {
            match cur {
                Expr::Field(f) => cur = &f.base,
                Expr::Index(i) => cur = &i.expr,
                Expr::Paren(p) => cur = &p.expr,
                Expr::Path(p) => {
                    let Some(ident) = p.path.get_ident() else { return false };
                    let name = ident.to_string();
                    return self.poisoned.contains(&name)
                        && self
                            .lookup(&name)
                            .is_none_or(|(si, vi)| matches!(self.scopes[si][vi].1, Binding::Value(_)));
                }
                _ => return false,
            }
        }
    }

    fn lookup(&self, name: &str) -> Option<(usize, usize)> {
        for (si, scope) in self.scopes.iter().enumerate().rev() {
            if let Some(vi) = scope.iter().rposition(|(n, _)| n == name) {
                return Some((si, vi));
            }
        }
        None
    }

    fn poison(&mut self) -> ValueId {
        self.f.lit(0.0, self.f.float)
    }

    fn add(&mut self, op: Op, ty: Ty, span: Span) -> ValueId {
        build(&mut self.f, op, ty, self.block, span, Sweep::Forward)
    }

    /// Lowers statements of a block; returns the tail expression's value when `want_value`.
    fn block_body(&mut self, stmts: &[Stmt], want_value: bool, end: Span) -> Option<ValueId> {
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
    fn stmt(&mut self, stmt: &Stmt, tail: bool) -> Option<ValueId> {
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

    fn local(&mut self, local: &syn::Local) {
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
        if returns_array {
            if let Some(call) = self.user_call(&init.expr) {
                self.invoke_array(&name, call);
                return;
            }
        }
        let errors_before = self.cx.error_count();
        let mut value = self.expr(&init.expr);
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

    fn expr(&mut self, e: &Expr) -> ValueId {
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
    fn tuple_field(&mut self, field: &syn::ExprField) -> ValueId {
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

    /// `match` on an integer or a `bool`, lowered as the `if`/`else if` chain it means: each arm's
    /// patterns (literals, `a..=b` and `a..b` ranges, `|`, `_`, a name binding the value) become a
    /// condition, an arm's guard is `&&`-ed on, and the derivative follows the arm taken.
    fn match_expr(&mut self, m: &syn::ExprMatch, want_value: bool) -> Option<ValueId> {
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

    fn binary_value(&mut self, op: BinOp, l: ValueId, r: ValueId, span: Span) -> ValueId {
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

    fn path(&mut self, p: &syn::ExprPath) -> ValueId {
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

    fn method_call(&mut self, m: &syn::ExprMethodCall) -> ValueId {
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
    fn path_float(p: &syn::ExprPath) -> Option<FloatTy> {
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

    fn call(&mut self, c: &syn::ExprCall) -> ValueId {
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

    /// Lowers an `if`. With `want_value`, both branches must give a value and the `if`'s value is
    /// returned. Variables that either branch reassigns become outputs of the `if`.
    fn if_expr(&mut self, ifx: &syn::ExprIf, want_value: bool) -> Option<ValueId> {
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
}

/// The name a `match` gives its scrutinee while its arms' conditions are lowered.
const SCRUTINEE: &str = "__backprop_match_scrutinee";

/// `Vec::with_capacity` (or `std::vec::Vec::with_capacity`).
fn is_with_capacity(e: &Expr) -> bool {
    let Expr::Path(p) = e else { return false };
    let names: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
    names.ends_with(&["Vec".to_string(), "with_capacity".to_string()])
}

fn merge_ty(a: Ty, b: Ty) -> Ty {
    match (a, b) {
        (Ty::Float(f), _) | (_, Ty::Float(f)) => Ty::Float(f),
        (a, _) => a,
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

fn compound_op(op: &syn::BinOp) -> Option<BinOp> {
    use syn::BinOp as S;
    Some(match op {
        S::AddAssign(_) => BinOp::Add,
        S::SubAssign(_) => BinOp::Sub,
        S::MulAssign(_) => BinOp::Mul,
        S::DivAssign(_) => BinOp::Div,
        _ => return None,
    })
}

fn unknown_method_message(name: &str) -> String {
    let list: Vec<&str> = ir::METHODS.iter().map(|(n, _, _)| *n).collect();
    format!("method `{name}` is not supported by `#[backprop]`; supported float methods: {}", list.join(", "))
}

/// The message for an expression `#[backprop]` does not accept, saying what to do instead.
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
