//! Printing the gradient's items ([`Emitter::emit`]): the user's function unchanged, the gradient
//! struct with `zeros_like` and its `Params` impl, `<name>_grad` and `<name>_grad_acc` (which one
//! holds the sweep), and the compile-time checks that activation calls are the runtime's.

use super::Emitter;
use crate::diff::Derivation;
use crate::ir::{Activation, ArrayId, ArrayOrigin, Dim, FloatTy, Func, Op, ROOT};
use crate::names::camel_case;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

impl<'a> Emitter<'a> {
    /// The whole output: the user's function unchanged, the gradient struct, the gradient function.
    pub fn emit(&self, func: &syn::ItemFn, items: &[syn::Item], d: &Derivation, doc: &str) -> TokenStream {
        let f = self.f;
        let vis = &func.vis;
        let fn_name = &func.sig.ident;
        let grad_fn = format_ident!("{}_grad", fn_name.to_string().trim_start_matches("r#"));
        let grad_struct = format_ident!("{}{}Grad", self.struct_prefix, camel_case(&fn_name.to_string()));
        let ret = Ident::new(f.float.name(), Span::call_site());
        // Const generics (`<const N: usize>`) carry over to the struct and the gradient function.
        let (impl_generics, ty_generics, where_clause) = func.sig.generics.split_for_impl();
        let turbofish = ty_generics.as_turbofish();
        let sibling = &self.sibling;

        let params: Vec<TokenStream> = f
            .params
            .iter()
            .map(|p| {
                let name = &p.name;
                let ty = &p.ty_tokens;
                // An array argument the function writes is written in the gradient function too.
                match p.array {
                    Some(a) if f.array(a).mutable => quote!(mut #name: #ty),
                    _ => quote!(#name: #ty),
                }
            })
            .collect();
        let wrt: Vec<_> = f.params.iter().zip(&d.gradients).filter(|(p, _)| p.wrt).collect();
        let fields: Vec<TokenStream> = wrt
            .iter()
            .map(|(p, _)| {
                let name = &p.name;
                let field = self.gradient_field(self.param_index(p));
                let ty = match (p.array, &p.strukt) {
                    (Some(a), _) => self.owned_type(a),
                    (None, Some(owned)) => owned.clone(),
                    (None, None) => p.ty_tokens.clone(),
                };
                let doc = format!("∂{fn_name}/∂{name}");
                quote!(#[doc = #doc] pub #field: #ty)
            })
            .collect();
        let has_structs = wrt.iter().any(|(p, _)| p.strukt.is_some());
        let copyable =
            wrt.iter().all(|(p, _)| p.array.is_none_or(|a| f.array(a).dims.iter().all(|d| matches!(d, Dim::Const(_)))));
        // A parameter struct's own type decides what it implements; `Clone` is what the trainer
        // and optimizers need.
        let derives = if has_structs {
            TokenStream::new()
        } else if copyable {
            quote!(#[derive(Debug, Clone, Copy, PartialEq)])
        } else {
            quote!(#[derive(Debug, Clone, PartialEq)])
        };
        // The arguments are in scope everywhere in the gradient function.
        self.scope.borrow_mut().start();
        for p in &f.params {
            match p.array {
                Some(a) => self.bind_array(a),
                None => self.bind(p.value),
            }
        }
        // Tapes (the forward sweep pushes) and adjoint arrays (a fused loop fills them during the
        // forward sweep) are declared first.
        let tapes = self.tape_declarations();
        // With array arguments, the sweep runs in the accumulating form and adds into the caller's
        // gradient: the adjoint of an argument the function never writes *is* the caller's buffer
        // (no allocation, nothing copied); other adjoints are local and added at the end.
        let sweep_accumulates = self.sweep_accumulates(d);
        let into_caller = |a: ArrayId| -> Option<&crate::ir::Param> {
            let ArrayOrigin::Adjoint(of) = f.array(a).origin else { return None };
            let p = f.params.iter().find(|p| p.array == Some(of))?;
            (sweep_accumulates && p.wrt && !f.array(of).mutable).then_some(p)
        };
        let mut length_checks = TokenStream::new();
        let adjoint_arrays: Vec<TokenStream> = d
            .array_adjoints
            .values()
            .filter(|a| self.live_arrays[a.index()] && !self.is_field_adjoint(**a) && !self.is_returned_adjoint(**a))
            .map(|a| {
                let name = &self.array_names[a.index()];
                self.bind_array(*a);
                self.borrowed.borrow_mut()[a.index()] = into_caller(*a).is_some();
                if let Some(p) = into_caller(*a) {
                    let field = &p.name;
                    if matches!(f.array(*a).dims.first(), Some(Dim::Dynamic)) {
                        let label = field.to_string();
                        let check = self.runtime("checks", "gradient_length");
                        let grad = &self.grad_name;
                        length_checks.extend(quote!(#check(#label, #grad.#field.len(), #field.len());));
                        return quote!(let #name = &mut #grad.#field[..];);
                    }
                    let grad = &self.grad_name;
                    return quote!(let #name = &mut #grad.#field;);
                }
                let zero = self.lit_tokens(0.0, f.array(*a).elem.float().unwrap_or(f.float), true).0;
                let init = self.filled(*a, zero);
                quote!(let mut #name = #init;)
            })
            .collect();

        let checks = self.activation_checks();
        let forward = self.block(ROOT);
        let backward = self.block(d.backward);
        let output = match f.output {
            Some(o) => self.expr(o, true).0,
            None => quote!(::core::unreachable!()),
        };
        let values: Vec<TokenStream> = wrt
            .iter()
            .map(|(p, g)| {
                let name = &p.name;
                let zero = self.lit_tokens(0.0, p.ty.float().unwrap_or(f.float), true).0;
                let value = match (p.array, g) {
                    (Some(a), _) => match d.array_adjoints.get(&a) {
                        Some(adjoint) => self.array_name(*adjoint),
                        None => self.filled(a, zero),
                    },
                    (None, Some(g)) => self.expr(*g, true).0,
                    (None, None) => zero,
                };
                quote!(#name: #value)
            })
            .collect();
        let params_impl =
            self.params_impl(func, &grad_struct, &wrt.iter().map(|(p, _)| p).copied().collect::<Vec<_>>());
        let struct_doc =
            format!("The gradient of [`{fn_name}`]: one field per differentiated argument. Returned by [`{grad_fn}`].");
        // `#[backprop]` asks for index loops (`for i in 0..n`), which clippy would flag in the
        // user's own function.
        let loops_allowed =
            if f.loops.is_empty() { TokenStream::new() } else { quote!(#[allow(clippy::needless_range_loop)]) };
        let acc_fn = format_ident!("{}_grad_acc", fn_name.to_string().trim_start_matches("r#"));
        let (grad_out, value) = (&self.grad_name, &self.value_name);
        // The scalar wrapper names the callee's gradient after its own locals: nothing of the user's.
        let grad = format_ident!("{}_sweep", grad_out);
        let zeros: Vec<TokenStream> = wrt
            .iter()
            .map(|(p, _)| {
                let field = self.gradient_field(self.param_index(p));
                let zero = self.lit_tokens(0.0, p.ty.float().unwrap_or(f.float), true).0;
                let zeros_like = self.runtime_item("ZerosLike");
                let value = match (p.array, &p.strukt) {
                    (Some(a), _) => self.filled(a, zero),
                    (None, Some(_)) => quote!(#zeros_like::zeros_like(#field)),
                    (None, None) => zero,
                };
                quote!(#field: #value)
            })
            .collect();
        // `zeros_like` takes the differentiated arguments whose length is only known at run time.
        let sized_by: Vec<&crate::ir::Param> = f
            .params
            .iter()
            .filter(|p| {
                p.wrt
                    && (p.strukt.is_some()
                        || p.array.is_some_and(|a| f.array(a).dims.iter().any(|d| matches!(d, Dim::Dynamic))))
            })
            .collect();
        let array_params: Vec<TokenStream> = sized_by
            .iter()
            .map(|p| {
                let (name, ty) = (self.gradient_field(self.param_index(p)), &p.ty_tokens);
                quote!(#name: #ty)
            })
            .collect();
        let array_args: Vec<&Ident> = sized_by.iter().map(|p| &p.name).collect();
        let zeros_doc = if array_params.is_empty() {
            "A zero gradient, to accumulate into.".to_string()
        } else {
            "A zero gradient shaped like these arguments (the slices' lengths), to accumulate into.".to_string()
        };
        let args: Vec<&Ident> = f.params.iter().map(|p| &p.name).collect();
        // What the sweep allocates: tapes not on the stack, and buffers sized at run time.
        let allocates = self.tapes.iter().any(|t| t.stack.is_none())
            || f.arrays.iter().enumerate().any(|(i, a)| {
                self.live_arrays[i]
                    && matches!(a.origin, ArrayOrigin::Local { .. } | ArrayOrigin::Adjoint(_))
                    && a.dims.iter().any(|d| matches!(d, Dim::Value(_) | Dim::Dynamic))
                    && !self.is_field_adjoint(ArrayId(i as u32))
                    // A returned array is a fixed-size array; its adjoint one like it.
                    && !self.is_returned_adjoint(ArrayId(i as u32))
                    // A copy of a call's array is shaped like it (`declare_copy`).
                    && self.copy_source(ArrayId(i as u32)).is_none()
                    // An argument's adjoint is the caller's buffer.
                    && !matches!(a.origin, ArrayOrigin::Adjoint(of)
                        if matches!(f.array(of).origin, ArrayOrigin::Param { .. }) && !f.array(of).mutable)
            });
        let allocation = if allocates {
            "allocating only the buffers sized at run time (tapes of loops whose trip count is not a literal, \
             `vec!` scratch buffers and their adjoints), once per call"
        } else {
            "allocating nothing"
        };
        let acc_doc = format!(
            "Adds the gradient of [`{fn_name}`] at this point into `grad` and returns the value, {allocation}: \
             the form for sums over samples and training loops. `grad` holds the gradient \
             so far: start from [`{grad_struct}::zeros_like`]; its `Vec` fields must have the \
             arguments' lengths."
        );
        let allows = quote!(#[allow(
            unused_variables,
            unused_mut,
            unused_assignments,
            unused_parens,
            non_snake_case,
            clippy::all,
            clippy::pedantic
        )]);
        let header = quote! {
            #loops_allowed
            #func

            #[doc = #struct_doc]
            #derives
            #vis struct #grad_struct #impl_generics #where_clause {
                #(#fields,)*
            }

            #params_impl

            impl #impl_generics #grad_struct #ty_generics #where_clause {
                #[doc = #zeros_doc]
                #[allow(unused_variables, clippy::ptr_arg)]
                #vis fn zeros_like(#(#array_params),*) -> Self {
                    #grad_struct { #(#zeros,)* }
                }
            }
        };
        if !sweep_accumulates {
            // Scalars only: the sweep lives in `_grad`, whose result is a few registers; the
            // accumulating form adds it in.
            let adds: Vec<TokenStream> = wrt
                .iter()
                .map(|(p, _)| {
                    let name = &p.name;
                    quote!(#grad_out.#name += #grad.#name;)
                })
                .collect();
            *self.problems.borrow_mut() = self.scope.borrow_mut().finish();
            // The function holding the sweep comes last: the doc comment lists the last one's code.
            return quote! {
                #header

                #[doc = #acc_doc]
                #[inline]
                #allows
                #vis fn #acc_fn #impl_generics (#(#params,)* #grad_out: &mut #grad_struct #ty_generics) -> #ret #where_clause {
                    let (#value, #grad) = #sibling #grad_fn #turbofish(#(#args),*);
                    #(#adds)*
                    #value
                }

                #[doc = #doc]
                #allows
                #vis fn #grad_fn #impl_generics (#(#params),*) -> (#ret, #grad_struct #ty_generics) #where_clause {
                    // The original function is the user's API too; it counts as used when its gradient is.
                    let _ = #sibling #fn_name #turbofish;
                    #(#items)*
                    #checks
                    #(#tapes)*
                    #(#adjoint_arrays)*
                    #forward
                    #backward
                    (#output, #grad_struct { #(#values,)* })
                }
            };
        }
        // Arrays: the sweep lives in `_grad_acc`; `_grad` starts from zeros and calls it.
        let mut adds = Vec::new();
        for (p, g) in &wrt {
            let name = &p.name;
            match p.array {
                Some(a) => {
                    if let Some(adjoint) = d.array_adjoints.get(&a).filter(|adj| self.live_arrays[adj.index()]) {
                        if into_caller(*adjoint).is_none() {
                            let local = self.array_name(*adjoint);
                            let add = self.runtime("checks", "add_into");
                            adds.push(quote!(#add(&mut #grad_out.#name, &#local);));
                        }
                    }
                }
                None => {
                    if let Some(g) = g {
                        let v = self.expr(*g, true).0;
                        adds.push(quote!(#grad_out.#name += #v;));
                    }
                }
            }
        }
        *self.problems.borrow_mut() = self.scope.borrow_mut().finish();
        quote! {
            #header

            #[doc = #doc]
            #allows
            #vis fn #grad_fn #impl_generics (#(#params),*) -> (#ret, #grad_struct #ty_generics) #where_clause {
                let mut #grad_out = #grad_struct #turbofish::zeros_like(#(#array_args),*);
                let #value = #sibling #acc_fn #turbofish(#(#args,)* &mut #grad_out);
                (#value, #grad_out)
            }

            #[doc = #acc_doc]
            #[inline]
            #allows
            #vis fn #acc_fn #impl_generics (#(#params,)* #grad_out: &mut #grad_struct #ty_generics) -> #ret #where_clause {
                // The original function is the user's API too; it counts as used when its gradient is.
                let _ = #sibling #fn_name #turbofish;
                #(#items)*
                #checks
                #length_checks
                #(#tapes)*
                #(#adjoint_arrays)*
                #forward
                #backward
                #(#adds)*
                #output
            }
        }
    }

    /// Whether the sweep runs in the accumulating form `<name>_grad_acc`: when a differentiated
    /// argument is an array whose adjoint the sweep fills.
    fn sweep_accumulates(&self, d: &Derivation) -> bool {
        self.f.params.iter().filter(|p| p.wrt).any(|p| {
            p.strukt.is_some()
                || p.array.and_then(|a| d.array_adjoints.get(&a)).is_some_and(|adj| self.live_arrays[adj.index()])
        })
    }

    /// The index of a parameter in `Function::params`.
    fn param_index(&self, p: &crate::ir::Param) -> usize {
        self.f.params.iter().position(|q| q.value == p.value).unwrap_or(0)
    }

    /// `impl Params for <Name>Grad`, so optimizers can step a gradient-shaped parameter struct.
    fn params_impl(&self, func: &syn::ItemFn, grad_struct: &Ident, wrt: &[&crate::ir::Param]) -> TokenStream {
        let (impl_generics, ty_generics, where_clause) = func.sig.generics.split_for_impl();
        let tys: Vec<Option<FloatTy>> =
            wrt.iter().map(|p| if p.strukt.is_some() { Some(self.f.float) } else { p.ty.float() }).collect();
        let Some(Some(scalar)) = tys.first().copied() else {
            return TokenStream::new();
        };
        if tys.iter().any(|t| *t != Some(scalar)) {
            return TokenStream::new();
        }
        let scalar = Ident::new(scalar.name(), Span::call_site());
        let krate = &self.krate;
        let names: Vec<Ident> = wrt.iter().map(|p| self.gradient_field(self.param_index(p))).collect();
        let labels: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        quote! {
            impl #impl_generics #krate::__private::Params for #grad_struct #ty_generics #where_clause {
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
                    #krate::__private::describe_fields(
                        &[#((#labels, &self.#names as &dyn #krate::__private::Params<Scalar = #scalar>)),*],
                        index,
                        prefix,
                    )
                }
            }
        }
    }

    /// A compile-time check per activation call that the name resolves to the runtime's function,
    /// so a user's own `sigmoid` never silently gets the runtime's derivative.
    pub(super) fn activation_checks(&self) -> TokenStream {
        let mut seen = Vec::new();
        let mut out = TokenStream::new();
        for (i, node) in self.f.nodes.iter().enumerate() {
            let Op::Call(Func::Activation(act, path), args) = &node.op else {
                continue;
            };
            if !self.live[i] {
                continue;
            }
            let ty = node.ty.float().or_else(|| self.f.ty(args[0]).float()).unwrap_or(self.f.float);
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
        // The runtime's function fixes the type; a different function at the user's path is then a
        // type error on the user's own tokens.
        quote_spanned!(span=> #check(#runtime_fn::<#ty>, #user_path);)
    }
}
