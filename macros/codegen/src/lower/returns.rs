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
//! statement of a block, `if`, `match` arm or loop body) stays a clear error.

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

/// Why a function returning an array may not `return` early: the rewrite above assigns `ret = e`,
/// a whole-array assignment the lowering has no form for (arrays are written element by element).
pub const ARRAY_RETURN: &str = "a `#[backprop]` function returning an array may not `return` early; write the result into one local array on every path and end with its name (`let mut out = [0.0; N]; if c { out[0] = ..; } else { .. } out`)";

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

/// The first early `return` of the body (to point an error at it).
pub fn first_return(body: &syn::Block) -> Option<syn::ExprReturn> {
    let mut f = FirstReturn::default();
    f.visit_block(body);
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
    let (ret, returned) = (ident(RET), ident(RETURNED));
    let mut body: Vec<Stmt> = stmts.to_vec();
    // The tail is the last return: `T` becomes `ret = T;` (through `if`/`match` tails).
    if let Some(Stmt::Expr(tail, None)) = body.last().cloned() {
        body.pop();
        body.push(assign_tail(&tail));
    }
    let mut out: Vec<Stmt> = vec![parse_quote!(let mut #ret: #ty = 0.0;), parse_quote!(let mut #returned = false;)];
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
