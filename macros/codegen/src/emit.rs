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

use crate::diff::Derivation;
use crate::ir::{
    Activation, BinOp, BlockId, FloatTy, Func, Function, Hint, IfId, Item, Op, Ty, UnOp, ValueId,
    ROOT,
};
use crate::names::{camel_case, Names};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use std::collections::BTreeMap;

/// Operator precedence, loosest first, for parenthesising inline expressions.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Prec {
    Or,
    And,
    Compare,
    Sum,
    Product,
    Cast,
    Prefix,
    Atom,
}

/// Inline expressions deeper than this get a `let` of their own.
const MAX_INLINE_DEPTH: usize = 16;

/// Blocks with more statements than this are emitted in chunks of `CHUNK_SIZE`.
const CHUNK_THRESHOLD: usize = 256;
const CHUNK_SIZE: usize = 64;

/// Where a value is used: in a block, or by the function's return expression.
type Site = Option<BlockId>;

#[derive(Clone)]
pub struct Emitter<'a> {
    pub f: &'a Function,
    /// Doc rendering: unnamed temporaries are written out (a few levels deep) instead of `t3`.
    doc_depth: Option<std::cell::Cell<u32>>,
    live: Vec<bool>,
    bound: Vec<bool>,
    names: Vec<Option<Ident>>,
    /// Per forward `if`: values defined inside it that the backward sweep reads.
    residuals: BTreeMap<IfId, Vec<ValueId>>,
    /// The path to the facade crate in generated code.
    krate: TokenStream,
}

impl<'a> Emitter<'a> {
    pub fn new(f: &'a Function, d: &Derivation, user_tokens: TokenStream) -> Self {
        let n = f.nodes.len();
        let mut e = Emitter {
            f,
            doc_depth: None,
            live: vec![false; n],
            bound: vec![false; n],
            names: vec![None; n],
            residuals: BTreeMap::new(),
            krate: quote!(::backprop),
        };
        let mut roots: Vec<ValueId> = f.output.into_iter().collect();
        roots.extend(d.gradients.iter().flatten());
        for &r in &roots {
            e.mark_live(r);
        }
        let uses = e.count_uses(&roots, d);
        e.decide_bindings(&uses);
        e.find_residuals(&uses);
        e.allocate_names(user_tokens);
        e
    }

    fn mark_live(&mut self, root: ValueId) {
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            if self.live[v.index()] {
                continue;
            }
            self.live[v.index()] = true;
            match self.f.node(v).op {
                Op::Phi(id, k) => {
                    let node = self.f.if_node(id);
                    let out = node.outputs[k as usize];
                    stack.extend([out.then_value, out.else_value, node.cond]);
                }
                ref op => stack.extend(op.operands()),
            }
        }
    }

    /// Booleans are recomputed at each use (a comparison of named values), never bound.
    fn inline_always(&self, v: ValueId) -> bool {
        let node = self.f.node(v);
        node.ty == Ty::Bool && !node.op.is_leaf() && !matches!(node.op, Op::Phi(..))
    }

    fn record_use(&self, uses: &mut Vec<Vec<Site>>, v: ValueId, site: Site) {
        if self.inline_always(v) {
            for a in self.f.node(v).op.operands() {
                self.record_use(uses, a, site);
            }
        } else {
            uses[v.index()].push(site);
        }
    }

    fn count_uses(&self, roots: &[ValueId], _d: &Derivation) -> Vec<Vec<Site>> {
        let mut uses = vec![Vec::new(); self.f.nodes.len()];
        for (i, node) in self.f.nodes.iter().enumerate() {
            if !self.live[i]
                || self.inline_always(ValueId(i as u32))
                || matches!(node.op, Op::Phi(..))
            {
                continue;
            }
            for a in node.op.operands() {
                self.record_use(&mut uses, a, Some(node.block));
            }
        }
        for (i, node) in self.f.ifs.iter().enumerate() {
            let live_outputs: Vec<_> = node
                .outputs
                .iter()
                .filter(|o| self.live[o.phi.index()])
                .collect();
            if live_outputs.is_empty() {
                continue;
            }
            let _ = i;
            self.record_use(&mut uses, node.cond, Some(node.block));
            for o in live_outputs {
                self.record_use(&mut uses, o.then_value, Some(node.then_block));
                self.record_use(&mut uses, o.else_value, Some(node.else_block));
            }
        }
        for &r in roots {
            self.record_use(&mut uses, r, None);
        }
        uses
    }

    fn decide_bindings(&mut self, uses: &[Vec<Site>]) {
        // How deeply nested a value's inline expression is; operands come before their users.
        let mut depth = vec![0usize; self.f.nodes.len()];
        for (i, node) in self.f.nodes.iter().enumerate() {
            let v = ValueId(i as u32);
            if !self.live[i] || node.op.is_leaf() {
                continue;
            }
            let nested = 1 + node
                .op
                .operands()
                .iter()
                .map(|a| depth[a.index()])
                .max()
                .unwrap_or(0);
            if self.inline_always(v) {
                depth[i] = nested;
                continue;
            }
            let single_local_use = uses[i].len() == 1 && uses[i][0] == Some(node.block);
            // Long sums (an argument with many consumers) would nest past what the compiler and
            // readers handle well: bind them in pieces.
            let too_deep = nested > MAX_INLINE_DEPTH;
            self.bound[i] = node.hint.is_some()
                || matches!(node.op, Op::Phi(..) | Op::Alias(_))
                || !single_local_use
                || too_deep;
            depth[i] = if self.bound[i] { 0 } else { nested };
        }
    }

    fn find_residuals(&mut self, uses: &[Vec<Site>]) {
        for (i, node) in self.f.nodes.iter().enumerate() {
            if !self.bound[i] || self.f.block(node.block).backward || node.block == ROOT {
                continue;
            }
            let escapes = uses[i].iter().any(|site| match site {
                Some(b) => !self.f.is_within(*b, node.block),
                None => true,
            });
            if !escapes {
                continue;
            }
            let mut block = node.block;
            while let Some(id) = self.f.block(block).owner {
                let list = self.residuals.entry(id).or_default();
                if !list.contains(&ValueId(i as u32)) {
                    list.push(ValueId(i as u32));
                }
                block = self.f.if_node(id).block;
            }
        }
    }

    fn allocate_names(&mut self, user_tokens: TokenStream) {
        let mut names = Names::new(user_tokens);
        for p in &self.f.params {
            names.take(&p.name.to_string());
            self.names[p.value.index()] = Some(p.name.clone());
        }
        for i in 0..self.f.nodes.len() {
            if !self.bound[i] {
                continue;
            }
            let name = match &self.f.nodes[i].hint {
                Some(Hint::User(n)) | Some(Hint::Output(n)) => {
                    names.user(n.trim_start_matches("r#"))
                }
                Some(Hint::Adjoint(of)) => match &self.names[of.index()] {
                    Some(base) => {
                        names.generated(&format!("d_{}", base.to_string().trim_start_matches("r#")))
                    }
                    None => names.temp(),
                },
                None => names.temp(),
            };
            self.names[i] = Some(Ident::new(&name, Span::call_site()));
        }
    }

    /// `v` for a reader: unnamed temporaries written out, user names kept.
    pub fn doc_expr(&self, v: ValueId) -> TokenStream {
        let mut e = self.clone();
        e.doc_depth = Some(std::cell::Cell::new(0));
        e.expr(v, false).0
    }

    pub fn name(&self, v: ValueId) -> Option<&Ident> {
        self.names[v.index()].as_ref()
    }

    pub fn is_bound(&self, v: ValueId) -> bool {
        self.bound[v.index()]
    }

    // ---- expressions -------------------------------------------------------------------------

    fn lit_tokens(&self, x: f64, ty: FloatTy, suffixed: bool) -> (TokenStream, Prec) {
        // `{:?}` is the shortest text that reads back to the same value, always with `.` or `e`.
        let digits = match ty {
            FloatTy::F64 => format!("{:?}", x.abs()),
            FloatTy::F32 => format!("{:?}", x.abs() as f32),
        };
        let text = if suffixed {
            format!("{digits}_{}", ty.name())
        } else {
            digits
        };
        let lit: Literal = text
            .parse()
            .unwrap_or_else(|_| Literal::f64_unsuffixed(0.0));
        if x.is_sign_negative() {
            (quote!(-#lit), Prec::Prefix)
        } else {
            (lit.into_token_stream(), Prec::Atom)
        }
    }

    /// The expression for `v` with its precedence. Literals carry a type suffix when `suffixed`
    /// (where nothing else gives the literal its type).
    fn expr(&self, v: ValueId, suffixed: bool) -> (TokenStream, Prec) {
        if let Some(depth) = &self.doc_depth {
            let node = self.f.node(v);
            let unnamed = !matches!(node.hint, Some(Hint::User(_)) | Some(Hint::Output(_)));
            if unnamed && !node.op.is_leaf() && !matches!(node.op, Op::Phi(..)) && depth.get() < 4 {
                depth.set(depth.get() + 1);
                let out = self.body(v, false);
                depth.set(depth.get() - 1);
                return out;
            }
        }
        if let Some(name) = self.name(v) {
            if self.bound[v.index()] || matches!(self.f.node(v).op, Op::Param(_)) {
                return (name.to_token_stream(), Prec::Atom);
            }
        }
        self.body(v, suffixed)
    }

    fn operand(&self, v: ValueId, min: Prec, suffixed: bool) -> TokenStream {
        let (tokens, prec) = self.expr(v, suffixed);
        if prec < min {
            quote!((#tokens))
        } else {
            tokens
        }
    }

    fn is_lit(&self, v: ValueId) -> bool {
        matches!(self.f.node(v).op, Op::FloatLit(_) | Op::IntLit(_))
    }

    fn runtime(&self, module: &str, function: &str) -> TokenStream {
        let krate = &self.krate;
        let module = Ident::new(module, Span::call_site());
        let function = Ident::new(function, Span::call_site());
        quote!(#krate::__private::#module::#function)
    }

    /// The right-hand side of `v`'s binding (or its inline form).
    fn body(&self, v: ValueId, suffixed: bool) -> (TokenStream, Prec) {
        let node = self.f.node(v);
        let span = node.span;
        match &node.op {
            Op::Param(i) => (
                self.f.params[*i as usize].name.to_token_stream(),
                Prec::Atom,
            ),
            Op::FloatLit(bits) => self.lit_tokens(
                f64::from_bits(*bits),
                node.ty.float().unwrap_or(self.f.float),
                suffixed,
            ),
            Op::IntLit(i) => {
                let lit = Literal::u128_unsuffixed(i.unsigned_abs());
                if *i < 0 {
                    (quote!(-#lit), Prec::Prefix)
                } else {
                    (lit.into_token_stream(), Prec::Atom)
                }
            }
            Op::BoolLit(b) => (quote!(#b), Prec::Atom),
            Op::Const(idx) => (self.f.paths[*idx as usize].1.clone(), Prec::Atom),
            Op::Unary(op, a) => {
                let a = self.operand(*a, Prec::Prefix, true);
                match op {
                    UnOp::Neg => (quote_spanned!(span=> -#a), Prec::Prefix),
                    UnOp::Not => (quote_spanned!(span=> !#a), Prec::Prefix),
                }
            }
            Op::Binary(op, a, b) => self.binary(*op, *a, *b, span),
            Op::Call(func, args) => self.call(*func, args, node.ty, span),
            Op::Cast(idx, a) => {
                let ty = &self.f.paths[*idx as usize].1;
                let a = self.operand(*a, Prec::Cast, false);
                (quote_spanned!(span=> #a as #ty), Prec::Cast)
            }
            Op::Phi(..) | Op::Alias(_) => {
                // Always bound; an alias's right-hand side is its source.
                match &node.op {
                    Op::Alias(src) => self.expr(*src, true),
                    _ => (quote!(::core::unreachable!()), Prec::Atom),
                }
            }
        }
    }

    fn binary(&self, op: BinOp, a: ValueId, b: ValueId, span: Span) -> (TokenStream, Prec) {
        let (prec, tok) = match op {
            BinOp::Add => (Prec::Sum, quote!(+)),
            BinOp::Sub => (Prec::Sum, quote!(-)),
            BinOp::Mul => (Prec::Product, quote!(*)),
            BinOp::Div => (Prec::Product, quote!(/)),
            BinOp::Rem => (Prec::Product, quote!(%)),
            BinOp::Lt => (Prec::Compare, quote!(<)),
            BinOp::Le => (Prec::Compare, quote!(<=)),
            BinOp::Gt => (Prec::Compare, quote!(>)),
            BinOp::Ge => (Prec::Compare, quote!(>=)),
            BinOp::Eq => (Prec::Compare, quote!(==)),
            BinOp::Ne => (Prec::Compare, quote!(!=)),
            BinOp::And => (Prec::And, quote!(&&)),
            BinOp::Or => (Prec::Or, quote!(||)),
        };
        // A literal next to a typed operand takes its type from it; two literals need suffixes.
        let both_lits = self.is_lit(a) && self.is_lit(b);
        let (left_min, right_min) = match prec {
            // `a as f64 < b` would parse `<` as generics: casts get parentheses in comparisons.
            Prec::Compare => (Prec::Prefix, Prec::Prefix),
            p => (p, next(p)),
        };
        let l = self.operand(a, left_min, both_lits);
        let r = self.operand(b, right_min, both_lits);
        (quote_spanned!(span=> #l #tok #r), prec)
    }

    fn call(&self, func: Func, args: &[ValueId], ty: Ty, span: Span) -> (TokenStream, Prec) {
        let helper_args = |e: &Self| -> Vec<TokenStream> {
            args.iter().map(|a| e.operand(*a, Prec::Or, true)).collect()
        };
        match func {
            Func::Activation(_, path) => {
                let path = &self.f.paths[path as usize].1;
                let args = helper_args(self);
                (quote_spanned!(span=> #path(#(#args),*)), Prec::Atom)
            }
            Func::ActivationDerivative(act) => {
                let f = self.runtime("activation", &format!("{}_derivative", act.name()));
                let args = helper_args(self);
                (quote!(#f(#(#args),*)), Prec::Atom)
            }
            Func::ActivationAlphaDerivative(act) => {
                let f = self.runtime("activation", &format!("{}_alpha_derivative", act.name()));
                let args = helper_args(self);
                (quote!(#f(#(#args),*)), Prec::Atom)
            }
            Func::Sign
            | Func::MaxWeight
            | Func::MinWeight
            | Func::ClampWeight
            | Func::ClampLoWeight
            | Func::ClampHiWeight => {
                let name = match func {
                    Func::Sign => "sign",
                    Func::MaxWeight => "max_weight",
                    Func::MinWeight => "min_weight",
                    Func::ClampWeight => "clamp_weight",
                    Func::ClampLoWeight => "clamp_lo_weight",
                    _ => "clamp_hi_weight",
                };
                let f = self.runtime("kinks", name);
                let args = helper_args(self);
                (quote!(#f(#(#args),*)), Prec::Atom)
            }
            method => {
                let name = crate::ir::method_name(method).unwrap_or("unknown");
                let method = Ident::new(name, span);
                let receiver = if ty == Ty::Unknown {
                    self.operand(args[0], Prec::Atom, true)
                } else {
                    self.operand(args[0], Prec::Atom, true)
                };
                let rest: Vec<TokenStream> = args[1..]
                    .iter()
                    .map(|a| self.operand(*a, Prec::Or, false))
                    .collect();
                (
                    quote_spanned!(span=> #receiver.#method(#(#rest),*)),
                    Prec::Atom,
                )
            }
        }
    }

    // ---- statements --------------------------------------------------------------------------

    pub fn block(&self, b: BlockId) -> TokenStream {
        let mut statements: Vec<(TokenStream, Vec<Ident>)> = Vec::new();
        for item in &self.f.block(b).items {
            match *item {
                Item::Value(v) => {
                    if self.bound[v.index()] && !matches!(self.f.node(v).op, Op::Phi(..)) {
                        let Some(name) = self.name(v) else { continue };
                        let (rhs, _) = self.body(v, true);
                        statements.push((quote!(let #name = #rhs;), vec![name.clone()]));
                    }
                }
                Item::If(id) => {
                    if let Some(statement) = self.if_statement(id) {
                        statements.push(statement);
                    }
                }
            }
        }
        if statements.len() <= CHUNK_THRESHOLD {
            return statements.into_iter().map(|(s, _)| s).collect();
        }
        // Every `let` opens a scope nested in the previous one, and thousands of nested scopes
        // overflow LLVM's debug-info writer. Long blocks are therefore emitted in chunks, each a
        // block that hands its bindings out through one tuple `let`.
        let mut out = TokenStream::new();
        for chunk in statements.chunks(CHUNK_SIZE) {
            let body: TokenStream = chunk.iter().map(|(s, _)| s.clone()).collect();
            let names: Vec<&Ident> = chunk.iter().flat_map(|(_, n)| n).collect();
            out.extend(quote!(let (#(#names,)*) = { #body (#(#names,)*) };));
        }
        out
    }

    /// A placeholder of `v`'s type for the branch where `v` was not computed.
    fn placeholder(&self, v: ValueId) -> TokenStream {
        match self.f.ty(v) {
            Ty::Float(t) => self.lit_tokens(0.0, t, true).0,
            Ty::Int => quote!(0),
            Ty::Bool => quote!(false),
            Ty::Unknown => quote!(::core::default::Default::default()),
        }
    }

    fn if_statement(&self, id: IfId) -> Option<(TokenStream, Vec<Ident>)> {
        let node = self.f.if_node(id);
        let outputs: Vec<_> = node
            .outputs
            .iter()
            .filter(|o| self.live[o.phi.index()])
            .copied()
            .collect();
        let residuals = self.residuals.get(&id).cloned().unwrap_or_default();
        if outputs.is_empty() && residuals.is_empty() {
            return None;
        }
        let mut names: Vec<Ident> = outputs
            .iter()
            .filter_map(|o| self.name(o.phi).cloned())
            .collect();
        names.extend(residuals.iter().filter_map(|r| self.name(*r).cloned()));
        let side =
            |block: BlockId, pick: &dyn Fn(&crate::ir::IfOutput) -> ValueId| -> TokenStream {
                let body = self.block(block);
                let mut values: Vec<TokenStream> =
                    outputs.iter().map(|o| self.expr(pick(o), true).0).collect();
                values.extend(residuals.iter().map(|r| {
                    if self.f.is_within(self.f.node(*r).block, block) {
                        self.name(*r).to_token_stream()
                    } else {
                        self.placeholder(*r)
                    }
                }));
                if values.len() == 1 {
                    let v = &values[0];
                    quote!({ #body #v })
                } else {
                    quote!({ #body (#(#values),*) })
                }
            };
        let then_side = side(node.then_block, &|o| o.then_value);
        let else_side = side(node.else_block, &|o| o.else_value);
        let cond = self.expr(node.cond, true).0;
        let pattern = if names.len() == 1 {
            names[0].to_token_stream()
        } else {
            quote!((#(#names),*))
        };
        Some((
            quote!(let #pattern = if #cond #then_side else #else_side;),
            names,
        ))
    }

    /// The whole output: the user's function unchanged, the gradient struct, the gradient function.
    pub fn emit(
        &self,
        func: &syn::ItemFn,
        items: &[syn::Item],
        d: &Derivation,
        doc: &str,
    ) -> TokenStream {
        let f = self.f;
        let vis = &func.vis;
        let fn_name = &func.sig.ident;
        let grad_fn = format_ident!("{}_grad", fn_name.to_string().trim_start_matches("r#"));
        let grad_struct = format_ident!("{}Grad", camel_case(&fn_name.to_string()));
        let ret = Ident::new(f.float.name(), Span::call_site());

        let params: Vec<TokenStream> = f
            .params
            .iter()
            .map(|p| {
                let name = &p.name;
                let ty = &p.ty_tokens;
                quote!(#name: #ty)
            })
            .collect();
        let wrt: Vec<_> = f
            .params
            .iter()
            .zip(&d.gradients)
            .filter(|(p, _)| p.wrt)
            .collect();
        let fields: Vec<TokenStream> = wrt
            .iter()
            .map(|(p, _)| {
                let name = &p.name;
                let ty = &p.ty_tokens;
                let doc = format!("∂{fn_name}/∂{name}");
                quote!(#[doc = #doc] pub #name: #ty)
            })
            .collect();
        let values: Vec<TokenStream> = wrt
            .iter()
            .map(|(p, g)| {
                let name = &p.name;
                let value = match g {
                    Some(g) => self.expr(*g, true).0,
                    None => {
                        self.lit_tokens(0.0, p.ty.float().unwrap_or(f.float), true)
                            .0
                    }
                };
                quote!(#name: #value)
            })
            .collect();

        let checks = self.activation_checks();
        let forward = self.block(ROOT);
        let backward = self.block(d.backward);
        let output = match f.output {
            Some(o) => self.expr(o, true).0,
            None => quote!(::core::unreachable!()),
        };
        let params_impl = self.params_impl(
            &grad_struct,
            &wrt.iter().map(|(p, _)| p).copied().collect::<Vec<_>>(),
        );
        let struct_doc = format!(
            "The gradient of [`{fn_name}`]: one field per differentiated argument. Returned by [`{grad_fn}`]."
        );
        let krate = &self.krate;
        let _ = krate;
        quote! {
            #func

            #[doc = #struct_doc]
            #[derive(Debug, Clone, Copy, PartialEq)]
            #vis struct #grad_struct {
                #(#fields,)*
            }

            #params_impl

            #[doc = #doc]
            #[allow(unused_variables, unused_parens, non_snake_case, clippy::all, clippy::pedantic)]
            #vis fn #grad_fn(#(#params),*) -> (#ret, #grad_struct) {
                // The original function is the user's API too; it counts as used when its gradient is.
                let _ = #fn_name;
                #(#items)*
                #checks
                #forward
                #backward
                (#output, #grad_struct { #(#values,)* })
            }
        }
    }

    /// A compile-time check per activation call that the name resolves to the runtime's function,
    /// so a user's own `sigmoid` never silently gets the runtime's derivative.
    fn activation_checks(&self) -> TokenStream {
        let mut seen = Vec::new();
        let mut out = TokenStream::new();
        for (i, node) in self.f.nodes.iter().enumerate() {
            let Op::Call(Func::Activation(act, path), args) = &node.op else {
                continue;
            };
            if !self.live[i] {
                continue;
            }
            let ty = node
                .ty
                .float()
                .or_else(|| self.f.ty(args[0]).float())
                .unwrap_or(self.f.float);
            if seen.contains(&(*act, *path, ty)) {
                continue;
            }
            seen.push((*act, *path, ty));
            out.extend(self.activation_check(*act, *path, ty, node.span));
        }
        out
    }

    fn activation_check(&self, act: Activation, path: u32, ty: FloatTy, span: Span) -> TokenStream {
        let user_path = &self.f.paths[path as usize].1;
        let runtime_fn = self.runtime("activation", act.name());
        let ty = Ident::new(ty.name(), Span::call_site());
        let check = self.runtime("checks", "activation_must_be_the_runtime_one");
        quote_spanned!(span=> #check(#user_path, #runtime_fn::<#ty>);)
    }

    /// `impl Params for <Name>Grad`, so optimizers can step a gradient-shaped parameter struct.
    fn params_impl(&self, grad_struct: &Ident, wrt: &[&crate::ir::Param]) -> TokenStream {
        let tys: Vec<Option<FloatTy>> = wrt.iter().map(|p| p.ty.float()).collect();
        let Some(Some(scalar)) = tys.first().copied() else {
            return TokenStream::new();
        };
        if tys.iter().any(|t| *t != Some(scalar)) {
            return TokenStream::new();
        }
        let scalar = Ident::new(scalar.name(), Span::call_site());
        let krate = &self.krate;
        let names: Vec<&Ident> = wrt.iter().map(|p| &p.name).collect();
        let labels: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        quote! {
            impl #krate::__private::Params for #grad_struct {
                type Scalar = #scalar;
                fn num_params(&self) -> usize {
                    0 #(+ #krate::__private::Params::num_params(&self.#names))*
                }
                fn visit(&self, f: &mut dyn FnMut(#scalar)) {
                    #(#krate::__private::Params::visit(&self.#names, f);)*
                }
                fn visit_mut(&mut self, f: &mut dyn FnMut(&mut #scalar)) {
                    #(#krate::__private::Params::visit_mut(&mut self.#names, f);)*
                }
                fn describe(&self, index: usize, prefix: &str) -> String {
                    let mut index = index;
                    #(
                        let n = #krate::__private::Params::num_params(&self.#names);
                        if index < n {
                            let label = if prefix.is_empty() {
                                ::std::string::String::from(#labels)
                            } else {
                                ::std::format!("{}.{}", prefix, #labels)
                            };
                            return #krate::__private::Params::describe(&self.#names, index, &label);
                        }
                        index -= n;
                    )*
                    ::std::format!("{}[{}] (out of range)", prefix, index)
                }
            }
        }
    }
}

fn next(p: Prec) -> Prec {
    match p {
        Prec::Or => Prec::And,
        Prec::And => Prec::Compare,
        Prec::Compare => Prec::Sum,
        Prec::Sum => Prec::Product,
        Prec::Product => Prec::Cast,
        Prec::Cast => Prec::Prefix,
        Prec::Prefix | Prec::Atom => Prec::Atom,
    }
}
