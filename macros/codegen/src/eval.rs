//! An interpreter for the IR, forward and backward sweeps alike, so that tests check what the
//! differentiator built numerically without compiling the emitted code.

use crate::diff::Derivation;
use crate::ir::{Activation, ArrayId, ArrayOrigin, BinOp, BlockId, Dim, Func, Function, Item, Op, UnOp, ValueId, ROOT};
use backprop_runtime::{activation as act, kinks};
use std::collections::HashMap;

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

/// An argument: a scalar, or an array given flat (row-major) with its dimensions.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    S(Val),
    A(Vec<f64>, Vec<usize>),
}

pub struct Interpreter<'f> {
    f: &'f Function,
    values: Vec<Option<Val>>,
    inputs: Vec<Input>,
    memory: HashMap<ArrayId, (Vec<f64>, Vec<usize>)>,
    /// Per loop body: the values of each finished forward iteration, restored by the backward
    /// iteration that reverses it (what the emitted code's tapes do).
    snapshots: HashMap<BlockId, Vec<Vec<(usize, Val)>>>,
    /// Per value: the loop body whose iterations recompute it (not counting nested loops).
    iteration_body: Vec<Option<BlockId>>,
}

/// Evaluates the function at `inputs` (one per parameter): its value and, per parameter, the
/// gradient the backward sweep computes (0 where there is none).
pub fn value_and_gradient(f: &Function, d: &Derivation, inputs: &[Val]) -> Result<(f64, Vec<f64>), String> {
    let inputs: Vec<Input> = inputs.iter().map(|v| Input::S(*v)).collect();
    let (value, grads) = value_and_gradients(f, d, &inputs)?;
    Ok((value, grads.into_iter().map(|g| g.first().copied().unwrap_or(0.0)).collect()))
}

/// Like `value_and_gradient`, with array arguments: each gradient is flat (one entry for a scalar).
pub fn value_and_gradients(f: &Function, d: &Derivation, inputs: &[Input]) -> Result<(f64, Vec<Vec<f64>>), String> {
    let mut it = Interpreter::new(f, inputs)?;
    it.block(ROOT)?;
    it.block(d.backward)?;
    let value = it.get(f.output.ok_or("no output")?)?.f()?;
    let mut grads = Vec::new();
    for (p, g) in f.params.iter().zip(&d.gradients) {
        match p.array {
            Some(a) => match d.array_adjoints.get(&a).and_then(|adj| it.memory.get(adj)) {
                Some((data, _)) => grads.push(data.clone()),
                None => grads.push(vec![0.0; it.memory.get(&a).map_or(0, |m| m.0.len())]),
            },
            None => grads.push(vec![g.map_or(Ok(0.0), |g| it.get(g).and_then(Val::f))?]),
        }
    }
    Ok((value, grads))
}

/// Evaluates only the forward sweep: the function's value.
pub fn value(f: &Function, inputs: &[Val]) -> Result<f64, String> {
    let inputs: Vec<Input> = inputs.iter().map(|v| Input::S(*v)).collect();
    value_of(f, &inputs)
}

pub fn value_of(f: &Function, inputs: &[Input]) -> Result<f64, String> {
    let mut it = Interpreter::new(f, inputs)?;
    it.block(ROOT)?;
    it.get(f.output.ok_or("no output")?)?.f()
}

/// Every value after the forward and the backward sweep (`None` where a branch or loop did not
/// compute it), for tests that evaluate the derivation's factors.
pub fn all_values(f: &Function, d: &Derivation, inputs: &[Val]) -> Result<Vec<Option<Val>>, String> {
    let inputs: Vec<Input> = inputs.iter().map(|v| Input::S(*v)).collect();
    let mut it = Interpreter::new(f, &inputs)?;
    it.block(ROOT)?;
    it.block(d.backward)?;
    Ok(it.values)
}

impl<'f> Interpreter<'f> {
    fn new(f: &'f Function, inputs: &[Input]) -> Result<Self, String> {
        let mut memory = HashMap::new();
        for (i, a) in f.arrays.iter().enumerate() {
            let id = ArrayId(i as u32);
            match &a.origin {
                ArrayOrigin::Param { index, .. } => match inputs.get(*index as usize) {
                    Some(Input::A(data, dims)) => {
                        memory.insert(id, (data.clone(), dims.clone()));
                    }
                    _ => return Err(format!("argument {index} must be an array")),
                },
                ArrayOrigin::Local { .. } => {
                    let dims = a
                        .dims
                        .iter()
                        .map(|d| match d {
                            Dim::Const(t) => t.to_string().parse::<usize>().map_err(|_| format!("length `{t}`")),
                            Dim::Dynamic | Dim::Value(_) => Err("dynamic local".to_string()),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    memory.insert(id, (vec![0.0; dims.iter().product()], dims));
                }
                ArrayOrigin::Adjoint(of) => {
                    let (_, dims) = memory.get(of).cloned().ok_or("adjoint before its array")?;
                    memory.insert(id, (vec![0.0; dims.iter().product()], dims));
                }
                ArrayOrigin::Const(_) => return Err("the interpreter has no constant tables".into()),
                ArrayOrigin::Returned(_) | ArrayOrigin::Result | ArrayOrigin::Field { .. } => {
                    return Err("the interpreter runs no calls and no parameter structs".into())
                }
            }
        }
        let mut iteration_body = vec![None; f.nodes.len()];
        for (i, n) in f.nodes.iter().enumerate() {
            let mut b = Some(n.block);
            while let Some(block) = b {
                if f.block(block).loop_owner.is_some() {
                    iteration_body[i] = Some(block);
                    break;
                }
                b = f.block(block).parent;
            }
        }
        let scalars = inputs.to_vec();
        Ok(Interpreter {
            f,
            values: vec![None; f.nodes.len()],
            inputs: scalars,
            memory,
            snapshots: HashMap::new(),
            iteration_body,
        })
    }

    fn flat_index(&self, a: ArrayId, indices: &[ValueId]) -> Result<usize, String> {
        let dims = &self.memory.get(&a).ok_or("unknown array")?.1;
        let mut flat = 0usize;
        for (k, i) in indices.iter().enumerate() {
            let i = match self.values[i.index()].or_else(|| self.leaf(*i)) {
                Some(Val::I(i)) => i,
                other => return Err(format!("index {other:?} (value {}: {:?})", i.index(), self.f.node(*i).op)),
            };
            if i < 0 || i as usize >= dims[k] {
                return Err(format!("index {i} out of bounds {}", dims[k]));
            }
            flat = flat * dims[k] + i as usize;
        }
        Ok(flat)
    }

    fn leaf(&self, v: ValueId) -> Option<Val> {
        match self.f.node(v).op {
            Op::IntLit(i) => Some(Val::I(i)),
            Op::FloatLit(bits) => Some(Val::F(f64::from_bits(bits))),
            // An integer argument used only as an index is read here first.
            Op::Param(i) => match self.inputs.get(i as usize) {
                Some(Input::S(v)) => Some(*v),
                _ => None,
            },
            _ => None,
        }
    }

    fn run_loop(&mut self, id: crate::ir::LoopId) -> Result<(), String> {
        let node = self.f.loop_node(id).clone();
        if let Some(cond) = node.exit {
            return self.run_while(&node, cond);
        }
        let lo = match self.get(node.lo)? {
            Val::I(i) => i,
            other => return Err(format!("loop bound {other:?}")),
        };
        let hi = match self.get(node.hi)? {
            Val::I(i) => i + i128::from(node.inclusive),
            other => return Err(format!("loop bound {other:?}")),
        };
        let order: Vec<i128> = if node.rev { (lo..hi).rev().collect() } else { (lo..hi).collect() };
        for c in &node.carried {
            let init = self.get(c.init)?;
            self.values[c.inner.index()] = Some(init);
        }
        let backward = self.f.block(node.body).backward;
        let mirror = self.f.block(node.body).mirror;
        for i in order {
            self.values[node.var.index()] = Some(Val::I(i));
            if let (true, Some(m)) = (backward, mirror) {
                let snapshot = self.snapshots.get_mut(&m).and_then(|s| s.pop()).ok_or("no snapshot to restore")?;
                for (n, v) in snapshot {
                    self.values[n] = Some(v);
                }
            }
            self.block(node.body)?;
            if !backward {
                let snapshot: Vec<(usize, Val)> = (0..self.values.len())
                    .filter(|n| self.iteration_body[*n] == Some(node.body))
                    .filter_map(|n| self.values[n].map(|v| (n, v)))
                    .collect();
                self.snapshots.entry(node.body).or_default().push(snapshot);
            }
            let nexts: Vec<Val> = node.carried.iter().map(|c| self.get(c.next)).collect::<Result<_, _>>()?;
            for (c, v) in node.carried.iter().zip(nexts) {
                self.values[c.inner.index()] = Some(v);
            }
        }
        for c in &node.carried {
            let v = self.get(c.inner)?;
            self.values[c.out.index()] = Some(v);
        }
        Ok(())
    }

    /// A `while` loop: the body's items up to the condition run at the start of every iteration;
    /// a false condition ends the loop before the rest. Iterations are snapshotted as in `for` loops,
    /// and the trip count is recorded.
    fn run_while(&mut self, node: &crate::ir::LoopNode, cond: ValueId) -> Result<(), String> {
        let items = self.f.block(node.body).items.clone();
        let split = items.iter().position(|i| *i == Item::Value(cond)).map_or(0, |p| p + 1);
        for c in &node.carried {
            let init = self.get(c.init)?;
            self.values[c.inner.index()] = Some(init);
        }
        let mut trips: i128 = 0;
        loop {
            if trips > 1_000_000 {
                return Err("while loop ran over a million iterations".into());
            }
            self.values[node.var.index()] = Some(Val::I(trips));
            self.items(&items[..split])?;
            if !self.get(cond)?.b()? {
                break;
            }
            self.items(&items[split..])?;
            let snapshot: Vec<(usize, Val)> = (0..self.values.len())
                .filter(|n| self.iteration_body[*n] == Some(node.body))
                .filter_map(|n| self.values[n].map(|v| (n, v)))
                .collect();
            self.snapshots.entry(node.body).or_default().push(snapshot);
            let nexts: Vec<Val> = node.carried.iter().map(|c| self.get(c.next)).collect::<Result<_, _>>()?;
            for (c, v) in node.carried.iter().zip(nexts) {
                self.values[c.inner.index()] = Some(v);
            }
            trips += 1;
        }
        for c in &node.carried {
            let v = self.get(c.inner)?;
            self.values[c.out.index()] = Some(v);
        }
        if let Some(t) = node.trips {
            self.values[t.index()] = Some(Val::I(trips));
        }
        Ok(())
    }

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
        let items = self.f.block(b).items.clone();
        self.items(&items)
    }

    fn items(&mut self, items: &[Item]) -> Result<(), String> {
        for item in items.iter().copied() {
            match item {
                Item::Value(v) => {
                    let x = self.compute(v)?;
                    self.values[v.index()] = Some(x);
                }
                Item::Loop(id) => self.run_loop(id)?,
                Item::If(id) => {
                    let node = self.f.if_node(id).clone();
                    let taken = self.get(node.cond)?.b()?;
                    self.block(if taken { node.then_block } else { node.else_block })?;
                    for out in &node.outputs {
                        let x = self.get(if taken { out.then_value } else { out.else_value })?;
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
            Op::Param(i) => match &self.inputs[*i as usize] {
                Input::S(v) => Ok(*v),
                Input::A(..) => Ok(Val::I(0)),
            },
            Op::Load(a, _, idx) => {
                let k = self.flat_index(*a, idx)?;
                Ok(Val::F(self.memory[a].0[k]))
            }
            Op::Store(a, args) => {
                let (idx, value) = args.split_at(args.len() - 1);
                let x = self.get(value[0])?.f()?;
                let k = self.flat_index(*a, idx)?;
                if let Some(m) = self.memory.get_mut(a) {
                    m.0[k] = x;
                }
                Ok(Val::B(true))
            }
            Op::Declare(a) => {
                let fill = match self.f.array(*a).origin {
                    ArrayOrigin::Local { fill } => self.get(fill)?.f()?,
                    _ => 0.0,
                };
                if let Some(m) = self.memory.get_mut(a) {
                    m.0.iter_mut().for_each(|x| *x = fill);
                }
                Ok(Val::B(true))
            }
            Op::Len(a) => Ok(Val::I(self.memory.get(a).map_or(0, |m| m.1[0]) as i128)),
            Op::LoopVar(_) | Op::LoopPhi(..) | Op::LoopOut(..) | Op::LoopTrips(_) => {
                self.values[v.index()].ok_or_else(|| "loop value read outside its loop".to_string())
            }
            Op::Invoke(..) | Op::Pullback(..) | Op::PullbackOut(..) | Op::Seed | Op::Result => {
                Err("the interpreter runs no calls".into())
            }
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
                    other => Err(format!("the interpreter does not know the constant `{other}`")),
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
                let vals: Vec<Val> = args.iter().map(|a| self.get(*a)).collect::<Result<_, _>>()?;
                if let Func::SumArray(a, _) = func {
                    let data = &self.memory.get(&ArrayId(*a)).ok_or("unknown array")?.0;
                    return float(data.iter().fold(-0.0, |acc, x| acc + x));
                }
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
        Func::Powi | Func::SumArray(..) => unreachable!("handled by the caller"),
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
        Func::UnlessZero => {
            if a == 0.0 {
                0.0
            } else {
                x[1]
            }
        }
    })
}
