//! Fusion: top-level loops (and loops directly inside a fused one's body) whose reverse runs inside
//! them, iteration by iteration, and its proof obligation (the backward iterations commute), which
//! also lets other backward loops run in forward order; with the item positions the checks compare.

use super::Plan;
use crate::diff::Derivation;
use crate::ir::{ArrayId, ArrayOrigin, BinOp, BlockId, Item, LoopId, Op, ValueId, ROOT};

impl Plan<'_> {
    /// Fuses a top-level loop with its reverse when the order of the backward iterations does not
    /// matter: every adjoint the backward loop carries is a constant (a sum's result adjoint, known
    /// before the loop) or an accumulator, and nothing the backward sweep does before it touches the
    /// adjoint arrays it touches. Then each iteration runs its backward part right after its forward
    /// part, with the forward values still in scope: no tape, one pass over the data. This is the
    /// common `loss += term(sample)` shape.
    pub(super) fn find_fusions(&mut self, d: &Derivation) {
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
            if self.earlier_conflict(&backward_items[..bpos], lb.body, d) {
                continue;
            }
            self.fused.insert(forward, back);
        }
        self.find_inner_fusions(d);
    }

    /// Whether an item of `earlier` (backward items that run before a backward loop body `body`)
    /// reads or writes an array that `body` reads or writes: fusing would move `body`'s work before
    /// theirs.
    fn earlier_conflict(&self, earlier: &[Item], body: BlockId, d: &Derivation) -> bool {
        let f = self.f;
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
        let mine = touched(body);
        earlier.iter().any(|item| {
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
        })
    }

    /// Fuses a loop inside a fused loop's body with its reverse (inside the fused reverse's body),
    /// under the same proof as [`Plan::find_fusions`], when the reverse needs nothing the rest of the
    /// outer iteration's backward part computes: its carried adjoints start from a leaf, from the
    /// outer reverse's carried values (as they stand when the outer iteration starts), or from
    /// values computed before the outer loop. This is `r = Σₗ term(l); total += r` inside a fused
    /// `total += ..` loop: the adjoint of `r` is `total`'s, known before the inner loop runs, so its
    /// reverse runs in the same inner iteration, reads the forward values in scope instead of
    /// computing them again, and the outer iteration makes one pass over the inner data.
    fn find_inner_fusions(&mut self, d: &Derivation) {
        let f = self.f;
        let outer: Vec<(LoopId, LoopId)> = self.fused.iter().map(|(a, b)| (*a, *b)).collect();
        for (outer_forward, outer_back) in outer {
            let outer_body = f.loop_node(outer_forward).body;
            let back_items = &f.block(f.loop_node(outer_back).body).items;
            for (bpos, item) in back_items.iter().enumerate() {
                let Item::Loop(back) = *item else { continue };
                let lb = f.loop_node(back);
                let Some(mirror) = f.block(lb.body).mirror else { continue };
                let Some(forward) = f.block(mirror).loop_owner else { continue };
                if f.loop_node(forward).block != outer_body || f.loop_node(forward).exit.is_some() {
                    continue;
                }
                if !self.live_loops[back.index()] || !self.live_loops[forward.index()] {
                    continue;
                }
                let Some(fpos) = f.block(outer_body).items.iter().position(|i| *i == Item::Loop(forward)) else {
                    continue;
                };
                // Available when the inner forward loop starts: a leaf, a value from before it in the
                // outer body, anything before the outer loop, or the outer reverse's carried values.
                let available = |v: ValueId| -> bool {
                    let n = f.node(v);
                    if n.op.is_leaf() || matches!(n.op, Op::LoopPhi(l, _) if l == outer_back) {
                        return true;
                    }
                    if f.block(n.block).backward || matches!(n.op, Op::LoopOut(l, _) if l == forward) {
                        return false;
                    }
                    if matches!(n.op, Op::LoopVar(l) | Op::LoopPhi(l, _) if l == outer_forward) {
                        return true;
                    }
                    if n.block == outer_body {
                        return self.item_position(outer_body, v).is_some_and(|p| p < fpos);
                    }
                    if f.is_within(n.block, outer_body) {
                        return false;
                    }
                    // Outside the outer loop: the function body's values before it.
                    let root_items = &f.block(ROOT).items;
                    let outer_pos = root_items.iter().position(|i| *i == Item::Loop(outer_forward));
                    n.block == ROOT && outer_pos.is_some_and(|o| self.top_position(ROOT, v).is_some_and(|p| p < o))
                };
                if !lb.carried.iter().all(|c| available(c.init)) {
                    continue;
                }
                let forward_body = f.loop_node(forward).body;
                let inside = |b: BlockId| f.is_within(b, lb.body) || f.is_within(b, forward_body);
                let mut ok = true;
                for n in f.nodes.iter().filter(|n| f.is_within(n.block, lb.body) || f.is_within(n.block, forward_body))
                {
                    // Calls keep their tapes of arrays, and a reverse's own read of an array that
                    // something writes could see another value earlier: both stay unfused. (The
                    // forward loop's reads happen when they always did.)
                    let conservative = match &n.op {
                        Op::Invoke(..) | Op::Pullback(..) => true,
                        Op::Load(a, ..) => {
                            f.is_within(n.block, lb.body)
                                && !matches!(f.array(*a).origin, ArrayOrigin::Adjoint(_))
                                && f.array(*a).mutable
                        }
                        _ => false,
                    };
                    let reads_ok = n.op.operands().iter().all(|a| inside(f.node(*a).block) || available(*a));
                    if conservative || !reads_ok {
                        ok = false;
                        break;
                    }
                }
                if !ok || !self.iterations_commute(back, forward, false) {
                    continue;
                }
                if self.earlier_conflict(&back_items[..bpos], lb.body, d) {
                    continue;
                }
                self.fused.insert(forward, back);
            }
        }
    }

    /// The proof obligation of fusion: running the backward iterations of `back` in forward order,
    /// each right after its forward iteration, gives the same result as running them in reverse.
    /// That holds when the iterations commute, which is checked structurally:
    ///
    /// 1. every adjoint `back` carries is a *constant* (passed through unchanged from a leaf) or an
    ///    *accumulator* `acc = acc ± term` (from a leaf) whose `term` reads no accumulator;
    /// 2. nothing else in the backward body reads an accumulator (its value depends on how many
    ///    iterations ran before: `y += y + x[i]` carries `d_y = d_y + d_y`, which is not a sum of
    ///    per-iteration terms);
    /// 3. every adjoint array the body touches is private to the iteration (the adjoint of an array
    ///    declared in the loop body), only read (nothing in the body stores into it), or only
    ///    accumulated into, `d_a[k] = d_a[k] + term`, with no other read of it: reading `d_a[k]` to
    ///    reverse a write `a[k] = e` needs the contributions of every later forward iteration, which
    ///    fused order has not yet made.
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
                // `acc - term` sums the negated terms, in any order too.
                Op::Binary(BinOp::Add | BinOp::Sub, a, term) if a == c.inner => {
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
        // An adjoint array the body only reads (nothing in it stores there) reads the same values in
        // either order.
        let stored: Vec<ArrayId> = in_body
            .iter()
            .filter_map(|&i| match &f.nodes[i].op {
                Op::Store(a, _) => Some(*a),
                _ => None,
            })
            .collect();
        for &i in &in_body {
            let node = &f.nodes[i];
            if matches!(&node.op, Op::Load(a, ..) if !stored.contains(a)) {
                continue;
            }
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

    /// Backward loops whose iterations commute and which pop no tape (`forward_order`).
    pub(super) fn find_forward_order(&mut self) {
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
            return self.item_position(ROOT, v);
        }
        self.position_in(ROOT, block, None)
    }

    /// The position among `scope`'s items of the item that defines `v`, a value of `scope` itself.
    fn item_position(&self, scope: BlockId, v: ValueId) -> Option<usize> {
        let items = &self.f.block(scope).items;
        match self.f.node(v).op {
            // Defined by a loop or an `if`: at that item.
            Op::LoopOut(l, _) => items.iter().position(|i| *i == Item::Loop(l)),
            Op::Phi(id, _) => items.iter().position(|i| *i == Item::If(id)),
            _ => items.iter().position(|i| *i == Item::Value(v)),
        }
    }

    /// The position among `scope`'s items of the item that holds `block` (for `block == scope`, of
    /// the value item `value`).
    pub(super) fn position_in(&self, scope: BlockId, block: BlockId, value: Option<ValueId>) -> Option<usize> {
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
}
