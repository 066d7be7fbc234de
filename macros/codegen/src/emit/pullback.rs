//! The pullback `<name>_pullback`: what a caller's backward sweep calls in place of the function's
//! body (the convention is in `docs/CALLS.md`). It runs the function's forward and backward sweeps
//! from the given adjoint of the result (the seed) instead of 1, adds the adjoints of its array
//! and parameter-struct arguments into the caller's sinks, and returns those of its float
//! arguments.
//!
//! A caller that does not need an argument's adjoint (data, constants) passes `None`. The sweep is
//! a separate function with one `const bool` per sink, and every write into that argument's
//! adjoint is guarded by it: the copy instantiated for `None` has no such code, so the work is
//! skipped, not done into a scratch buffer and thrown away (up to `MAX_DISPATCHED` sinks; beyond,
//! one copy with every write, into scratch buffers for the `None`s).

use super::Emitter;
use crate::diff::Derivation;
use crate::ir::{ArrayId, ArrayOrigin, Dim, ROOT};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use std::collections::BTreeMap;

/// Sinks up to this many get one sweep instantiation per combination of given and `None`.
const MAX_DISPATCHED: usize = 3;

/// Where a pullback's adjoints go (set while the pullback is printed, empty otherwise).
#[derive(Default, Debug)]
pub(crate) struct Sinks {
    /// Per parameter struct argument (by index): its sink's name (`d_net`), where its fields'
    /// adjoints accumulate (`d_net.l1.w[j][i] += ..`).
    pub names: BTreeMap<usize, Ident>,
    /// Per adjoint array: the `const bool` that says whether the caller wants it.
    pub guards: BTreeMap<ArrayId, Ident>,
}

/// What ends a pullback's or a vjp's backward sweep (`Emitter::finish_sweep`).
struct SweepEnd {
    adds: Vec<TokenStream>,
    returns: TokenStream,
    values: Vec<TokenStream>,
    zero_seed: TokenStream,
}

/// One argument that gets a sink.
struct Sink {
    param: usize,
    /// The sink's name in the sweep (`&mut U`) and its flag.
    name: Ident,
    want: Ident,
    /// `U` in `Option<&mut U>`.
    target: TokenStream,
    /// A zero buffer of the argument's shape, for a `None` (an owned value: a `Vec` for a slice).
    scratch: TokenStream,
    /// The sink is a slice (`&mut [f64]`), the scratch buffer a `Vec`.
    slice: bool,
    /// For an array argument the function writes: its local adjoint, added into the sink at the end.
    local: Option<TokenStream>,
}

impl Emitter<'_> {
    /// `<name>_pullback` and its sweep.
    pub fn emit_pullback(&self, func: &syn::ItemFn, items: &[syn::Item], d: &Derivation) -> TokenStream {
        let f = self.f;
        let vis = &func.vis;
        let name = func.sig.ident.to_string();
        let name = name.trim_start_matches("r#");
        let pullback_fn = format_ident!("{}_pullback", name);
        let sweep_fn = format_ident!("{}_pullback_sweep", name);
        let ret = match &f.return_type {
            Some(ty) => quote!(&#ty),
            None => Ident::new(f.float.name(), Span::call_site()).to_token_stream(),
        };
        let (result, seed) = (&self.result_name, &self.seed_name);
        let zeros_like = self.runtime_item("ZerosLike");
        let sibling = &self.sibling;

        let sinks = self.sinks_of(d);
        self.start_sweep(&sinks, d);
        let params: Vec<TokenStream> = f
            .params
            .iter()
            .map(|p| {
                let (name, ty) = (&p.name, &p.ty_tokens);
                match p.array {
                    Some(a) if f.array(a).mutable => quote!(mut #name: #ty),
                    _ => quote!(#name: #ty),
                }
            })
            .collect();
        let args: Vec<&Ident> = f.params.iter().map(|p| &p.name).collect();
        // Adjoint arrays: an argument's is its sink; the others are local.
        let mut locals = Vec::new();
        for adjoint in d.array_adjoints.values().filter(|a| self.live_arrays[a.index()]) {
            if self.is_field_adjoint(*adjoint) || self.is_returned_adjoint(*adjoint) {
                continue;
            }
            self.bind_array(*adjoint);
            if self.sinks.borrow().guards.contains_key(adjoint) {
                self.borrowed.borrow_mut()[adjoint.index()] = true;
                continue;
            }
            let name = &self.array_names[adjoint.index()];
            // The returned array's adjoint starts as the caller's adjoint of the result: the seed.
            if f.output_array.is_some_and(|out| d.array_adjoints.get(&out) == Some(adjoint)) {
                locals.push(quote!(let mut #name = ::core::clone::Clone::clone(#seed);));
                continue;
            }
            let zero = self.lit_tokens(0.0, f.array(*adjoint).elem.float().unwrap_or(f.float), true).0;
            let init = self.filled(*adjoint, zero);
            locals.push(quote!(let mut #name = #init;));
        }
        let checks = self.activation_checks();
        let tapes = self.tape_declarations();
        let forward = self.block(ROOT);
        let backward = self.block(d.backward);
        let SweepEnd { adds, returns, values: tuple_values, zero_seed } = self.finish_sweep(&sinks, d);
        let sweep_body = quote!(#(#items)* #checks #(#tapes)* #(#locals)* #forward #backward #(#adds)*);
        let allows = quote!(#[allow(
            unused_variables,
            unused_mut,
            unused_assignments,
            unused_parens,
            non_snake_case,
            non_upper_case_globals,
            clippy::all,
            clippy::pedantic
        )]);
        let doc = format!(
            "The pullback of [`{name}`] (its vector-Jacobian product), which `#[backprop]` functions calling `{name}` call in their backward sweep: given the arguments, the value `{name}` returned and its adjoint `{seed}`, adds `{seed} · ∂{name}/∂a` into the sink of every array and parameter-struct argument `a` that is `Some`, and returns that of every float argument (`()` for the others)."
        );
        let generics = &func.sig.generics;
        let (impl_generics, _, where_clause) = generics.split_for_impl();
        let user_args: Vec<TokenStream> = generics
            .params
            .iter()
            .filter_map(|g| match g {
                syn::GenericParam::Const(c) => Some(c.ident.to_token_stream()),
                syn::GenericParam::Type(t) => Some(t.ident.to_token_stream()),
                syn::GenericParam::Lifetime(_) => None,
            })
            .collect();
        let sink_params: Vec<TokenStream> = sinks
            .iter()
            .map(|s| {
                let (name, target) = (&s.name, &s.target);
                quote!(#name: ::core::option::Option<&mut #target>)
            })
            .collect();
        if sinks.is_empty() {
            return quote! {
                #[doc = #doc]
                #[inline]
                #allows
                #vis fn #pullback_fn #impl_generics (#(#params,)* #result: #ret, #seed: #ret) -> #returns #where_clause {
                    #zero_seed
                    #(#items)*
                    #checks
                    #(#tapes)*
                    #(#locals)*
                    #forward
                    #backward
                    (#(#tuple_values,)*)
                }
            };
        }
        let mut sweep_generics = generics.clone();
        for s in &sinks {
            let want = &s.want;
            sweep_generics.params.push(syn::parse_quote!(const #want: bool));
        }
        let (sweep_impl_generics, _, _) = sweep_generics.split_for_impl();
        let sweep_sinks: Vec<TokenStream> = sinks
            .iter()
            .map(|s| {
                let (name, target) = (&s.name, &s.target);
                quote!(#name: &mut #target)
            })
            .collect();
        let given: Vec<Ident> = (0..sinks.len()).map(|k| format_ident!("given_{}", k)).collect();
        let sink_names: Vec<&Ident> = sinks.iter().map(|s| &s.name).collect();
        let dispatch = if sinks.len() <= MAX_DISPATCHED {
            let arms: Vec<TokenStream> = (0..1usize << sinks.len())
                .map(|mask| {
                    let wants: Vec<bool> = (0..sinks.len()).map(|k| mask & (1 << k) != 0).collect();
                    let patterns: Vec<TokenStream> = wants
                        .iter()
                        .zip(&given)
                        .map(|(w, g)| if *w { quote!(::core::option::Option::Some(#g)) } else { quote!(::core::option::Option::None) })
                        .collect();
                    let passed: Vec<TokenStream> = wants
                        .iter()
                        .zip(sinks.iter().zip(&given))
                        .map(|(w, (s, g))| {
                            let scratch = &s.scratch;
                            if *w {
                                quote!(#g)
                            } else if s.slice && unused_unless_wanted(&sweep_body, &s.name, &s.want) {
                                // Instantiated with the flag false, the sweep never touches it.
                                quote!(&mut [])
                            } else if s.slice {
                                quote!(&mut #scratch[..])
                            } else {
                                quote!(&mut #scratch)
                            }
                        })
                        .collect();
                    quote! {
                        (#(#patterns,)*) => #sibling #sweep_fn::<#(#user_args,)* #(#wants),*>(#(#args,)* #result, #seed, #(#passed),*),
                    }
                })
                .collect();
            quote!(match (#(#sink_names,)*) { #(#arms)* })
        } else {
            let unwraps: Vec<TokenStream> = sinks
                .iter()
                .zip(&given)
                .map(|(s, g)| {
                    let (name, target, scratch) = (&s.name, &s.target, &s.scratch);
                    let holder = format_ident!("{}_scratch", g);
                    quote! {
                        let mut #holder;
                        let #g: &mut #target = match #name {
                            ::core::option::Option::Some(s) => s,
                            ::core::option::Option::None => { #holder = #scratch; &mut #holder }
                        };
                    }
                })
                .collect();
            let all = vec![true; sinks.len()];
            quote! {
                #(#unwraps)*
                #sibling #sweep_fn::<#(#user_args,)* #(#all),*>(#(#args,)* #result, #seed, #(#given),*)
            }
        };
        let _ = zeros_like;
        quote! {
            #[doc = #doc]
            #[inline]
            #allows
            #vis fn #pullback_fn #impl_generics (#(#params,)* #result: #ret, #seed: #ret, #(#sink_params),*) -> #returns #where_clause {
                #zero_seed
                #dispatch
            }

            #[doc(hidden)]
            #[inline(always)]
            #allows
            #vis fn #sweep_fn #sweep_impl_generics (#(#params,)* #result: #ret, #seed: #ret, #(#sweep_sinks),*) -> #returns #where_clause {
                #(#items)*
                #checks
                #(#tapes)*
                #(#locals)*
                #forward
                #backward
                #(#adds)*
                (#(#tuple_values,)*)
            }
        }
    }

    /// Records where each sink's adjoints go and the flag guarding them (`Sinks`), and starts the
    /// scope check with the arguments in scope: what a pullback and a vjp do first.
    fn start_sweep(&self, sinks: &[Sink], d: &Derivation) {
        let f = self.f;
        {
            let mut table = self.sinks.borrow_mut();
            *table = Sinks::default();
            for s in sinks {
                let p = &f.params[s.param];
                if p.strukt.is_some() {
                    table.names.insert(s.param, s.name.clone());
                    for (a, adjoint) in &d.array_adjoints {
                        if matches!(f.array(*a).origin, ArrayOrigin::Field { param, .. } if param as usize == s.param) {
                            table.guards.insert(*adjoint, s.want.clone());
                        }
                    }
                } else if let (Some(a), None) = (p.array, &s.local) {
                    if let Some(adjoint) = d.array_adjoints.get(&a) {
                        table.guards.insert(*adjoint, s.want.clone());
                    }
                }
            }
        }
        self.scope.borrow_mut().start();
        for p in &f.params {
            match p.array {
                Some(a) => self.bind_array(a),
                None => self.bind(p.value),
            }
        }
    }

    /// After the backward sweep is printed: the sinks' add-ins, the returned tuple (its type and
    /// values: the float arguments' adjoints, `()` for the others), the zero-seed early return, and
    /// the end of the scope check.
    fn finish_sweep(&self, sinks: &[Sink], d: &Derivation) -> SweepEnd {
        let f = self.f;
        let seed = &self.seed_name;
        let mut adds = Vec::new();
        for s in sinks {
            if let Some(local) = &s.local {
                let (add, name, want) = (self.runtime("checks", "add_into"), &s.name, &s.want);
                adds.push(quote!(if #want { #add(#name, &#local); }));
            }
        }
        let (mut types, mut values, mut zeros) = (Vec::new(), Vec::new(), Vec::new());
        for (k, p) in f.params.iter().enumerate() {
            match (p.array.is_none() && p.strukt.is_none(), p.ty.float()) {
                (true, Some(t)) => {
                    let ty = Ident::new(t.name(), Span::call_site());
                    types.push(quote!(#ty));
                    let zero = self.lit_tokens(0.0, t, true).0;
                    values.push(match d.gradients[k] {
                        Some(g) => self.expr(g, true).0,
                        None => zero.clone(),
                    });
                    zeros.push(zero);
                }
                _ => {
                    types.push(quote!(()));
                    values.push(quote!(()));
                    zeros.push(quote!(()));
                }
            }
        }
        *self.problems.borrow_mut() = self.scope.borrow_mut().finish();
        *self.sinks.borrow_mut() = Sinks::default();
        // A zero adjoint contributes exactly zero, whatever the factors are at this point (an
        // infinite derivative in a branch the caller did not take): the rule of `diff::Sweep::
        // maybe_zero`, kept across the call.
        // An array result's adjoint: all of it zero (`all_zero`, one pass over the seed).
        let zero_seed = if f.return_type.is_none() {
            quote!(if #seed == 0.0 { return (#(#zeros,)*); })
        } else {
            let all_zero = self.runtime_item("all_zero");
            quote!(if #all_zero(#seed) { return (#(#zeros,)*); })
        };
        SweepEnd { adds, returns: quote!((#(#types,)*)), values, zero_seed }
    }

    /// The arguments that get a sink (arrays and parameter structs), in order.
    fn sinks_of(&self, d: &Derivation) -> Vec<Sink> {
        let f = self.f;
        let mut out = Vec::new();
        for (k, p) in f.params.iter().enumerate() {
            let (want, name) = (&self.want_names[k], &p.name);
            if let Some(owned) = &p.strukt {
                let zeros_like = self.runtime_item("ZerosLike");
                out.push(Sink {
                    param: k,
                    name: self.sink_names[k].clone(),
                    want: want.clone(),
                    target: owned.clone(),
                    scratch: quote!(#zeros_like::zeros_like(#name)),
                    slice: false,
                    local: None,
                });
                continue;
            }
            let Some(a) = p.array else { continue };
            if f.array(a).elem.float().is_none() {
                continue;
            }
            let target = match syn::parse2::<syn::Type>(p.ty_tokens.clone()) {
                Ok(ty) => crate::lower::sink_target(&ty),
                Err(_) => p.ty_tokens.clone(),
            };
            let zero = self.lit_tokens(0.0, f.array(a).elem.float().unwrap_or(f.float), true).0;
            let scratch = self.filled(a, zero);
            let slice = matches!(f.array(a).dims.first(), Some(Dim::Dynamic)) && target.to_string().starts_with('[');
            let adjoint = d.array_adjoints.get(&a).filter(|adj| self.live_arrays[adj.index()]);
            let (name, local) = match adjoint {
                // An argument the function writes keeps a local adjoint, added in at the end.
                Some(adj) if f.array(a).mutable => (self.sink_names[k].clone(), Some(self.array_name(*adj))),
                Some(adj) => {
                    (self.array_names[adj.index()].clone().unwrap_or_else(|| self.sink_names[k].clone()), None)
                }
                None => (self.sink_names[k].clone(), None),
            };
            out.push(Sink { param: k, name, want: want.clone(), target, scratch, slice, local });
        }
        out
    }
}

/// The generics of `<name>_vjp`: the function's, with a lifetime first (`'a`, or a fresh name
/// if the function has its own `'a`) that every lifetime of the function outlives, since the
/// closure may keep anything the arguments borrow.
pub(crate) fn vjp_generics(generics: &syn::Generics) -> (syn::Generics, syn::Lifetime) {
    let taken: Vec<String> = generics.lifetimes().map(|l| l.lifetime.ident.to_string()).collect();
    let name =
        ["a", "vjp", "vjp_closure"].into_iter().find(|n| !taken.iter().any(|t| t == n)).unwrap_or("backprop_vjp");
    let lifetime = syn::Lifetime::new(&format!("'{name}"), Span::call_site());
    let mut out = generics.clone();
    for param in out.params.iter_mut() {
        if let syn::GenericParam::Lifetime(l) = param {
            l.bounds.push(lifetime.clone());
        }
    }
    out.params.insert(0, syn::GenericParam::Lifetime(syn::LifetimeParam::new(lifetime.clone())));
    (out, lifetime)
}

/// `&T` as `&'a T` (every reference in the type), so that `<name>_vjp`'s closure can name it.
pub(crate) fn with_lifetime(ty: &TokenStream, lifetime: &syn::Lifetime) -> TokenStream {
    use syn::visit_mut::VisitMut;
    struct Named<'l>(&'l syn::Lifetime);
    impl VisitMut for Named<'_> {
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            if r.lifetime.is_none() {
                r.lifetime = Some(self.0.clone());
            }
            syn::visit_mut::visit_type_reference_mut(self, r);
        }
    }
    match syn::parse2::<syn::Type>(ty.clone()) {
        Ok(mut parsed) => {
            Named(lifetime).visit_type_mut(&mut parsed);
            parsed.to_token_stream()
        }
        Err(_) => ty.clone(),
    }
}

impl Emitter<'_> {
    /// `<name>_vjp`: the forward sweep once, then the result and a closure holding the backward
    /// sweep (`docs/CALLS.md`). Planned without fusion (`Plan::with_mode`), so the forward sweep
    /// is whole before the closure is made; the closure captures what the backward sweep reads
    /// (values, tapes, arrays) by move. Which sinks are given is known only when it is called:
    /// each write into an argument's adjoint is guarded by a run-time flag, and a `None` gets a
    /// scratch buffer.
    pub fn emit_vjp(&self, func: &syn::ItemFn, items: &[syn::Item], d: &Derivation) -> TokenStream {
        let f = self.f;
        let vis = &func.vis;
        let name = func.sig.ident.to_string();
        let name = name.trim_start_matches("r#");
        let vjp_fn = format_ident!("{}_vjp", name);
        let float = Ident::new(f.float.name(), Span::call_site());
        let (owned_ret, seed_ty) = match &f.return_type {
            Some(ty) => (quote!(#ty), quote!(&#ty)),
            None => (quote!(#float), quote!(#float)),
        };
        let seed = &self.seed_name;

        let sinks = self.sinks_of(d);
        self.start_sweep(&sinks, d);
        let (generics, lifetime) = vjp_generics(&func.sig.generics);
        let params: Vec<TokenStream> = f
            .params
            .iter()
            .map(|p| {
                let (name, ty) = (&p.name, with_lifetime(&p.ty_tokens, &lifetime));
                match p.array {
                    Some(a) if f.array(a).mutable => quote!(mut #name: #ty),
                    _ => quote!(#name: #ty),
                }
            })
            .collect();
        let checks = self.activation_checks();
        let tapes = self.tape_declarations();
        let forward = self.block(ROOT);
        let output = match (f.output_array, f.output) {
            (Some(out), _) => {
                let out = self.array_name(out);
                quote!(::core::clone::Clone::clone(&#out))
            }
            (None, Some(o)) => self.expr(o, true).0,
            (None, None) => quote!(::core::unreachable!()),
        };
        // Adjoint arrays: an argument's is its sink; the others are local to the closure.
        let mut locals = Vec::new();
        for adjoint in d.array_adjoints.values().filter(|a| self.live_arrays[a.index()]) {
            let seeded = f.output_array.is_some_and(|out| d.array_adjoints.get(&out) == Some(adjoint));
            if self.is_field_adjoint(*adjoint) || (self.is_returned_adjoint(*adjoint) && !seeded) {
                continue;
            }
            self.bind_array(*adjoint);
            if self.sinks.borrow().guards.contains_key(adjoint) {
                self.borrowed.borrow_mut()[adjoint.index()] = true;
                continue;
            }
            let name = &self.array_names[adjoint.index()];
            // The returned array's adjoint starts as the caller's adjoint of the result: the seed.
            if seeded {
                locals.push(quote!(let mut #name = ::core::clone::Clone::clone(#seed);));
                continue;
            }
            let zero = self.lit_tokens(0.0, f.array(*adjoint).elem.float().unwrap_or(f.float), true).0;
            let init = self.filled(*adjoint, zero);
            locals.push(quote!(let mut #name = #init;));
        }
        let backward = self.block(d.backward);
        let SweepEnd { adds, returns, values: tuple_values, zero_seed } = self.finish_sweep(&sinks, d);
        // Inside the closure: the sinks as given, each with its flag. A `None` slice the sweep
        // only touches under its flag gets an empty one (no allocation); others a zero buffer.
        let closure_body = quote!(#(#locals)* #backward #(#adds)*);
        let mut unwraps = Vec::new();
        for s in &sinks {
            let (name, want, target) = (&s.name, &s.want, &s.target);
            let scratch = if s.slice && unused_unless_wanted(&closure_body, name, want) {
                quote!(::std::vec::Vec::new())
            } else {
                s.scratch.clone()
            };
            let holder = &self.scratch_names[s.param];
            let lent = if s.slice { quote!(&mut #holder[..]) } else { quote!(&mut #holder) };
            unwraps.push(quote! {
                let mut #holder;
                let (#want, #name): (bool, &mut #target) = match #name {
                    ::core::option::Option::Some(given) => (true, given),
                    ::core::option::Option::None => { #holder = #scratch; (false, #lent) }
                };
            });
        }
        let allows = quote!(#[allow(
            unused_variables,
            unused_mut,
            unused_assignments,
            unused_parens,
            non_snake_case,
            non_upper_case_globals,
            clippy::all,
            clippy::pedantic
        )]);
        let doc = format!(
            "[`{name}`] and its pullback in one call (its vjp), which `#[backprop]` functions calling `{name}` once call in their forward sweep: runs `{name}` and returns its value and a closure that, given the value's adjoint `{seed}` and the sinks of `{name}_pullback`, runs the backward sweep on what the forward sweep kept, with nothing recomputed."
        );
        let (impl_generics, _, where_clause) = generics.split_for_impl();
        let sink_types: Vec<TokenStream> = sinks
            .iter()
            .map(|s| {
                let target = &s.target;
                quote!(::core::option::Option<&mut #target>)
            })
            .collect();
        let sink_params: Vec<TokenStream> = sinks
            .iter()
            .zip(&sink_types)
            .map(|(s, ty)| {
                let name = &s.name;
                quote!(#name: #ty)
            })
            .collect();
        quote! {
            #[doc = #doc]
            #[inline]
            #allows
            #vis fn #vjp_fn #impl_generics (#(#params),*)
                -> (#owned_ret, impl ::core::ops::FnOnce(#seed_ty, #(#sink_types),*) -> #returns + #lifetime) #where_clause {
                #(#items)*
                #checks
                #(#tapes)*
                #forward
                (#output, move |#seed: #seed_ty, #(#sink_params),*| {
                    #zero_seed
                    #(#unwraps)*
                    #(#locals)*
                    #backward
                    #(#adds)*
                    (#(#tuple_values,)*)
                })
            }
        }
    }
}

/// Whether every mention of the sink `name` in `body` is under its flag: inside `if want { .. }`
/// (or `if want && .. { .. }`, whose condition runs only when the flag is set). Then a sweep run
/// with the flag false never touches the sink, and a `None` needs no zero buffer behind it.
fn unused_unless_wanted(body: &TokenStream, name: &Ident, want: &Ident) -> bool {
    use proc_macro2::{Delimiter, TokenTree};
    let tts: Vec<TokenTree> = body.clone().into_iter().collect();
    let mut i = 0;
    while i < tts.len() {
        match &tts[i] {
            TokenTree::Ident(kw) if kw == "if" && matches!(tts.get(i + 1), Some(TokenTree::Ident(w)) if w == want) => {
                let plain = matches!(tts.get(i + 2), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace);
                let and = matches!((tts.get(i + 2), tts.get(i + 3)), (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                    if a.as_char() == '&' && b.as_char() == '&');
                if plain || and {
                    // Past the guarded condition and body; an `else` after it is checked as usual.
                    let body_at = (i + 2..tts.len())
                        .find(|&j| matches!(&tts[j], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace));
                    match body_at {
                        Some(j) => i = j + 1,
                        None => return false,
                    }
                    continue;
                }
                i += 1;
            }
            TokenTree::Ident(id) if id == name => {
                let after_dot = i > 0 && matches!(&tts[i - 1], TokenTree::Punct(p) if p.as_char() == '.');
                if !after_dot {
                    return false;
                }
                i += 1;
            }
            TokenTree::Group(g) => {
                if !unused_unless_wanted(&g.stream(), name, want) {
                    return false;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    true
}
