//! Iterator idioms over float arrays, lowered as the index loops they mean, at the syntax level:
//!
//! ```text
//! a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>()   { let mut acc = -0.0; for k in 0..n { let x = a[k]; let y = b[k]; acc = acc + x * y; } acc }
//! a.iter().map(|v| v * v).sum()                      (the same with one source)
//! a.iter().fold(init, |acc, v| body)                 { let mut acc = init; for k in 0..n { .. acc = body; } acc }
//! a.iter().copied().fold(f64::MIN, f64::max)         (a function path as the folding function)
//! for (x, y) in a.iter().zip(b) { body }             for k in 0..n { let x = a[k]; let y = b[k]; body }
//! ```
//!
//! `n` is the shortest source's length, as `zip` stops there. A sum starts at `-0.0` and a product
//! at `1.0`, as `Sum` and `Product` for floats do, and adds in the same order, so the value is bit
//! for bit the iterator's. The loop index and accumulator get names no Rust source can use
//! (`__backprop_k`, `__backprop_acc`), so a closure's captured variables keep their meaning. Other
//! closures and chains stay a clear error.

use super::syntax::ident;
use syn::{parse_quote, Expr, Pat};

/// The arrays an iterator chain walks in step: `a.iter()`, `a.iter().copied()`, `.cloned()`,
/// `a.iter().zip(b)` (with `b`, `&b`, `b.iter()`), nested zips.
fn sources(e: &Expr) -> Option<Vec<Expr>> {
    let Expr::MethodCall(m) = e else { return None };
    match m.method.to_string().as_str() {
        "iter" if m.args.is_empty() => Some(vec![array_path(&m.receiver)?]),
        "copied" | "cloned" if m.args.is_empty() => sources(&m.receiver),
        "zip" if m.args.len() == 1 => {
            let mut left = sources(&m.receiver)?;
            let right = match &m.args[0] {
                Expr::Reference(r) => vec![array_path(&r.expr)?],
                Expr::MethodCall(_) => sources(&m.args[0])?,
                other => vec![array_path(other)?],
            };
            if right.len() != 1 {
                return None;
            }
            left.extend(right);
            Some(left)
        }
        _ => None,
    }
}

fn array_path(e: &Expr) -> Option<Expr> {
    match e {
        Expr::Path(p) if p.path.get_ident().is_some() => Some(e.clone()),
        Expr::Paren(p) => array_path(&p.expr),
        _ => None,
    }
}

const INDEX: &str = "__backprop_k";
const ACC: &str = "__backprop_acc";

/// `0..n` where `n` is the shortest source's length.
fn range(sources: &[Expr]) -> Expr {
    let mut n: Expr = {
        let first = &sources[0];
        parse_quote!(#first.len())
    };
    for s in &sources[1..] {
        n = parse_quote!(if #s.len() < #n { #s.len() } else { #n });
    }
    parse_quote!(0..#n)
}

/// `let` statements binding a closure's element pattern to the sources' elements at the index:
/// `v`, `&v`, `(x, y)`, `(&x, &y)`, `((a, b), c)` for nested zips.
fn bind(pat: &Pat, sources: &[Expr]) -> Option<Vec<syn::Stmt>> {
    let k = ident(INDEX);
    let strip = |p: &Pat| -> Pat {
        match p {
            Pat::Reference(r) => (*r.pat).clone(),
            Pat::Type(t) => (*t.pat).clone(),
            other => other.clone(),
        }
    };
    let pat = strip(pat);
    if sources.len() == 1 {
        let s = &sources[0];
        return match &pat {
            Pat::Ident(_) | Pat::Wild(_) => Some(vec![parse_quote!(let #pat = #s[#k];)]),
            _ => None,
        };
    }
    let Pat::Tuple(t) = &pat else { return None };
    if t.elems.len() != 2 {
        return None;
    }
    let mut out = bind(&t.elems[0], &sources[..sources.len() - 1])?;
    out.extend(bind(&t.elems[1], &sources[sources.len() - 1..])?);
    Some(out)
}

/// The closure's single parameter and body, for `map`.
fn closure1(e: &Expr) -> Option<(&Pat, &Expr)> {
    match e {
        Expr::Closure(c) if c.inputs.len() == 1 && c.asyncness.is_none() && c.capture.is_none() => {
            Some((&c.inputs[0], &c.body))
        }
        _ => None,
    }
}

/// A chain ending in `.sum()`, `.sum::<f64>()`, `.product()` or `.fold(init, f)`, as a block.
pub fn reduction(m: &syn::ExprMethodCall) -> Option<Expr> {
    let method = m.method.to_string();
    let acc = ident(ACC);
    let k = ident(INDEX);
    let (chain, init, step): (&Expr, Expr, Box<dyn Fn(Expr) -> Expr>) = match method.as_str() {
        "sum" if m.args.is_empty() => {
            let acc = acc.clone();
            (&m.receiver, parse_quote!(-0.0), Box::new(move |t| parse_quote!(#acc + #t)))
        }
        "product" if m.args.is_empty() => {
            let acc = acc.clone();
            (&m.receiver, parse_quote!(1.0), Box::new(move |t| parse_quote!(#acc * #t)))
        }
        "fold" if m.args.len() == 2 => {
            let init = m.args[0].clone();
            let (srcs, map) = mapped(&m.receiver)?;
            let range = range(&srcs);
            let elem = ident("__backprop_elem");
            let mut stmts: Vec<syn::Stmt> = Vec::new();
            // The element: the mapped value, or the sources' elements.
            match map {
                Some((pat, body)) => {
                    stmts.extend(bind(pat, &srcs)?);
                    stmts.push(parse_quote!(let #elem = #body;));
                }
                None if srcs.len() == 1 => {
                    let s = &srcs[0];
                    stmts.push(parse_quote!(let #elem = #s[#k];));
                }
                None => return None,
            }
            let update: Expr = match &m.args[1] {
                Expr::Closure(c) if c.inputs.len() == 2 && c.asyncness.is_none() && c.capture.is_none() => {
                    let (acc_pat, elem_pat, body) = (&c.inputs[0], &c.inputs[1], &c.body);
                    let elem_pat = match elem_pat {
                        Pat::Reference(r) => &*r.pat,
                        p => p,
                    };
                    parse_quote!({ let #acc_pat = #acc; let #elem_pat = #elem; #body })
                }
                Expr::Path(f) => parse_quote!(#f(#acc, #elem)),
                _ => return None,
            };
            return Some(parse_quote!({
                let mut #acc = #init;
                for #k in #range {
                    #(#stmts)*
                    #acc = #update;
                }
                #acc
            }));
        }
        _ => return None,
    };
    let (srcs, map) = mapped(chain)?;
    let range = range(&srcs);
    let (stmts, term): (Vec<syn::Stmt>, Expr) = match map {
        Some((pat, body)) => (bind(pat, &srcs)?, parse_quote!((#body))),
        // `a.iter().sum()` alone is lowered as the array sum it is (`lower/arrays.rs`).
        None => return None,
    };
    let update = step(term);
    Some(parse_quote!({
        let mut #acc = #init;
        for #k in #range {
            #(#stmts)*
            #acc = #update;
        }
        #acc
    }))
}

/// A `map` closure's parameter pattern and body.
type Map<'e> = Option<(&'e Pat, &'e Expr)>;

/// `sources` optionally followed by one `.map(closure)`.
fn mapped(e: &Expr) -> Option<(Vec<Expr>, Map<'_>)> {
    if let Expr::MethodCall(m) = e {
        if m.method == "map" && m.args.len() == 1 {
            let srcs = sources(&m.receiver)?;
            return Some((srcs, Some(closure1(&m.args[0])?)));
        }
    }
    Some((sources(e)?, None))
}

/// `for (x, y) in a.iter().zip(b) { body }` (any pattern `bind` accepts, over zipped or copied
/// sources) as an index loop binding the elements first.
pub fn for_loop(l: &syn::ExprForLoop) -> Option<syn::ExprForLoop> {
    let srcs = sources(&l.expr)?;
    // `for xi in x.iter()` over one array is a loop header of its own (`loops.rs`).
    if srcs.len() == 1 && matches!(&*l.expr, Expr::MethodCall(m) if m.method == "iter") {
        return None;
    }
    let stmts = bind(&l.pat, &srcs)?;
    let k = ident(INDEX);
    let range = range(&srcs);
    let body = &l.body.stmts;
    Some(parse_quote!(for #k in #range { #(#stmts)* #(#body)* }))
}
