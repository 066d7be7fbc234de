//! Scalar promotion of carried adjoint elements (issue 17).
//!
//! A loop over `i` whose backward statements add into two neighbouring elements of one sink,
//! `d_x[i] += a; d_x[i + 1] += b;`, hands the element written at `i + 1` to the next iteration,
//! where it is the element written at `i`. Left as two read-modify-writes, LLVM may merge them
//! into one 16-byte load-add-store (SLP vectorisation) once the sink's allocation is visible (the
//! allocating `_grad` after inlining); the next iteration's 16-byte load then overlaps the previous
//! iteration's store at an 8-byte offset, store-to-load forwarding fails and every iteration
//! stalls (3.6× slower than the accumulating form on extended Rosenbrock). The best hand-written
//! gradient keeps the carried element in a register; this pass rewrites the loop the same way:
//!
//! ```text
//! if lo < hi {
//!     let mut carry = d_x[lo];                        // the element pending at i = lo
//!     for i in lo..hi {
//!         let mut next = d_x[i + 1];                  // not touched yet by this loop
//!         ..  carry += a;  ..  next += b;  ..
//!         d_x[i] = carry;                             // final: no later iteration adds to it
//!         carry = next;
//!     }
//!     d_x[hi] = carry;
//! }
//! ```
//!
//! (mirrored for a reversed range). Each element is loaded once and stored once, in the order of
//! the original loop, so the values are bit-for-bit those of the original. The rewrite applies only
//! when it provably changes nothing: the loop's body mentions the sink nowhere but in those
//! `+=` statements (at its top level, or alone under an `if FLAG`), the indices are the loop
//! variable plus or minus literals, the sink's place is loop-invariant, and the body has no
//! `break`, `continue`, `return` or `?`. It runs on the generated functions only (never on the
//! user's own function), on sinks named `d_..` or `grad`.

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};
use std::collections::BTreeSet;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

/// Applies the promotion to every function item in `tokens` except the one named `user`.
/// `BACKPROP_PROMOTE=off` (at compile time) leaves the loops as they are, to measure the pass.
pub fn carried_adjoints(tokens: TokenStream, user: &Ident) -> TokenStream {
    if std::env::var_os("BACKPROP_PROMOTE").is_some_and(|v| v == "off") {
        return tokens;
    }
    // The pass's own names (`__bp_..`) must not meet one of the user's.
    if mentions_prefix(&tokens, "__bp_") {
        return tokens;
    }
    let Ok(mut file) = syn::parse2::<syn::File>(tokens.clone()) else { return tokens };
    let mut pass = Promote { counter: 0, changed: false };
    for item in &mut file.items {
        match item {
            syn::Item::Fn(f) if f.sig.ident != *user => pass.visit_item_fn_mut(f),
            syn::Item::Impl(block) => {
                for it in &mut block.items {
                    if let syn::ImplItem::Fn(f) = it {
                        if f.sig.ident != *user {
                            pass.visit_impl_item_fn_mut(f);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if pass.changed {
        file.into_token_stream()
    } else {
        tokens
    }
}

struct Promote {
    counter: usize,
    changed: bool,
}

impl VisitMut for Promote {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        // Inner loops first: a promoted inner loop is one `if` statement of the outer body.
        syn::visit_mut::visit_block_mut(self, block);
        for stmt in &mut block.stmts {
            let syn::Stmt::Expr(syn::Expr::ForLoop(for_loop), semi) = stmt else { continue };
            if let Some(new) = self.rewrite(for_loop) {
                *stmt = syn::Stmt::Expr(new, *semi);
                self.changed = true;
            }
        }
    }
}

/// `base[index] += value` at the top level of a loop body (or alone under `if FLAG`).
struct Accumulation {
    stmt: usize,
    base: syn::Expr,
    base_text: String,
    root: String,
    offset: i64,
    index: syn::Expr,
}

impl Promote {
    fn rewrite(&mut self, for_loop: &syn::ExprForLoop) -> Option<syn::Expr> {
        if for_loop.label.is_some() || !for_loop.attrs.is_empty() {
            return None;
        }
        let syn::Pat::Ident(pat) = &*for_loop.pat else { return None };
        if pat.by_ref.is_some() || pat.mutability.is_some() || pat.subpat.is_some() {
            return None;
        }
        let var = pat.ident.clone();
        let (range, reversed) = range_of(&for_loop.expr)?;
        let (Some(lo), Some(hi)) = (&range.start, &range.end) else { return None };
        if !matches!(range.limits, syn::RangeLimits::HalfOpen(_)) {
            return None;
        }
        let body = &for_loop.body;
        let body_tokens = body.to_token_stream();
        if has_exit(&body_tokens) {
            return None;
        }
        let bound = bound_names(body);
        if bound.contains(&var.to_string()) {
            return None;
        }
        let accs: Vec<Accumulation> =
            body.stmts.iter().enumerate().filter_map(|(k, s)| accumulation(k, s, &var)).collect();
        // Every mention of a sink's root is one of these statements' left-hand sides.
        let roots: BTreeSet<String> = accs.iter().map(|a| a.root.clone()).collect();
        for root in &roots {
            let mentions = count_ident(&body_tokens, root);
            if mentions != accs.iter().filter(|a| &a.root == root).count() {
                return None;
            }
        }
        // A sink's place must not change inside the loop (`d_w[j]` with `j` rebound would).
        for a in &accs {
            let mut names = BTreeSet::new();
            collect_idents(&a.base.to_token_stream(), &mut names);
            if names.iter().any(|n| bound.contains(n) || var == n) {
                return None;
            }
        }
        // Groups by place; promote those written at exactly two neighbouring offsets. Two groups
        // of one root are distinct places only when both are field paths (`grad.p.w`, `grad.p.a`).
        let places: BTreeSet<String> = accs.iter().map(|a| a.base_text.clone()).collect();
        let mut promoted = Vec::new();
        for place in &places {
            let group: Vec<&Accumulation> = accs.iter().filter(|a| &a.base_text == place).collect();
            let offsets: BTreeSet<i64> = group.iter().map(|a| a.offset).collect();
            if offsets.len() != 2 {
                continue;
            }
            let (first, second) = (*offsets.iter().next()?, *offsets.iter().nth(1)?);
            if second != first + 1 {
                continue;
            }
            let root = &group[0].root;
            let shared = places.iter().filter(|p| accs.iter().any(|a| &a.base_text == *p && &a.root == root)).count();
            if shared > 1 && accs.iter().any(|a| &a.root == root && !is_field_path(&a.base)) {
                continue;
            }
            promoted.push((place.clone(), first, second));
        }
        if promoted.is_empty() {
            return None;
        }

        // The rewrite.
        let n = self.counter;
        self.counter += 1;
        let lo_name = format_ident!("__bp_lo_{}", n);
        let hi_name = format_ident!("__bp_hi_{}", n);
        let mut body = body.clone();
        let mut before = TokenStream::new();
        let mut after = TokenStream::new();
        let mut head = Vec::new();
        let mut tail = Vec::new();
        for (g, (place, first, second)) in promoted.iter().enumerate() {
            let carry = format_ident!("__bp_carry_{}_{}", n, g);
            let next = format_ident!("__bp_next_{}_{}", n, g);
            let lower = accs.iter().find(|a| &a.base_text == place && a.offset == *first)?;
            let upper = accs.iter().find(|a| &a.base_text == place && a.offset == *second)?;
            let base = &lower.base;
            let (i_lo, i_hi) = (&lower.index, &upper.index);
            // The element carried from one iteration to the next: written at `i + 1` in iteration
            // `i` of an ascending loop, at `i` of a descending one.
            let (carried, fresh) = if reversed { (i_hi, i_lo) } else { (i_lo, i_hi) };
            let start = if reversed { quote!(#hi_name - 1) } else { quote!(#lo_name) };
            let end = if reversed { quote!(#lo_name) } else { quote!(#hi_name - 1) };
            let end_index = if reversed { i_lo } else { i_hi };
            before.extend(quote!(let mut #carry = { let #var = #start; #base[#carried] };));
            head.push(syn::parse_quote!(let mut #next = #base[#fresh];));
            tail.push(syn::parse_quote!(#base[#carried] = #carry;));
            tail.push(syn::parse_quote!(#carry = #next;));
            after.extend(quote!({ let #var = #end; #base[#end_index] = #carry; }));
            for a in accs.iter().filter(|a| &a.base_text == place) {
                let target = if a.offset == *first {
                    if reversed {
                        &next
                    } else {
                        &carry
                    }
                } else if reversed {
                    &carry
                } else {
                    &next
                };
                replace_target(&mut body.stmts[a.stmt], target);
            }
        }
        // The last statement may be an expression without its semicolon.
        if let Some(syn::Stmt::Expr(e, semi @ None)) = body.stmts.last_mut() {
            if !matches!(e, syn::Expr::If(_) | syn::Expr::Block(_) | syn::Expr::ForLoop(_) | syn::Expr::While(_)) {
                *semi = Some(Default::default());
            }
        }
        let mut stmts = head;
        stmts.append(&mut body.stmts);
        stmts.append(&mut tail);
        body.stmts = stmts;
        let iter = if reversed { quote!((#lo_name..#hi_name).rev()) } else { quote!(#lo_name..#hi_name) };
        let expr: syn::Expr = syn::parse_quote!({
            let #lo_name: usize = #lo;
            let #hi_name: usize = #hi;
            if #lo_name < #hi_name {
                #before
                for #var in #iter #body
                #after
            }
        });
        Some(expr)
    }
}

/// `lo..hi` or `(lo..hi).rev()`, and whether reversed.
fn range_of(expr: &syn::Expr) -> Option<(&syn::ExprRange, bool)> {
    match expr {
        syn::Expr::Range(r) => Some((r, false)),
        syn::Expr::Paren(p) => range_of(&p.expr),
        syn::Expr::MethodCall(m) if m.method == "rev" && m.args.is_empty() && m.turbofish.is_none() => {
            match range_of(&m.receiver)? {
                (r, false) => Some((r, true)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn accumulation(k: usize, stmt: &syn::Stmt, var: &Ident) -> Option<Accumulation> {
    let expr = match stmt {
        syn::Stmt::Expr(e, _) => e,
        _ => return None,
    };
    let expr = match expr {
        syn::Expr::If(i) if i.else_branch.is_none() && is_flag(&i.cond) && i.then_branch.stmts.len() == 1 => {
            match &i.then_branch.stmts[0] {
                syn::Stmt::Expr(e, _) => e,
                _ => return None,
            }
        }
        e => e,
    };
    let syn::Expr::Binary(bin) = expr else { return None };
    if !matches!(bin.op, syn::BinOp::AddAssign(_)) {
        return None;
    }
    let syn::Expr::Index(place) = &*bin.left else { return None };
    let offset = offset_of(&place.index, var)?;
    let root = root_of(&place.expr)?;
    if !(root == "grad" || root.starts_with("d_")) {
        return None;
    }
    Some(Accumulation {
        stmt: k,
        base: (*place.expr).clone(),
        base_text: place.expr.to_token_stream().to_string(),
        root,
        offset,
        index: (*place.index).clone(),
    })
}

fn is_flag(cond: &syn::Expr) -> bool {
    matches!(cond, syn::Expr::Path(p) if p.path.get_ident().is_some())
}

/// `i` → 0, `i + 3` → 3, `i - 1` → −1.
fn offset_of(index: &syn::Expr, var: &Ident) -> Option<i64> {
    let is_var = |e: &syn::Expr| matches!(e, syn::Expr::Path(p) if p.path.is_ident(var));
    let literal = |e: &syn::Expr| match e {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. }) => n.base10_parse::<i64>().ok(),
        _ => None,
    };
    match index {
        e if is_var(e) => Some(0),
        syn::Expr::Paren(p) => offset_of(&p.expr, var),
        syn::Expr::Binary(b) if is_var(&b.left) => match b.op {
            syn::BinOp::Add(_) => literal(&b.right),
            syn::BinOp::Sub(_) => literal(&b.right).map(|n| -n),
            _ => None,
        },
        _ => None,
    }
}

/// The variable a place starts from (`grad` of `grad.p.w`, `d_w1` of `d_w1[j]`).
fn root_of(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        syn::Expr::Field(f) => root_of(&f.base),
        syn::Expr::Index(i) => root_of(&i.expr),
        syn::Expr::Paren(p) => root_of(&p.expr),
        _ => None,
    }
}

fn is_field_path(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Path(p) => p.path.get_ident().is_some(),
        syn::Expr::Field(f) => is_field_path(&f.base),
        _ => false,
    }
}

/// Rewrites `base[index] += value` (possibly under `if FLAG`) into `target += value`.
fn replace_target(stmt: &mut syn::Stmt, target: &Ident) {
    let syn::Stmt::Expr(expr, _) = stmt else { return };
    let expr = match expr {
        syn::Expr::If(i) => match &mut i.then_branch.stmts[0] {
            syn::Stmt::Expr(e, _) => e,
            _ => return,
        },
        e => e,
    };
    if let syn::Expr::Binary(bin) = expr {
        *bin.left = syn::parse_quote!(#target);
    }
}

fn has_exit(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == "break" || i == "continue" || i == "return",
        TokenTree::Punct(p) => p.as_char() == '?',
        TokenTree::Group(g) => has_exit(&g.stream()),
        TokenTree::Literal(_) => false,
    })
}

fn mentions_prefix(tokens: &TokenStream, prefix: &str) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        TokenTree::Ident(i) => i.to_string().starts_with(prefix),
        TokenTree::Group(g) => mentions_prefix(&g.stream(), prefix),
        _ => false,
    })
}

fn count_ident(tokens: &TokenStream, name: &str) -> usize {
    tokens
        .clone()
        .into_iter()
        .map(|t| match t {
            TokenTree::Ident(i) => usize::from(i == name),
            TokenTree::Group(g) => count_ident(&g.stream(), name),
            _ => 0,
        })
        .sum()
}

fn collect_idents(tokens: &TokenStream, out: &mut BTreeSet<String>) {
    for t in tokens.clone() {
        match t {
            TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            TokenTree::Group(g) => collect_idents(&g.stream(), out),
            _ => {}
        }
    }
}

/// Names bound (`let`, patterns) or assigned (`x = ..`, `x += ..`) anywhere in a block.
fn bound_names(block: &syn::Block) -> BTreeSet<String> {
    struct Bound(BTreeSet<String>);
    impl<'ast> Visit<'ast> for Bound {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.insert(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            if let syn::Expr::Path(p) = &*a.left {
                if let Some(i) = p.path.get_ident() {
                    self.0.insert(i.to_string());
                }
            }
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            if is_compound(&b.op) {
                if let syn::Expr::Path(p) = &*b.left {
                    if let Some(i) = p.path.get_ident() {
                        self.0.insert(i.to_string());
                    }
                }
            }
            syn::visit::visit_expr_binary(self, b);
        }
    }
    let mut v = Bound(BTreeSet::new());
    v.visit_block(block);
    v.0
}

fn is_compound(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
}
