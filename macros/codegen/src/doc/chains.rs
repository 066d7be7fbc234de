//! The derivation as data: for each differentiated argument, the chain-rule products whose sum is
//! `∂C/∂argument`, built from the differentiator's edges (consumer, operand, local factor).
//!
//! The doc comment renders it (`doc::DocWriter`); tests evaluate every factor with the IR
//! interpreter and check that the products sum to the backward sweep's gradient; a runtime
//! `explain` can evaluate the same factors.
//!
//! Symbols: a product is written over *visible* values: `C` (the result), the arguments, the user's
//! variables, and as few unnamed intermediates as needed (shown as `u₁`, `u₂`, .. with a legend).
//! For a target `t`, every path from `C` down to `t` is cut at visible values into links
//! `∂x/∂y`, where `∂x/∂y` is the partial derivative of `x`'s expression, written over the visible
//! values, with respect to `y`. Two rules pick the unnamed values to show, so that each link's
//! value really is that partial derivative:
//!
//! 1. a link carries at most one local factor other than 1: an unnamed value with a non-trivial
//!    factor above it and another below it (before the next visible value) is shown; this names
//!    the weighted sum inside `sigmoid(w * a + b)`, and leaves `a3 - y` in `(a3 - y).powi(2)`
//!    inline, so the lesson's `∂C/∂a3` stays one link;
//! 2. a link is the only path from `x` to `y` through unshown values: if there are two (`x` uses
//!    `y` twice through unnamed subexpressions), the values on them are shown.
//!
//! Both rules are applied within the target's *cone* (the values on a path from `C` to it), so the
//! lesson's `a3 - y` is a symbol only in `∂C/∂y`'s line. The sum has one product per path. Paths
//! multiply with fan-out, so past `MAX_CHAINS` products the target is given by its uses instead:
//! `∂C/∂t = Σ ∂C/∂x · (local factor)` over the visible values `x` using `t`, each such `∂C/∂x`
//! (a total derivative, the adjoint) derived on a line of its own. Where a line would be wrong or
//! endless (a path through an `if`, arrays, loops, too many adjoint lines) it is omitted and says so.

use crate::diff::Derivation;
use crate::ir::{Function, Hint, Op, ValueId};
use crate::rules::Factor;
use std::collections::{BTreeMap, BTreeSet};

/// A sum of more products than this is given through the adjoints of the values using the target.
pub const MAX_CHAINS: usize = 8;
/// At most this many intermediate `∂C/∂x` lines; beyond, the arguments needing them are omitted.
pub const MAX_TOTALS: usize = 24;

/// The derivation of a function's gradient.
#[derive(Clone, Debug, PartialEq)]
pub struct Derivations {
    /// Why the whole derivation is left out, or `None`.
    pub omitted: Option<Omission>,
    /// One entry per differentiated scalar argument, in signature order.
    pub arguments: Vec<Target>,
    /// `∂C/∂x` for the intermediate values that `Form::Uses` refer to, in order of first reference.
    pub totals: Vec<Target>,
}

/// Why a derivation (or one line of it) is not shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Omission {
    /// The function has loops: the backward loops are in the generated code.
    Loops,
    /// The function reads or writes arrays, whose adjoints are accumulated element by element.
    Arrays,
    /// The function calls differentiable functions, whose factors are in their pullbacks.
    Calls,
    /// A path runs through an `if`: which factors apply depends on the branch taken.
    Branch,
    /// More than `MAX_CHAINS` products and more than `MAX_TOTALS` intermediate lines.
    TooManyPaths,
}

/// `∂C/∂value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub value: ValueId,
    /// The argument's position in the signature, for arguments.
    pub param: Option<usize>,
    pub form: Form,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Form {
    /// `C` does not depend on the value.
    Zero,
    /// The sum of the products of the chains' links (an empty chain is 1: the target is `C`).
    Chains(Vec<Chain>),
    /// The sum over uses of `∂C/∂consumer · factor`, where `∂C/∂consumer` is 1 for `C` itself and
    /// otherwise the entry of `Derivations::totals` for `consumer`.
    Uses(Vec<Use>),
    Omitted(Omission),
}

/// One path from `C` to the target: links from the output side down.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    pub links: Vec<Link>,
}

/// `∂upper/∂lower`, whose value is `factor` (a product of local factors of which all but this one
/// are 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Link {
    pub upper: ValueId,
    pub lower: ValueId,
    pub factor: Factor,
}

/// One use of the target by a visible value `consumer`: contributes `∂C/∂consumer · factor`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Use {
    pub consumer: ValueId,
    pub factor: Factor,
}

/// A value the reader knows by name: an argument, a user variable, the result.
pub fn is_named(f: &Function, v: ValueId) -> bool {
    let node = f.node(v);
    matches!(node.op, Op::Param(_)) || matches!(node.hint, Some(Hint::User(_)) | Some(Hint::Output(_)))
}

/// Whether a local factor is exactly 1 in value (a float cast only changes the type).
fn trivial(factor: Factor) -> bool {
    matches!(factor, Factor::One | Factor::Cast(_))
}

impl Derivations {
    /// The unnamed values the derivation shows, in value order: `u₁` is the first.
    pub fn symbols(&self, f: &Function) -> Vec<ValueId> {
        let mut set = BTreeSet::new();
        let mut see = |v: ValueId| {
            if Some(v) != f.output && !is_named(f, v) {
                set.insert(v);
            }
        };
        for t in self.arguments.iter().chain(&self.totals) {
            see(t.value);
            match &t.form {
                Form::Chains(chains) => {
                    for l in chains.iter().flat_map(|c| &c.links) {
                        see(l.upper);
                        see(l.lower);
                    }
                }
                Form::Uses(uses) => uses.iter().for_each(|u| see(u.consumer)),
                Form::Zero | Form::Omitted(_) => {}
            }
        }
        set.into_iter().collect()
    }

    /// The entry `∂C/∂value` of `totals`.
    pub fn total(&self, value: ValueId) -> Option<&Target> {
        self.totals.iter().find(|t| t.value == value)
    }
}

/// The derivation of every differentiated scalar argument of a differentiated function.
pub fn derive(f: &Function, d: &Derivation) -> Derivations {
    let omitted = if !f.calls.is_empty() {
        Some(Omission::Calls)
    } else if !f.loops.is_empty() {
        Some(Omission::Loops)
    } else if !f.arrays.is_empty() {
        Some(Omission::Arrays)
    } else {
        None
    };
    if omitted.is_some() {
        return Derivations { omitted, arguments: Vec::new(), totals: Vec::new() };
    }
    let graph = Graph::new(d);
    let mut arguments = Vec::new();
    for (i, (p, g)) in f.params.iter().zip(&d.gradients).enumerate() {
        if !p.wrt || p.array.is_some() {
            continue;
        }
        let form = if g.is_none() { Form::Zero } else { graph.form(f, p.value) };
        arguments.push(Target { value: p.value, param: Some(i), form });
    }
    // The intermediate lines that uses refer to, breadth first, within the budget.
    let mut totals: Vec<Target> = Vec::new();
    let mut queue: Vec<ValueId> = Vec::new();
    let refer = |form: &Form, queue: &mut Vec<ValueId>, totals: &[Target]| {
        if let Form::Uses(uses) = form {
            for u in uses {
                if Some(u.consumer) != f.output
                    && !queue.contains(&u.consumer)
                    && !totals.iter().any(|t| t.value == u.consumer)
                {
                    queue.push(u.consumer);
                }
            }
        }
    };
    for a in &arguments {
        refer(&a.form, &mut queue, &totals);
    }
    while !queue.is_empty() && totals.len() <= MAX_TOTALS {
        let v = queue.remove(0);
        let form = graph.form(f, v);
        refer(&form, &mut queue, &totals);
        totals.push(Target { value: v, param: None, form });
    }
    if totals.len() > MAX_TOTALS || !queue.is_empty() {
        for a in &mut arguments {
            if matches!(a.form, Form::Uses(_)) {
                a.form = Form::Omitted(Omission::TooManyPaths);
            }
        }
        totals.clear();
    }
    Derivations { omitted: None, arguments, totals }
}

/// The differentiator's edges as adjacency lists, in the order the backward sweep made them.
struct Graph {
    /// Per consumer: (operand, factor).
    operands: BTreeMap<ValueId, Vec<(ValueId, Factor)>>,
    /// Per operand: (consumer, factor).
    consumers: BTreeMap<ValueId, Vec<(ValueId, Factor)>>,
}

/// A run of edges between two visible values through unshown ones.
#[derive(Clone, Copy)]
struct Segment {
    upper: ValueId,
    lower: ValueId,
    factor: Factor,
}

impl Graph {
    fn new(d: &Derivation) -> Self {
        let mut operands: BTreeMap<ValueId, Vec<(ValueId, Factor)>> = BTreeMap::new();
        let mut consumers: BTreeMap<ValueId, Vec<(ValueId, Factor)>> = BTreeMap::new();
        for e in &d.edges {
            operands.entry(e.consumer).or_default().push((e.operand, e.factor));
            consumers.entry(e.operand).or_default().push((e.consumer, e.factor));
        }
        Graph { operands, consumers }
    }

    fn operands_of(&self, v: ValueId) -> &[(ValueId, Factor)] {
        self.operands.get(&v).map_or(&[], |l| l.as_slice())
    }

    fn consumers_of(&self, v: ValueId) -> &[(ValueId, Factor)] {
        self.consumers.get(&v).map_or(&[], |l| l.as_slice())
    }

    /// `∂C/∂target` as chains, or through its uses when there are too many chains.
    fn form(&self, f: &Function, target: ValueId) -> Form {
        let Some(output) = f.output else { return Form::Zero };
        if target == output {
            return Form::Chains(vec![Chain { links: Vec::new() }]);
        }
        // The cone: every value on a path from C down to the target (all consumers lead to C,
        // since the backward sweep only records edges of values that have an adjoint).
        let mut cone = BTreeSet::from([target]);
        let mut stack = vec![target];
        while let Some(v) = stack.pop() {
            for &(c, _) in self.consumers_of(v) {
                if cone.insert(c) {
                    stack.push(c);
                }
            }
        }
        if !cone.contains(&output) {
            return Form::Zero;
        }
        if cone.iter().any(|&v| matches!(f.node(v).op, Op::Phi(..))) {
            return Form::Omitted(Omission::Branch);
        }
        let visible = self.visible(f, &cone, target, output);
        let Some(segments) = self.segments(&cone, &visible) else {
            // A value uses another twice directly (`x.mul_add(x, c)`): no link can stand for
            // one use, but each use's adjoint term is still exact.
            return self.uses(&cone, &visible, target);
        };
        // Products per path, saturating: fan-out multiplies them.
        let mut paths: BTreeMap<ValueId, usize> = BTreeMap::new();
        paths.insert(output, 1);
        for &v in visible.iter().rev() {
            let n = paths.get(&v).copied().unwrap_or(0);
            for s in segments.get(&v).into_iter().flatten() {
                let e = paths.entry(s.lower).or_insert(0);
                *e = (*e + n).min(MAX_CHAINS + 1);
            }
        }
        if paths.get(&target).copied().unwrap_or(0) > MAX_CHAINS {
            return self.uses(&cone, &visible, target);
        }
        let mut chains = Vec::new();
        let mut path = Vec::new();
        walk(&segments, output, target, &mut path, &mut chains);
        // Shorter products first: the uses nearest to the output.
        chains.sort_by_key(|c| c.links.len());
        Form::Chains(chains)
    }

    /// The values shown in the target's chains: C, the target, the named values, and the unnamed
    /// values that rules 1 and 2 of the module header require.
    fn visible(&self, f: &Function, cone: &BTreeSet<ValueId>, target: ValueId, output: ValueId) -> BTreeSet<ValueId> {
        let mut visible: BTreeSet<ValueId> = cone.iter().copied().filter(|&v| is_named(f, v)).collect();
        visible.insert(target);
        visible.insert(output);
        let in_cone = |v: &ValueId| cone.contains(v);
        // Rule 1, bottom-up (operands have smaller ids): `below` = a non-trivial factor lies below
        // the value before the next visible one.
        let mut below: BTreeMap<ValueId, bool> = BTreeMap::new();
        for &v in cone {
            let b = self.operands_of(v).iter().filter(|(o, _)| in_cone(o)).any(|&(o, factor)| {
                !trivial(factor) || (!visible.contains(&o) && below.get(&o).copied().unwrap_or(false))
            });
            below.insert(v, b);
            let above = self.consumers_of(v).iter().any(|&(_, factor)| !trivial(factor));
            if b && above {
                visible.insert(v);
            }
        }
        // Rule 2, to a fixed point: each new visible value only shortens paths.
        loop {
            let mut add = BTreeSet::new();
            for &x in &visible {
                // Paths from x through unshown values, counted per visible end.
                let mut region = BTreeSet::new();
                let mut stack = vec![x];
                while let Some(v) = stack.pop() {
                    for &(o, _) in self.operands_of(v) {
                        if in_cone(&o) && !visible.contains(&o) && region.insert(o) {
                            stack.push(o);
                        }
                    }
                }
                let mut count: BTreeMap<ValueId, usize> = BTreeMap::from([(x, 1)]);
                for &v in std::iter::once(&x).chain(region.iter().rev()) {
                    let n = count.get(&v).copied().unwrap_or(0);
                    for &(o, _) in self.operands_of(v).iter().filter(|(o, _)| in_cone(o)) {
                        *count.entry(o).or_insert(0) += n;
                    }
                }
                for (&y, &n) in &count {
                    if y == x || n < 2 || !visible.contains(&y) {
                        continue;
                    }
                    // Show the unshown values on paths from x to y.
                    let mut reaches: BTreeSet<ValueId> = BTreeSet::new();
                    for &v in &region {
                        if self
                            .operands_of(v)
                            .iter()
                            .any(|(o, _)| *o == y || (reaches.contains(o) && region.contains(o)))
                        {
                            reaches.insert(v);
                        }
                    }
                    add.extend(reaches);
                }
            }
            if add.is_empty() {
                return visible;
            }
            visible.extend(add);
        }
    }

    /// Per visible value, the segments down to the next visible values; `None` when two segments
    /// join the same two values (a value using another twice, with nothing between to show).
    fn segments(
        &self,
        cone: &BTreeSet<ValueId>,
        visible: &BTreeSet<ValueId>,
    ) -> Option<BTreeMap<ValueId, Vec<Segment>>> {
        let mut out: BTreeMap<ValueId, Vec<Segment>> = BTreeMap::new();
        for &x in visible {
            let mut list: Vec<Segment> = Vec::new();
            let mut stack: Vec<(ValueId, Factor)> = vec![(x, Factor::One)];
            while let Some((v, factor)) = stack.pop() {
                for &(o, g) in self.operands_of(v).iter().rev() {
                    if !cone.contains(&o) {
                        continue;
                    }
                    let combined = if trivial(g) { factor } else { g };
                    if visible.contains(&o) {
                        if list.iter().any(|s| s.lower == o) {
                            return None;
                        }
                        list.push(Segment { upper: x, lower: o, factor: combined });
                    } else {
                        stack.push((o, combined));
                    }
                }
            }
            out.insert(x, list);
        }
        Some(out)
    }

    /// `∂C/∂target` as the sum over the visible values using it.
    fn uses(&self, cone: &BTreeSet<ValueId>, visible: &BTreeSet<ValueId>, target: ValueId) -> Form {
        let mut uses = Vec::new();
        // From the target up through unshown values to the first visible ones.
        let mut stack: Vec<(ValueId, Factor)> = vec![(target, Factor::One)];
        while let Some((v, factor)) = stack.pop() {
            for &(c, g) in self.consumers_of(v).iter().rev() {
                if !cone.contains(&c) {
                    continue;
                }
                let combined = if trivial(g) { factor } else { g };
                if visible.contains(&c) {
                    uses.push(Use { consumer: c, factor: combined });
                } else {
                    stack.push((c, combined));
                }
            }
        }
        // The use nearest the output first.
        uses.sort_by_key(|u| std::cmp::Reverse(u.consumer));
        Form::Uses(uses)
    }
}

/// Every path of segments from `v` down to `target`, as chains.
fn walk(
    segments: &BTreeMap<ValueId, Vec<Segment>>,
    v: ValueId,
    target: ValueId,
    path: &mut Vec<Link>,
    out: &mut Vec<Chain>,
) {
    if v == target {
        out.push(Chain { links: path.clone() });
        return;
    }
    for s in segments.get(&v).into_iter().flatten() {
        path.push(Link { upper: s.upper, lower: s.lower, factor: s.factor });
        walk(segments, s.lower, target, path, out);
        path.pop();
    }
}
