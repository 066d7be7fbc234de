//! The derivative rules: for each operation, the local factor `∂y/∂operand` of every operand, written
//! where possible with the forward result `y` itself (exp' = y, tanh' = 1 − y², sigmoid' = y(1 − y)),
//! so the backward sweep reuses forward work and reads like textbook backprop.
//!
//! Conventions at kinks follow PyTorch and JAX and live in the runtime's `kinks` module: abs' and
//! relu' are 0 at 0, ties of max/min split the adjoint evenly, clamp passes the adjoint at its edges.

use crate::ir::{Activation, BinOp, BlockId, FloatTy, Func, Function, Op, Ty, UnOp, ValueId};
use crate::simplify::{build, Sweep};
use proc_macro2::{Span, TokenStream};
use quote::quote;

/// A local derivative `∂y/∂operand`, in the form that gives the most readable contribution.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Factor {
    /// Contribution `d_y`.
    One,
    /// Contribution `-d_y`.
    MinusOne,
    /// Contribution `d_y * f`.
    Times(ValueId),
    /// Contribution `d_y / g` (the factor is `1 / g`).
    Over(ValueId),
    /// Contribution `-(d_y / g)`.
    MinusOver(ValueId),
    /// Contribution `d_y as <paths[p]>`: a float-to-float cast passes the adjoint back converted.
    Cast(u32),
}

/// Builds backward-sweep values in one block, simplified by the backward rules.
pub struct Builder<'f> {
    pub f: &'f mut Function,
    pub block: BlockId,
    pub ty: FloatTy,
}

impl Builder<'_> {
    fn op(&mut self, op: Op) -> ValueId {
        build(self.f, op, Ty::Float(self.ty), self.block, Span::call_site(), Sweep::Backward)
    }
    pub fn lit(&mut self, x: f64) -> ValueId {
        self.f.lit(x, self.ty)
    }
    pub fn add(&mut self, a: ValueId, b: ValueId) -> ValueId {
        self.op(Op::Binary(BinOp::Add, a, b))
    }
    pub fn sub(&mut self, a: ValueId, b: ValueId) -> ValueId {
        self.op(Op::Binary(BinOp::Sub, a, b))
    }
    pub fn mul(&mut self, a: ValueId, b: ValueId) -> ValueId {
        self.op(Op::Binary(BinOp::Mul, a, b))
    }
    pub fn div(&mut self, a: ValueId, b: ValueId) -> ValueId {
        self.op(Op::Binary(BinOp::Div, a, b))
    }
    pub fn neg(&mut self, a: ValueId) -> ValueId {
        self.op(Op::Unary(UnOp::Neg, a))
    }
    pub fn call(&mut self, func: Func, args: Vec<ValueId>) -> ValueId {
        self.op(Op::Call(func, args))
    }
    fn square(&mut self, a: ValueId) -> ValueId {
        self.mul(a, a)
    }
    /// `std::<float>::consts::<name>` as a typed constant.
    fn consts(&mut self, name: &str) -> ValueId {
        let ty = syn::Ident::new(self.ty.name(), Span::call_site());
        let name = syn::Ident::new(name, Span::call_site());
        let tokens: TokenStream = quote!(::core::#ty::consts::#name);
        let idx = self.f.intern_path(tokens);
        self.f.add(Op::Const(idx), Ty::Float(self.ty), self.block, Span::call_site())
    }

    /// `dy * f`, with a power of two in `f = 2^k · v` moved into a constant of `dy`
    /// (`(d · 100) · (2 · t)` → `(d · 200) · t`): scaling by a power of two is exact, so the
    /// result is the same bits with one multiplication less.
    fn times(&mut self, dy: ValueId, f: ValueId) -> ValueId {
        let power_of_two = |x: f64| x != 0.0 && x.is_finite() && x.abs().log2().fract() == 0.0;
        if let Op::Binary(BinOp::Mul, p, v) = self.f.node(f).op {
            if let Some(k) = self.f.float_lit(p).filter(|k| power_of_two(*k)) {
                if let Some(c) = self.f.float_lit(dy) {
                    let ck = self.lit(c * k);
                    return self.mul(ck, v);
                }
                if let Op::Binary(BinOp::Mul, y, c) = self.f.node(dy).op {
                    if let Some(c) = self.f.float_lit(c) {
                        let ck = self.lit(c * k);
                        let scaled = self.mul(y, ck);
                        return self.mul(scaled, v);
                    }
                }
            }
        }
        self.mul(dy, f)
    }

    /// The contribution `d_y · factor` to an operand's adjoint.
    pub fn contribution(&mut self, dy: ValueId, factor: Factor) -> ValueId {
        match factor {
            Factor::One => dy,
            Factor::MinusOne => self.neg(dy),
            Factor::Times(f) => self.times(dy, f),
            Factor::Over(g) => self.div(dy, g),
            Factor::MinusOver(g) => {
                let q = self.div(dy, g);
                self.neg(q)
            }
            Factor::Cast(p) => {
                let ty = self.f.paths[p as usize].0.clone();
                let ty = FloatTy::from_name(&ty).unwrap_or(self.ty);
                build(self.f, Op::Cast(p, dy), Ty::Float(ty), self.block, Span::call_site(), Sweep::Backward)
            }
        }
    }
}

/// The local factors of value `y`, one per operand (by operand position); operands without a
/// derivative (integers, conditions, kinks' flat sides) are absent.
pub fn local_factors(b: &mut Builder, y: ValueId) -> Vec<(usize, Factor)> {
    use Factor::*;
    let op = b.f.node(y).op.clone();
    match op {
        // Structural values: the differentiator handles arrays, loops and `if`s itself.
        Op::Param(_)
        | Op::FloatLit(_)
        | Op::IntLit(_)
        | Op::BoolLit(_)
        | Op::Const(_)
        | Op::Phi(..)
        | Op::Load(..)
        | Op::Store(..)
        | Op::Declare(_)
        | Op::Len(_)
        | Op::LoopVar(_)
        | Op::LoopPhi(..)
        | Op::LoopOut(..)
        | Op::LoopTrips(_)
        | Op::Invoke(..)
        | Op::Pullback(..)
        | Op::PullbackOut(..)
        | Op::Seed
        | Op::Result => vec![],
        Op::Alias(_) => vec![(0, One)],
        Op::Unary(UnOp::Neg, _) => vec![(0, MinusOne)],
        Op::Unary(UnOp::Not, _) => vec![],
        Op::Cast(_, a) => match b.f.ty(a) {
            Ty::Float(src) => {
                let src = syn::Ident::new(src.name(), Span::call_site());
                let idx = b.f.intern_path(quote!(#src));
                vec![(0, Cast(idx))]
            }
            _ => vec![],
        },
        Op::Binary(op, a, c) => match op {
            BinOp::Add => vec![(0, One), (1, One)],
            BinOp::Sub => vec![(0, One), (1, MinusOne)],
            // `a * a`: one contribution `d_y * (2 a)` instead of `d_y * a + d_y * a` (the same
            // value exactly: scaling by two is exact), one operation fewer.
            BinOp::Mul if a == c => {
                let two = b.lit(2.0);
                vec![(0, Times(b.mul(two, a)))]
            }
            BinOp::Mul => vec![(0, Times(c)), (1, Times(a))],
            BinOp::Div => {
                let q = b.div(y, c);
                let nq = b.neg(q);
                vec![(0, Over(c)), (1, Times(nq))]
            }
            BinOp::Rem => {
                // a % c = a - c·trunc(a / c), so ∂/∂c = -trunc(a / c) = -(a - y) / c.
                let t = b.sub(a, y);
                let q = b.div(t, c);
                let nq = b.neg(q);
                vec![(0, One), (1, Times(nq))]
            }
            _ => vec![],
        },
        Op::Call(func, args) => call_factors(b, y, func, &args),
    }
}

fn call_factors(b: &mut Builder, y: ValueId, func: Func, args: &[ValueId]) -> Vec<(usize, Factor)> {
    use Factor::*;
    let a = args[0];
    match func {
        Func::Powi => {
            let n = args[1];
            match b.f.node(n).op {
                Op::IntLit(0) => vec![],
                Op::IntLit(1) => vec![(0, One)],
                Op::IntLit(2) => {
                    let two = b.lit(2.0);
                    vec![(0, Times(b.mul(two, a)))]
                }
                Op::IntLit(k) => {
                    let kf = b.lit(k as f64);
                    let km1 = b.f.add(Op::IntLit(k - 1), Ty::Int, b.block, Span::call_site());
                    let p = b.call(Func::Powi, vec![a, km1]);
                    vec![(0, Times(b.mul(kf, p)))]
                }
                _ => {
                    // A runtime exponent: n as F * a.powi(n - 1).
                    let ty = syn::Ident::new(b.ty.name(), Span::call_site());
                    let idx = b.f.intern_path(quote!(#ty));
                    let nf = build(b.f, Op::Cast(idx, n), Ty::Float(b.ty), b.block, Span::call_site(), Sweep::Backward);
                    let one = b.f.add(Op::IntLit(1), Ty::Int, b.block, Span::call_site());
                    let nm1 = build(
                        b.f,
                        Op::Binary(BinOp::Sub, n, one),
                        Ty::Int,
                        b.block,
                        Span::call_site(),
                        Sweep::Backward,
                    );
                    let p = b.call(Func::Powi, vec![a, nm1]);
                    vec![(0, Times(b.mul(nf, p)))]
                }
            }
        }
        Func::Powf => {
            let e = args[1];
            let one = b.lit(1.0);
            let em1 = b.sub(e, one);
            let p = b.call(Func::Powf, vec![a, em1]);
            let da = b.mul(e, p);
            let ln = b.call(Func::Ln, vec![a]);
            let de = b.mul(y, ln);
            vec![(0, Times(da)), (1, Times(de))]
        }
        Func::Sqrt => {
            let two = b.lit(2.0);
            vec![(0, Over(b.mul(two, y)))]
        }
        Func::Cbrt => {
            let three = b.lit(3.0);
            let sq = b.square(y);
            vec![(0, Over(b.mul(three, sq)))]
        }
        Func::Exp => vec![(0, Times(y))],
        Func::Exp2 => {
            let ln2 = b.consts("LN_2");
            vec![(0, Times(b.mul(y, ln2)))]
        }
        Func::ExpM1 => {
            let one = b.lit(1.0);
            vec![(0, Times(b.add(y, one)))]
        }
        Func::Ln => vec![(0, Over(a))],
        Func::Ln1p => {
            let one = b.lit(1.0);
            vec![(0, Over(b.add(a, one)))]
        }
        Func::Log => {
            let base = args[1];
            let ln_base = b.call(Func::Ln, vec![base]);
            let da = b.mul(a, ln_base);
            let g = b.mul(base, ln_base);
            let q = b.div(y, g);
            vec![(0, Over(da)), (1, Times(b.neg(q)))]
        }
        Func::Log2 => {
            let ln2 = b.consts("LN_2");
            vec![(0, Over(b.mul(a, ln2)))]
        }
        Func::Log10 => {
            let ln10 = b.consts("LN_10");
            vec![(0, Over(b.mul(a, ln10)))]
        }
        Func::Sin => vec![(0, Times(b.call(Func::Cos, vec![a])))],
        Func::Cos => {
            let s = b.call(Func::Sin, vec![a]);
            vec![(0, Times(b.neg(s)))]
        }
        Func::Tan => {
            let one = b.lit(1.0);
            let sq = b.square(y);
            vec![(0, Times(b.add(one, sq)))]
        }
        Func::Asin | Func::Acos => {
            let one = b.lit(1.0);
            let sq = b.square(a);
            let d = b.sub(one, sq);
            let r = b.call(Func::Sqrt, vec![d]);
            vec![(0, if func == Func::Asin { Over(r) } else { MinusOver(r) })]
        }
        Func::Atan => {
            let one = b.lit(1.0);
            let sq = b.square(a);
            vec![(0, Over(b.add(one, sq)))]
        }
        Func::Atan2 => {
            // y = a.atan2(c): ∂/∂a = c / (a² + c²), ∂/∂c = -a / (a² + c²).
            let c = args[1];
            let a2 = b.square(a);
            let c2 = b.square(c);
            let u = b.add(a2, c2);
            let da = b.div(c, u);
            let q = b.div(a, u);
            vec![(0, Times(da)), (1, Times(b.neg(q)))]
        }
        Func::Sinh => vec![(0, Times(b.call(Func::Cosh, vec![a])))],
        Func::Cosh => vec![(0, Times(b.call(Func::Sinh, vec![a])))],
        Func::Tanh => {
            let one = b.lit(1.0);
            let sq = b.square(y);
            vec![(0, Times(b.sub(one, sq)))]
        }
        Func::Asinh => {
            let one = b.lit(1.0);
            let sq = b.square(a);
            let s = b.add(sq, one);
            vec![(0, Over(b.call(Func::Sqrt, vec![s])))]
        }
        Func::Acosh => {
            let one = b.lit(1.0);
            let sq = b.square(a);
            let s = b.sub(sq, one);
            vec![(0, Over(b.call(Func::Sqrt, vec![s])))]
        }
        Func::Atanh => {
            let one = b.lit(1.0);
            let sq = b.square(a);
            vec![(0, Over(b.sub(one, sq)))]
        }
        Func::Abs => vec![(0, Times(b.call(Func::Sign, vec![a])))],
        Func::Signum => vec![],
        Func::Max | Func::Min => {
            let weight = if func == Func::Max { Func::MaxWeight } else { Func::MinWeight };
            let c = args[1];
            let wa = b.call(weight, vec![a, c]);
            let wc = b.call(weight, vec![c, a]);
            vec![(0, Times(wa)), (1, Times(wc))]
        }
        Func::MulAdd => vec![(0, Times(args[1])), (1, Times(a)), (2, One)],
        Func::Hypot => {
            let c = args[1];
            let da = b.div(a, y);
            let dc = b.div(c, y);
            vec![(0, Times(da)), (1, Times(dc))]
        }
        Func::Recip => {
            let sq = b.square(y);
            vec![(0, Times(b.neg(sq)))]
        }
        Func::Clamp => {
            let (lo, hi) = (args[1], args[2]);
            let wx = b.call(Func::ClampWeight, vec![a, lo, hi]);
            let wlo = b.call(Func::ClampLoWeight, vec![a, lo]);
            let whi = b.call(Func::ClampHiWeight, vec![a, hi]);
            vec![(0, Times(wx)), (1, Times(wlo)), (2, Times(whi))]
        }
        Func::Activation(act, _) => match act {
            Activation::Sigmoid => {
                let one = b.lit(1.0);
                let s = b.sub(one, y);
                vec![(0, Times(b.mul(y, s)))]
            }
            Activation::LeakyRelu | Activation::Elu => {
                let dx = b.call(Func::ActivationDerivative(act), args.to_vec());
                let dalpha = b.call(Func::ActivationAlphaDerivative(act), args.to_vec());
                vec![(0, Times(dx)), (1, Times(dalpha))]
            }
            _ => vec![(0, Times(b.call(Func::ActivationDerivative(act), args.to_vec())))],
        },
        // Helpers that only the backward sweep calls: piecewise constant, or not differentiated again.
        // (`SumArray` reaches an array, which the differentiator handles with a loop.)
        Func::SumArray(..)
        | Func::ActivationDerivative(_)
        | Func::ActivationAlphaDerivative(_)
        | Func::Sign
        | Func::MaxWeight
        | Func::MinWeight
        | Func::ClampWeight
        | Func::ClampLoWeight
        | Func::ClampHiWeight
        | Func::UnlessZero => vec![],
    }
}
