//! `break`, `continue` and `loop`, rewritten at the syntax level into the loops the macro already
//! reverses, with two flags:
//!
//! ```text
//! loop { A; if c { B; break; } C }      let mut done = false;
//!                                        while !done { A; if c { B; done = true; } else { C } }
//! for i in r { A; if c { continue; } C } for i in r { let mut skip = false; A; if c { skip = true; }
//!                                                      if !skip { C } }
//! for i in r { A; if c { break; } C }   let mut done = false; for i in r { if !done { .. } }
//! ```
//!
//! Statements after one that may exit run under `if !done && !skip { .. }`, so the derivative
//! follows the iterations and statements that ran. A `while` with a `break` tests `!done` first, so
//! its condition is not evaluated after the break, as in Rust. A `for` loop with a `break` runs its
//! remaining iterations doing nothing (no value changes, so nothing is taped for them beyond the
//! flag). Breaks of nested loops belong to those loops; labels and `break value` are rejected.

use super::syntax::{ident, map_if_blocks};
use syn::visit::Visit;
use syn::{parse_quote, Expr, Stmt};

pub const DONE: &str = "__backprop_done";
pub const SKIP: &str = "__backprop_skip";

/// The flags of one loop. Each loop gets its own (`done_3`, `skip_3`): a nested loop's flags must
/// not shadow its enclosing loop's, or the outer `break` would set the inner flag.
#[derive(Clone)]
pub struct Flags {
    pub done: syn::Ident,
    pub skip: syn::Ident,
}

impl Flags {
    pub fn numbered(k: usize) -> Flags {
        Flags { done: ident(&format!("{DONE}_{k}")), skip: ident(&format!("{SKIP}_{k}")) }
    }
}

/// What a statement list may do to its loop.
#[derive(Default, Clone, Copy)]
pub struct Exits {
    pub breaks: bool,
    pub continues: bool,
    /// Where the first exit is, for the error when one cannot be rewritten (inside an expression).
    pub first: Option<proc_macro2::Span>,
}

/// Finds `break`/`continue` that belong to the loop being lowered (not to nested loops), and any
/// label or `break value`, which are not supported.
#[derive(Default)]
struct Finder {
    exits: Exits,
    unsupported: Option<proc_macro2::Span>,
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_expr_break(&mut self, b: &'ast syn::ExprBreak) {
        if b.label.is_some() || b.expr.is_some() {
            self.unsupported.get_or_insert(syn::spanned::Spanned::span(b));
        }
        self.exits.breaks = true;
        self.exits.first.get_or_insert(syn::spanned::Spanned::span(b));
    }
    fn visit_expr_continue(&mut self, c: &'ast syn::ExprContinue) {
        if c.label.is_some() {
            self.unsupported.get_or_insert(syn::spanned::Spanned::span(c));
        }
        self.exits.continues = true;
        self.exits.first.get_or_insert(syn::spanned::Spanned::span(c));
    }
    // Nested loops own their exits; closures cannot exit the loop.
    fn visit_expr_for_loop(&mut self, _: &'ast syn::ExprForLoop) {}
    fn visit_expr_while(&mut self, _: &'ast syn::ExprWhile) {}
    fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {}
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
}

/// The exits of a loop body, or the span of one that is not supported.
pub fn exits(body: &syn::Block) -> Result<Exits, proc_macro2::Span> {
    let mut finder = Finder::default();
    finder.visit_block(body);
    match finder.unsupported {
        Some(span) => Err(span),
        None => Ok(finder.exits),
    }
}

fn stmt_exits(s: &Stmt) -> Exits {
    let mut finder = Finder::default();
    finder.visit_stmt(s);
    finder.exits
}

/// The body with its exits turned into flag assignments and what follows a possible exit guarded.
pub fn rewrite(stmts: &[Stmt], flags: &Flags) -> Vec<Stmt> {
    let (done, skip) = (&flags.done, &flags.skip);
    let mut out = Vec::new();
    for (k, s) in stmts.iter().enumerate() {
        match s {
            Stmt::Expr(Expr::Break(_), _) => {
                out.push(parse_quote!(#done = true;));
                return out;
            }
            Stmt::Expr(Expr::Continue(_), _) => {
                out.push(parse_quote!(#skip = true;));
                return out;
            }
            _ => {}
        }
        let e = stmt_exits(s);
        if !e.breaks && !e.continues {
            out.push(s.clone());
            continue;
        }
        out.push(rewrite_stmt(s, flags));
        let rest = rewrite(&stmts[k + 1..], flags);
        if !rest.is_empty() {
            let guard: Expr = match (e.breaks, e.continues) {
                (true, true) => parse_quote!(!#done && !#skip),
                (true, false) => parse_quote!(!#done),
                _ => parse_quote!(!#skip),
            };
            out.push(parse_quote!(if #guard { #(#rest)* }));
        }
        return out;
    }
    out
}

/// A statement that contains an exit: an `if` (branches rewritten), a `match` (arms rewritten) or a
/// block.
fn rewrite_stmt(s: &Stmt, flags: &Flags) -> Stmt {
    match s {
        Stmt::Expr(Expr::Match(m), semi) => {
            let mut m = m.clone();
            for arm in &mut m.arms {
                // An arm is a block or one expression (`1 => continue,`): as statements either way.
                let stmts: Vec<Stmt> = match &*arm.body {
                    Expr::Block(b) if b.label.is_none() => b.block.stmts.clone(),
                    other => vec![Stmt::Expr(other.clone(), Some(Default::default()))],
                };
                let stmts = rewrite(&stmts, flags);
                *arm.body = parse_quote!({ #(#stmts)* });
            }
            Stmt::Expr(Expr::Match(m), *semi)
        }
        Stmt::Expr(Expr::If(i), semi) => {
            let rewritten = map_if_blocks(i, &mut |b| b.stmts = rewrite(&b.stmts, flags));
            Stmt::Expr(Expr::If(rewritten), *semi)
        }
        Stmt::Expr(Expr::Block(b), semi) => {
            let stmts = rewrite(&b.block.stmts, flags);
            let mut b = b.clone();
            b.block.stmts = stmts;
            Stmt::Expr(Expr::Block(b), *semi)
        }
        // Anything else that hides an exit (an exit inside an expression) stays as it is; lowering
        // then reports the `break`/`continue` it meets.
        other => other.clone(),
    }
}
