//! Lowering: a parsed `syn::ItemFn` becomes an IR `Function`. Variables become single-assignment
//! values (reassignment and shadowing make new values), `if`/`else` becomes a structured `if` whose
//! merged variables are outputs. Unsupported constructs are reported into the `Ctxt` with their spans,
//! and lowering goes on with a placeholder value so that every error of the function is found.
//!
//! This file holds the entry point and the lowering's state (scopes of bindings, the function
//! being built); each construct is lowered in a submodule: `signature.rs`, `statements.rs`,
//! `locals.rs` (`let`), `expressions.rs`, `float_calls.rs`, `branches.rs` (`if`, `match`),
//! `arrays.rs`, `loops.rs`, `calls.rs`, `fields.rs`, and the syntax-level rewrites before them.

use crate::attr::Options;
use crate::ctxt::Ctxt;
use crate::ir::{ArrayId, BlockId, Function, Hint, Op, Ty, ValueId, ROOT};
use crate::simplify::{build, Sweep};
use proc_macro2::Span;
use syn::{Expr, ReturnType};

mod arrays;
mod branches;
mod calls;
mod exits;
mod expressions;
mod fields;
mod float_calls;
mod iterators;
mod locals;
mod loops;
mod nested_calls;
mod returns;
mod signature;
mod statements;
mod syntax;
mod tuples;
mod types;

pub use expressions::unsupported_message;
pub(crate) use types::scalar_type;
pub use types::{classify_param, result_class, sink_target, ParamClass};

use signature::return_float;
use types::returned_array;

/// What the rest of the pipeline needs from the source besides the IR.
pub struct Lowered {
    pub function: Function,
    /// Items written inside the body (`const`, `use`), re-emitted in the gradient function.
    pub items: Vec<syn::Item>,
}

pub const SUPPORTED: &str = "supported: float arguments and literals, arrays of floats and their elements, \
`+ - * /`, `let`, assignment and `+= -= *= /=`, `if`/`else`, `for i in a..b` loops, `as` casts, std float \
methods (`powi`, `exp`, `ln`, `sqrt`, `max`, ...) and the runtime's activations (`sigmoid`, `relu`, ...)";

pub fn lower(cx: &Ctxt, func: &syn::ItemFn, options: &Options) -> Lowered {
    let float = return_float(cx, func);
    let mut lower = Lower {
        cx,
        f: Function::new(float),
        scopes: vec![Vec::new()],
        block: ROOT,
        items: Vec::new(),
        loop_depth: 0,
        poisoned: Default::default(),
        tuples: Vec::new(),
        pushed: Default::default(),
        loops_with_exits: 0,
        missing_return: !matches!(&func.sig.output, ReturnType::Type(_, ty) if matches!(scalar_type(ty), Some(Ty::Float(_))) || returned_array(ty).is_some()),
        fn_name: func.sig.ident.to_string(),
        arrayish: calls::array_names(&func.block),
    };
    lower.signature(func, options);
    lower.scopes.push(Vec::new());
    // With a return type that is not a float (already reported), the body's value says nothing.
    let want_value = !lower.missing_return;
    // Early returns become assignments to a result variable on every path (`returns.rs`).
    // Reassigned tuples become one variable per component (`tuples.rs`).
    let split = tuples::rewrite(&func.block.stmts);
    let base = split.as_deref().unwrap_or(&func.block.stmts);
    let rewritten = match (&func.sig.output, want_value && returns::has_return(&func.block)) {
        (ReturnType::Type(_, ty), true) if returned_array(ty).is_some() => returns::rewrite_array_function(base, ty),
        (ReturnType::Type(_, ty), true) => Some(returns::rewrite_function(base, ty)),
        _ => None,
    };
    let stmts = rewritten.as_deref().unwrap_or(base);
    if let ReturnType::Type(_, ty) = &func.sig.output {
        if returned_array(ty).is_some() {
            if rewritten.is_some() {
                // `return h;` became an element-wise copy: `h` is indexed now.
                let block = syn::Block { brace_token: Default::default(), stmts: stmts.to_vec() };
                lower.arrayish.extend(calls::array_names(&block));
            }
            lower.array_body(func, stmts, ty);
            return Lowered { function: lower.f, items: lower.items };
        }
    }
    let output = lower.block_body(stmts, want_value, func.block.brace_token.span.close());
    if let Some(out) = output {
        let name = func.sig.ident.to_string();
        lower.f.suggest_name(out, Hint::Output(name));
        lower.f.output = Some(out);
    }
    Lowered { function: lower.f, items: lower.items }
}

/// What a name in scope stands for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Binding {
    Value(ValueId),
    Array(ArrayId),
    /// A tuple of values (`let t = (a, b);`), index into `Lower::tuples`. Tuples are immutable:
    /// destructured (`let (a, b) = t;`) or read by field (`t.0`).
    Tuple(u32),
    /// A parameter struct argument (`net: &Net`), by its index in `Function::params`; its fields
    /// are read as places (`fields.rs`).
    Struct(u32),
}

struct Lower<'a> {
    cx: &'a Ctxt,
    f: Function,
    /// Variables in scope, innermost scope last. Vectors keep declaration order, so merged `if`
    /// outputs come out in a stable order.
    scopes: Vec<Vec<(String, Binding)>>,
    block: BlockId,
    items: Vec<syn::Item>,
    /// How many loops enclose the code being lowered.
    loop_depth: usize,
    /// Names bound to something that already had an error: their uses report nothing more.
    poisoned: std::collections::HashSet<String>,
    /// The parts of each tuple binding.
    tuples: Vec<Vec<ValueId>>,
    /// How many loops with `break`/`continue` were rewritten so far (each gets its own flags).
    loops_with_exits: usize,
    /// Buffers made with `Vec::with_capacity(n)`: the name of the variable counting their `push`es.
    pushed: std::collections::HashMap<ArrayId, String>,
    /// The return type is missing (already reported): a missing final expression is no news.
    missing_return: bool,
    /// The function's name (a call of it is recursion).
    fn_name: String,
    /// Names used as arrays somewhere in the body (`calls::array_names`).
    arrayish: std::collections::HashSet<String>,
}

impl Lower<'_> {
    /// Binds `name` to a placeholder whose uses report nothing more (its error is already out).
    fn poison_name(&mut self, name: &syn::Ident) {
        self.poisoned.insert(name.to_string());
        let poison = self.poison();
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.to_string(), Binding::Value(poison)));
        }
    }

    /// Whether `e` (`n.b`, `self.w[0]`) reads through a name whose error is already out.
    fn poisoned_root(&self, e: &Expr) -> bool {
        let mut cur = e;
        loop {
            match cur {
                Expr::Field(f) => cur = &f.base,
                Expr::Index(i) => cur = &i.expr,
                Expr::Paren(p) => cur = &p.expr,
                Expr::Path(p) => {
                    let Some(ident) = p.path.get_ident() else { return false };
                    let name = ident.to_string();
                    return self.poisoned.contains(&name)
                        && self
                            .lookup(&name)
                            .is_none_or(|(si, vi)| matches!(self.scopes[si][vi].1, Binding::Value(_)));
                }
                _ => return false,
            }
        }
    }

    fn lookup(&self, name: &str) -> Option<(usize, usize)> {
        for (si, scope) in self.scopes.iter().enumerate().rev() {
            if let Some(vi) = scope.iter().rposition(|(n, _)| n == name) {
                return Some((si, vi));
            }
        }
        None
    }

    fn poison(&mut self) -> ValueId {
        self.f.lit(0.0, self.f.float)
    }

    fn add(&mut self, op: Op, ty: Ty, span: Span) -> ValueId {
        build(&mut self.f, op, ty, self.block, span, Sweep::Forward)
    }
}
