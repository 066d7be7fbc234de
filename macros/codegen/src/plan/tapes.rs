//! Tapes: values a forward loop body pushes each iteration for its backward loop to pop, the
//! carried values the backward loop carries instead of taping (`Derived`), and how much a tape
//! holds (a stack array, a buffer sized once per call, or a `Vec` that grows).

use super::Plan;
use crate::ir::{ArrayOrigin, BlockId, LoopId, Op, ValueId, ROOT};
use proc_macro2::{Ident, TokenStream};

/// A value computed inside a loop body that the backward loop reads: one stack per value.
#[derive(Clone, Debug)]
pub struct Tape {
    pub value: ValueId,
    /// The forward loop body whose iterations push it.
    pub body: BlockId,
    pub name: Option<Ident>,
    /// A stack array of this many entries (and the name of its fill count) when the trip count is
    /// a small compile-time constant; a `Vec` otherwise.
    pub stack: Option<(TokenStream, Ident)>,
    /// The fill count's name when the tape is a buffer sized once per call (the trip count is known
    /// on entry) and indexed like a stack array: no capacity check per push, no branch per pop.
    pub len: Option<Ident>,
}

/// A carried variable's end-of-iteration value, carried by the backward loop instead of taped.
#[derive(Clone, Debug)]
pub struct Derived {
    pub next: ValueId,
    pub inner: ValueId,
    pub out: ValueId,
    /// The forward loop body.
    pub body: BlockId,
    /// The backward loop's variable holding it.
    pub shadow: Option<Ident>,
}

/// Tapes up to this many entries live on the stack.
pub const STACK_TAPE_LIMIT: usize = 4096;

impl Plan<'_> {
    /// Drops the tape of a carried variable's end-of-iteration value when its start-of-iteration
    /// value is taped too (`derived`).
    pub(super) fn find_derived_tapes(&mut self) {
        let f = self.f;
        for node in &f.loops {
            if node.block != ROOT || node.exit.is_some() || f.block(node.body).backward {
                continue;
            }
            for c in &node.carried {
                let taped = |v: ValueId| self.tapes.iter().any(|t| t.value == v && t.body == node.body);
                if c.next == c.inner || !taped(c.inner) || !taped(c.next) || !self.bound[c.out.index()] {
                    continue;
                }
                self.tapes.retain(|t| !(t.value == c.next && t.body == node.body));
                self.derived.push(Derived { next: c.next, inner: c.inner, out: c.out, body: node.body, shadow: None });
            }
        }
    }

    /// The capacity of a tape pushed in `body` when it is one loop `0..N` to a const generic `N`
    /// of the function: a stack array `[0.0; N]` (Rust sizes arrays by a bare const parameter,
    /// not by an expression of one).
    pub(super) fn generic_capacity(&self, body: BlockId) -> Option<TokenStream> {
        let l = self.f.block(body).loop_owner?;
        let node = self.f.loop_node(l);
        if node.inclusive || node.exit.is_some() || self.fused.contains_key(&l) {
            return None;
        }
        // No other loop between this one and the function body (or a fused loop, whose
        // iterations pop what they push): its trip count is all the tape holds.
        let mut b = Some(node.block);
        while let Some(block) = b {
            match self.f.block(block).loop_owner {
                Some(o) if self.fused.contains_key(&o) => break,
                Some(_) => return None,
                None => {}
            }
            b = self.f.block(block).parent;
        }
        let (Op::IntLit(0), Op::Const(path)) = (&self.f.node(node.lo).op, &self.f.node(node.hi).op) else {
            return None;
        };
        let (text, tokens) = &self.f.paths[*path as usize];
        self.f.const_generics.iter().any(|g| g == text.trim()).then(|| tokens.clone())
    }

    /// How many entries a tape pushed in `body` holds at most, when every loop between it and the
    /// function body (or a fused loop, whose iterations pop everything they push) has literal bounds.
    pub(super) fn literal_capacity(&self, body: BlockId) -> Option<usize> {
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

    /// The loops whose trip counts multiply to what a tape pushed in `body` holds at once (up to a
    /// fused loop, whose iterations pop everything they push), or `None` when some bound is not
    /// fixed on entry.
    pub fn trip_loops(&self, body: BlockId) -> Option<Vec<LoopId>> {
        let mut loops = Vec::new();
        let mut b = Some(body);
        while let Some(block) = b {
            if let Some(l) = self.f.block(block).loop_owner {
                if self.fused.contains_key(&l) && block != body {
                    break;
                }
                let node = self.f.loop_node(l);
                if !self.loop_invariant(node.lo) || !self.loop_invariant(node.hi) {
                    return None;
                }
                loops.push(l);
            }
            b = self.f.block(block).parent;
        }
        Some(loops)
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
}
