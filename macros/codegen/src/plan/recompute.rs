//! Recomputation: loop-body values the backward iteration computes again instead of taping them
//! (cheap arithmetic on reads that give the same value again), and what that reads from outside.

use super::Plan;
use crate::ir::{BlockId, Func, Op, ValueId, ROOT};

impl Plan<'_> {
    /// The values that recomputing `v` at the start of `body`'s backward iteration reads from
    /// outside `body`: bound ones are listed, inline ones are looked through.
    pub(super) fn outside_reads(&self, v: ValueId, body: BlockId, out: &mut Vec<ValueId>) {
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

    /// A loop-body value the backward iteration can cheaply compute again instead of taping: a few
    /// arithmetic operations on reads of arrays nothing writes, the loop variable, and values from
    /// outside the loop (as Tapenade recomputes cheap values rather than storing them).
    pub(super) fn recomputable(&self, v: ValueId, body: BlockId, depth: usize) -> bool {
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

    pub(super) fn mark_recompute(&mut self, v: ValueId, body: BlockId) {
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
}
