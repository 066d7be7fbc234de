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
//!
//! This file holds the [`Emitter`] and its scope bookkeeping; the printing is split by what is
//! printed: `expr.rs`, `statements.rs`, `loops.rs`, `tapes.rs`, `call_tapes.rs`, `arrays.rs`,
//! `calls.rs`, then the items: `gradient.rs` (the gradient), `pullback.rs` (pullback and vjp).

use crate::diff::Derivation;
use crate::ir::{ArrayId, Function, ValueId};
use crate::plan::Plan;
use crate::scope::{Bound, ScopeCheck};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

mod arrays;
mod call_tapes;
mod calls;
mod expr;
mod gradient;
mod loops;
pub mod noalias;
pub mod promote;
mod pullback;
mod statements;
mod tapes;

pub(crate) use pullback::{vjp_generics, with_lifetime};

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

/// The printer: turns a [`Plan`] into tokens. It decides nothing about bindings, tapes or names;
/// the plan's fields are read through `Deref`.
pub struct Emitter<'a> {
    pub plan: Plan<'a>,
    /// Doc rendering: unnamed temporaries are written out (a few levels deep) instead of `t3`.
    doc_depth: std::cell::Cell<Option<u32>>,
    /// The path to the facade crate in generated code.
    krate: TokenStream,
    /// What the printed code binds and uses, checked as it is printed.
    scope: std::cell::RefCell<ScopeCheck>,
    /// What the scope check found in the last `emit`.
    problems: std::cell::RefCell<Vec<String>>,
    /// Per array: its binding is a `&mut` borrow (an adjoint that is the caller's buffer), so a
    /// sink reborrows it (`&mut *d_x`).
    borrowed: std::cell::RefCell<Vec<bool>>,
    /// Printing a pullback (`pullback.rs`): where each argument's adjoint goes, and the activity
    /// flag guarding the writes into it.
    sinks: std::cell::RefCell<pullback::Sinks>,
    /// `#[backprop(max_iterations = N)]`: the bound on a `while` loop's iterations.
    pub max_iterations: Option<u64>,
    /// How the generated functions call each other: directly, or `Self::` for methods.
    pub sibling: TokenStream,
    /// For a method: the type's name, in front of the gradient struct's (`NetLossGrad`).
    pub struct_prefix: String,
    /// The arrays whose real views passive calls take at the start of the function
    /// (`calls.rs`), found once per emitter.
    passive_views: std::cell::OnceCell<Vec<(ArrayId, Ident)>>,
}

impl<'a> std::ops::Deref for Emitter<'a> {
    type Target = Plan<'a>;
    fn deref(&self) -> &Plan<'a> {
        &self.plan
    }
}

impl<'a> Emitter<'a> {
    pub fn new(f: &'a Function, d: &Derivation, user_tokens: TokenStream) -> Self {
        Self::with_plan(f, Plan::new(f, d, user_tokens))
    }

    /// The printer of `<name>_vjp` (`Plan::with_mode`).
    pub fn new_vjp(f: &'a Function, d: &Derivation, user_tokens: TokenStream) -> Self {
        Self::with_plan(f, Plan::with_mode(f, d, user_tokens, true))
    }

    fn with_plan(f: &'a Function, plan: Plan<'a>) -> Self {
        Emitter {
            plan,
            doc_depth: std::cell::Cell::new(None),
            krate: quote!(::backprop),
            scope: std::cell::RefCell::new(ScopeCheck::default()),
            problems: std::cell::RefCell::new(Vec::new()),
            borrowed: std::cell::RefCell::new(vec![false; f.arrays.len()]),
            sinks: std::cell::RefCell::new(pullback::Sinks::default()),
            max_iterations: None,
            sibling: TokenStream::new(),
            struct_prefix: String::new(),
            passive_views: std::cell::OnceCell::new(),
        }
    }

    /// Uses outside their binding's scope found while printing the last [`Emitter::emit`]; the
    /// expansion must not be used when there are any.
    pub fn scope_problems(&self) -> Vec<String> {
        self.problems.borrow().clone()
    }

    /// Records that the printed code binds `v`'s name here (see `scope.rs`).
    fn bind(&self, v: ValueId) {
        if let (Some(name), None) = (self.name(v), self.doc_depth.get()) {
            self.scope.borrow_mut().bind(&name.to_string(), Bound::Value(v));
        }
    }

    /// Records that the printed code reads `v` by its name here.
    fn use_value(&self, v: ValueId) {
        if let (Some(name), None) = (self.name(v), self.doc_depth.get()) {
            self.scope.borrow_mut().use_name(&name.to_string(), Bound::Value(v));
        }
    }

    fn bind_array(&self, a: ArrayId) {
        if let Some(name) = &self.array_names[a.index()] {
            self.scope.borrow_mut().bind(&name.to_string(), Bound::Array(a));
        }
    }

    fn open_scope(&self) {
        self.scope.borrow_mut().open();
    }

    fn close_scope(&self) {
        self.scope.borrow_mut().close();
    }

    /// `v` for a reader: unnamed temporaries written out, user names kept.
    pub fn doc_expr(&self, v: ValueId) -> TokenStream {
        self.doc_depth.set(Some(0));
        let out = self.expr(v, false).0;
        self.doc_depth.set(None);
        out
    }

    fn runtime(&self, module: &str, function: &str) -> TokenStream {
        let krate = &self.krate;
        let module = Ident::new(module, Span::call_site());
        let function = Ident::new(function, Span::call_site());
        quote!(#krate::__private::#module::#function)
    }

    /// `::backprop::__private::<name>`.
    fn runtime_item(&self, name: &str) -> TokenStream {
        let krate = &self.krate;
        let name = Ident::new(name, Span::call_site());
        quote!(#krate::__private::#name)
    }
}
