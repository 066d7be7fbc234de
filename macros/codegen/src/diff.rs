//! Reverse-mode differentiation on the IR: a backward sweep that visits values in reverse order and
//! gives each active value one adjoint, the sum of its consumers' adjoints times the local factors.
//!
//! A value is active when it depends on a differentiated argument and the result depends on it;
//! others get no adjoint at all. A forward `if` becomes a backward `if` on the same condition: the
//! adjoints of the `if`'s outputs flow into the branch that ran, and what that branch contributes to
//! values defined before it comes back out as outputs of the backward `if`.

use crate::ir::{BlockId, Function, Hint, Item, Op, Ty, ValueId, ROOT};
use crate::rules::{local_factors, Builder, Factor};
use std::collections::BTreeMap;

/// One use of the chain rule: `consumer` passes `d_consumer · factor` to `operand`.
#[derive(Clone, Copy, Debug)]
pub struct Edge {
    pub consumer: ValueId,
    pub operand: ValueId,
    pub factor: Factor,
}

/// The result of differentiation. The backward values live in `Function` next to the forward ones.
pub struct Derivation {
    /// The top block of the backward sweep.
    pub backward: BlockId,
    /// Per parameter (in signature order): its gradient value, `None` when it is exactly zero
    /// (not differentiated, or the result does not depend on it).
    pub gradients: Vec<Option<ValueId>>,
    /// Every chain-rule edge, for the derivation shown in the doc comment.
    pub edges: Vec<Edge>,
    /// Per value, its adjoint (when it has one).
    pub adjoints: BTreeMap<ValueId, ValueId>,
}

type Contributions = BTreeMap<ValueId, Vec<ValueId>>;

/// Which values depend on a differentiated argument.
pub fn varied_values(f: &Function) -> Vec<bool> {
    let mut varied = vec![false; f.nodes.len()];
    for p in &f.params {
        varied[p.value.index()] = p.wrt;
    }
    for i in 0..f.nodes.len() {
        let node = &f.nodes[i];
        if node.ty.float().is_none() {
            continue;
        }
        varied[i] = match &node.op {
            Op::Param(_) => varied[i],
            Op::Phi(id, k) => {
                let out = f.if_node(*id).outputs[*k as usize];
                varied[out.then_value.index()] || varied[out.else_value.index()]
            }
            op => op
                .operands()
                .iter()
                .any(|a| varied[a.index()] && f.ty(*a).float().is_some()),
        };
    }
    varied
}

pub fn differentiate(f: &mut Function) -> Derivation {
    let varied = varied_values(f);
    let backward = f.new_block(None, Some(ROOT), true);
    let mut sweep = Sweep {
        varied,
        edges: Vec::new(),
        adjoints: BTreeMap::new(),
    };
    let mut contributions = Contributions::new();
    if let Some(out) = f.output {
        if sweep.is_varied(out) {
            let ty = f.ty(out).float().unwrap_or(f.float);
            let one = f.lit(1.0, ty);
            contributions.insert(out, vec![one]);
        }
    }
    sweep.reverse_block(f, ROOT, backward, &mut contributions);
    let mut gradients = Vec::new();
    for i in 0..f.params.len() {
        let p = f.params[i].value;
        let list = contributions.remove(&p).unwrap_or_default();
        let g = sweep
            .sum(f, backward, p, list)
            .map(|g| sweep.bind_adjoint(f, p, g, backward));
        gradients.push(g);
    }
    Derivation {
        backward,
        gradients,
        edges: sweep.edges,
        adjoints: sweep.adjoints,
    }
}

struct Sweep {
    varied: Vec<bool>,
    edges: Vec<Edge>,
    adjoints: BTreeMap<ValueId, ValueId>,
}

impl Sweep {
    fn is_varied(&self, v: ValueId) -> bool {
        self.varied.get(v.index()).copied().unwrap_or(false)
    }

    fn builder<'f>(&self, f: &'f mut Function, block: BlockId, like: ValueId) -> Builder<'f> {
        let ty = f.ty(like).float().unwrap_or(f.float);
        Builder { f, block, ty }
    }

    /// The sum of contributions, built left to right; `None` for no contributions (a zero).
    fn sum(
        &self,
        f: &mut Function,
        block: BlockId,
        like: ValueId,
        list: Vec<ValueId>,
    ) -> Option<ValueId> {
        let mut b = self.builder(f, block, like);
        list.into_iter().reduce(|acc, c| b.add(acc, c))
    }

    /// Gives `v`'s adjoint `dv` its readable name `d_<v>` when `v` is a named value: by naming `dv`
    /// itself when it is a fresh backward value, or through a named copy otherwise. Adjoints of
    /// unnamed temporaries stay unnamed, so they can be written inline into their single use.
    fn bind_adjoint(
        &mut self,
        f: &mut Function,
        v: ValueId,
        dv: ValueId,
        block: BlockId,
    ) -> ValueId {
        let node = f.node(v);
        let named = matches!(node.hint, Some(Hint::User(_)) | Some(Hint::Output(_)))
            || matches!(node.op, Op::Param(_));
        let bound = if !named || f.node(dv).op.is_leaf() {
            dv
        } else if f.node(dv).hint.is_none() && f.node(dv).block == block {
            f.node_mut(dv).hint = Some(Hint::Adjoint(v));
            dv
        } else {
            let ty = f.ty(dv);
            let alias = f.add(Op::Alias(dv), ty, block, proc_macro2::Span::call_site());
            f.node_mut(alias).hint = Some(Hint::Adjoint(v));
            alias
        };
        self.adjoints.insert(v, bound);
        bound
    }

    fn reverse_block(
        &mut self,
        f: &mut Function,
        forward: BlockId,
        backward: BlockId,
        contributions: &mut Contributions,
    ) {
        let items = f.block(forward).items.clone();
        for item in items.into_iter().rev() {
            match item {
                Item::Value(v) => self.reverse_value(f, v, backward, contributions),
                Item::If(id) => self.reverse_if(f, id, backward, contributions),
            }
        }
    }

    fn reverse_value(
        &mut self,
        f: &mut Function,
        v: ValueId,
        block: BlockId,
        contributions: &mut Contributions,
    ) {
        if !self.is_varied(v) {
            return;
        }
        let Some(list) = contributions.remove(&v) else {
            return;
        };
        let Some(dv) = self.sum(f, block, v, list) else {
            return;
        };
        let dv = self.bind_adjoint(f, v, dv, block);
        let operands = f.node(v).op.operands();
        let mut b = self.builder(f, block, v);
        for (position, factor) in local_factors(&mut b, v) {
            let operand = operands[position];
            if !self.is_varied(operand) {
                continue;
            }
            let mut b = self.builder(f, block, operand);
            let c = b.contribution(dv, factor);
            contributions.entry(operand).or_default().push(c);
            self.edges.push(Edge {
                consumer: v,
                operand,
                factor,
            });
        }
    }

    fn reverse_if(
        &mut self,
        f: &mut Function,
        id: crate::ir::IfId,
        block: BlockId,
        contributions: &mut Contributions,
    ) {
        let node = f.if_node(id).clone();
        let mut then_in = Contributions::new();
        let mut else_in = Contributions::new();
        for out in &node.outputs {
            if !self.is_varied(out.phi) {
                continue;
            }
            let Some(list) = contributions.remove(&out.phi) else {
                continue;
            };
            let Some(d) = self.sum(f, block, out.phi, list) else {
                continue;
            };
            let d = self.bind_adjoint(f, out.phi, d, block);
            for (value, side) in [
                (out.then_value, &mut then_in),
                (out.else_value, &mut else_in),
            ] {
                if self.is_varied(value) {
                    side.entry(value).or_default().push(d);
                    self.edges.push(Edge {
                        consumer: out.phi,
                        operand: value,
                        factor: Factor::One,
                    });
                }
            }
        }
        if then_in.is_empty() && else_in.is_empty() {
            return;
        }
        let then_block = f.new_block(Some(block), Some(node.then_block), true);
        self.reverse_block(f, node.then_block, then_block, &mut then_in);
        let else_block = f.new_block(Some(block), Some(node.else_block), true);
        self.reverse_block(f, node.else_block, else_block, &mut else_in);

        // What is left are contributions to values defined before the `if`.
        let mut outside: Vec<ValueId> = then_in.keys().chain(else_in.keys()).copied().collect();
        outside.sort();
        outside.dedup();
        if outside.is_empty() {
            return;
        }
        let mut sides = Vec::new();
        for &v in &outside {
            let ty = f.ty(v).float().unwrap_or(f.float);
            let t = then_in
                .remove(&v)
                .and_then(|l| self.sum(f, then_block, v, l));
            let e = else_in
                .remove(&v)
                .and_then(|l| self.sum(f, else_block, v, l));
            let t = t.unwrap_or_else(|| f.lit(0.0, ty));
            let e = e.unwrap_or_else(|| f.lit(0.0, ty));
            sides.push((v, t, e, ty));
        }
        let backward_if = f.add_if(node.cond, then_block, else_block, block);
        for (v, t, e, ty) in sides {
            let phi = f.add_if_output(backward_if, t, e, Ty::Float(ty), f.node(v).span);
            contributions.entry(v).or_default().push(phi);
        }
    }
}
