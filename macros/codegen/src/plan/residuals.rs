//! Residual export: the forward values the backward sweep reads from a block it cannot see, and
//! how each gets there: exported by the enclosing `if`s, computed again by the backward iteration
//! (`recompute.rs`), or pushed on a tape (`tapes.rs`).

use super::bindings::Site;
use super::{Plan, Tape};
use crate::ir::{BlockId, Op, ValueId, ROOT};

impl Plan<'_> {
    /// Forward values the backward sweep reads from inside a branch are exported by the enclosing
    /// `if`s (residuals); from inside a loop body, they are pushed on a tape each iteration and
    /// popped by the backward loop's iteration (a loop body runs many times, so no single binding
    /// survives it).
    pub(super) fn find_residuals_and_tapes(&mut self, uses: &[Vec<Site>]) {
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
}
