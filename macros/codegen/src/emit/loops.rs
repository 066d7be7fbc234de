//! Printing loops: a `for` over its range (reversed for a backward sweep) or a counted `loop` for a
//! `while`, with its carried variables declared before it and updated at the end of each iteration,
//! and a fused loop's reverse in the same iteration.

use super::expr::Prec;
use super::{Emitter, Statement};
use crate::ir::LoopId;
use proc_macro2::{Ident, TokenStream};
use quote::{quote, ToTokens};

impl<'a> Emitter<'a> {
    /// A loop's live carried variables.
    fn live_carried(&self, id: LoopId) -> Vec<crate::ir::Carried> {
        let node = self.f.loop_node(id);
        node.carried.iter().filter(|c| self.live[c.inner.index()] || self.live[c.out.index()]).copied().collect()
    }

    /// The `let mut` declarations of a loop's live carried variables (before the loop: one variable
    /// holds the carried value and, after the loop, its final value).
    fn carried_decls(&self, id: LoopId, decls: &mut TokenStream, binds: &mut Vec<(Ident, bool)>) -> Option<()> {
        for c in self.live_carried(id) {
            let name = self.name(c.out).or(self.name(c.inner))?.clone();
            let init = self.expr(c.init, true).0;
            decls.extend(quote!(let mut #name = #init;));
            self.bind(c.out);
            binds.push((name, false));
        }
        Some(())
    }

    /// The assignments that carry the next values into the next iteration (all next values are
    /// computed before any is assigned), printed inside the loop body.
    fn carried_updates(&self, id: LoopId, names: &mut Vec<TokenStream>, nexts: &mut Vec<TokenStream>) {
        for c in self.live_carried(id).iter().filter(|c| c.next != c.inner) {
            names.push(self.name(c.inner).to_token_stream());
            nexts.push(self.expr(c.next, true).0);
        }
    }

    /// `let mut c = init; for i in lo..hi { body; c = next; }`; a fused loop's reverse runs in the
    /// same iteration, after the forward body.
    pub(super) fn loop_statement(&self, id: LoopId) -> Option<Statement> {
        if !self.live_loops[id.index()] {
            return None;
        }
        let node = self.f.loop_node(id);
        let fused = self.fused.get(&id).copied();
        let loops: Vec<LoopId> = std::iter::once(id).chain(fused).collect();
        let (mut decls, mut binds) = (TokenStream::new(), Vec::new());
        // A `while` loop counts its iterations: the backward loop runs that many.
        let trips = node.trips.filter(|_| node.exit.is_some());
        if let Some(t) = trips {
            let name = self.name(t)?.clone();
            decls.extend(quote!(let mut #name = 0usize;));
            self.bind(t);
            binds.push((name, false));
        }
        for &l in &loops {
            self.carried_decls(l, &mut decls, &mut binds)?;
        }
        let lo = self.operand(node.lo, Prec::Or, false);
        let hi = self.operand(node.hi, Prec::Or, false);
        // Carried end-of-iteration values (`Plan::derived`): before the backward loop, the forward
        // loop's final value ...
        let mirror = self.f.block(node.body).mirror.filter(|_| self.f.block(node.body).backward);
        for d in self.derived.iter().filter(|d| Some(d.body) == mirror) {
            let (shadow, out) = (&d.shadow, self.expr(d.out, true).0);
            decls.extend(quote!(let mut #shadow = #out;));
        }
        self.open_scope();
        self.bind(node.var);
        for &l in &loops {
            for c in self.live_carried(l) {
                self.bind(c.inner);
            }
        }
        let mut body = TokenStream::new();
        for &l in &loops {
            body.extend(self.block(self.f.loop_node(l).body));
        }
        // ... and after each backward iteration, that iteration's start value.
        for d in self.derived.iter().filter(|d| Some(d.body) == mirror) {
            let (shadow, inner) = (&d.shadow, self.name(d.inner));
            self.use_value(d.inner);
            body.extend(quote!(#shadow = #inner;));
        }
        let (mut names, mut nexts) = (Vec::new(), Vec::new());
        for &l in &loops {
            self.carried_updates(l, &mut names, &mut nexts);
        }
        self.close_scope();
        let update = match names.len() {
            0 => TokenStream::new(),
            1 => {
                let (n, e) = (&names[0], &nexts[0]);
                quote!(#n = #e;)
            }
            _ => quote!((#(#names),*) = (#(#nexts),*);),
        };
        if let Some(t) = trips {
            let name = self.name(t);
            let limit = match self.max_iterations {
                Some(n) => {
                    let n = proc_macro2::Literal::u64_unsuffixed(n);
                    let message = format!(
                        "a `while` loop in `#[backprop]` function ran more than {n} iterations (`max_iterations = {n}`)"
                    );
                    quote!(if #name >= #n { ::core::panic!(#message); })
                }
                None => TokenStream::new(),
            };
            return Some(Statement::new(quote!(#decls loop { #body #update #limit #name += 1; }), binds));
        }
        let var = match self.name(node.var) {
            Some(name) if self.live[node.var.index()] => name.to_token_stream(),
            _ => quote!(_),
        };
        let rev = node.rev != self.forward_order.contains(&id);
        let range = match (node.inclusive, rev) {
            (false, false) => quote!(#lo..#hi),
            (true, false) => quote!(#lo..=#hi),
            (false, true) => quote!((#lo..#hi).rev()),
            (true, true) => quote!((#lo..=#hi).rev()),
        };
        Some(Statement::new(quote!(#decls for #var in #range { #body #update }), binds))
    }
}
