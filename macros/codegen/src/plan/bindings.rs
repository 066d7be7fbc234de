//! Binding vs inlining: which values get a `let` of their own and which are written out where
//! they are used, decided from where each value is used.

use super::Plan;
use crate::ir::{BlockId, Item, Op, Ty, ValueId};

/// Inline expressions deeper than this get a `let` of their own.
const MAX_INLINE_DEPTH: usize = 16;

/// Where a value is used: in a block, or by the function's return expression.
pub(super) type Site = Option<BlockId>;

impl Plan<'_> {
    /// Values written out at every use instead of bound: conditions, integer index arithmetic and
    /// reads of arrays nothing writes to (cheap, and valid anywhere: recomputed, never taped).
    pub(crate) fn inline_always(&self, v: ValueId) -> bool {
        let node = self.f.node(v);
        if node.op.is_leaf() || self.defined_by_construct(v) || matches!(node.op, Op::Phi(..)) {
            return false;
        }
        match &node.op {
            Op::Load(a, ..) => !self.f.array(*a).mutable,
            // A passive call's integer is computed once, where the source computes it.
            Op::Store(..) | Op::Declare(_) | Op::Invoke(..) => false,
            _ => matches!(node.ty, Ty::Bool | Ty::Int),
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

    pub(super) fn count_uses(&self, roots: &[ValueId]) -> Vec<Vec<Site>> {
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

    pub(super) fn decide_bindings(&mut self, uses: &[Vec<Site>]) {
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
}
