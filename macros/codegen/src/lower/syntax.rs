//! Helpers the syntax-level rewrites share (`iterators.rs`, `exits.rs`, `returns.rs`).

use syn::Expr;

/// An identifier for a name the rewrites make up (`__backprop_..`, see `plan::HIDDEN`).
pub fn ident(name: &str) -> syn::Ident {
    syn::Ident::new(name, proc_macro2::Span::call_site())
}

/// `i` with `f` applied to the block of every branch, through `else if` chains.
pub fn map_if_blocks(i: &syn::ExprIf, f: &mut dyn FnMut(&mut syn::Block)) -> syn::ExprIf {
    let mut i = i.clone();
    f(&mut i.then_branch);
    if let Some((else_token, e)) = &i.else_branch {
        let e: Expr = match &**e {
            Expr::If(nested) => Expr::If(map_if_blocks(nested, f)),
            Expr::Block(b) => {
                let mut b = b.clone();
                f(&mut b.block);
                Expr::Block(b)
            }
            other => other.clone(),
        };
        i.else_branch = Some((*else_token, Box::new(e)));
    }
    i
}
