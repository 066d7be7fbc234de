//! Printing arrays: the place an array is read and written through (a local, a constant, a field
//! of a parameter struct, an adjoint in the caller's gradient or in a pullback's sink), the
//! gradient struct's field per argument, zero-filled initialisers and owned types, and which
//! adjoints are places rather than locals the sweep declares.

use super::expr::Prec;
use super::Emitter;
use crate::ir::{ArrayId, ArrayOrigin, Dim};
use crate::scope::Bound;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};

impl<'a> Emitter<'a> {
    pub(super) fn array_name(&self, a: ArrayId) -> TokenStream {
        if self.f.output_is_result && self.f.output_array == Some(a) {
            let result = &self.result_name;
            return quote!((*#result));
        }
        match &self.f.array(a).origin {
            ArrayOrigin::Const(path) => self.f.paths[*path as usize].1.clone(),
            ArrayOrigin::Result => self.result_name.to_token_stream(),
            ArrayOrigin::Field { param, path } => {
                let name = &self.f.params[*param as usize].name;
                quote!(#name #path)
            }
            ArrayOrigin::Adjoint(of) if matches!(self.f.array(*of).origin, ArrayOrigin::Field { .. }) => {
                let ArrayOrigin::Field { param, path } = &self.f.array(*of).origin else { unreachable!() };
                let place = self.gradient_place(*param as usize);
                quote!(#place #path)
            }
            _ => {
                if let (Some(name), None) = (&self.array_names[a.index()], self.doc_depth.get()) {
                    self.scope.borrow_mut().use_name(&name.to_string(), Bound::Array(a));
                }
                self.array_names[a.index()].to_token_stream()
            }
        }
    }

    /// Where the gradient of argument `param` accumulates: its field of the caller's gradient.
    fn gradient_place(&self, param: usize) -> TokenStream {
        if let Some(sink) = self.sinks.borrow().names.get(&param) {
            return sink.to_token_stream();
        }
        let grad = &self.grad_name;
        let name = self.gradient_field(param);
        quote!(#grad.#name)
    }

    /// The gradient struct's field for argument `param`: its name (`self_` for a receiver).
    pub(crate) fn gradient_field(&self, param: usize) -> Ident {
        let name = &self.f.params[param].name;
        if name == "self" {
            Ident::new("self_", name.span())
        } else {
            name.clone()
        }
    }

    /// `[[0.0_f64; N]; M]`, or `vec![..; x.len()]` for a slice's outermost dimension.
    pub(super) fn filled(&self, a: ArrayId, fill: TokenStream) -> TokenStream {
        let array = self.f.array(a);
        let mut out = fill;
        for dim in array.dims.iter().rev() {
            out = match dim {
                Dim::Const(n) => quote!([#out; #n]),
                Dim::Dynamic => {
                    // Only the outermost dimension of an argument is dynamic; its length is the
                    // argument's (or, for an adjoint, its primal's).
                    let source = match array.origin {
                        ArrayOrigin::Adjoint(of) => of,
                        _ => a,
                    };
                    let base = self.array_name(source);
                    quote!(::std::vec![#out; #base.len()])
                }
                Dim::Value(n) => {
                    let n = self.operand(*n, Prec::Or, false);
                    quote!(::std::vec![#out; #n])
                }
            };
        }
        out
    }

    /// The owned type of an array: `[f64; N]` stays, `[f64]` and `Vec<f64>` become `Vec<f64>`.
    pub(super) fn owned_type(&self, a: ArrayId) -> TokenStream {
        let array = self.f.array(a);
        let elem = Ident::new(array.elem.float().unwrap_or(self.f.float).name(), Span::call_site());
        let mut out = quote!(#elem);
        for dim in array.dims.iter().rev() {
            out = match dim {
                Dim::Const(n) => quote!([#out; #n]),
                Dim::Dynamic | Dim::Value(_) => quote!(::std::vec::Vec<#out>),
            };
        }
        out
    }

    /// The adjoint of a parameter struct's field: a place in the caller's gradient, not declared.
    pub(super) fn is_field_adjoint(&self, a: ArrayId) -> bool {
        matches!(self.f.array(a).origin, ArrayOrigin::Adjoint(of) if matches!(self.f.array(of).origin, ArrayOrigin::Field { .. }))
    }

    /// In a pullback, the adjoint of a whole parameter struct: the sink itself, a `&mut`.
    pub(super) fn is_sink_itself(&self, a: ArrayId) -> bool {
        let ArrayOrigin::Adjoint(of) = self.f.array(a).origin else { return false };
        matches!(&self.f.array(of).origin, ArrayOrigin::Field { param, path }
            if path.is_empty() && self.sinks.borrow().names.contains_key(&(*param as usize)))
    }

    /// The adjoint of an array a call returns: declared where the call is. Also the adjoint of a
    /// local copy of one (`let mut h = f(..);`, not returned): declared with the copy, shaped
    /// like it.
    pub(super) fn is_returned_adjoint(&self, a: ArrayId) -> bool {
        let ArrayOrigin::Adjoint(of) = self.f.array(a).origin else { return false };
        matches!(self.f.array(of).origin, ArrayOrigin::Returned(_))
            || (self.copy_source(of).is_some() && self.f.output_array != Some(of))
    }

    /// `let mut h = ZerosLike::zeros_like(&result);` for a local copy of a call's array (its
    /// length is the result's, not written in the source), and its adjoint with it, shaped like it.
    pub(super) fn declare_copy(&self, a: ArrayId, source: ArrayId, name: Ident) -> Option<super::Statement> {
        let zeros_like = self.runtime_item("ZerosLike");
        let source_id = source;
        let source = self.array_name(source);
        self.bind_array(a);
        let mut tokens = quote!(let mut #name = #zeros_like::zeros_like(&#source););
        let mut binds = vec![(name.clone(), true)];
        // In a loop or a branch the adjoint is declared where the result's stack is popped
        // (`call_tape_pops`), in the backward block that reads it.
        let popped =
            matches!(self.f.array(source_id).origin, ArrayOrigin::Returned(call) if self.result_adjoint_at_pop(call));
        if let Some(adjoint) = self
            .array_adjoints
            .get(&a)
            .filter(|d| !popped && self.live_arrays[d.index()] && self.is_returned_adjoint(**d))
        {
            let d_name = self.array_names[adjoint.index()].clone()?;
            self.bind_array(*adjoint);
            tokens.extend(quote!(let mut #d_name = #zeros_like::zeros_like(&#name);));
            binds.push((d_name, true));
        }
        Some(super::Statement::new(tokens, binds))
    }

    /// For a local copy of a call's array (`Function::copies`), the array the call returned.
    pub(super) fn copy_source(&self, a: ArrayId) -> Option<ArrayId> {
        self.f.copies.iter().find(|(local, _)| *local == a).map(|(_, source)| *source)
    }
}
