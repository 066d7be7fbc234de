//! Passive calls in the user's own body, re-printed over a dual type (`forward.rs`'s tangent
//! sweeps): `let j: usize = nearest(p, c, i);` must still call `nearest` with plain floats when
//! `c` holds duals. The emitted sweeps print such calls from the IR (`emit/calls.rs`); the user's
//! body is re-printed from its source, so its passive calls' arguments are wrapped here, by what
//! the lowering found each argument to be: a float becomes `real_value(x)`, an array of floats
//! `&*real_view(c)` (borrowed over `f64`, the values copied over a dual type), anything else
//! stays as written.

use crate::ir::{ArrayOrigin, CallArg, CallSite, Function};
use quote::quote;
use syn::visit_mut::VisitMut;

/// `func` with every passive call's arguments as the real numbers a plain function takes.
pub fn real_arguments(func: &syn::ItemFn, f: &Function) -> syn::ItemFn {
    let mut func = func.clone();
    let mut wrap = Wrap { f, passive: f.calls.iter().filter(|c| c.passive).collect(), next: 0 };
    if !wrap.passive.is_empty() {
        wrap.visit_block_mut(&mut func.block);
    }
    func
}

struct Wrap<'a> {
    f: &'a Function,
    /// The passive calls, in the order the lowering met them (source order).
    passive: Vec<&'a CallSite>,
    next: usize,
}

impl VisitMut for Wrap<'_> {
    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        // The lowering's passive call: a `let` typed as an integer or a `bool`, set by a call.
        let typed = matches!(&local.pat, syn::Pat::Type(t) if is_integer_or_bool(&t.ty));
        if let (true, Some(init)) = (typed, local.init.as_mut()) {
            // A method's receiver is its first argument. The callee as written must be the next
            // passive call's (`let n: usize = xs.len();` is not a call the lowering made).
            let (args, callee, skip) = match &mut *init.expr {
                syn::Expr::Call(call) => {
                    let func = &call.func;
                    (Some(&mut call.args), quote!(#func).to_string(), 0)
                }
                syn::Expr::MethodCall(call) => {
                    let (method, turbofish) = (&call.method, &call.turbofish);
                    (Some(&mut call.args), quote!(#method #turbofish).to_string(), 1)
                }
                _ => (None, String::new(), 0),
            };
            let site = self.passive.get(self.next).filter(|site| site.callee.to_string() == callee);
            if let (Some(args), Some(site)) = (args, site) {
                self.next += 1;
                for (arg, kind) in args.iter_mut().zip(site.args.iter().skip(skip)) {
                    *arg = self.real(arg, kind);
                }
                return;
            }
        }
        syn::visit_mut::visit_local_mut(self, local);
    }
}

impl Wrap<'_> {
    fn real(&self, arg: &syn::Expr, kind: &CallArg) -> syn::Expr {
        let private = quote!(::backprop::__private);
        match kind {
            CallArg::Value(v) if self.f.ty(*v).float().is_some() => syn::parse_quote!(#private::real_value(#arg)),
            CallArg::Place { array, by_ref, .. } if self.f.array(*array).elem.float().is_some() => {
                let inner = match arg {
                    syn::Expr::Reference(r) => &*r.expr,
                    other => other,
                };
                let view = quote!({ use #private::RealView as _; (#inner).real_view() });
                let owned = matches!(self.f.array(*array).origin, ArrayOrigin::Param { by_ref: false, .. });
                if !by_ref && owned {
                    syn::parse_quote!(*#view)
                } else {
                    syn::parse_quote!(&*#view)
                }
            }
            _ => arg.clone(),
        }
    }
}

fn is_integer_or_bool(ty: &syn::Type) -> bool {
    let syn::Type::Path(p) = ty else { return false };
    p.path.get_ident().is_some_and(|i| {
        matches!(
            i.to_string().as_str(),
            "usize" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128" | "i8" | "i16" | "i32" | "i64" | "i128" | "bool"
        )
    })
}
