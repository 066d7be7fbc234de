//! Every form in the README's "What `#[backprop]` accepts" table, each used by a `#[backprop]`
//! function whose gradient is checked against central finite differences (and exact values where
//! they are simple), with the form's name in every failure message.
//!
//! `every_readme_form_has_a_test` reads the table out of README.md and fails when it lists a
//! backticked form that `FORMS` does not map to a test of this file, so a README edit that adds a
//! form without a test fails CI.

// Index loops and `&Vec` arguments are forms under test, not style slips.
#![allow(clippy::needless_range_loop, clippy::ptr_arg)]

mod common;

use backprop::prelude::*;

/// README form → the test in this file that compiles and checks it. Forms the README writes in
/// prose (`shadowing`, `nested arrays`) are listed too, by the words the table uses for them. A list
/// written as one backticked span (`+ - * /`, the float methods, the activations) counts as its
/// words, one form each.
const FORMS: &[(&str, &str)] = &[
    // passive calls, covered in tests/passive_calls.rs
    ("let j: usize = nearest(p, c, i);", "kmeans_gradient_and_hessian_follow_the_nearest_centroid"),
    ("k = segment(&XS, x);", "an_integer_reassigned_from_a_plain_function_is_a_passive_call"),
    // issue 10's forms, covered in tests/numerical_rust.rs
    ("fn cost<T: Float>(x: &[T]) -> T", "a_generic_function_is_differentiated_for_each_float_type"),
    ("T::zero()", "a_generic_function_is_differentiated_for_each_float_type"),
    ("T::one()", "a_generic_function_is_differentiated_for_each_float_type"),
    ("T::of_f64(0.5)", "a_generic_function_is_differentiated_for_each_float_type"),
    ("T::from(0.5).unwrap()", "a_generic_function_is_differentiated_for_each_float_type"),
    ("T::PI()", "a_generic_function_is_differentiated_for_each_float_type"),
    ("&[[usize; 2]]", "integer_arrays_index_the_differentiated_ones"),
    ("&[usize; N]", "integer_arrays_index_the_differentiated_ones"),
    ("&[u8]", "integer_arrays_index_the_differentiated_ones"),
    ("&Vec<i32>", "integer_arrays_index_the_differentiated_ones"),
    ("let x;", "let_without_a_value_is_assigned_in_every_branch"),
    ("let (a, b, _) = (e1, e2, e3);", "tuples_destructure_and_read_fields"),
    ("let t = (a, b);", "tuples_destructure_and_read_fields"),
    ("t.0", "tuples_destructure_and_read_fields"),
    ("match", "match_follows_the_arm_taken"),
    ("1..=3", "match_follows_the_arm_taken"),
    ("1 | 2", "match_follows_the_arm_taken"),
    ("_", "match_follows_the_arm_taken"),
    ("for (x, y) in a.iter().zip(b)", "folds_maps_products_and_zipped_loops"),
    ("while cond { .. }", "while_loops_replay_their_trip_count_backwards"),
    ("loop { .. }", "break_continue_and_loop_follow_what_ran"),
    ("#[backprop(max_iterations = N)]", "max_iterations_bounds_a_loop_that_does_not_end"),
    ("break", "break_continue_and_loop_follow_what_ran"),
    ("continue", "break_continue_and_loop_follow_what_ran"),
    ("return", "early_returns_give_the_value_and_the_derivative_of_the_path_taken"),
    ("a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>()", "iterator_idioms_are_index_loops_with_the_same_value"),
    (".map(|v| ..).sum()", "folds_maps_products_and_zipped_loops"),
    (".product()", "folds_maps_products_and_zipped_loops"),
    (".fold(init, |acc, v| ..)", "folds_maps_products_and_zipped_loops"),
    (".copied().fold(f64::MIN, f64::max)", "folds_maps_products_and_zipped_loops"),
    ("vec![0.0; n]", "vec_and_to_vec_buffers"),
    ("n", "vec_and_to_vec_buffers"),
    ("x.to_vec()", "vec_and_to_vec_buffers"),
    ("Vec::with_capacity(n)", "with_capacity_and_push"),
    ("push", "with_capacity_and_push"),
    // issue 15's combinations, covered in tests/combinations.rs
    ("k += 1", "integer_counters_in_loops"),
    ("while k < 50 && ..", "integer_counters_in_loops"),
    ("1 => continue,", "exits_inside_match_arms"),
    ("vec![0.0; p.w.len()]", "scratch_buffers_sized_by_fields_and_generic"),
    ("vec![T::zero(); n]", "scratch_buffers_sized_by_fields_and_generic"),
    ("p.a.exp()", "float_methods_on_fields"),
    ("p.q.c.powi(2)", "float_methods_on_fields"),
    ("gather(x, idx)", "integer_tables_through_calls"),
    ("&pairs[k]", "integer_tables_through_calls"),
    ("dot(x, x)", "aliased_call_arguments"),
    ("dot2(&p.w, &p.w)", "aliased_call_arguments"),
    ("qdot(&p.q, &p.q.v)", "aliased_call_arguments"),
    // issue 8's forms, covered in tests/composition.rs
    ("net: &Net", "nested_struct_and_vec_fields_get_their_gradients"),
    ("#[derive(Params)]", "nested_struct_and_vec_fields_get_their_gradients"),
    ("net.l1.w[j][i]", "nested_struct_and_vec_fields_get_their_gradients"),
    ("net.bias", "nested_struct_and_vec_fields_get_their_gradients"),
    ("net.v[i]", "nested_struct_and_vec_fields_get_their_gradients"),
    ("Net", "nested_struct_and_vec_fields_get_their_gradients"),
    ("#[backprop]", "calls_in_a_loop_over_rows_and_in_branches"),
    ("let h = layer(&net.l1, &x);", "an_array_returning_callee_and_a_callee_called_twice"),
    ("inner::f(..)", "a_callee_in_another_module_by_path"),
    ("dense", "a_network_of_runtime_layers"),
    ("softmax_cross_entropy", "a_network_of_runtime_layers"),
    ("#[backprop(pullback = my_rule)]", "a_custom_pullback_is_used_as_given"),
    ("#[backprop] impl Net { #[backprop] fn loss(&self, ..) }", "methods_get_gradients_with_respect_to_self"),
    // issue 18's forms, covered in tests/recurrent.rs, tests/written_call_results.rs and tests/tuples_generic.rs
    ("f(&net.l2, &g(&net.l1, x))", "a_call_as_the_argument_of_a_call"),
    ("h = cell(&p.cell, &h, &xs[t]);", "the_recurrent_cell_fed_its_own_previous_result"),
    ("let mut h: [f64; N] = f(..);", "a_returned_array_written_in_a_loop_over_time_steps"),
    ("let mut h = f(..);", "a_returned_array_bound_without_annotation_is_copied_and_written"),
    ("let h: [f64; N] = if c { f(..) } else { g(..) };", "an_if_chooses_between_calls_arrays"),
    ("fn f<T: Float, const C: usize>", "generic_float_callees_with_const_generics"),
    ("t = (t.1, t.0);", "a_reassigned_tuple_is_carried_by_its_components"),
    // arguments
    ("f64", "argument_f64"),
    ("f32", "argument_f32"),
    ("integers", "argument_integers"),
    ("bool", "argument_bool"),
    ("[f64; N]", "argument_array"),
    ("&[f64; N]", "argument_array_reference"),
    ("nested arrays", "argument_nested_arrays"),
    ("&[f64]", "argument_slice"),
    ("&Vec<f64>", "argument_vec"),
    ("mut", "argument_mut"),
    ("<const N: usize>", "argument_const_generic"),
    // bindings
    ("let", "binding_let"),
    ("let mut", "binding_let_mut"),
    ("let x: f64 = ..", "binding_typed_let"),
    ("let _ = ..", "binding_let_underscore"),
    ("shadowing", "binding_shadowing"),
    ("reassignment", "binding_reassignment"),
    ("+=", "compound_assignment"),
    ("-=", "compound_assignment"),
    ("*=", "compound_assignment"),
    ("/=", "compound_assignment"),
    ("blocks", "binding_blocks"),
    ("unused bindings", "binding_unused"),
    // arithmetic
    ("+", "arithmetic_operators"),
    ("-", "arithmetic_operators"),
    ("*", "arithmetic_operators"),
    ("/", "arithmetic_operators"),
    ("float and integer literals", "literals"),
    ("5f64", "literals"),
    ("2.0_f32", "literals"),
    ("const", "const_items_and_paths"),
    ("std::f64::consts::PI", "const_items_and_paths"),
    ("as", "as_casts"),
    // control flow
    ("if", "if_else_if_else"),
    ("else if", "if_else_if_else"),
    ("else", "if_else_if_else"),
    ("for i in a..b", "for_range"),
    ("a..=b", "for_inclusive_range"),
    ("(a..b).rev()", "for_reversed_range"),
    ("x.iter()", "for_iter"),
    ("x.iter().enumerate()", "for_iter_enumerate"),
    ("nested loops", "nested_loops"),
    ("`if` in loops", "if_in_loops"),
    // arrays
    ("h[j] = e", "array_element_write"),
    ("h[j] += e", "array_element_add_assign"),
    ("integer indices", "array_integer_indices"),
    ("[0.0; N]", "local_arrays"),
    ("also inside loops", "local_arrays_inside_loops"),
    (".len()", "array_len"),
    (".iter().sum::<f64>()", "array_iter_sum"),
    ("constant tables", "constant_tables"),
    // float methods
    ("powi", "method_powi"),
    ("powf", "method_powf"),
    ("sqrt", "method_sqrt"),
    ("cbrt", "method_cbrt"),
    ("exp", "method_exp"),
    ("exp2", "method_exp2"),
    ("exp_m1", "method_exp_m1"),
    ("ln", "method_ln"),
    ("ln_1p", "method_ln_1p"),
    ("log", "method_log"),
    ("log2", "method_log2"),
    ("log10", "method_log10"),
    ("sin", "method_sin"),
    ("cos", "method_cos"),
    ("tan", "method_tan"),
    ("asin", "method_asin"),
    ("acos", "method_acos"),
    ("atan", "method_atan"),
    ("atan2", "method_atan2"),
    ("sinh", "method_sinh"),
    ("cosh", "method_cosh"),
    ("tanh", "method_tanh"),
    ("asinh", "method_asinh"),
    ("acosh", "method_acosh"),
    ("atanh", "method_atanh"),
    ("abs", "method_abs"),
    ("signum", "method_signum"),
    ("max", "method_max"),
    ("min", "method_min"),
    ("mul_add", "method_mul_add"),
    ("hypot", "method_hypot"),
    ("recip", "method_recip"),
    ("clamp", "method_clamp"),
    ("f64::exp(x)", "method_path_form"),
    ("on literals", "method_on_literals"),
    // activations
    ("sigmoid", "activation_sigmoid"),
    ("relu", "activation_relu"),
    ("leaky_relu", "activation_leaky_relu"),
    ("softplus", "activation_softplus"),
    ("elu", "activation_elu"),
    ("silu", "activation_silu"),
    ("gelu", "activation_gelu"),
    ("softsign", "activation_softsign"),
];

// ---------------------------------------------------------------------------------------------
// Checking

/// Checks a generated gradient at each point: the cost `grad` returns is bit for bit `f`'s, and
/// every component agrees with central differences of `f`. Points and gradients are flat: the
/// differentiated arguments' entries in order.
#[track_caller]
fn check(form: &str, points: &[&[f64]], f: impl Fn(&[f64]) -> f64, grad: impl Fn(&[f64]) -> (f64, Vec<f64>)) {
    assert!(!points.is_empty(), "README form `{form}`: no points to check");
    for &p in points {
        let expected = f(p);
        let (cost, g) = grad(p);
        assert_eq!(
            cost.to_bits(),
            expected.to_bits(),
            "README form `{form}` at {p:?}: _grad returned cost {cost:?}, the function returns {expected:?}"
        );
        assert_eq!(g.len(), p.len(), "README form `{form}`: {} gradient entries for {} inputs", g.len(), p.len());
        for i in 0..p.len() {
            let fd = common::central_diff(&f, p, i);
            assert!(
                common::close(fd, g[i], common::FD_RTOL, common::FD_ATOL),
                "README form `{form}` at {p:?}: d/d(input {i}) is {} but central differences give {fd}",
                g[i]
            );
        }
    }
}

/// [`check`] for f32 functions: the gradient is compared with central differences of `twin`, the
/// same function in f64 (differences taken in f32 would be too coarse), at f32 tolerances.
#[track_caller]
fn check_f32(
    form: &str,
    points: &[&[f32]],
    f: impl Fn(&[f32]) -> f32,
    twin: impl Fn(&[f64]) -> f64,
    grad: impl Fn(&[f32]) -> (f32, Vec<f32>),
) {
    for &p in points {
        let expected = f(p);
        let (cost, g) = grad(p);
        assert_eq!(
            cost.to_bits(),
            expected.to_bits(),
            "README form `{form}` at {p:?}: _grad's cost {cost} vs {expected}"
        );
        let p64: Vec<f64> = p.iter().map(|&v| f64::from(v)).collect();
        for i in 0..p.len() {
            let fd = common::central_diff(&twin, &p64, i);
            assert!(
                common::close(fd, f64::from(g[i]), common::F32_RTOL, common::F32_ATOL),
                "README form `{form}` at {p:?}: d/d(input {i}) is {} but central differences of the f64 twin give {fd}",
                g[i]
            );
        }
    }
}

/// One function of f64 arguments and its test: `case!(test, "form", #[backprop] fn f(x, y) { body }
/// => f_grad, [[point], ..])`. The attribute is written at the call so that every token of the
/// function, the attribute included, comes from the call site.
macro_rules! case {
    (
        $test:ident, $form:literal,
        #[$attr:ident] fn $f:ident($($a:ident),+) { $($body:tt)* } => $g:ident,
        [$([$($p:expr),+ $(,)?]),+ $(,)?]
    ) => {
        #[$attr]
        fn $f($($a: f64),+) -> f64 {
            $($body)*
        }

        #[test]
        fn $test() {
            check(
                $form,
                &[$(&[$($p),+]),+],
                |p| {
                    let &[$($a),+] = p else { unreachable!() };
                    $f($($a),+)
                },
                |p| {
                    let &[$($a),+] = p else { unreachable!() };
                    let (c, g) = $g($($a),+);
                    (c, vec![$(g.$a),+])
                },
            );
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Arguments

case!(argument_f64, "f64", #[backprop] fn arg_f64(x, y) { x * y.sin() + x.exp() } => arg_f64_grad, [[0.5, 1.2], [-1.0, 0.3]]);

#[backprop]
fn arg_f32(x: f32, y: f32) -> f32 {
    x * y.sin() + x.exp()
}

#[test]
fn argument_f32() {
    let (_, g) = arg_f32_grad(0.5, 1.2);
    let _: (f32, f32) = (g.x, g.y);
    check_f32(
        "f32",
        &[&[0.5, 1.2], &[-1.0, 0.3]],
        |p| arg_f32(p[0], p[1]),
        |p| p[0] * p[1].sin() + p[0].exp(),
        |p| {
            let (c, g) = arg_f32_grad(p[0], p[1]);
            (c, vec![g.x, g.y])
        },
    );
}

#[backprop]
fn arg_integers(x: f64, n: i32, k: usize, m: u8) -> f64 {
    x.powi(n) * k as f64 + x * m as f64
}

#[test]
fn argument_integers() {
    for (n, k, m) in [(3, 2usize, 1u8), (-1, 1, 0), (0, 4, 7)] {
        // Integer arguments are constants: the gradient struct has the float argument only.
        let ArgIntegersGrad { x: _ } = arg_integers_grad(1.0, n, k, m).1;
        check(
            "integers",
            &[&[0.7], &[1.9]],
            |p| arg_integers(p[0], n, k, m),
            |p| {
                let (c, g) = arg_integers_grad(p[0], n, k, m);
                (c, vec![g.x])
            },
        );
        let x = 1.5_f64;
        let exact = f64::from(n) * x.powi(n - 1) * k as f64 + f64::from(m);
        let (_, g) = arg_integers_grad(x, n, k, m);
        assert!((g.x - exact).abs() <= 1e-12 * exact.abs().max(1.0), "README form `integers`: {} vs {exact}", g.x);
    }
}

#[backprop]
fn arg_bool(x: f64, flip: bool) -> f64 {
    if flip {
        x.sin()
    } else {
        x.cos() * x
    }
}

#[test]
fn argument_bool() {
    for flip in [true, false] {
        let ArgBoolGrad { x: _ } = arg_bool_grad(1.0, flip).1;
        check(
            "bool",
            &[&[0.4], &[-1.3]],
            |p| arg_bool(p[0], flip),
            |p| {
                let (c, g) = arg_bool_grad(p[0], flip);
                (c, vec![g.x])
            },
        );
    }
}

#[backprop]
fn arg_array(x: [f64; 3], s: f64) -> f64 {
    x[0] * x[1] * s + x[2].exp()
}

#[test]
fn argument_array() {
    check(
        "[f64; N]",
        &[&[0.5, -1.0, 0.3, 2.0], &[1.5, 0.2, -0.7, -0.5]],
        |p| arg_array([p[0], p[1], p[2]], p[3]),
        |p| {
            let (c, g) = arg_array_grad([p[0], p[1], p[2]], p[3]);
            let _: [f64; 3] = g.x;
            (c, vec![g.x[0], g.x[1], g.x[2], g.s])
        },
    );
}

#[backprop]
fn arg_array_reference(x: &[f64; 3], s: f64) -> f64 {
    x[0] * x[1] * s + x[2].exp()
}

#[test]
fn argument_array_reference() {
    check(
        "&[f64; N]",
        &[&[0.5, -1.0, 0.3, 2.0], &[1.5, 0.2, -0.7, -0.5]],
        |p| arg_array_reference(&[p[0], p[1], p[2]], p[3]),
        |p| {
            let (c, g) = arg_array_reference_grad(&[p[0], p[1], p[2]], p[3]);
            (c, vec![g.x[0], g.x[1], g.x[2], g.s])
        },
    );
}

#[backprop]
fn arg_nested(m: [[f64; 2]; 2], t: &[[[f64; 2]; 2]; 2]) -> f64 {
    let mut s = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    for a in 0..2 {
        for b in 0..2 {
            for c in 0..2 {
                s += t[a][b][c].sin() * m[b][c];
            }
        }
    }
    s
}

/// The 12 entries `m` then `t`, row-major, back into the two arrays.
fn unflatten_nested(p: &[f64]) -> ([[f64; 2]; 2], [[[f64; 2]; 2]; 2]) {
    let m = [[p[0], p[1]], [p[2], p[3]]];
    let t = [[[p[4], p[5]], [p[6], p[7]]], [[p[8], p[9]], [p[10], p[11]]]];
    (m, t)
}

#[test]
fn argument_nested_arrays() {
    let p1: Vec<f64> = (0..12).map(|i| (i as f64 * 0.7).sin()).collect();
    let p2: Vec<f64> = (0..12).map(|i| (i as f64 * 1.3).cos() - 0.2).collect();
    check(
        "nested arrays",
        &[&p1, &p2],
        |p| {
            let (m, t) = unflatten_nested(p);
            arg_nested(m, &t)
        },
        |p| {
            let (m, t) = unflatten_nested(p);
            let (c, g) = arg_nested_grad(m, &t);
            (c, g.m.iter().flatten().chain(g.t.iter().flatten().flatten()).copied().collect())
        },
    );
}

#[backprop]
fn arg_slice(x: &[f64], s: f64) -> f64 {
    let mut total = 0.0;
    for i in 0..x.len() {
        total += (x[i] * s).sin();
    }
    total
}

#[test]
fn argument_slice() {
    check(
        "&[f64]",
        &[&[0.5, -1.0, 0.3, 2.0], &[1.5, 0.2, 0.7]],
        |p| arg_slice(&p[..p.len() - 1], p[p.len() - 1]),
        |p| {
            let (c, g) = arg_slice_grad(&p[..p.len() - 1], p[p.len() - 1]);
            let mut v: Vec<f64> = g.x;
            v.push(g.s);
            (c, v)
        },
    );
}

#[backprop]
fn arg_vec(x: &Vec<f64>, s: f64) -> f64 {
    let mut total = 0.0;
    for i in 0..x.len() {
        total += x[i] * x[i] * s;
    }
    total.sqrt()
}

#[test]
fn argument_vec() {
    check(
        "&Vec<f64>",
        &[&[0.5, -1.0, 0.3, 2.0], &[1.5, 0.2, 0.7]],
        |p| arg_vec(&p[..p.len() - 1].to_vec(), p[p.len() - 1]),
        |p| {
            let (c, g) = arg_vec_grad(&p[..p.len() - 1].to_vec(), p[p.len() - 1]);
            let mut v: Vec<f64> = g.x;
            v.push(g.s);
            (c, v)
        },
    );
}

#[backprop]
fn arg_mut(mut x: f64, y: f64) -> f64 {
    x *= y;
    x = x.sin() + y;
    x
}

#[test]
fn argument_mut() {
    check(
        "mut",
        &[&[0.5, 1.2], &[-1.0, 0.3]],
        |p| arg_mut(p[0], p[1]),
        |p| {
            let (c, g) = arg_mut_grad(p[0], p[1]);
            (c, vec![g.x, g.y])
        },
    );
}

#[backprop]
fn arg_const_generic<const N: usize>(w: &[f64; N], s: f64) -> f64 {
    let mut t = 0.0;
    for i in 0..N {
        t += (w[i] * s).sin();
    }
    t
}

#[test]
fn argument_const_generic() {
    check(
        "<const N: usize>",
        &[&[0.5, -1.0, 0.3, 2.0], &[1.5, 0.2, -0.7, 0.9]],
        |p| arg_const_generic(&[p[0], p[1], p[2]], p[3]),
        |p| {
            let (c, g) = arg_const_generic_grad(&[p[0], p[1], p[2]], p[3]);
            let g: ArgConstGenericGrad<3> = g;
            (c, vec![g.w[0], g.w[1], g.w[2], g.s])
        },
    );
    // A second size, so the size really is generic.
    let (_, g) = arg_const_generic_grad(&[0.1; 5], 2.0);
    let exact = 2.0 * 0.2_f64.cos();
    assert!(g.w.iter().all(|d| (d - exact).abs() < 1e-15), "README form `<const N: usize>` with N = 5: {:?}", g.w);
}

// ---------------------------------------------------------------------------------------------
// Bindings

case!(binding_let, "let", #[backprop] fn b_let(x, y) {
    let a = x * y;
    let b = a.sin();
    a * b
} => b_let_grad, [[0.5, 1.2], [-1.0, 0.3]]);

case!(binding_let_mut, "let mut", #[backprop] fn b_let_mut(x, y) {
    let mut acc = x;
    acc += y.sin();
    acc * x
} => b_let_mut_grad, [[0.5, 1.2], [-1.0, 0.3]]);

case!(binding_typed_let, "let x: f64 = ..", #[backprop] fn b_typed(x, y) {
    let a: f64 = x * y;
    let b: f64 = a.exp();
    b - a
} => b_typed_grad, [[0.5, 1.2], [-1.0, 0.3]]);

case!(binding_let_underscore, "let _ = ..", #[backprop] fn b_underscore(x, y) {
    let _ = x.exp() * y;
    x * y
} => b_underscore_grad, [[0.5, 1.2], [-1.0, 0.3]]);

case!(binding_shadowing, "shadowing", #[backprop] fn b_shadow(x, y) {
    let a = x * y;
    let a = a.sin() + a;
    let a = a * x;
    a + y
} => b_shadow_grad, [[0.5, 1.2], [-1.0, 0.3]]);

case!(binding_reassignment, "reassignment", #[backprop] fn b_reassign(x, y) {
    let mut a = x * y;
    a = a.sin();
    a = a * x + y;
    a
} => b_reassign_grad, [[0.5, 1.2], [-1.0, 0.3]]);

case!(compound_add, "+=", #[backprop] fn b_add_assign(x, y) {
    let mut a = x;
    a += y * x;
    a
} => b_add_assign_grad, [[0.5, 1.2], [-1.0, 0.3]]);

case!(compound_sub, "-=", #[backprop] fn b_sub_assign(x, y) {
    let mut a = x * x;
    a -= y.sin();
    a
} => b_sub_assign_grad, [[0.5, 1.2], [-1.0, 0.3]]);

case!(compound_mul, "*=", #[backprop] fn b_mul_assign(x, y) {
    let mut a = x + 1.0;
    a *= y;
    a
} => b_mul_assign_grad, [[0.5, 1.2], [-1.0, 0.3]]);

case!(compound_div, "/=", #[backprop] fn b_div_assign(x, y) {
    let mut a = x.exp();
    a /= y;
    a
} => b_div_assign_grad, [[0.5, 1.2], [-1.0, 0.3]]);

/// The README lists `+= -= *= /=` as one span; each operator has its own case above.
#[test]
fn compound_assignment() {
    compound_add();
    compound_sub();
    compound_mul();
    compound_div();
}

case!(binding_blocks, "blocks", #[backprop] fn b_blocks(x, y) {
    let a = {
        let t = x * y;
        t.sin() + t
    };
    let b = {
        let u = a * x;
        u * u
    };
    a + b
} => b_blocks_grad, [[0.5, 1.2], [-1.0, 0.3]]);

// The unused bindings are the point of this case.
#[allow(unused_variables)]
#[backprop]
fn b_unused(x: f64, y: f64) -> f64 {
    let unused = y.exp();
    let also_unused = unused * x;
    x * y
}

#[test]
fn binding_unused() {
    check(
        "unused bindings",
        &[&[0.5, 1.2], &[-1.0, 0.3]],
        |p| b_unused(p[0], p[1]),
        |p| {
            let (c, g) = b_unused_grad(p[0], p[1]);
            (c, vec![g.x, g.y])
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

case!(op_add, "+", #[backprop] fn o_add(x, y) { x + y * 0.5 } => o_add_grad, [[0.5, 1.2], [-1.0, 0.3]]);
case!(op_sub, "-", #[backprop] fn o_sub(x, y) { x - y * y } => o_sub_grad, [[0.5, 1.2], [-1.0, 0.3]]);
case!(op_neg, "- (unary)", #[backprop] fn o_neg(x, y) { -x * y + -(x * x) } => o_neg_grad, [[0.5, 1.2], [-1.0, 0.3]]);
case!(op_mul, "*", #[backprop] fn o_mul(x, y) { x * y * x } => o_mul_grad, [[0.5, 1.2], [-1.0, 0.3]]);
case!(op_div, "/", #[backprop] fn o_div(x, y) { x / y + 1.0 / x } => o_div_grad, [[0.5, 1.2], [-1.0, 0.3]]);

/// The README lists `+ - * /` as one span and unary `-` apart; each has its own case above.
#[test]
fn arithmetic_operators() {
    op_add();
    op_sub();
    op_neg();
    op_mul();
    op_div();
}

case!(literal_suffix_f64, "5f64", #[backprop] fn l_f64(x) {
    5f64 * x + 0.5 * x * x + 1e-1 * x.powi(3) + 2_f64
} => l_f64_grad, [[0.5], [-1.3]]);

#[backprop]
fn l_f32(x: f32) -> f32 {
    2.0_f32 * x + 3f32 * x * x - 0.25 * x.powi(3)
}

#[test]
fn literals() {
    literal_suffix_f64();
    check_f32(
        "2.0_f32",
        &[&[0.5], &[-1.3]],
        |p| l_f32(p[0]),
        |p| 2.0 * p[0] + 3.0 * p[0] * p[0] - 0.25 * p[0].powi(3),
        |p| {
            let (c, g) = l_f32_grad(p[0]);
            (c, vec![g.x])
        },
    );
}

const SCALE: f64 = 1.5;

case!(const_items_and_paths, "const", #[backprop] fn c_consts(x) {
    const K: f64 = 0.25;
    SCALE * x + std::f64::consts::PI * x.sin() * K + core::f64::consts::LN_2
} => c_consts_grad, [[0.5], [-1.3]]);

#[backprop]
fn c_casts(x: f64, n: i32, k: usize) -> f64 {
    x * n as f64 + (k * 2 + 1) as f64 * x.sin() + (n - 1) as f64
}

#[test]
fn as_casts() {
    for (n, k) in [(3, 2usize), (-2, 0)] {
        check(
            "as",
            &[&[0.5], &[-1.3]],
            |p| c_casts(p[0], n, k),
            |p| {
                let (c, g) = c_casts_grad(p[0], n, k);
                (c, vec![g.x])
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Control flow

#[backprop]
fn if_expression(x: f64, y: f64) -> f64 {
    let a = if x > 1.0 {
        x * y
    } else if x > 0.0 {
        x.sin() * y
    } else {
        (x * y).exp()
    };
    a + y
}

#[backprop]
fn if_statement(x: f64, y: f64) -> f64 {
    let mut a = y;
    if x > 1.0 {
        a *= x;
    } else if x > 0.0 {
        a = a.sin() + x;
    } else {
        a -= x * x;
    }
    a * y
}

#[test]
fn if_else_if_else() {
    // One point in each branch: the derivative follows the branch taken.
    for (form, point) in [("if", [1.5, 0.7]), ("else if", [0.5, 0.7]), ("else", [-0.5, 0.7])] {
        check(
            &format!("{form} (expression)"),
            &[&point],
            |p| if_expression(p[0], p[1]),
            |p| {
                let (c, g) = if_expression_grad(p[0], p[1]);
                (c, vec![g.x, g.y])
            },
        );
        check(
            &format!("{form} (statement)"),
            &[&point],
            |p| if_statement(p[0], p[1]),
            |p| {
                let (c, g) = if_statement_grad(p[0], p[1]);
                (c, vec![g.x, g.y])
            },
        );
    }
}

/// Points for the loop cases: four array entries and a scalar weight.
const LOOP_POINTS: [[f64; 5]; 2] = [[0.5, -1.0, 0.3, 2.0, 0.8], [1.5, 0.2, -0.7, 0.9, -1.1]];

/// Checks a function of `(&[f64; 4], f64)` at [`LOOP_POINTS`].
#[track_caller]
fn check_loop(form: &str, f: fn(&[f64; 4], f64) -> f64, grad: impl Fn(&[f64; 4], f64) -> ([f64; 4], f64, f64)) {
    check(
        form,
        &[&LOOP_POINTS[0], &LOOP_POINTS[1]],
        |p| f(&[p[0], p[1], p[2], p[3]], p[4]),
        |p| {
            let (gx, gw, c) = grad(&[p[0], p[1], p[2], p[3]], p[4]);
            (c, vec![gx[0], gx[1], gx[2], gx[3], gw])
        },
    );
}

#[backprop]
fn loop_range(x: &[f64; 4], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 1..4 {
        s += (x[i] * w).sin() * x[i - 1];
    }
    s
}

#[test]
fn for_range() {
    check_loop("for i in a..b", loop_range, |x, w| {
        let (c, g) = loop_range_grad(x, w);
        (g.x, g.w, c)
    });
}

#[backprop]
fn loop_inclusive(x: &[f64; 4], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..=3 {
        s = s * w + x[i];
    }
    s * s
}

#[test]
fn for_inclusive_range() {
    check_loop("a..=b", loop_inclusive, |x, w| {
        let (c, g) = loop_inclusive_grad(x, w);
        (g.x, g.w, c)
    });
}

#[backprop]
fn loop_reversed(x: &[f64; 4], w: f64) -> f64 {
    let mut s = 0.0;
    for i in (0..4).rev() {
        s = (s + x[i]) * w;
    }
    s.tanh()
}

#[test]
fn for_reversed_range() {
    check_loop("(a..b).rev()", loop_reversed, |x, w| {
        let (c, g) = loop_reversed_grad(x, w);
        (g.x, g.w, c)
    });
}

#[backprop]
fn loop_iter(x: &[f64; 4], w: f64) -> f64 {
    let mut s = 1.0;
    for xi in x.iter() {
        s = s * w + xi * xi;
    }
    s
}

#[test]
fn for_iter() {
    check_loop("x.iter()", loop_iter, |x, w| {
        let (c, g) = loop_iter_grad(x, w);
        (g.x, g.w, c)
    });
}

#[backprop]
fn loop_enumerate(x: &[f64; 4], w: f64) -> f64 {
    let mut s = 0.0;
    for (i, xi) in x.iter().enumerate() {
        s += xi.sin() * w * (i as f64 + 1.0);
    }
    s
}

#[test]
fn for_iter_enumerate() {
    check_loop("x.iter().enumerate()", loop_enumerate, |x, w| {
        let (c, g) = loop_enumerate_grad(x, w);
        (g.x, g.w, c)
    });
}

#[backprop]
fn loop_nested(x: &[f64; 4], w: f64) -> f64 {
    let mut s = 0.0;
    for r in 0..2 {
        let mut z = 0.0;
        for c in 0..2 {
            z += x[2 * r + c] * w.powi(c as i32 + 1);
        }
        s += z.tanh();
    }
    s
}

#[test]
fn nested_loops() {
    check_loop("nested loops", loop_nested, |x, w| {
        let (c, g) = loop_nested_grad(x, w);
        (g.x, g.w, c)
    });
}

#[backprop]
fn loop_if(x: &[f64; 4], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        if x[i] > 0.0 {
            s += w * x[i].sin();
        } else {
            s -= (w * x[i]).exp();
        }
    }
    s
}

#[test]
fn if_in_loops() {
    check_loop("`if` in loops", loop_if, |x, w| {
        let (c, g) = loop_if_grad(x, w);
        (g.x, g.w, c)
    });
}

// ---------------------------------------------------------------------------------------------
// Arrays

#[backprop]
fn array_write(x: &[f64; 4], w: f64) -> f64 {
    let mut h = [0.0; 3];
    for j in 0..3 {
        h[j] = (w * x[j] + x[j + 1]).tanh();
    }
    h[0] * h[1] + h[2]
}

#[test]
fn array_element_write() {
    check_loop("h[j] = e", array_write, |x, w| {
        let (c, g) = array_write_grad(x, w);
        (g.x, g.w, c)
    });
}

#[backprop]
fn array_add_assign(x: &[f64; 4], w: f64) -> f64 {
    let mut h = [0.0; 2];
    for j in 0..2 {
        for i in 0..4 {
            h[j] += x[i] * w.powi(i as i32 + j as i32);
        }
    }
    h[0].sin() + h[1] * h[1]
}

#[test]
fn array_element_add_assign() {
    check_loop("h[j] += e", array_add_assign, |x, w| {
        let (c, g) = array_add_assign_grad(x, w);
        (g.x, g.w, c)
    });
}

/// Indices from a loop variable, an integer argument and arithmetic on both.
#[backprop(wrt(x))]
fn array_indices(x: &[f64; 6], k: usize) -> f64 {
    let mut s = x[k] * x[k + 1];
    for i in 0..3 {
        s += x[2 * i + 1] * x[5 - 2 * i] + x[i];
    }
    s
}

#[test]
fn array_integer_indices() {
    let p: [f64; 6] = [0.5, -1.0, 0.3, 2.0, 0.8, -0.4];
    for k in [0usize, 2, 4] {
        check(
            "integer indices",
            &[&p],
            |p| array_indices(&[p[0], p[1], p[2], p[3], p[4], p[5]], k),
            |p| {
                let (c, g) = array_indices_grad(&[p[0], p[1], p[2], p[3], p[4], p[5]], k);
                (c, g.x.to_vec())
            },
        );
    }
}

#[backprop]
fn local_array<const N: usize>(x: &[f64; N], w: f64) -> f64 {
    let mut h = [0.0; N];
    for i in 0..N {
        h[i] = (x[i] * w).exp();
    }
    let mut s = 0.0;
    for i in 0..N {
        s += h[i] * h[N - 1 - i];
    }
    s.ln()
}

#[test]
fn local_arrays() {
    check_loop("[0.0; N]", local_array::<4>, |x, w| {
        let (c, g) = local_array_grad(x, w);
        (g.x, g.w, c)
    });
}

#[backprop]
fn local_array_in_loop(x: &[f64; 4], w: f64) -> f64 {
    let mut loss = 0.0;
    for s in 0..2 {
        let mut h = [0.0; 2];
        for j in 0..2 {
            h[j] = (x[2 * s + j] * w + j as f64).tanh();
        }
        loss += (h[0] * h[1] - 0.5).powi(2);
    }
    loss
}

#[test]
fn local_arrays_inside_loops() {
    check_loop("also inside loops", local_array_in_loop, |x, w| {
        let (c, g) = local_array_in_loop_grad(x, w);
        (g.x, g.w, c)
    });
}

#[backprop]
fn arr_len(x: &[f64; 4], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * w.powi(i as i32);
    }
    s * s
}

#[test]
fn array_len() {
    check_loop(".len()", arr_len, |x, w| {
        let (c, g) = arr_len_grad(x, w);
        (g.x, g.w, c)
    });
    // `.len()` of a slice, whose length is known only at run time.
    argument_slice();
}

#[backprop]
fn array_sum(x: &[f64; 4], w: f64) -> f64 {
    let mut h = [0.0; 3];
    for j in 0..3 {
        h[j] = x[j] * x[j + 1] * w;
    }
    x.iter().sum::<f64>() * w + h.iter().sum::<f64>().sin()
}

#[test]
fn array_iter_sum() {
    check_loop(".iter().sum::<f64>()", array_sum, |x, w| {
        let (c, g) = array_sum_grad(x, w);
        (g.x, g.w, c)
    });
}

const TABLE: [f64; 4] = [0.5, -1.0, 2.0, 0.25];
const GRID: [[f64; 2]; 2] = [[1.0, -0.5], [0.25, 2.0]];

#[backprop]
fn table_lookup(x: &[f64; 4], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        s += TABLE[i] * (x[i] * w).sin();
    }
    for r in 0..2 {
        for c in 0..2 {
            s += GRID[r][c] * x[2 * r + c] * x[2 * r + c];
        }
    }
    s
}

#[test]
fn constant_tables() {
    check_loop("constant tables", table_lookup, |x, w| {
        let (c, g) = table_lookup_grad(x, w);
        (g.x, g.w, c)
    });
}

// ---------------------------------------------------------------------------------------------
// Float methods (points inside each method's domain and away from its kinks)

case!(method_powi, "powi", #[backprop] fn m_powi(x) { x.powi(3) + x.powi(-2) } => m_powi_grad, [[0.5], [-1.3], [2.0]]);
case!(method_powf, "powf", #[backprop] fn m_powf(x, y) { x.powf(y) } => m_powf_grad, [[1.5, 0.7], [0.3, 2.5]]);
case!(method_sqrt, "sqrt", #[backprop] fn m_sqrt(x) { x.sqrt() } => m_sqrt_grad, [[0.5], [2.0]]);
case!(method_cbrt, "cbrt", #[backprop] fn m_cbrt(x) { x.cbrt() } => m_cbrt_grad, [[0.5], [-2.0]]);
case!(method_exp, "exp", #[backprop] fn m_exp(x) { x.exp() } => m_exp_grad, [[0.3], [-1.2]]);
case!(method_exp2, "exp2", #[backprop] fn m_exp2(x) { x.exp2() } => m_exp2_grad, [[0.3], [-1.2]]);
case!(method_exp_m1, "exp_m1", #[backprop] fn m_exp_m1(x) { x.exp_m1() } => m_exp_m1_grad, [[1e-3], [0.8]]);
case!(method_ln, "ln", #[backprop] fn m_ln(x) { x.ln() } => m_ln_grad, [[0.5], [3.0]]);
case!(method_ln_1p, "ln_1p", #[backprop] fn m_ln_1p(x) { x.ln_1p() } => m_ln_1p_grad, [[0.2], [-0.5]]);
case!(method_log, "log", #[backprop] fn m_log(x, y) { x.log(y) } => m_log_grad, [[2.0, 3.0], [0.5, 10.0]]);
case!(method_log2, "log2", #[backprop] fn m_log2(x) { x.log2() } => m_log2_grad, [[0.5], [3.0]]);
case!(method_log10, "log10", #[backprop] fn m_log10(x) { x.log10() } => m_log10_grad, [[0.5], [3.0]]);
case!(method_sin, "sin", #[backprop] fn m_sin(x) { x.sin() } => m_sin_grad, [[0.3], [-1.1]]);
case!(method_cos, "cos", #[backprop] fn m_cos(x) { x.cos() } => m_cos_grad, [[0.3], [-1.1]]);
case!(method_tan, "tan", #[backprop] fn m_tan(x) { x.tan() } => m_tan_grad, [[0.3], [-1.1]]);
case!(method_asin, "asin", #[backprop] fn m_asin(x) { x.asin() } => m_asin_grad, [[0.3], [-0.6]]);
case!(method_acos, "acos", #[backprop] fn m_acos(x) { x.acos() } => m_acos_grad, [[0.3], [-0.6]]);
case!(method_atan, "atan", #[backprop] fn m_atan(x) { x.atan() } => m_atan_grad, [[0.3], [-2.0]]);
case!(method_atan2, "atan2", #[backprop] fn m_atan2(y, x) { y.atan2(x) } => m_atan2_grad, [[0.5, 1.0], [-1.0, -0.5]]);
case!(method_sinh, "sinh", #[backprop] fn m_sinh(x) { x.sinh() } => m_sinh_grad, [[0.3], [-1.1]]);
case!(method_cosh, "cosh", #[backprop] fn m_cosh(x) { x.cosh() } => m_cosh_grad, [[0.3], [-1.1]]);
case!(method_tanh, "tanh", #[backprop] fn m_tanh(x) { x.tanh() } => m_tanh_grad, [[0.3], [-1.1]]);
case!(method_asinh, "asinh", #[backprop] fn m_asinh(x) { x.asinh() } => m_asinh_grad, [[0.3], [-2.0]]);
case!(method_acosh, "acosh", #[backprop] fn m_acosh(x) { x.acosh() } => m_acosh_grad, [[1.5], [3.0]]);
case!(method_atanh, "atanh", #[backprop] fn m_atanh(x) { x.atanh() } => m_atanh_grad, [[0.3], [-0.6]]);
case!(method_abs, "abs", #[backprop] fn m_abs(x) { x.abs() * x.sin() } => m_abs_grad, [[0.7], [-1.2]]);
case!(method_signum, "signum", #[backprop] fn m_signum(x, y) { x.signum() * y } => m_signum_grad, [[0.7, 2.0], [-1.2, 0.5]]);
case!(method_max, "max", #[backprop] fn m_max(x, y) { x.max(y) * x } => m_max_grad, [[1.0, 2.0], [3.0, -1.0]]);
case!(method_min, "min", #[backprop] fn m_min(x, y) { x.min(y) * x } => m_min_grad, [[1.0, 2.0], [3.0, -1.0]]);
case!(method_mul_add, "mul_add", #[backprop] fn m_mul_add(x, y, z) { x.mul_add(y, z) } => m_mul_add_grad, [[1.5, -2.0, 0.5], [0.3, 0.7, -1.0]]);
case!(method_hypot, "hypot", #[backprop] fn m_hypot(x, y) { x.hypot(y) } => m_hypot_grad, [[3.0, 4.0], [-1.0, 0.5]]);
case!(method_recip, "recip", #[backprop] fn m_recip(x) { x.recip() } => m_recip_grad, [[0.5], [-2.0]]);
// Inside the interval and beyond each edge: the adjoint goes to the argument that is returned.
case!(method_clamp, "clamp", #[backprop] fn m_clamp(x, lo, hi) { x.clamp(lo, hi) } => m_clamp_grad, [[0.5, 0.0, 1.0], [-0.5, 0.0, 1.0], [1.5, 0.0, 1.0]]);
case!(method_path_form, "f64::exp(x)", #[backprop] fn m_path(x, y) {
    f64::exp(x) * f64::sin(y) + f64::atan2(y, x) + f64::powi(x, 2) + f64::max(x, y)
} => m_path_grad, [[0.5, 1.2], [-1.0, 0.3]]);
case!(method_on_literals, "on literals", #[backprop] fn m_literals(x) {
    2.0_f64.powf(x) + 3.0_f64.ln() * x + 5f64.sqrt() * x.sin() + 0.5_f64.max(x)
} => m_literals_grad, [[0.25], [-1.3], [2.0]]);

// ---------------------------------------------------------------------------------------------
// Activations (from the runtime, through the prelude)

case!(activation_sigmoid, "sigmoid", #[backprop] fn a_sigmoid(x) { sigmoid(x) } => a_sigmoid_grad, [[0.5], [-1.5]]);
case!(activation_relu, "relu", #[backprop] fn a_relu(x) { relu(x) * x } => a_relu_grad, [[0.7], [-0.4]]);
case!(activation_leaky_relu, "leaky_relu", #[backprop] fn a_leaky_relu(x, alpha) { leaky_relu(x, alpha) } => a_leaky_relu_grad, [[0.7, 0.1], [-0.4, 0.2]]);
case!(activation_softplus, "softplus", #[backprop] fn a_softplus(x) { softplus(x) } => a_softplus_grad, [[0.5], [-1.5]]);
case!(activation_elu, "elu", #[backprop] fn a_elu(x, alpha) { elu(x, alpha) } => a_elu_grad, [[0.7, 1.0], [-0.4, 0.5]]);
case!(activation_silu, "silu", #[backprop] fn a_silu(x) { silu(x) } => a_silu_grad, [[0.5], [-1.5]]);
case!(activation_gelu, "gelu", #[backprop] fn a_gelu(x) { gelu(x) } => a_gelu_grad, [[0.5], [-1.5]]);
case!(activation_softsign, "softsign", #[backprop] fn a_softsign(x) { softsign(x) } => a_softsign_grad, [[0.5], [-1.5]]);

// ---------------------------------------------------------------------------------------------
// The table itself

/// The README's section "What `#[backprop]` accepts", up to the next heading.
fn accepts_section(readme: &str) -> &str {
    let start =
        readme.find("## What `#[backprop]` accepts").expect("README has the heading \"What `#[backprop]` accepts\"");
    let body = &readme[start..];
    let body = &body[body.find('\n').map_or(body.len(), |i| i + 1)..];
    let end = body.find("\n#").map_or(body.len(), |i| i + 1);
    &body[..end]
}

/// The forms of the table: each backticked span of a row's cells after the first (the first names
/// the kind of construct). A span of three or more words that are all identifiers, or all operators
/// (`+ - * /`, `+= -= *= /=`, the float methods, the activations), is a list, one form per word.
fn table_forms(section: &str) -> Vec<String> {
    let mut forms = Vec::new();
    let rows = section.lines().filter(|l| l.trim_start().starts_with('|')).skip(2); // header, `|---|`
    for row in rows {
        // `\|` is a pipe inside a cell (closures, `1 \| 2`), not a column separator.
        let row = row.replace("\\|", "\u{1}");
        for cell in row.trim().trim_matches('|').split('|').skip(1) {
            let cell = cell.replace('\u{1}', "|");
            for (k, span) in cell.split('`').enumerate() {
                if k % 2 == 0 || span.trim().is_empty() {
                    continue; // outside backticks
                }
                let words: Vec<&str> = span.split_whitespace().collect();
                let identifier = |w: &&str| w.chars().all(|c| c.is_alphanumeric() || c == '_');
                let operator = |w: &&str| w.chars().all(|c| "+-*/=%".contains(c));
                if words.len() >= 3 && (words.iter().all(identifier) || words.iter().all(operator)) {
                    forms.extend(words.iter().map(|w| w.to_string()));
                } else {
                    forms.push(span.trim().to_string());
                }
            }
        }
    }
    forms
}

#[test]
fn every_readme_form_has_a_test() {
    let section = accepts_section(include_str!("../README.md"));
    let forms = table_forms(section);
    // The table as of this writing has about 80 forms; far fewer means the parsing broke.
    assert!(forms.len() >= 60, "read only {} forms from the README table: {forms:?}", forms.len());
    let missing: Vec<&String> = forms.iter().filter(|f| !FORMS.iter().any(|(known, _)| known == f)).collect();
    assert!(
        missing.is_empty(),
        "README table forms without a test in tests/readme_table.rs (add a case and list it in FORMS): {missing:?}"
    );

    // Forms added with issue 10 are covered in tests/numerical_rust.rs, next to their edge cases,
    // issue 8's in tests/composition.rs, issue 15's in tests/combinations.rs, issue 18's in
    // tests/recurrent.rs, tests/written_call_results.rs and tests/tuples_generic.rs, passive calls'
    // in tests/passive_calls.rs.
    let source = [
        include_str!("readme_table.rs"),
        include_str!("numerical_rust.rs"),
        include_str!("composition.rs"),
        include_str!("combinations.rs"),
        include_str!("recurrent.rs"),
        include_str!("written_call_results.rs"),
        include_str!("tuples_generic.rs"),
        include_str!("passive_calls.rs"),
    ]
    .concat();
    for (form, test) in FORMS {
        // Each listed test exists (written out or generated by `case!`) ...
        assert!(
            source.contains(&format!("fn {test}()")) || source.contains(&format!("case!({test}, ")),
            "FORMS maps `{form}` to `{test}`, which is not a test of this file"
        );
        // ... and each listed form is still in the table, so the list does not rot.
        let unescaped = section.replace("\\|", "|");
        assert!(unescaped.contains(*form), "FORMS lists `{form}`, which the README table no longer mentions");
    }
}

#[test]
fn the_table_parser_splits_lists_and_keeps_forms_whole() {
    let section = "| construct | supported |\n|---|---|\n| a | `let mut`, `x.iter()`, `+ - * /`, `sin cos tan`, \
                   `let x: f64 = ..` |\n\n## Next\n| b | `ignored` |\n";
    assert_eq!(
        table_forms(accepts_section(&format!("## What `#[backprop]` accepts\n\n{section}"))),
        ["let mut", "x.iter()", "+", "-", "*", "/", "sin", "cos", "tan", "let x: f64 = .."]
    );
}
