//! `#[backprop(explain)]`: the extra function `<name>_explain(<same arguments>) -> Explanation`,
//! which evaluates the function and its gradient at a point and records, per differentiated
//! argument, the derivation of `doc::chains` with the value of every factor.
//!
//! Shape of the generated function:
//! ```text
//! pub fn cost_explain(w1: f64, ..) -> ::backprop::Explanation {
//!     let explain_grad = cost_grad(w1, ..);          // the real gradient, for the cross-check
//!     let explain_values = {
//!         <the body of cost_grad, without its return expression>
//!         vec![wide(explain_grad.0), .., wide(2.0 * (a3 - y)), wide(w3), ..]   // every number
//!     };
//!     Explanation { arguments: vec![Argument { name: "w1", derivation: Chains(vec![Chain {
//!         factors: vec![Factor { symbol: "∂C/∂a3", value: explain_values[5] }, ..] }]), .. }], .. }
//! }
//! ```
//! The gradient's own statements are repeated so that every value a factor refers to (`a2`, `t0`,
//! `d_a3`) is in scope by the name the emitter gave it; each factor is then the emitter's
//! expression of its IR value. Only straight-line functions get factors (`doc::chains` gives none
//! for loops and arrays): for those, the body is not repeated and each array argument's gradient
//! is summarised by magnitudes per outer index, computed from the returned gradient.

use crate::diff::Derivation;
use crate::doc::chains::{self, Form, Omission, Target};
use crate::doc::{pretty_expr, symbol_name};
use crate::emit::Emitter;
use crate::ir::{FloatTy, Function, Hint, Op, Ty, ValueId, ROOT};
use crate::names::{camel_case, Names};
use crate::rules::Factor;
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use std::collections::{BTreeMap, BTreeSet};

/// The `<name>_explain` function for a function whose expansion (`<name>_grad` included) is
/// `expansion`.
pub fn generate(emitter: &Emitter, d: &Derivation, func: &syn::ItemFn, expansion: &TokenStream) -> TokenStream {
    Generator::new(emitter, d, func).function(expansion)
}

/// Why a derivative is given without its chains.
fn omission_text(why: Omission) -> &'static str {
    match why {
        Omission::Loops => "the function has loops; array arguments are summarised by their gradient's magnitudes",
        Omission::Arrays => "the function reads or writes arrays; array arguments are summarised by magnitudes",
        Omission::Calls => "the function calls differentiable functions, whose factors are in their pullbacks",
        Omission::Branch => "a path runs through an `if`, so the factors depend on the branch taken",
        Omission::TooManyPaths => "too many paths to list",
    }
}

struct Generator<'e, 'a> {
    emitter: &'e Emitter<'a>,
    d: &'e Derivation,
    func: &'e syn::ItemFn,
    /// `explain_grad` and `explain_values`, named so that they collide with nothing in the user's
    /// function or the repeated gradient body.
    grad: Ident,
    values: Ident,
    /// Every number of the explanation, as expressions evaluated at the end of the repeated body.
    numbers: Vec<TokenStream>,
    /// The unnamed values the chains show, sorted (their position gives `u₁`, `u₂`, ..).
    symbols: Vec<ValueId>,
}

impl<'e, 'a> Generator<'e, 'a> {
    fn new(emitter: &'e Emitter<'a>, d: &'e Derivation, func: &'e syn::ItemFn) -> Self {
        let mut names = Names::new(func.to_token_stream());
        let taken = emitter.names.iter().chain(&emitter.array_names).flatten();
        let tapes = emitter.tapes.iter().flat_map(|t| t.name.iter().chain(t.stack.as_ref().map(|(_, len)| len)));
        for name in taken.chain(tapes) {
            names.take(&name.to_string());
        }
        let grad = Ident::new(&names.generated("explain_grad"), Span::call_site());
        let values = Ident::new(&names.generated("explain_values"), Span::call_site());
        Generator { emitter, d, func, grad, values, numbers: Vec::new(), symbols: Vec::new() }
    }

    fn f(&self) -> &'a Function {
        self.emitter.f
    }

    fn ex(&self) -> TokenStream {
        quote!(::backprop::__private::explain)
    }

    /// Records a number; the tokens read it from the evaluated list.
    fn number(&mut self, expr: TokenStream) -> TokenStream {
        let values = &self.values;
        let i = Literal::usize_unsuffixed(self.numbers.len());
        self.numbers.push(expr);
        quote!(#values[#i])
    }

    /// The value of `v` at the end of the gradient body: the emitter's expression, over the names
    /// the repeated body binds.
    fn value(&mut self, v: ValueId) -> TokenStream {
        let e = self.expr(v);
        self.number(e)
    }

    /// `v` by the name the gradient body binds it to when that name is in scope at the body's end
    /// (bound in the top block of the forward or the backward sweep), so that a factor's value is
    /// the very number the reverse sweep used; otherwise the emitter's expression of it.
    fn expr(&self, v: ValueId) -> TokenStream {
        let node = self.f().node(v);
        let top = node.block == ROOT || node.block == self.d.backward;
        let param = matches!(node.op, Op::Param(_));
        if param || (top && self.emitter.live[v.index()] && self.emitter.is_bound(v)) {
            if let Some(name) = self.emitter.name(v) {
                return name.to_token_stream();
            }
        }
        let e = self.emitter.doc_expr(v);
        quote!((#e))
    }

    /// The value of a local factor.
    fn factor(&mut self, factor: Factor) -> TokenStream {
        match factor {
            Factor::One | Factor::Cast(_) => quote!(1.0),
            Factor::MinusOne => quote!(-1.0),
            Factor::Times(v) => self.value(v),
            Factor::Over(g) => {
                let g = self.expr(g);
                self.number(quote!(1.0 / (#g)))
            }
            Factor::MinusOver(g) => {
                let g = self.expr(g);
                self.number(quote!(-1.0 / (#g)))
            }
        }
    }

    /// How a value is shown: `C`, its name, or its symbol (as in the doc comment's derivation).
    fn label(&self, v: ValueId) -> String {
        let f = self.f();
        if Some(v) == f.output {
            return "C".to_string();
        }
        if chains::is_named(f, v) {
            if let Some(n) = self.emitter.name(v) {
                return n.to_string();
            }
        }
        match self.symbols.binary_search(&v) {
            Ok(k) => symbol_name(k + 1),
            Err(_) => format!("({})", self.text(v)),
        }
    }

    fn text(&self, v: ValueId) -> String {
        pretty_expr(self.emitter.doc_expr(v)).replace("::backprop::__private::activation::", "")
    }

    fn factor_tokens(&self, symbol: &str, value: TokenStream) -> TokenStream {
        let ex = self.ex();
        quote!(#ex::Factor { symbol: ::std::string::String::from(#symbol), value: #value })
    }

    fn chain_tokens(&self, factors: Vec<TokenStream>) -> TokenStream {
        let ex = self.ex();
        quote!(#ex::Chain { factors: ::std::vec![#(#factors),*] })
    }

    /// The `Derivation` of one argument.
    fn derivation(&mut self, t: &Target) -> TokenStream {
        let ex = self.ex();
        let target = self.label(t.value);
        match &t.form {
            Form::Zero => quote!(#ex::Derivation::Zero),
            Form::Omitted(why) => {
                let why = omission_text(*why);
                quote!(#ex::Derivation::NotShown(::std::string::String::from(#why)))
            }
            Form::Chains(list) => {
                let mut out = Vec::new();
                for c in list {
                    let mut factors = Vec::new();
                    for l in &c.links {
                        let symbol = format!("∂{}/∂{}", self.label(l.upper), self.label(l.lower));
                        let value = self.factor(l.factor);
                        factors.push(self.factor_tokens(&symbol, value));
                    }
                    out.push(self.chain_tokens(factors));
                }
                quote!(#ex::Derivation::Chains(::std::vec![#(#out),*]))
            }
            Form::Uses(uses) => {
                let mut out = Vec::new();
                for (j, u) in uses.iter().enumerate() {
                    let consumer = self.label(u.consumer);
                    // Two uses by the same value are two terms with the same symbol: say which.
                    let same = uses.iter().filter(|w| w.consumer == u.consumer).count() > 1;
                    let k = uses[..j].iter().filter(|w| w.consumer == u.consumer).count();
                    let local = if same {
                        format!("∂{consumer}/∂{target} (use {})", k + 1)
                    } else {
                        format!("∂{consumer}/∂{target}")
                    };
                    let mut factors = Vec::new();
                    if Some(u.consumer) != self.f().output {
                        let Some(&adjoint) = self.d.adjoints.get(&u.consumer) else {
                            let why = "an adjoint it uses is not computed";
                            return quote!(#ex::Derivation::NotShown(::std::string::String::from(#why)));
                        };
                        let value = self.value(adjoint);
                        factors.push(self.factor_tokens(&format!("∂C/∂{consumer}"), value));
                    }
                    let value = self.factor(u.factor);
                    factors.push(self.factor_tokens(&local, value));
                    out.push(self.chain_tokens(factors));
                }
                quote!(#ex::Derivation::Uses(::std::vec![#(#out),*]))
            }
        }
    }

    /// Operations of the backward sweep needed to compute `v` on its own (forward values are free).
    fn backward_ops(&self, v: ValueId, seen: &mut BTreeSet<ValueId>) -> usize {
        let f = self.f();
        let node = f.node(v);
        if !f.block(node.block).backward || !seen.insert(v) {
            return 0;
        }
        let counted = matches!(node.op, Op::Unary(..) | Op::Binary(..) | Op::Call(..) | Op::Load(..) | Op::Store(..))
            && !matches!(node.ty, Ty::Int | Ty::Bool);
        let own = usize::from(counted);
        own + node.op.operands().iter().map(|&o| self.backward_ops(o, seen)).sum::<usize>()
    }

    /// The backward work of forming every chain on its own, with the same counting as
    /// `Plan::op_counts`: each factor's backward operations, one operation per factor other than 1
    /// after the first, one addition per further chain of an argument.
    fn separately(&self, targets: &[Target]) -> Option<usize> {
        let mut total = 0;
        for t in targets {
            match &t.form {
                Form::Zero => {}
                Form::Chains(list) => {
                    total += list.len().saturating_sub(1);
                    for c in list {
                        let mut nontrivial = 0usize;
                        for l in &c.links {
                            match l.factor {
                                Factor::One | Factor::Cast(_) => {}
                                Factor::MinusOne => nontrivial += 1,
                                Factor::Times(v) | Factor::Over(v) | Factor::MinusOver(v) => {
                                    nontrivial += 1;
                                    total += self.backward_ops(v, &mut BTreeSet::new());
                                }
                            }
                        }
                        total += nontrivial.saturating_sub(1);
                    }
                }
                Form::Uses(_) | Form::Omitted(_) => return None,
            }
        }
        Some(total)
    }

    /// Output-side adjoints that several chains pass through: value and number of chains, nearest
    /// the output first.
    fn shared(&mut self, targets: &[Target]) -> Vec<TokenStream> {
        let mut count: BTreeMap<ValueId, usize> = BTreeMap::new();
        for t in targets {
            if let Form::Chains(list) = &t.form {
                for c in list {
                    // The links above the argument: each ends at a value whose adjoint the chain uses.
                    for l in c.links.iter().take(c.links.len().saturating_sub(1)) {
                        *count.entry(l.lower).or_insert(0) += 1;
                    }
                }
            }
        }
        let ex = self.ex();
        let mut out = Vec::new();
        for (&x, &n) in count.iter().rev().filter(|(_, &n)| n > 1) {
            let Some(&adjoint) = self.d.adjoints.get(&x) else { continue };
            let symbol = format!("∂C/∂{}", self.label(x));
            let value = self.value(adjoint);
            let n = Literal::usize_unsuffixed(n);
            out.push(quote!(#ex::Shared { symbol: ::std::string::String::from(#symbol), value: #value, chains: #n }));
        }
        out
    }

    /// The statements of the generated `<name>_grad`, without its return expression.
    fn gradient_body(&self, expansion: &TokenStream, grad_fn: &Ident) -> Option<TokenStream> {
        let file = syn::parse2::<syn::File>(expansion.clone()).ok()?;
        let grad = file.items.into_iter().find_map(|item| match item {
            syn::Item::Fn(f) if f.sig.ident == *grad_fn => Some(f),
            _ => None,
        })?;
        let mut stmts = grad.block.stmts;
        if matches!(stmts.last(), Some(syn::Stmt::Expr(_, None))) {
            stmts.pop();
        }
        Some(quote!(#(#stmts)*))
    }

    fn function(mut self, expansion: &TokenStream) -> TokenStream {
        let f = self.f();
        let func = self.func;
        let ex = self.ex();
        let (grad, values) = (self.grad.clone(), self.values.clone());
        let base = func.sig.ident.to_string().trim_start_matches("r#").to_string();
        let grad_fn = format_ident!("{base}_grad");
        let explain_fn = format_ident!("{base}_explain");
        let (impl_generics, ty_generics, where_clause) = func.sig.generics.split_for_impl();
        let turbofish = ty_generics.as_turbofish();
        let sibling = self.emitter.sibling.clone();
        let vis = &func.vis;
        let params: Vec<TokenStream> = f
            .params
            .iter()
            .map(|p| {
                let (name, ty) = (&p.name, &p.ty_tokens);
                quote!(#name: #ty)
            })
            .collect();
        let args: Vec<&Ident> = f.params.iter().map(|p| &p.name).collect();

        let derivations = chains::derive(f, self.d);
        // Factors need the values of the gradient's body; functions with loops or arrays get none.
        let body = match derivations.omitted {
            None => self.gradient_body(expansion, &grad_fn),
            Some(_) => None,
        };
        let with_factors = body.is_some();
        if with_factors {
            self.symbols = derivations.symbols(f);
        }

        let cost = self.number(quote!(#grad.0));
        let inputs: Vec<TokenStream> = f
            .params
            .iter()
            .filter(|p| p.array.is_none() && p.ty.float().is_some())
            .map(|p| {
                let name = &p.name;
                let label = name.to_string();
                let value = self.number(quote!(#name));
                quote!((::std::string::String::from(#label), #value))
            })
            .collect();

        // The named variables' forward values, in order of computation, then C.
        let mut named = Vec::new();
        if with_factors {
            for (i, node) in f.nodes.iter().enumerate() {
                let v = ValueId(i as u32);
                let user = matches!(node.hint, Some(Hint::User(_))) && !matches!(node.op, Op::Param(_));
                if !user || Some(v) == f.output || node.block != ROOT || !self.emitter.live[i] {
                    continue;
                }
                if !matches!(node.ty, Ty::Float(_)) {
                    continue;
                }
                let Some(name) = self.emitter.name(v).map(|n| n.to_string()) else { continue };
                let value = self.value(v);
                named.push(quote!((::std::string::String::from(#name), #value)));
            }
            named.push(quote!((::std::string::String::from("C"), #cost)));
        }

        let symbols: Vec<TokenStream> = if with_factors {
            self.symbols
                .clone()
                .into_iter()
                .enumerate()
                .map(|(k, v)| {
                    let (name, text) = (symbol_name(k + 1), self.text(v));
                    let value = self.value(v);
                    quote!(#ex::Symbol {
                        name: ::std::string::String::from(#name),
                        expr: ::std::string::String::from(#text),
                        value: #value,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };

        // One entry per differentiated scalar argument: its derivation (from `doc::chains` when the
        // function is straight-line) and the generated gradient's value.
        let scalar_why = derivations.omitted.map(omission_text).unwrap_or("the derivation could not be evaluated");
        let mut arguments = Vec::new();
        for (i, p) in f.params.iter().enumerate() {
            if !p.wrt || p.array.is_some() {
                continue;
            }
            let name = &p.name;
            let label = name.to_string();
            let gradient = self.number(quote!(#grad.1.#name));
            let target = derivations.arguments.iter().find(|t| t.param == Some(i)).cloned();
            let derivation = match target {
                Some(t) if with_factors => self.derivation(&t),
                _ => quote!(#ex::Derivation::NotShown(::std::string::String::from(#scalar_why))),
            };
            arguments.push(quote!(#ex::Argument {
                name: ::std::string::String::from(#label),
                gradient: #gradient,
                derivation: #derivation,
            }));
        }
        let shared = if with_factors { self.shared(&derivations.arguments) } else { Vec::new() };

        let arrays: Vec<TokenStream> = f
            .params
            .iter()
            .filter(|p| p.wrt)
            .filter_map(|p| Some((p, f.array(p.array?).dims.len())))
            .map(|(p, dims)| {
                let name = &p.name;
                let label = name.to_string();
                let levels = if dims > 1 {
                    quote!(#ex::row_norms(&#grad.1.#name))
                } else {
                    quote!(#ex::magnitudes(&#grad.1.#name))
                };
                let rows = dims > 1;
                quote!(#ex::ArrayGradient {
                    name: ::std::string::String::from(#label),
                    norm: #ex::norm(&#grad.1.#name),
                    levels: #levels,
                    rows: #rows,
                })
            })
            .collect();

        let (forward, backward) = self.emitter.op_counts();
        let separately = match (with_factors, self.separately(&derivations.arguments)) {
            (true, Some(n)) => {
                let n = Literal::usize_unsuffixed(n);
                quote!(::core::option::Option::Some(#n))
            }
            _ => quote!(::core::option::Option::None),
        };
        let (forward, backward) = (Literal::usize_unsuffixed(forward), Literal::usize_unsuffixed(backward));
        let single = f.float == FloatTy::F32;
        let numbers = &self.numbers;
        let body = body.unwrap_or_default();
        let grad_struct = format_ident!("{}Grad", camel_case(&base));
        let doc = format!(
            " [`{base}`] and its gradient at the given arguments, explained: each partial derivative as a \
             product of local factors with their values (a sum of such products when paths fan out), the \
             output-side adjoints the reverse sweep computes once and shares, and operation counts; for \
             functions with loops or arrays, each array argument's gradient magnitude per outer index.\n\n \
             Generated by `#[backprop(explain)]`; the gradient is [`{grad_fn}`]'s ([`{grad_struct}`]). Print \
             the returned `backprop::Explanation`, or read its factors as data."
        );
        quote! {
            #[doc = #doc]
            #[allow(
                unused_variables,
                unused_mut,
                unused_assignments,
                unused_parens,
                non_snake_case,
                clippy::all,
                clippy::pedantic
            )]
            #vis fn #explain_fn #impl_generics (#(#params),*) -> ::backprop::Explanation #where_clause {
                let #grad = #sibling #grad_fn #turbofish (#(#args),*);
                let #values: ::std::vec::Vec<f64> = {
                    #body
                    ::std::vec![#(#ex::wide(#numbers)),*]
                };
                #ex::Explanation {
                    function: ::std::string::String::from(#base),
                    single_precision: #single,
                    cost: #cost,
                    inputs: ::std::vec![#(#inputs),*],
                    values: ::std::vec![#(#named),*],
                    symbols: ::std::vec![#(#symbols),*],
                    arguments: ::std::vec![#(#arguments),*],
                    shared: ::std::vec![#(#shared),*],
                    ops: #ex::Ops { forward: #forward, backward: #backward, separately: #separately },
                    arrays: ::std::vec![#(#arrays),*],
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{attr, ctxt::Ctxt, expand};
    use quote::quote;

    fn lesson() -> proc_macro2::TokenStream {
        quote!(
            fn cost(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
                let a1 = w1 * a0;
                let a2 = w2 * a1;
                let a3 = w3 * a2;
                (a3 - y).powi(2)
            }
        )
    }

    #[test]
    fn explain_is_an_option_of_its_own_and_next_to_wrt() {
        for (args, explain) in [(quote!(explain), true), (quote!(wrt(w1), explain), true), (quote!(wrt(w1)), false)] {
            let cx = Ctxt::new();
            let options = attr::parse_options(&cx, args.clone());
            assert!(cx.check().is_ok(), "{args}");
            assert_eq!(options.explain, explain, "{args}");
        }
        for (args, message) in [
            (quote!(explain(w1)), "`explain` takes no arguments"),
            (quote!(explain, explain), "duplicate `explain` option"),
            (
                quote!(explian),
                "the supported options are `wrt(a, b, ...)`, `explain`, `hessian`, `forward`, `max_iterations = N` and `pullback = path`",
            ),
        ] {
            let cx = Ctxt::new();
            attr::parse_options(&cx, args.clone());
            let error = cx.check().expect_err("an error").to_string();
            assert!(error.contains(message), "{args}: {error}");
        }
    }

    #[test]
    fn the_explain_function_is_generated_only_when_asked() {
        let plain = expand(quote!(), lesson()).to_string();
        assert!(!plain.contains("cost_explain"));
        let out = expand(quote!(explain), lesson());
        let file: syn::File = syn::parse2(out).expect("the expansion parses");
        let explain = file.items.iter().find_map(|item| match item {
            syn::Item::Fn(f) if f.sig.ident == "cost_explain" => Some(f),
            _ => None,
        });
        let explain = explain.expect("cost_explain is generated");
        assert_eq!(explain.sig.inputs.len(), 5);
        let text = quote::ToTokens::to_token_stream(explain).to_string();
        // The factors read the values the repeated gradient body binds.
        assert!(text.contains("let d_a3 ="), "{text}");
        assert!(text.contains("wide (d_a3)"), "{text}");
        assert!(text.contains("\"∂a3/∂a2\""), "{text}");
    }

    #[test]
    fn the_explain_function_s_own_names_avoid_the_user_s() {
        let out = expand(
            quote!(explain),
            quote!(
                fn f(explain_grad: f64, explain_values: f64) -> f64 {
                    explain_grad * explain_values
                }
            ),
        )
        .to_string();
        assert!(out.contains("let explain_grad_2 = f_grad"), "{out}");
        assert!(out.contains("let explain_values_2 :"), "{out}");
    }

    #[test]
    fn a_function_with_errors_gets_no_explain_function() {
        let out = expand(
            quote!(explain),
            quote!(
                fn f(x: f64) -> f64 {
                    x.floor()
                }
            ),
        )
        .to_string();
        assert!(out.contains("compile_error") && !out.contains("f_explain"), "{out}");
    }
}
