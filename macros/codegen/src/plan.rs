//! Planning: every decision about how the differentiated IR becomes code, made before anything is
//! printed, and kept in an explicit [`Plan`] that the printer (`emit.rs`) only reads.
//!
//! For each value the plan says whether it is live, bound by a `let` or written inline, its name,
//! and how the backward sweep reaches it when it was computed in a forward block the backward code
//! cannot see: exported from an `if` as a residual, pushed on a tape per loop iteration, computed
//! again (recompute), or still in scope because its loop is fused with its reverse. The printer's
//! scope check (`scope.rs`) then verifies that every use it prints lies inside its binding's scope.

use crate::diff::Derivation;
use crate::ir::{
    ArrayId, ArrayOrigin, BinOp, BlockId, CallArg, Func, Function, Hint, IfId, Item, LoopId, Op, Ty, ValueId, ROOT,
};
use crate::names::Names;
use proc_macro2::{Ident, Span, TokenStream};
use quote::ToTokens;
use std::collections::BTreeMap;

/// Inline expressions deeper than this get a `let` of their own.
const MAX_INLINE_DEPTH: usize = 16;

/// A value computed inside a loop body that the backward loop reads: one stack per value.
#[derive(Clone, Debug)]
pub struct Tape {
    pub value: ValueId,
    /// The forward loop body whose iterations push it.
    pub body: BlockId,
    pub name: Option<Ident>,
    /// A stack array of this many entries (and the name of its fill count) when the trip count is
    /// a small compile-time constant; a `Vec` otherwise.
    pub stack: Option<(TokenStream, Ident)>,
    /// The fill count's name when the tape is a buffer sized once per call (the trip count is known
    /// on entry) and indexed like a stack array: no capacity check per push, no branch per pop.
    pub len: Option<Ident>,
}

/// A carried variable's end-of-iteration value, carried by the backward loop instead of taped.
#[derive(Clone, Debug)]
pub struct Derived {
    pub next: ValueId,
    pub inner: ValueId,
    pub out: ValueId,
    /// The forward loop body.
    pub body: BlockId,
    /// The backward loop's variable holding it.
    pub shadow: Option<Ident>,
}

/// Tapes up to this many entries live on the stack.
pub const STACK_TAPE_LIMIT: usize = 4096;

/// Where a value is used: in a block, or by the function's return expression.
type Site = Option<BlockId>;

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
    /// Top-level forward loops whose reverse runs inside them, iteration by iteration.
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

    /// The calls made through `_vjp`: at the top level of the body (once per run, so the closure
    /// is called at most once), with one live pullback at the top level of the backward sweep,
    /// and not the call a pullback reads from its `result` (`reuse.rs`). Every array passed
    /// stays borrowed by the closure until the backward sweep: it must not be written later (a
    /// local array the function writes), and in a `_vjp`, whose closure outlives the function,
    /// it must be borrowed from the caller (a reference argument, a field of one, a constant).
    fn saved_calls(&self, d: &Derivation) -> Vec<(crate::ir::CallId, ValueId)> {
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
    fn name_backs(&mut self, saved: Vec<(crate::ir::CallId, ValueId)>, user_tokens: TokenStream) {
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

    /// Marks what the result and the gradients need: values, arrays (with every store into them)
    /// and loops (with their bounds and carried variables).
    fn mark_live(&mut self, roots: &[ValueId], arrays: &[ArrayId], d: &Derivation) {
        let f = self.f;
        let mut stores: Vec<Vec<ValueId>> = vec![Vec::new(); f.arrays.len()];
        for i in 0..f.nodes.len() {
            for a in self.writes(ValueId(i as u32), d) {
                stores[a.index()].push(ValueId(i as u32));
            }
        }
        let mut stack: Vec<ValueId> = roots.to_vec();
        let mut array_stack: Vec<ArrayId> = arrays.to_vec();
        loop {
            if let Some(a) = array_stack.pop() {
                if !self.live_arrays[a.index()] {
                    self.live_arrays[a.index()] = true;
                    stack.extend(&stores[a.index()]);
                    if let ArrayOrigin::Local { fill } = f.array(a).origin {
                        stack.push(fill);
                    }
                }
                continue;
            }
            let Some(v) = stack.pop() else { break };
            if self.live[v.index()] {
                continue;
            }
            self.live[v.index()] = true;
            let node = f.node(v);
            // Everything inside a loop body runs only if the loop is emitted. (A loop variable
            // read by the backward sweep is the backward loop's own, and a value written out at
            // each use is computed where it is used: they keep no forward loop.)
            let inline = match node.op {
                Op::LoopVar(l) => f.loop_node(l).exit.is_none(),
                Op::Load(a, ..) => !f.array(a).mutable,
                _ => false,
            };
            let mut b = if inline { None } else { Some(node.block) };
            while let Some(block) = b {
                if let Some(l) = f.block(block).loop_owner {
                    if !self.live_loops[l.index()] {
                        self.live_loops[l.index()] = true;
                        let lp = f.loop_node(l);
                        stack.extend([lp.lo, lp.hi, lp.var]);
                        stack.extend(lp.exit);
                    }
                }
                // ... and inside a branch only if its `if` is emitted, which needs the condition.
                if let Some(id) = f.block(block).owner {
                    stack.push(f.if_node(id).cond);
                }
                b = f.block(block).parent;
            }
            match &node.op {
                Op::Phi(id, k) => {
                    let node = f.if_node(*id);
                    let out = node.outputs[*k as usize];
                    stack.extend([out.then_value, out.else_value, node.cond]);
                }
                Op::LoopPhi(l, k) | Op::LoopOut(l, k) => {
                    let lp = f.loop_node(*l);
                    if let Some(c) = lp.carried.get(*k as usize) {
                        stack.extend([c.init, c.next, c.inner, c.out]);
                    }
                    if !self.live_loops[l.index()] {
                        self.live_loops[l.index()] = true;
                        stack.extend([lp.lo, lp.hi, lp.var]);
                        stack.extend(lp.exit);
                    }
                }
                Op::Load(a, _, idx) => {
                    array_stack.push(*a);
                    stack.extend(idx);
                }
                Op::Call(Func::SumArray(a, _), _) => array_stack.push(ArrayId(*a)),
                Op::Invoke(call, operands) | Op::Pullback(call, operands) => {
                    stack.extend(operands);
                    let site = &f.calls[call.index()];
                    for arg in &site.args {
                        if let CallArg::Place { array, .. } = arg {
                            array_stack.push(*array);
                        }
                    }
                    // The pullback reads the returned array and its adjoint.
                    if let (Op::Pullback(..), Some(r)) = (&node.op, site.result) {
                        array_stack.push(r);
                        array_stack.extend(d.array_adjoints.get(&r));
                    }
                }
                Op::Len(a) | Op::Declare(a) => {
                    if !matches!(f.array(*a).origin, ArrayOrigin::Param { .. }) {
                        array_stack.push(*a);
                    }
                }
                op => stack.extend(op.operands()),
            }
        }
    }

    /// The arrays a value writes: a store's or declaration's array; the array a call returns; the
    /// adjoints a pullback adds into.
    pub(crate) fn writes(&self, v: ValueId, d: &Derivation) -> Vec<ArrayId> {
        let f = self.f;
        match &f.node(v).op {
            Op::Store(a, _) | Op::Declare(a) => vec![*a],
            Op::Invoke(call, _) => f.calls[call.index()].result.into_iter().collect(),
            Op::Pullback(call, _) => f.calls[call.index()]
                .args
                .iter()
                .filter_map(|a| match a {
                    CallArg::Place { array, .. } => d.array_adjoints.get(array).copied(),
                    CallArg::Value(_) => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether a value is a statement with side effects on arrays (not a `let` of its own).
    pub(crate) fn is_effect(&self, v: ValueId) -> bool {
        match &self.f.node(v).op {
            Op::Store(..) | Op::Declare(_) | Op::Pullback(..) => true,
            Op::Invoke(call, _) => self.f.calls[call.index()].result.is_some(),
            _ => false,
        }
    }

    /// Values written out at every use instead of bound: conditions, integer index arithmetic and
    /// reads of arrays nothing writes to (cheap, and valid anywhere: recomputed, never taped).
    pub(crate) fn inline_always(&self, v: ValueId) -> bool {
        let node = self.f.node(v);
        if node.op.is_leaf() || self.defined_by_construct(v) || matches!(node.op, Op::Phi(..)) {
            return false;
        }
        match &node.op {
            Op::Load(a, ..) => !self.f.array(*a).mutable,
            Op::Store(..) | Op::Declare(_) => false,
            _ => matches!(node.ty, Ty::Bool | Ty::Int),
        }
    }

    /// Whether a block (or anything nested in it) writes an array element that is needed.
    pub(crate) fn has_effects(&self, b: BlockId) -> bool {
        self.effects[b.index()]
    }

    /// Marks every block that holds a live store, and the blocks around it.
    fn find_effects(&mut self) {
        for (i, n) in self.f.nodes.iter().enumerate() {
            let effect = matches!(n.op, Op::Store(..) | Op::Pullback(..)) || self.is_effect(ValueId(i as u32));
            if !self.live[i] || !effect || matches!(n.op, Op::Declare(_)) {
                continue;
            }
            let mut b = Some(n.block);
            while let Some(block) = b {
                if std::mem::replace(&mut self.effects[block.index()], true) {
                    break;
                }
                b = self.f.block(block).parent;
            }
        }
    }

    /// Loop variables and carried variables: named by the loop itself, never by a `let`.
    pub(crate) fn defined_by_construct(&self, v: ValueId) -> bool {
        matches!(self.f.node(v).op, Op::LoopVar(_) | Op::LoopPhi(..) | Op::LoopOut(..) | Op::LoopTrips(_))
    }

    fn record_use(&self, uses: &mut Vec<Vec<Site>>, v: ValueId, site: Site) {
        if self.inline_always(v) {
            for a in self.f.node(v).op.operands() {
                self.record_use(uses, a, site);
            }
        } else {
            uses[v.index()].push(site);
        }
    }

    fn count_uses(&self, roots: &[ValueId]) -> Vec<Vec<Site>> {
        let mut uses = vec![Vec::new(); self.f.nodes.len()];
        for (i, node) in self.f.nodes.iter().enumerate() {
            if !self.live[i] || self.inline_always(ValueId(i as u32)) || matches!(node.op, Op::Phi(..)) {
                continue;
            }
            for a in node.op.operands() {
                self.record_use(&mut uses, a, Some(node.block));
            }
        }
        for node in &self.f.ifs {
            let live_outputs: Vec<_> = node.outputs.iter().filter(|o| self.live[o.phi.index()]).collect();
            if live_outputs.is_empty() && !self.has_effects(node.then_block) && !self.has_effects(node.else_block) {
                continue;
            }
            self.record_use(&mut uses, node.cond, Some(node.block));
            for o in live_outputs {
                self.record_use(&mut uses, o.then_value, Some(node.then_block));
                self.record_use(&mut uses, o.else_value, Some(node.else_block));
            }
        }
        for (l, node) in self.f.loops.iter().enumerate() {
            if !self.live_loops[l] {
                continue;
            }
            self.record_use(&mut uses, node.lo, Some(node.block));
            self.record_use(&mut uses, node.hi, Some(node.block));
            for c in node.carried.iter().filter(|c| self.live[c.inner.index()] || self.live[c.out.index()]) {
                self.record_use(&mut uses, c.init, Some(node.block));
                self.record_use(&mut uses, c.next, Some(node.body));
            }
        }
        for &r in roots {
            self.record_use(&mut uses, r, None);
        }
        uses
    }

    /// Position of each value among its block's items.
    fn item_positions(&self) -> Vec<usize> {
        let mut pos = vec![usize::MAX; self.f.nodes.len()];
        for block in &self.f.blocks {
            for (k, item) in block.items.iter().enumerate() {
                if let Item::Value(v) = item {
                    pos[v.index()] = k;
                }
            }
        }
        pos
    }

    fn decide_bindings(&mut self, uses: &[Vec<Site>]) {
        let positions = self.item_positions();
        // The single user of each value (for the store-between check on array reads).
        let mut user: Vec<Option<ValueId>> = vec![None; self.f.nodes.len()];
        for (i, node) in self.f.nodes.iter().enumerate() {
            if self.live[i] {
                for a in node.op.operands() {
                    user[a.index()] = Some(ValueId(i as u32));
                }
            }
        }
        // How deeply nested a value's inline expression is; operands come before their users.
        let mut depth = vec![0usize; self.f.nodes.len()];
        for (i, node) in self.f.nodes.iter().enumerate() {
            let v = ValueId(i as u32);
            if !self.live[i] || node.op.is_leaf() {
                continue;
            }
            if self.defined_by_construct(v) {
                self.bound[i] = true;
                continue;
            }
            if self.is_effect(v) {
                // A pullback is named when its float arguments' adjoints are read (`t.0`).
                if let Op::Pullback(..) = node.op {
                    self.bound[i] = self
                        .f
                        .nodes
                        .iter()
                        .enumerate()
                        .any(|(k, n)| self.live[k] && matches!(n.op, Op::PullbackOut(pb, _) if pb == v));
                }
                continue;
            }
            let nested = 1 + node.op.operands().iter().map(|a| depth[a.index()]).max().unwrap_or(0);
            if self.inline_always(v) {
                depth[i] = nested;
                continue;
            }
            let single_local_use = uses[i].len() == 1 && uses[i][0] == Some(node.block);
            // A read of an array that is written later must happen where it is written in the
            // source: it is inlined only when nothing between it and its use can write.
            let read_moves_past_write = match &node.op {
                Op::Load(..) => match user[i] {
                    Some(u) if positions[u.index()] != usize::MAX && self.f.node(u).block == node.block => {
                        let items = &self.f.block(node.block).items;
                        let (from, to) = (positions[i] + 1, positions[u.index()]);
                        from > to
                            || items[from..to].iter().any(|item| match item {
                                Item::Value(w) => self.is_effect(*w),
                                _ => true,
                            })
                    }
                    _ => true,
                },
                _ => false,
            };
            // Long sums (an argument with many consumers) would nest past what the compiler and
            // readers handle well: bind them in pieces.
            let too_deep = nested > MAX_INLINE_DEPTH;
            self.bound[i] = node.hint.is_some()
                || matches!(node.op, Op::Phi(..) | Op::Alias(_) | Op::Invoke(..))
                || !single_local_use
                || too_deep
                || read_moves_past_write;
            depth[i] = if self.bound[i] { 0 } else { nested };
        }
    }

    /// Forward values the backward sweep reads from inside a branch are exported by the enclosing
    /// `if`s (residuals); from inside a loop body, they are pushed on a tape each iteration and
    /// popped by the backward loop's iteration (a loop body runs many times, so no single binding
    /// survives it).
    fn find_residuals_and_tapes(&mut self, uses: &[Vec<Site>]) {
        self.find_residuals_and_tapes_unfused(uses);
        // Fused loops need no tapes or recomputation for their own body's values.
        let bodies: Vec<BlockId> = self.fused.keys().map(|l| self.f.loop_node(*l).body).collect();
        self.tapes.retain(|t| !bodies.contains(&t.body));
        for b in &bodies {
            self.recompute.remove(b);
        }
    }

    fn find_residuals_and_tapes_unfused(&mut self, uses: &[Vec<Site>]) {
        let mut pending: Vec<ValueId> = Vec::new();
        for (i, sites) in uses.iter().enumerate() {
            let escapes = sites.iter().any(|site| match site {
                Some(b) => self.f.block(*b).backward,
                None => true,
            });
            if escapes && self.needs_transport(ValueId(i as u32)) {
                pending.push(ValueId(i as u32));
            }
        }
        // A worklist, because recomputing a value in a backward iteration reads its operands there:
        // an operand from an enclosing loop body or branch escapes in turn (`d11 = .. q6_2 ..`
        // recomputed in an inner backward loop needs the outer iteration's `q6_2`).
        let mut done = vec![false; self.f.nodes.len()];
        while let Some(v) = pending.pop() {
            if std::mem::replace(&mut done[v.index()], true) {
                continue;
            }
            let mut block = self.f.node(v).block;
            loop {
                let b = self.f.block(block);
                if let Some(id) = b.owner {
                    let list = self.residuals.entry(id).or_default();
                    if !list.contains(&v) {
                        list.push(v);
                    }
                    block = self.f.if_node(id).block;
                } else if b.loop_owner.is_some() {
                    if self.recomputable(v, block, 0) {
                        self.mark_recompute(v, block);
                        let mut outside = Vec::new();
                        self.outside_reads(v, block, &mut outside);
                        pending.extend(outside.into_iter().filter(|a| self.needs_transport(*a)));
                    } else {
                        self.tapes.push(Tape { value: v, body: block, name: None, stack: None, len: None });
                    }
                    break;
                } else {
                    break;
                }
            }
        }
    }

    /// Whether the backward sweep can read `v` only if the plan carries it there: a bound value of
    /// a forward block other than the function body. (A loop variable is the backward loop's own; a
    /// carried variable's value after an inner loop, `LoopOut`, is carried like any other value.)
    fn needs_transport(&self, v: ValueId) -> bool {
        let node = self.f.node(v);
        self.bound[v.index()]
            && !self.f.block(node.block).backward
            && node.block != ROOT
            && !matches!(node.op, Op::LoopVar(_))
    }

    /// The values that recomputing `v` at the start of `body`'s backward iteration reads from
    /// outside `body`: bound ones are listed, inline ones are looked through.
    fn outside_reads(&self, v: ValueId, body: BlockId, out: &mut Vec<ValueId>) {
        for a in self.f.node(v).op.operands() {
            let an = self.f.node(a);
            if an.op.is_leaf() || matches!(an.op, Op::LoopVar(_)) {
                continue;
            }
            if self.f.is_within(an.block, body) {
                self.outside_reads(a, body, out);
            } else if self.bound[a.index()] {
                out.push(a);
            } else {
                self.outside_reads(a, body, out);
            }
        }
    }

    /// Fuses a top-level loop with its reverse when the order of the backward iterations does not
    /// matter: every adjoint the backward loop carries is a constant (a sum's result adjoint, known
    /// before the loop) or an accumulator, and nothing the backward sweep does before it touches the
    /// adjoint arrays it touches. Then each iteration runs its backward part right after its forward
    /// part, with the forward values still in scope: no tape, one pass over the data. This is the
    /// common `loss += term(sample)` shape.
    fn find_fusions(&mut self, d: &Derivation) {
        let f = self.f;
        let root_items = &f.block(ROOT).items;
        let backward_items = &f.block(d.backward).items;
        for (bpos, item) in backward_items.iter().enumerate() {
            let Item::Loop(back) = *item else { continue };
            let lb = f.loop_node(back);
            let Some(mirror) = f.block(lb.body).mirror else { continue };
            let Some(forward) = f.block(mirror).loop_owner else { continue };
            let Some(fpos) = root_items.iter().position(|i| *i == Item::Loop(forward)) else { continue };
            // A `while` loop's iterations are counted as they run; its reverse stays a loop of its own.
            if f.loop_node(forward).exit.is_some() {
                continue;
            }
            // A fused reverse is printed inside its forward loop: that loop must be emitted (in a
            // pullback, `reuse.rs` can leave a forward loop with nothing the result needs).
            if !self.live_loops[back.index()] || !self.live_loops[forward.index()] {
                continue;
            }
            if !self.backward_iterations_commute(back, forward) {
                continue;
            }
            // Everything the backward body reads must exist during the forward iteration.
            let reads_ok = f.nodes.iter().enumerate().filter(|(_, n)| f.is_within(n.block, lb.body)).all(|(_, n)| {
                n.op.operands().iter().all(|a| {
                    let an = f.node(*a);
                    if an.op.is_leaf() || f.is_within(an.block, lb.body) {
                        return true;
                    }
                    if f.block(an.block).backward {
                        return false;
                    }
                    if matches!(an.op, Op::LoopOut(l, _) if l == forward) {
                        return false;
                    }
                    // A forward value: from before the loop or inside it.
                    self.top_position(an.block, *a).is_some_and(|p| p <= fpos)
                })
            });
            if !reads_ok {
                continue;
            }
            let touches = |v: ValueId| -> Vec<ArrayId> {
                match f.node(v).op {
                    Op::Load(a, ..) => vec![a],
                    _ => self.writes(v, d),
                }
            };
            let touched = |b: BlockId| -> Vec<ArrayId> {
                (0..f.nodes.len())
                    .filter(|&i| f.is_within(f.nodes[i].block, b))
                    .flat_map(|i| touches(ValueId(i as u32)))
                    .collect()
            };
            let mine = touched(lb.body);
            let earlier_conflict = backward_items[..bpos].iter().any(|item| {
                let arrays: Vec<ArrayId> = match *item {
                    Item::Value(v) => touches(v),
                    Item::Loop(l) => touched(f.loop_node(l).body),
                    Item::If(i) => {
                        let n = f.if_node(i);
                        let mut t = touched(n.then_block);
                        t.extend(touched(n.else_block));
                        t
                    }
                };
                arrays.iter().any(|a| mine.contains(a))
            });
            if earlier_conflict {
                continue;
            }
            self.fused.insert(forward, back);
        }
    }

    /// The proof obligation of fusion: running the backward iterations of `back` in forward order,
    /// each right after its forward iteration, gives the same result as running them in reverse.
    /// That holds when the iterations commute, which is checked structurally:
    ///
    /// 1. every adjoint `back` carries is a *constant* (passed through unchanged from a leaf) or an
    ///    *accumulator* `acc = acc + term` (from a leaf) whose `term` reads no accumulator;
    /// 2. nothing else in the backward body reads an accumulator (its value depends on how many
    ///    iterations ran before: `y += y + x[i]` carries `d_y = d_y + d_y`, which is not a sum of
    ///    per-iteration terms);
    /// 3. every adjoint array the body touches is private to the iteration (the adjoint of an array
    ///    declared in the loop body) or only accumulated into, `d_a[k] = d_a[k] + term`, with no
    ///    other read of it: reading `d_a[k]` to reverse a write `a[k] = e` needs the contributions of
    ///    every later forward iteration, which fused order has not yet made.
    fn backward_iterations_commute(&self, back: LoopId, forward: LoopId) -> bool {
        self.iterations_commute(back, forward, true)
    }

    /// The commutation proof (see above); `leaf_inits` also asks that every carried adjoint start
    /// from a leaf, which fusion needs (the backward loop's initial values must exist before the
    /// forward loop) and running a backward loop forward does not.
    fn iterations_commute(&self, back: LoopId, forward: LoopId, leaf_inits: bool) -> bool {
        let f = self.f;
        let lb = f.loop_node(back);
        let forward_body = f.loop_node(forward).body;
        let mut accumulators = Vec::new();
        let mut accumulator_terms = Vec::new();
        for c in &lb.carried {
            if leaf_inits && !f.node(c.init).op.is_leaf() {
                return false;
            }
            if self.passes_through(c.next, c.inner) {
                continue;
            }
            match f.node(c.next).op {
                Op::Binary(BinOp::Add, a, term) if a == c.inner => {
                    accumulators.push(c.inner);
                    accumulator_terms.push((c.next, term));
                }
                _ => return false,
            }
        }
        // Values of the backward body (at any depth) that read an accumulator, to a fixed point
        // (inner loops feed their carried values back).
        let in_body: Vec<usize> = (0..f.nodes.len()).filter(|&i| f.is_within(f.nodes[i].block, lb.body)).collect();
        let mut reads = vec![false; f.nodes.len()];
        for a in &accumulators {
            reads[a.index()] = true;
        }
        let sources = |v: ValueId| -> Vec<ValueId> {
            match &f.node(v).op {
                Op::Phi(id, k) => {
                    let n = f.if_node(*id);
                    let o = n.outputs[*k as usize];
                    vec![o.then_value, o.else_value, n.cond]
                }
                Op::LoopPhi(l, k) | Op::LoopOut(l, k) => {
                    f.loop_node(*l).carried.get(*k as usize).map(|c| vec![c.init, c.next]).unwrap_or_default()
                }
                op => op.operands(),
            }
        };
        let mut changed = true;
        while changed {
            changed = false;
            for &i in &in_body {
                let v = ValueId(i as u32);
                if !reads[i] && !accumulators.contains(&v) && sources(v).iter().any(|s| reads[s.index()]) {
                    reads[i] = true;
                    changed = true;
                }
            }
            // Loop phis are defined by their loop, not listed in a block's items.
            for l in &f.loops {
                if !f.is_within(l.block, lb.body) {
                    continue;
                }
                for c in &l.carried {
                    for v in [c.inner, c.out] {
                        if !reads[v.index()] && (reads[c.init.index()] || reads[c.next.index()]) {
                            reads[v.index()] = true;
                            changed = true;
                        }
                    }
                }
            }
        }
        let mut allowed: Vec<ValueId> = accumulator_terms.iter().map(|(next, _)| *next).collect();
        allowed.extend(&accumulators);
        if accumulator_terms.iter().any(|(_, term)| reads[term.index()]) {
            return false;
        }
        let reads_elsewhere = (0..f.nodes.len())
            .filter(|&i| reads[i] && self.live[i])
            .any(|i| !allowed.contains(&ValueId(i as u32)) && f.is_within(f.nodes[i].block, lb.body));
        if reads_elsewhere {
            return false;
        }
        // Adjoint arrays: private to the iteration, or only accumulated into.
        let private = |a: ArrayId| match f.array(a).origin {
            ArrayOrigin::Adjoint(of) => {
                f.nodes.iter().any(|n| matches!(n.op, Op::Declare(d) if d == of) && f.is_within(n.block, forward_body))
            }
            _ => false,
        };
        let mut users: Vec<Vec<ValueId>> = vec![Vec::new(); f.nodes.len()];
        for (i, n) in f.nodes.iter().enumerate() {
            for a in n.op.operands() {
                users[a.index()].push(ValueId(i as u32));
            }
        }
        for &i in &in_body {
            let node = &f.nodes[i];
            let (array, indices) = match &node.op {
                Op::Load(a, _, idx) => (*a, idx.clone()),
                Op::Store(a, args) => (*a, args[..args.len() - 1].to_vec()),
                _ => continue,
            };
            if !matches!(f.array(array).origin, ArrayOrigin::Adjoint(_)) || private(array) {
                continue;
            }
            // `old = d_a[k]; new = old ± term; d_a[k] = new`, and nothing else reads `old` or `new`.
            let accumulation_read = |load: ValueId| -> bool {
                let [update] = users[load.index()].as_slice() else { return false };
                let Op::Binary(BinOp::Add | BinOp::Sub, l, r) = f.node(*update).op else { return false };
                if l != load || r == load {
                    return false;
                }
                let [store] = users[update.index()].as_slice() else { return false };
                matches!(&f.node(*store).op, Op::Store(a, args)
                    if *a == array && args[..args.len() - 1] == indices[..] && args[args.len() - 1] == *update)
            };
            let ok = match &node.op {
                Op::Load(..) => accumulation_read(ValueId(i as u32)),
                Op::Store(_, args) => match f.node(args[args.len() - 1]).op {
                    Op::Binary(BinOp::Add | BinOp::Sub, l, _) => {
                        matches!(&f.node(l).op, Op::Load(a, _, idx) if *a == array && *idx == indices)
                            && accumulation_read(l)
                    }
                    _ => false,
                },
                _ => true,
            };
            if !ok {
                return false;
            }
        }
        true
    }

    /// Drops the tape of a carried variable's end-of-iteration value when its start-of-iteration
    /// value is taped too (`derived`).
    fn find_derived_tapes(&mut self) {
        let f = self.f;
        for node in &f.loops {
            if node.block != ROOT || node.exit.is_some() || f.block(node.body).backward {
                continue;
            }
            for c in &node.carried {
                let taped = |v: ValueId| self.tapes.iter().any(|t| t.value == v && t.body == node.body);
                if c.next == c.inner || !taped(c.inner) || !taped(c.next) || !self.bound[c.out.index()] {
                    continue;
                }
                self.tapes.retain(|t| !(t.value == c.next && t.body == node.body));
                self.derived.push(Derived { next: c.next, inner: c.inner, out: c.out, body: node.body, shadow: None });
            }
        }
    }

    /// Backward loops whose iterations commute and which pop no tape (`forward_order`).
    fn find_forward_order(&mut self) {
        let f = self.f;
        for (l, node) in f.loops.iter().enumerate() {
            let back = LoopId(l as u32);
            if !self.live_loops[l] || !f.block(node.body).backward || self.fused.values().any(|b| *b == back) {
                continue;
            }
            let Some(forward) = f.block(node.body).mirror.and_then(|m| f.block(m).loop_owner) else { continue };
            let forward_body = f.loop_node(forward).body;
            let pops =
                self.tapes.iter().any(|t| f.is_within(t.body, forward_body)) || self.pushes_call_tape(forward_body);
            if !pops && self.iterations_commute(back, forward, false) {
                self.forward_order.insert(back);
            }
        }
    }

    /// How many entries a tape pushed in `body` holds at most, when every loop between it and the
    /// function body (or a fused loop, whose iterations pop everything they push) has literal bounds.
    /// The capacity of a tape pushed in `body` when it is one loop `0..N` to a const generic `N`
    /// of the function: a stack array `[0.0; N]` (Rust sizes arrays by a bare const parameter,
    /// not by an expression of one).
    fn generic_capacity(&self, body: BlockId) -> Option<TokenStream> {
        let l = self.f.block(body).loop_owner?;
        let node = self.f.loop_node(l);
        if node.inclusive || node.exit.is_some() || self.fused.contains_key(&l) {
            return None;
        }
        // No other loop between this one and the function body (or a fused loop, whose
        // iterations pop what they push): its trip count is all the tape holds.
        let mut b = Some(node.block);
        while let Some(block) = b {
            match self.f.block(block).loop_owner {
                Some(o) if self.fused.contains_key(&o) => break,
                Some(_) => return None,
                None => {}
            }
            b = self.f.block(block).parent;
        }
        let (Op::IntLit(0), Op::Const(path)) = (&self.f.node(node.lo).op, &self.f.node(node.hi).op) else {
            return None;
        };
        let (text, tokens) = &self.f.paths[*path as usize];
        self.f.const_generics.iter().any(|g| g == text.trim()).then(|| tokens.clone())
    }

    fn literal_capacity(&self, body: BlockId) -> Option<usize> {
        let mut capacity = 1usize;
        let mut b = Some(body);
        while let Some(block) = b {
            if let Some(l) = self.f.block(block).loop_owner {
                if self.fused.contains_key(&l) {
                    break;
                }
                let node = self.f.loop_node(l);
                let (Op::IntLit(lo), Op::IntLit(hi)) = (&self.f.node(node.lo).op, &self.f.node(node.hi).op) else {
                    return None;
                };
                let trips = (hi - lo + i128::from(node.inclusive)).max(0);
                capacity = capacity.checked_mul(usize::try_from(trips).ok()?)?;
            }
            b = self.f.block(block).parent;
        }
        Some(capacity)
    }

    /// The loops whose trip counts multiply to what a tape pushed in `body` holds at once (up to a
    /// fused loop, whose iterations pop everything they push), or `None` when some bound is not
    /// fixed on entry.
    pub fn trip_loops(&self, body: BlockId) -> Option<Vec<LoopId>> {
        let mut loops = Vec::new();
        let mut b = Some(body);
        while let Some(block) = b {
            if let Some(l) = self.f.block(block).loop_owner {
                if self.fused.contains_key(&l) && block != body {
                    break;
                }
                let node = self.f.loop_node(l);
                if !self.loop_invariant(node.lo) || !self.loop_invariant(node.hi) {
                    return None;
                }
                loops.push(l);
            }
            b = self.f.block(block).parent;
        }
        Some(loops)
    }

    /// An integer expression that no loop changes (depends on no loop variable).
    fn loop_invariant(&self, v: ValueId) -> bool {
        let node = self.f.node(v);
        match node.op {
            Op::LoopVar(_) | Op::LoopPhi(..) => false,
            Op::Len(a) => matches!(self.f.array(a).origin, ArrayOrigin::Param { .. }),
            ref op if op.is_leaf() => true,
            ref op => self.inline_always(v) && op.operands().iter().all(|a| self.loop_invariant(*a)),
        }
    }

    /// Whether `next` is `inner` unchanged, also through inner loops that only carry it along.
    fn passes_through(&self, next: ValueId, inner: ValueId) -> bool {
        if next == inner {
            return true;
        }
        match self.f.node(next).op {
            Op::LoopOut(l, k) => self
                .f
                .loop_node(l)
                .carried
                .get(k as usize)
                .is_some_and(|c| self.passes_through(c.init, inner) && self.passes_through(c.next, c.inner)),
            _ => false,
        }
    }

    /// The position among the root block's items of the item that holds `v` (defined in `block`).
    fn top_position(&self, block: BlockId, v: ValueId) -> Option<usize> {
        if block == ROOT {
            let items = &self.f.block(ROOT).items;
            return match self.f.node(v).op {
                // Defined by a loop or an `if`: at that item.
                Op::LoopOut(l, _) => items.iter().position(|i| *i == Item::Loop(l)),
                Op::Phi(id, _) => items.iter().position(|i| *i == Item::If(id)),
                _ => items.iter().position(|i| *i == Item::Value(v)),
            };
        }
        self.position_in(ROOT, block, None)
    }

    /// The position among `scope`'s items of the item that holds `block` (for `block == scope`, of
    /// the value item `value`).
    fn position_in(&self, scope: BlockId, block: BlockId, value: Option<ValueId>) -> Option<usize> {
        let items = &self.f.block(scope).items;
        if block == scope {
            return items.iter().position(|i| Some(*i) == value.map(Item::Value));
        }
        let mut b = block;
        loop {
            let parent = self.f.block(b).parent?;
            if parent == scope {
                return items.iter().position(|item| match *item {
                    Item::Loop(l) => self.f.loop_node(l).body == b,
                    Item::If(i) => self.f.if_node(i).then_block == b || self.f.if_node(i).else_block == b,
                    Item::Value(_) => false,
                });
            }
            b = parent;
        }
    }

    /// A loop-body value the backward iteration can cheaply compute again instead of taping: a few
    /// arithmetic operations on reads of arrays nothing writes, the loop variable, and values from
    /// outside the loop (as Tapenade recomputes cheap values rather than storing them).
    fn recomputable(&self, v: ValueId, body: BlockId, depth: usize) -> bool {
        let node = self.f.node(v);
        if node.op.is_leaf() || !self.f.is_within(node.block, body) {
            return true;
        }
        if depth > 6 || node.block != body {
            return false;
        }
        let cheap = match &node.op {
            Op::LoopVar(_) => return true,
            Op::Load(..) => self.stable_load(v, body),
            Op::Unary(..) | Op::Binary(..) | Op::Cast(..) | Op::Len(_) => true,
            Op::Call(func, _) => {
                matches!(func, Func::Sqrt | Func::Abs | Func::Max | Func::Min | Func::MulAdd | Func::Powi | Func::Recip)
            }
            _ => false,
        };
        cheap && node.op.operands().iter().all(|a| self.recomputable(*a, body, depth + 1))
    }

    /// A read in a loop body that gives the same value when the backward sweep repeats it: nothing
    /// writes the array from the start of the outermost enclosing loop on (arrays are written
    /// before they are read, as a layer's activations are).
    fn stable_load(&self, v: ValueId, body: BlockId) -> bool {
        let Op::Load(array, ..) = self.f.node(v).op else { return false };
        if !self.f.array(array).mutable {
            return true;
        }
        // The scope whose items run once per backward pass over them: the function body, or the
        // body of a fused loop (whose backward part runs in the same iteration).
        let mut scope = ROOT;
        let mut b = Some(body);
        while let Some(block) = b {
            if let Some(l) = self.f.block(block).loop_owner {
                if self.fused.contains_key(&l) && block != body {
                    scope = block;
                    break;
                }
            }
            b = self.f.block(block).parent;
        }
        let Some(load_position) = self.position_in(scope, body, None) else { return false };
        self.f.nodes.iter().enumerate().all(|(i, n)| match n.op {
            Op::Store(a, _) | Op::Declare(a) if a == array => {
                if self.f.is_within(n.block, scope) {
                    self.position_in(scope, n.block, Some(ValueId(i as u32))).is_some_and(|p| p < load_position)
                } else {
                    // Outside a fused loop's body: before the loop (it is declared inside, or
                    // written before), never after, since nothing after can reach a loop-local.
                    scope != ROOT
                }
            }
            _ => true,
        })
    }

    fn mark_recompute(&mut self, v: ValueId, body: BlockId) {
        let node = self.f.node(v);
        if node.op.is_leaf() || !self.f.is_within(node.block, body) || self.defined_by_construct(v) {
            return;
        }
        for a in node.op.operands() {
            self.mark_recompute(a, body);
        }
        if self.bound[v.index()] {
            let list = self.recompute.entry(body).or_default();
            if !list.contains(&v) {
                list.push(v);
            }
        }
    }

    fn allocate_names(&mut self, user_tokens: TokenStream) {
        let mut names = Names::new(user_tokens);
        self.grad_name = make_ident(&names.generated("grad"));
        self.value_name = make_ident(&names.generated("value"));
        self.result_name = make_ident(&names.generated("result"));
        self.seed_name = make_ident(&names.generated("d_result"));
        for p in &self.f.params {
            let base = p.name.to_string().trim_start_matches("r#").to_string();
            let base = if base == "self" { "self_".to_string() } else { base };
            let upper = base.to_uppercase();
            self.want_names.push(make_ident(&names.generated(&format!("WANT_D_{upper}"))));
            let sink = if p.strukt.is_some() { format!("d_{base}") } else { format!("d_{base}_sink") };
            self.sink_names.push(make_ident(&names.generated(&sink)));
        }
        for p in &self.f.params {
            names.take(&p.name.to_string());
            self.names[p.value.index()] = Some(p.name.clone());
        }
        for (i, a) in self.f.arrays.iter().enumerate() {
            let name = match &a.origin {
                ArrayOrigin::Param { .. } => a.name.to_string(),
                ArrayOrigin::Local { .. } | ArrayOrigin::Returned(_) => {
                    let name = a.name.to_string();
                    match name.strip_prefix(HIDDEN) {
                        Some(base) => names.generated(base),
                        None => names.user(&name),
                    }
                }
                ArrayOrigin::Adjoint(of) => {
                    let base = self.array_names[of.index()].as_ref().map(|n| n.to_string()).unwrap_or_default();
                    names.generated(&format!("d_{base}"))
                }
                ArrayOrigin::Const(_) | ArrayOrigin::Field { .. } | ArrayOrigin::Result => a.name.to_string(),
            };
            self.array_names[i] = Some(make_ident(&name));
        }
        for (l, node) in self.f.loops.iter().enumerate() {
            if !self.live_loops[l] || self.names[node.var.index()].is_some() {
                continue;
            }
            // `for xi in x.iter()` has no index in the source; the generated code indexes with one.
            let var = node.var_name.to_string();
            let name = if var == "_" {
                make_ident(&names.generated("i"))
            } else if let Some(base) = var.strip_prefix(HIDDEN) {
                make_ident(&names.generated(base))
            } else {
                node.var_name.clone()
            };
            self.names[node.var.index()] = Some(name);
        }
        for i in 0..self.f.nodes.len() {
            if !self.bound[i] || self.names[i].is_some() {
                continue;
            }
            let v = ValueId(i as u32);
            // A carried variable has one name inside and after its loop.
            let partner = match self.f.nodes[i].op {
                Op::LoopPhi(l, k) | Op::LoopOut(l, k) => {
                    self.f.loop_node(l).carried.get(k as usize).map(|c| if c.inner == v { c.out } else { c.inner })
                }
                _ => None,
            };
            let hint = self.f.nodes[i].hint.clone().or_else(|| partner.and_then(|p| self.f.node(p).hint.clone()));
            let name = match hint {
                // Names the lowering made up (an iterator's accumulator) read as generated ones.
                Some(Hint::User(n)) if n.starts_with(HIDDEN) => names.generated(&n[HIDDEN.len()..]),
                Some(Hint::User(n)) | Some(Hint::Output(n)) => names.user(n.trim_start_matches("r#")),
                Some(Hint::Adjoint(of)) => match (&self.names[of.index()], &self.f.node(of).hint) {
                    (Some(base), _) => names.generated(&format!("d_{}", base.to_string().trim_start_matches("r#"))),
                    // A value no longer computed (a pullback reads it from its result) still
                    // names its adjoint.
                    (None, Some(Hint::User(n))) if !n.starts_with(HIDDEN) => {
                        names.generated(&format!("d_{}", n.trim_start_matches("r#")))
                    }
                    (None, _) => names.temp(),
                },
                None => names.temp(),
            };
            let ident = make_ident(&name);
            if let Some(p) = partner {
                self.names[p.index()] = Some(ident.clone());
            }
            self.names[i] = Some(ident);
        }
        for d in &mut self.derived {
            let base = self.names[d.next.index()].as_ref().map(|n| n.to_string()).unwrap_or_default();
            d.shadow = Some(make_ident(&names.generated(&format!("{base}_later"))));
        }
        let capacities: Vec<Option<TokenStream>> = self
            .tapes
            .iter()
            .map(|t| {
                let literal = self.literal_capacity(t.body).filter(|k| (1..=STACK_TAPE_LIMIT).contains(k));
                literal
                    .map(|k| proc_macro2::Literal::usize_unsuffixed(k).into_token_stream())
                    .or_else(|| self.generic_capacity(t.body))
            })
            .collect();
        let sized: Vec<bool> = self.tapes.iter().map(|t| self.trip_loops(t.body).is_some()).collect();
        for (k, (t, capacity)) in self.tapes.iter_mut().zip(capacities).enumerate() {
            let base = self.names[t.value.index()].as_ref().map(|n| n.to_string()).unwrap_or_default();
            let name = names.generated(&format!("tape_{base}"));
            let len = Ident::new(&names.generated(&format!("{name}_len")), Span::call_site());
            if let Some(k) = capacity {
                t.stack = Some((k, len.clone()));
            }
            // Indexed by a fill count when its size is known on entry (a stack array or a buffer
            // sized once per call); pushed and popped otherwise (a `while` loop's).
            if t.stack.is_some() || sized[k] {
                t.len = Some(len);
            }
            t.name = Some(Ident::new(&name, Span::call_site()));
        }
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

/// An identifier for `name`, raw (`r#match`) when `name` is a keyword.
pub(crate) fn make_ident(name: &str) -> Ident {
    // Path keywords cannot be raw; `self` is the receiver.
    if matches!(name, "self" | "Self" | "super" | "crate") {
        return Ident::new(name, Span::call_site());
    }
    match syn::parse_str::<Ident>(name) {
        Ok(_) => Ident::new(name, Span::call_site()),
        Err(_) => Ident::new_raw(name, Span::call_site()),
    }
}
