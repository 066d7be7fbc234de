//! Re-printing generated code over dual numbers: the same tokens the pipeline printed for `f64`,
//! with `f64` read as `Dual64`, float literals as dual constants, argument types as their dual
//! twins, and generated names renamed to their dual copies.
//!
//! This is the whole "tangent pass" of the second-order functions (`mod.rs`): the generated
//! gradient is plain straight-line Rust with loops, tapes and branches, and every operation in it is
//! an operation on floats, so running it over `Dual64` carries a tangent through all of it (tapes
//! hold duals, `while` loops count the same trips, a branch is taken as the `f64` code takes it).
//!
//! Three token-level rules keep it exact:
//! * `x as f64` (an integer cast) becomes the dual constant `Dual64::c(x as f64)` ([`lift_casts`]),
//!   and `::core::f64::..`/`f64::consts` paths stay `f64` (the runtime mixes `f64` and `Dual64`
//!   operands in arithmetic, but not in method calls or tuples);
//! * the generated guard `if d == 0.0 { 0.0 } else { c }` (`Func::UnlessZero`, printed with an
//!   untyped `0.0` nowhere else) becomes `if Dual64::both_zero(d)`: an adjoint whose value is zero
//!   but whose tangent is not still contributes;
//! * every other comparison compares values only (`Dual64: PartialOrd`), as the `f64` code does.

use proc_macro2::{Delimiter, Group, Ident, Literal, Spacing, Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use std::collections::HashMap;
use syn::visit_mut::VisitMut;

/// `::backprop::__private::Dual64`, or `DualDual64` or `Dual64x4` inside a [`LevelScope`].
pub fn dual() -> TokenStream {
    match LEVEL.with(|n| n.get()) {
        Level::Dual => quote!(::backprop::__private::Dual64),
        Level::Nested => quote!(::backprop::__private::DualDual64),
        Level::Lanes => quote!(::backprop::__private::Dual64x4),
    }
}

/// The dual type a re-print is over.
#[derive(Clone, Copy)]
enum Level {
    Dual,
    /// A dual number over `Dual64`, forward over forward (`forward.rs`).
    Nested,
    /// Four tangents at once (`jacobian.rs`'s forward mode).
    Lanes,
}

thread_local! {
    /// What [`dual`] prints; set for one re-print by a [`LevelScope`].
    static LEVEL: std::cell::Cell<Level> = const { std::cell::Cell::new(Level::Dual) };
}

/// Re-prints over another dual type than `Dual64` for as long as it lives.
pub struct LevelScope;

impl LevelScope {
    /// Over `DualDual64` (forward over forward).
    pub fn nested() -> Self {
        Self::enter(Level::Nested)
    }
    /// Over `Dual64x4` (four tangents).
    pub fn lanes() -> Self {
        Self::enter(Level::Lanes)
    }
    fn enter(level: Level) -> Self {
        LEVEL.with(|n| n.set(level));
        LevelScope
    }
}

impl Drop for LevelScope {
    fn drop(&mut self) {
        LEVEL.with(|n| n.set(Level::Dual));
    }
}

/// Identifiers to rename in re-printed code (generated names to their dual copies).
pub type Renames = HashMap<String, Ident>;

thread_local! {
    /// Parameter struct names written in the bodies being re-printed (`Option<&mut Net>` in a
    /// vjp's closure): each becomes `<Net as DualTwin>::Twin`. Set for one expansion by [`TwinScope`].
    static TWINS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The struct names of [`TWINS`] for as long as it lives.
pub struct TwinScope;

impl TwinScope {
    pub fn enter(names: Vec<String>) -> Self {
        TWINS.with(|t| *t.borrow_mut() = names);
        TwinScope
    }
}

impl Drop for TwinScope {
    fn drop(&mut self) {
        TWINS.with(|t| t.borrow_mut().clear());
    }
}

fn is_twin(name: &str) -> bool {
    TWINS.with(|t| t.borrow().iter().any(|n| n == name))
}

/// Re-prints `tokens` (a body or whole items) over `Dual64`.
pub fn retype_tokens(tokens: TokenStream, renames: &Renames) -> TokenStream {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = TokenStream::new();
    let mut i = 0;
    while i < tts.len() {
        // The guard of a contribution through an adjoint that may be zero (see the module doc).
        if let TokenTree::Ident(kw) = &tts[i] {
            if kw == "if" {
                if let Some(eq) = unless_zero(&tts, i + 1) {
                    let operand: TokenStream = tts[i + 1..eq].iter().cloned().collect();
                    let operand = retype_tokens(operand, renames);
                    let d = dual();
                    out.extend(quote!(if #d::both_zero(#operand)));
                    i = eq + 3; // past `== 0.0`, at the `{ 0.0 }` group
                    continue;
                }
            }
        }
        match &tts[i] {
            TokenTree::Ident(id) if id == "f64" => {
                let after_as = i > 0 && matches!(&tts[i - 1], TokenTree::Ident(p) if p == "as");
                let after_path = i > 1
                    && matches!(&tts[i - 1], TokenTree::Punct(p) if p.as_char() == ':')
                    && matches!(&tts[i - 2], TokenTree::Punct(p) if p.as_char() == ':');
                let before_consts = matches!(tts.get(i + 3), Some(TokenTree::Ident(c)) if c == "consts");
                if after_as || after_path || before_consts {
                    out.extend(std::iter::once(tts[i].clone()));
                } else {
                    out.extend(dual());
                }
            }
            // A parameter struct's type (not a struct literal `Net { .. }`, not after `::`).
            TokenTree::Ident(id)
                if is_twin(&id.to_string())
                    && !matches!(tts.get(i + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace)
                    && !(i > 0 && matches!(&tts[i - 1], TokenTree::Punct(p) if p.as_char() == ':')) =>
            {
                // With its generic arguments (`Dense<2, 2>`), kept as written: the twin of the `f64` type.
                let end = generic_args_end(&tts, i + 1);
                let ty: TokenStream = tts[i..end].iter().cloned().collect();
                let twin = quote!(<#ty as ::backprop::__private::DualTwin>::Twin);
                let path_follows = matches!(tts.get(end), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                out.extend(if path_follows { quote!(<#twin>) } else { twin });
                i = end;
                continue;
            }
            // The runtime's own modules (`__private::kinks`) are never the user's functions.
            TokenTree::Ident(id) if i > 2 && matches!(&tts[i - 3], TokenTree::Ident(m) if m == "__private") => {
                out.extend(std::iter::once(tts[i].clone()))
            }
            TokenTree::Ident(id) => match renames.get(&id.to_string()) {
                Some(to) => out.extend(std::iter::once(TokenTree::Ident(Ident::new(&to.to_string(), id.span())))),
                None => out.extend(std::iter::once(tts[i].clone())),
            },
            TokenTree::Literal(l) => match float_literal(l) {
                Some(value) => {
                    let d = dual();
                    out.extend(quote!(#d::c(#value)));
                }
                None => out.extend(std::iter::once(tts[i].clone())),
            },
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), retype_tokens(g.stream(), renames));
                group.set_span(g.span());
                out.extend(std::iter::once(TokenTree::Group(group)));
            }
            other => out.extend(std::iter::once(other.clone())),
        }
        i += 1;
    }
    lift_casts(out)
}

/// `operand as f64` → `Dual64::c(operand as f64)` at this level of `tokens` (groups are lifted by
/// their own [`retype_tokens`]): an integer read as a float is a constant of the dual computation.
/// Left as `f64` it would meet `Dual64` operands in method calls (`d.max(i as f64)`,
/// `(i as f64).max(d)`), runtime functions and tuples, which take one type.
fn lift_casts(tokens: TokenStream) -> TokenStream {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(tts.len());
    let mut i = 0;
    while i < tts.len() {
        let is_cast = matches!(&tts[i], TokenTree::Ident(a) if a == "as")
            && matches!(tts.get(i + 1), Some(TokenTree::Ident(t)) if t == "f64");
        if is_cast {
            let start = operand_start(&out);
            if start < out.len() {
                let operand: TokenStream = out.split_off(start).into_iter().collect();
                let d = dual();
                out.extend(quote!(#d::c((#operand) as f64)));
                i += 2;
                continue;
            }
        }
        out.push(tts[i].clone());
        i += 1;
    }
    out.into_iter().collect()
}

/// Where the operand of an `as` that follows `v` starts: a postfix chain of a path, literal or group
/// with field accesses, method calls and indexing (`x`, `i3`, `v.len()`, `(a + b)`, `k[j]`,
/// `x as usize`); unary operators are left outside (`-i as f64` is `-(i as f64)` for integers).
fn operand_start(v: &[TokenTree]) -> usize {
    let punct = |j: usize, c: char| matches!(v.get(j), Some(TokenTree::Punct(p)) if p.as_char() == c);
    let stop = |id: &Ident| {
        ["return", "in", "if", "match", "while", "break", "let", "else", "mut", "move"].iter().any(|k| id == k)
    };
    let mut j = v.len();
    while j > 0 {
        match &v[j - 1] {
            TokenTree::Literal(_) => return j - 1,
            TokenTree::Ident(id) if stop(id) => return j,
            TokenTree::Ident(_) => {
                j -= 1;
                if j >= 1 && punct(j - 1, '.') {
                    j -= 1;
                } else if j >= 2 && punct(j - 1, ':') && punct(j - 2, ':') {
                    j -= 2;
                } else if j >= 1 && matches!(&v[j - 1], TokenTree::Ident(a) if a == "as") {
                    j -= 1;
                } else {
                    return j;
                }
            }
            TokenTree::Group(g) if g.delimiter() != Delimiter::Brace => {
                j -= 1;
                let callee = j >= 1
                    && match &v[j - 1] {
                        TokenTree::Ident(id) => !stop(id),
                        TokenTree::Group(g) => g.delimiter() != Delimiter::Brace,
                        _ => false,
                    };
                if !callee {
                    return j;
                }
            }
            TokenTree::Punct(p) if p.as_char() == '?' => j -= 1,
            _ => return j,
        }
    }
    j
}

/// The index just past `<..>` generic arguments starting at `start`, or `start` if none do.
fn generic_args_end(tts: &[TokenTree], start: usize) -> usize {
    if !matches!(tts.get(start), Some(TokenTree::Punct(p)) if p.as_char() == '<') {
        return start;
    }
    let mut depth = 0usize;
    for (k, t) in tts.iter().enumerate().skip(start) {
        if let TokenTree::Punct(p) = t {
            match p.as_char() {
                '<' => depth += 1,
                '>' => {
                    depth -= 1;
                    if depth == 0 {
                        return k + 1;
                    }
                }
                _ => {}
            }
        }
    }
    start
}

/// At `start` (just after an `if`): `operand == 0.0 { 0.0 } else`, the printed `Func::UnlessZero`.
/// Returns the index of the first `=`.
fn unless_zero(tts: &[TokenTree], start: usize) -> Option<usize> {
    let mut j = start;
    while j + 4 < tts.len() {
        match &tts[j] {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => return None,
            TokenTree::Punct(p) if p.as_char() == '=' && p.spacing() == Spacing::Joint => {
                let second = matches!(&tts[j + 1], TokenTree::Punct(q) if q.as_char() == '=');
                let zero = matches!(&tts[j + 2], TokenTree::Literal(l) if l.to_string() == "0.0");
                let then_zero = matches!(&tts[j + 3], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace
                    && g.stream().to_string() == "0.0");
                let else_kw = matches!(&tts[j + 4], TokenTree::Ident(e) if e == "else");
                return (j > start && second && zero && then_zero && else_kw).then_some(j);
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// A float literal's value as an unsuffixed `f64` literal (`0.0_f64` → `0.0`), or `None` for any
/// other literal (integers, strings).
fn float_literal(l: &Literal) -> Option<Literal> {
    let text = l.to_string();
    let first = text.chars().next()?;
    if !first.is_ascii_digit() || text.starts_with("0x") || text.starts_with("0b") || text.starts_with("0o") {
        return None;
    }
    let (digits, suffixed) = match text.strip_suffix("f64") {
        Some(d) => (d.trim_end_matches('_'), true),
        None => (text.as_str(), false),
    };
    let float = suffixed || digits.contains('.') || digits.contains('e') || digits.contains('E');
    if !float || digits.chars().any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E') {
        return None;
    }
    let value: f64 = digits.replace('_', "").parse().ok()?;
    let mut lit = Literal::f64_unsuffixed(value);
    lit.set_span(l.span());
    Some(lit)
}

/// Types that are neither floats nor structs with a dual twin: kept, their arguments retyped.
const KEEP: &[&str] = &[
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "bool",
    "char",
    "str",
    "String",
    "Vec",
    "Option",
    "Box",
    "Self",
    "FnOnce",
    "FnMut",
    "Fn",
    "Dual64",
    "DualDual64",
    "Dual64x4",
];

/// Retypes a type: `f64` → `Dual64`, a struct `Net` → `<Net as DualTwin>::Twin`, generated
/// gradient structs renamed; references, arrays, slices, `Vec`s and closures' signatures recursed.
pub struct RetypeTypes<'a> {
    pub renames: &'a Renames,
}

impl VisitMut for RetypeTypes<'_> {
    fn visit_type_mut(&mut self, t: &mut syn::Type) {
        if let syn::Type::Path(p) = t {
            // Already a twin (`<Net as DualTwin>::Twin`): nothing inside is retyped again.
            if p.qself.is_some() {
                return;
            }
            {
                if let Some(last) = p.path.segments.last() {
                    let name = last.ident.to_string();
                    if name == "f64" && p.path.segments.len() == 1 {
                        *t = syn::parse2(dual()).expect("a path");
                        return;
                    }
                    if let Some(to) = self.renames.get(&name) {
                        let mut p = p.clone();
                        p.path.segments.last_mut().expect("a segment").ident = to.clone();
                        *t = syn::Type::Path(p);
                        return;
                    }
                    if !KEEP.contains(&name.as_str()) && name != "f64" && name != "f32" {
                        let ty = p.to_token_stream();
                        *t = syn::parse_quote!(<#ty as ::backprop::__private::DualTwin>::Twin);
                        return;
                    }
                }
            }
        }
        syn::visit_mut::visit_type_mut(self, t);
    }
}

/// A function item re-printed over `Dual64` under the name `renames[name]`: signature by types,
/// body by tokens; doc comments dropped, hidden.
pub fn retype_fn(f: &syn::ItemFn, renames: &Renames) -> syn::Result<syn::ItemFn> {
    let mut f = f.clone();
    RetypeTypes { renames }.visit_signature_mut(&mut f.sig);
    if let Some(to) = renames.get(&f.sig.ident.to_string()) {
        f.sig.ident = to.clone();
    }
    let body = retype_tokens(f.block.to_token_stream(), renames);
    f.block = Box::new(syn::parse2(body)?);
    super::scale::scale_literal_products(&mut f.block);
    f.attrs.retain(|a| !a.path().is_ident("doc") && !a.path().is_ident("inline"));
    f.attrs.push(syn::parse_quote!(#[doc(hidden)]));
    f.attrs
        .push(syn::parse_quote!(#[allow(clippy::all, clippy::pedantic, unused, non_snake_case, non_camel_case_types)]));
    Ok(f)
}

/// Any item re-printed over `Dual64` by tokens (structs' field types by [`RetypeTypes`]).
pub fn retype_item(item: &syn::Item, renames: &Renames) -> syn::Result<syn::Item> {
    match item {
        syn::Item::Fn(f) => Ok(syn::Item::Fn(retype_fn(f, renames)?)),
        syn::Item::Struct(s) => {
            let mut s = s.clone();
            RetypeTypes { renames }.visit_fields_mut(&mut s.fields);
            if let Some(to) = renames.get(&s.ident.to_string()) {
                s.ident = to.clone();
            }
            s.attrs.retain(|a| !a.path().is_ident("doc") && !a.path().is_ident("derive"));
            s.attrs.push(syn::parse_quote!(#[doc(hidden)]));
            s.attrs.push(syn::parse_quote!(#[allow(non_camel_case_types, dead_code)]));
            Ok(syn::Item::Struct(s))
        }
        other => {
            let mut item: syn::Item = syn::parse2(retype_tokens(other.to_token_stream(), renames))?;
            if let syn::Item::Impl(i) = &mut item {
                i.attrs.retain(|a| !a.path().is_ident("doc"));
                for it in &mut i.items {
                    if let syn::ImplItem::Fn(f) = it {
                        f.attrs.retain(|a| !a.path().is_ident("doc"));
                        RetypeTypes { renames }.visit_signature_mut(&mut f.sig);
                    }
                }
            }
            Ok(item)
        }
    }
}

/// `name` → `name_dual`, as an identifier.
pub fn dual_name(name: &str) -> Ident {
    Ident::new(&format!("{name}_dual"), Span::call_site())
}
