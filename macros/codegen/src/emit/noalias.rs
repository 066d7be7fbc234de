//! `&Vec<T>` arguments read as slice arguments in the generated functions (issue 17).
//!
//! A `&[T]` argument tells LLVM that nothing writes its elements while the function runs
//! (`noalias readonly`); a `&Vec<T>` argument says that only of the three words of the `Vec`,
//! never of the heap buffer they point to. In a gradient the backward sweep stores into the
//! gradient's buffers on every iteration, so over `&Vec<f64>` LLVM must assume each store may
//! change `x`: on extended Rosenbrock it reloads `x[i]` (which the previous iteration had loaded
//! as `x[i + 1]`) and pairs the two loads into one 16-byte load with shuffles, 1.2× slower than
//! the same body over `&[f64]` (whose machine code is the best hand-written gradient's).
//!
//! The pass wraps the body of a generated function that has such an argument in a closure whose
//! parameters are the slices, called at once:
//!
//! ```text
//! fn f_grad_acc(x: &Vec<f64>, grad: &mut FGrad) -> f64 {
//!     (move |x: &[f64]| -> f64 { ..body.. })(::std::vec::Vec::as_slice(x))
//! }
//! ```
//!
//! The closure is inlined; its reference parameters carry `noalias readonly` into the inlined
//! body as alias scopes, so the loop is the slice form's, instruction for instruction. The
//! signature (what callers see) does not change. The rewrite applies only where it changes
//! nothing else: every mention of the argument in the body is an index base (`x[..]`) or the
//! receiver of a method that a slice has with the same meaning (`x.len()`, `x.iter()`, ..); an
//! argument passed on to a call, named in a macro or shadowed keeps its `Vec` type and the
//! function is left as it is. The return type must not borrow (no `&`, `'a` or `impl`), so the
//! closure's result never refers to its parameters.

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::visit::Visit;

/// Applies the rewrite to every function item in `tokens` except the user's own (`user`).
/// `BACKPROP_NOALIAS=off` (at compile time) leaves them as they are, to measure the pass.
pub fn vec_arguments_as_slices(tokens: TokenStream, user: &Ident) -> TokenStream {
    if std::env::var_os("BACKPROP_NOALIAS").is_some_and(|v| v == "off") {
        return tokens;
    }
    // Cheap exit: no `Vec` anywhere, nothing to do (most functions).
    if !mentions_ident(&tokens, "Vec") {
        return tokens;
    }
    let Ok(mut file) = syn::parse2::<syn::File>(tokens.clone()) else { return tokens };
    let mut changed = false;
    for item in &mut file.items {
        match item {
            syn::Item::Fn(f) if f.sig.ident != *user => changed |= rewrite(&f.sig, &mut f.block),
            syn::Item::Impl(block) => {
                for it in &mut block.items {
                    if let syn::ImplItem::Fn(f) = it {
                        if f.sig.ident != *user {
                            changed |= rewrite(&f.sig, &mut f.block);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if changed {
        file.into_token_stream()
    } else {
        tokens
    }
}

/// Wraps `block` when `sig` has `&Vec<T>` arguments that the body only indexes or asks slice
/// methods of. Returns whether it did.
fn rewrite(sig: &syn::Signature, block: &mut syn::Block) -> bool {
    if sig.asyncness.is_some() || sig.constness.is_some() || sig.variadic.is_some() {
        return false;
    }
    if let syn::ReturnType::Type(_, ty) = &sig.output {
        let text = ty.to_token_stream().to_string();
        if text.contains('&') || text.contains('\'') || text.contains("impl") {
            return false;
        }
    }
    let mut slices: Vec<(Ident, syn::Type)> = Vec::new();
    for input in &sig.inputs {
        let syn::FnArg::Typed(arg) = input else { continue };
        let syn::Pat::Ident(pat) = &*arg.pat else { continue };
        if pat.by_ref.is_some() || pat.mutability.is_some() || pat.subpat.is_some() {
            continue;
        }
        let Some(elem) = vec_element(&arg.ty) else { continue };
        if slice_uses_only(block, &pat.ident) {
            slices.push((pat.ident.clone(), elem));
        }
    }
    if slices.is_empty() {
        return false;
    }
    let params = slices.iter().map(|(name, elem)| quote!(#name: &[#elem]));
    let args = slices.iter().map(|(name, _)| quote!(::std::vec::Vec::as_slice(#name)));
    let output = match &sig.output {
        syn::ReturnType::Default => quote!(),
        syn::ReturnType::Type(arrow, ty) => quote!(#arrow #ty),
    };
    // `let _ = f;` (the generated function naming the user's) stays first, outside the closure,
    // where later passes look for it.
    let lead = block.stmts.iter().take_while(|s| is_let_underscore_path(s)).count();
    let (head, stmts) = block.stmts.split_at(lead);
    *block = syn::parse_quote!({
        #(#head)*
        (move |#(#params),*| #output { #(#stmts)* })(#(#args),*)
    });
    true
}

fn is_let_underscore_path(stmt: &syn::Stmt) -> bool {
    matches!(stmt, syn::Stmt::Local(l)
        if matches!(l.pat, syn::Pat::Wild(_))
            && l.init.as_ref().is_some_and(|i| matches!(*i.expr, syn::Expr::Path(_)) && i.diverge.is_none()))
}

/// `T` of `&Vec<T>` (`Vec`, `std::vec::Vec` or `::std::vec::Vec`), not of `&mut Vec<T>`.
fn vec_element(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Reference(r) = ty else { return None };
    if r.mutability.is_some() {
        return None;
    }
    let syn::Type::Path(p) = &*r.elem else { return None };
    if p.qself.is_some() {
        return None;
    }
    let names: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    if !matches!(names.as_slice(), ["Vec"] | ["std", "vec", "Vec"] | ["alloc", "vec", "Vec"]) {
        return None;
    }
    let last = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [syn::GenericArgument::Type(t)] => Some(t.clone()),
        _ => None,
    }
}

/// Slice methods that mean the same on `&Vec<T>` (auto-deref) and on `&[T]`.
const SLICE_METHODS: &[&str] = &[
    "len",
    "is_empty",
    "iter",
    "get",
    "first",
    "last",
    "windows",
    "chunks",
    "chunks_exact",
    "split_at",
    "split_first",
    "split_last",
    "to_vec",
    "contains",
];

/// Whether every mention of `name` in `block` is `name[..]` or `name.method(..)` with a method
/// of [`SLICE_METHODS`], and `name` is never rebound nor named inside a macro.
fn slice_uses_only(block: &syn::Block, name: &Ident) -> bool {
    struct Uses<'a> {
        name: &'a Ident,
        other: bool,
    }
    impl Uses<'_> {
        fn is_name(&self, e: &syn::Expr) -> bool {
            matches!(e, syn::Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.name))
        }
    }
    impl<'ast> Visit<'ast> for Uses<'_> {
        fn visit_expr(&mut self, e: &'ast syn::Expr) {
            match e {
                syn::Expr::Index(i) if self.is_name(&i.expr) => self.visit_expr(&i.index),
                syn::Expr::MethodCall(m)
                    if self.is_name(&m.receiver) && SLICE_METHODS.iter().any(|s| m.method == s) =>
                {
                    for a in &m.args {
                        self.visit_expr(a);
                    }
                }
                syn::Expr::Path(p) if p.path.is_ident(self.name) => self.other = true,
                _ => syn::visit::visit_expr(self, e),
            }
        }
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            if p.ident == *self.name {
                self.other = true;
            }
            syn::visit::visit_pat_ident(self, p);
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if mentions_ident(&m.tokens, &self.name.to_string()) {
                self.other = true;
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {
            // A nested item cannot name the function's arguments.
        }
    }
    let mut uses = Uses { name, other: false };
    uses.visit_block(block);
    !uses.other
}

fn mentions_ident(tokens: &TokenStream, name: &str) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == name,
        TokenTree::Group(g) => mentions_ident(&g.stream(), name),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> String {
        let tokens: TokenStream = src.parse().unwrap();
        let user = Ident::new("user", proc_macro2::Span::call_site());
        vec_arguments_as_slices(tokens, &user).to_string()
    }

    #[test]
    fn an_indexed_vec_argument_becomes_a_slice_parameter() {
        let out = run("fn f_grad_acc(x: &Vec<f64>, grad: &mut G) -> f64 { let n = x.len(); x[0] * grad.x[n - 1] }");
        assert!(out.contains("move | x : & [f64] | -> f64"), "{out}");
        assert!(out.contains(":: std :: vec :: Vec :: as_slice (x)"), "{out}");
    }

    #[test]
    fn the_marker_naming_the_user_function_stays_first() {
        let out = run("fn f_grad_acc(x: &Vec<f64>) -> f64 { let _ = user; x[0] }");
        assert!(out.starts_with("fn f_grad_acc (x : & Vec < f64 >) -> f64 { let _ = user ; (move |"), "{out}");
    }

    #[test]
    fn a_vec_passed_on_or_shadowed_or_in_a_macro_is_left_alone() {
        for body in ["g(x)", "{ let x = 1.0; x }", "{ let v = vec![0.0; x.len()]; v[0] }", "x.capacity() as f64"] {
            let src = format!("fn f_grad_acc(x: &Vec<f64>) -> f64 {{ {body} }}");
            assert!(!run(&src).contains("as_slice"), "{body}");
        }
    }

    #[test]
    fn the_user_function_and_borrowing_results_are_left_alone() {
        assert!(!run("fn user(x: &Vec<f64>) -> f64 { x[0] }").contains("as_slice"));
        assert!(!run("fn f_vjp<'a>(x: &'a Vec<f64>) -> (f64, impl Fn() + 'a) { (x[0], || ()) }").contains("as_slice"));
        assert!(!run("fn f_grad_acc(x: &mut Vec<f64>) -> f64 { x[0] }").contains("as_slice"));
    }
}
