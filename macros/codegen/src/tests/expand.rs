//! Expansion tests on token streams: size stays linear, names never collide, errors are collected.

use crate::expand;
use quote::quote;

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// The expansion up to the pullback (which repeats the sweep from a seed, for callers).
fn gradient_part(expansion: &str) -> &str {
    expansion.split("_pullback").next().unwrap_or(expansion)
}

/// A chain of `n` statements that each use the previous value twice (fan-out at every step).
fn chain(n: usize) -> proc_macro2::TokenStream {
    let mut body = String::from("let v0 = x;\n");
    for i in 1..=n {
        body.push_str(&format!("let v{i} = (v{} * w).sin() + v{} * 0.5;\n", i - 1, i - 1));
    }
    format!("fn long(x: f64, w: f64) -> f64 {{ {body} v{n} }}").parse().unwrap_or_default()
}

#[test]
fn expansion_grows_linearly_with_the_function() {
    let small = expand(quote!(), chain(250)).to_string();
    let large = expand(quote!(), chain(1000)).to_string();
    let (small, large) = (gradient_part(&small).to_string(), gradient_part(&large).to_string());
    assert!(!small.contains("compile_error") && !large.contains("compile_error"));
    let (lets_small, lets_large) = (count(&small, "let "), count(&large, "let "));
    // Four times the statements: four times the bindings, give or take the fixed part.
    let ratio = lets_large as f64 / lets_small as f64;
    assert!((3.8..4.2).contains(&ratio), "let count ratio {ratio} ({lets_small} → {lets_large})");
    // Each statement's forward value and adjoint is bound once: a handful of lets per statement.
    assert!(lets_large < 6 * 1000, "{lets_large} lets for 1000 statements");
    let size_ratio = large.len() as f64 / small.len() as f64;
    assert!(size_ratio < 4.5, "token text grew {size_ratio}x for 4x statements");
}

#[test]
fn every_adjoint_is_bound_once() {
    let out = expand(quote!(), chain(50)).to_string();
    let out = gradient_part(&out);
    for i in 1..50 {
        assert_eq!(count(out, &format!("let d_v{i} =")), 1, "d_v{i} bound more or less than once");
    }
}

#[test]
fn generated_names_never_capture_user_names() {
    let out = expand(
        quote!(),
        quote!(
            fn cost(cost: f64, d_cost: f64, t0: f64, d_t0: f64) -> f64 {
                let d_x = cost * d_cost;
                (d_x * t0 - d_t0).powi(2)
            }
        ),
    );
    let text = out.to_string();
    assert!(!text.contains("compile_error"), "{text}");
    // The adjoint of argument `cost` cannot be `d_cost`, an argument already.
    assert!(text.contains("let d_cost_2 ="), "{text}");
    assert!(!text.contains("let t0 ="), "{text}");
}

#[test]
fn all_errors_of_a_function_are_reported_together() {
    let out = expand(
        quote!(wrt(nope)),
        quote!(
            fn f(x: f64) -> f64 {
                let a = match x {
                    _ => 1.0,
                };
                let b = x.frobnicate();
                a + b
            }
        ),
    )
    .to_string();
    assert_eq!(count(&out, "compile_error"), 3, "{out}");
    assert!(out.contains("nope") && out.contains("match") && out.contains("frobnicate"), "{out}");
    // The user's function is still emitted, so other code keeps compiling.
    assert!(out.contains("fn f"), "{out}");
}

#[test]
fn lesson_adjoints_read_like_the_lesson() {
    let out = expand(
        quote!(),
        quote!(
            fn cost(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
                let a1 = w1 * a0;
                let a2 = w2 * a1;
                let a3 = w3 * a2;
                (a3 - y).powi(2)
            }
        ),
    );
    let file: syn::File = syn::parse2(out).expect("expansion parses");
    let text = prettyplease::unparse(&file);
    for line in [
        "let d_a3 = 2.0 * t0;",
        "let d_w1 = d_a1 * a0;",
        "let d_a2 = d_a3 * w3;",
        "∂C/∂w1 = ∂C/∂a3 · ∂a3/∂a2 · ∂a2/∂a1 · ∂a1/∂w1",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
    assert!(text.contains("= (2.0 * (a3 - y)) · w3 · w2 · a0"), "{text}");
}

/// The printer's scope check catches a plan that leaves a forward value out of the backward sweep's
/// reach: with the tapes dropped, `dist` (an inner loop's result) is read by the backward iteration
/// where nothing binds it. The expansion reports it instead of printing code rustc would reject.
#[test]
fn the_scope_check_catches_a_value_the_backward_sweep_cannot_see() {
    let item = quote! {
        fn nearest(p: f64, c: &[f64; 6]) -> f64 {
            let mut best = (p - c[0]) * (p - c[0]);
            for k in 1..3 {
                let mut dist = 0.0;
                for j in 0..2 {
                    let diff = c[k * 2 + j] - p;
                    dist += diff * diff;
                }
                if dist < best {
                    best = dist;
                }
            }
            best
        }
    };
    let (f, d) = super::pipeline(quote!(), item.clone()).expect("lowers");
    let func: syn::ItemFn = syn::parse2(item).expect("parses");
    let mut emitter = crate::emit::Emitter::new(&f, &d, quote!());
    emitter.emit(&func, &[], &d, "");
    assert_eq!(emitter.scope_problems(), Vec::<String>::new(), "the plan as made is valid");
    assert!(emitter.plan.tapes.iter().any(|t| emitter.name(t.value).is_some_and(|n| n == "dist")));
    emitter.plan.tapes.clear();
    emitter.emit(&func, &[], &d, "");
    let problems = emitter.scope_problems();
    assert!(problems.iter().any(|p| p.contains("`dist` is used outside the scope")), "{problems:?}");
}

/// A value the result reaches only through a condition or an index gets no adjoint (`useful.rs`):
/// the nearest centre's distance `best` picks `nearest`, and the result reads `c[nearest]`, so the
/// sweep reverses the chosen centre alone: no adjoint of `best` or `s`, no tape of them, no
/// backward loop over the candidates.
#[test]
fn a_value_used_only_to_choose_an_index_has_no_adjoint() {
    let out = expand(
        quote!(wrt(c)),
        quote!(
            fn nearest(p: &[f64], c: &[f64], k: usize, d: usize) -> f64 {
                let mut best = f64::INFINITY;
                let mut nearest = 0;
                for j in 0..k {
                    let mut s = 0.0;
                    for l in 0..d {
                        let t = c[j * d + l] - p[l];
                        s += t * t;
                    }
                    if s < best {
                        best = s;
                        nearest = j;
                    }
                }
                let mut r = 0.0;
                for l in 0..d {
                    let t = c[nearest * d + l] - p[l];
                    r += t * t;
                }
                r
            }
        ),
    )
    .to_string();
    let grad = gradient_part(&out);
    assert!(!grad.contains("compile_error"), "{grad}");
    for name in ["d_best", "d_s ", "tape_best", "tape_s", "rev ()"] {
        assert!(!grad.contains(name), "`{name}` in the gradient:\n{grad}");
    }
    // The reverse of the chosen centre's loop is still there.
    assert!(grad.contains("d_c [nearest * d + l]"), "{grad}");
}

/// `_hvp` passes a data argument (`p`, not differentiated, only its elements read) as it is: no
/// dual copy per call, reads printed as dual constants (`second_order/constant_args.rs`). One
/// passed to a callee keeps its dual twin.
#[test]
fn hvp_reads_data_arguments_without_a_dual_copy() {
    let data = expand(
        quote!(hessian, wrt(c)),
        quote!(
            fn fit(p: &[f64], c: &[f64], n: usize) -> f64 {
                let mut s = 0.0;
                for i in 0..n {
                    let t = c[i] - p[i];
                    s += t * t * p.len() as f64;
                }
                s
            }
        ),
    )
    .to_string();
    assert!(!data.contains("compile_error"), "{data}");
    assert!(!data.contains("DualTwin :: constant (p)"), "{data}");
    assert!(data.contains("Dual64 :: c (p [i])"), "{data}");
    let passed = expand(
        quote!(hessian, wrt(c)),
        quote!(
            fn fit2(p: &[f64], c: &[f64], n: usize) -> f64 {
                let mut s = 0.0;
                for i in 0..n {
                    s += helper(p, c[i]);
                }
                s
            }
        ),
    )
    .to_string();
    assert!(passed.contains("DualTwin :: constant (p)"), "{passed}");
}

/// `#[inline(always)]` on the primal carries to every generated function (so a
/// `#[target_feature]` caller compiles them for its CPU); without it, the functions users call
/// are not forced inline.
#[test]
fn inline_always_carries_to_every_generated_function() {
    let source = quote! {
        pub fn f(x: &[f64], a: f64) -> f64 {
            let mut s = 0.0;
            for i in 0..x.len() { s += (x[i] * a).sin(); }
            s
        }
    };
    let with: syn::File = syn::parse2(expand(quote!(hessian), quote!(#[inline(always)] #source))).unwrap();
    let functions: Vec<&syn::ItemFn> =
        with.items.iter().filter_map(|i| if let syn::Item::Fn(f) = i { Some(f) } else { None }).collect();
    assert!(functions.len() > 10, "{} functions", functions.len());
    for f in &functions {
        let inline: Vec<String> =
            f.attrs.iter().filter(|a| a.path().is_ident("inline")).map(|a| quote!(#a).to_string()).collect();
        assert_eq!(inline, ["# [inline (always)]"], "{}", f.sig.ident);
    }
    let without: syn::File = syn::parse2(expand(quote!(hessian), source)).unwrap();
    let forced = without
        .items
        .iter()
        .filter_map(|i| if let syn::Item::Fn(f) = i { Some(f) } else { None })
        .filter(|f| f.attrs.iter().any(|a| quote!(#a).to_string() == "# [inline (always)]"))
        .map(|f| f.sig.ident.to_string())
        .collect::<Vec<_>>();
    for entry in ["f", "f_grad", "f_grad_acc", "f_pullback", "f_vjp", "f_hvp", "f_hessian"] {
        assert!(!forced.iter().any(|name| name == entry), "{entry} forced inline without the attribute");
    }
}
