//! Simplification rules, as data: each rule has a name, says whether it may touch the forward sweep,
//! and maps an operation to an existing value or a folded literal. They run when a value is built
//! (`build`), so the arena never holds the unsimplified form.
//!
//! The forward sweep must return bit-for-bit what the user's function returns, so only rules that are
//! exact in IEEE arithmetic run there (folding `+ - * /` of literals in the literal's own precision).
//! The backward sweep also drops factors of exactly one; symbolic zeros never reach the arena (the
//! differentiator represents them as `None`).

use crate::ir::{BinOp, FloatTy, Function, Op, Ty, UnOp, ValueId};
use proc_macro2::Span;

/// Which sweep a value belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sweep {
    Forward,
    Backward,
}

/// What a rule rewrites an operation to.
#[derive(Clone, PartialEq, Debug)]
pub enum Rewrite {
    Value(ValueId),
    /// Build this operation instead (itself simplified).
    Op(Op),
    FloatLit(f64, FloatTy),
    IntLit(i128),
}

pub struct Rule {
    pub name: &'static str,
    /// Whether the rule is exact, so it may run on the forward sweep.
    pub exact: bool,
    pub apply: fn(&Function, &Op, Ty) -> Option<Rewrite>,
}

#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    Rule { name: "fold-float-arithmetic", exact: true,  apply: fold_float_arithmetic },
    Rule { name: "fold-float-negation",   exact: true,  apply: fold_float_negation },
    Rule { name: "fold-int-arithmetic",   exact: true,  apply: fold_int_arithmetic },
    Rule { name: "mul-by-one",            exact: false, apply: mul_by_one },
    Rule { name: "div-by-one",            exact: false, apply: div_by_one },
    Rule { name: "double-negation",       exact: false, apply: double_negation },
    Rule { name: "add-negation",          exact: false, apply: add_negation },
];

/// Finds the first rule that rewrites `op`.
pub fn rewrite(f: &Function, op: &Op, ty: Ty, sweep: Sweep) -> Option<(&'static str, Rewrite)> {
    RULES
        .iter()
        .filter(|r| r.exact || sweep == Sweep::Backward)
        .find_map(|r| (r.apply)(f, op, ty).map(|rw| (r.name, rw)))
}

/// Adds `op` to `block`, simplified by the rules allowed on `sweep`.
pub fn build(f: &mut Function, op: Op, ty: Ty, block: crate::ir::BlockId, span: Span, sweep: Sweep) -> ValueId {
    match rewrite(f, &op, ty, sweep) {
        Some((_, Rewrite::Value(v))) => v,
        Some((_, Rewrite::FloatLit(x, t))) => f.lit(x, t),
        Some((_, Rewrite::IntLit(i))) => f.add(Op::IntLit(i), Ty::Int, block, span),
        Some((_, Rewrite::Op(op))) => build(f, op, ty, block, span, sweep),
        None => f.add(op, ty, block, span),
    }
}

fn float_lit_of(f: &Function, v: ValueId) -> Option<(f64, FloatTy)> {
    Some((f.float_lit(v)?, f.ty(v).float()?))
}

fn fold_float_arithmetic(f: &Function, op: &Op, ty: Ty) -> Option<Rewrite> {
    let Op::Binary(bin, a, b) = op else {
        return None;
    };
    let ((x, tx), (y, ty_b)) = (float_lit_of(f, *a)?, float_lit_of(f, *b)?);
    let t = ty.float()?;
    if tx != t || ty_b != t {
        return None;
    }
    // Computed in the literal's own precision, as the compiled program would.
    let r = match (t, bin) {
        (FloatTy::F64, BinOp::Add) => x + y,
        (FloatTy::F64, BinOp::Sub) => x - y,
        (FloatTy::F64, BinOp::Mul) => x * y,
        (FloatTy::F64, BinOp::Div) => x / y,
        (FloatTy::F32, BinOp::Add) => (x as f32 + y as f32) as f64,
        (FloatTy::F32, BinOp::Sub) => (x as f32 - y as f32) as f64,
        (FloatTy::F32, BinOp::Mul) => (x as f32 * y as f32) as f64,
        (FloatTy::F32, BinOp::Div) => (x as f32 / y as f32) as f64,
        _ => return None,
    };
    r.is_finite().then_some(Rewrite::FloatLit(r, t))
}

fn fold_float_negation(f: &Function, op: &Op, _ty: Ty) -> Option<Rewrite> {
    let Op::Unary(UnOp::Neg, a) = op else {
        return None;
    };
    let (x, t) = float_lit_of(f, *a)?;
    Some(Rewrite::FloatLit(-x, t))
}

fn fold_int_arithmetic(f: &Function, op: &Op, _ty: Ty) -> Option<Rewrite> {
    let Op::Binary(bin, a, b) = op else {
        return None;
    };
    let (Op::IntLit(x), Op::IntLit(y)) = (&f.node(*a).op, &f.node(*b).op) else {
        return None;
    };
    // Stay well inside every integer type's range, so the fold cannot hide an overflow.
    let r = match bin {
        BinOp::Add => x.checked_add(*y)?,
        BinOp::Sub => x.checked_sub(*y)?,
        BinOp::Mul => x.checked_mul(*y)?,
        _ => return None,
    };
    (r.abs() <= i32::MAX as i128 && *x >= 0 && *y >= 0 && r >= 0).then_some(Rewrite::IntLit(r))
}

fn is_one(f: &Function, v: ValueId) -> bool {
    f.float_lit(v) == Some(1.0)
}

fn mul_by_one(f: &Function, op: &Op, _ty: Ty) -> Option<Rewrite> {
    let Op::Binary(BinOp::Mul, a, b) = op else {
        return None;
    };
    if is_one(f, *b) && f.ty(*a).float().is_some() {
        Some(Rewrite::Value(*a))
    } else if is_one(f, *a) && f.ty(*b).float().is_some() {
        Some(Rewrite::Value(*b))
    } else {
        None
    }
}

fn div_by_one(f: &Function, op: &Op, _ty: Ty) -> Option<Rewrite> {
    let Op::Binary(BinOp::Div, a, b) = op else {
        return None;
    };
    (is_one(f, *b) && f.ty(*a).float().is_some()).then_some(Rewrite::Value(*a))
}

fn double_negation(f: &Function, op: &Op, _ty: Ty) -> Option<Rewrite> {
    let Op::Unary(UnOp::Neg, a) = op else {
        return None;
    };
    match f.node(*a).op {
        Op::Unary(UnOp::Neg, inner) => Some(Rewrite::Value(inner)),
        _ => None,
    }
}

/// `a + -b` → `a - b` and `-a + b` → `b - a`: one operation fewer, and exact in IEEE arithmetic.
fn add_negation(f: &Function, op: &Op, ty: Ty) -> Option<Rewrite> {
    let Op::Binary(BinOp::Add, a, b) = op else { return None };
    ty.float()?;
    match (&f.node(*a).op, &f.node(*b).op) {
        (_, Op::Unary(UnOp::Neg, nb)) => Some(Rewrite::Op(Op::Binary(BinOp::Sub, *a, *nb))),
        (Op::Unary(UnOp::Neg, na), _) => Some(Rewrite::Op(Op::Binary(BinOp::Sub, *b, *na))),
        _ => None,
    }
}
