//! The intermediate representation: a flat arena of single-assignment values, hash-consed so that
//! equal subexpressions are one value, organised in structured blocks (`if`/`else` nest blocks).
//!
//! Values are created in program order, so a value's id is always larger than its operands' ids and
//! a block's items are already in topological order: the backward sweep is a reverse walk.
//! Leaves (arguments, literals, constants) live in the root block and are never bound by a `let`.

use proc_macro2::{Span, TokenStream};
use std::collections::HashMap;

macro_rules! entity {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

entity!(
    /// A value in the arena.
    ValueId
);
entity!(
    /// A block of items (the function body, a branch, or a backward-sweep block).
    BlockId
);
entity!(
    /// A structured `if`/`else` with merged outputs.
    IfId
);
entity!(
    /// A `for` loop over an integer range.
    LoopId
);
entity!(
    /// An array: an argument, a local, a constant table, or an adjoint.
    ArrayId
);
entity!(
    /// A call of a differentiable function (`#[backprop]` or with a custom pullback).
    CallId
);

/// The root block: the function body's forward sweep. Leaves live here too.
pub const ROOT: BlockId = BlockId(0);

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FloatTy {
    F32,
    F64,
}

impl FloatTy {
    pub fn name(self) -> &'static str {
        match self {
            FloatTy::F32 => "f32",
            FloatTy::F64 => "f64",
        }
    }

    pub fn from_name(name: &str) -> Option<FloatTy> {
        match name {
            "f32" => Some(FloatTy::F32),
            "f64" => Some(FloatTy::F64),
            _ => None,
        }
    }

    /// Rounds an f64 to this type's precision (exact for f64).
    pub fn round(self, x: f64) -> f64 {
        match self {
            FloatTy::F32 => x as f32 as f64,
            FloatTy::F64 => x,
        }
    }
}

/// The type of a value, as far as the macro needs to know it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Ty {
    Float(FloatTy),
    Int,
    Bool,
    /// A constant written as a path (`PI`, `SCALE`): rustc knows its type, the macro does not.
    Unknown,
    /// A statement with no value (an element store, an array declaration).
    Unit,
}

impl Ty {
    pub fn float(self) -> Option<FloatTy> {
        match self {
            Ty::Float(f) => Some(f),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl BinOp {
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne)
    }

    pub fn is_logical(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or)
    }
}

/// The runtime's activations that the macro knows the derivative of.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Activation {
    Sigmoid,
    Relu,
    LeakyRelu,
    Softplus,
    Elu,
    Silu,
    Gelu,
    Softsign,
}

impl Activation {
    pub const ALL: [Activation; 8] = [
        Activation::Sigmoid,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Softplus,
        Activation::Elu,
        Activation::Silu,
        Activation::Gelu,
        Activation::Softsign,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Softplus => "softplus",
            Activation::Elu => "elu",
            Activation::Silu => "silu",
            Activation::Gelu => "gelu",
            Activation::Softsign => "softsign",
        }
    }

    pub fn from_name(name: &str) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Number of arguments: `x`, plus `alpha` for the parametrised ones.
    pub fn arity(self) -> usize {
        match self {
            Activation::LeakyRelu | Activation::Elu => 2,
            _ => 1,
        }
    }
}

/// Float functions: `std` methods, the runtime's activations, and the runtime helpers that the
/// derivative rules call at kinks.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Func {
    Powi,
    Powf,
    Sqrt,
    Cbrt,
    Exp,
    Exp2,
    ExpM1,
    Ln,
    Ln1p,
    Log,
    Log2,
    Log10,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Atan2,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Abs,
    Signum,
    Max,
    Min,
    MulAdd,
    Hypot,
    Recip,
    Clamp,
    /// A runtime activation, called through the path the user wrote (interned in `Function::paths`).
    Activation(Activation, u32),
    /// `activation::<name>_derivative(x[, alpha])`.
    ActivationDerivative(Activation),
    /// `activation::<name>_alpha_derivative(x, alpha)`.
    ActivationAlphaDerivative(Activation),
    /// `array.iter().sum::<F>()` of the array with this id at this version (no operands).
    SumArray(u32, u32),
    /// `kinks::sign(x)`: the derivative of `abs`, 0 at 0.
    Sign,
    /// `kinks::max_weight(a, b)`: the share of `d a.max(b)` that flows to `a`.
    MaxWeight,
    MinWeight,
    ClampWeight,
    ClampLoWeight,
    ClampHiWeight,
    /// `if d == 0 { 0 } else { c }` for an adjoint `d` and its contribution `c`: a zero adjoint
    /// (from a branch that did not run) passes on an exact zero even through a local factor that
    /// is infinite or NaN at this point. See `diff::Sweep::maybe_zero`.
    UnlessZero,
}

/// `std` float methods the macro accepts, with their argument counts (receiver excluded).
pub const METHODS: &[(&str, Func, usize)] = &[
    ("powi", Func::Powi, 1),
    ("powf", Func::Powf, 1),
    ("sqrt", Func::Sqrt, 0),
    ("cbrt", Func::Cbrt, 0),
    ("exp", Func::Exp, 0),
    ("exp2", Func::Exp2, 0),
    ("exp_m1", Func::ExpM1, 0),
    ("ln", Func::Ln, 0),
    ("ln_1p", Func::Ln1p, 0),
    ("log", Func::Log, 1),
    ("log2", Func::Log2, 0),
    ("log10", Func::Log10, 0),
    ("sin", Func::Sin, 0),
    ("cos", Func::Cos, 0),
    ("tan", Func::Tan, 0),
    ("asin", Func::Asin, 0),
    ("acos", Func::Acos, 0),
    ("atan", Func::Atan, 0),
    ("atan2", Func::Atan2, 1),
    ("sinh", Func::Sinh, 0),
    ("cosh", Func::Cosh, 0),
    ("tanh", Func::Tanh, 0),
    ("asinh", Func::Asinh, 0),
    ("acosh", Func::Acosh, 0),
    ("atanh", Func::Atanh, 0),
    ("abs", Func::Abs, 0),
    ("signum", Func::Signum, 0),
    ("max", Func::Max, 1),
    ("min", Func::Min, 1),
    ("mul_add", Func::MulAdd, 2),
    ("hypot", Func::Hypot, 1),
    ("recip", Func::Recip, 0),
    ("clamp", Func::Clamp, 2),
];

pub fn method_by_name(name: &str) -> Option<(Func, usize)> {
    METHODS.iter().find(|(n, _, _)| *n == name).map(|&(_, f, a)| (f, a))
}

pub fn method_name(func: Func) -> Option<&'static str> {
    METHODS.iter().find(|(_, f, _)| *f == func).map(|&(n, _, _)| n)
}

/// What a value computes. Operands are ids of earlier values.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Op {
    /// The function's argument with this index.
    Param(u32),
    /// A float literal, stored as the bits of its f64 value (already rounded to its type).
    FloatLit(u64),
    IntLit(i128),
    BoolLit(bool),
    /// A constant the user wrote as a path (`PI`, `std::f64::consts::E`, a `const` item), interned
    /// in `Function::paths`. Emitted verbatim; its derivative is zero.
    Const(u32),
    Unary(UnOp, ValueId),
    Binary(BinOp, ValueId, ValueId),
    /// A float function; `args[0]` is the receiver for methods.
    Call(Func, Vec<ValueId>),
    /// `value as <paths[target]>`; the node's type says what the target is.
    Cast(u32, ValueId),
    /// Output `k` of a structured `if`.
    Phi(IfId, u32),
    /// A named copy of a value, so that an adjoint keeps its own readable name. Never hash-consed.
    Alias(ValueId),
    /// `array[i][j]..`: an element read. The version changes at every store to the array (and at
    /// loop boundaries), so hash-consing never merges reads across a write.
    Load(ArrayId, u32, Vec<ValueId>),
    /// `array[i][j].. = value`, a side effect; `args` are the indices, then the value.
    Store(ArrayId, Vec<ValueId>),
    /// `let mut h = [0.0; N];` for a local array.
    Declare(ArrayId),
    /// `array.len()` (of the outermost dimension).
    Len(ArrayId),
    /// The index variable of a loop, inside its body.
    LoopVar(LoopId),
    /// Carried variable `k` of a loop at the start of an iteration, inside its body.
    LoopPhi(LoopId, u32),
    /// Carried variable `k` of a loop after the loop.
    LoopOut(LoopId, u32),
    /// How many iterations a `while` loop ran (an integer, after the loop): the backward loop runs
    /// that many, in reverse.
    LoopTrips(LoopId),
    /// A call of a differentiable function (`Function::calls`); the operands are every value the
    /// call reads (its value arguments and the indices of its place arguments, in argument order).
    /// A float when the function returns one; `Unit` when it returns an array, which it writes
    /// (`CallSite::result`).
    Invoke(CallId, Vec<ValueId>),
    /// The callee's pullback, in the backward sweep: the `Invoke`'s operands, then for a float
    /// result the result and its adjoint. Adds into the adjoints of its place arguments (a side
    /// effect, like a store); the adjoints of its float arguments are its `PullbackOut`s.
    Pullback(CallId, Vec<ValueId>),
    /// The adjoint contribution of argument `k` of a `Pullback` (its operand).
    PullbackOut(ValueId, u32),
    /// The adjoint of the result of a function being pulled back (`d_result` of its pullback): the
    /// seed of the sweep instead of 1.
    Seed,
    /// The result a pullback is given (`reuse.rs`): the function's value, not computed again.
    Result,
}

impl Op {
    pub fn operands(&self) -> Vec<ValueId> {
        match self {
            Op::Param(_)
            | Op::FloatLit(_)
            | Op::IntLit(_)
            | Op::BoolLit(_)
            | Op::Const(_)
            | Op::Phi(..)
            | Op::Declare(_)
            | Op::Len(_)
            | Op::LoopVar(_)
            | Op::LoopPhi(..)
            | Op::LoopOut(..)
            | Op::LoopTrips(_)
            | Op::Seed
            | Op::Result => Vec::new(),
            Op::Unary(_, a) | Op::Cast(_, a) | Op::Alias(a) | Op::PullbackOut(a, _) => vec![*a],
            Op::Binary(_, a, b) => vec![*a, *b],
            Op::Call(_, args)
            | Op::Load(_, _, args)
            | Op::Store(_, args)
            | Op::Invoke(_, args)
            | Op::Pullback(_, args) => args.clone(),
        }
    }

    pub fn is_leaf(&self) -> bool {
        matches!(
            self,
            Op::Param(_) | Op::FloatLit(_) | Op::IntLit(_) | Op::BoolLit(_) | Op::Const(_) | Op::Seed | Op::Result
        )
    }
}

/// How a value got its name, for the emitter's name allocation.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Hint {
    /// Bound by the user: `let a1 = ...`, a reassignment, or a merged variable.
    User(String),
    /// The adjoint of another value, named `d_<that value's name>`.
    Adjoint(ValueId),
    /// The function's result, named after the function.
    Output(String),
}

#[derive(Clone, Debug)]
pub struct Node {
    pub op: Op,
    pub ty: Ty,
    pub block: BlockId,
    pub span: Span,
    pub hint: Option<Hint>,
}

/// Items of a block, in execution order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Item {
    Value(ValueId),
    If(IfId),
    Loop(LoopId),
}

/// One dimension of an array's shape.
#[derive(Clone, Debug)]
pub enum Dim {
    /// A length known at compile time: a literal or a `const` item, as written.
    Const(TokenStream),
    /// A slice or `Vec`: the length is `.len()` at run time.
    Dynamic,
    /// A scratch buffer `vec![fill; n]`: the length is an integer value known on entry (computed
    /// from the arguments), so the adjoint buffer can be sized before the function runs.
    Value(ValueId),
}

#[derive(Clone, Debug)]
pub enum ArrayOrigin {
    /// Argument `index`; `by_ref` when passed as `&[..]`.
    Param { index: u32, by_ref: bool },
    /// A local `let mut h = [fill; N];`.
    Local { fill: ValueId },
    /// A constant table written as a path (`TABLE[i]`): never written, never differentiated.
    Const(u32),
    /// The adjoint of another array, accumulated by the backward sweep.
    Adjoint(ArrayId),
    /// The array a call returns (`let h = dense(&net.l1, &x);`): written by the call, read-only after.
    Returned(CallId),
    /// In a pullback, the result the caller passes (`reuse.rs`).
    Result,
    /// A field of a parameter-struct argument, as a place: `path` is what follows the argument's
    /// name (`.l1.w` in `net.l1.w[j][i]`; empty for the whole struct). Read-only; its adjoint is
    /// the same place in the gradient (`grad.net.l1.w`). Its dimensions are as many as it is
    /// indexed by (rustc checks the types); a struct passed whole to a call has none.
    Field { param: u32, path: TokenStream },
}

#[derive(Clone, Debug)]
pub struct Array {
    pub name: syn::Ident,
    pub elem: Ty,
    /// Outermost first: `[[f64; 3]; 2]` has dims `[2, 3]`.
    pub dims: Vec<Dim>,
    pub origin: ArrayOrigin,
    /// Whether anything stores into it.
    pub mutable: bool,
}

/// A carried variable of a loop: its value entering the first iteration (`init`), at the start of
/// each iteration (`inner`, a `LoopPhi`), at the end of an iteration (`next`), and after the loop
/// (`out`, a `LoopOut`).
#[derive(Clone, Copy, Debug)]
pub struct Carried {
    pub init: ValueId,
    pub inner: ValueId,
    pub next: ValueId,
    pub out: ValueId,
}

/// `for var in lo..hi` (`..=` when `inclusive`, `.rev()` when `rev`).
#[derive(Clone, Debug)]
pub struct LoopNode {
    pub var: ValueId,
    pub var_name: syn::Ident,
    pub lo: ValueId,
    pub hi: ValueId,
    pub inclusive: bool,
    pub rev: bool,
    pub body: BlockId,
    pub block: BlockId,
    pub carried: Vec<Carried>,
    /// For a `while` loop: the condition, computed by the body's first items at the start of every
    /// iteration (the loop ends when it is false, before the rest of the body), and the trip count
    /// after the loop. `lo..hi` is then `0..trips`, the range the backward loop reverses.
    pub exit: Option<ValueId>,
    pub trips: Option<ValueId>,
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub parent: Option<BlockId>,
    /// For a backward block: the forward block whose values it may read.
    pub mirror: Option<BlockId>,
    /// For a branch block: the `if` it belongs to.
    pub owner: Option<IfId>,
    /// For a loop body: the loop it belongs to.
    pub loop_owner: Option<LoopId>,
    pub items: Vec<Item>,
    pub backward: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct IfOutput {
    pub phi: ValueId,
    pub then_value: ValueId,
    pub else_value: ValueId,
}

#[derive(Clone, Debug)]
pub struct IfNode {
    pub cond: ValueId,
    pub then_block: BlockId,
    pub else_block: BlockId,
    pub block: BlockId,
    pub outputs: Vec<IfOutput>,
}

/// An argument of a call to a differentiable function.
#[derive(Clone, Debug)]
pub enum CallArg {
    /// A value: a float (whose adjoint the pullback returns), an integer or bool, or a passive
    /// expression the macro does not look into (`Activation::Tanh`).
    Value(ValueId),
    /// An array, a row of one, or a parameter struct (or a field of one): `&x`, `&xs[s]`, `x`,
    /// `&net.l1`, `net`. The pullback adds into the same place of its adjoint.
    Place { array: ArrayId, indices: Vec<ValueId>, by_ref: bool },
}

/// A call of a differentiable function: the forward sweep calls it, the backward sweep calls its
/// pullback `<name>_pullback` (see `docs/CALLS.md` for the convention).
#[derive(Clone, Debug)]
pub struct CallSite {
    /// The function as written (`dense`, `layers::dense::<4, 3>`); for a method call, the method.
    pub callee: TokenStream,
    /// Its pullback, named by the convention (`layers::dense_pullback::<4, 3>`).
    pub pullback: TokenStream,
    /// Its vjp (`layers::dense_vjp::<4, 3>`): the forward call that keeps what the pullback needs.
    pub vjp: TokenStream,
    /// Method-call syntax: `args[0]` is the receiver.
    pub method: bool,
    pub args: Vec<CallArg>,
    /// The array the call returns, if it returns one (`None`: a float).
    pub result: Option<ArrayId>,
    /// A plain function called for an integer or a `bool` (`let j: usize = nearest(p, c, i);`):
    /// not differentiated (no pullback, no adjoint for its arguments), called with the real
    /// parts of its float arguments (`emit/calls.rs`), its result taped like any integer.
    pub passive: bool,
    pub span: Span,
}

/// What kind of argument a parameter is.
#[derive(Clone, Debug)]
pub struct Param {
    /// For an array argument, its array (the `value` is then a placeholder).
    pub array: Option<ArrayId>,
    pub name: syn::Ident,
    pub ty: Ty,
    /// The type as the user wrote it, re-emitted in the gradient function's signature.
    pub ty_tokens: TokenStream,
    pub wrt: bool,
    pub value: ValueId,
    /// For a parameter struct taken by reference (`net: &Net<H>`, `&self`): the owned type
    /// (`Net<H>`, `Self`), which is the type of its gradient.
    pub strukt: Option<TokenStream>,
}

/// One function in IR form.
#[derive(Clone, Debug)]
pub struct Function {
    pub nodes: Vec<Node>,
    pub blocks: Vec<Block>,
    pub ifs: Vec<IfNode>,
    pub loops: Vec<LoopNode>,
    pub arrays: Vec<Array>,
    /// Per array, the version its next load gets (bumped at stores and loop boundaries).
    pub versions: Vec<u32>,
    pub params: Vec<Param>,
    /// Interned paths: constants and activation paths, as tokens and as text (the interning key).
    pub paths: Vec<(String, TokenStream)>,
    /// Calls of differentiable functions, indexed by `CallId`.
    pub calls: Vec<CallSite>,
    /// Local arrays that start as a copy of a call's array (`let mut h = f(..);` at the top
    /// level, then written): (the local, the array the call returned). The local is declared as
    /// a zero of the returned array's shape (its length is not written in the source) and its
    /// adjoint with it (`lower/locals.rs`, `emit/statements.rs`).
    pub copies: Vec<(ArrayId, ArrayId)>,
    pub output: Option<ValueId>,
    /// For a function returning an array (a layer): the local array returned, and the return type.
    pub output_array: Option<ArrayId>,
    pub return_type: Option<TokenStream>,
    /// In a pullback whose function returns the array a call returned: that array is the given
    /// `result`, and the call is not made again (`reuse.rs`).
    pub output_is_result: bool,
    /// The function's const generic parameters (`N` in `<const N: usize>`): a loop to `N` has a
    /// trip count a stack array can be sized by.
    pub const_generics: Vec<String>,
    /// The float type of the result; untyped float literals take it.
    pub float: FloatTy,
    consing: HashMap<(Op, Ty), Vec<ValueId>>,
}

impl Function {
    pub fn new(float: FloatTy) -> Self {
        Function {
            nodes: Vec::new(),
            blocks: vec![Block::default()],
            ifs: Vec::new(),
            loops: Vec::new(),
            arrays: Vec::new(),
            versions: Vec::new(),
            params: Vec::new(),
            paths: Vec::new(),
            calls: Vec::new(),
            copies: Vec::new(),
            output: None,
            output_array: None,
            return_type: None,
            output_is_result: false,
            const_generics: Vec::new(),
            float,
            consing: HashMap::new(),
        }
    }

    pub fn node(&self, v: ValueId) -> &Node {
        &self.nodes[v.index()]
    }

    pub fn node_mut(&mut self, v: ValueId) -> &mut Node {
        &mut self.nodes[v.index()]
    }

    pub fn block(&self, b: BlockId) -> &Block {
        &self.blocks[b.index()]
    }

    pub fn if_node(&self, i: IfId) -> &IfNode {
        &self.ifs[i.index()]
    }

    pub fn loop_node(&self, l: LoopId) -> &LoopNode {
        &self.loops[l.index()]
    }

    pub fn array(&self, a: ArrayId) -> &Array {
        &self.arrays[a.index()]
    }

    pub fn add_array(&mut self, array: Array) -> ArrayId {
        self.arrays.push(array);
        self.versions.push(0);
        ArrayId((self.arrays.len() - 1) as u32)
    }

    /// After a store (or at a loop boundary): later loads are new values.
    pub fn bump_version(&mut self, a: ArrayId) {
        self.versions[a.index()] += 1;
    }

    pub fn bump_all_versions(&mut self) {
        for v in &mut self.versions {
            *v += 1;
        }
    }

    /// Adds a value that is not hash-consed (side effects, per-loop values) to `block`.
    pub fn add_unique(&mut self, op: Op, ty: Ty, block: BlockId, span: Span) -> ValueId {
        let id = ValueId(self.nodes.len() as u32);
        self.nodes.push(Node { op, ty, block, span, hint: None });
        self.blocks[block.index()].items.push(Item::Value(id));
        id
    }

    /// Adds a value to the arena without listing it as an item (loop variables and loop phis,
    /// which their loop defines).
    pub fn add_defined_by_construct(&mut self, op: Op, ty: Ty, block: BlockId, span: Span) -> ValueId {
        let id = ValueId(self.nodes.len() as u32);
        self.nodes.push(Node { op, ty, block, span, hint: None });
        id
    }

    /// Reserves a loop's id before its body is built (nested loops get later ids).
    pub fn reserve_loop(&mut self, node: LoopNode) -> LoopId {
        let id = LoopId(self.loops.len() as u32);
        let body = node.body;
        self.loops.push(node);
        self.blocks[body.index()].loop_owner = Some(id);
        id
    }

    /// Lists a reserved loop as the next item of its block.
    pub fn place_loop(&mut self, id: LoopId) {
        let block = self.loops[id.index()].block;
        self.blocks[block.index()].items.push(Item::Loop(id));
    }

    pub fn ty(&self, v: ValueId) -> Ty {
        self.node(v).ty
    }

    pub fn new_block(&mut self, parent: Option<BlockId>, mirror: Option<BlockId>, backward: bool) -> BlockId {
        let id = BlockId(self.blocks.len() as u32);
        self.blocks.push(Block { parent, mirror, owner: None, loop_owner: None, items: Vec::new(), backward });
        id
    }

    pub fn intern_path(&mut self, tokens: TokenStream) -> u32 {
        let key = tokens.to_string();
        if let Some(i) = self.paths.iter().position(|(k, _)| *k == key) {
            return i as u32;
        }
        self.paths.push((key, tokens));
        (self.paths.len() - 1) as u32
    }

    /// Blocks whose values code in `block` may read: its ancestors, and for a backward block also
    /// its mirror's ancestors.
    pub fn visible_blocks(&self, block: BlockId) -> Vec<BlockId> {
        let mut out = Vec::new();
        let mut stack = vec![block];
        while let Some(b) = stack.pop() {
            if out.contains(&b) {
                continue;
            }
            out.push(b);
            let blk = self.block(b);
            stack.extend(blk.parent);
            stack.extend(blk.mirror);
        }
        out
    }

    /// True when `inner` is `outer` or nested inside it (through parents only).
    pub fn is_within(&self, inner: BlockId, outer: BlockId) -> bool {
        let mut b = Some(inner);
        while let Some(cur) = b {
            if cur == outer {
                return true;
            }
            b = self.block(cur).parent;
        }
        false
    }

    /// Adds a value, returning an existing equal one visible from `block` if there is one.
    /// Leaves always go to the root block, where every block can see them.
    pub fn add(&mut self, op: Op, ty: Ty, block: BlockId, span: Span) -> ValueId {
        let block = if op.is_leaf() { ROOT } else { block };
        let consable = !matches!(
            op,
            Op::Alias(_)
                | Op::Phi(..)
                | Op::Store(..)
                | Op::Declare(_)
                | Op::LoopVar(_)
                | Op::LoopPhi(..)
                | Op::LoopOut(..)
                | Op::LoopTrips(_)
                | Op::Invoke(..)
                | Op::Pullback(..)
                | Op::PullbackOut(..)
        );
        if consable {
            if let Some(candidates) = self.consing.get(&(op.clone(), ty)) {
                let visible = self.visible_blocks(block);
                if let Some(&found) = candidates.iter().find(|c| visible.contains(&self.node(**c).block)) {
                    return found;
                }
            }
        }
        let id = ValueId(self.nodes.len() as u32);
        self.nodes.push(Node { op: op.clone(), ty, block, span, hint: None });
        if !op.is_leaf() {
            self.blocks[block.index()].items.push(Item::Value(id));
        }
        if consable {
            self.consing.entry((op, ty)).or_default().push(id);
        }
        id
    }

    /// Adds a structured `if` to `block`; outputs are added afterwards with `add_if_output`.
    pub fn add_if(&mut self, cond: ValueId, then_block: BlockId, else_block: BlockId, block: BlockId) -> IfId {
        let id = IfId(self.ifs.len() as u32);
        self.ifs.push(IfNode { cond, then_block, else_block, block, outputs: Vec::new() });
        self.blocks[then_block.index()].owner = Some(id);
        self.blocks[else_block.index()].owner = Some(id);
        self.blocks[block.index()].items.push(Item::If(id));
        id
    }

    pub fn add_if_output(&mut self, i: IfId, then_value: ValueId, else_value: ValueId, ty: Ty, span: Span) -> ValueId {
        let k = self.ifs[i.index()].outputs.len() as u32;
        let block = self.ifs[i.index()].block;
        let phi = ValueId(self.nodes.len() as u32);
        self.nodes.push(Node { op: Op::Phi(i, k), ty, block, span, hint: None });
        self.ifs[i.index()].outputs.push(IfOutput { phi, then_value, else_value });
        phi
    }

    /// The literal value of a float literal.
    pub fn float_lit(&self, v: ValueId) -> Option<f64> {
        match self.node(v).op {
            Op::FloatLit(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }

    pub fn lit(&mut self, value: f64, ty: FloatTy) -> ValueId {
        let value = ty.round(value);
        // One zero: -0.0 and 0.0 are distinct literals, but rules only ever make +0.0.
        self.add(Op::FloatLit(value.to_bits()), Ty::Float(ty), ROOT, Span::call_site())
    }

    /// Sets a name hint unless the value already has one (the first name wins).
    pub fn suggest_name(&mut self, v: ValueId, hint: Hint) {
        let node = self.node_mut(v);
        if node.hint.is_none() && !node.op.is_leaf() {
            node.hint = Some(hint);
        }
    }
}
