//! Calls composed with calls and arrays: a call as the argument of a call
//! (`layer(&p.l2, &layer(&p.l1, x))`), and a call's array assigned to a local array
//! (`h = cell(&p.cell, &h, &xs[t]);`, the recurrent cell in a loop). Both reduce to what
//! `calls.rs` lowers: the inner call's array bound to a hidden name, and the assignment as that
//! binding followed by an element-wise copy loop (whose reverse passes `d_h` to the result's
//! adjoint with nothing taped). Arrays passed to a call that change afterwards are snapshot per
//! call site (`call_tapes.rs`).

use super::{syntax, Binding, Lower};
use crate::ir::CallArg;
use syn::Expr;

impl Lower<'_> {
    /// A fresh hidden name for a call's array.
    pub(super) fn call_result_name(&self, what: &str, span: proc_macro2::Span) -> syn::Ident {
        let k = self.f.calls.len();
        syn::Ident::new(&format!("{}{what}_{k}", crate::plan::HIDDEN), span)
    }

    /// `&g(..)` as an argument: the array `g` returns, lowered first and passed as a place.
    pub(super) fn nested_call_arg(&mut self, e: &Expr) -> Option<CallArg> {
        let call = self.user_call(e)?;
        let name = self.call_result_name("arg", call.span);
        self.invoke_array(&name, call);
        let (si, vi) = self.lookup(&name.to_string())?;
        match self.scopes[si][vi].1 {
            Binding::Array(array) => Some(CallArg::Place { array, indices: Vec::new(), by_ref: true }),
            _ => None,
        }
    }

    /// `h = f(..);` where `h` is a local array: whether this statement is that shape, lowered.
    pub(super) fn assign_array_call(&mut self, a: &syn::ExprAssign) -> bool {
        let Expr::Path(p) = &*a.left else { return false };
        let Some(ident) = p.path.get_ident() else { return false };
        let Some((si, vi)) = self.lookup(&ident.to_string()) else { return false };
        let Binding::Array(array) = self.scopes[si][vi].1 else { return false };
        let Some(call) = self.user_call(&a.right) else { return false };
        if !self.f.array(array).mutable {
            let message = self.read_only_message(array);
            self.cx.error_spanned_by(&a.left, message);
            return true;
        }
        if self.f.array(array).dims.len() != 1 {
            self.cx.error_spanned_by(
                a,
                format!("assigning a call's result to `{ident}` is supported for one-dimensional arrays; bind it (`let r = f(..);`) and copy the rows"),
            );
            return true;
        }
        let name = self.call_result_name("next", call.span);
        self.invoke_array(&name, call);
        if self.lookup(&name.to_string()).is_none() {
            return true;
        }
        let j = syntax::ident(&format!("{}j", crate::plan::HIDDEN));
        let copy: syn::ExprForLoop = syn::parse_quote! {
            for #j in 0..#ident.len() { #ident[#j] = #name[#j]; }
        };
        self.for_loop(&copy);
        true
    }
}
