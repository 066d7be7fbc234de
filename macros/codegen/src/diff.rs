//! Reverse-mode differentiation on the IR: a backward sweep that visits values in reverse order and
//! gives each active value one adjoint, the sum of its consumers' adjoints times the local factors.
//!
//! A value is active when it depends on a differentiated argument and the result depends on it;
//! others get no adjoint at all. A forward `if` becomes a backward `if` on the same condition: the
//! adjoints of the `if`'s outputs flow into the branch that ran, and what that branch contributes to
//! values defined before it comes back out as outputs of the backward `if`.
//!
//! A `for` loop is reversed as a loop over the same range backwards. A carried variable's adjoint is
//! carried backwards; contributions to values defined outside the loop are summed in accumulators
//! carried by the backward loop. An array has an adjoint array: a read `v = a[i]` adds `d_v` to
//! `d_a[i]`; a write `a[i] = e` passes `d_a[i]` to `e` and clears it (the old value is gone).

use crate::ir::{
    Array, ArrayId, ArrayOrigin, BinOp, BlockId, CallArg, Carried, Func, Function, Hint, Item, LoopId, LoopNode, Op,
    Ty, ValueId, ROOT,
};
use crate::rules::{local_factors, Builder, Factor};
use proc_macro2::Span;
use std::collections::{BTreeMap, BTreeSet};

/// One use of the chain rule: `consumer` passes `d_consumer · factor` to `operand`.
#[derive(Clone, Copy, Debug)]
pub struct Edge {
    pub consumer: ValueId,
    pub operand: ValueId,
    pub factor: Factor,
}

/// The result of differentiation. The backward values live in `Function` next to the forward ones.
pub struct Derivation {
    /// The top block of the backward sweep.
    pub backward: BlockId,
    /// Per parameter (in signature order): its gradient value, `None` when it is exactly zero
    /// (not differentiated, or the result does not depend on it).
    pub gradients: Vec<Option<ValueId>>,
    /// Every chain-rule edge, for the derivation shown in the doc comment.
    pub edges: Vec<Edge>,
    /// Per value, its adjoint (when it has one).
    pub adjoints: BTreeMap<ValueId, ValueId>,
    /// Per array, its adjoint array (for arrays that vary with a differentiated argument).
    pub array_adjoints: BTreeMap<ArrayId, ArrayId>,
}

type Contributions = BTreeMap<ValueId, Vec<ValueId>>;

/// Which values (and arrays) depend on a differentiated argument. Iterated to a fixed point, since
/// a loop's later iterations feed its carried variables and arrays back to earlier code.
pub fn varied_values(f: &Function) -> (Vec<bool>, Vec<bool>) {
    let mut varied = vec![false; f.nodes.len()];
    let mut arrays = vec![false; f.arrays.len()];
    for p in &f.params {
        match p.array {
            Some(a) => arrays[a.index()] = p.wrt,
            None => varied[p.value.index()] = p.wrt && p.strukt.is_none(),
        }
    }
    // Every field read of a differentiated parameter struct varies with it.
    for (i, a) in f.arrays.iter().enumerate() {
        if let ArrayOrigin::Field { param, .. } = a.origin {
            arrays[i] = f.params[param as usize].wrt;
        }
    }
    loop {
        let mut changed = false;
        for i in 0..f.nodes.len() {
            let node = &f.nodes[i];
            if let Op::Store(a, args) = &node.op {
                let value = args[args.len() - 1];
                if varied[value.index()] && !arrays[a.index()] {
                    arrays[a.index()] = true;
                    changed = true;
                }
                continue;
            }
            // A call varies with its float arguments and with the places it reads.
            if let Op::Invoke(call, operands) = &node.op {
                let site = &f.calls[call.index()];
                // A passive call's integer or `bool` carries no derivative.
                if site.passive {
                    continue;
                }
                let now = operands.iter().any(|a| varied[a.index()] && f.ty(*a).float().is_some())
                    || site.args.iter().any(|a| matches!(a, CallArg::Place { array, .. } if arrays[array.index()]));
                match site.result {
                    Some(r) if now && !arrays[r.index()] => {
                        arrays[r.index()] = true;
                        changed = true;
                    }
                    None if now != varied[i] => {
                        varied[i] = now;
                        changed = true;
                    }
                    _ => {}
                }
                continue;
            }
            if node.ty.float().is_none() {
                continue;
            }
            let now = match &node.op {
                Op::Param(_) => varied[i],
                Op::Phi(id, k) => {
                    let out = f.if_node(*id).outputs[*k as usize];
                    varied[out.then_value.index()] || varied[out.else_value.index()]
                }
                Op::LoopPhi(l, k) | Op::LoopOut(l, k) => {
                    let c = f.loop_node(*l).carried.get(*k as usize).copied();
                    c.is_some_and(|c| varied[c.init.index()] || varied[c.next.index()])
                }
                Op::Load(a, ..) => arrays[a.index()],
                Op::Call(Func::SumArray(a, _), _) => arrays[*a as usize],
                op => op.operands().iter().any(|a| varied[a.index()] && f.ty(*a).float().is_some()),
            };
            if now != varied[i] {
                varied[i] = now;
                changed = true;
            }
        }
        if !changed {
            return (varied, arrays);
        }
    }
}

pub fn differentiate(f: &mut Function) -> Derivation {
    differentiate_from(f, false)
}

/// The sweep of a pullback: the result's adjoint is the seed `Op::Seed` (the caller's adjoint of
/// the call) instead of 1.
pub fn differentiate_seeded(f: &mut Function) -> Derivation {
    differentiate_from(f, true)
}

fn differentiate_from(f: &mut Function, seeded: bool) -> Derivation {
    let (mut varied, varied_arrays) = varied_values(f);
    // Active: varied and reaching the result through float data (not only through a condition or
    // an index); the others would only ever carry a zero adjoint.
    for (v, u) in varied.iter_mut().zip(crate::useful::useful_values(f)) {
        *v &= u;
    }
    let backward = f.new_block(None, Some(ROOT), true);
    // Every array that varies gets an adjoint array, zero until the backward sweep fills it.
    let mut array_adjoints = BTreeMap::new();
    for (i, &v) in varied_arrays.iter().enumerate() {
        if v {
            let a = f.array(ArrayId(i as u32)).clone();
            let adjoint = f.add_array(Array {
                name: syn::Ident::new(&format!("d_{}", a.name), a.name.span()),
                elem: a.elem,
                dims: a.dims.clone(),
                origin: ArrayOrigin::Adjoint(ArrayId(i as u32)),
                mutable: true,
            });
            array_adjoints.insert(ArrayId(i as u32), adjoint);
        }
    }
    let mut sweep =
        Sweep { varied, edges: Vec::new(), adjoints: BTreeMap::new(), array_adjoints, maybe_zero: BTreeSet::new() };
    let mut contributions = Contributions::new();
    if let Some(out) = f.output {
        if sweep.is_varied(out) {
            let ty = f.ty(out).float().unwrap_or(f.float);
            let seed = if seeded { f.add(Op::Seed, Ty::Float(ty), ROOT, Span::call_site()) } else { f.lit(1.0, ty) };
            contributions.insert(out, vec![seed]);
        }
    }
    sweep.reverse_block(f, ROOT, backward, &mut contributions);
    let mut gradients = Vec::new();
    for i in 0..f.params.len() {
        let p = f.params[i].value;
        let list = contributions.remove(&p).unwrap_or_default();
        let g = sweep.sum(f, backward, p, list).map(|g| sweep.bind_adjoint(f, p, g, backward));
        gradients.push(g);
    }
    Derivation {
        backward,
        gradients,
        edges: sweep.edges,
        adjoints: sweep.adjoints,
        array_adjoints: sweep.array_adjoints,
    }
}

struct Sweep {
    varied: Vec<bool>,
    edges: Vec<Edge>,
    adjoints: BTreeMap<ValueId, ValueId>,
    array_adjoints: BTreeMap<ArrayId, ArrayId>,
    /// Adjoints that are exactly zero whenever a branch did not run: the outputs of a backward `if`
    /// with a zero side, and what flows from them. The derivative follows the branch taken, so a
    /// value only an untaken branch uses must contribute nothing, even where its local factor is
    /// infinite or NaN (`let n = x.sqrt(); if n > 0.0 { n } else { 0.0 }` at `x = 0`, where
    /// `0 · 1/(2n)` would be NaN). Their contributions through a non-constant factor are therefore
    /// built as `UnlessZero(d, d · factor)`; adjoints not in this set never pay for the check.
    maybe_zero: BTreeSet<ValueId>,
}

impl Sweep {
    fn is_varied(&self, v: ValueId) -> bool {
        self.varied.get(v.index()).copied().unwrap_or(false)
    }

    fn builder<'f>(&self, f: &'f mut Function, block: BlockId, like: ValueId) -> Builder<'f> {
        let ty = f.ty(like).float().unwrap_or(f.float);
        Builder { f, block, ty }
    }

    /// The sum of contributions, built left to right; `None` for no contributions (a zero).
    fn sum(&mut self, f: &mut Function, block: BlockId, like: ValueId, list: Vec<ValueId>) -> Option<ValueId> {
        let all_maybe_zero = !list.is_empty() && list.iter().all(|c| self.maybe_zero.contains(c));
        let mut b = self.builder(f, block, like);
        let total = list.into_iter().reduce(|acc, c| b.add(acc, c));
        if let (true, Some(t)) = (all_maybe_zero, total) {
            self.maybe_zero.insert(t);
        }
        total
    }

    /// Gives `v`'s adjoint `dv` its readable name `d_<v>` when `v` is a named value: by naming `dv`
    /// itself when it is a fresh backward value, or through a named copy otherwise. Adjoints of
    /// unnamed temporaries stay unnamed, so they can be written inline into their single use.
    fn bind_adjoint(&mut self, f: &mut Function, v: ValueId, dv: ValueId, block: BlockId) -> ValueId {
        let node = f.node(v);
        let named = matches!(node.hint, Some(Hint::User(_)) | Some(Hint::Output(_))) || matches!(node.op, Op::Param(_));
        // A backward loop's carried adjoint is already named by its loop.
        let by_construct = matches!(f.node(dv).op, Op::LoopPhi(..) | Op::LoopOut(..));
        let bound = if !named || f.node(dv).op.is_leaf() || (by_construct && f.node(dv).hint.is_some()) {
            dv
        } else if f.node(dv).hint.is_none() && f.node(dv).block == block {
            f.node_mut(dv).hint = Some(Hint::Adjoint(v));
            dv
        } else {
            let ty = f.ty(dv);
            let alias = f.add(Op::Alias(dv), ty, block, proc_macro2::Span::call_site());
            f.node_mut(alias).hint = Some(Hint::Adjoint(v));
            alias
        };
        if self.maybe_zero.contains(&dv) {
            self.maybe_zero.insert(bound);
        }
        self.adjoints.insert(v, bound);
        bound
    }

    fn reverse_block(
        &mut self,
        f: &mut Function,
        forward: BlockId,
        backward: BlockId,
        contributions: &mut Contributions,
    ) {
        let items = f.block(forward).items.clone();
        for item in items.into_iter().rev() {
            match item {
                Item::Value(v) => self.reverse_value(f, v, backward, contributions),
                Item::If(id) => self.reverse_if(f, id, backward, contributions),
                Item::Loop(id) => self.reverse_loop(f, id, backward, contributions),
            }
        }
    }

    fn reverse_value(&mut self, f: &mut Function, v: ValueId, block: BlockId, contributions: &mut Contributions) {
        if let Op::Store(array, args) = f.node(v).op.clone() {
            self.reverse_store(f, v, array, &args, block, contributions);
            return;
        }
        // A call returning an array: its pullback takes the result's adjoint array.
        if let Op::Invoke(call, operands) = f.node(v).op.clone() {
            if let Some(result) = f.calls[call.index()].result {
                if self.array_adjoints.contains_key(&result) {
                    self.pull_back(f, call, operands, None, block, contributions);
                }
                return;
            }
        }
        // An array declared inside a loop starts afresh each iteration: what its adjoint gathered
        // belongs to this iteration only.
        if let Op::Declare(array) = f.node(v).op {
            let in_loop = f.block(f.node(v).block).loop_owner.is_some() || f.node(v).block != ROOT;
            if let (true, Some(&adjoint)) = (in_loop, self.array_adjoints.get(&array)) {
                f.add_unique(Op::Declare(adjoint), Ty::Unit, block, Span::call_site());
                f.bump_version(adjoint);
            }
            return;
        }
        if !self.is_varied(v) {
            return;
        }
        let Some(list) = contributions.remove(&v) else {
            return;
        };
        let Some(dv) = self.sum(f, block, v, list) else {
            return;
        };
        let dv = self.bind_adjoint(f, v, dv, block);
        match f.node(v).op.clone() {
            Op::Load(array, _, indices) => {
                self.accumulate_into(f, array, &indices, dv, block);
                return;
            }
            Op::Call(Func::SumArray(array, _), _) => {
                self.spread_sum(f, ArrayId(array), dv, block);
                return;
            }
            Op::Invoke(call, operands) => {
                self.pull_back(f, call, operands, Some((v, dv)), block, contributions);
                return;
            }
            _ => {}
        }
        let operands = f.node(v).op.operands();
        let mut b = self.builder(f, block, v);
        for (position, factor) in local_factors(&mut b, v) {
            let operand = operands[position];
            if !self.is_varied(operand) {
                continue;
            }
            let mut b = self.builder(f, block, operand);
            let mut c = b.contribution(dv, factor);
            if self.maybe_zero.contains(&dv) {
                let constant = match factor {
                    // An argument may be zero or infinite; a literal is what it says.
                    Factor::Times(g) | Factor::Over(g) | Factor::MinusOver(g) => {
                        matches!(f.node(g).op, Op::FloatLit(_) | Op::Const(_)) && f.float_lit(g) != Some(0.0)
                    }
                    Factor::One | Factor::MinusOne | Factor::Cast(_) => true,
                };
                if !constant {
                    let mut b = self.builder(f, block, operand);
                    c = b.call(Func::UnlessZero, vec![dv, c]);
                }
                self.maybe_zero.insert(c);
            }
            contributions.entry(operand).or_default().push(c);
            self.edges.push(Edge { consumer: v, operand, factor });
        }
    }

    fn reverse_if(&mut self, f: &mut Function, id: crate::ir::IfId, block: BlockId, contributions: &mut Contributions) {
        let node = f.if_node(id).clone();
        let mut then_in = Contributions::new();
        let mut else_in = Contributions::new();
        for out in &node.outputs {
            if !self.is_varied(out.phi) {
                continue;
            }
            let Some(list) = contributions.remove(&out.phi) else {
                continue;
            };
            let Some(d) = self.sum(f, block, out.phi, list) else {
                continue;
            };
            let d = self.bind_adjoint(f, out.phi, d, block);
            for (value, side) in [(out.then_value, &mut then_in), (out.else_value, &mut else_in)] {
                if self.is_varied(value) {
                    side.entry(value).or_default().push(d);
                    self.edges.push(Edge { consumer: out.phi, operand: value, factor: Factor::One });
                }
            }
        }
        // A branch that writes an element of an array with an adjoint must be reversed even when no
        // output of the `if` varies: the write's reverse passes the element's adjoint on.
        let writes_adjoint_array = |f: &Function, b: BlockId| {
            f.nodes.iter().any(|n| {
                f.is_within(n.block, b) && matches!(&n.op, Op::Store(a, _) if self.array_adjoints.contains_key(a))
            })
        };
        if then_in.is_empty()
            && else_in.is_empty()
            && !writes_adjoint_array(f, node.then_block)
            && !writes_adjoint_array(f, node.else_block)
        {
            return;
        }
        let then_block = f.new_block(Some(block), Some(node.then_block), true);
        self.reverse_block(f, node.then_block, then_block, &mut then_in);
        let else_block = f.new_block(Some(block), Some(node.else_block), true);
        self.reverse_block(f, node.else_block, else_block, &mut else_in);

        // What is left are contributions to values defined before the `if`.
        let mut outside: Vec<ValueId> = then_in.keys().chain(else_in.keys()).copied().collect();
        outside.sort();
        outside.dedup();
        // A branch that only writes adjoint arrays still has to run.
        let has_items = |b: BlockId| !f.block(b).items.is_empty();
        if outside.is_empty() && !has_items(then_block) && !has_items(else_block) {
            return;
        }
        let mut sides = Vec::new();
        for &v in &outside {
            let ty = f.ty(v).float().unwrap_or(f.float);
            let t = then_in.remove(&v).and_then(|l| self.sum(f, then_block, v, l));
            let e = else_in.remove(&v).and_then(|l| self.sum(f, else_block, v, l));
            let t = t.unwrap_or_else(|| f.lit(0.0, ty));
            let e = e.unwrap_or_else(|| f.lit(0.0, ty));
            let zero_or_maybe = |x: ValueId| f.float_lit(x) == Some(0.0) || self.maybe_zero.contains(&x);
            // A side that did not contribute gives exactly zero when its branch runs.
            let maybe_zero = zero_or_maybe(t) || zero_or_maybe(e);
            sides.push((v, t, e, ty, maybe_zero));
        }
        let backward_if = f.add_if(node.cond, then_block, else_block, block);
        for (v, t, e, ty, maybe_zero) in sides {
            let phi = f.add_if_output(backward_if, t, e, Ty::Float(ty), f.node(v).span);
            if maybe_zero {
                self.maybe_zero.insert(phi);
            }
            contributions.entry(v).or_default().push(phi);
        }
    }

    /// The reverse of a call: the callee's pullback, given the result and its adjoint (a float's,
    /// or for an array result the adjoint array), adds into the adjoints of the places it was
    /// passed and returns the adjoints of its float arguments.
    fn pull_back(
        &mut self,
        f: &mut Function,
        call: crate::ir::CallId,
        mut operands: Vec<ValueId>,
        float_result: Option<(ValueId, ValueId)>,
        block: BlockId,
        contributions: &mut Contributions,
    ) {
        let maybe_zero = float_result.is_some_and(|(_, dv)| self.maybe_zero.contains(&dv));
        if let Some((v, dv)) = float_result {
            operands.extend([v, dv]);
        }
        let span = f.calls[call.index()].span;
        let pb = f.add_unique(Op::Pullback(call, operands), Ty::Unit, block, span);
        let site = f.calls[call.index()].clone();
        for (k, arg) in site.args.iter().enumerate() {
            match arg {
                CallArg::Value(a) if self.is_varied(*a) && f.ty(*a).float().is_some() => {
                    let ty = f.ty(*a);
                    let mut out = f.add_unique(Op::PullbackOut(pb, k as u32), ty, block, span);
                    if maybe_zero {
                        let dv = float_result.map(|(_, dv)| dv).unwrap_or(out);
                        let mut b = self.builder(f, block, *a);
                        out = b.call(Func::UnlessZero, vec![dv, out]);
                        self.maybe_zero.insert(out);
                    }
                    contributions.entry(*a).or_default().push(out);
                }
                CallArg::Place { array, .. } => {
                    if let Some(&adjoint) = self.array_adjoints.get(array) {
                        f.bump_version(adjoint);
                    }
                }
                CallArg::Value(_) => {}
            }
        }
    }

    /// `d_a[indices] += dv`.
    fn accumulate_into(&mut self, f: &mut Function, array: ArrayId, indices: &[ValueId], dv: ValueId, block: BlockId) {
        let Some(&adjoint) = self.array_adjoints.get(&array) else { return };
        let ty = f.array(adjoint).elem;
        let version = f.versions[adjoint.index()];
        let old = f.add(Op::Load(adjoint, version, indices.to_vec()), ty, block, Span::call_site());
        let mut b = self.builder(f, block, dv);
        let new = b.add(old, dv);
        let mut args = indices.to_vec();
        args.push(new);
        f.add_unique(Op::Store(adjoint, args), Ty::Unit, block, Span::call_site());
        f.bump_version(adjoint);
    }

    /// The reverse of `a[indices] = e`: `e` receives `d_a[indices]`, which is then cleared, since the
    /// element's earlier value no longer reaches the result.
    fn reverse_store(
        &mut self,
        f: &mut Function,
        store: ValueId,
        array: ArrayId,
        args: &[ValueId],
        block: BlockId,
        contributions: &mut Contributions,
    ) {
        let Some(&adjoint) = self.array_adjoints.get(&array) else { return };
        let (indices, value) = args.split_at(args.len() - 1);
        let value = value[0];
        let ty = f.array(adjoint).elem;
        let version = f.versions[adjoint.index()];
        let d = f.add(Op::Load(adjoint, version, indices.to_vec()), ty, block, Span::call_site());
        // `a[i] += e` / `a[i] -= e`: the element's old value gets `d_a[i]` back unchanged, so
        // `d_a[i]` is left as it is and only `e` receives it (`±d_a[i]`); clearing it and adding
        // it back would make the backward loop read and write `d_a` in every iteration (no forward
        // order, no vectorisation).
        if let Some((e, factor)) = accumulated_term(f, store, array, indices, value) {
            // Named, so read here: later items of this block may store into `d_a` (a read of
            // `a[j]` in `e`, with `j == i` at run time), and an inlined read would move past them
            // into whatever uses its contribution (a loop's accumulator, printed at the body's end).
            if f.node(d).hint.is_none() {
                f.node_mut(d).hint = Some(Hint::Adjoint(value));
            }
            if self.is_varied(e) {
                let mut b = self.builder(f, block, e);
                let c = b.contribution(d, factor);
                contributions.entry(e).or_default().push(c);
                self.edges.push(Edge { consumer: value, operand: e, factor });
            }
            return;
        }
        if self.is_varied(value) {
            contributions.entry(value).or_default().push(d);
        }
        let zero = f.lit(0.0, ty.float().unwrap_or(f.float));
        let mut store = indices.to_vec();
        store.push(zero);
        f.add_unique(Op::Store(adjoint, store), Ty::Unit, block, Span::call_site());
        f.bump_version(adjoint);
    }

    /// The reverse of `s = a.iter().sum()`: `for i in 0..a.len() { d_a[i] += d_s; }`.
    fn spread_sum(&mut self, f: &mut Function, array: ArrayId, ds: ValueId, block: BlockId) {
        if !self.array_adjoints.contains_key(&array) {
            return;
        }
        let lo = f.add(Op::IntLit(0), Ty::Int, ROOT, Span::call_site());
        let hi = f.add(Op::Len(array), Ty::Int, block, Span::call_site());
        let body = f.new_block(Some(block), None, true);
        let id = f.reserve_loop(LoopNode {
            var: ValueId(0),
            var_name: syn::Ident::new("i", Span::call_site()),
            lo,
            hi,
            inclusive: false,
            rev: false,
            body,
            block,
            carried: Vec::new(),
            exit: None,
            trips: None,
        });
        let var = f.add_defined_by_construct(Op::LoopVar(id), Ty::Int, body, Span::call_site());
        f.loops[id.index()].var = var;
        f.bump_all_versions();
        self.accumulate_into(f, array, &[var], ds, body);
        f.bump_all_versions();
        f.place_loop(id);
    }

    /// Whether anything in `block` (or nested in it) varies: only then does a loop need reversing.
    fn block_varies(&self, f: &Function, block: BlockId) -> bool {
        f.nodes.iter().enumerate().any(|(i, n)| {
            f.is_within(n.block, block)
                && (self.varied.get(i).copied().unwrap_or(false)
                    || matches!(&n.op, Op::Store(a, _) if self.array_adjoints.contains_key(a)))
        })
    }

    /// Reverses `for i in lo..hi { body }` into `for i in (lo..hi).rev() { backward body }`.
    fn reverse_loop(&mut self, f: &mut Function, id: LoopId, block: BlockId, contributions: &mut Contributions) {
        let node = f.loop_node(id).clone();
        // The adjoints of the carried variables after the loop.
        let mut carried_adjoints = Vec::new();
        for c in &node.carried {
            let d = if self.is_varied(c.out) {
                contributions.remove(&c.out).and_then(|list| self.sum(f, block, c.out, list))
            } else {
                None
            };
            let d = d.map(|d| self.bind_adjoint(f, c.out, d, block));
            carried_adjoints.push(d);
        }
        if !self.block_varies(f, node.body) {
            return;
        }
        f.bump_all_versions();
        let body = f.new_block(Some(block), Some(node.body), true);
        let back = f.reserve_loop(LoopNode {
            var: node.var,
            var_name: node.var_name.clone(),
            lo: node.lo,
            hi: node.hi,
            inclusive: node.inclusive,
            rev: !node.rev,
            body,
            block,
            carried: Vec::new(),
            exit: None,
            trips: None,
        });
        let mut inside = Contributions::new();
        // A carried variable's adjoint enters each backward iteration as the adjoint of the value the
        // forward iteration ended with.
        let mut specs = Vec::new();
        for (c, d_out) in node.carried.iter().zip(&carried_adjoints) {
            if !self.is_varied(c.inner) && !self.is_varied(c.next) {
                continue;
            }
            let ty = f.ty(c.out);
            let k = specs.len() as u32;
            let phi = f.add_defined_by_construct(Op::LoopPhi(back, k), ty, body, f.node(c.out).span);
            f.node_mut(phi).hint = Some(Hint::Adjoint(c.out));
            if self.is_varied(c.next) {
                inside.entry(c.next).or_default().push(phi);
            }
            specs.push((*c, phi, *d_out));
        }
        self.reverse_block(f, node.body, body, &mut inside);

        let mut carried = Vec::new();
        let mut targets = Vec::new();
        for (c, phi, d_out) in specs {
            let ty = f.ty(c.out).float().unwrap_or(f.float);
            let next = inside.remove(&c.inner).and_then(|l| self.sum(f, body, c.inner, l));
            let next = next.unwrap_or_else(|| f.lit(0.0, ty));
            let init = d_out.unwrap_or_else(|| f.lit(0.0, ty));
            carried.push(Carried { init, inner: phi, next, out: phi });
            targets.push(c.init);
        }
        // What is left are contributions to values defined outside the loop: summed over the
        // iterations in accumulators.
        let outside: Vec<ValueId> = inside.keys().copied().collect();
        for v in outside {
            let list = inside.remove(&v).unwrap_or_default();
            let ty = f.ty(v).float().unwrap_or(f.float);
            let k = carried.len() as u32;
            let acc = f.add_defined_by_construct(Op::LoopPhi(back, k), Ty::Float(ty), body, Span::call_site());
            let Some(total) = self.sum(f, body, v, list) else { continue };
            let mut b = self.builder(f, body, v);
            let next = b.add(acc, total);
            let init = f.lit(0.0, ty);
            carried.push(Carried { init, inner: acc, next, out: acc });
            targets.push(v);
        }
        for (k, (c, target)) in carried.iter_mut().zip(targets).enumerate() {
            let ty = f.ty(c.inner);
            let out = f.add_defined_by_construct(Op::LoopOut(back, k as u32), ty, block, Span::call_site());
            c.out = out;
            if self.is_varied(target) {
                contributions.entry(target).or_default().push(out);
            }
        }
        f.loops[back.index()].carried = carried;
        f.place_loop(back);
        f.bump_all_versions();
    }
}

/// For a store `a[i] = a[i] + e`, `e + a[i]` or `a[i] - e` (`+=`, `-=`) whose read is of the element
/// the store overwrites (same block, same index values, no store, declaration, call or nested
/// construct between the read and the store): `e` and the factor `d_e` gets from `d_a[i]`.
fn accumulated_term(
    f: &Function,
    store: ValueId,
    array: ArrayId,
    indices: &[ValueId],
    value: ValueId,
) -> Option<(ValueId, Factor)> {
    let (old, e, factor) = match f.node(value).op {
        Op::Binary(BinOp::Add, l, r) if is_load_of(f, l, array, indices) => (l, r, Factor::One),
        Op::Binary(BinOp::Add, l, r) if is_load_of(f, r, array, indices) => (r, l, Factor::One),
        Op::Binary(BinOp::Sub, l, r) if is_load_of(f, l, array, indices) => (l, r, Factor::MinusOne),
        _ => return None,
    };
    let block = f.node(store).block;
    if f.node(old).block != block || f.ty(e).float().is_none() {
        return None;
    }
    let items = &f.block(block).items;
    let at = |v: ValueId| items.iter().position(|item| *item == Item::Value(v));
    let (from, to) = (at(old)?, at(store)?);
    let clean = items[from + 1..to].iter().all(|item| match item {
        Item::Value(v) => !matches!(
            f.node(*v).op,
            Op::Store(..) | Op::Declare(_) | Op::Invoke(..) | Op::Pullback(..) | Op::PullbackOut(..)
        ),
        Item::If(_) | Item::Loop(_) => false,
    });
    clean.then_some((e, factor))
}

fn is_load_of(f: &Function, v: ValueId, array: ArrayId, indices: &[ValueId]) -> bool {
    matches!(&f.node(v).op, Op::Load(a, _, idx) if *a == array && idx.as_slice() == indices)
}
