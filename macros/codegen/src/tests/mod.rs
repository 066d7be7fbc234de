//! Unit and property tests of the pipeline, run on token streams and on the IR interpreter.

mod expand;
mod issue7_known;
mod random_array_calls;
mod random_combinations;
mod random_functions;
mod random_hvp;
mod random_jacobians;
mod random_nests;
mod random_tokens;

use crate::{attr, ctxt::Ctxt, diff, eval, lower};
use proc_macro2::TokenStream;

/// Lowers and differentiates `item` (a function's tokens) with `#[backprop(attr)]`.
pub fn pipeline(attr: TokenStream, item: TokenStream) -> Result<(crate::ir::Function, diff::Derivation), String> {
    let cx = Ctxt::new();
    let options = attr::parse_options(&cx, attr);
    let func: syn::ItemFn = syn::parse2(item).map_err(|e| e.to_string())?;
    let mut lowered = lower::lower(&cx, &func, &options);
    cx.check().map_err(|e| e.to_string())?;
    let d = diff::differentiate(&mut lowered.function);
    let problems = crate::verify::verify(&lowered.function);
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok((lowered.function, d))
}

/// Central finite differences of the interpreted forward sweep.
pub fn finite_difference(f: &crate::ir::Function, x: &[f64], i: usize, h: f64) -> Result<f64, String> {
    let at = |delta: f64| {
        let mut p: Vec<eval::Val> = x.iter().map(|v| eval::Val::F(*v)).collect();
        p[i] = eval::Val::F(x[i] + delta);
        eval::value(f, &p)
    };
    Ok((at(h)? - at(-h)?) / (2.0 * h))
}

/// A test runner with a fixed seed, so CI runs are reproducible; set `BACKPROP_PROPTEST_RANDOM=1`
/// to explore with a fresh seed.
pub fn runner(config: proptest::test_runner::Config) -> proptest::test_runner::TestRunner {
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
    if std::env::var_os("BACKPROP_PROPTEST_RANDOM").is_some() {
        TestRunner::new(config)
    } else {
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
    }
}
