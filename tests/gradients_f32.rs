//! `f32` cost functions: the gradient function returns `f32` values and an `f32` struct (and keeps
//! `f64` for `f64` arguments), literals are typed `f32`, and gradients agree with finite differences
//! of an f64 twin and with `num-dual` forward mode over `Dual32`, at f32 tolerances.

#[macro_use]
mod common;

use backprop::prelude::*;
use num_dual::{Dual32, DualNum};

/// Like `check!`, for f32 functions: `twin` is the same function over `f64` (for finite
/// differences), `dual` the same function over `Dual32`.
macro_rules! check32 {
    (
        $f:ident, $f_grad:ident, ($($arg:ident),+ $(; $($fixed:expr),+)?),
        [$([$($p:expr),+ $(,)?]),+ $(,)?],
        twin: |$($t:ident),+| $twin:expr,
        dual: |$($d:ident),+| $dual:expr $(,)?
    ) => {{
        let names: &[&str] = &[$(stringify!($arg)),+];
        let points: &[&[f32]] = &[$(&[$($p),+]),+];
        assert!(points.len() >= 3, "check at least three points");
        for &point in points {
            common::check_point_f32(
                stringify!($f),
                names,
                point,
                &|a: &[f32]| {
                    let &[$($arg),+] = a else { panic!("wrong arity") };
                    $f($($arg),+ $(, $($fixed),+)?)
                },
                &|a: &[f32]| {
                    let &[$($arg),+] = a else { panic!("wrong arity") };
                    let (value, g) = $f_grad($($arg),+ $(, $($fixed),+)?);
                    (value, vec![$(g.$arg),+])
                },
                &|a: &[f64]| {
                    let &[$($t),+] = a else { panic!("wrong arity") };
                    $twin
                },
                &|a: &[Dual32]| {
                    let &[$($d),+] = a else { panic!("wrong arity") };
                    $dual
                },
            );
        }
    }};
}

fn type_name_of<T>(_: &T) -> &'static str {
    std::any::type_name::<T>()
}

fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn dsigmoid32(x: Dual32) -> Dual32 {
    ((-x).exp() + 1.0).recip()
}

#[backprop]
fn f32_poly(x: f32, y: f32) -> f32 {
    x * x * y + y.sin() - 0.5 * x / y + 0.1
}

#[backprop]
fn f32_transcendental(x: f32) -> f32 {
    x.exp().ln_1p() + x.tanh() * x.cos() + (x * x + 1.0).sqrt() + x.atan() + x.exp2() * 0.25
}

#[backprop]
fn f32_activations(x: f32, alpha: f32) -> f32 {
    sigmoid(x) + relu(x) * softplus(x) + leaky_relu(x, alpha) + elu(x, alpha) + silu(x) + gelu(x) + softsign(x)
}

#[backprop]
fn f32_branches(x: f32, y: f32, flag: bool) -> f32 {
    if flag && x > y {
        x.powi(3)
    } else {
        x.max(y) * y.abs()
    }
}

const SCALE32: f32 = 2.5;

#[backprop]
fn f32_consts(x: f32) -> f32 {
    std::f32::consts::PI * x + SCALE32 * x.powf(1.5) + 0.1
}

#[backprop]
fn f32_mixed(x: f32, y: f64) -> f32 {
    x * y as f32 + (x as f64 * y).sin() as f32
}

#[backprop]
fn f32_powi_runtime(x: f32, n: i32) -> f32 {
    x.powi(n) + x.powi(2)
}

#[backprop]
fn f32_clamp(x: f32, lo: f32, hi: f32) -> f32 {
    x.clamp(lo, hi) * 2.0
}

#[backprop]
fn f32_abs(x: f32) -> f32 {
    x.abs()
}

#[backprop]
fn f32_relu(x: f32) -> f32 {
    relu(x)
}

#[backprop]
fn f32_max(x: f32, y: f32) -> f32 {
    x.max(y)
}

#[backprop]
fn f32_sigmoid_chain(w1: f32, w2: f32, w3: f32, a0: f32, y: f32) -> f32 {
    let a1 = sigmoid(w1 * a0);
    let a2 = sigmoid(w2 * a1);
    let a3 = sigmoid(w3 * a2);
    (a3 - y).powi(2)
}

#[backprop]
fn f32_lesson(w1: f32, w2: f32, w3: f32, a0: f32, y: f32) -> f32 {
    let a1 = w1 * a0;
    let a2 = w2 * a1;
    let a3 = w3 * a2;
    (a3 - y).powi(2)
}

#[test]
fn types_are_f32() {
    let (value, g) = f32_poly_grad(1.5, 2.0);
    let (_, _): (f32, f32) = (value, g.x);
    assert_eq!(type_name_of(&value), "f32");
    assert_eq!(type_name_of(&g.x), "f32");
    assert_eq!(type_name_of(&g.y), "f32");
    // An f64 argument of an f32 function keeps an f64 gradient.
    let (value, g) = f32_mixed_grad(1.5, 0.25);
    let (_, _, _): (f32, f32, f64) = (value, g.x, g.y);
    assert_eq!(type_name_of(&value), "f32");
    assert_eq!(type_name_of(&g.x), "f32");
    assert_eq!(type_name_of(&g.y), "f64");
    let F32PolyGrad { x, y } = f32_poly_grad(1.0, 1.0).1;
    assert_eq!(type_name_of(&x), "f32");
    assert_eq!(type_name_of(&y), "f32");
}

#[test]
fn lesson_numbers_in_f32() {
    let (c, g) = f32_lesson_grad(2.0, 3.0, 0.5, 1.0, 2.0);
    assert_eq!(c, 1.0_f32);
    assert_eq!(g, F32LessonGrad { w1: 3.0, w2: 2.0, w3: 12.0, a0: 6.0, y: -2.0 });
}

#[test]
fn f32_gradients_match_references() {
    check32!(
        f32_poly,
        f32_poly_grad,
        (x, y),
        [[1.5, 2.0], [-0.7, 0.4], [3.0, -1.25]],
        twin: |x, y| x * x * y + y.sin() - 0.5 * x / y + 0.1,
        dual: |x, y| x * x * y + y.sin() - x * 0.5 / y + 0.1,
    );
    check32!(
        f32_transcendental,
        f32_transcendental_grad,
        (x),
        [[1.5], [-0.7], [0.3], [2.5]],
        twin: |x| x.exp().ln_1p() + x.tanh() * x.cos() + (x * x + 1.0).sqrt() + x.atan() + x.exp2() * 0.25,
        dual: |x| x.exp().ln_1p() + x.tanh() * x.cos() + (x * x + 1.0).sqrt() + x.atan() + x.exp2() * 0.25,
    );
    check32!(
        f32_activations,
        f32_activations_grad,
        (x, alpha),
        [[1.5, 0.1], [-0.7, 0.2], [0.3, 1.0], [-2.5, 0.5]],
        twin: |x, alpha| {
            let k = (2.0 / std::f64::consts::PI).sqrt();
            let relu = x.max(0.0);
            let leaky = if x > 0.0 { x } else { alpha * x };
            let elu = if x > 0.0 { x } else { alpha * x.exp_m1() };
            let gelu = 0.5 * x * (1.0 + (k * (x + 0.044715 * x * x * x)).tanh());
            sigmoid64(x) + relu * x.exp().ln_1p() + leaky + elu + x * sigmoid64(x) + gelu + x / (1.0 + x.abs())
        },
        dual: |x, alpha| {
            let k = (2.0 / std::f32::consts::PI).sqrt();
            let positive = x.re > 0.0;
            let relu = if positive { x } else { Dual32::from(0.0) };
            let leaky = if positive { x } else { alpha * x };
            let elu = if positive { x } else { alpha * x.exp_m1() };
            let gelu = x * ((x + x * x * x * 0.044715) * k).tanh() * 0.5 + x * 0.5;
            let abs = if x.re < 0.0 { -x } else { x };
            dsigmoid32(x) + relu * x.exp().ln_1p() + leaky + elu + x * dsigmoid32(x) + gelu + x / (abs + 1.0)
        },
    );
    check32!(
        f32_consts,
        f32_consts_grad,
        (x),
        [[1.5], [0.7], [4.0]],
        twin: |x| std::f64::consts::PI * x + 2.5 * x.powf(1.5) + 0.1,
        dual: |x| x * std::f32::consts::PI + x.powf(1.5) * SCALE32 + 0.1,
    );
    check32!(
        f32_sigmoid_chain,
        f32_sigmoid_chain_grad,
        (w1, w2, w3, a0, y),
        [[2.0, 3.0, 0.5, 1.0, 2.0], [-0.7, 1.2, 2.5, 0.3, 0.0], [0.1, -2.0, -1.5, -1.0, 1.0]],
        twin: |w1, w2, w3, a0, y| {
            let a3 = sigmoid64(w3 * sigmoid64(w2 * sigmoid64(w1 * a0)));
            (a3 - y).powi(2)
        },
        dual: |w1, w2, w3, a0, y| {
            let a3 = dsigmoid32(w3 * dsigmoid32(w2 * dsigmoid32(w1 * a0)));
            (a3 - y).powi(2)
        },
    );
}

#[test]
fn f32_branches_and_non_float_arguments() {
    for flag in [true, false] {
        check32!(
            f32_branches,
            f32_branches_grad,
            (x, y; flag),
            [[2.0, 1.0], [1.0, 2.0], [-1.5, -3.0], [0.5, -0.25]],
            twin: |x, y| if flag && x > y { x.powi(3) } else { x.max(y) * y.abs() },
            dual: |x, y| {
                let abs_y = if y.re < 0.0 { -y } else { y };
                if flag && x.re > y.re {
                    x.powi(3)
                } else if x.re > y.re {
                    x * abs_y
                } else {
                    y * abs_y
                }
            },
        );
    }
    assert_eq!(f32_branches_grad(2.0, 1.0, true).1, F32BranchesGrad { x: 12.0, y: 0.0 });
    assert_eq!(f32_branches_grad(2.0, 1.0, false).1, F32BranchesGrad { x: 1.0, y: 2.0 });
    for n in [-2, 0, 1, 3] {
        check32!(
            f32_powi_runtime,
            f32_powi_runtime_grad,
            (x; n),
            [[1.5], [-0.7], [2.0]],
            twin: |x| x.powi(n) + x.powi(2),
            dual: |x| x.powi(n) + x.powi(2),
        );
    }
}

#[test]
fn f32_mixed_precision_arguments() {
    for (x, y) in [(1.5_f32, 0.25_f64), (-0.7, 1.3), (2.0, -0.4)] {
        let (value, g) = f32_mixed_grad(x, y);
        assert_eq!(value.to_bits(), f32_mixed(x, y).to_bits());
        let (x64, y64) = (f64::from(x), y);
        let twin = |a: &[f64]| a[0] * a[1] + (a[0] * a[1]).sin();
        let expected = common::fd_gradient(&twin, &[x64, y64]);
        let actual = [f64::from(g.x), g.y];
        common::assert_grad_close(
            "f32_mixed",
            "vs central differences of the f64 twin",
            &["x", "y"],
            &[x64, y64],
            &expected,
            &actual,
            common::F32_RTOL,
            common::F32_ATOL,
        );
    }
}

#[test]
fn f32_kink_conventions() {
    assert_eq!(f32_abs_grad(0.0), (0.0, F32AbsGrad { x: 0.0 }));
    assert_eq!(f32_abs_grad(-2.0), (2.0, F32AbsGrad { x: -1.0 }));
    assert_eq!(f32_relu_grad(0.0), (0.0, F32ReluGrad { x: 0.0 }));
    assert_eq!(f32_relu_grad(0.5), (0.5, F32ReluGrad { x: 1.0 }));
    assert_eq!(f32_max_grad(1.5, 1.5), (1.5, F32MaxGrad { x: 0.5, y: 0.5 }));
    assert_eq!(f32_max_grad(1.0, 1.5), (1.5, F32MaxGrad { x: 0.0, y: 1.0 }));
    assert_eq!(f32_clamp_grad(0.0, 0.0, 1.0), (0.0, F32ClampGrad { x: 2.0, lo: 0.0, hi: 0.0 }));
    assert_eq!(f32_clamp_grad(1.0, 0.0, 1.0), (2.0, F32ClampGrad { x: 2.0, lo: 0.0, hi: 0.0 }));
    assert_eq!(f32_clamp_grad(3.0, 0.0, 1.0), (2.0, F32ClampGrad { x: 0.0, lo: 0.0, hi: 2.0 }));
    assert_eq!(f32_clamp_grad(-3.0, 0.0, 1.0), (0.0, F32ClampGrad { x: 0.0, lo: 2.0, hi: 0.0 }));
}

#[test]
fn f32_activations_stay_finite() {
    for x in [-100.0_f32, 100.0] {
        let (value, g) = f32_activations_grad(x, 0.1);
        assert!(value.is_finite() && g.x.is_finite() && g.alpha.is_finite(), "at {x}: {value} {g:?}");
    }
    // sigmoid'(0) = 1/4, relu'(0) = 0 (so relu·softplus contributes 0), leaky'(0) = alpha,
    // elu'(0) = alpha, silu'(0) = 1/2, gelu'(0) = 1/2, softsign'(0) = 1.
    let (_, g) = f32_activations_grad(0.0, 0.25);
    assert_eq!(g.x, 0.25 + 0.0 + 0.25 + 0.25 + 0.5 + 0.5 + 1.0);
}
