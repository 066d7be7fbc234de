//! `<name>_jacobian` for a function returning `[f64; M]` (or `[f32; M]`): the value and the
//! `M × n` Jacobian `j[k][i] = ∂out_k/∂θᵢ`, `i` over the flat view of the differentiated arguments
//! (in order; arrays row-major, structs in `Params` order).
//!
//! The mode is picked by the shape, with `n` differentiated scalars and `M` outputs:
//! * forward when `n < M` (tall: many residuals, few parameters): the function's generated vjp
//!   (`<name>_vjp`, whose forward sweep is the function; its closure is never called) re-printed
//!   over `Dual64x4` (four tangents, runtime `dual_lanes.rs`) by `retype.rs`, nested in
//!   `_jacobian`, run once per four columns with scalars `i..i + 4` seeded `θᵢ + εₖ` (the value and
//!   every `exp`, `sin`, .. computed once for four columns; a `Dual64` sweep per column computed
//!   them `n` times: 4.0× → 2.3× num-dual's one `DualSVec64<4>` sweep on the 100 × 4 bench, the rest
//!   mostly the 100 row `Vec`s the result is made of). The test `n < M` is a constant where every differentiated argument
//!   is a float or a fixed-size float array, else made at run time (slices, `Vec`s, structs);
//! * reverse otherwise: one call of the function, then its generated pullback (`docs/CALLS.md`) once
//!   per output with the unit seed `e_k`, row `k` read off the sinks and the returned float adjoints
//!   (each pullback runs the forward sweep again).
//!
//! Forward mode is emitted only where the re-print is certain to compile ([`forward`]): no calls
//! (callees need not have dual copies), over `f64`, no type parameters, no `&mut` arguments, and
//! argument types made of floats, integers, arrays, slices and `Vec`s. Struct arguments keep reverse
//! mode: the macro cannot see whether a struct's `Params` is derived (and so has a dual twin) or
//! written by hand (no twin), and a tangent path that fails to compile on a hand-written `Params`
//! would break code that compiles today. Anything else is reverse mode alone.

use super::retype;
use crate::ir::{self, Ty};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};

/// The `_jacobian` function of an array-returning `func` (lowered as `f`, with its `wrt` flags).
pub fn jacobian(func: &syn::ItemFn, f: &ir::Function, vjp: &TokenStream) -> Result<TokenStream, TokenStream> {
    let name = func.sig.ident.to_string().trim_start_matches("r#").to_string();
    let syn::ReturnType::Type(_, out_ty) = &func.sig.output else { return Ok(TokenStream::new()) };
    let syn::Type::Array(array) = &**out_ty else {
        // `Vec` results are not differentiable functions yet; nothing to do.
        return Ok(TokenStream::new());
    };
    // Nested results (`[[f64; N]; M]`) have no flat Jacobian here: their rows are not floats.
    if matches!(&*array.elem, syn::Type::Array(_)) {
        return Ok(TokenStream::new());
    }
    let scalar = &array.elem;
    let (fname, pullback, jac) =
        (format_ident!("{name}"), format_ident!("{name}_pullback"), format_ident!("{name}_jacobian"));
    let generics = &func.sig.generics;
    let (_, ty_generics, _) = generics.split_for_impl();
    let turbofish = ty_generics.as_turbofish();
    let inputs = &func.sig.inputs;
    let args: Vec<&syn::Ident> = f.params.iter().map(|p| &p.name).collect();
    let zeros_like = quote!(::backprop::__private::ZerosLike);
    let sink = quote!(::backprop::__private::sink);
    let mut scratch = TokenStream::new();
    let mut sinks = Vec::new();
    let mut row = TokenStream::new();
    for (k, (p, input)) in f.params.iter().zip(func.sig.inputs.iter()).enumerate() {
        let syn::FnArg::Typed(input) = input else { return Ok(TokenStream::new()) };
        let arg = &p.name;
        let reference = matches!(&*input.ty, syn::Type::Reference(_));
        let float_array = p.array.is_some_and(|a| f.array(a).elem.float().is_some());
        if p.strukt.is_some() || float_array {
            if !p.wrt {
                sinks.push(quote!(None));
                continue;
            }
            let buf = format_ident!("__jacobian_{}", arg);
            let unsized_seq = match &*input.ty {
                syn::Type::Reference(r) => match &*r.elem {
                    syn::Type::Slice(_) => true,
                    syn::Type::Path(tp) => tp.path.segments.last().is_some_and(|s| s.ident == "Vec"),
                    _ => false,
                },
                _ => false,
            };
            let init = if unsized_seq {
                quote!(#arg.iter().map(#zeros_like::zeros_like).collect::<::std::vec::Vec<_>>())
            } else if reference {
                quote!(#zeros_like::zeros_like(#arg))
            } else {
                quote!(#zeros_like::zeros_like(&#arg))
            };
            scratch.extend(quote!(let mut #buf = #init;));
            sinks.push(quote!(#sink(&mut #buf)));
            row.extend(quote!(::backprop::__private::dual::extend_flat(&mut __row, &#buf);));
        } else if matches!(p.ty, Ty::Float(_)) && p.array.is_none() && p.wrt {
            let index = syn::Index::from(k);
            row.extend(quote!(__row.push(__adjoints.#index);));
        }
    }
    let len = &array.len;
    let vis = &func.vis;
    // Rows appended to one row-major buffer, in order.
    let reverse = quote! {
        let mut __seed = #zeros_like::zeros_like(&__out);
        let mut __flat = ::std::vec::Vec::new();
        for __k in 0..__out.len() {
            __seed[__k] = 1.0;
            #scratch
            let __adjoints = #pullback #turbofish (#(#args,)* &__out, &__seed, #(#sinks),*);
            __seed[__k] = 0.0;
            let mut __row = __flat;
            #row
            __flat = __row;
        }
        (__out, __flat)
    };
    let how_reverse = format!(
        "[`{name}`] once, then [`{name}_pullback`] once per output `k` with the unit seed `e_k`; row `k` is \
         what that pullback adds into zero sinks (and returns for float arguments). Cost: `M` pullbacks, \
         each about one gradient of one output (its forward sweep included)."
    );
    let (doc, body) = match forward(func, f, &name, vjp) {
        Some(Forward { item, count, seed, args: dual_args }) => {
            let vjp_dual = retype::dual_name(&format!("{name}_vjp"));
            let doc = format!(
                " The value of [`{name}`] and its Jacobian `j[k * n + i] = ∂out_k/∂θᵢ`, row-major in one buffer (`M` \
                 rows of `n`; `i` over the flat view of the differentiated arguments, in order, each row-major; \
                 structs in `Params` order), generated by `#[backprop]`; [`{name}_jacobian`] gives the rows.\n\n # How\n\n The mode is picked by the shape: with `n` differentiated scalars and \
                 `M` outputs, forward mode when `n < M` (tall Jacobians), reverse mode otherwise. The test is a \
                 constant when every differentiated argument is a float or a fixed-size array (decided at compile \
                 time), else made at run time from the arguments' lengths.\n\n Forward mode: `⌈n/4⌉` tangent sweeps, \
                 each the function's forward sweep (its generated vjp) re-printed over `Dual64x4`, a dual number \
                 with four tangents, seeded on four consecutive scalars `θᵢ + εₖ` (columns `i..i + 4`): the value \
                 and each elementary function are computed once per sweep for four columns. The value is the first \
                 sweep's real parts, bit for bit `{name}`'s own. Cost: `⌈n/4⌉` forward sweeps, each about one \
                 evaluation plus four tangent operations per operation.\n\n Reverse mode: {how_reverse}"
            );
            let body = quote! {
                #item
                let __n: usize = #count;
                if __n > 0 && __n < #len {
                    let mut __flat = ::std::vec![0.0_f64; #len * __n];
                    // The value is the first sweep's real parts (bit for bit the function's own).
                    let mut __out = None;
                    // Four columns a sweep: flat entries `__first..__first + 4` seeded.
                    let mut __first = 0usize;
                    while __first < __n {
                        let mut __at = 0usize;
                        #seed
                        let __columns = #vjp_dual #turbofish (#(#dual_args),*).0;
                        let __width = (__n - __first).min(::backprop::__private::dual_lanes::LANES);
                        for (__k, __d) in __columns.iter().enumerate() {
                            let __at = __k * __n + __first;
                            __flat[__at..__at + __width].copy_from_slice(&__d.eps[..__width]);
                        }
                        if __first == 0 {
                            __out = Some(__columns.map(|__d| __d.re));
                        }
                        __first += ::backprop::__private::dual_lanes::LANES;
                    }
                    if let Some(__out) = __out {
                        return (__out, __flat);
                    }
                }
                let __out = #fname #turbofish (#(#args),*);
                #reverse
            };
            (doc, body)
        }
        None => {
            let doc = format!(
                " The value of [`{name}`] and its Jacobian `j[k * n + i] = ∂out_k/∂θᵢ`, row-major in one buffer (`M` \
                 rows of `n`; `i` over the flat view of the differentiated arguments, in order, each row-major; \
                 structs in `Params` order), generated by `#[backprop]`; [`{name}_jacobian`] gives the rows.\n\n # How\n\n Reverse mode (this function calls others, or is not over `f64`, so \
                 it has no forward-mode copy): {how_reverse}"
            );
            (doc, quote!(let __out = #fname #turbofish (#(#args),*); #reverse))
        }
    };
    let flat = format_ident!("{name}_jacobian_flat");
    let rows_doc = format!(
        " The value of [`{name}`] and its Jacobian `j[k][i] = ∂out_k/∂θᵢ` as rows (`i` over the flat view of the \
         differentiated arguments, in order, each row-major; structs in `Params` order), generated by \
         `#[backprop]`: the rows of [`{name}_jacobian_flat`], which returns the same numbers in one row-major \
         buffer (`j[k * n + i]`, one allocation instead of one per row); see it for how they are computed."
    );
    Ok(quote! {
        #[doc = #doc]
        #[allow(clippy::all, clippy::pedantic, unused, non_snake_case)]
        #vis fn #flat #generics (#inputs) -> (#out_ty, ::std::vec::Vec<#scalar>) {
            // `__`-prefixed locals: the arguments keep their own names (an argument `k`, `out`).
            #body
        }

        #[doc = #rows_doc]
        #[allow(clippy::all, clippy::pedantic, unused, non_snake_case)]
        #vis fn #jac #generics (#inputs) -> (#out_ty, ::std::vec::Vec<::std::vec::Vec<#scalar>>) {
            let (__out, __flat) = #flat #turbofish (#(#args),*);
            let __m = __out.len();
            let __n = if __m == 0 { 0 } else { __flat.len() / __m };
            let __rows = (0..__m).map(|__k| __flat[__k * __n..(__k + 1) * __n].to_vec()).collect();
            (__out, __rows)
        }
    })
}

/// The forward-mode body of `_jacobian`, or `None` where the function cannot be re-printed over
/// `Dual64x4` with certainty (calls, `f32`, type parameters, `&mut` or unknown argument types), in
/// which case reverse mode runs alone. The tangent sweep is the function's own generated vjp
/// (`<name>_vjp`, its forward sweep followed by a closure that is never called) re-printed over
/// `Dual64x4` by `retype.rs`, as `#[backprop(hessian)]` does for gradients over `Dual64`.
struct Forward {
    /// The nested `<name>_vjp_dual` item, over `Dual64x4`.
    item: TokenStream,
    /// The number of differentiated scalars `n` (a constant expression when every differentiated
    /// argument is a float or a fixed-size array of floats).
    count: TokenStream,
    /// Statements: the arguments of the sweep of columns `__first..__first + 4` (flat entries
    /// counted in `__at`).
    seed: TokenStream,
    /// The dual call's arguments.
    args: Vec<TokenStream>,
}

fn forward(func: &syn::ItemFn, f: &ir::Function, name: &str, vjp: &TokenStream) -> Option<Forward> {
    let scalar_ok = matches!(&func.sig.output, syn::ReturnType::Type(_, t)
        if matches!(&**t, syn::Type::Array(a) if quote!(#a).to_string().starts_with("[f64")));
    if !scalar_ok
        || f.calls.iter().any(|c| !c.passive)
        || f.float != ir::FloatTy::F64
        || func.sig.generics.type_params().next().is_some()
        || f.params.iter().any(|p| p.strukt.is_some())
    {
        return None;
    }
    let structs: Vec<String> = f
        .params
        .iter()
        .filter_map(|p| p.strukt.as_ref())
        .filter_map(|s| syn::parse2::<syn::Ident>(s.clone()).ok())
        .map(|i| i.to_string())
        .collect();
    let file: syn::File = syn::parse2(vjp.clone()).ok()?;
    let vjp_name = format!("{name}_vjp");
    let vjp_fn = file.items.iter().find(|i| matches!(i, syn::Item::Fn(g) if g.sig.ident == vjp_name))?;
    let mut renames = retype::Renames::new();
    renames.insert(vjp_name.clone(), retype::dual_name(&vjp_name));
    let item = {
        let _twins = retype::TwinScope::enter(structs.clone());
        let _lanes = retype::LevelScope::lanes();
        retype::retype_item(vjp_fn, &renames).ok()?.into_token_stream()
    };
    let lanes = quote!(::backprop::__private::Lanes);
    let params = quote!(::backprop::__private::Params);
    let (mut seed, mut args) = (TokenStream::new(), Vec::new());
    let mut count = quote!(0usize);
    for (p, input) in f.params.iter().zip(func.sig.inputs.iter()) {
        let syn::FnArg::Typed(input) = input else { return None };
        let arg = &p.name;
        let (reference, inner) = match &*input.ty {
            syn::Type::Reference(r) if r.mutability.is_none() => (true, &*r.elem),
            syn::Type::Reference(_) => return None,
            t => (false, t),
        };
        let local = format_ident!("__dual_{}", arg);
        let by_ref = if reference { quote!(#arg) } else { quote!(&#arg) };
        let pass = if reference { quote!(&#local) } else { quote!(#local) };
        if !super::contains_float(&quote!(#inner)) && p.strukt.is_none() {
            // Integers, booleans, integer arrays: passed as they are, if nothing else is named.
            if !plain_type(inner, &[]) {
                return None;
            }
            args.push(quote!(#arg));
            continue;
        }
        if !plain_type(inner, &structs) {
            return None;
        }
        if !p.wrt {
            seed.extend(quote!(let #local = #lanes::constant(#by_ref);));
            args.push(pass);
            continue;
        }
        if matches!(p.ty, Ty::Float(_)) && p.array.is_none() && p.strukt.is_none() {
            if reference {
                return None;
            }
            count.extend(quote!(+ 1usize));
            seed.extend(quote!(let #local = #lanes::lanes(&#arg, &mut __at, __first);));
            args.push(pass);
            continue;
        }
        let unsized_seq = match inner {
            syn::Type::Slice(_) => true,
            syn::Type::Path(tp) => tp.path.segments.last().is_some_and(|s| s.ident == "Vec"),
            _ => false,
        };
        let size = match inner {
            syn::Type::Array(_) if !names_any(&quote!(#inner), &structs) => {
                quote!((::core::mem::size_of::<#inner>() / ::core::mem::size_of::<f64>()))
            }
            _ if unsized_seq => quote!(#arg.iter().map(#params::num_params).sum::<usize>()),
            _ => quote!(#params::num_params(#by_ref)),
        };
        count.extend(quote!(+ #size));
        seed.extend(quote!(let #local = #lanes::lanes(#by_ref, &mut __at, __first);));
        args.push(pass);
    }
    Some(Forward { item, count, seed, args })
}

/// Whether a type is made only of floats, integers, `bool`, arrays, slices, `Vec`s, references
/// and the parameter structs `structs` (whose dual twins `derive(Params)` emits).
fn plain_type(ty: &syn::Type, structs: &[String]) -> bool {
    match ty {
        syn::Type::Reference(r) => r.mutability.is_none() && plain_type(&r.elem, structs),
        syn::Type::Array(a) => plain_type(&a.elem, structs),
        syn::Type::Slice(s) => plain_type(&s.elem, structs),
        syn::Type::Paren(p) => plain_type(&p.elem, structs),
        syn::Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else { return false };
            let name = last.ident.to_string();
            const PLAIN: &[&str] = &[
                "f64", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "bool",
            ];
            if p.path.segments.len() == 1 && PLAIN.contains(&name.as_str()) {
                return true;
            }
            if name == "Vec" {
                return match &last.arguments {
                    syn::PathArguments::AngleBracketed(a) => a.args.iter().all(|g| match g {
                        syn::GenericArgument::Type(t) => plain_type(t, structs),
                        _ => false,
                    }),
                    _ => false,
                };
            }
            p.path.segments.len() == 1 && structs.contains(&name) && last.arguments.is_empty()
        }
        _ => false,
    }
}

/// Whether `tokens` name one of `names`.
fn names_any(tokens: &TokenStream, names: &[String]) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => names.iter().any(|n| i == n),
        proc_macro2::TokenTree::Group(g) => names_any(&g.stream(), names),
        _ => false,
    })
}
