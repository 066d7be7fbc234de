//! Printing blocks of statements: a block's items in order with the tape pops, pushes and `while`
//! exit around them (chunked when long), a value's statement (`let`, element store, array
//! declaration, call), and an `if` with its outputs and exported residuals.

use super::expr::Prec;
use super::{Emitter, Statement};
use crate::ir::{ArrayOrigin, BinOp, BlockId, Dim, IfId, Item, Op, Ty, ValueId};
use proc_macro2::{Ident, TokenStream};
use quote::{quote, ToTokens};

/// Blocks with more statements than this are emitted in chunks of `CHUNK_SIZE`.
const CHUNK_THRESHOLD: usize = 256;
const CHUNK_SIZE: usize = 64;

impl<'a> Emitter<'a> {
    pub fn block(&self, b: BlockId) -> TokenStream {
        let mut statements: Vec<Statement> = Vec::new();
        if b == crate::ir::ROOT {
            statements.extend(self.passive_view_statements());
        }
        // A backward loop body first pops what its forward iteration pushed.
        statements.extend(self.call_tape_pops(b));
        if let Some(mirror) = self.f.block(b).mirror.filter(|_| self.f.block(b).backward) {
            for t in self.tapes.iter().filter(|t| t.body == mirror) {
                let (name, tape) = (self.name(t.value), &t.name);
                let pop = match self.fill_count(t) {
                    Some(len) => quote!(#len -= 1; let #name = #tape[#len];),
                    None => {
                        let zero = self.placeholder(t.value);
                        quote!(let #name = #tape.pop().unwrap_or(#zero);)
                    }
                };
                self.bind(t.value);
                statements.push(Statement::new(pop, name.cloned().map(|n| (n, false)).into_iter().collect()));
            }
            // A carried end-of-iteration value: what the next backward iteration started from.
            for d in self.derived.iter().filter(|d| d.body == mirror) {
                let (name, shadow) = (self.name(d.next), &d.shadow);
                self.bind(d.next);
                statements.push(Statement::new(
                    quote!(let #name = #shadow;),
                    name.cloned().map(|n| (n, false)).into_iter().collect(),
                ));
            }
            let mut again = self.recompute.get(&mirror).cloned().unwrap_or_default();
            again.sort();
            for v in again {
                let name = self.name(v);
                let (rhs, _) = self.body(v, true);
                self.bind(v);
                statements.push(Statement::new(
                    quote!(let #name = #rhs;),
                    name.cloned().map(|n| (n, false)).into_iter().collect(),
                ));
            }
        }
        // A `while` body first computes its condition and leaves when it is false. What it pushes
        // before that point is pushed after it: the last, unfinished iteration pushes nothing, so
        // the backward loop pops exactly what its `trips` iterations pushed.
        let exit =
            self.f.block(b).loop_owner.and_then(|l| self.f.loop_node(l).exit).filter(|_| !self.f.block(b).backward);
        let mut exit_pending = exit.is_some();
        let mut deferred_pushes: Vec<Statement> = Vec::new();
        let exit_at_start = exit.is_some_and(|c| !self.f.block(b).items.contains(&Item::Value(c)));
        if let (true, Some(c)) = (exit_at_start, exit) {
            let cond = self.operand(c, Prec::Prefix, true);
            statements.push(Statement::new(quote!(if !#cond { break; }), vec![]));
            exit_pending = false;
        }
        // A forward loop body pushes its carried variables' values at the start of the iteration.
        if self.f.block(b).loop_owner.is_some() && !self.f.block(b).backward {
            let at_start = |v: ValueId| matches!(self.f.node(v).op, Op::LoopPhi(l, _) if self.f.loop_node(l).body == b);
            for t in self.tapes.iter().filter(|t| t.body == b && at_start(t.value)) {
                let push = Statement::new(self.push(t), vec![]);
                if exit_pending {
                    deferred_pushes.push(push);
                } else {
                    statements.push(push);
                }
            }
        }
        for item in &self.f.block(b).items {
            match *item {
                Item::Value(v) => {
                    if let Some(statement) = self.value_statement(v) {
                        statements.push(statement);
                    }
                }
                Item::If(id) => {
                    if let Some(statement) = self.if_statement(id) {
                        statements.push(statement);
                    }
                }
                Item::Loop(id) => {
                    if self.fused.values().any(|back| *back == id) {
                        continue;
                    }
                    if let Some(statement) = self.loop_statement(id) {
                        statements.push(statement);
                    }
                }
            }
            // Values this item made visible that the backward loop will need: push them.
            let defined: Vec<ValueId> = match *item {
                Item::Value(v) => vec![v],
                Item::If(id) => {
                    let mut out: Vec<ValueId> = self.f.if_node(id).outputs.iter().map(|o| o.phi).collect();
                    out.extend(self.residuals.get(&id).cloned().unwrap_or_default());
                    out
                }
                // After an inner loop: the values its carried variables end with, and its trip count.
                Item::Loop(l) => {
                    let node = self.f.loop_node(l);
                    node.carried.iter().map(|c| c.out).chain(node.trips).collect()
                }
            };
            for t in self.tapes.iter().filter(|t| t.body == b && defined.contains(&t.value)) {
                let push = Statement::new(self.push(t), vec![]);
                if exit_pending {
                    deferred_pushes.push(push);
                } else {
                    statements.push(push);
                }
            }
            if let (true, Some(c)) = (exit_pending, exit) {
                if *item == Item::Value(c) {
                    let cond = self.operand(c, Prec::Prefix, true);
                    statements.push(Statement::new(quote!(if !#cond { break; }), vec![]));
                    statements.append(&mut deferred_pushes);
                    exit_pending = false;
                }
            }
        }
        if statements.len() <= CHUNK_THRESHOLD {
            return statements.into_iter().map(|s| s.tokens).collect();
        }
        // Every `let` opens a scope nested in the previous one, and thousands of nested scopes
        // overflow LLVM's debug-info writer. Long blocks are therefore emitted in chunks, each a
        // block that hands its bindings out through one tuple `let`.
        let mut out = TokenStream::new();
        for chunk in statements.chunks(CHUNK_SIZE) {
            let body: TokenStream = chunk.iter().map(|s| s.tokens.clone()).collect();
            let names: Vec<&Ident> = chunk.iter().flat_map(|s| &s.binds).map(|(n, _)| n).collect();
            let patterns: Vec<TokenStream> = chunk
                .iter()
                .flat_map(|s| &s.binds)
                .map(|(n, mutable)| if *mutable { quote!(mut #n) } else { quote!(#n) })
                .collect();
            out.extend(quote!(let (#(#patterns,)*) = { #body (#(#names,)*) };));
        }
        out
    }

    /// The statement for a value item: its `let`, an element store, an array declaration.
    fn value_statement(&self, v: ValueId) -> Option<Statement> {
        let mut statement = self.value_statement_unguarded(v)?;
        if let Op::Invoke(call, _) = self.f.node(v).op {
            statement = self.with_call_tape(v, call, statement);
        }
        // In a pullback, a write into an argument's adjoint happens only when the caller asked
        // for that adjoint (a constant per instantiation: the other copy has no such code).
        if let Op::Store(a, _) = self.f.node(v).op {
            if let Some(flag) = self.sinks.borrow().guards.get(&a) {
                let tokens = statement.tokens;
                return Some(Statement::new(quote!(if #flag { #tokens }), statement.binds));
            }
        }
        Some(statement)
    }

    fn value_statement_unguarded(&self, v: ValueId) -> Option<Statement> {
        if !self.live[v.index()] {
            return None;
        }
        let node = self.f.node(v);
        match &node.op {
            Op::Store(a, args) => {
                let (indices, value) = args.split_at(args.len() - 1);
                let base = self.array_name(*a);
                let idx: Vec<TokenStream> = indices.iter().map(|i| self.operand(*i, Prec::Or, false)).collect();
                // `a[i] = a[i] + e` (unbound read) reads as `a[i] += e`.
                if let Op::Binary(BinOp::Add, l, r) = &self.f.node(value[0]).op {
                    if !self.bound[value[0].index()] && !self.bound[l.index()] {
                        if let Op::Load(la, _, li) = &self.f.node(*l).op {
                            if la == a && li.as_slice() == indices {
                                let r = self.expr(*r, false).0;
                                return Some(Statement::new(quote!(#base #([#idx])* += #r;), vec![]));
                            }
                        }
                    }
                }
                let value = self.expr(value[0], true).0;
                Some(Statement::new(quote!(#base #([#idx])* = #value;), vec![]))
            }
            Op::Declare(a) => {
                if let ArrayOrigin::Adjoint(_) = self.f.array(*a).origin {
                    let name = self.array_name(*a);
                    let zero = self.lit_tokens(0.0, self.f.array(*a).elem.float().unwrap_or(self.f.float), true).0;
                    // A buffer sized at run time is cleared in place: no allocation per iteration.
                    if let Some(Dim::Value(_) | Dim::Dynamic) = self.f.array(*a).dims.first() {
                        let mut inner = zero;
                        for dim in self.f.array(*a).dims[1..].iter().rev() {
                            if let Dim::Const(n) = dim {
                                inner = quote!([#inner; #n]);
                            }
                        }
                        return Some(Statement::new(quote!(#name.fill(#inner);), vec![]));
                    }
                    let zeros = self.filled(*a, zero);
                    return Some(Statement::new(quote!(#name = #zeros;), vec![]));
                }
                let ArrayOrigin::Local { fill } = self.f.array(*a).origin else { return None };
                let name = self.array_names[a.index()].clone()?;
                if let Some(source) = self.copy_source(*a) {
                    return self.declare_copy(*a, source, name);
                }
                let init = self.filled(*a, self.expr(fill, true).0);
                self.bind_array(*a);
                let mutable = self.f.array(*a).mutable;
                let pattern = if mutable { quote!(mut #name) } else { quote!(#name) };
                Some(Statement::new(quote!(let #pattern = #init;), vec![(name, mutable)]))
            }
            Op::Phi(..) => None,
            Op::Invoke(call, operands) if self.f.calls[call.index()].result.is_some() => {
                let result = self.f.calls[call.index()].result?;
                let name = self.array_names[result.index()].clone()?;
                let rhs = self.invoke_tokens(*call, operands);
                self.bind_array(result);
                let reused = self.f.output_is_result && self.f.output_array == Some(result);
                let mut tokens = match self.backs.get(call) {
                    _ if reused => TokenStream::new(),
                    Some(back) => quote!(let (#name, #back) = #rhs;),
                    None => quote!(let #name = #rhs;),
                };
                let mut binds = vec![(name.clone(), false)];
                // The result's adjoint starts at zero, shaped like the result; in a pullback whose
                // function returns this array, at the caller's adjoint (the seed).
                // In a `_vjp`, the returned array's adjoint is the closure's: declared there.
                let returned = (self.vjp && self.f.output_array == Some(result)) || self.result_adjoint_at_pop(*call);
                if let Some(adjoint) =
                    self.array_adjoints.get(&result).filter(|a| self.live_arrays[a.index()] && !returned)
                {
                    let d_name = self.array_names[adjoint.index()].clone()?;
                    let zeros_like = self.runtime_item("ZerosLike");
                    self.bind_array(*adjoint);
                    let init = if self.f.output_array == Some(result) {
                        let seed = &self.seed_name;
                        quote!(::core::clone::Clone::clone(#seed))
                    } else {
                        quote!(#zeros_like::zeros_like(&#name))
                    };
                    tokens.extend(quote!(let mut #d_name = #init;));
                    binds.push((d_name, true));
                }
                Some(Statement::new(tokens, binds))
            }
            Op::Invoke(call, _) if self.bound[v.index()] && self.backs.contains_key(call) => {
                let (name, back) = (self.name(v)?.clone(), self.backs[call].clone());
                let (rhs, _) = self.body(v, true);
                self.bind(v);
                Some(Statement::new(quote!(let (#name, #back) = #rhs;), vec![(name, false)]))
            }
            Op::Pullback(call, operands) => {
                let rhs = self.pullback_tokens(*call, operands);
                if self.bound[v.index()] {
                    let name = self.name(v)?.clone();
                    self.bind(v);
                    return Some(Statement::new(quote!(let #name = #rhs;), vec![(name, false)]));
                }
                Some(Statement::new(quote!(#rhs;), vec![]))
            }
            _ if self.bound[v.index()] && !self.defined_by_construct(v) => {
                let name = self.name(v)?.clone();
                let (rhs, _) = self.body(v, true);
                self.bind(v);
                Some(Statement::new(quote!(let #name = #rhs;), vec![(name, false)]))
            }
            _ => None,
        }
    }

    /// A placeholder of `v`'s type for the branch where `v` was not computed.
    pub(super) fn placeholder(&self, v: ValueId) -> TokenStream {
        match self.f.ty(v) {
            Ty::Float(t) => self.lit_tokens(0.0, t, true).0,
            Ty::Int => quote!(0),
            Ty::Bool => quote!(false),
            Ty::Unknown | Ty::Unit => quote!(::core::default::Default::default()),
        }
    }

    fn if_statement(&self, id: IfId) -> Option<Statement> {
        let node = self.f.if_node(id);
        let outputs: Vec<_> = node.outputs.iter().filter(|o| self.live[o.phi.index()]).copied().collect();
        let residuals = self.residuals.get(&id).cloned().unwrap_or_default();
        if outputs.is_empty()
            && residuals.is_empty()
            && !self.has_effects(node.then_block)
            && !self.has_effects(node.else_block)
        {
            return None;
        }
        let mut names: Vec<Ident> = outputs.iter().filter_map(|o| self.name(o.phi).cloned()).collect();
        names.extend(residuals.iter().filter_map(|r| self.name(*r).cloned()));
        let cond = self.expr(node.cond, true).0;
        let side = |block: BlockId, pick: &dyn Fn(&crate::ir::IfOutput) -> ValueId| -> TokenStream {
            self.open_scope();
            let body = self.block(block);
            let mut values: Vec<TokenStream> = outputs.iter().map(|o| self.expr(pick(o), true).0).collect();
            values.extend(residuals.iter().map(|r| {
                if self.f.is_within(self.f.node(*r).block, block) {
                    self.use_value(*r);
                    self.name(*r).to_token_stream()
                } else {
                    self.placeholder(*r)
                }
            }));
            self.close_scope();
            if values.is_empty() {
                quote!({ #body })
            } else if values.len() == 1 {
                let v = &values[0];
                quote!({ #body #v })
            } else {
                quote!({ #body (#(#values),*) })
            }
        };
        let then_side = side(node.then_block, &|o| o.then_value);
        let else_side = side(node.else_block, &|o| o.else_value);
        for v in outputs.iter().map(|o| o.phi).chain(residuals.iter().copied()) {
            self.bind(v);
        }
        if names.is_empty() {
            return Some(Statement::new(quote!(if #cond #then_side else #else_side), vec![]));
        }
        let pattern = if names.len() == 1 { names[0].to_token_stream() } else { quote!((#(#names),*)) };
        let binds = names.into_iter().map(|n| (n, false)).collect();
        Some(Statement::new(quote!(let #pattern = if #cond #then_side else #else_side;), binds))
    }
}
