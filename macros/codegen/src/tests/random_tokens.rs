//! Property test: whatever tokens the attribute is given, expansion never panics and never hits an
//! internal error: bad input becomes `compile_error!`s. And exits nested in loops and `match` arms in
//! random arrangements always expand (the shape that once made rustc crash).

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

/// Statements, `@` marking where a nested statement goes: exits, calls, and the constructs that
/// nest them. `true`: only inside a loop (an exit outside one is rustc's error, not the macro's);
/// the loops (last three) put what they nest inside a loop.
const EXIT_STATEMENTS: &[(&str, bool)] = &[
    ("s += x[i % 3];", false),
    ("k += 1;", false),
    ("if t > 1.0 { return s * t; }", false),
    ("let h = lin(x); s += h[k % 3] * dot(&h, x);", false),
    ("s += dot(x, x) * t;", false),
    ("break;", true),
    ("continue;", true),
    ("if s > 2.0 { break; }", true),
    ("match i { 1 => { @ } 2 => break, _ => s += t, }", true),
    ("match k { 0 => continue, 1 => return s, _ => { @ } }", true),
    ("match i % 2 { 0 => { @ @ } _ => {} }", false),
    ("if s > 0.5 { @ } else { @ }", false),
    ("for i in 0..3 { @ @ }", false),
    ("while k < 3 { k += 1; @ }", false),
    ("loop { k += 1; if k > 5 { break; } @ }", false),
];

/// A function whose body nests `EXIT_STATEMENTS` up to three deep, drawn from `seed`.
fn exit_program(seed: u64) -> String {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    fn fill(s: &str, depth: usize, in_loop: bool, next: &mut dyn FnMut(usize) -> usize) -> String {
        let mut out = String::new();
        for (j, part) in s.split('@').enumerate() {
            if j > 0 {
                let n = if depth >= 3 { 8 } else { EXIT_STATEMENTS.len() };
                let (mut k, mut tries) = (next(n), 0);
                while EXIT_STATEMENTS[k].1 && !in_loop && tries < 20 {
                    (k, tries) = (next(n), tries + 1);
                }
                let (stmt, loop_only) = EXIT_STATEMENTS[if EXIT_STATEMENTS[k].1 && !in_loop { 0 } else { k }];
                let nested_in_loop = in_loop || (!loop_only && k >= EXIT_STATEMENTS.len() - 3);
                out.push_str(&fill(stmt, depth + 1, nested_in_loop, next));
            }
            out.push_str(part);
        }
        out
    }
    let body = fill("@ @ @", 0, false, &mut next);
    format!("fn cost(x: &[f64; 3], t: f64) -> f64 {{ let mut s = 0.0; let mut k = 0; let i = 1; {body} s }}")
}

/// Exits nested in loops and `match` arms in every arrangement the grammar above allows (issue 15:
/// `continue` inside a `match` arm made the expansion recurse until rustc crashed): each expands to
/// code or to a `compile_error!`, never to a panic, an internal error or a runaway recursion.
#[test]
fn nested_exits_never_fail_internally() {
    for seed in 0..60 {
        let source = exit_program(seed);
        let item: proc_macro2::TokenStream = source.parse().unwrap();
        let out = expand(proc_macro2::TokenStream::new(), item).to_string();
        // Every arrangement is accepted (the grammar generates nothing the README rejects).
        assert!(!out.contains("compile_error"), "seed {seed}:\n{source}\n{out}");
    }
}
