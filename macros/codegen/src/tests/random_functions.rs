//! Property test: random functions (lets with fan-out, nested expressions, `if`/`else`, reassignment)
//! are lowered, differentiated, and the backward sweep, run by the interpreter, is compared with
//! central finite differences of the forward sweep.

use super::{finite_difference, pipeline};
use crate::eval::{self, Val};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Expressions over the variables in scope, with every operation kept inside its smooth domain
/// (`ln` and `sqrt` of something positive, `exp` of something bounded).
fn expr(vars: Vec<String>, depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        3 => proptest::sample::select(vars.clone()),
        1 => proptest::sample::select(vec!["0.5", "1.5", "2.0", "-0.75"]).prop_map(String::from),
    ];
    leaf.prop_recursive(depth, 24, 2, move |inner| {
        let unary = inner.clone().prop_flat_map(|e| {
            proptest::sample::select(vec![
                "(-{e})",
                "({e}).sin()",
                "({e}).cos()",
                "({e}).tanh()",
                "({e}).tanh().exp()",
                "(({e}) * ({e}) + 1.0).sqrt()",
                "(({e}) * ({e}) + 0.5).ln()",
                "({e}).powi(2)",
                "({e}).powi(3)",
                "({e}).atan()",
                "({e}).abs()",
                "(({e}) * ({e}) + 1.0).powf(0.75)",
                "({e}).tanh().sinh()",
                "f64::cos({e})",
            ])
            .prop_map(move |t| t.replace("{e}", &e))
        });
        let binary = (inner.clone(), inner.clone()).prop_flat_map(|(a, b)| {
            proptest::sample::select(vec![
                "({a} + {b})",
                "({a} - {b})",
                "({a} * {b})",
                "({a} / (({b}) * ({b}) + 1.0))",
                "({a}).max({b})",
                "({a}).min({b})",
                "({a}).atan2(({b}).abs() + 1.0)",
                "({a}).mul_add({b}, 0.5)",
                "(if {a} > {b} {{ {a} * 2.0 }} else {{ {b} - {a} }})",
            ])
            .prop_map(move |t| {
                t.replace("{a}", &a)
                    .replace("{b}", &b)
                    .replace("{{", "{")
                    .replace("}}", "}")
            })
        });
        prop_oneof![2 => unary, 3 => binary]
    })
    .boxed()
}

/// A function body: a few `let`s, each free to use the arguments and earlier lets, an `if`
/// statement that reassigns one of them, and a tail combining them.
fn function() -> impl Strategy<Value = String> {
    let args = || vec!["x".to_string(), "y".to_string(), "z".to_string()];
    let with_a = || vec!["a".to_string(), "y".to_string(), "z".to_string()];
    let with_ab = || {
        vec![
            "x".to_string(),
            "a".to_string(),
            "b".to_string(),
            "y".to_string(),
        ]
    };
    (
        expr(args(), 3),
        expr(with_a(), 2),
        expr(args(), 2),
        expr(with_ab(), 2),
        expr(with_ab(), 2),
        expr(with_ab(), 2),
    )
        .prop_map(|(e1, e2, e3, e4, t1, t2)| {
            format!(
                "fn f(x: f64, y: f64, z: f64) -> f64 {{
                    let a = {e1};
                    let mut b = {e2} + a * z;
                    if a > {e3} {{ b += {t1}; }} else {{ b = b * {e4}; }}
                    let c = a * b;
                    c + {t2}
                }}"
            )
        })
}

static COMPARED: AtomicUsize = AtomicUsize::new(0);
static SKIPPED: AtomicUsize = AtomicUsize::new(0);

fn check(source: &str, point: [f64; 3]) -> Result<(), TestCaseError> {
    let tokens: proc_macro2::TokenStream = source
        .parse()
        .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    let (f, d) = pipeline(Default::default(), tokens)
        .map_err(|e| TestCaseError::fail(format!("{e}\n{source}")))?;
    let inputs: Vec<Val> = point.iter().map(|v| Val::F(*v)).collect();
    let (value, grads) = eval::value_and_gradient(&f, &d, &inputs).map_err(TestCaseError::fail)?;
    let forward = eval::value(&f, &inputs).map_err(TestCaseError::fail)?;
    prop_assert_eq!(value.to_bits(), forward.to_bits());
    if !value.is_finite() || value.abs() > 1e4 {
        SKIPPED.fetch_add(3, Ordering::Relaxed);
        return Ok(());
    }
    for (i, g) in grads.iter().enumerate() {
        let h = 1e-5 * (1.0 + point[i].abs());
        let fd = finite_difference(&f, &point, i, h).map_err(TestCaseError::fail)?;
        let fd_half = finite_difference(&f, &point, i, h / 2.0).map_err(TestCaseError::fail)?;
        // Near a kink or a branch switch the two step sizes disagree: no derivative to compare.
        if !fd.is_finite() || (fd - fd_half).abs() > 1e-4 * (1.0 + fd.abs()) {
            SKIPPED.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        COMPARED.fetch_add(1, Ordering::Relaxed);
        // Richardson extrapolation cancels the h² error term of central differences.
        let fd = (4.0 * fd_half - fd) / 3.0;
        prop_assert!(
            (g - fd).abs() <= 1e-5 * (1.0 + fd.abs()),
            "d/d{} at {:?}: backward sweep {} vs finite difference {}\n{}",
            ["x", "y", "z"][i],
            point,
            g,
            fd,
            source
        );
    }
    Ok(())
}

#[test]
fn random_functions_match_finite_differences() {
    let cases = std::env::var("BACKPROP_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let mut runner = super::runner(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let point = proptest::array::uniform3(-2.0f64..2.0);
    runner
        .run(&(function(), point), |(source, point)| {
            check(&source, point)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let (compared, skipped) = (
        COMPARED.load(Ordering::Relaxed),
        SKIPPED.load(Ordering::Relaxed),
    );
    // The comparison must actually happen: most derivatives are away from kinks.
    assert!(
        compared > 9 * (compared + skipped) / 10,
        "only {compared} of {} derivatives compared",
        compared + skipped
    );
}
