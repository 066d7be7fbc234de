//! Reassigned tuples (`acc = (acc.0 * re - acc.1 * im + c, acc.0 * im + acc.1 * re);`, complex
//! Horner) as a syntax-level rewrite: a tuple variable that is reassigned becomes one hidden
//! variable per component, which the lowering already carries through loops and merges at
//! `if`s like any scalar. `t.k` reads component `k`; a bare `t` (as in `let (a, b) = t;`) is the
//! tuple of the components; `t = (x, y);` evaluates every component before assigning any, as
//! Rust does. Only a name bound once in the function is rewritten (no shadowing to track);
//! tuples that are never reassigned stay as `lower/locals.rs` binds them.

use super::syntax::ident;
use std::collections::{HashMap, HashSet};
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, Pat, Stmt};

/// The statements with reassigned tuples split into components; `None` when there are none.
pub fn rewrite(stmts: &[Stmt]) -> Option<Vec<Stmt>> {
    let block = syn::Block { brace_token: Default::default(), stmts: stmts.to_vec() };
    let mut find = Find::default();
    find.visit_block(&block);
    let names: HashMap<String, usize> = find
        .tuple_lets
        .into_iter()
        .filter(|(n, _)| find.reassigned.contains(n) && find.bindings.get(n) == Some(&1))
        .collect();
    if names.is_empty() {
        return None;
    }
    let mut block = block;
    Split { names }.visit_block_mut(&mut block);
    Some(block.stmts)
}

fn component(name: &str, k: usize) -> syn::Ident {
    ident(&format!("{}{name}_{k}", crate::plan::HIDDEN))
}

#[derive(Default)]
struct Find {
    /// `let [mut] t = (a, b);`: the name and its arity.
    tuple_lets: HashMap<String, usize>,
    /// `t = (..);`
    reassigned: HashSet<String>,
    /// How many times each name is bound by any pattern.
    bindings: HashMap<String, usize>,
}

impl<'ast> Visit<'ast> for Find {
    fn visit_local(&mut self, l: &'ast syn::Local) {
        let pat = match &l.pat {
            Pat::Type(t) => &*t.pat,
            p => p,
        };
        if let (Pat::Ident(p), Some(init)) = (pat, &l.init) {
            if let Expr::Tuple(t) = &*init.expr {
                self.tuple_lets.insert(p.ident.to_string(), t.elems.len());
            }
        }
        syn::visit::visit_local(self, l);
    }
    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        *self.bindings.entry(p.ident.to_string()).or_default() += 1;
        syn::visit::visit_pat_ident(self, p);
    }
    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        if let (Expr::Path(p), Expr::Tuple(_)) = (&*a.left, &*a.right) {
            if let Some(i) = p.path.get_ident() {
                self.reassigned.insert(i.to_string());
            }
        }
        syn::visit::visit_expr_assign(self, a);
    }
}

struct Split {
    names: HashMap<String, usize>,
}

impl Split {
    fn tuple_name(&self, e: &Expr) -> Option<(String, usize)> {
        let Expr::Path(p) = e else { return None };
        let name = p.path.get_ident()?.to_string();
        let arity = *self.names.get(&name)?;
        Some((name, arity))
    }

    /// The statements one statement becomes (itself, rewritten inside, when it is neither a
    /// tuple `let` nor a tuple assignment).
    fn split(&mut self, stmt: Stmt) -> Vec<Stmt> {
        match &stmt {
            Stmt::Local(l) => {
                let pat = match &l.pat {
                    Pat::Type(t) => &*t.pat,
                    p => p,
                };
                if let (Pat::Ident(p), Some(init)) = (pat, &l.init) {
                    if let (true, Expr::Tuple(t)) = (self.names.contains_key(&p.ident.to_string()), &*init.expr) {
                        let name = p.ident.to_string();
                        return t
                            .elems
                            .iter()
                            .enumerate()
                            .map(|(k, e)| {
                                let mut e = e.clone();
                                self.visit_expr_mut(&mut e);
                                let c = component(&name, k);
                                syn::parse_quote!(let mut #c = #e;)
                            })
                            .collect();
                    }
                }
            }
            Stmt::Expr(Expr::Assign(a), _) => {
                if let (Some((name, _)), Expr::Tuple(t)) = (self.tuple_name(&a.left), &*a.right) {
                    // Every component first, then the assignments: `(a, b) = (b, a)` swaps.
                    let mut out: Vec<Stmt> = Vec::new();
                    let mut assigns: Vec<Stmt> = Vec::new();
                    for (k, e) in t.elems.iter().enumerate() {
                        let mut e = e.clone();
                        self.visit_expr_mut(&mut e);
                        let (c, next) =
                            (component(&name, k), ident(&format!("{}{name}_next_{k}", crate::plan::HIDDEN)));
                        out.push(syn::parse_quote!(let #next = #e;));
                        assigns.push(syn::parse_quote!(#c = #next;));
                    }
                    out.extend(assigns);
                    return out;
                }
            }
            _ => {}
        }
        let mut stmt = stmt;
        self.visit_stmt_mut(&mut stmt);
        vec![stmt]
    }
}

impl VisitMut for Split {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        let stmts = std::mem::take(&mut b.stmts);
        b.stmts = stmts.into_iter().flat_map(|s| self.split(s)).collect();
    }
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Field(f) = e {
            if let (Some((name, _)), syn::Member::Unnamed(index)) = (self.tuple_name(&f.base), &f.member) {
                let c = component(&name, index.index as usize);
                *e = syn::parse_quote!(#c);
                return;
            }
        }
        if let Some((name, arity)) = self.tuple_name(e) {
            let parts = (0..arity).map(|k| component(&name, k));
            *e = syn::parse_quote!((#(#parts),*));
            return;
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}
