//! Error collection: every stage reports into one `Ctxt`, and the caller turns the whole list into a
//! single `syn::Error` (combined), so a user sees all problems of a function in one compile.

use proc_macro2::Span;
use std::cell::RefCell;
use std::fmt::Display;

/// Collects errors with their spans. Stages keep going after an error so later ones are found too.
#[derive(Default)]
pub struct Ctxt {
    errors: RefCell<Vec<syn::Error>>,
}

impl Ctxt {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error spanned on the tokens of `tokens` (the whole construct, start to end).
    pub fn error_spanned_by<T: quote::ToTokens, M: Display>(&self, tokens: T, message: M) {
        self.errors.borrow_mut().push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error at one span.
    pub fn error_at<M: Display>(&self, span: Span, message: M) {
        self.errors.borrow_mut().push(syn::Error::new(span, message));
    }

    /// Records an error that syn already built (a parse error, for example).
    pub fn syn_error(&self, error: syn::Error) {
        self.errors.borrow_mut().push(error);
    }

    pub fn error_count(&self) -> usize {
        self.errors.borrow().len()
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.borrow().is_empty()
    }

    /// All errors so far as one combined error, or `Ok` when there are none.
    pub fn check(&self) -> syn::Result<()> {
        let taken: Vec<syn::Error> = self.errors.borrow_mut().drain(..).collect();
        let mut errors = taken.into_iter();
        match errors.next() {
            None => Ok(()),
            Some(mut first) => {
                for e in errors {
                    first.combine(e);
                }
                Err(first)
            }
        }
    }
}
