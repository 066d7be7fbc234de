//! Property test: whatever tokens the attribute is given, expansion never panics and never hits an
//! internal error: bad input becomes `compile_error!`s.

use crate::expand;
use proptest::prelude::*;
use proptest::test_runner::Config;

const VALID: &str = "fn cost(w: f64, x: f64, n: i32) -> f64 {
    let mut a = w * x;
    if a > 0.0 { a += x.sin(); } else { a = -a; }
    let b = if n > 2 { a.powi(n) } else { sigmoid(a) };
    (b - 1.0).powi(2) + a.max(x)
}";

const VOCABULARY: &[&str] = &[
    "fn", "let", "mut", "if", "else", "for", "in", "match", "return", "x", "w", "n", "f64", "f32", "i32", "->", ":",
    ";", ",", "+", "-", "*", "/", "=", "+=", ">", "<", "==", "&&", "!", "1.0", "2", "0.5f32", "(", ")", "{", "}", "[",
    "]", ".", "sin", "powi", "max", "sigmoid", "?", "as", "|", "::", "PI", "..", "'a", "#", "&", "_", "loop",
];

fn must_not_fail_internally(attr: &str, source: &str) -> Result<(), TestCaseError> {
    let Ok(item) = source.parse::<proc_macro2::TokenStream>() else {
        return Ok(());
    };
    let attr = attr.parse::<proc_macro2::TokenStream>().unwrap_or_default();
    let out = expand(attr, item).to_string();
    prop_assert!(!out.contains("internal error"), "internal error for:\n{}\n{}", source, out);
    Ok(())
}

#[test]
fn mutated_valid_functions_never_fail_internally() {
    let tokens: Vec<String> = VALID.split_whitespace().map(String::from).collect();
    let n = tokens.len();
    let edits = proptest::collection::vec((0..n, 0..VOCABULARY.len(), 0..3u8), 1..4);
    let mut runner = super::runner(Config { cases: 1500, failure_persistence: None, ..Config::default() });
    runner
        .run(&edits, |edits| {
            let mut t = tokens.clone();
            for (at, word, kind) in edits {
                let at = at.min(t.len().saturating_sub(1));
                match kind {
                    0 if !t.is_empty() => {
                        t.remove(at);
                    }
                    1 => t.insert(at, VOCABULARY[word].to_string()),
                    _ => t[at] = VOCABULARY[word].to_string(),
                }
            }
            must_not_fail_internally("", &t.join(" "))
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn random_token_soup_never_fails_internally() {
    let words = proptest::collection::vec(proptest::sample::select(VOCABULARY), 0..40);
    let attrs =
        proptest::sample::select(vec!["", "wrt(w)", "wrt()", "wrt(x, nope)", "foo", "wrt(w) , wrt(x)", "= 3", "wrt"]);
    let mut runner = super::runner(Config { cases: 1500, failure_persistence: None, ..Config::default() });
    runner
        .run(&(attrs, words), |(attr, words)| {
            must_not_fail_internally(attr, &format!("fn f(w: f64) -> f64 {{ {} }}", words.join(" ")))
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
