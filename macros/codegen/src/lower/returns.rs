//! Early `return`, rewritten at the syntax level into the constructs the macro already reverses:
//! the result is a variable assigned on every path, and a flag guards what follows a return.
//!
//! ```text
//! fn f(..) -> f64 {                      fn f(..) -> f64 {
//!     A;                                     let mut ret: f64 = 0.0; let mut returned = false;
//!     if c { return e; }                     A;
//!     for i in r { B; if d { return g; } }   if c { ret = e; returned = true; }
//!     T                                      if !returned {
//! }                                              for i in r { if !returned { B; if d { ret = g; returned = true; } } }
//!                                                if !returned { ret = T; }
//!                                            }
//!                                            ret
//!                                        }
//! ```
//!
//! A loop that may return stops iterating once it has (`while !returned && cond`; a `for` loop's
//! remaining iterations do nothing), as a `break` does. The value is bit for bit the original's:
//! every path assigns exactly the expression it returned. A `return` inside an expression (not a
//! statement of a block, `if`, `match` arm or loop body) stays a clear error. In a function returning
//! an array `ret` is a local array: `ret = h;` becomes an element-wise copy, `ret = layer(..);` binds
//! the call's array and copies it.

use super::syntax::{ident, map_if_blocks};
use syn::visit::Visit;
use syn::{parse_quote, Expr, Stmt};

pub const RET: &str = "__backprop_ret";
pub const RETURNED: &str = "__backprop_returned";

#[derive(Default)]
struct Finder(bool);

impl<'ast> Visit<'ast> for Finder {
    fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
        self.0 = true;
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

fn has_return_stmt(s: &Stmt) -> bool {
    let mut f = Finder::default();
    f.visit_stmt(s);
    f.0
}

fn has_return_expr(e: &Expr) -> bool {
    let mut f = Finder::default();
    f.visit_expr(e);
    f.0
}

/// Why a function returning an array may not `return` early: `rewrite_array_function` knows float
/// and type-parameter elements only (other element types are reported elsewhere too).
pub const ARRAY_RETURN: &str = "a `#[backprop]` function returning an array of this element type may not `return` early; write the result into one local array on every path and end with its name (`let mut out = [0.0; N]; if c { out[0] = ..; } else { .. } out`)";

#[derive(Default)]
struct FirstReturn(Option<syn::ExprReturn>);

impl<'ast> Visit<'ast> for FirstReturn {
    fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
        if self.0.is_none() {
            self.0 = Some(r.clone());
        }
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// The first early `return` left in the statements (to point an error at it).
pub fn first_return(stmts: &[Stmt]) -> Option<syn::ExprReturn> {
    let mut f = FirstReturn::default();
    for s in stmts {
        f.visit_stmt(s);
    }
    f.0
}

/// Whether the function body returns early anywhere.
pub fn has_return(body: &syn::Block) -> bool {
    let mut f = Finder::default();
    f.visit_block(body);
    f.0
}

/// The function body without early returns: declarations, the rewritten statements, and `ret`.
pub fn rewrite_function(stmts: &[Stmt], ty: &syn::Type) -> Vec<Stmt> {
    let ret = ident(RET);
    rewrite_with(stmts, parse_quote!(let mut #ret: #ty = 0.0;))
}

/// The same for a function returning an array `[E; N]` (nested `[[E; N]; M]` too): `ret` is a local
/// array (`[0.0; N]`, `[T::zero(); N]` in generic code), `ret = h;` copies element by element and
/// `ret = f(..);` binds the call's array and copies it. `None` for an element type that is not a
/// float or a type parameter.
pub fn rewrite_array_function(stmts: &[Stmt], ty: &syn::Type) -> Option<Vec<Stmt>> {
    let ret = ident(RET);
    let init = zeros(ty)?;
    let mut out = rewrite_with(stmts, parse_quote!(let mut #ret = #init;));
    let mut copy = CopyByElement { lens: lens(ty) };
    for s in &mut out {
        copy.stmt(s);
        syn::visit_mut::VisitMut::visit_stmt_mut(&mut copy, s);
    }
    Some(out)
}

/// `[0.0; N]`, `[[0.0; N]; M]`, `[T::zero(); N]` for the array type `ty`.
fn zeros(ty: &syn::Type) -> Option<Expr> {
    match ty {
        syn::Type::Array(a) => {
            let (inner, len) = (zeros(&a.elem)?, &a.len);
            Some(parse_quote!([#inner; #len]))
        }
        syn::Type::Path(p) if p.path.is_ident("f64") || p.path.is_ident("f32") => Some(parse_quote!(0.0)),
        syn::Type::Path(p) if p.path.get_ident().is_some() => Some(parse_quote!(#p::zero())),
        syn::Type::Paren(p) => zeros(&p.elem),
        _ => None,
    }
}

/// The lengths of the array type's dimensions, outermost first.
fn lens(ty: &syn::Type) -> Vec<Expr> {
    match ty {
        syn::Type::Array(a) => std::iter::once(a.len.clone()).chain(lens(&a.elem)).collect(),
        syn::Type::Paren(p) => lens(&p.elem),
        _ => Vec::new(),
    }
}

/// Turns `ret = h;` (an array by name) into loops copying every element, and `ret = f(..);` into
/// the same copy from the call's array bound first.
struct CopyByElement {
    lens: Vec<Expr>,
}

impl CopyByElement {
    fn stmt(&self, s: &mut Stmt) {
        let ret = ident(RET);
        let Stmt::Expr(Expr::Assign(a), Some(_)) = s else { return };
        if !matches!(&*a.left, Expr::Path(p) if p.path.is_ident(&ret)) {
            return;
        }
        let deref = match &*a.right {
            Expr::Unary(syn::ExprUnary { op: syn::UnOp::Deref(_), expr, .. }) => Some(&**expr),
            _ => None,
        };
        *s = match (&*a.right, deref) {
            (Expr::Path(h), _) => self.copy(h),
            // `return *x;` for an argument `x: &[f64; N]`.
            (_, Some(Expr::Path(h))) => self.copy(h),
            // A call (or anything else, which the lowering of the `let` reports on its own span).
            (value, _) => {
                let tmp = ident(&format!("{}rvalue", crate::plan::HIDDEN));
                let copy = self.copy(&parse_quote!(#tmp));
                parse_quote!({ let #tmp = #value; #copy })
            }
        };
    }

    /// `for j0 in 0..M { for j1 in 0..N { ret[j0][j1] = h[j0][j1]; } }` for `[[E; N]; M]`.
    fn copy(&self, h: &syn::ExprPath) -> Stmt {
        let ret = ident(RET);
        let js: Vec<syn::Ident> =
            (0..self.lens.len()).map(|d| ident(&format!("{}rj{d}", crate::plan::HIDDEN))).collect();
        let mut body: Stmt = parse_quote!(#ret #([#js])* = #h #([#js])*;);
        for (j, len) in js.iter().zip(&self.lens).rev() {
            body = parse_quote!(for #j in 0..#len { #body });
        }
        body
    }
}

impl syn::visit_mut::VisitMut for CopyByElement {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        for s in &mut b.stmts {
            self.stmt(s);
        }
        syn::visit_mut::visit_block_mut(self, b);
    }
    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

fn rewrite_with(stmts: &[Stmt], init: Stmt) -> Vec<Stmt> {
    let (ret, returned) = (ident(RET), ident(RETURNED));
    let mut body: Vec<Stmt> = stmts.to_vec();
    // The tail is the last return: `T` becomes `ret = T;` (through `if`/`match` tails).
    if let Some(Stmt::Expr(tail, None)) = body.last().cloned() {
        body.pop();
        body.push(assign_tail(&tail));
    }
    let mut out: Vec<Stmt> = vec![init, parse_quote!(let mut #returned = false;)];
    out.extend(rewrite(&body));
    out.push(Stmt::Expr(parse_quote!(#ret), None));
    out
}

/// `ret = e;` for a tail expression, pushed into the branches of a tail `if`, block or `match`.
fn assign_tail(e: &Expr) -> Stmt {
    let ret = ident(RET);
    match e {
        Expr::Return(r) => match &r.expr {
            Some(v) => parse_quote!(return #v;),
            None => parse_quote!(return;),
        },
        Expr::If(i) if has_return_expr(e) => Stmt::Expr(Expr::If(map_if_blocks(i, &mut assign_block)), None),
        Expr::Block(b) if has_return_expr(e) && b.label.is_none() => {
            let mut b = b.clone();
            assign_block(&mut b.block);
            Stmt::Expr(Expr::Block(b), None)
        }
        Expr::Match(m) if has_return_expr(e) => {
            let mut m = m.clone();
            for arm in &mut m.arms {
                let body = &*arm.body;
                let stmt = assign_tail(body);
                *arm.body = parse_quote!({ #stmt });
            }
            Stmt::Expr(Expr::Match(m), None)
        }
        other => parse_quote!(#ret = #other;),
    }
}

fn assign_block(b: &mut syn::Block) {
    if let Some(Stmt::Expr(tail, None)) = b.stmts.last().cloned() {
        b.stmts.pop();
        b.stmts.push(assign_tail(&tail));
    }
}

/// Statements with their returns turned into assignments and what follows a possible return
/// guarded by `!returned`.
fn rewrite(stmts: &[Stmt]) -> Vec<Stmt> {
    let (ret, returned) = (ident(RET), ident(RETURNED));
    let mut out = Vec::new();
    for (k, s) in stmts.iter().enumerate() {
        if let Stmt::Expr(Expr::Return(r), _) = s {
            if let Some(v) = &r.expr {
                out.push(parse_quote!(#ret = #v;));
            }
            out.push(parse_quote!(#returned = true;));
            return out;
        }
        if !has_return_stmt(s) {
            out.push(s.clone());
            continue;
        }
        out.push(rewrite_stmt(s));
        let rest = rewrite(&stmts[k + 1..]);
        if !rest.is_empty() {
            out.push(parse_quote!(if !#returned { #(#rest)* }));
        }
        return out;
    }
    out
}

fn rewrite_block(b: &syn::Block) -> syn::Block {
    let mut b = b.clone();
    b.stmts = rewrite(&b.stmts);
    b
}

/// A statement holding a return: an `if`, a block, a `match`, or a loop.
fn rewrite_stmt(s: &Stmt) -> Stmt {
    let returned = ident(RETURNED);
    let (e, semi) = match s {
        Stmt::Expr(e, semi) => (e, *semi),
        // A return inside a `let` initialiser stays; lowering reports it.
        other => return other.clone(),
    };
    let e: Expr = match e {
        Expr::If(i) => Expr::If(map_if_blocks(i, &mut |b| *b = rewrite_block(b))),
        Expr::Block(b) => {
            let mut b = b.clone();
            b.block = rewrite_block(&b.block);
            Expr::Block(b)
        }
        Expr::Match(m) => {
            let mut m = m.clone();
            for arm in &mut m.arms {
                let stmts: Vec<Stmt> = match &*arm.body {
                    Expr::Block(b) => b.block.stmts.clone(),
                    other => vec![Stmt::Expr(other.clone(), Some(Default::default()))],
                };
                let stmts = rewrite(&stmts);
                *arm.body = parse_quote!({ #(#stmts)* });
            }
            Expr::Match(m)
        }
        Expr::ForLoop(l) => {
            let mut l = l.clone();
            let body = rewrite(&l.body.stmts);
            l.body.stmts = vec![parse_quote!(if !#returned { #(#body)* })];
            Expr::ForLoop(l)
        }
        Expr::While(w) => {
            let mut w = w.clone();
            let cond = &w.cond;
            *w.cond = parse_quote!(!#returned && (#cond));
            w.body = rewrite_block(&w.body);
            Expr::While(w)
        }
        Expr::Loop(l) => {
            let body = rewrite_block(&l.body);
            parse_quote!(while !#returned #body)
        }
        other => other.clone(),
    };
    Stmt::Expr(e, semi)
}
