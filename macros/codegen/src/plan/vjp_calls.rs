//! Calls made through their callee's `_vjp`: which calls qualify, and the name of the closure
//! each forward call returns (`h_back`), which the backward sweep calls in place of the pullback.

use super::{make_ident, Plan};
use crate::diff::Derivation;
use crate::ir::{ArrayOrigin, CallArg, Op, ValueId, ROOT};
use crate::names::Names;
use proc_macro2::TokenStream;

impl Plan<'_> {
    /// The calls made through `_vjp`: at the top level of the body (once per run, so the closure
    /// is called at most once), with one live pullback at the top level of the backward sweep,
    /// and not the call a pullback reads from its `result` (`reuse.rs`). Every array passed
    /// stays borrowed by the closure until the backward sweep: it must not be written later (a
    /// local array the function writes), and in a `_vjp`, whose closure outlives the function,
    /// it must be borrowed from the caller (a reference argument, a field of one, a constant).
    pub(super) fn saved_calls(&self, d: &Derivation) -> Vec<(crate::ir::CallId, ValueId)> {
        let f = self.f;
        let mut out = Vec::new();
        for (i, node) in f.nodes.iter().enumerate() {
            let Op::Invoke(call, _) = node.op else { continue };
            if node.block != ROOT || !self.live[i] || self.call_tape(call).is_some() {
                continue;
            }
            let site = &f.calls[call.index()];
            if f.output_is_result && site.result.is_some() && f.output_array == site.result {
                continue;
            }
            let pullbacks: Vec<&crate::ir::Node> = f
                .nodes
                .iter()
                .enumerate()
                .filter(|(k, n)| self.live[*k] && matches!(n.op, Op::Pullback(c, _) if c == call))
                .map(|(_, n)| n)
                .collect();
            if pullbacks.len() != 1 || pullbacks[0].block != d.backward {
                continue;
            }
            let borrowable = site.args.iter().all(|arg| match arg {
                CallArg::Value(_) => true,
                CallArg::Place { array, .. } => {
                    let a = f.array(*array);
                    match &a.origin {
                        _ if a.mutable => false,
                        ArrayOrigin::Const(_) | ArrayOrigin::Field { .. } => true,
                        ArrayOrigin::Param { .. } => {
                            !self.vjp
                                || f.params.iter().any(|p| {
                                    p.array == Some(*array) && p.ty_tokens.to_string().trim_start().starts_with('&')
                                })
                        }
                        _ => !self.vjp,
                    }
                }
            });
            if borrowable {
                out.push((call, ValueId(i as u32)));
            }
        }
        out
    }

    /// `<result>_back` for each saved call, after every other name is taken.
    pub(super) fn name_backs(&mut self, saved: Vec<(crate::ir::CallId, ValueId)>, user_tokens: TokenStream) {
        let mut names = Names::new(user_tokens);
        for d in &self.derived {
            if let Some(shadow) = &d.shadow {
                names.take(&shadow.to_string());
            }
        }
        for n in self.names.iter().flatten().chain(self.array_names.iter().flatten()) {
            names.take(&n.to_string());
        }
        for ident in [&self.grad_name, &self.value_name, &self.result_name, &self.seed_name] {
            names.take(&ident.to_string());
        }
        for ident in self.sink_names.iter().chain(&self.want_names) {
            names.take(&ident.to_string());
        }
        for t in &self.tapes {
            for ident in t.name.iter().chain(&t.len) {
                names.take(&ident.to_string());
            }
        }
        for p in &self.f.params {
            let base = p.name.to_string().trim_start_matches("r#").to_string();
            self.scratch_names.push(make_ident(&names.generated(&format!("d_{base}_scratch"))));
        }
        for (call, v) in saved {
            let base = match self.f.calls[call.index()].result {
                Some(r) => self.array_names[r.index()].as_ref().map(|n| n.to_string()),
                None => self.names[v.index()].as_ref().map(|n| n.to_string()),
            };
            let base = base.unwrap_or_else(|| "call".to_string());
            let name = names.generated(&format!("{}_back", base.trim_start_matches("r#")));
            self.backs.insert(call, make_ident(&name));
        }
    }
}
