//! The attribute's own arguments: `#[backprop]`, `#[backprop(wrt(a, b))]`, `#[backprop(explain)]`.

use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, Token};

/// What the attribute asks for.
#[derive(Default, Debug, Clone)]
pub struct Options {
    /// `wrt(...)`: the arguments to differentiate, with their spans. `None`: every float argument.
    pub wrt: Option<Vec<Ident>>,
    /// `max_iterations = N`: a `while` loop that runs more iterations stops the gradient function
    /// with a message naming the bound, instead of growing its tapes without end.
    pub max_iterations: Option<u64>,
    /// `explain`: also generate `<name>_explain`, the gradient's factors with their values.
    pub explain: bool,
    /// `hessian`: also generate `<name>_hvp`, `<name>_hessian`, `<name>_jvp` and the dual copies
    /// of the pullback that callers' second derivatives call (`second_order/`).
    pub hessian: bool,
    /// `forward`: also generate forward-mode derivatives, `<name>_jvp`, `<name>_grad_fwd`,
    /// `<name>_hvp_fwd` and the forward gradient as a differentiable call (`second_order/forward.rs`).
    pub forward: bool,
    /// `pullback = my_vjp`: a custom derivative. The body is not differentiated; callers'
    /// backward sweeps call `my_vjp` (through `<name>_pullback`, see `custom.rs`).
    pub pullback: Option<syn::Path>,
    /// Set for a method by `methods.rs` (not an attribute option): the `impl` block's type, which
    /// `&self` stands for.
    pub self_ty: Option<TokenStream>,
}

enum OptionItem {
    Wrt(Ident, Vec<Ident>),
    MaxIterations(Ident, syn::LitInt),
    Explain(Ident),
    Hessian(Ident),
    Forward(Ident),
    Pullback(Ident, syn::Path),
    Unknown(Ident),
}

impl Parse for OptionItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        if key == "wrt" {
            let content;
            syn::parenthesized!(content in input);
            // `self` too, for a method.
            let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, syn::ext::IdentExt::parse_any)?;
            Ok(OptionItem::Wrt(key, names.into_iter().collect()))
        } else if key == "max_iterations" && input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Ok(OptionItem::MaxIterations(key, input.parse()?))
        } else if key == "pullback" && input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Ok(OptionItem::Pullback(key, input.parse()?))
        } else if key == "explain" && !input.peek(syn::token::Paren) && !input.peek(Token![=]) {
            Ok(OptionItem::Explain(key))
        } else if key == "hessian" && !input.peek(syn::token::Paren) && !input.peek(Token![=]) {
            Ok(OptionItem::Hessian(key))
        } else if key == "forward" && !input.peek(syn::token::Paren) && !input.peek(Token![=]) {
            Ok(OptionItem::Forward(key))
        } else {
            // Swallow whatever follows so that one unknown option yields one clear message.
            if input.peek(syn::token::Paren) {
                let content;
                syn::parenthesized!(content in input);
                content.parse::<proc_macro2::TokenStream>()?;
            } else if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                input.parse::<syn::Expr>()?;
            }
            Ok(OptionItem::Unknown(key))
        }
    }
}

const USAGE: &str = "expected `#[backprop]` or `#[backprop(wrt(a, b, ...))]`";

/// Parses the attribute arguments, reporting problems into `cx`.
pub fn parse_options(cx: &Ctxt, args: TokenStream) -> Options {
    let mut options = Options::default();
    if args.is_empty() {
        return options;
    }
    let parser = Punctuated::<OptionItem, Token![,]>::parse_terminated;
    match parser.parse2(args) {
        Ok(items) => {
            for item in items {
                match item {
                    OptionItem::Wrt(key, names) => {
                        if options.wrt.is_some() {
                            cx.error_spanned_by(
                                &key,
                                "duplicate `wrt(...)` option; list every argument in one `wrt(...)`",
                            );
                        } else if names.is_empty() {
                            cx.error_spanned_by(&key, "`wrt()` is empty; name the arguments to differentiate, e.g. `wrt(w1, w2)`, or drop `wrt` to differentiate every float argument");
                        } else {
                            options.wrt = Some(names);
                        }
                    }
                    OptionItem::MaxIterations(key, n) => match n.base10_parse::<u64>() {
                        Ok(0) | Err(_) => cx.error_spanned_by(&n, "`max_iterations` takes a positive whole number"),
                        Ok(_) if options.max_iterations.is_some() => {
                            cx.error_spanned_by(&key, "duplicate `max_iterations` option")
                        }
                        Ok(v) => options.max_iterations = Some(v),
                    },
                    OptionItem::Explain(key) => {
                        if options.explain {
                            cx.error_spanned_by(&key, "duplicate `explain` option");
                        }
                        options.explain = true;
                    }
                    OptionItem::Hessian(key) => {
                        if options.hessian {
                            cx.error_spanned_by(&key, "duplicate `hessian` option");
                        }
                        options.hessian = true;
                    }
                    OptionItem::Forward(key) => {
                        if options.forward {
                            cx.error_spanned_by(&key, "duplicate `forward` option");
                        }
                        options.forward = true;
                    }
                    OptionItem::Pullback(key, path) => {
                        if options.pullback.is_some() {
                            cx.error_spanned_by(&key, "duplicate `pullback` option");
                        }
                        options.pullback = Some(path);
                    }
                    OptionItem::Unknown(key) if key == "pullback" => cx.error_spanned_by(
                        &key,
                        "write `pullback = my_vjp`, naming the function that computes this function's pullback",
                    ),
                    OptionItem::Unknown(key) if key == "explain" => {
                        cx.error_spanned_by(&key, "`explain` takes no arguments: write `#[backprop(explain)]`")
                    }
                    OptionItem::Unknown(key) if key == "max_iterations" => {
                        cx.error_spanned_by(&key, "write `max_iterations = N` with a positive whole number")
                    }
                    OptionItem::Unknown(key) => cx.error_spanned_by(
                        &key,
                        format!(
                            "unknown `#[backprop]` option `{key}`; the supported options are `wrt(a, b, ...)`, `explain`, `hessian`, `forward`, `max_iterations = N` and `pullback = path`"
                        ),
                    ),
                }
            }
        }
        Err(e) => cx.syn_error(syn::Error::new(e.span(), format!("{e}; {USAGE}"))),
    }
    options
}
