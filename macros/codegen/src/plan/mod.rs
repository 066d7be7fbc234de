//! Planning: every decision about how the differentiated IR becomes code, made before anything is
//! printed, and kept in an explicit [`Plan`] that the printer (`emit/`) only reads.
//!
//! For each value the plan says whether it is live, bound by a `let` or written inline, its name,
//! and how the backward sweep reaches it when it was computed in a forward block the backward code
//! cannot see: exported from an `if` as a residual, pushed on a tape per loop iteration, computed
//! again (recompute), or still in scope because its loop is fused with its reverse. The printer's
//! scope check (`scope.rs`) then verifies that every use it prints lies inside its binding's scope.
//!
//! This file holds the [`Plan`] and its driver, [`Plan::with_mode`], which runs the passes in
//! order; each concern has a file of its own: `liveness.rs` (what is needed), `bindings.rs` (`let`
//! or inline), `fusion.rs` (loops fused with their reverse, backward loops run in forward order,
//! and the commutation proof both rest on), `residuals.rs` (how the backward sweep reaches forward
//! values), `recompute.rs`, `tapes.rs`, `naming.rs`, and `vjp_calls.rs` (calls made through their
//! callee's `_vjp`). Tapes of arrays for calls are planned in `call_tapes.rs`.

mod bindings;
mod fusion;
mod liveness;
mod naming;
mod recompute;
mod residuals;
mod tapes;
mod vjp_calls;

pub(crate) use naming::make_ident;
pub use tapes::{Derived, Tape, STACK_TAPE_LIMIT};

use crate::diff::Derivation;
use crate::ir::{ArrayId, ArrayOrigin, BlockId, Function, IfId, LoopId, Op, Ty, ValueId};
use proc_macro2::{Ident, Span, TokenStream};
use std::collections::BTreeMap;

/// The prefix of names the lowering makes up for desugared code (`lower/iterators.rs`), which no
/// user writes; they are printed as generated names without it.
pub const HIDDEN: &str = "__backprop_";

/// The emission plan: what is emitted, how it is bound and named, and how the backward sweep
/// reaches forward values.
pub struct Plan<'a> {
    pub f: &'a Function,
    pub live: Vec<bool>,
    pub bound: Vec<bool>,
    pub names: Vec<Option<Ident>>,
    pub live_arrays: Vec<bool>,
    pub live_loops: Vec<bool>,
    /// Per block: whether it (or a block nested in it) writes a needed array element.
    pub effects: Vec<bool>,
    pub array_names: Vec<Option<Ident>>,
    /// Per forward `if`: values defined inside it that the backward sweep reads.
    pub residuals: BTreeMap<IfId, Vec<ValueId>>,
    /// Values pushed each forward iteration and popped by the backward iteration.
    pub tapes: Vec<Tape>,
    /// Per forward loop body: bound values its backward iteration computes again (in order).
    pub recompute: BTreeMap<BlockId, Vec<ValueId>>,
    /// Forward loops whose reverse runs inside them, iteration by iteration: top-level loops, and
    /// loops directly inside a fused loop's body (`fusion.rs`).
    pub fused: BTreeMap<LoopId, LoopId>,
    /// Carried values not taped because the next backward iteration already has them: a carried
    /// variable's value at the end of iteration k is its value at the start of iteration k + 1, so
    /// the backward loop carries it (`shadow`, starting from the loop's final value) instead of a
    /// second tape. Only for loops in the function body, whose final value is in scope.
    pub derived: Vec<Derived>,
    /// Backward loops printed in forward order: their iterations commute and pop no tape, so the
    /// order is free, and a forward loop lets LLVM hoist bounds checks and vectorise
    /// (`d_w1[j * IN + i] += d_z * x[i]` over slices).
    pub forward_order: std::collections::BTreeSet<LoopId>,
    /// Names of the generated functions' own bindings (the caller's gradient in `_grad_acc`, the
    /// wrappers' locals), chosen to collide with nothing in the user's function.
    pub grad_name: Ident,
    pub value_name: Ident,
    /// A pullback's parameters: the function's result and its adjoint (the sweep's seed).
    pub result_name: Ident,
    pub seed_name: Ident,
    /// Per array, its adjoint (from the derivation).
    pub array_adjoints: BTreeMap<ArrayId, ArrayId>,
    /// Per argument, in a pullback: its sink's name (`d_net`) and the flag saying whether the
    /// caller wants that adjoint (`WANT_D_NET`).
    pub sink_names: Vec<Ident>,
    pub want_names: Vec<Ident>,
    /// Printing `<name>_vjp`: the backward sweep is a closure returned after the forward sweep
    /// (planned without fusion, so the two do not interleave).
    pub vjp: bool,
    /// Calls made through their callee's `_vjp` (at the top level of the body, with a live
    /// pullback): the name of the closure that the forward call returns (`h_back`), which the
    /// backward sweep calls in place of `<callee>_pullback`.
    pub backs: BTreeMap<crate::ir::CallId, Ident>,
    /// Per argument, in a `_vjp`: the zero buffer its closure lends for a `None` sink.
    pub scratch_names: Vec<Ident>,
    /// Per call in a loop or a branch, or passed an array written later: its stacks of arrays
    /// (`call_tapes.rs`).
    pub call_tapes: Vec<crate::call_tapes::CallTape>,
}

impl<'a> Plan<'a> {
    pub fn new(f: &'a Function, d: &Derivation, user_tokens: TokenStream) -> Self {
        Self::with_mode(f, d, user_tokens, false)
    }

    /// [`Plan::new`]; with `vjp`, the plan of `<name>_vjp` (no fusion: the forward sweep runs
    /// whole before the closure holding the backward sweep is made).
    pub fn with_mode(f: &'a Function, d: &Derivation, user_tokens: TokenStream, vjp: bool) -> Self {
        let n = f.nodes.len();
        let mut e = Plan {
            f,
            live: vec![false; n],
            live_arrays: vec![false; f.arrays.len()],
            live_loops: vec![false; f.loops.len()],
            effects: vec![false; f.blocks.len()],
            bound: vec![false; n],
            names: vec![None; n],
            array_names: vec![None; f.arrays.len()],
            residuals: BTreeMap::new(),
            tapes: Vec::new(),
            recompute: BTreeMap::new(),
            fused: BTreeMap::new(),
            forward_order: Default::default(),
            derived: Vec::new(),
            grad_name: Ident::new("grad", Span::call_site()),
            value_name: Ident::new("value", Span::call_site()),
            result_name: Ident::new("result", Span::call_site()),
            seed_name: Ident::new("d_result", Span::call_site()),
            array_adjoints: d.array_adjoints.clone(),
            sink_names: Vec::new(),
            want_names: Vec::new(),
            vjp,
            backs: BTreeMap::new(),
            scratch_names: Vec::new(),
            call_tapes: Vec::new(),
        };
        let mut roots: Vec<ValueId> = f.output.into_iter().collect();
        roots.extend(d.gradients.iter().flatten());
        let mut arrays = Vec::new();
        for p in f.params.iter().filter(|p| p.wrt) {
            if let Some(adjoint) = p.array.and_then(|a| d.array_adjoints.get(&a)) {
                arrays.push(*adjoint);
            }
        }
        // The fields of a differentiated parameter struct accumulate into the caller's gradient.
        for (a, adjoint) in &d.array_adjoints {
            if let ArrayOrigin::Field { param, .. } = f.array(*a).origin {
                if f.params[param as usize].wrt {
                    arrays.push(*adjoint);
                }
            }
        }
        // A `_vjp` returns the array its forward sweep computes, whatever its backward sweep reads.
        if vjp {
            arrays.extend(f.output_array);
        }
        e.mark_live(&roots, &arrays, d);
        e.find_effects();
        let uses = e.count_uses(&roots);
        e.decide_bindings(&uses);
        e.find_call_tapes(d);
        if !vjp {
            e.find_fusions(d);
        }
        e.find_residuals_and_tapes(&uses);
        e.find_derived_tapes();
        e.find_forward_order();
        let saved = e.saved_calls(d);
        e.allocate_names(user_tokens.clone());
        e.name_backs(saved, user_tokens);
        e
    }

    /// Operations in the emitted forward and backward sweeps (arithmetic, calls, element reads and
    /// writes; per appearance in the code, not per loop iteration).
    pub fn op_counts(&self) -> (usize, usize) {
        let (mut forward, mut backward) = (0, 0);
        for (i, n) in self.f.nodes.iter().enumerate() {
            let counted = matches!(n.op, Op::Unary(..) | Op::Binary(..) | Op::Call(..) | Op::Load(..) | Op::Store(..));
            if !self.live[i] || !counted || n.ty == Ty::Int || n.ty == Ty::Bool {
                continue;
            }
            if self.f.block(n.block).backward {
                backward += 1;
            } else {
                forward += 1;
            }
        }
        (forward, backward)
    }

    pub fn name(&self, v: ValueId) -> Option<&Ident> {
        self.names[v.index()].as_ref()
    }

    pub fn is_bound(&self, v: ValueId) -> bool {
        self.bound[v.index()]
    }
}
