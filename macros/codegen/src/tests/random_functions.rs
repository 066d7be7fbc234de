//! Property test: random functions (lets with fan-out, nested expressions, `if`/`else`, reassignment)
//! are lowered, differentiated, and the backward sweep, run by the interpreter, is compared with
//! central finite differences of the forward sweep.

use super::{finite_difference, pipeline};
use crate::eval::{self, Val};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::Config;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Expressions over the variables in scope, with every operation kept inside its smooth domain
/// (`ln` and `sqrt` of something positive, `exp` of something bounded).
fn expr(vars: Vec<String>, depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        3 => proptest::sample::select(vars.clone()),
        1 => proptest::sample::select(vec!["0.5_f64", "1.5_f64", "2.0_f64", "-0.75_f64"]).prop_map(String::from),
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
            .prop_map(move |t| t.replace("{a}", &a).replace("{b}", &b).replace("{{", "{").replace("}}", "}"))
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
    let with_ab = || vec!["x".to_string(), "a".to_string(), "b".to_string(), "y".to_string()];
    (expr(args(), 3), expr(with_a(), 2), expr(args(), 2), expr(with_ab(), 2), expr(with_ab(), 2), expr(with_ab(), 2))
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
    let tokens: proc_macro2::TokenStream = source.parse().map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    let (f, d) = pipeline(Default::default(), tokens).map_err(|e| TestCaseError::fail(format!("{e}\n{source}")))?;
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
    let cases = std::env::var("BACKPROP_PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(3000);
    let mut runner = super::runner(Config { cases, failure_persistence: None, ..Config::default() });
    let point = proptest::array::uniform3(-2.0f64..2.0);
    runner.run(&(function(), point), |(source, point)| check(&source, point)).unwrap_or_else(|e| panic!("{e}"));
    let (compared, skipped) = (COMPARED.load(Ordering::Relaxed), SKIPPED.load(Ordering::Relaxed));
    // The comparison must actually happen: most derivatives are away from kinks.
    assert!(compared > 9 * (compared + skipped) / 10, "only {compared} of {} derivatives compared", compared + skipped);
}

/// A loop nest with a carried scalar, a local array written in one loop and read backwards in
/// another, and random bodies.
fn loop_function() -> impl Strategy<Value = String> {
    let first = || vec!["w[i]".to_string(), "x[i]".to_string(), "acc".to_string(), "b".to_string()];
    let second = || vec!["t".to_string(), "w[i]".to_string(), "acc".to_string()];
    let third = || vec!["h[j]".to_string(), "acc".to_string(), "x[j]".to_string()];
    (expr(first(), 2), expr(second(), 2), expr(second(), 2), expr(third(), 2)).prop_map(|(e1, e2, e3, e4)| {
        format!(
            "fn f(w: &[f64; 4], x: &[f64], b: f64) -> f64 {{
                let mut h = [0.0; 4];
                let mut acc = b;
                for i in 0..4 {{
                    let t = {e1};
                    h[i] = {e2};
                    acc = ({e3}).tanh();
                }}
                let mut s = 0.0;
                for j in (0..4).rev() {{
                    s += {e4};
                }}
                s * acc
            }}"
        )
    })
}

fn check_loops(source: &str, point: [f64; 9]) -> Result<(), TestCaseError> {
    let tokens: proc_macro2::TokenStream = source.parse().map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    let (f, d) = pipeline(Default::default(), tokens).map_err(|e| TestCaseError::fail(format!("{e}\n{source}")))?;
    let inputs = |p: &[f64]| {
        vec![
            eval::Input::A(p[0..4].to_vec(), vec![4]),
            eval::Input::A(p[4..8].to_vec(), vec![4]),
            eval::Input::S(Val::F(p[8])),
        ]
    };
    let (value, grads) = eval::value_and_gradients(&f, &d, &inputs(&point)).map_err(TestCaseError::fail)?;
    if !value.is_finite() || value.abs() > 1e4 {
        return Ok(());
    }
    let flat: Vec<f64> = grads.concat();
    prop_assert_eq!(flat.len(), 9);
    let at = |p: &[f64]| eval::value_of(&f, &inputs(p));
    for i in 0..9 {
        let fd = |h: f64| -> Result<f64, TestCaseError> {
            let (mut up, mut down) = (point, point);
            up[i] += h;
            down[i] -= h;
            Ok((at(&up).map_err(TestCaseError::fail)? - at(&down).map_err(TestCaseError::fail)?) / (2.0 * h))
        };
        let h = 1e-5 * (1.0 + point[i].abs());
        let (full, half) = (fd(h)?, fd(h / 2.0)?);
        if !full.is_finite() || (full - half).abs() > 1e-4 * (1.0 + full.abs()) {
            continue;
        }
        let reference = (4.0 * half - full) / 3.0;
        prop_assert!(
            (flat[i] - reference).abs() <= 1e-5 * (1.0 + reference.abs()),
            "component {} at {:?}: backward sweep {} vs finite difference {}\n{}",
            i,
            point,
            flat[i],
            reference,
            source
        );
    }
    Ok(())
}

#[test]
fn random_loop_functions_match_finite_differences() {
    let cases = std::env::var("BACKPROP_PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(600);
    let mut runner = super::runner(Config { cases, failure_persistence: None, ..Config::default() });
    let point = proptest::array::uniform9(-1.5f64..1.5);
    runner
        .run(&(loop_function(), point), |(source, point)| check_loops(&source, point))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Writes `tests/random_compiled.rs` at the workspace root: functions drawn from the same
/// generators, compiled through the real macro and checked against finite differences there (the
/// emitter's output, not just the IR). Regenerate with
/// `BACKPROP_WRITE_RANDOM=1 cargo test -p backprop-codegen write_random_compiled_tests -- --ignored`.
#[test]
#[ignore]
fn write_random_compiled_tests() {
    if std::env::var_os("BACKPROP_WRITE_RANDOM").is_none() {
        return;
    }
    let mut runner = super::runner(Config::default());
    let mut out = String::from(
        "//! Random functions from the codegen property tests' generators, compiled through `#[backprop]`\n\
         //! and checked against central differences. Generated by `write_random_compiled_tests` in\n\
         //! macros/codegen/src/tests/random_functions.rs; do not edit by hand.\n\n\
         #![allow(clippy::all, unused_parens, unused_mut, unused_variables)]\n\
         use backprop::prelude::*;\n\n\
         fn check(name: &str, f: impl Fn(&[f64]) -> f64, grad: &[f64], x: &[f64]) {\n\
         \x20   for i in 0..x.len() {\n\
         \x20       let d = |h: f64| { let (mut a, mut b) = (x.to_vec(), x.to_vec()); a[i] += h; b[i] -= h; (f(&a) - f(&b)) / (2.0 * h) };\n\
         \x20       let h = 1e-5 * (1.0 + x[i].abs());\n\
         \x20       let (full, half) = (d(h), d(h / 2.0));\n\
         \x20       if !full.is_finite() || (full - half).abs() > 1e-4 * (1.0 + full.abs()) { continue; }\n\
         \x20       let r = (4.0 * half - full) / 3.0;\n\
         \x20       assert!((grad[i] - r).abs() <= 1e-5 * (1.0 + r.abs()), \"{name}[{i}]: {} vs {r}\", grad[i]);\n\
         \x20   }\n\
         }\n",
    );
    for k in 0..25 {
        let source = function().new_tree(&mut runner).unwrap().current();
        let source = source.replacen("fn f(", &format!("#[backprop]\nfn scalar_{k}("), 1);
        out.push_str(&format!("\n{source}\n\n#[test]\nfn scalar_{k}_matches_finite_differences() {{\n    for p in [[0.3, -0.7, 1.1], [-1.2, 0.4, 0.9], [1.5, 1.1, -0.6]] {{\n        let (v, g) = scalar_{k}_grad(p[0], p[1], p[2]);\n        assert_eq!(v.to_bits(), scalar_{k}(p[0], p[1], p[2]).to_bits());\n        if v.is_finite() && v.abs() < 1e4 {{ check(\"scalar_{k}\", |x| scalar_{k}(x[0], x[1], x[2]), &[g.x, g.y, g.z], &p); }}\n    }}\n}}\n"));
    }
    for k in 0..25 {
        let source = loop_function().new_tree(&mut runner).unwrap().current();
        let source = source.replacen("fn f(", &format!("#[backprop]\nfn looped_{k}("), 1);
        out.push_str(&format!("\n{source}\n\n#[test]\nfn looped_{k}_matches_finite_differences() {{\n    let p = [0.3, -0.7, 1.1, 0.2, -0.4, 0.9, 1.3, -1.1, 0.5];\n    let call = |x: &[f64]| looped_{k}(&[x[0], x[1], x[2], x[3]], &x[4..8], x[8]);\n    let (v, g) = looped_{k}_grad(&[p[0], p[1], p[2], p[3]], &p[4..8], p[8]);\n    assert_eq!(v.to_bits(), call(&p).to_bits());\n    let mut flat = g.w.to_vec();\n    flat.extend(&g.x);\n    flat.push(g.b);\n    if v.is_finite() && v.abs() < 1e4 {{ check(\"looped_{k}\", call, &flat, &p); }}\n}}\n"));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/random_compiled.rs");
    std::fs::write(path, out).unwrap();
}
