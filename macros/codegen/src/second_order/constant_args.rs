//! Data arguments stay `f64` in the dual gradient that `_hvp` runs.
//!
//! A float array the function is not differentiated in (`points: &[f64]`) is a constant of the
//! tangent sweep: every element is `Dual64::c(x)`. Passing it as a dual twin costs a copy of the
//! whole array per call (`DualTwin::constant`, an allocation and twice its bytes) and doubles what
//! the sweep reads. Instead, the dual `_grad`/`_grad_acc` keep the argument's own `f64` type and
//! each element read `x[i]` is printed `Dual64::c(x[i])`: the same values, with no copy.
//!
//! Only where that is certainly all the code does with the argument: a one-dimensional float array
//! (`&[f64]`, `&Vec<f64>`, `[f64; N]`, `&[f64; N]`) whose every mention in the two functions is an
//! element read `x[e]` (not written, no range, not indexed twice), `x.len()`, or the argument
//! forwarded whole from `_grad_dual` to `_grad_acc_dual`. Anything else (the argument passed to a
//! callee, a `&Vec` rebound as a slice, a shadowing local) keeps the dual twin.

use proc_macro2::{Delimiter, Group, Spacing, TokenStream, TokenTree};
use quote::{quote, ToTokens};

/// Whether `ty` is a one-dimensional `f64` array type this applies to.
pub fn is_flat_f64(ty: &syn::Type) -> bool {
    let elem_is_f64 = |t: &syn::Type| matches!(t, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("f64"));
    match ty {
        syn::Type::Array(a) => elem_is_f64(&a.elem),
        syn::Type::Reference(r) if r.mutability.is_none() => match &*r.elem {
            syn::Type::Slice(s) => elem_is_f64(&s.elem),
            syn::Type::Array(a) => elem_is_f64(&a.elem),
            syn::Type::Path(p) => {
                let Some(last) = p.path.segments.last() else { return false };
                if last.ident != "Vec" {
                    return false;
                }
                match &last.arguments {
                    syn::PathArguments::AngleBracketed(a) => {
                        a.args.len() == 1
                            && matches!(a.args.first(), Some(syn::GenericArgument::Type(t)) if elem_is_f64(t))
                    }
                    _ => false,
                }
            }
            _ => false,
        },
        _ => false,
    }
}

/// Whether every mention of `name` in `body` is one this module can print over `f64` (see the
/// module doc); `forward` is the function a whole-argument mention may be passed to.
pub fn only_element_reads(body: &TokenStream, name: &str, forward: &str) -> bool {
    check(body, name, forward, false)
}

fn is_punct(t: Option<&TokenTree>, c: char) -> bool {
    matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

fn check(ts: &TokenStream, name: &str, forward: &str, in_forward_call: bool) -> bool {
    let tts: Vec<TokenTree> = ts.clone().into_iter().collect();
    for (i, t) in tts.iter().enumerate() {
        match t {
            TokenTree::Group(g) => {
                let call = g.delimiter() == Delimiter::Parenthesis
                    && matches!(i.checked_sub(1).map(|j| &tts[j]), Some(TokenTree::Ident(f)) if f == forward);
                if !check(&g.stream(), name, forward, call) {
                    return false;
                }
            }
            TokenTree::Ident(id) if id == name => {
                let prev = i.checked_sub(1).map(|j| &tts[j]);
                // A field (`net.x`) or a path segment (`m::x`): another item.
                if is_punct(prev, '.') || is_punct(prev, ':') {
                    continue;
                }
                match tts.get(i + 1) {
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => {
                        if has_range(&g.stream()) || !read_only_after(tts.get(i + 2), tts.get(i + 3)) {
                            return false;
                        }
                    }
                    Some(TokenTree::Punct(p)) if p.as_char() == '.' => {
                        let len = matches!(tts.get(i + 2), Some(TokenTree::Ident(m)) if m == "len")
                            && matches!(tts.get(i + 3), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis && g.stream().is_empty());
                        if !len {
                            return false;
                        }
                    }
                    next => {
                        // The whole argument forwarded: `cost_grad_acc_dual(x, ..)`.
                        let whole = in_forward_call
                            && (prev.is_none() || is_punct(prev, ','))
                            && (next.is_none() || is_punct(next, ','));
                        if !whole {
                            return false;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    true
}

/// `..` anywhere in an index: a range, a slice rather than an element.
fn has_range(ts: &TokenStream) -> bool {
    let tts: Vec<TokenTree> = ts.clone().into_iter().collect();
    tts.iter().enumerate().any(|(i, t)| match t {
        TokenTree::Punct(p) => p.as_char() == '.' && is_punct(tts.get(i + 1), '.'),
        TokenTree::Group(g) => has_range(&g.stream()),
        _ => false,
    })
}

/// After `x[e]`: not indexed again, not assigned (`=`, `+=`, ..; comparisons are reads).
fn read_only_after(next: Option<&TokenTree>, after: Option<&TokenTree>) -> bool {
    match next {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => false,
        Some(TokenTree::Punct(p)) if p.as_char() == '=' => p.spacing() == Spacing::Joint && is_punct(after, '='),
        Some(TokenTree::Punct(p)) if p.spacing() == Spacing::Joint && is_punct(after, '=') => {
            matches!(p.as_char(), '<' | '>' | '!')
        }
        _ => true,
    }
}

/// `x[e]` printed `Dual64::c(x[e])` for every element read of `name` in `ts`.
pub fn lift_reads(ts: TokenStream, name: &str) -> TokenStream {
    let tts: Vec<TokenTree> = ts.into_iter().collect();
    let mut out = TokenStream::new();
    let mut i = 0;
    while i < tts.len() {
        match &tts[i] {
            TokenTree::Ident(id)
                if id == name && !(i > 0 && (is_punct(Some(&tts[i - 1]), '.') || is_punct(Some(&tts[i - 1]), ':'))) =>
            {
                if let Some(TokenTree::Group(g)) = tts.get(i + 1) {
                    if g.delimiter() == Delimiter::Bracket {
                        let index = Group::new(Delimiter::Bracket, lift_reads(g.stream(), name));
                        let dual = super::retype::dual();
                        out.extend(quote!(#dual::c(#id #index)));
                        i += 2;
                        continue;
                    }
                }
                out.extend(std::iter::once(tts[i].clone()));
            }
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), lift_reads(g.stream(), name));
                inner.set_span(g.span());
                out.extend(std::iter::once(TokenTree::Group(inner)));
            }
            other => out.extend(std::iter::once(other.clone())),
        }
        i += 1;
    }
    out
}

/// In the dual gradient functions `fns` (already re-printed over `Dual64`), keeps each argument of
/// `candidates` (name, its `f64` type) that qualifies as `f64`: its type restored, its reads lifted.
/// Returns the names kept. `forward` is the `_grad_acc_dual` name the `_grad_dual` forwards to.
pub fn keep_f64(fns: &mut [&mut syn::ItemFn], candidates: &[(String, syn::Type)], forward: &str) -> Vec<String> {
    let mut kept = Vec::new();
    for (name, ty) in candidates {
        let every = fns.iter().all(|f| {
            let has_param = f
                .sig
                .inputs
                .iter()
                .any(|i| matches!(i, syn::FnArg::Typed(p) if p.pat.to_token_stream().to_string() == *name));
            has_param && only_element_reads(&f.block.to_token_stream(), name, forward)
        });
        if !every {
            continue;
        }
        let lifted: Vec<Option<syn::Block>> =
            fns.iter().map(|f| syn::parse2(lift_reads(f.block.to_token_stream(), name)).ok()).collect();
        if lifted.iter().any(Option::is_none) {
            continue;
        }
        for (f, block) in fns.iter_mut().zip(lifted) {
            if let Some(block) = block {
                *f.block = block;
            }
            for input in &mut f.sig.inputs {
                if let syn::FnArg::Typed(p) = input {
                    if p.pat.to_token_stream().to_string() == *name {
                        *p.ty = ty.clone();
                    }
                }
            }
        }
        kept.push(name.clone());
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(body: TokenStream) -> bool {
        only_element_reads(&body, "x", "f_acc_dual")
    }

    #[test]
    fn element_reads_and_len_qualify() {
        assert!(reads(quote!({
            let a = x[i] * 2.0;
            if x[j + 1] < a {}
            for k in 0..x.len() {}
        })));
        assert!(reads(quote!({
            let a = x[i] <= y;
            let b = x[i] == y;
            let c = x[i] != y;
        })));
        assert!(reads(quote!({
            let v = f_acc_dual(x, c, n);
            net.x(1);
            m::x[0];
        })));
    }

    #[test]
    fn anything_else_keeps_the_twin() {
        for body in [
            quote!({
                x[i] = 1.0;
            }),
            quote!({
                x[i] += 1.0;
            }),
            quote!({
                let s = &x[1..];
            }),
            quote!({
                let a = x[i][j];
            }),
            quote!({
                let y = g(x, 1);
            }),
            quote!({
                let y = g(&x);
            }),
            quote!({
                let x = 3.0;
            }),
            quote!({ (|x: &[f64]| x[0])(x) }),
            quote!({
                let v = f_acc_dual(&x[0..2], c);
            }),
            quote!({
                x.iter();
            }),
        ] {
            assert!(!reads(body.clone()), "{body}");
        }
    }

    #[test]
    fn reads_are_lifted_to_dual_constants() {
        let out = lift_reads(
            quote!({
                let a = x[i] - c[x_i];
                net.x[0];
            }),
            "x",
        )
        .to_string();
        assert!(out.contains(":: backprop :: __private :: Dual64 :: c (x [i])"), "{out}");
        assert!(out.contains("net . x [0]"), "{out}");
    }

    #[test]
    fn flat_f64_types() {
        for (ty, flat) in [
            (quote!(&[f64]), true),
            (quote!(&Vec<f64>), true),
            (quote!([f64; 3]), true),
            (quote!(&[f64; N]), true),
            (quote!(&mut [f64]), false),
            (quote!(&[[f64; 2]]), false),
            (quote!(&[f32]), false),
            (quote!(f64), false),
        ] {
            assert_eq!(is_flat_f64(&syn::parse2(ty.clone()).unwrap()), flat, "{ty}");
        }
    }
}
