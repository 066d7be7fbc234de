//! Which values the result depends on through float data (the transpose of `diff::varied_values`):
//! a value gets an adjoint only when it varies with a differentiated argument *and* some chain of
//! float operands, branch outputs, loop-carried variables, array stores and loads, or calls leads
//! from it to the result.
//!
//! Conditions and integer indices are not such chains: a value read only to choose a branch or an
//! index (`if s < best { best = s; bj = j; }`, then `c[bj]`) has no derivative to pass on. Without
//! this, the backward sweep of a selection loop carries `best`'s adjoint, exactly zero, through
//! every iteration and sweeps every candidate (k-means: all `k` centroids per point instead of the
//! chosen one). Every edge `diff` can pass an adjoint along is followed here, so what this prunes
//! is only adjoints that are structurally zero.

use crate::ir::{ArrayId, CallArg, Func, Function, Op, ValueId};

/// Per value, whether the result can depend on it (see the module doc). Iterated to a fixed point,
/// since a loop's carried variables feed earlier code of later iterations.
pub fn useful_values(f: &Function) -> Vec<bool> {
    let mut useful = vec![false; f.nodes.len()];
    let mut arrays = vec![false; f.arrays.len()];
    if let Some(out) = f.output {
        useful[out.index()] = true;
    }
    if let Some(a) = f.output_array {
        arrays[a.index()] = true;
    }
    loop {
        let mut changed = false;
        let mut marked_arrays = Vec::new();
        for i in (0..f.nodes.len()).rev() {
            let live = useful[i];
            let mut mark = |v: ValueId| changed |= set(&mut useful, v.index());
            match &f.nodes[i].op {
                // A stored value matters when anything useful reads the array.
                Op::Store(a, args) => {
                    if arrays[a.index()] {
                        args.iter().for_each(|&v| mark(v));
                    }
                }
                Op::Invoke(call, operands) => {
                    let site = &f.calls[call.index()];
                    if live || site.result.is_some_and(|r| arrays[r.index()]) {
                        mark(ValueId(i as u32));
                        operands.iter().for_each(|&v| mark(v));
                        for arg in &site.args {
                            if let CallArg::Place { array, .. } = arg {
                                marked_arrays.push(*array);
                            }
                        }
                    }
                }
                _ if !live => {}
                Op::Load(a, _, indices) => {
                    marked_arrays.push(*a);
                    indices.iter().for_each(|&v| mark(v));
                }
                Op::Call(Func::SumArray(a, _), args) => {
                    marked_arrays.push(ArrayId(*a));
                    args.iter().for_each(|&v| mark(v));
                }
                Op::Phi(id, k) => {
                    if let Some(out) = f.if_node(*id).outputs.get(*k as usize) {
                        mark(out.then_value);
                        mark(out.else_value);
                    }
                }
                // A carried variable is one adjoint chain across iterations: all of it or none.
                Op::LoopPhi(l, k) | Op::LoopOut(l, k) => {
                    if let Some(c) = f.loop_node(*l).carried.get(*k as usize).copied() {
                        [c.init, c.inner, c.next, c.out].into_iter().for_each(&mut mark);
                    }
                }
                op => op.operands().into_iter().for_each(&mut mark),
            }
        }
        for a in marked_arrays {
            changed |= set(&mut arrays, a.index());
        }
        if !changed {
            return useful;
        }
    }
}

/// Sets `flags[i]`; whether it was unset.
fn set(flags: &mut [bool], i: usize) -> bool {
    match flags.get_mut(i) {
        Some(b) if !*b => {
            *b = true;
            true
        }
        _ => false,
    }
}
