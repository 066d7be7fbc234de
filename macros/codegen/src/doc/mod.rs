//! The gradient function's doc comment: the derivation as chains of local factors, and the generated
//! code itself, so `cargo doc` and an editor's hover show how each partial derivative is computed.

pub mod chains;
#[cfg(test)]
mod tests;

use crate::diff::Derivation;
use crate::emit::Emitter;
use crate::ir::ValueId;
use crate::rules::Factor;
use chains::{Chain, Form, Link, Omission, Target};
use proc_macro2::TokenStream;
use std::fmt::Write;

/// Generated code longer than this is not repeated in the doc comment.
const MAX_LISTED_LINES: usize = 120;

/// Pretty-prints an expression's tokens (`2.0 * (a3 - y)`).
pub fn pretty_expr(tokens: TokenStream) -> String {
    let text = tokens.to_string();
    let Ok(expr) = syn::parse2::<syn::Expr>(tokens) else {
        return text;
    };
    let file: syn::File = syn::parse_quote!(const X: () = #expr;);
    let printed = prettyplease::unparse(&file);
    let body = printed.trim().trim_start_matches("const X: () = ").trim_end_matches(';').trim();
    body.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub struct DocWriter<'e, 'a> {
    pub emitter: &'e Emitter<'a>,
    pub derivation: &'e Derivation,
    pub result_name: String,
}

/// `u₁`, `u₂`, ..: subscript digits are not identifier characters, so no user name can look alike.
pub fn symbol_name(k: usize) -> String {
    let digits: String =
        k.to_string().chars().map(|c| char::from_u32(0x2080 + c.to_digit(10).unwrap_or(0)).unwrap_or(c)).collect();
    format!("u{digits}")
}

impl DocWriter<'_, '_> {
    fn f(&self) -> &crate::ir::Function {
        self.emitter.f
    }

    fn label(&self, v: ValueId, symbols: &[ValueId]) -> String {
        let f = self.f();
        if Some(v) == f.output {
            return "C".to_string();
        }
        if chains::is_named(f, v) {
            if let Some(n) = self.emitter.name(v) {
                return n.to_string();
            }
        }
        match symbols.binary_search(&v) {
            Ok(k) => symbol_name(k + 1),
            Err(_) => format!("({})", self.text(v)),
        }
    }

    /// A value as the reader knows it: the runtime's activation helpers without their crate path.
    fn text(&self, v: ValueId) -> String {
        pretty_expr(self.emitter.doc_expr(v)).replace("::backprop::__private::activation::", "")
    }

    /// The value of a local factor, as it reads in the generated code (`1` for none).
    fn factor_text(&self, factor: Factor) -> String {
        let paren = |s: String| if s.contains(' ') { format!("({s})") } else { s };
        match factor {
            Factor::One | Factor::Cast(_) => "1".to_string(),
            Factor::MinusOne => "(-1)".to_string(),
            Factor::Times(f) => paren(self.text(f)),
            Factor::Over(g) => format!("(1 / {})", paren(self.text(g))),
            Factor::MinusOver(g) => format!("(-1 / {})", paren(self.text(g))),
        }
    }

    /// The lines of `∂C/∂target`: symbols first, then values, one product per line.
    fn target_lines(&self, doc: &mut String, t: &Target, symbols: &[ValueId]) {
        let name = self.label(t.value, symbols);
        let head = format!("∂C/∂{name}");
        let pad = " ".repeat(head.chars().count());
        let mut lines: Vec<String> = Vec::new();
        let mut note = None;
        match &t.form {
            Form::Zero => note = Some(format!("0   (C does not depend on {name})")),
            Form::Omitted(why) => note = Some(format!("not shown: {}", omission_text(*why))),
            Form::Chains(chains) => {
                let link = |l: &Link| format!("∂{}/∂{}", self.label(l.upper, symbols), self.label(l.lower, symbols));
                let product = |c: &Chain, text: &dyn Fn(&Link) -> String| {
                    if c.links.is_empty() {
                        "1".to_string()
                    } else {
                        c.links.iter().map(text).collect::<Vec<_>>().join(" · ")
                    }
                };
                // `∂C/∂y = ∂C/∂y` says nothing; in a sum it would read as the total, so it is marked.
                let direct = |c: &Chain| c.links.len() == 1 && Some(c.links[0].upper) == self.f().output;
                if !(chains.len() == 1 && direct(&chains[0])) {
                    for (k, c) in chains.iter().enumerate() {
                        let mut term = product(c, &link);
                        if direct(c) {
                            term.push_str(" (direct use)");
                        }
                        lines.push(format!("{} {term}", if k == 0 { "=" } else { "+" }));
                    }
                }
                for (k, c) in chains.iter().enumerate() {
                    let value = product(c, &|l: &Link| self.factor_text(l.factor));
                    lines.push(format!("{} {value}", if k == 0 { "=" } else { "+" }));
                }
            }
            Form::Uses(uses) => {
                for (k, u) in uses.iter().enumerate() {
                    let factor = self.factor_text(u.factor);
                    let term = if Some(u.consumer) == self.f().output {
                        factor
                    } else {
                        format!("∂C/∂{} · {factor}", self.label(u.consumer, symbols))
                    };
                    lines.push(format!("{} {term}", if k == 0 { "=" } else { "+" }));
                }
                lines.push(format!("  (one term per use of {name}, each user's ∂C/∂ on its own line)"));
            }
        }
        if let Some(note) = note {
            let _ = writeln!(doc, " {head} = {note}");
            return;
        }
        for (k, line) in lines.iter().enumerate() {
            let lead = if k == 0 { head.as_str() } else { pad.as_str() };
            let _ = writeln!(doc, " {lead} {line}");
        }
    }

    pub fn write(&self, generated: &str) -> String {
        let f = self.f();
        let mut doc = String::new();
        let _ = writeln!(
            doc,
            " The value and gradient of [`{0}`], by reverse-mode differentiation generated by `#[backprop]`.\n\n \
             Returns `({0}(..), gradient)`: the value `C` is bit-for-bit what `{0}` returns; each field of the \
             gradient is `∂C/∂argument`.\n",
            self.result_name
        );
        let derivations = chains::derive(f, self.derivation);
        match derivations.omitted {
            Some(why) => {
                let _ = writeln!(doc, " # Derivation\n\n The function {}\n", omission_text(why));
                return self.write_code(doc, generated);
            }
            None if derivations.arguments.is_empty() => return self.write_code(doc, generated),
            None => {}
        }
        let symbols = derivations.symbols(f);
        let _ = writeln!(
            doc,
            " # Derivation\n\n Each product follows one path from `C` to the argument, a sum has one product per \
             path; `∂x/∂y` is the derivative of `x`'s own expression with respect to `y`, the values next to \
             it held fixed.\n\n ```text"
        );
        for t in derivations.arguments.iter().chain(&derivations.totals) {
            self.target_lines(&mut doc, t, &symbols);
        }
        if !symbols.is_empty() {
            let mut lead = "where";
            for (k, &v) in symbols.iter().enumerate() {
                let _ = writeln!(doc, " {lead} {} = {}", symbol_name(k + 1), self.text(v));
                lead = "     ";
            }
        }
        let _ = writeln!(doc, " ```\n");
        self.write_code(doc, generated)
    }

    fn write_code(&self, mut doc: String, generated: &str) -> String {
        let (forward, backward) = self.emitter.op_counts();
        if forward > 0 {
            let _ = writeln!(
                doc,
                " Operations in the code: {forward} in the function, {} with its gradient ({:.2}×).\n",
                forward + backward,
                (forward + backward) as f64 / forward as f64
            );
        }
        let lines = generated.lines().count();
        if lines <= MAX_LISTED_LINES {
            let _ = writeln!(doc, " # Generated code\n\n `d_v` is the adjoint ∂C/∂v of `v`.\n\n ```text");
            for line in generated.lines() {
                let _ = writeln!(doc, " {line}");
            }
            let _ = writeln!(doc, " ```");
        } else {
            let _ = writeln!(doc, " The generated code ({lines} lines) is not repeated here; `cargo expand` shows it.");
        }
        doc
    }
}

/// Completes "The function ..." / "not shown: ...".
fn omission_text(why: Omission) -> &'static str {
    match why {
        Omission::Loops => {
            "has loops: each backward loop runs its forward loop's range in reverse, and the generated code \
             below shows every adjoint and accumulation."
        }
        Omission::Arrays => {
            "reads or writes arrays, whose adjoints are accumulated element by element: the generated code below \
             shows every adjoint."
        }
        Omission::Calls => {
            "calls differentiable functions: their factors are in their pullbacks (`<name>_pullback`), which the \
             generated code below calls in its backward sweep, each with the adjoint of its call's result."
        }
        Omission::Branch => {
            "a path runs through an `if`, so the factors depend on the branch taken (see the generated code)"
        }
        Omission::TooManyPaths => "too many paths to list (see the generated code)",
    }
}
