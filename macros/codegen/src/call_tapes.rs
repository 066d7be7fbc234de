//! Tapes of arrays for calls (issue 18): what a call's pullback needs that the backward sweep no
//! longer has where it runs.
//!
//! A call in a loop or a branch runs its pullback in the backward block that mirrors the call's
//! block, after the forward sweep has moved on: the array the call returned went out of scope
//! (or was returned again by the next iteration), and a local array passed to it may have been
//! overwritten since (`h = cell(&p, &h, &xs[t])` writes `h`, which the next iteration passes
//! again). So each such call site gets one stack per array: the result, pushed after the call,
//! and every argument array the function writes, pushed before it; the mirror block pops them
//! at its start (LIFO per call site, so nested loops and branches never interleave: the
//! backward sweep runs each block's reverse exactly once per forward run, in reverse order).
//! A stack is a `Vec` of the callee's own result type, made once per call of the function with
//! the trip count as its capacity when the bounds are known on entry: no allocation per
//! iteration for array results (`[f64; N]` is copied in). A backward loop that pops such a tape
//! runs in reverse order (never `Plan::forward_order`).
//!
//! A call at the top level is in scope of its pullback already; only an argument array written
//! after the call is copied (a plain `let`, read by the pullback).

use crate::diff::Derivation;
use crate::ir::{ArrayId, ArrayOrigin, BlockId, CallArg, CallId, Op, ValueId, ROOT};
use crate::plan::{Plan, HIDDEN};
use proc_macro2::{Ident, Span};

/// One call site's stacks.
#[derive(Clone, Debug)]
pub struct CallTape {
    pub call: CallId,
    /// The `Invoke`.
    pub invoke: ValueId,
    /// The block holding the live `Pullback`: it pops at its start.
    pub backward: BlockId,
    /// The call is at the top level: arguments are copied into plain variables, nothing popped.
    pub root: bool,
    /// The returned array and its stack (a call in a loop or a branch).
    pub result: Option<(ArrayId, Ident)>,
    /// Per argument (index into `CallSite::args`): its stack, or at the top level its copy; and
    /// the name the popped copy is bound to.
    pub args: Vec<(usize, Ident, Ident)>,
}

impl Plan<'_> {
    /// Every live call whose pullback needs a stack or a copy.
    pub(crate) fn find_call_tapes(&mut self, d: &Derivation) {
        let f = self.f;
        let mut out = Vec::new();
        for (i, node) in f.nodes.iter().enumerate() {
            let Op::Invoke(call, _) = node.op else { continue };
            if !self.live[i] {
                continue;
            }
            let Some(backward) = f
                .nodes
                .iter()
                .enumerate()
                .find(|(k, n)| self.live[*k] && matches!(n.op, Op::Pullback(c, _) if c == call))
                .map(|(_, n)| n.block)
            else {
                continue;
            };
            let root = node.block == ROOT;
            let site = &f.calls[call.index()];
            let k = out.len();
            let result = site
                .result
                .filter(|_| !root)
                .map(|r| (r, Ident::new(&format!("{HIDDEN}result_tape_{k}"), Span::call_site())));
            let mut args = Vec::new();
            for (j, arg) in site.args.iter().enumerate() {
                let CallArg::Place { array, .. } = arg else { continue };
                if !self.written_around(*array, i, root, d) {
                    continue;
                }
                let what = if root { "copy" } else { "tape" };
                args.push((
                    j,
                    Ident::new(&format!("{HIDDEN}arg_{what}_{k}_{j}"), Span::call_site()),
                    Ident::new(&format!("{HIDDEN}arg_{k}_{j}"), Span::call_site()),
                ));
            }
            if result.is_none() && args.is_empty() {
                continue;
            }
            // The `Invoke` gets a statement of its own (its copies go before it).
            self.bound[i] = true;
            out.push(CallTape { call, invoke: ValueId(i as u32), backward, root, result, args });
        }
        self.call_tapes = out;
    }

    /// Whether `array`, passed to the call `invoke`, may hold other contents when the pullback
    /// runs: a local (or `mut` argument) array written after the call, or anywhere when the call
    /// is in a loop or a branch (the next iteration writes before it). An array returned by a call
    /// never is: its own call site's stack binds it again where the backward sweep reads it.
    fn written_around(&self, array: ArrayId, invoke: usize, root: bool, d: &Derivation) -> bool {
        let a = self.f.array(array);
        if !(matches!(a.origin, ArrayOrigin::Local { .. }) || a.mutable) {
            return false;
        }
        self.f.nodes.iter().enumerate().any(|(k, n)| {
            (!root || k > invoke)
                && matches!(n.op, Op::Store(..) | Op::Declare(_))
                && self.writes(ValueId(k as u32), d).contains(&array)
        })
    }

    /// The stacks of the call `call`, when it has any.
    pub(crate) fn call_tape(&self, call: CallId) -> Option<&CallTape> {
        self.call_tapes.iter().find(|t| t.call == call)
    }

    /// Whether a block (or one nested in it) pushes onto a call's stack.
    pub(crate) fn pushes_call_tape(&self, body: BlockId) -> bool {
        self.call_tapes.iter().any(|t| !t.root && self.f.is_within(self.f.node(t.invoke).block, body))
    }
}
