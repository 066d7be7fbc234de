//! IR verifier, run between passes: catches a pass's bug at the pass that made it, as an internal
//! error spanned on the function instead of wrong code.

use crate::ir::{Function, Item, Op};

/// Checks the arena's invariants; returns a description of each violation.
pub fn verify(f: &Function) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, node) in f.nodes.iter().enumerate() {
        for a in node.op.operands() {
            if a.index() >= i {
                problems.push(format!("value {i} reads value {} defined after it", a.index()));
                continue;
            }
            let visible = f.visible_blocks(node.block);
            if !visible.contains(&f.node(a).block) {
                problems.push(format!("value {i} reads value {} from a block it cannot see", a.index()));
            }
        }
        if let Op::Phi(id, k) = node.op {
            if f.ifs.get(id.index()).is_none_or(|n| n.outputs.get(k as usize).map(|o| o.phi.index()) != Some(i)) {
                problems.push(format!("value {i} is a dangling `if` output"));
            }
        }
    }
    for (b, block) in f.blocks.iter().enumerate() {
        for item in &block.items {
            match *item {
                Item::Value(v) if f.node(v).block.index() != b => {
                    problems.push(format!("block {b} lists value {} of another block", v.index()))
                }
                Item::If(id) if f.if_node(id).block.index() != b => {
                    problems.push(format!("block {b} lists a foreign `if`"))
                }
                _ => {}
            }
        }
    }
    problems
}
