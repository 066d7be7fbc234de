//! A pass on a differentiated pullback (IR in, IR out): values the caller already has are read from
//! the `result` argument instead of being computed again.
//!
//! A pullback recomputes the function's forward sweep for what its backward sweep reads (the rule
//! in `docs/CALLS.md`). But the caller passes the function's result, and for a layer the values its
//! backward sweep reads are often exactly the results: `out[j] = z.tanh()` and `tanh' = 1 − y²`
//! reads `y`. Each such value becomes a read of `result[j]`; what only computed it (the layer's
//! matrix-vector product) is then dead and never emitted. For a float result, the result value
//! itself becomes the `result` argument.
//!
//! When `out[j] = v` is the only write to the returned array, runs once per `j` (its indices are
//! the enclosing loops' variables, in order), and `v` is computed in the same block, then `v`
//! equals `result[j]` in that iteration: replacing `v`'s operation by that read changes no value.
//! When the returned array is what a call returned (`let out = layer(..); out`), that call is not
//! made again: the array is `result`.

use crate::ir::{Array, ArrayOrigin, Function, Op, Ty, ROOT};

pub fn reuse_result(f: &mut Function) {
    if let Some(out) = f.output {
        let node = f.node(out);
        // Only a computed value: an `if` output or a loop's final value is named by its construct.
        let computed = matches!(node.op, Op::Unary(..) | Op::Binary(..) | Op::Call(..) | Op::Cast(..));
        if node.block == ROOT && computed && node.ty.float().is_some() {
            f.node_mut(out).op = Op::Result;
        }
    }
    let Some(out) = f.output_array else { return };
    // `let out = layer(..); out`: the caller's result is that array.
    if let ArrayOrigin::Returned(_) = f.array(out).origin {
        f.output_is_result = true;
        return;
    }
    let stores: Vec<usize> =
        (0..f.nodes.len()).filter(|&i| matches!(&f.nodes[i].op, Op::Store(a, _) if *a == out)).collect();
    let [store] = stores.as_slice() else { return };
    let Op::Store(_, args) = f.nodes[*store].op.clone() else { return };
    let (indices, value) = args.split_at(args.len() - 1);
    let value = value[0];
    let block = f.nodes[*store].block;
    let computed = matches!(f.node(value).op, Op::Unary(..) | Op::Binary(..) | Op::Call(..) | Op::Cast(..));
    if f.node(value).block != block || !computed || f.node(value).ty.float().is_none() {
        return;
    }
    // The store's indices must be the variables of its enclosing loops, outermost first.
    let mut enclosing = Vec::new();
    let mut b = Some(block);
    while let Some(cur) = b {
        if let Some(l) = f.block(cur).loop_owner {
            enclosing.push(f.loop_node(l).var);
        }
        // Inside a branch, some iterations may not write: not every `out[j]` is this value.
        if f.block(cur).owner.is_some() {
            return;
        }
        b = f.block(cur).parent;
    }
    enclosing.reverse();
    if enclosing.as_slice() != indices || f.array(out).dims.len() != indices.len() {
        return;
    }
    let name = syn::Ident::new("result", f.array(out).name.span());
    let result = f.add_array(Array {
        name,
        elem: f.array(out).elem,
        dims: f.array(out).dims.clone(),
        origin: ArrayOrigin::Result,
        mutable: false,
    });
    let ty: Ty = f.node(value).ty;
    let node = f.node_mut(value);
    node.op = Op::Load(result, 0, indices.to_vec());
    node.ty = ty;
}
