//! An interpreter for the IR, forward and backward sweeps alike, so that tests check what the
//! differentiator built numerically without compiling the emitted code.

use crate::diff::Derivation;
use crate::ir::{Activation, BinOp, BlockId, Func, Function, Item, Op, UnOp, ValueId, ROOT};
use backprop_runtime::{activation as act, kinks};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    F(f64),
    I(i128),
    B(bool),
}

impl Val {
    fn f(self) -> Result<f64, String> {
        match self {
            Val::F(x) => Ok(x),
            Val::I(i) => Ok(i as f64),
            Val::B(_) => Err("expected a number, found a bool".into()),
        }
    }
    fn b(self) -> Result<bool, String> {
        match self {
            Val::B(b) => Ok(b),
            _ => Err("expected a bool".into()),
        }
    }
}

pub struct Interpreter<'f> {
    f: &'f Function,
    values: Vec<Option<Val>>,
    inputs: Vec<Val>,
}

/// Evaluates the function at `inputs` (one per parameter): its value and, per parameter, the
/// gradient the backward sweep computes (0 where there is none).
pub fn value_and_gradient(
    f: &Function,
    d: &Derivation,
    inputs: &[Val],
) -> Result<(f64, Vec<f64>), String> {
    let mut it = Interpreter {
        f,
        values: vec![None; f.nodes.len()],
        inputs: inputs.to_vec(),
    };
    it.block(ROOT)?;
    it.block(d.backward)?;
    let value = it.get(f.output.ok_or("no output")?)?.f()?;
    let grads = d
        .gradients
        .iter()
        .map(|g| g.map_or(Ok(0.0), |g| it.get(g).and_then(Val::f)))
        .collect::<Result<_, _>>()?;
    Ok((value, grads))
}

/// Evaluates only the forward sweep: the function's value.
pub fn value(f: &Function, inputs: &[Val]) -> Result<f64, String> {
    let mut it = Interpreter {
        f,
        values: vec![None; f.nodes.len()],
        inputs: inputs.to_vec(),
    };
    it.block(ROOT)?;
    it.get(f.output.ok_or("no output")?)?.f()
}

impl Interpreter<'_> {
    fn get(&mut self, v: ValueId) -> Result<Val, String> {
        if let Some(x) = self.values[v.index()] {
            return Ok(x);
        }
        if self.f.node(v).op.is_leaf() {
            let x = self.compute(v)?;
            self.values[v.index()] = Some(x);
            return Ok(x);
        }
        Err(format!("value {} read before it was computed", v.index()))
    }

    fn block(&mut self, b: BlockId) -> Result<(), String> {
        for item in self.f.block(b).items.clone() {
            match item {
                Item::Value(v) => {
                    let x = self.compute(v)?;
                    self.values[v.index()] = Some(x);
                }
                Item::If(id) => {
                    let node = self.f.if_node(id).clone();
                    let taken = self.get(node.cond)?.b()?;
                    self.block(if taken {
                        node.then_block
                    } else {
                        node.else_block
                    })?;
                    for out in &node.outputs {
                        let x = self.get(if taken {
                            out.then_value
                        } else {
                            out.else_value
                        })?;
                        self.values[out.phi.index()] = Some(x);
                    }
                }
            }
        }
        Ok(())
    }

    fn compute(&mut self, v: ValueId) -> Result<Val, String> {
        let node = self.f.node(v).clone();
        let float = |x: f64| Ok(Val::F(node.ty.float().map_or(x, |t| t.round(x))));
        match &node.op {
            Op::Param(i) => Ok(self.inputs[*i as usize]),
            Op::FloatLit(bits) => Ok(Val::F(f64::from_bits(*bits))),
            Op::IntLit(i) => Ok(Val::I(*i)),
            Op::BoolLit(b) => Ok(Val::B(*b)),
            Op::Const(idx) => {
                let text = self.f.paths[*idx as usize].0.replace(' ', "");
                let last = text.rsplit("::").next().unwrap_or("");
                match last {
                    "PI" => float(std::f64::consts::PI),
                    "E" => float(std::f64::consts::E),
                    "LN_2" => float(std::f64::consts::LN_2),
                    "LN_10" => float(std::f64::consts::LN_10),
                    other => Err(format!(
                        "the interpreter does not know the constant `{other}`"
                    )),
                }
            }
            Op::Unary(UnOp::Neg, a) => match self.get(*a)? {
                Val::I(i) => Ok(Val::I(-i)),
                x => float(-x.f()?),
            },
            Op::Unary(UnOp::Not, a) => Ok(Val::B(!self.get(*a)?.b()?)),
            Op::Binary(op, a, b) => {
                let (x, y) = (self.get(*a)?, self.get(*b)?);
                if let (Val::I(i), Val::I(j)) = (x, y) {
                    return Ok(match op {
                        BinOp::Add => Val::I(i + j),
                        BinOp::Sub => Val::I(i - j),
                        BinOp::Mul => Val::I(i * j),
                        BinOp::Div => Val::I(i.checked_div(j).ok_or("integer division by zero")?),
                        BinOp::Rem => Val::I(i.checked_rem(j).ok_or("integer division by zero")?),
                        BinOp::Lt => Val::B(i < j),
                        BinOp::Le => Val::B(i <= j),
                        BinOp::Gt => Val::B(i > j),
                        BinOp::Ge => Val::B(i >= j),
                        BinOp::Eq => Val::B(i == j),
                        BinOp::Ne => Val::B(i != j),
                        BinOp::And | BinOp::Or => return Err("logical operator on integers".into()),
                    });
                }
                match op {
                    BinOp::And => Ok(Val::B(x.b()? && y.b()?)),
                    BinOp::Or => Ok(Val::B(x.b()? || y.b()?)),
                    _ => {
                        let (x, y) = (x.f()?, y.f()?);
                        match op {
                            BinOp::Add => float(x + y),
                            BinOp::Sub => float(x - y),
                            BinOp::Mul => float(x * y),
                            BinOp::Div => float(x / y),
                            BinOp::Rem => float(x % y),
                            BinOp::Lt => Ok(Val::B(x < y)),
                            BinOp::Le => Ok(Val::B(x <= y)),
                            BinOp::Gt => Ok(Val::B(x > y)),
                            BinOp::Ge => Ok(Val::B(x >= y)),
                            BinOp::Eq => Ok(Val::B(x == y)),
                            BinOp::Ne => Ok(Val::B(x != y)),
                            BinOp::And | BinOp::Or => unreachable!("handled above"),
                        }
                    }
                }
            }
            Op::Cast(_, a) => match (self.get(*a)?, node.ty) {
                (x, crate::ir::Ty::Float(_)) => float(x.f()?),
                (x, _) => Ok(Val::I(x.f()? as i128)),
            },
            Op::Alias(a) => self.get(*a),
            Op::Phi(..) => Err("an `if` output read before its `if` ran".into()),
            Op::Call(func, args) => {
                let vals: Vec<Val> = args
                    .iter()
                    .map(|a| self.get(*a))
                    .collect::<Result<_, _>>()?;
                if *func == Func::Powi {
                    let n = match vals[1] {
                        Val::I(n) => n as i32,
                        other => other.f()? as i32,
                    };
                    return float(vals[0].f()?.powi(n));
                }
                let x: Vec<f64> = vals.iter().map(|v| v.f()).collect::<Result<_, _>>()?;
                float(call(*func, &x)?)
            }
        }
    }
}

fn call(func: Func, x: &[f64]) -> Result<f64, String> {
    let a = x[0];
    Ok(match func {
        Func::Powi => unreachable!("handled by the caller"),
        Func::Powf => a.powf(x[1]),
        Func::Sqrt => a.sqrt(),
        Func::Cbrt => a.cbrt(),
        Func::Exp => a.exp(),
        Func::Exp2 => a.exp2(),
        Func::ExpM1 => a.exp_m1(),
        Func::Ln => a.ln(),
        Func::Ln1p => a.ln_1p(),
        Func::Log => a.log(x[1]),
        Func::Log2 => a.log2(),
        Func::Log10 => a.log10(),
        Func::Sin => a.sin(),
        Func::Cos => a.cos(),
        Func::Tan => a.tan(),
        Func::Asin => a.asin(),
        Func::Acos => a.acos(),
        Func::Atan => a.atan(),
        Func::Atan2 => a.atan2(x[1]),
        Func::Sinh => a.sinh(),
        Func::Cosh => a.cosh(),
        Func::Tanh => a.tanh(),
        Func::Asinh => a.asinh(),
        Func::Acosh => a.acosh(),
        Func::Atanh => a.atanh(),
        Func::Abs => a.abs(),
        Func::Signum => a.signum(),
        Func::Max => a.max(x[1]),
        Func::Min => a.min(x[1]),
        Func::MulAdd => a.mul_add(x[1], x[2]),
        Func::Hypot => a.hypot(x[1]),
        Func::Recip => a.recip(),
        Func::Clamp => {
            if x[1] > x[2] || x[1].is_nan() || x[2].is_nan() {
                return Err("clamp with invalid bounds".into());
            }
            a.clamp(x[1], x[2])
        }
        Func::Activation(which, _) => match which {
            Activation::Sigmoid => act::sigmoid(a),
            Activation::Relu => act::relu(a),
            Activation::LeakyRelu => act::leaky_relu(a, x[1]),
            Activation::Softplus => act::softplus(a),
            Activation::Elu => act::elu(a, x[1]),
            Activation::Silu => act::silu(a),
            Activation::Gelu => act::gelu(a),
            Activation::Softsign => act::softsign(a),
        },
        Func::ActivationDerivative(which) => match which {
            Activation::Sigmoid => act::sigmoid_derivative(a),
            Activation::Relu => act::relu_derivative(a),
            Activation::LeakyRelu => act::leaky_relu_derivative(a, x[1]),
            Activation::Softplus => act::softplus_derivative(a),
            Activation::Elu => act::elu_derivative(a, x[1]),
            Activation::Silu => act::silu_derivative(a),
            Activation::Gelu => act::gelu_derivative(a),
            Activation::Softsign => act::softsign_derivative(a),
        },
        Func::ActivationAlphaDerivative(which) => match which {
            Activation::LeakyRelu => act::leaky_relu_alpha_derivative(a, x[1]),
            Activation::Elu => act::elu_alpha_derivative(a, x[1]),
            other => return Err(format!("{other:?} has no alpha")),
        },
        Func::Sign => kinks::sign(a),
        Func::MaxWeight => kinks::max_weight(a, x[1]),
        Func::MinWeight => kinks::min_weight(a, x[1]),
        Func::ClampWeight => kinks::clamp_weight(a, x[1], x[2]),
        Func::ClampLoWeight => kinks::clamp_lo_weight(a, x[1]),
        Func::ClampHiWeight => kinks::clamp_hi_weight(a, x[1]),
    })
}
