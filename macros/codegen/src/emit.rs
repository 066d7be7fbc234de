//! Emission: the differentiated IR becomes Rust tokens, the gradient function and its struct.
//!
//! Shape of the generated code:
//! ```text
//! /// derivation ...
//! pub struct CostGrad { pub w1: f64, ... }
//! pub fn cost_grad(w1: f64, ..) -> (f64, CostGrad) {
//!     let a1 = w1 * a0;                        // forward sweep: the user's statements
//!     let (y, t3) = if c { ..; (y0, t3) } else { ..; (y1, 0.0) };   // `if` outputs and residuals
//!     let d_a3 = 2.0 * t0;                     // backward sweep: one named adjoint per value
//!     let (d_x_0,) = if c { .. } else { .. };   // a branch's contributions, by the same condition
//!     (cost, CostGrad { w1: d_w1, .. })
//! }
//! ```
//! A value gets a `let` when it has a name (the user's, an adjoint's), is used more than once, or is
//! used in another block; otherwise it is written inline into its one use. Conditions are written
//! inline at each `if` (cheap comparisons of named values). A value that a backward branch needs from
//! inside a forward branch is exported from the forward `if` (with a placeholder on the other side).

use crate::diff::Derivation;
use crate::ir::{
    Activation, ArrayId, ArrayOrigin, BinOp, BlockId, Dim, FloatTy, Func, Function, Hint, IfId, Item, LoopId, Op, Ty,
    UnOp, ValueId, ROOT,
};
use crate::names::{camel_case, Names};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use std::collections::BTreeMap;

/// Operator precedence, loosest first, for parenthesising inline expressions.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Prec {
    Or,
    And,
    Compare,
    Sum,
    Product,
    Cast,
    Prefix,
    Atom,
}

/// Inline expressions deeper than this get a `let` of their own.
const MAX_INLINE_DEPTH: usize = 16;

/// Blocks with more statements than this are emitted in chunks of `CHUNK_SIZE`.
const CHUNK_THRESHOLD: usize = 256;
const CHUNK_SIZE: usize = 64;

/// A loop's carried variables: declarations, the names they bind, and the names and next values
/// of those that change.
struct CarriedParts {
    decls: TokenStream,
    binds: Vec<(Ident, bool)>,
    names: Vec<TokenStream>,
    nexts: Vec<TokenStream>,
}

/// One emitted statement and the names it binds (with whether they are mutable).
struct Statement {
    tokens: TokenStream,
    binds: Vec<(Ident, bool)>,
}

impl Statement {
    fn new(tokens: TokenStream, binds: Vec<(Ident, bool)>) -> Self {
        Statement { tokens, binds }
    }
}

/// A value computed inside a loop body that the backward loop reads: one stack per value.
#[derive(Clone, Debug)]
struct Tape {
    value: ValueId,
    /// The forward loop body whose iterations push it.
    body: BlockId,
    name: Option<Ident>,
    /// A stack array of this many entries (and the name of its fill count) when the trip count is
    /// a small compile-time constant; a `Vec` otherwise.
    stack: Option<(usize, Ident)>,
}

/// Tapes up to this many entries live on the stack.
const STACK_TAPE_LIMIT: usize = 4096;

/// Where a value is used: in a block, or by the function's return expression.
type Site = Option<BlockId>;

pub struct Emitter<'a> {
    pub f: &'a Function,
    /// Doc rendering: unnamed temporaries are written out (a few levels deep) instead of `t3`.
    doc_depth: std::cell::Cell<Option<u32>>,
    live: Vec<bool>,
    bound: Vec<bool>,
    names: Vec<Option<Ident>>,
    live_arrays: Vec<bool>,
    live_loops: Vec<bool>,
    /// Per block: whether it (or a block nested in it) writes a needed array element.
    effects: Vec<bool>,
    array_names: Vec<Option<Ident>>,
    /// Per forward `if`: values defined inside it that the backward sweep reads.
    residuals: BTreeMap<IfId, Vec<ValueId>>,
    /// Values pushed each forward iteration and popped by the backward iteration.
    tapes: Vec<Tape>,
    /// Per forward loop body: bound values its backward iteration computes again (in order).
    recompute: BTreeMap<BlockId, Vec<ValueId>>,
    /// Top-level forward loops whose reverse runs inside them, iteration by iteration.
    fused: BTreeMap<LoopId, LoopId>,
    /// The path to the facade crate in generated code.
    krate: TokenStream,
}

impl<'a> Emitter<'a> {
    pub fn new(f: &'a Function, d: &Derivation, user_tokens: TokenStream) -> Self {
        let n = f.nodes.len();
        let mut e = Emitter {
            f,
            doc_depth: std::cell::Cell::new(None),
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
            krate: quote!(::backprop),
        };
        let mut roots: Vec<ValueId> = f.output.into_iter().collect();
        roots.extend(d.gradients.iter().flatten());
        let mut arrays = Vec::new();
        for p in f.params.iter().filter(|p| p.wrt) {
            if let Some(adjoint) = p.array.and_then(|a| d.array_adjoints.get(&a)) {
                arrays.push(*adjoint);
            }
        }
        e.mark_live(&roots, &arrays);
        e.find_effects();
        let uses = e.count_uses(&roots);
        e.decide_bindings(&uses);
        e.find_fusions(d);
        e.find_residuals_and_tapes(&uses);
        e.allocate_names(user_tokens);
        e
    }

    /// Marks what the result and the gradients need: values, arrays (with every store into them)
    /// and loops (with their bounds and carried variables).
    fn mark_live(&mut self, roots: &[ValueId], arrays: &[ArrayId]) {
        let f = self.f;
        let mut stores: Vec<Vec<ValueId>> = vec![Vec::new(); f.arrays.len()];
        for (i, node) in f.nodes.iter().enumerate() {
            if let Op::Store(a, _) | Op::Declare(a) = node.op {
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
            // Everything inside a loop body runs only if the loop is emitted.
            let mut b = Some(node.block);
            while let Some(block) = b {
                if let Some(l) = f.block(block).loop_owner {
                    if !self.live_loops[l.index()] {
                        self.live_loops[l.index()] = true;
                        let lp = f.loop_node(l);
                        stack.extend([lp.lo, lp.hi, lp.var]);
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
                    }
                }
                Op::Load(a, _, idx) => {
                    array_stack.push(*a);
                    stack.extend(idx);
                }
                Op::Call(Func::SumArray(a, _), _) => array_stack.push(ArrayId(*a)),
                Op::Len(a) | Op::Declare(a) => {
                    if !matches!(f.array(*a).origin, ArrayOrigin::Param { .. }) {
                        array_stack.push(*a);
                    }
                }
                op => stack.extend(op.operands()),
            }
        }
    }

    /// Values written out at every use instead of bound: conditions, integer index arithmetic and
    /// reads of arrays nothing writes to (cheap, and valid anywhere: recomputed, never taped).
    fn inline_always(&self, v: ValueId) -> bool {
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
    fn has_effects(&self, b: BlockId) -> bool {
        self.effects[b.index()]
    }

    /// Marks every block that holds a live store, and the blocks around it.
    fn find_effects(&mut self) {
        for (i, n) in self.f.nodes.iter().enumerate() {
            if !self.live[i] || !matches!(n.op, Op::Store(..)) {
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
    fn defined_by_construct(&self, v: ValueId) -> bool {
        matches!(self.f.node(v).op, Op::LoopVar(_) | Op::LoopPhi(..) | Op::LoopOut(..))
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
            if matches!(node.op, Op::Store(..) | Op::Declare(_)) {
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
                                Item::Value(w) => matches!(self.f.node(*w).op, Op::Store(..)),
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
                || matches!(node.op, Op::Phi(..) | Op::Alias(_))
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
        for (i, node) in self.f.nodes.iter().enumerate() {
            let v = ValueId(i as u32);
            if !self.bound[i] || self.f.block(node.block).backward || node.block == ROOT {
                continue;
            }
            if matches!(node.op, Op::LoopVar(_) | Op::LoopOut(..)) {
                continue;
            }
            let escapes = uses[i].iter().any(|site| match site {
                Some(b) => self.f.block(*b).backward,
                None => true,
            });
            if !escapes {
                continue;
            }
            let mut block = node.block;
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
                    } else {
                        self.tapes.push(Tape { value: v, body: block, name: None, stack: None });
                    }
                    break;
                } else {
                    break;
                }
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
            if !self.live_loops[back.index()] {
                continue;
            }
            let constant_or_accumulator = lb.carried.iter().all(|c| {
                let constant = self.passes_through(c.next, c.inner) && f.node(c.init).op.is_leaf();
                let accumulator = matches!(f.node(c.next).op, Op::Binary(BinOp::Add, a, _) if a == c.inner)
                    && f.node(c.init).op.is_leaf();
                constant || accumulator
            });
            if !constant_or_accumulator {
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
            let touched = |b: BlockId| -> Vec<ArrayId> {
                f.nodes
                    .iter()
                    .filter(|n| f.is_within(n.block, b))
                    .filter_map(|n| match n.op {
                        Op::Load(a, ..) | Op::Store(a, _) | Op::Declare(a) => Some(a),
                        _ => None,
                    })
                    .collect()
            };
            let mine = touched(lb.body);
            let earlier_conflict = backward_items[..bpos].iter().any(|item| {
                let arrays: Vec<ArrayId> = match *item {
                    Item::Value(v) => match f.node(v).op {
                        Op::Load(a, ..) | Op::Store(a, _) | Op::Declare(a) => vec![a],
                        _ => vec![],
                    },
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

    /// How many entries a tape pushed in `body` holds at most, when every loop between it and the
    /// function body (or a fused loop, whose iterations pop everything they push) has literal bounds.
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
        for p in &self.f.params {
            names.take(&p.name.to_string());
            self.names[p.value.index()] = Some(p.name.clone());
        }
        for (i, a) in self.f.arrays.iter().enumerate() {
            let name = match &a.origin {
                ArrayOrigin::Param { .. } => a.name.to_string(),
                ArrayOrigin::Local { .. } => names.user(&a.name.to_string()),
                ArrayOrigin::Adjoint(of) => {
                    let base = self.array_names[of.index()].as_ref().map(|n| n.to_string()).unwrap_or_default();
                    names.generated(&format!("d_{base}"))
                }
                ArrayOrigin::Const(_) => a.name.to_string(),
            };
            self.array_names[i] = Some(make_ident(&name));
        }
        for (l, node) in self.f.loops.iter().enumerate() {
            if !self.live_loops[l] {
                continue;
            }
            self.names[node.var.index()] = Some(node.var_name.clone());
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
                Some(Hint::User(n)) | Some(Hint::Output(n)) => names.user(n.trim_start_matches("r#")),
                Some(Hint::Adjoint(of)) => match &self.names[of.index()] {
                    Some(base) => names.generated(&format!("d_{}", base.to_string().trim_start_matches("r#"))),
                    None => names.temp(),
                },
                None => names.temp(),
            };
            let ident = make_ident(&name);
            if let Some(p) = partner {
                self.names[p.index()] = Some(ident.clone());
            }
            self.names[i] = Some(ident);
        }
        let capacities: Vec<Option<usize>> = self.tapes.iter().map(|t| self.literal_capacity(t.body)).collect();
        for (t, capacity) in self.tapes.iter_mut().zip(capacities) {
            let base = self.names[t.value.index()].as_ref().map(|n| n.to_string()).unwrap_or_default();
            let name = names.generated(&format!("tape_{base}"));
            if let Some(k) = capacity.filter(|k| (1..=STACK_TAPE_LIMIT).contains(k)) {
                t.stack = Some((k, Ident::new(&names.generated(&format!("{name}_len")), Span::call_site())));
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

    /// `v` for a reader: unnamed temporaries written out, user names kept.
    pub fn doc_expr(&self, v: ValueId) -> TokenStream {
        self.doc_depth.set(Some(0));
        let out = self.expr(v, false).0;
        self.doc_depth.set(None);
        out
    }

    pub fn name(&self, v: ValueId) -> Option<&Ident> {
        self.names[v.index()].as_ref()
    }

    pub fn is_bound(&self, v: ValueId) -> bool {
        self.bound[v.index()]
    }

    // ---- expressions -------------------------------------------------------------------------

    fn lit_tokens(&self, x: f64, ty: FloatTy, suffixed: bool) -> (TokenStream, Prec) {
        // `{:?}` is the shortest text that reads back to the same value, always with `.` or `e`.
        let digits = match ty {
            FloatTy::F64 => format!("{:?}", x.abs()),
            FloatTy::F32 => format!("{:?}", x.abs() as f32),
        };
        let text = if suffixed { format!("{digits}_{}", ty.name()) } else { digits };
        let lit: Literal = text.parse().unwrap_or_else(|_| Literal::f64_unsuffixed(0.0));
        if x.is_sign_negative() {
            (quote!(-#lit), Prec::Prefix)
        } else {
            (lit.into_token_stream(), Prec::Atom)
        }
    }

    /// The expression for `v` with its precedence. Literals carry a type suffix when `suffixed`
    /// (where nothing else gives the literal its type).
    fn expr(&self, v: ValueId, suffixed: bool) -> (TokenStream, Prec) {
        if let Some(depth) = self.doc_depth.get() {
            let node = self.f.node(v);
            let unnamed = !matches!(node.hint, Some(Hint::User(_)) | Some(Hint::Output(_)));
            if unnamed && !node.op.is_leaf() && !matches!(node.op, Op::Phi(..)) && depth < 4 {
                self.doc_depth.set(Some(depth + 1));
                let out = self.body(v, false);
                self.doc_depth.set(Some(depth));
                return out;
            }
        }
        if let Some(name) = self.name(v) {
            if self.bound[v.index()] || matches!(self.f.node(v).op, Op::Param(_)) {
                return (name.to_token_stream(), Prec::Atom);
            }
        }
        self.body(v, suffixed)
    }

    fn operand(&self, v: ValueId, min: Prec, suffixed: bool) -> TokenStream {
        let (tokens, prec) = self.expr(v, suffixed);
        if prec < min {
            quote!((#tokens))
        } else {
            tokens
        }
    }

    fn is_lit(&self, v: ValueId) -> bool {
        matches!(self.f.node(v).op, Op::FloatLit(_) | Op::IntLit(_))
    }

    fn runtime(&self, module: &str, function: &str) -> TokenStream {
        let krate = &self.krate;
        let module = Ident::new(module, Span::call_site());
        let function = Ident::new(function, Span::call_site());
        quote!(#krate::__private::#module::#function)
    }

    /// The right-hand side of `v`'s binding (or its inline form).
    fn body(&self, v: ValueId, suffixed: bool) -> (TokenStream, Prec) {
        let node = self.f.node(v);
        let span = node.span;
        match &node.op {
            Op::Param(i) => (self.f.params[*i as usize].name.to_token_stream(), Prec::Atom),
            Op::FloatLit(bits) => {
                self.lit_tokens(f64::from_bits(*bits), node.ty.float().unwrap_or(self.f.float), suffixed)
            }
            Op::IntLit(i) => {
                let lit = Literal::u128_unsuffixed(i.unsigned_abs());
                if *i < 0 {
                    (quote!(-#lit), Prec::Prefix)
                } else {
                    (lit.into_token_stream(), Prec::Atom)
                }
            }
            Op::BoolLit(b) => (quote!(#b), Prec::Atom),
            Op::Const(idx) => (self.f.paths[*idx as usize].1.clone(), Prec::Atom),
            Op::Unary(op, a) => {
                let a = self.operand(*a, Prec::Prefix, true);
                match op {
                    UnOp::Neg => (quote_spanned!(span=> -#a), Prec::Prefix),
                    UnOp::Not => (quote_spanned!(span=> !#a), Prec::Prefix),
                }
            }
            Op::Binary(op, a, b) => self.binary(*op, *a, *b, span),
            Op::Call(func, args) => self.call(*func, args, node.ty, span),
            Op::Cast(idx, a) => {
                let ty = &self.f.paths[*idx as usize].1;
                let a = self.operand(*a, Prec::Cast, false);
                (quote_spanned!(span=> #a as #ty), Prec::Cast)
            }
            Op::Alias(src) => self.expr(*src, true),
            Op::Load(a, _, indices) => {
                let base = self.array_name(*a);
                let idx: Vec<TokenStream> = indices.iter().map(|i| self.operand(*i, Prec::Or, false)).collect();
                (quote_spanned!(span=> #base #([#idx])*), Prec::Atom)
            }
            Op::Len(a) => {
                let base = self.array_name(*a);
                (quote_spanned!(span=> #base.len()), Prec::Atom)
            }
            // Named by their construct (`if`, loop); reached only through their names.
            Op::Phi(..) | Op::LoopVar(_) | Op::LoopPhi(..) | Op::LoopOut(..) | Op::Store(..) | Op::Declare(_) => {
                (self.name(v).map(|n| n.to_token_stream()).unwrap_or_else(|| quote!(_)), Prec::Atom)
            }
        }
    }

    fn array_name(&self, a: ArrayId) -> TokenStream {
        match &self.f.array(a).origin {
            ArrayOrigin::Const(path) => self.f.paths[*path as usize].1.clone(),
            _ => self.array_names[a.index()].to_token_stream(),
        }
    }

    /// `[[0.0_f64; N]; M]`, or `vec![..; x.len()]` for a slice's outermost dimension.
    fn filled(&self, a: ArrayId, fill: TokenStream) -> TokenStream {
        let array = self.f.array(a);
        let mut out = fill;
        for dim in array.dims.iter().rev() {
            out = match dim {
                Dim::Const(n) => quote!([#out; #n]),
                Dim::Dynamic => {
                    // Only the outermost dimension of an argument is dynamic; its length is the
                    // argument's (or, for an adjoint, its primal's).
                    let source = match array.origin {
                        ArrayOrigin::Adjoint(of) => of,
                        _ => a,
                    };
                    let base = self.array_name(source);
                    quote!(::std::vec![#out; #base.len()])
                }
            };
        }
        out
    }

    /// The owned type of an array: `[f64; N]` stays, `[f64]` and `Vec<f64>` become `Vec<f64>`.
    fn owned_type(&self, a: ArrayId) -> TokenStream {
        let array = self.f.array(a);
        let elem = Ident::new(array.elem.float().unwrap_or(self.f.float).name(), Span::call_site());
        let mut out = quote!(#elem);
        for dim in array.dims.iter().rev() {
            out = match dim {
                Dim::Const(n) => quote!([#out; #n]),
                Dim::Dynamic => quote!(::std::vec::Vec<#out>),
            };
        }
        out
    }

    fn binary(&self, op: BinOp, a: ValueId, b: ValueId, span: Span) -> (TokenStream, Prec) {
        let (prec, tok) = match op {
            BinOp::Add => (Prec::Sum, quote!(+)),
            BinOp::Sub => (Prec::Sum, quote!(-)),
            BinOp::Mul => (Prec::Product, quote!(*)),
            BinOp::Div => (Prec::Product, quote!(/)),
            BinOp::Rem => (Prec::Product, quote!(%)),
            BinOp::Lt => (Prec::Compare, quote!(<)),
            BinOp::Le => (Prec::Compare, quote!(<=)),
            BinOp::Gt => (Prec::Compare, quote!(>)),
            BinOp::Ge => (Prec::Compare, quote!(>=)),
            BinOp::Eq => (Prec::Compare, quote!(==)),
            BinOp::Ne => (Prec::Compare, quote!(!=)),
            BinOp::And => (Prec::And, quote!(&&)),
            BinOp::Or => (Prec::Or, quote!(||)),
        };
        // A literal next to a typed operand takes its type from it; two literals need suffixes.
        let both_lits = self.is_lit(a) && self.is_lit(b);
        let (left_min, right_min) = match prec {
            // `a as f64 < b` would parse `<` as generics: casts get parentheses in comparisons.
            Prec::Compare => (Prec::Prefix, Prec::Prefix),
            p => (p, next(p)),
        };
        let l = self.operand(a, left_min, both_lits);
        let r = self.operand(b, right_min, both_lits);
        (quote_spanned!(span=> #l #tok #r), prec)
    }

    fn call(&self, func: Func, args: &[ValueId], ty: Ty, span: Span) -> (TokenStream, Prec) {
        let helper_args =
            |e: &Self| -> Vec<TokenStream> { args.iter().map(|a| e.operand(*a, Prec::Or, true)).collect() };
        match func {
            Func::SumArray(a, _) => {
                let base = self.array_name(ArrayId(a));
                let elem = Ident::new(ty.float().unwrap_or(self.f.float).name(), Span::call_site());
                (quote_spanned!(span=> #base.iter().sum::<#elem>()), Prec::Atom)
            }
            Func::Activation(_, path) => {
                let path = &self.f.paths[path as usize].1;
                let args = helper_args(self);
                (quote_spanned!(span=> #path(#(#args),*)), Prec::Atom)
            }
            Func::ActivationDerivative(act) => {
                let f = self.runtime("activation", &format!("{}_derivative", act.name()));
                let args = helper_args(self);
                (quote!(#f(#(#args),*)), Prec::Atom)
            }
            Func::ActivationAlphaDerivative(act) => {
                let f = self.runtime("activation", &format!("{}_alpha_derivative", act.name()));
                let args = helper_args(self);
                (quote!(#f(#(#args),*)), Prec::Atom)
            }
            Func::Sign
            | Func::MaxWeight
            | Func::MinWeight
            | Func::ClampWeight
            | Func::ClampLoWeight
            | Func::ClampHiWeight => {
                let name = match func {
                    Func::Sign => "sign",
                    Func::MaxWeight => "max_weight",
                    Func::MinWeight => "min_weight",
                    Func::ClampWeight => "clamp_weight",
                    Func::ClampLoWeight => "clamp_lo_weight",
                    _ => "clamp_hi_weight",
                };
                let f = self.runtime("kinks", name);
                let args = helper_args(self);
                (quote!(#f(#(#args),*)), Prec::Atom)
            }
            method => {
                let name = crate::ir::method_name(method).unwrap_or("unknown");
                let method = Ident::new(name, span);
                let receiver = self.operand(args[0], Prec::Atom, true);
                let rest: Vec<TokenStream> = args[1..].iter().map(|a| self.operand(*a, Prec::Or, false)).collect();
                (quote_spanned!(span=> #receiver.#method(#(#rest),*)), Prec::Atom)
            }
        }
    }

    // ---- statements --------------------------------------------------------------------------

    pub fn block(&self, b: BlockId) -> TokenStream {
        let mut statements: Vec<Statement> = Vec::new();
        // A backward loop body first pops what its forward iteration pushed.
        if let Some(mirror) = self.f.block(b).mirror.filter(|_| self.f.block(b).backward) {
            for t in self.tapes.iter().filter(|t| t.body == mirror) {
                let (name, tape) = (self.name(t.value), &t.name);
                let pop = match &t.stack {
                    Some((_, len)) => quote!(#len -= 1; let #name = #tape[#len];),
                    None => {
                        let zero = self.placeholder(t.value);
                        quote!(let #name = #tape.pop().unwrap_or(#zero);)
                    }
                };
                statements.push(Statement::new(pop, vec![]));
            }
            let mut again = self.recompute.get(&mirror).cloned().unwrap_or_default();
            again.sort();
            for v in again {
                let name = self.name(v);
                let (rhs, _) = self.body(v, true);
                statements.push(Statement::new(quote!(let #name = #rhs;), vec![]));
            }
        }
        // A forward loop body pushes its carried variables' values at the start of the iteration.
        if self.f.block(b).loop_owner.is_some() && !self.f.block(b).backward {
            for t in self.tapes.iter().filter(|t| t.body == b && self.defined_by_construct(t.value)) {
                statements.push(Statement::new(self.push(t), vec![]));
            }
        }
        for item in &self.f.block(b).items {
            match *item {
                Item::Value(v) => {
                    if let Some(statement) = self.value_statement(v) {
                        statements.push(statement);
                    }
                }
                Item::If(id) => {
                    if let Some(statement) = self.if_statement(id) {
                        statements.push(statement);
                    }
                }
                Item::Loop(id) => {
                    if self.fused.values().any(|back| *back == id) {
                        continue;
                    }
                    if let Some(statement) = self.loop_statement(id) {
                        statements.push(statement);
                    }
                }
            }
            // Values this item made visible that the backward loop will need: push them.
            let defined: Vec<ValueId> = match *item {
                Item::Value(v) => vec![v],
                Item::If(id) => {
                    let mut out: Vec<ValueId> = self.f.if_node(id).outputs.iter().map(|o| o.phi).collect();
                    out.extend(self.residuals.get(&id).cloned().unwrap_or_default());
                    out
                }
                Item::Loop(_) => vec![],
            };
            for t in self.tapes.iter().filter(|t| t.body == b && defined.contains(&t.value)) {
                statements.push(Statement::new(self.push(t), vec![]));
            }
        }
        if statements.len() <= CHUNK_THRESHOLD {
            return statements.into_iter().map(|s| s.tokens).collect();
        }
        // Every `let` opens a scope nested in the previous one, and thousands of nested scopes
        // overflow LLVM's debug-info writer. Long blocks are therefore emitted in chunks, each a
        // block that hands its bindings out through one tuple `let`.
        let mut out = TokenStream::new();
        for chunk in statements.chunks(CHUNK_SIZE) {
            let body: TokenStream = chunk.iter().map(|s| s.tokens.clone()).collect();
            let names: Vec<&Ident> = chunk.iter().flat_map(|s| &s.binds).map(|(n, _)| n).collect();
            let patterns: Vec<TokenStream> = chunk
                .iter()
                .flat_map(|s| &s.binds)
                .map(|(n, mutable)| if *mutable { quote!(mut #n) } else { quote!(#n) })
                .collect();
            out.extend(quote!(let (#(#patterns,)*) = { #body (#(#names,)*) };));
        }
        out
    }

    fn push(&self, t: &Tape) -> TokenStream {
        let (name, tape) = (self.name(t.value), &t.name);
        match &t.stack {
            Some((_, len)) => quote!(#tape[#len] = #name; #len += 1;),
            None => quote!(#tape.push(#name);),
        }
    }

    /// The statement for a value item: its `let`, an element store, an array declaration.
    fn value_statement(&self, v: ValueId) -> Option<Statement> {
        if !self.live[v.index()] {
            return None;
        }
        let node = self.f.node(v);
        match &node.op {
            Op::Store(a, args) => {
                let (indices, value) = args.split_at(args.len() - 1);
                let base = self.array_name(*a);
                let idx: Vec<TokenStream> = indices.iter().map(|i| self.operand(*i, Prec::Or, false)).collect();
                // `a[i] = a[i] + e` (unbound read) reads as `a[i] += e`.
                if let Op::Binary(BinOp::Add, l, r) = &self.f.node(value[0]).op {
                    if !self.bound[value[0].index()] && !self.bound[l.index()] {
                        if let Op::Load(la, _, li) = &self.f.node(*l).op {
                            if la == a && li.as_slice() == indices {
                                let r = self.expr(*r, false).0;
                                return Some(Statement::new(quote!(#base #([#idx])* += #r;), vec![]));
                            }
                        }
                    }
                }
                let value = self.expr(value[0], true).0;
                Some(Statement::new(quote!(#base #([#idx])* = #value;), vec![]))
            }
            Op::Declare(a) => {
                if let ArrayOrigin::Adjoint(_) = self.f.array(*a).origin {
                    let name = &self.array_names[a.index()];
                    let zero = self.lit_tokens(0.0, self.f.array(*a).elem.float().unwrap_or(self.f.float), true).0;
                    let zeros = self.filled(*a, zero);
                    return Some(Statement::new(quote!(#name = #zeros;), vec![]));
                }
                let ArrayOrigin::Local { fill } = self.f.array(*a).origin else { return None };
                let name = self.array_names[a.index()].clone()?;
                let init = self.filled(*a, self.expr(fill, true).0);
                let mutable = self.f.array(*a).mutable;
                let pattern = if mutable { quote!(mut #name) } else { quote!(#name) };
                Some(Statement::new(quote!(let #pattern = #init;), vec![(name, mutable)]))
            }
            Op::Phi(..) => None,
            _ if self.bound[v.index()] && !self.defined_by_construct(v) => {
                let name = self.name(v)?.clone();
                let (rhs, _) = self.body(v, true);
                Some(Statement::new(quote!(let #name = #rhs;), vec![(name, false)]))
            }
            _ => None,
        }
    }

    /// `let mut c = init; for i in lo..hi { body; c = next; }`.
    /// The `let mut` declarations of a loop's live carried variables, and the assignments that
    /// carry them into the next iteration (all next values computed before any is assigned).
    fn carried_parts(&self, id: LoopId) -> Option<CarriedParts> {
        let node = self.f.loop_node(id);
        let carried: Vec<_> =
            node.carried.iter().filter(|c| self.live[c.inner.index()] || self.live[c.out.index()]).copied().collect();
        let mut decls = TokenStream::new();
        let mut binds = Vec::new();
        for c in &carried {
            let name = self.name(c.out).or(self.name(c.inner))?.clone();
            let init = self.expr(c.init, true).0;
            decls.extend(quote!(let mut #name = #init;));
            binds.push((name, false));
        }
        let updates: Vec<&crate::ir::Carried> = carried.iter().filter(|c| c.next != c.inner).collect();
        let names: Vec<TokenStream> = updates.iter().map(|c| self.name(c.inner).to_token_stream()).collect();
        let nexts: Vec<TokenStream> = updates.iter().map(|c| self.expr(c.next, true).0).collect();
        Some(CarriedParts { decls, binds, names, nexts })
    }

    fn loop_statement(&self, id: LoopId) -> Option<Statement> {
        if !self.live_loops[id.index()] {
            return None;
        }
        let node = self.f.loop_node(id);
        let CarriedParts { mut decls, mut binds, mut names, mut nexts } = self.carried_parts(id)?;
        let mut body = self.block(node.body);
        if let Some(&back) = self.fused.get(&id) {
            // The reverse of this iteration, right after it (see `find_fusions`).
            let back_parts = self.carried_parts(back)?;
            decls.extend(back_parts.decls);
            binds.extend(back_parts.binds);
            names.extend(back_parts.names);
            nexts.extend(back_parts.nexts);
            body.extend(self.block(self.f.loop_node(back).body));
        }
        let update = match names.len() {
            0 => TokenStream::new(),
            1 => {
                let (n, e) = (&names[0], &nexts[0]);
                quote!(#n = #e;)
            }
            _ => quote!((#(#names),*) = (#(#nexts),*);),
        };
        let var = if self.live[node.var.index()] { node.var_name.to_token_stream() } else { quote!(_) };
        let lo = self.operand(node.lo, Prec::Or, false);
        let hi = self.operand(node.hi, Prec::Or, false);
        let range = match (node.inclusive, node.rev) {
            (false, false) => quote!(#lo..#hi),
            (true, false) => quote!(#lo..=#hi),
            (false, true) => quote!((#lo..#hi).rev()),
            (true, true) => quote!((#lo..=#hi).rev()),
        };
        // Reserve each tape this loop nest fills once, before the outermost loop.
        let mut reserve = TokenStream::new();
        if self.f.block(node.block).loop_owner.is_none() && !self.f.block(node.block).backward {
            for t in self.tapes.iter().filter(|t| t.stack.is_none() && self.f.is_within(t.body, node.body)) {
                if let Some(count) = self.trip_count(t.body) {
                    let tape = &t.name;
                    reserve.extend(quote!(#tape.reserve(#count);));
                }
            }
        }
        Some(Statement::new(quote!(#reserve #decls for #var in #range { #body #update }), binds))
    }

    /// How many times a loop body runs, as an expression valid before the outermost loop, when every
    /// enclosing loop's bounds are fixed on entry.
    fn trip_count(&self, body: BlockId) -> Option<TokenStream> {
        let mut factors = Vec::new();
        let mut b = Some(body);
        while let Some(block) = b {
            if let Some(l) = self.f.block(block).loop_owner {
                let node = self.f.loop_node(l);
                if !self.loop_invariant(node.lo) || !self.loop_invariant(node.hi) {
                    return None;
                }
                let hi = self.operand(node.hi, Prec::Atom, false);
                let extra = if node.inclusive { quote!(+ 1) } else { TokenStream::new() };
                let count = if matches!(self.f.node(node.lo).op, Op::IntLit(0)) {
                    quote!((#hi as usize #extra))
                } else {
                    let lo = self.operand(node.lo, Prec::Atom, false);
                    quote!(((#hi as usize).saturating_sub(#lo as usize) #extra))
                };
                factors.push(count);
            }
            b = self.f.block(block).parent;
        }
        let first = factors.first()?.clone();
        Some(factors[1..].iter().fold(first, |acc, f| quote!(#acc * #f)))
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

    /// A placeholder of `v`'s type for the branch where `v` was not computed.
    fn placeholder(&self, v: ValueId) -> TokenStream {
        match self.f.ty(v) {
            Ty::Float(t) => self.lit_tokens(0.0, t, true).0,
            Ty::Int => quote!(0),
            Ty::Bool => quote!(false),
            Ty::Unknown | Ty::Unit => quote!(::core::default::Default::default()),
        }
    }

    fn if_statement(&self, id: IfId) -> Option<Statement> {
        let node = self.f.if_node(id);
        let outputs: Vec<_> = node.outputs.iter().filter(|o| self.live[o.phi.index()]).copied().collect();
        let residuals = self.residuals.get(&id).cloned().unwrap_or_default();
        if outputs.is_empty()
            && residuals.is_empty()
            && !self.has_effects(node.then_block)
            && !self.has_effects(node.else_block)
        {
            return None;
        }
        let mut names: Vec<Ident> = outputs.iter().filter_map(|o| self.name(o.phi).cloned()).collect();
        names.extend(residuals.iter().filter_map(|r| self.name(*r).cloned()));
        let side = |block: BlockId, pick: &dyn Fn(&crate::ir::IfOutput) -> ValueId| -> TokenStream {
            let body = self.block(block);
            let mut values: Vec<TokenStream> = outputs.iter().map(|o| self.expr(pick(o), true).0).collect();
            values.extend(residuals.iter().map(|r| {
                if self.f.is_within(self.f.node(*r).block, block) {
                    self.name(*r).to_token_stream()
                } else {
                    self.placeholder(*r)
                }
            }));
            if values.is_empty() {
                quote!({ #body })
            } else if values.len() == 1 {
                let v = &values[0];
                quote!({ #body #v })
            } else {
                quote!({ #body (#(#values),*) })
            }
        };
        let then_side = side(node.then_block, &|o| o.then_value);
        let else_side = side(node.else_block, &|o| o.else_value);
        let cond = self.expr(node.cond, true).0;
        if names.is_empty() {
            return Some(Statement::new(quote!(if #cond #then_side else #else_side), vec![]));
        }
        let pattern = if names.len() == 1 { names[0].to_token_stream() } else { quote!((#(#names),*)) };
        let binds = names.into_iter().map(|n| (n, false)).collect();
        Some(Statement::new(quote!(let #pattern = if #cond #then_side else #else_side;), binds))
    }

    /// The whole output: the user's function unchanged, the gradient struct, the gradient function.
    pub fn emit(&self, func: &syn::ItemFn, items: &[syn::Item], d: &Derivation, doc: &str) -> TokenStream {
        let f = self.f;
        let vis = &func.vis;
        let fn_name = &func.sig.ident;
        let grad_fn = format_ident!("{}_grad", fn_name.to_string().trim_start_matches("r#"));
        let grad_struct = format_ident!("{}Grad", camel_case(&fn_name.to_string()));
        let ret = Ident::new(f.float.name(), Span::call_site());
        // Const generics (`<const N: usize>`) carry over to the struct and the gradient function.
        let (impl_generics, ty_generics, where_clause) = func.sig.generics.split_for_impl();
        let turbofish = ty_generics.as_turbofish();

        let params: Vec<TokenStream> = f
            .params
            .iter()
            .map(|p| {
                let name = &p.name;
                let ty = &p.ty_tokens;
                quote!(#name: #ty)
            })
            .collect();
        let wrt: Vec<_> = f.params.iter().zip(&d.gradients).filter(|(p, _)| p.wrt).collect();
        let fields: Vec<TokenStream> = wrt
            .iter()
            .map(|(p, _)| {
                let name = &p.name;
                let ty = match p.array {
                    Some(a) => self.owned_type(a),
                    None => p.ty_tokens.clone(),
                };
                let doc = format!("∂{fn_name}/∂{name}");
                quote!(#[doc = #doc] pub #name: #ty)
            })
            .collect();
        let values: Vec<TokenStream> = wrt
            .iter()
            .map(|(p, g)| {
                let name = &p.name;
                let zero = self.lit_tokens(0.0, p.ty.float().unwrap_or(f.float), true).0;
                let value = match (p.array, g) {
                    (Some(a), _) => match d.array_adjoints.get(&a) {
                        Some(adjoint) => self.array_names[adjoint.index()].to_token_stream(),
                        None => self.filled(a, zero),
                    },
                    (None, Some(g)) => self.expr(*g, true).0,
                    (None, None) => zero,
                };
                quote!(#name: #value)
            })
            .collect();
        let copyable =
            wrt.iter().all(|(p, _)| p.array.is_none_or(|a| f.array(a).dims.iter().all(|d| matches!(d, Dim::Const(_)))));
        let derives = if copyable {
            quote!(#[derive(Debug, Clone, Copy, PartialEq)])
        } else {
            quote!(#[derive(Debug, Clone, PartialEq)])
        };
        // Tapes (the forward sweep pushes) and adjoint arrays (a fused loop fills them during the
        // forward sweep) are declared first.
        let tapes: Vec<TokenStream> = self
            .tapes
            .iter()
            .map(|t| {
                let name = &t.name;
                let ty = Ident::new(f.ty(t.value).float().unwrap_or(f.float).name(), Span::call_site());
                match &t.stack {
                    Some((k, len)) => {
                        let zero = self.lit_tokens(0.0, f.ty(t.value).float().unwrap_or(f.float), false).0;
                        quote!(let mut #name: [#ty; #k] = [#zero; #k]; let mut #len = 0usize;)
                    }
                    None => quote!(let mut #name: ::std::vec::Vec<#ty> = ::std::vec::Vec::new();),
                }
            })
            .collect();
        let adjoint_arrays: Vec<TokenStream> = d
            .array_adjoints
            .values()
            .filter(|a| self.live_arrays[a.index()])
            .map(|a| {
                let name = &self.array_names[a.index()];
                let zero = self.lit_tokens(0.0, f.array(*a).elem.float().unwrap_or(f.float), true).0;
                let init = self.filled(*a, zero);
                quote!(let mut #name = #init;)
            })
            .collect();

        let checks = self.activation_checks();
        let forward = self.block(ROOT);
        let backward = self.block(d.backward);
        let output = match f.output {
            Some(o) => self.expr(o, true).0,
            None => quote!(::core::unreachable!()),
        };
        let params_impl =
            self.params_impl(func, &grad_struct, &wrt.iter().map(|(p, _)| p).copied().collect::<Vec<_>>());
        let struct_doc =
            format!("The gradient of [`{fn_name}`]: one field per differentiated argument. Returned by [`{grad_fn}`].");
        // `#[backprop]` asks for index loops (`for i in 0..n`), which clippy would flag in the
        // user's own function.
        let loops_allowed =
            if f.loops.is_empty() { TokenStream::new() } else { quote!(#[allow(clippy::needless_range_loop)]) };
        quote! {
            #loops_allowed
            #func

            #[doc = #struct_doc]
            #derives
            #vis struct #grad_struct #impl_generics #where_clause {
                #(#fields,)*
            }

            #params_impl

            #[doc = #doc]
            #[allow(
                unused_variables,
                unused_mut,
                unused_assignments,
                unused_parens,
                non_snake_case,
                clippy::all,
                clippy::pedantic
            )]
            #vis fn #grad_fn #impl_generics (#(#params),*) -> (#ret, #grad_struct #ty_generics) #where_clause {
                // The original function is the user's API too; it counts as used when its gradient is.
                let _ = #fn_name #turbofish;
                #(#items)*
                #checks
                #(#tapes)*
                #(#adjoint_arrays)*
                #forward
                #backward
                (#output, #grad_struct { #(#values,)* })
            }
        }
    }

    /// A compile-time check per activation call that the name resolves to the runtime's function,
    /// so a user's own `sigmoid` never silently gets the runtime's derivative.
    fn activation_checks(&self) -> TokenStream {
        let mut seen = Vec::new();
        let mut out = TokenStream::new();
        for (i, node) in self.f.nodes.iter().enumerate() {
            let Op::Call(Func::Activation(act, path), args) = &node.op else {
                continue;
            };
            if !self.live[i] {
                continue;
            }
            let ty = node.ty.float().or_else(|| self.f.ty(args[0]).float()).unwrap_or(self.f.float);
            if seen.contains(&(*act, *path, ty)) {
                continue;
            }
            seen.push((*act, *path, ty));
            out.extend(self.activation_check(*act, *path, ty, node.span));
        }
        out
    }

    fn activation_check(&self, act: Activation, path: u32, ty: FloatTy, span: Span) -> TokenStream {
        let user_path = &self.f.paths[path as usize].1;
        let runtime_fn = self.runtime("activation", act.name());
        let ty = Ident::new(ty.name(), Span::call_site());
        let check = self.runtime("checks", "activation_must_be_the_runtime_one");
        // The runtime's function fixes the type; a different function at the user's path is then a
        // type error on the user's own tokens.
        quote_spanned!(span=> #check(#runtime_fn::<#ty>, #user_path);)
    }

    /// `impl Params for <Name>Grad`, so optimizers can step a gradient-shaped parameter struct.
    fn params_impl(&self, func: &syn::ItemFn, grad_struct: &Ident, wrt: &[&crate::ir::Param]) -> TokenStream {
        let (impl_generics, ty_generics, where_clause) = func.sig.generics.split_for_impl();
        let tys: Vec<Option<FloatTy>> = wrt.iter().map(|p| p.ty.float()).collect();
        let Some(Some(scalar)) = tys.first().copied() else {
            return TokenStream::new();
        };
        if tys.iter().any(|t| *t != Some(scalar)) {
            return TokenStream::new();
        }
        let scalar = Ident::new(scalar.name(), Span::call_site());
        let krate = &self.krate;
        let names: Vec<&Ident> = wrt.iter().map(|p| &p.name).collect();
        let labels: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        quote! {
            impl #impl_generics #krate::__private::Params for #grad_struct #ty_generics #where_clause {
                type Scalar = #scalar;
                fn num_params(&self) -> usize {
                    0 #(+ #krate::__private::Params::num_params(&self.#names))*
                }
                fn visit(&self, f: &mut dyn FnMut(#scalar)) {
                    #(#krate::__private::Params::visit(&self.#names, f);)*
                }
                fn visit_mut(&mut self, f: &mut dyn FnMut(&mut #scalar)) {
                    #(#krate::__private::Params::visit_mut(&mut self.#names, f);)*
                }
                fn describe(&self, index: usize, prefix: &str) -> String {
                    #krate::__private::describe_fields(
                        &[#((#labels, &self.#names as &dyn #krate::__private::Params<Scalar = #scalar>)),*],
                        index,
                        prefix,
                    )
                }
            }
        }
    }
}

/// An identifier for `name`, raw (`r#match`) when `name` is a keyword.
fn make_ident(name: &str) -> Ident {
    match syn::parse_str::<Ident>(name) {
        Ok(_) => Ident::new(name, Span::call_site()),
        Err(_) => Ident::new_raw(name, Span::call_site()),
    }
}

fn next(p: Prec) -> Prec {
    match p {
        Prec::Or => Prec::And,
        Prec::And => Prec::Compare,
        Prec::Compare => Prec::Sum,
        Prec::Sum => Prec::Product,
        Prec::Product => Prec::Cast,
        Prec::Cast => Prec::Prefix,
        Prec::Prefix | Prec::Atom => Prec::Atom,
    }
}
