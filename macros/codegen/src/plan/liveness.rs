//! Liveness: what the result and the gradients need (values; arrays, with every store into them;
//! loops, with their bounds and carried variables), and which blocks hold a needed write.

use super::Plan;
use crate::diff::Derivation;
use crate::ir::{ArrayId, ArrayOrigin, BlockId, CallArg, Func, Op, ValueId};

impl Plan<'_> {
    /// Marks what the result and the gradients need: values, arrays (with every store into them)
    /// and loops (with their bounds and carried variables).
    pub(super) fn mark_live(&mut self, roots: &[ValueId], arrays: &[ArrayId], d: &Derivation) {
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

    /// Whether a block (or anything nested in it) writes an array element that is needed.
    pub(crate) fn has_effects(&self, b: BlockId) -> bool {
        self.effects[b.index()]
    }

    /// Marks every block that holds a live store, and the blocks around it.
    pub(super) fn find_effects(&mut self) {
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
}
