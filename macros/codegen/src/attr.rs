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
}

enum OptionItem {
    Wrt(Ident, Vec<Ident>),
    MaxIterations(Ident, syn::LitInt),
    Explain(Ident),
    Unknown(Ident),
}

impl Parse for OptionItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        if key == "wrt" {
            let content;
            syn::parenthesized!(content in input);
            let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
            Ok(OptionItem::Wrt(key, names.into_iter().collect()))
        } else if key == "max_iterations" && input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Ok(OptionItem::MaxIterations(key, input.parse()?))
        } else if key == "explain" && !input.peek(syn::token::Paren) && !input.peek(Token![=]) {
            Ok(OptionItem::Explain(key))
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
                    OptionItem::Unknown(key) if key == "explain" => {
                        cx.error_spanned_by(&key, "`explain` takes no arguments: write `#[backprop(explain)]`")
                    }
                    OptionItem::Unknown(key) if key == "max_iterations" => {
                        cx.error_spanned_by(&key, "write `max_iterations = N` with a positive whole number")
                    }
                    OptionItem::Unknown(key) => cx.error_spanned_by(
                        &key,
                        format!(
                            "unknown `#[backprop]` option `{key}`; the supported options are `wrt(a, b, ...)`, `explain` and `max_iterations = N`"
                        ),
                    ),
                }
            }
        }
        Err(e) => cx.syn_error(syn::Error::new(e.span(), format!("{e}; {USAGE}"))),
    }
    options
}
