//! Forward mode (`#[backprop(forward)]`): tangent sweeps of the user's own function.
//!
//! ```text
//! cost (the user's body, after grad_of_grad's rewrite)
//!   │ retype.rs over Dual64 (calls renamed to their `_dual` copies)
//!   ▼
//! cost_dual          ──► cost_jvp (one sweep, seeded x + ε·v), cost_grad_fwd (one sweep per scalar)
//!   │ retype.rs over DualDual64 (only for a function without calls)
//!   ▼
//! cost_dual2         ──► cost_hvp_fwd (forward over forward: one sweep per scalar, outer ε along v,
//!                        inner δ along e_j; `eps.eps` = (H·v)_j)
//!                    ──► cost_grad_fwd_<p>, its pullback (one cost_hvp_fwd) and vjp: the forward-mode
//!                        gradient as a differentiable call (`grad_of_grad.rs`'s template), and
//!                        cost_grad_fwd_<p>_dual (over Dual64 arguments: a caller's own tangent sweep)
//! ```
//!
//! The tangent is carried by the dual type's arithmetic through the user's statements as written
//! (loops, `while`, branches decided on real parts, early returns), so the sweep costs one
//! evaluation over `Dual64` (about 2–3 `f64` operations each) and keeps no tape. A call inside goes
//! through the callee's `_dual` copy: `#[backprop(forward)]` or `#[backprop(hessian)]` on the callee
//! (a gradient call `e_grad_x(..)` of a `hessian` function runs `e`'s reverse gradient over
//! `Dual64`: forward over reverse; `e_grad_fwd_x(..)` of a `forward` function runs `e` over
//! `DualDual64`: forward over forward).
//!
//! Supported: free functions over `f64` returning a float, whose arguments are floats, integers,
//! and arrays, slices and `Vec`s of them (no parameter structs: a hand-written `Params` has no dual
//! twin), without type parameters. Anything else is a spanned error naming what to write.

use super::retype::{self, Renames};
use crate::ir;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use std::collections::HashMap;

/// One argument of the function, as the forward functions pass it.
struct Arg {
    name: Ident,
    /// Differentiated (seeded), or a float constant of the sweep, or passed as it is (integers).
    kind: Kind,
    /// Taken by reference (`&[f64; 3]`, `&[f64]`, `&Vec<f64>`).
    reference: bool,
    /// The gradient field's initial value (zeros of the argument's shape), for a seeded argument.
    zeros: TokenStream,
    /// A slice or a `Vec`: its lift over duals is a `Vec`.
    lift_allocates: bool,
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Seeded,
    Constant,
    Plain,
}

impl Arg {
    /// The argument as a reference expression (`x` for `x: &[f64]`, `&w` for `w: f64`).
    fn by_ref(&self) -> TokenStream {
        let n = &self.name;
        if self.reference {
            quote!(#n)
        } else {
            quote!(&#n)
        }
    }
    /// A local `l` passed as this argument (`&l` for a reference argument).
    fn pass(&self, local: &Ident) -> TokenStream {
        if self.reference {
            quote!(&#local)
        } else {
            quote!(#local)
        }
    }
}

/// `func`'s forward-mode items, or a spanned error saying why it has none.
pub fn items(
    func: &syn::ItemFn,
    f: &ir::Function,
    expansion: &TokenStream,
    pullback: &TokenStream,
    vjp: &TokenStream,
    hessian: bool,
    wrt_given: bool,
) -> Result<TokenStream, TokenStream> {
    let fail = |tokens: &dyn ToTokens, message: &str| Err(syn::Error::new_spanned(tokens, message).to_compile_error());
    if f.float != ir::FloatTy::F64 {
        return fail(
            &func.sig.ident,
            "`forward` needs a function over `f64` (its tangents are `Dual64`, a dual number over `f64`)",
        );
    }
    if func.sig.generics.params.iter().any(|g| !matches!(g, syn::GenericParam::Lifetime(_))) {
        return fail(&func.sig.generics, "`forward` is not supported on functions with type or const parameters yet; write the function over `f64` with fixed sizes");
    }
    let name = func.sig.ident.to_string().trim_start_matches("r#").to_string();
    let grad_struct_name = format!("{}Grad", crate::names::camel_case(&name));
    let file: syn::File = syn::parse2(expansion.clone()).map_err(|e| e.to_compile_error())?;
    let Some(grad_struct) = file.items.iter().find_map(|i| match i {
        syn::Item::Struct(s) if s.ident == grad_struct_name => Some(s.clone()),
        _ => None,
    }) else {
        return fail(&func.sig.ident, "internal error: `forward` found no gradient struct");
    };
    let field_types: HashMap<String, syn::Type> =
        grad_struct.fields.iter().filter_map(|fd| Some((fd.ident.as_ref()?.to_string(), fd.ty.clone()))).collect();

    let zeros_like = quote!(::backprop::__private::ZerosLike);
    let mut args = Vec::new();
    for (p, input) in f.params.iter().zip(func.sig.inputs.iter()) {
        let syn::FnArg::Typed(input) = input else {
            return fail(input, "`forward` is not supported on methods yet; use a free function");
        };
        let (reference, inner) = match &*input.ty {
            syn::Type::Reference(r) if r.mutability.is_none() => (true, &*r.elem),
            syn::Type::Reference(r) => {
                return fail(r, "`forward` takes no `&mut` arguments: a tangent sweep cannot write into the caller's values; return the result instead")
            }
            t => (false, t),
        };
        if p.strukt.is_some() {
            return fail(&input.ty, "`forward` takes floats, integers and arrays, slices or `Vec`s of them; pass a struct's fields as separate arguments (a struct's `Params` may be written by hand, without a dual twin)");
        }
        let floaty = super::contains_float(&inner.to_token_stream());
        let kind = match (floaty, p.wrt) {
            (false, _) => Kind::Plain,
            (true, true) => Kind::Seeded,
            (true, false) => Kind::Constant,
        };
        let arg_name = &p.name;
        let unsized_seq = matches!(field_types.get(&p.name.to_string()),
            Some(syn::Type::Path(tp)) if tp.path.segments.last().is_some_and(|s| s.ident == "Vec"));
        let zeros = match () {
            _ if unsized_seq => quote!(#arg_name.iter().map(#zeros_like::zeros_like).collect()),
            _ if reference => quote!(#zeros_like::zeros_like(#arg_name)),
            _ => quote!(#zeros_like::zeros_like(&#arg_name)),
        };
        args.push(Arg { name: p.name.clone(), kind, reference, zeros, lift_allocates: unsized_seq });
    }

    let vis = &func.vis;
    // Without a trailing comma (a user's multi-line signature has one), so `v` can follow.
    let inputs: Vec<&syn::FnArg> = func.sig.inputs.iter().collect();
    let fname = format_ident!("{name}");
    let grad_ty = Ident::new(&grad_struct_name, Span::call_site());
    let (dual_fn, dual2_fn) = (retype::dual_name(&name), format_ident!("{name}_dual2"));
    let (jvp, grad_fwd, hvp_fwd) =
        (format_ident!("{name}_jvp"), format_ident!("{name}_grad_fwd"), format_ident!("{name}_hvp_fwd"));
    let twin = quote!(::backprop::__private::DualTwin);
    let seed = quote!(::backprop::__private::Seed);
    let dual2 = quote!(::backprop::__private::dual2);
    // Up to `GATHER_FROM` entries each sweep's is written into the gradient's shape as it comes
    // (`set_flat`, a walk of the shape up to it: nothing for the 2-3 entries of the gradients
    // GradBench's `particle` and `saddle` take in their inner loops); beyond, gathered in a `Vec`
    // and written once after the sweeps (`set_flat_all`), as `set_flat` per entry is `O(n²)`.
    let default = quote!(::core::default::Default::default());
    let (gs_buffer, hs_buffer, len_buffer) = (
        entries_buffer(&format_ident!("__gs"), quote!(__n), default.clone()),
        entries_buffer(&format_ident!("__hs"), quote!(__n), quote!(0.0_f64)),
        entries_buffer(&format_ident!("__gs"), quote!(__len), default),
    );
    let store = |buffer: &str, grad: &str, n: TokenStream, j: TokenStream, value: TokenStream| {
        let (buffer, grad) = (format_ident!("{buffer}"), format_ident!("{grad}"));
        quote! {
            if #n <= #GATHER_FROM {
                ::backprop::__private::dual::set_flat(&mut #grad, #j, #value);
            } else {
                #buffer[#j] = #value;
            }
        }
    };
    let write_all = |buffer: &str, grad: &str, n: TokenStream| {
        let (buffer, grad) = (format_ident!("{buffer}"), format_ident!("{grad}"));
        quote!(if #n > #GATHER_FROM { ::backprop::__private::dual::set_flat_all(&mut #grad, &#buffer); })
    };
    let allows = quote!(#[allow(clippy::all, clippy::pedantic, unused, non_snake_case, clippy::ptr_arg)]);
    let plain_args: Vec<&Ident> = args.iter().map(|a| &a.name).collect();
    let seeded: Vec<&Arg> = args.iter().filter(|a| a.kind == Kind::Seeded).collect();
    let count = {
        let terms = seeded.iter().map(|a| {
            let r = a.by_ref();
            quote!(#seed::count(#r))
        });
        quote!(0usize #(+ #terms)*)
    };
    let grad_fields = seeded.iter().map(|a| {
        let (n, z) = (&a.name, &a.zeros);
        quote!(#n: #z)
    });
    let new_grad = quote!(#grad_ty { #(#grad_fields,)* });

    let mut out = TokenStream::new();
    let func = &super::passive_args::real_arguments(func, f);
    // The tangent sweeps: the user's body over Dual64 (`hessian` already emits `<name>_dual`,
    // through its vjp), and over DualDual64 where nothing is called.
    let mut renames = Renames::new();
    renames.insert(name.clone(), dual_fn.clone());
    for call in f.calls.iter().filter(|c| !c.passive) {
        if let Some(last) = super::last_ident(&call.callee) {
            renames.insert(last.to_string(), super::tangent_alias::alias_name(&last.to_string()));
        }
    }
    if !hessian {
        let dual = retype::retype_fn(func, &renames).map_err(|e| e.to_compile_error())?;
        out.extend(super::tangent_alias::alias(vis, &dual.sig, &name));
        out.extend(dual.into_token_stream());
    }
    let nested = f.calls.iter().all(|c| c.passive);
    if nested {
        let mut renames = Renames::new();
        renames.insert(name.clone(), dual2_fn.clone());
        let _scope = retype::LevelScope::nested();
        out.extend(retype::retype_fn(func, &renames).map_err(|e| e.to_compile_error())?.into_token_stream());
    }

    // `_jvp`: one sweep, the seeded arguments along `v`.
    let v = if args.iter().any(|a| a.name == "v") { format_ident!("__v") } else { format_ident!("v") };
    let mut jvp_prelude = TokenStream::new();
    let mut jvp_args = Vec::new();
    for a in &args {
        let (n, local) = (&a.name, format_ident!("__dual_{}", a.name));
        let r = a.by_ref();
        match a.kind {
            Kind::Plain => {
                jvp_args.push(quote!(#n));
                continue;
            }
            Kind::Seeded => jvp_prelude.extend(quote!(let #local = #twin::dualize(#r, &#v.#n);)),
            Kind::Constant => jvp_prelude.extend(quote!(let #local = #twin::constant(#r);)),
        }
        jvp_args.push(a.pass(&local));
    }
    let jvp_doc = format!(
        " The value of [`{name}`] and its directional derivative `∇C·v` along `v` (a direction of the \
         gradient's shape), by forward mode, generated by `#[backprop(forward)]`: one tangent sweep, the \
         function's own statements run over the dual number `Dual64` with every differentiated argument \
         seeded `x + ε·v.x`. Cost: one evaluation over `Dual64`, no tape."
    );
    out.extend(quote! {
        #[doc = #jvp_doc]
        #allows
        #vis fn #jvp(#(#inputs,)* #v: &#grad_ty) -> (f64, f64) {
            #jvp_prelude
            let __r = #dual_fn(#(#jvp_args),*);
            (__r.re, __r.eps)
        }
    });

    // The arguments of the sweeps `j`: what stays the same for every sweep is lifted once before
    // them (`before`: a constant's lift, a seeded argument's base when it is not the argument itself);
    // each sweep seeds scalar `j` of the seeded ones (`each`) and unseeds it after the call (`after`).
    // A seeded slice or `Vec` is lifted once too, and only its entry `j` set and reset around the
    // call (`Seed::reseed`): a fresh lift per sweep (a `Vec`) would allocate and write all `n`
    // entries `n` times. Floats and fixed-size arrays are lifted afresh per sweep (on the stack):
    // reseeding them through references made GradBench's `saddle` `ff`/`rf`, whose inner loops
    // take 2-entry gradients, 1.5x slower. `base` gives a seeded argument's base (None: the
    // argument), `constant` a constant's lift.
    let sweep_args = |base: &dyn Fn(&Arg) -> Option<TokenStream>, constant: &dyn Fn(&Arg) -> TokenStream| {
        let (mut before, mut each, mut after, mut call) =
            (TokenStream::new(), TokenStream::new(), quote!(let mut __at = 0usize;), Vec::new());
        for a in &args {
            let (n, local) = (&a.name, format_ident!("__up_{}", a.name));
            match a.kind {
                Kind::Plain => {
                    call.push(quote!(#n));
                    continue;
                }
                Kind::Constant => {
                    let value = constant(a);
                    before.extend(quote!(let #local = #value;));
                }
                Kind::Seeded => {
                    let from = match base(a) {
                        Some(value) => {
                            let held = format_ident!("__base_{}", a.name);
                            before.extend(quote!(let #held = #value;));
                            quote!(&#held)
                        }
                        None => a.by_ref(),
                    };
                    if a.lift_allocates {
                        before.extend(quote!(let mut #local = #dual2::constant_up(#from);));
                        each.extend(quote!(#seed::reseed(#from, &mut #local, &mut __at, __j, 1.0);));
                        after.extend(quote!(#seed::reseed(#from, &mut #local, &mut __at, __j, 0.0);));
                    } else {
                        each.extend(quote!(let #local = #seed::seed(#from, &mut __at, __j);));
                        after.extend(quote!(__at += #seed::count(#from);));
                    }
                }
            }
            call.push(a.pass(&local));
        }
        (before, each, after, call)
    };
    let lift_constant = |a: &Arg| {
        let r = a.by_ref();
        quote!(#dual2::constant_up(#r))
    };
    let (store_g, write_g) =
        (store("__gs", "__g", quote!(__n), quote!(__j), quote!(__r.eps)), write_all("__gs", "__g", quote!(__n)));
    let (store_hg, write_hg) =
        (store("__gs", "__g", quote!(__n), quote!(__j), quote!(__r.eps.re)), write_all("__gs", "__g", quote!(__n)));
    let (store_hh, write_hh) =
        (store("__hs", "__h", quote!(__n), quote!(__j), quote!(__r.eps.eps)), write_all("__hs", "__h", quote!(__n)));
    let (store_p, write_p) = (
        store("__gs", "__g", quote!(__len), quote!(__j - __from), quote!(__eps)),
        write_all("__gs", "__g", quote!(__len)),
    );
    // `_grad_fwd`: one sweep per differentiated scalar, seeded along e_j.
    let (fwd_before, fwd_each, fwd_after, fwd_args) = sweep_args(&|_| None, &lift_constant);
    let grad_fwd_doc = format!(
        " The value and the gradient of [`{name}`] by forward mode, generated by `#[backprop(forward)]`: one \
         tangent sweep per differentiated scalar `j` (the function's statements over `Dual64`, scalar `j` \
         seeded `θⱼ + ε`), entry `j` of the gradient read off its tangent. Cost: `n` evaluations over \
         `Dual64`; for many parameters [`{name}_grad`] (reverse mode, one sweep pair) is cheaper."
    );
    out.extend(quote! {
        #[doc = #grad_fwd_doc]
        #allows
        #vis fn #grad_fwd(#(#inputs),*) -> (f64, #grad_ty) {
            let __n: usize = #count;
            let mut __g = #new_grad;
            let mut __value = None;
            #gs_buffer
            #fwd_before
            for __j in 0..__n {
                let mut __at = 0usize;
                #fwd_each
                let __r = #dual_fn(#(#fwd_args),*);
                #fwd_after
                #store_g
                __value = Some(__r.re);
            }
            #write_g
            let __value = match __value { Some(v) => v, None => #fname(#(#plain_args),*) };
            (__value, __g)
        }
    });
    if !nested {
        return Ok(out);
    }

    // `_hvp_fwd`: forward over forward, the outer tangent along `v`, the inner along e_j.
    let (hvp_before, hvp_each, hvp_after, hvp_args) = sweep_args(
        &|a: &Arg| {
            let (n, r) = (&a.name, a.by_ref());
            Some(quote!(#twin::dualize(#r, &#v.#n)))
        },
        &|a: &Arg| {
            let r = a.by_ref();
            quote!(#dual2::constant_up(&#twin::constant(#r)))
        },
    );
    let hvp_doc = format!(
        " The value, the gradient and the Hessian-vector product `H·v` of [`{name}`] by forward over forward \
         mode, generated by `#[backprop(forward)]`: one sweep per differentiated scalar `j` over `DualDual64` \
         (a dual number over `Dual64`), the outer tangent along `v`, the inner along `e_j`; the gradient's \
         entry `j` is the inner tangent, `(H·v)_j` its outer tangent. Cost: `n` evaluations over \
         `DualDual64` (about 4× `Dual64` each)."
    );
    out.extend(quote! {
        #[doc = #hvp_doc]
        #allows
        #vis fn #hvp_fwd(#(#inputs,)* #v: &#grad_ty) -> (f64, #grad_ty, #grad_ty) {
            let __n: usize = #count;
            let (mut __g, mut __h) = (#new_grad, #new_grad);
            let mut __value = None;
            #gs_buffer
            #hs_buffer
            #hvp_before
            for __j in 0..__n {
                let mut __at = 0usize;
                #hvp_each
                let __r = #dual2_fn(#(#hvp_args),*);
                #hvp_after
                #store_hg
                #store_hh
                __value = Some(__r.re.re);
            }
            #write_hg
            #write_hh
            let __value = match __value { Some(v) => v, None => #fname(#(#plain_args),*) };
            (__value, __g, __h)
        }
    });

    // `_grad_fwd_<p>` as a differentiable call, and its copy over Dual64 arguments.
    if wrt_given {
        return Ok(out);
    }
    out.extend(super::grad_of_grad::callee_items_of(
        func,
        f,
        &grad_struct,
        pullback,
        vjp,
        &super::grad_of_grad::Flavor::Forward(new_grad.clone()),
    )?);
    let mut offset = quote!(0usize);
    for a in &seeded {
        let n = &a.name;
        let Some(field_ty) = field_types.get(&n.to_string()) else { continue };
        let r = a.by_ref();
        let zeros = &a.zeros;
        // The field alone (`f64` arguments, `Dual64` sweeps) and over `Dual64` arguments
        // (`DualDual64` sweeps): only this argument's scalars are seeded.
        for (level_fn, suffix, up) in [(&dual_fn, "", false), (&dual2_fn, "_dual", true)] {
            let mut sig = func.sig.clone();
            sig.ident = format_ident!("{name}_grad_fwd_{n}{suffix}");
            let mut out_ty = field_ty.clone();
            if up {
                let retype = &mut retype::RetypeTypes { renames: &Renames::new() };
                syn::visit_mut::VisitMut::visit_signature_mut(retype, &mut sig);
                syn::visit_mut::VisitMut::visit_type_mut(retype, &mut out_ty);
            }
            sig.output = syn::parse_quote!(-> #out_ty);
            let (before, each, after, call) = sweep_args(&|_| None, &lift_constant);
            let (doc, hidden) = if up {
                (String::new(), quote!(#[doc(hidden)]))
            } else {
                let doc = format!(
                    " `∂{name}/∂{n}` alone by forward mode (the field `{n}` of [`{grad_fwd}`], sweeping only \
                     `{n}`'s scalars), a differentiable function: its pullback is a Hessian-vector product \
                     ([`{hvp_fwd}`], forward over forward)."
                );
                (doc, TokenStream::new())
            };
            let doc = if doc.is_empty() { TokenStream::new() } else { quote!(#[doc = #doc]) };
            if up {
                out.extend(super::tangent_alias::alias(vis, &sig, &format!("{name}_grad_fwd_{n}")));
            }
            out.extend(quote! {
                #doc
                #hidden
                #allows
                #vis #sig {
                    let (__from, __len): (usize, usize) = (#offset, #seed::count(#r));
                    let mut __g: #out_ty = #zeros;
                    #len_buffer
                    #before
                    for __j in __from..__from + __len {
                        let mut __at = 0usize;
                        #each
                        let __eps = #level_fn(#(#call),*).eps;
                        #store_p
                        #after
                    }
                    #write_p
                    __g
                }
            });
        }
        offset = quote!(#offset + #seed::count(#r));
    }
    Ok(out)
}

/// Gradients of up to this many entries are written entry by entry (see `items`).
const GATHER_FROM: usize = 8;

/// `let mut name`, the `Vec` of the sweeps' results when there are more than [`GATHER_FROM`]
/// (empty, no allocation, otherwise).
fn entries_buffer(name: &Ident, n: TokenStream, zero: TokenStream) -> TokenStream {
    quote! {
        let mut #name = if #n > #GATHER_FROM { ::std::vec![#zero; #n] } else { ::std::vec::Vec::new() };
    }
}
