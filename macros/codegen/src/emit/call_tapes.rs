//! Printing the stacks of arrays that calls in loops and branches keep for their pullbacks
//! (`crate::call_tapes` decides them): declarations with the function's other tapes, the
//! pushes around the call, the pops at the start of the backward block that calls the pullback,
//! and the popped copies as the pullback's arguments.

use super::{Emitter, Statement};
use crate::ir::{CallId, ValueId};
use proc_macro2::TokenStream;
use quote::quote;

impl Emitter<'_> {
    /// `let mut tape = Vec::with_capacity(trips);` per stack (its element type is the pushed one).
    pub(super) fn call_tape_declarations(&self) -> Vec<TokenStream> {
        let mut out = Vec::new();
        for t in self.call_tapes.iter().filter(|t| !t.root) {
            let forward = self.f.node(t.invoke).block;
            let new = match self.trip_count(forward).filter(|_| self.f.block(forward).loop_owner.is_some()) {
                Some(count) => quote!(::std::vec::Vec::with_capacity(#count)),
                None => quote!(::std::vec::Vec::new()),
            };
            let names = t.result.iter().map(|(_, n)| n).chain(t.args.iter().map(|(_, n, _)| n));
            for name in names {
                out.push(quote!(let mut #name = #new;));
            }
        }
        out
    }

    /// The call's statement with its copies: the arguments' before it, the result's after it.
    pub(super) fn with_call_tape(&self, v: ValueId, call: CallId, mut statement: Statement) -> Statement {
        let Some(t) = self.call_tape(call) else { return statement };
        let crate::ir::Op::Invoke(_, operands) = &self.f.node(v).op else { return statement };
        let args = self.call_arguments(call, operands);
        let clone = quote!(::core::clone::Clone::clone);
        let mut before = TokenStream::new();
        for (j, name, _) in &t.args {
            let arg = &args[*j];
            let by_ref = matches!(self.f.calls[call.index()].args[*j], crate::ir::CallArg::Place { by_ref: true, .. });
            let place = if by_ref { quote!(#arg) } else { quote!(&#arg) };
            if t.root {
                before.extend(quote!(let #name = #clone(#place);));
                statement.binds.push((name.clone(), false));
            } else {
                before.extend(quote!(#name.push(#clone(#place));));
            }
        }
        let mut after = TokenStream::new();
        if let Some((r, tape)) = &t.result {
            let result = self.array_name(*r);
            after.extend(quote!(#tape.push(#clone(&#result));));
        }
        let tokens = statement.tokens;
        statement.tokens = quote!(#before #tokens #after);
        statement
    }

    /// At the start of the backward block `b`: the copies its pullbacks read, popped, and the
    /// popped result's adjoint, starting at zero.
    pub(super) fn call_tape_pops(&self, b: crate::ir::BlockId) -> Vec<Statement> {
        let mut out = Vec::new();
        for t in self.call_tapes.iter().filter(|t| !t.root && t.backward == b) {
            for (_, tape, name) in &t.args {
                out.push(Statement::new(
                    quote!(let #name = #tape.pop().expect("popped once per push");),
                    vec![(name.clone(), false)],
                ));
            }
            let Some((r, tape)) = &t.result else { continue };
            let Some(name) = self.array_names[r.index()].clone() else { continue };
            self.bind_array(*r);
            let mut binds = vec![(name.clone(), false)];
            let mut tokens = quote!(let #name = #tape.pop().expect("popped once per push"););
            if let Some(adjoint) = self.array_adjoints.get(r).filter(|a| self.live_arrays[a.index()]) {
                if let Some(d_name) = self.array_names[adjoint.index()].clone() {
                    let zeros_like = self.runtime_item("ZerosLike");
                    self.bind_array(*adjoint);
                    tokens.extend(quote!(let mut #d_name = #zeros_like::zeros_like(&#name);));
                    binds.push((d_name, true));
                }
            }
            // A local copy of the result (`let mut h = f(..);` in a loop or branch): its adjoint
            // too, shaped like the result, where the backward block reading it starts.
            for (copy, _) in self.f.copies.iter().filter(|(_, source)| source == r) {
                let Some(adjoint) = self.array_adjoints.get(copy).filter(|a| self.live_arrays[a.index()]) else {
                    continue;
                };
                let Some(d_name) = self.array_names[adjoint.index()].clone() else { continue };
                let zeros_like = self.runtime_item("ZerosLike");
                self.bind_array(*adjoint);
                tokens.extend(quote!(let mut #d_name = #zeros_like::zeros_like(&#name);));
                binds.push((d_name, true));
            }
            out.push(Statement::new(tokens, binds));
        }
        out
    }

    /// The argument `j` of a call as its pullback gets it: the copy taken at the call, if any.
    pub(super) fn call_tape_arg(&self, call: CallId, j: usize) -> Option<TokenStream> {
        let t = self.call_tape(call)?;
        let (_, tape, popped) = t.args.iter().find(|(k, _, _)| *k == j)?;
        let name = if t.root { tape } else { popped };
        let by_ref = matches!(self.f.calls[call.index()].args[j], crate::ir::CallArg::Place { by_ref: true, .. });
        Some(if by_ref { quote!(&#name) } else { quote!(#name) })
    }

    /// Whether the call's result adjoint is declared where its stack is popped, not at the call.
    pub(super) fn result_adjoint_at_pop(&self, call: CallId) -> bool {
        self.call_tape(call).is_some_and(|t| t.result.is_some())
    }
}
