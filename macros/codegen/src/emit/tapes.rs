//! Printing the tapes of values the forward sweep pushes for the backward sweep (`Plan::tapes`):
//! their declarations (a stack array with its fill count, a buffer sized once per call from the
//! trip count, or a `Vec` for a `while` loop's) and the pushes.

use super::expr::Prec;
use super::Emitter;
use crate::ir::{BlockId, Op, Ty};
use crate::plan::Tape;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

impl<'a> Emitter<'a> {
    /// Tapes (the forward sweep pushes) are declared first: a stack array with its fill count, a
    /// buffer sized once per call, or a `Vec` for a `while` loop's.
    pub(super) fn tape_declarations(&self) -> Vec<TokenStream> {
        let mut out = self.value_tape_declarations();
        out.extend(self.call_tape_declarations());
        out
    }

    fn value_tape_declarations(&self) -> Vec<TokenStream> {
        let f = self.f;
        self.tapes
            .iter()
            .map(|t| {
                let name = &t.name;
                match (&t.stack, f.ty(t.value)) {
                    (Some((k, len)), Ty::Float(ft)) => {
                        let ty = Ident::new(ft.name(), Span::call_site());
                        let zero = self.lit_tokens(0.0, ft, false).0;
                        quote!(let mut #name: [#ty; #k] = [#zero; #k]; let mut #len = 0usize;)
                    }
                    // An integer (an index chosen by an `if`) or a bool: the macro does not know
                    // which integer type, so the element type is inferred from what is pushed.
                    (Some((k, len)), _) => {
                        let zero = self.placeholder(t.value);
                        quote!(let mut #name = [#zero; #k]; let mut #len = 0usize;)
                    }
                    // Sized once per call when the trip count is known on entry.
                    (None, ty) if self.fill_count(t).is_some() => {
                        let count = self.trip_count(t.body);
                        let len = self.fill_count(t);
                        let zero = match ty {
                            Ty::Float(ft) => self.lit_tokens(0.0, ft, true).0,
                            _ => self.placeholder(t.value),
                        };
                        quote!(let mut #name = ::std::vec![#zero; #count]; let mut #len = 0usize;)
                    }
                    (None, Ty::Float(ft)) => {
                        let ty = Ident::new(ft.name(), Span::call_site());
                        quote!(let mut #name: ::std::vec::Vec<#ty> = ::std::vec::Vec::new();)
                    }
                    (None, _) => quote!(let mut #name = ::std::vec::Vec::new();),
                }
            })
            .collect()
    }

    pub(super) fn push(&self, t: &Tape) -> TokenStream {
        self.use_value(t.value);
        let (name, tape) = (self.name(t.value), &t.name);
        match self.fill_count(t) {
            Some(len) => quote!(#tape[#len] = #name; #len += 1;),
            None => quote!(#tape.push(#name);),
        }
    }

    /// The fill count of a tape indexed like a stack (a stack array, or a buffer sized once per
    /// call); `None`: a `Vec` pushed and popped (a `while`). The plan decides which (`Tape::len`).
    pub(super) fn fill_count<'t>(&self, t: &'t Tape) -> Option<&'t Ident> {
        t.len.as_ref()
    }

    /// How many times a loop body runs, as an expression valid on entry, when the plan found every
    /// enclosing loop's bounds fixed on entry (`Plan::trip_loops`).
    pub(super) fn trip_count(&self, body: BlockId) -> Option<TokenStream> {
        let factors: Vec<TokenStream> = self
            .trip_loops(body)?
            .into_iter()
            .map(|l| {
                let node = self.f.loop_node(l);
                let hi = self.operand(node.hi, Prec::Atom, false);
                let extra = if node.inclusive { quote!(+ 1) } else { TokenStream::new() };
                if matches!(self.f.node(node.lo).op, Op::IntLit(0)) {
                    quote!((#hi as usize #extra))
                } else {
                    let lo = self.operand(node.lo, Prec::Atom, false);
                    quote!(((#hi as usize).saturating_sub(#lo as usize) #extra))
                }
            })
            .collect();
        let first = factors.first()?.clone();
        Some(factors[1..].iter().fold(first, |acc, f| quote!(#acc * #f)))
    }
}
