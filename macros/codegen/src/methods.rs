//! Methods: `#[backprop]` on an `impl` block, and on each method to differentiate.
//!
//! A method's gradient struct cannot be written inside an `impl` block, and an attribute on a
//! method alone sees only the method; so the block carries the attribute too:
//!
//! ```text
//! #[backprop]
//! impl Net {
//!     #[backprop]
//!     fn loss(&self, x: &[f64; 4], label: usize) -> f64 { .. }
//! }
//! ```
//!
//! writes `struct NetLossGrad { self_: Net, .. }` after the block and `loss_grad`, `loss_grad_acc`
//! and `loss_pullback` into it, as methods (`net.loss_grad(&x, label)`). `&self` is a parameter
//! struct (`self.l1.w[j][i]`), and its gradient is a `Net` in the field `self_`.

use crate::attr;
use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// Where a function's generated code goes.
pub enum Place {
    Free,
    /// Inside `impl <ty>`; `name` is the type's last path segment, which prefixes the gradient
    /// struct's name.
    Method {
        name: String,
    },
}

impl Place {
    pub(crate) fn configure(&self, emitter: &mut crate::emit::Emitter) {
        if let Place::Method { name } = self {
            emitter.sibling = quote!(Self::);
            emitter.struct_prefix = name.clone();
        }
    }
}

/// Whether an attribute is `#[backprop]` or `#[backprop(..)]` (also as `backprop::backprop`).
fn is_backprop(a: &syn::Attribute) -> bool {
    a.path().segments.last().is_some_and(|s| s.ident == "backprop")
}

/// Expands `#[backprop(attr)] impl Ty { .. }`.
pub fn expand(attr: TokenStream, mut block: syn::ItemImpl) -> Result<TokenStream, TokenStream> {
    let cx = Ctxt::new();
    if !attr.is_empty() {
        cx.error_spanned_by(
            &attr,
            "`#[backprop]` on an `impl` block takes no options; put them on the methods: `#[backprop(wrt(..))] fn loss(&self, ..)`",
        );
    }
    if let Some((_, path, _)) = &block.trait_ {
        cx.error_spanned_by(
            path,
            "`#[backprop]` on a trait implementation is not supported: the gradient functions are not the trait's; put the method in an inherent `impl` block",
        );
    }
    if !block.generics.params.is_empty() {
        cx.error_spanned_by(
            &block.generics,
            "`#[backprop]` on a generic `impl` block is not supported yet; implement the method for a concrete type, or write a free function taking `net: &Net<H>`",
        );
    }
    let self_ty = block.self_ty.to_token_stream();
    let name = match &*block.self_ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
        _ => String::new(),
    };
    if let Some(e) = cx.check().err() {
        let e = e.to_compile_error();
        strip_markers(&mut block);
        return Err(quote!(#e #block));
    }
    let plain = plain_methods(&block);
    let mut inside = Vec::new();
    let mut outside = TokenStream::new();
    let mut found = false;
    for item in std::mem::take(&mut block.items) {
        let syn::ImplItem::Fn(method) = item else {
            inside.push(item);
            continue;
        };
        let Some(position) = method.attrs.iter().position(is_backprop) else {
            inside.push(syn::ImplItem::Fn(method));
            continue;
        };
        found = true;
        let mut method = method;
        let marker = method.attrs.remove(position);
        let args = match &marker.meta {
            syn::Meta::List(list) => list.tokens.clone(),
            _ => TokenStream::new(),
        };
        let cx = Ctxt::new();
        let mut options = attr::parse_options(&cx, args);
        options.self_ty = Some(self_ty.clone());
        let func = syn::ItemFn {
            attrs: method.attrs.clone(),
            vis: method.vis.clone(),
            sig: method.sig.clone(),
            block: Box::new(method.block.clone()),
        };
        if method.sig.receiver().is_none() {
            cx.error_spanned_by(
                &method.sig.ident,
                "a `#[backprop]` method takes `&self` (its parameters); an associated function without `self` is written as a free `#[backprop]` function",
            );
        }
        calls_of_plain_methods(&cx, &method.block, &plain);
        let expanded = if cx.has_errors() {
            Err(cx.check().err().map(|e| e.to_compile_error()).unwrap_or_default())
        } else {
            crate::expand_function_in(cx, &options, &func, &Place::Method { name: name.clone() })
        };
        match expanded {
            Ok(tokens) => match syn::parse2::<syn::File>(tokens) {
                Ok(file) => {
                    for item in file.items {
                        match item {
                            syn::Item::Fn(f) => inside.push(syn::ImplItem::Fn(syn::ImplItemFn {
                                attrs: f.attrs,
                                vis: f.vis,
                                defaultness: None,
                                sig: f.sig,
                                block: *f.block,
                            })),
                            other => outside.extend(other.to_token_stream()),
                        }
                    }
                }
                Err(e) => {
                    outside.extend(e.to_compile_error());
                    inside.push(syn::ImplItem::Fn(method));
                }
            },
            Err(errors) => {
                // The errors, and the method as written so the rest of the code compiles.
                outside.extend(errors);
                inside.push(syn::ImplItem::Fn(method));
            }
        }
    }
    if !found {
        let message = "`#[backprop]` on an `impl` block differentiates the methods marked `#[backprop]` in it, and none is: mark the cost method (`#[backprop] fn loss(&self, ..) -> f64`)";
        let e = syn::Error::new_spanned(&block.self_ty, message).to_compile_error();
        block.items = inside;
        return Err(quote!(#e #block));
    }
    block.items = inside;
    Ok(quote!(#block #outside))
}

/// Drops the `#[backprop]` markers of methods (after an error, so that the block compiles as
/// written without expanding them again).
fn strip_markers(block: &mut syn::ItemImpl) {
    for item in &mut block.items {
        if let syn::ImplItem::Fn(m) = item {
            m.attrs.retain(|a| !is_backprop(a));
        }
    }
}

/// The methods and associated functions of the block without `#[backprop]`: a `#[backprop]`
/// method calling one of them (`self.plain(..)`, `Self::plain(..)`) would otherwise fail with
/// rustc's ``no method named `plain_vjp` ``; this block is the one place the macro sees them.
fn plain_methods(block: &syn::ItemImpl) -> Vec<(String, bool)> {
    block
        .items
        .iter()
        .filter_map(|item| match item {
            syn::ImplItem::Fn(m) if !m.attrs.iter().any(is_backprop) => {
                Some((m.sig.ident.to_string(), m.sig.receiver().is_some()))
            }
            _ => None,
        })
        .collect()
}

/// Reports each call of a plain method of the same block, on the call, with both fixes.
fn calls_of_plain_methods(cx: &Ctxt, body: &syn::Block, plain: &[(String, bool)]) {
    struct Calls<'a> {
        cx: &'a Ctxt,
        plain: &'a [(String, bool)],
    }
    impl Calls<'_> {
        /// `method_syntax`: `self.name(..)`, which names a method only when it takes `self`.
        fn report(&self, name: &syn::Ident, span: &dyn ToTokens, method_syntax: bool) {
            let Some((_, has_self)) = self.plain.iter().find(|(n, _)| name == n.as_str()) else { return };
            if method_syntax && !*has_self {
                return;
            }
            let params = if *has_self { "&self, .." } else { ".." };
            self.cx.error_spanned_by(
                span,
                format!(
                    "`{name}` has neither `#[backprop]` nor a custom derivative, so a `#[backprop]` method cannot call it \
                     (its caller's backward sweep calls `{name}_pullback`); put `#[backprop]` on it \
                     (`#[backprop] fn {name}({params}) -> f64` in this `impl` block), or give it a custom derivative \
                     (`#[backprop(pullback = {name}_rule)] fn {name}({params})`, the rule's signature in docs/CALLS.md)"
                ),
            );
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Calls<'_> {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if matches!(&*m.receiver, syn::Expr::Path(p) if p.path.is_ident("self")) {
                self.report(&m.method, &m.method, true);
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            if let syn::Expr::Path(p) = &*c.func {
                let segments = &p.path.segments;
                if segments.len() == 2 && segments[0].ident == "Self" {
                    self.report(&segments[1].ident, &c.func, false);
                }
            }
            syn::visit::visit_expr_call(self, c);
        }
    }
    syn::visit::Visit::visit_block(&mut Calls { cx, plain }, body);
}
