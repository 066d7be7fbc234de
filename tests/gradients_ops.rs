//! Every supported operation, each in its own small `#[backprop]` function, checked at several
//! points (away from kinks) against central finite differences of the original function and against
//! `num-dual` forward mode through the same function written over dual numbers. The value returned
//! by `_grad` must be bit-for-bit the original function's value.
//!
//! The conventions at kinks are pinned exactly at the end of the file.

#[macro_use]
mod common;

use backprop::prelude::*;
use num_dual::{Dual64, DualNum};

fn c(x: f64) -> Dual64 {
    Dual64::from(x)
}

fn d_sigmoid(x: Dual64) -> Dual64 {
    ((-x).exp() + 1.0).recip()
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

#[backprop]
fn op_add(x: f64, y: f64) -> f64 {
    x + y
}

#[backprop]
fn op_sub(x: f64, y: f64) -> f64 {
    x - y
}

#[backprop]
fn op_mul(x: f64, y: f64) -> f64 {
    x * y
}

#[backprop]
fn op_div(x: f64, y: f64) -> f64 {
    x / y
}

#[backprop]
fn op_neg(x: f64) -> f64 {
    -x
}

#[backprop]
fn op_neg_expr(x: f64, y: f64) -> f64 {
    -(x * y) + -x
}

#[backprop]
fn op_literals(x: f64) -> f64 {
    3.0 - x * 0.5 + 1.0 / x - 2.0 * x * x + x / 4.0
}

#[backprop]
fn op_integer_literal_arith(x: f64) -> f64 {
    2.0 * x + 1.0
}

#[test]
fn arithmetic() {
    check!(op_add, op_add_grad, (x, y), [[1.0, 2.0], [-3.5, 0.25], [1e3, -7.0]], |x, y| x + y);
    check!(op_sub, op_sub_grad, (x, y), [[1.0, 2.0], [-3.5, 0.25], [1e3, -7.0]], |x, y| x - y);
    check!(op_mul, op_mul_grad, (x, y), [[1.0, 2.0], [-3.5, 0.25], [1e3, -7.0]], |x, y| x * y);
    check!(op_div, op_div_grad, (x, y), [[1.0, 2.0], [-3.5, 0.25], [1e3, -7.0]], |x, y| x / y);
    check!(op_neg, op_neg_grad, (x), [[1.0], [-3.5], [0.0], [42.0]], |x| -x);
    check!(op_neg_expr, op_neg_expr_grad, (x, y), [[1.0, 2.0], [-3.5, 0.25], [10.0, -7.0]], |x, y| -(x * y) + -x);
    check!(op_literals, op_literals_grad, (x), [[1.0], [-3.5], [0.3], [12.0]], |x| -x * 0.5 + 3.0 + x.recip()
        - x * x * 2.0
        + x / 4.0);
    check!(op_integer_literal_arith, op_integer_literal_arith_grad, (x), [[1.0], [-3.5], [0.3]], |x| x * 2.0 + 1.0);
}

#[test]
fn arithmetic_exact_values() {
    assert_eq!(op_mul_grad(3.0, -4.0), (-12.0, OpMulGrad { x: -4.0, y: 3.0 }));
    assert_eq!(op_div_grad(1.0, 2.0), (0.5, OpDivGrad { x: 0.5, y: -0.25 }));
    assert_eq!(op_sub_grad(1.0, 2.0), (-1.0, OpSubGrad { x: 1.0, y: -1.0 }));
    assert_eq!(op_neg_grad(5.0), (-5.0, OpNegGrad { x: -1.0 }));
}

// ---------------------------------------------------------------------------------------------
// powi, powf

#[backprop]
fn op_powi0(x: f64) -> f64 {
    x.powi(0)
}

#[backprop]
fn op_powi1(x: f64) -> f64 {
    x.powi(1)
}

#[backprop]
fn op_powi2(x: f64) -> f64 {
    x.powi(2)
}

#[backprop]
fn op_powi3(x: f64) -> f64 {
    x.powi(3)
}

#[backprop]
fn op_powi_neg2(x: f64) -> f64 {
    x.powi(-2)
}

#[backprop]
fn op_powi_runtime(x: f64, n: i32) -> f64 {
    x.powi(n)
}

#[backprop]
fn op_powf(x: f64, y: f64) -> f64 {
    x.powf(y)
}

#[backprop]
fn op_powf_literal(x: f64) -> f64 {
    x.powf(2.5)
}

#[test]
fn powi_literal_exponents() {
    let pts = [[1.5], [-2.0], [0.3], [7.0]];
    for p in pts {
        let x = p[0];
        assert_eq!(op_powi0_grad(x), (1.0, OpPowi0Grad { x: 0.0 }), "x.powi(0) at {x}");
        assert_eq!(op_powi1_grad(x), (x, OpPowi1Grad { x: 1.0 }), "x.powi(1) at {x}");
        assert_eq!(op_powi2_grad(x).1.x, 2.0 * x, "x.powi(2) at {x}");
    }
    check!(op_powi0, op_powi0_grad, (x), [[1.5], [-2.0], [0.3], [7.0]], |x| x.powi(0));
    check!(op_powi1, op_powi1_grad, (x), [[1.5], [-2.0], [0.3], [7.0]], |x| x.powi(1));
    check!(op_powi2, op_powi2_grad, (x), [[1.5], [-2.0], [0.3], [7.0]], |x| x.powi(2));
    check!(op_powi3, op_powi3_grad, (x), [[1.5], [-2.0], [0.3], [7.0]], |x| x.powi(3));
    check!(op_powi_neg2, op_powi_neg2_grad, (x), [[1.5], [-2.0], [0.3], [7.0]], |x| x.powi(-2));
}

#[test]
fn powi_runtime_exponent() {
    for n in [-3, -2, -1, 0, 1, 2, 3, 5] {
        for x in [1.5, -2.0, 0.3, 7.0] {
            let names = ["x"];
            let (value, g) = op_powi_runtime_grad(x, n);
            let func = format!("op_powi_runtime(x, n = {n})");
            common::assert_bits_eq(&func, "value", &names, &[x], op_powi_runtime(x, n), value);
            common::check_fd(&func, &names, &[x], &|a| op_powi_runtime(a[0], n), &[g.x]);
            common::check_dual(&func, &names, &[x], value, &|a| a[0].powi(n), &[g.x]);
        }
    }
    // n = 0: the derivative is exactly 0 (0 * x^-1), and at n = 1 exactly 1.
    assert_eq!(op_powi_runtime_grad(2.5, 0).1.x, 0.0);
    assert_eq!(op_powi_runtime_grad(2.5, 1).1.x, 1.0);
    assert_eq!(op_powi_runtime_grad(3.0, 2).1.x, 6.0);
}

#[test]
fn powf() {
    check!(op_powf, op_powf_grad, (x, y), [[1.5, 2.0], [0.3, -1.7], [4.0, 0.5], [2.0, 3.3]], |x, y| x.powd(y));
    check!(op_powf_literal, op_powf_literal_grad, (x), [[1.5], [0.3], [4.0]], |x| x.powf(2.5));
}

// ---------------------------------------------------------------------------------------------
// Roots, exponentials, logarithms

#[backprop]
fn op_sqrt(x: f64) -> f64 {
    x.sqrt()
}

#[backprop]
fn op_cbrt(x: f64) -> f64 {
    x.cbrt()
}

#[backprop]
fn op_exp(x: f64) -> f64 {
    x.exp()
}

#[backprop]
fn op_exp2(x: f64) -> f64 {
    x.exp2()
}

#[backprop]
fn op_exp_m1(x: f64) -> f64 {
    x.exp_m1()
}

#[backprop]
fn op_ln(x: f64) -> f64 {
    x.ln()
}

#[backprop]
fn op_ln_1p(x: f64) -> f64 {
    x.ln_1p()
}

#[backprop]
fn op_log(x: f64, b: f64) -> f64 {
    x.log(b)
}

#[backprop]
fn op_log2(x: f64) -> f64 {
    x.log2()
}

#[backprop]
fn op_log10(x: f64) -> f64 {
    x.log10()
}

#[test]
fn roots_exponentials_logarithms() {
    check!(op_sqrt, op_sqrt_grad, (x), [[0.25], [2.0], [9.0], [123.4]], |x| x.sqrt());
    check!(op_cbrt, op_cbrt_grad, (x), [[0.25], [-8.0], [27.0], [-0.7]], |x| x.cbrt());
    check!(op_exp, op_exp_grad, (x), [[0.0], [-2.5], [1.0], [7.3]], |x| x.exp());
    check!(op_exp2, op_exp2_grad, (x), [[0.0], [-2.5], [1.0], [7.3]], |x| x.exp2());
    check!(op_exp_m1, op_exp_m1_grad, (x), [[1e-3], [-2.5], [1.0], [7.3]], |x| x.exp_m1());
    check!(op_ln, op_ln_grad, (x), [[0.1], [1.0], [2.5], [1e3]], |x| x.ln());
    check!(op_ln_1p, op_ln_1p_grad, (x), [[-0.5], [1e-3], [2.5], [1e3]], |x| x.ln_1p());
    check!(op_log, op_log_grad, (x, b), [[8.0, 2.0], [0.3, 10.0], [5.0, 0.5], [100.0, 3.0]], |x, b| x.ln() / b.ln());
    check!(op_log2, op_log2_grad, (x), [[0.1], [1.0], [2.5], [1e3]], |x| x.log2());
    check!(op_log10, op_log10_grad, (x), [[0.1], [1.0], [2.5], [1e3]], |x| x.log10());
}

#[test]
fn exp_and_ln_exact_values() {
    assert_eq!(op_exp_grad(0.0), (1.0, OpExpGrad { x: 1.0 }));
    assert_eq!(op_ln_grad(1.0), (0.0, OpLnGrad { x: 1.0 }));
    assert_eq!(op_ln_grad(4.0).1.x, 0.25);
    assert_eq!(op_sqrt_grad(4.0), (2.0, OpSqrtGrad { x: 0.25 }));
}

// ---------------------------------------------------------------------------------------------
// Trigonometric and hyperbolic

#[backprop]
fn op_sin(x: f64) -> f64 {
    x.sin()
}

#[backprop]
fn op_cos(x: f64) -> f64 {
    x.cos()
}

#[backprop]
fn op_tan(x: f64) -> f64 {
    x.tan()
}

#[backprop]
fn op_asin(x: f64) -> f64 {
    x.asin()
}

#[backprop]
fn op_acos(x: f64) -> f64 {
    x.acos()
}

#[backprop]
fn op_atan(x: f64) -> f64 {
    x.atan()
}

#[backprop]
fn op_atan2(y: f64, x: f64) -> f64 {
    y.atan2(x)
}

#[backprop]
fn op_sinh(x: f64) -> f64 {
    x.sinh()
}

#[backprop]
fn op_cosh(x: f64) -> f64 {
    x.cosh()
}

#[backprop]
fn op_tanh(x: f64) -> f64 {
    x.tanh()
}

#[backprop]
fn op_asinh(x: f64) -> f64 {
    x.asinh()
}

#[backprop]
fn op_acosh(x: f64) -> f64 {
    x.acosh()
}

#[backprop]
fn op_atanh(x: f64) -> f64 {
    x.atanh()
}

#[test]
fn trigonometric() {
    check!(op_sin, op_sin_grad, (x), [[0.0], [0.7], [-2.0], [10.0]], |x| x.sin());
    check!(op_cos, op_cos_grad, (x), [[0.0], [0.7], [-2.0], [10.0]], |x| x.cos());
    check!(op_tan, op_tan_grad, (x), [[0.0], [0.7], [-1.2], [3.0]], |x| x.tan());
    check!(op_asin, op_asin_grad, (x), [[0.0], [0.7], [-0.5], [0.9]], |x| x.asin());
    check!(op_acos, op_acos_grad, (x), [[0.0], [0.7], [-0.5], [0.9]], |x| x.acos());
    check!(op_atan, op_atan_grad, (x), [[0.0], [0.7], [-2.0], [30.0]], |x| x.atan());
    check!(
        op_atan2,
        op_atan2_grad,
        (y, x),
        [[1.0, 2.0], [-1.0, 2.0], [1.5, -0.5], [-2.0, -3.0], [0.0, 1.0], [1.0, 0.0]],
        |y, x| common::dual_atan2(y, x)
    );
}

#[test]
fn hyperbolic() {
    check!(op_sinh, op_sinh_grad, (x), [[0.0], [0.7], [-2.0], [5.0]], |x| x.sinh());
    check!(op_cosh, op_cosh_grad, (x), [[0.0], [0.7], [-2.0], [5.0]], |x| x.cosh());
    check!(op_tanh, op_tanh_grad, (x), [[0.0], [0.7], [-2.0], [5.0]], |x| x.tanh());
    check!(op_asinh, op_asinh_grad, (x), [[0.0], [0.7], [-2.0], [50.0]], |x| x.asinh());
    check!(op_acosh, op_acosh_grad, (x), [[1.5], [2.0], [10.0], [1.01]], |x| x.acosh());
    check!(op_atanh, op_atanh_grad, (x), [[0.0], [0.7], [-0.5], [-0.9]], |x| x.atanh());
}

#[test]
fn trigonometric_exact_values() {
    assert_eq!(op_sin_grad(0.0), (0.0, OpSinGrad { x: 1.0 }));
    assert_eq!(op_cos_grad(0.0).1.x, 0.0);
    assert_eq!(op_tanh_grad(0.0), (0.0, OpTanhGrad { x: 1.0 }));
    assert_eq!(op_atan_grad(1.0).1.x, 0.5);
}

// ---------------------------------------------------------------------------------------------
// abs, signum, max, min, mul_add, hypot, recip, clamp

#[backprop]
fn op_abs(x: f64) -> f64 {
    x.abs()
}

#[backprop]
fn op_signum(x: f64) -> f64 {
    x.signum()
}

#[backprop]
fn op_signum_times(x: f64) -> f64 {
    x.signum() * x
}

#[backprop]
fn op_max(x: f64, y: f64) -> f64 {
    x.max(y)
}

#[backprop]
fn op_min(x: f64, y: f64) -> f64 {
    x.min(y)
}

#[backprop]
fn op_mul_add(x: f64, y: f64, z: f64) -> f64 {
    x.mul_add(y, z)
}

#[backprop]
fn op_hypot(x: f64, y: f64) -> f64 {
    x.hypot(y)
}

#[backprop]
fn op_recip(x: f64) -> f64 {
    x.recip()
}

#[backprop]
fn op_clamp(x: f64, lo: f64, hi: f64) -> f64 {
    x.clamp(lo, hi)
}

#[backprop]
fn op_clamp_literal(x: f64) -> f64 {
    x.clamp(-1.0, 2.0)
}

#[test]
fn piecewise_away_from_kinks() {
    check!(op_abs, op_abs_grad, (x), [[1.5], [-2.0], [0.3], [-1e3]], |x| common::dual_abs(x));
    check!(op_signum, op_signum_grad, (x), [[1.5], [-2.0], [0.3]], |x| c(x.re.signum()));
    check!(op_signum_times, op_signum_times_grad, (x), [[1.5], [-2.0], [0.3]], |x| x * x.re.signum());
    check!(op_max, op_max_grad, (x, y), [[1.0, 2.0], [3.0, -1.0], [-0.5, -0.25], [7.0, 6.5]], |x, y| common::dual_max(
        x, y
    ));
    check!(op_min, op_min_grad, (x, y), [[1.0, 2.0], [3.0, -1.0], [-0.5, -0.25], [7.0, 6.5]], |x, y| common::dual_min(
        x, y
    ));
    check!(
        op_mul_add,
        op_mul_add_grad,
        (x, y, z),
        [[1.0, 2.0, 3.0], [-1.5, 0.5, 4.0], [10.0, -3.0, -0.25]],
        |x, y, z| x * y + z
    );
    check!(op_hypot, op_hypot_grad, (x, y), [[3.0, 4.0], [-1.0, 0.5], [0.2, -7.0], [5.0, 0.0]], |x, y| (x * x + y * y)
        .sqrt());
    check!(op_recip, op_recip_grad, (x), [[1.5], [-2.0], [0.3], [40.0]], |x| x.recip());
    check!(
        op_clamp,
        op_clamp_grad,
        (x, lo, hi),
        [[0.5, 0.0, 1.0], [-0.5, 0.0, 1.0], [1.5, 0.0, 1.0], [3.0, -2.0, 5.0], [-3.0, -2.0, 5.0]],
        |x, lo, hi| if x.re < lo.re {
            lo
        } else if x.re > hi.re {
            hi
        } else {
            x
        }
    );
    check!(op_clamp_literal, op_clamp_literal_grad, (x), [[0.5], [-1.5], [2.5], [1.9]], |x| if x.re < -1.0 {
        c(-1.0)
    } else if x.re > 2.0 {
        c(2.0)
    } else {
        x
    });
}

#[test]
fn piecewise_exact_values() {
    assert_eq!(op_abs_grad(-3.0), (3.0, OpAbsGrad { x: -1.0 }));
    assert_eq!(op_abs_grad(2.0), (2.0, OpAbsGrad { x: 1.0 }));
    assert_eq!(op_max_grad(1.0, 2.0), (2.0, OpMaxGrad { x: 0.0, y: 1.0 }));
    assert_eq!(op_min_grad(1.0, 2.0), (1.0, OpMinGrad { x: 1.0, y: 0.0 }));
    assert_eq!(op_mul_add_grad(2.0, 3.0, 4.0), (10.0, OpMulAddGrad { x: 3.0, y: 2.0, z: 1.0 }));
    assert_eq!(op_hypot_grad(3.0, 4.0), (5.0, OpHypotGrad { x: 0.6, y: 0.8 }));
    assert_eq!(op_recip_grad(2.0), (0.5, OpRecipGrad { x: -0.25 }));
    // Strictly inside: all to x; below: all to lo; above: all to hi.
    assert_eq!(op_clamp_grad(0.5, 0.0, 1.0).1, OpClampGrad { x: 1.0, lo: 0.0, hi: 0.0 });
    assert_eq!(op_clamp_grad(-0.5, 0.0, 1.0).1, OpClampGrad { x: 0.0, lo: 1.0, hi: 0.0 });
    assert_eq!(op_clamp_grad(1.5, 0.0, 1.0).1, OpClampGrad { x: 0.0, lo: 0.0, hi: 1.0 });
}

// ---------------------------------------------------------------------------------------------
// Path form, methods on literals, casts, constants

#[backprop]
fn path_exp(x: f64) -> f64 {
    f64::exp(x)
}

#[backprop]
fn path_forms(x: f64, y: f64) -> f64 {
    f64::sqrt(x) * f64::ln(y) + f64::powi(x, 3) - f64::max(x, y) + f64::atan2(y, x) + f64::mul_add(x, y, 1.5)
}

#[backprop]
fn literal_sqrt(x: f64) -> f64 {
    5f64.sqrt() * x
}

#[backprop]
fn literal_powf(x: f64) -> f64 {
    2.0_f64.powf(x)
}

#[backprop]
fn literal_methods(x: f64) -> f64 {
    3.0_f64.ln() * x + 2f64.mul_add(x, 1.0) + (0.5_f64).max(x)
}

#[backprop]
fn cast_int(x: f64, n: i32) -> f64 {
    x * n as f64 + (n * 2) as f64
}

#[backprop]
fn cast_usize(x: f64, k: usize) -> f64 {
    x.powi(2) * (k as f64)
}

#[backprop]
fn cast_through_f32(x: f64) -> f64 {
    let s = x as f32;
    let t = s * s;
    t as f64 * 3.0
}

#[backprop]
fn cast_f32_arg(x: f64, y: f32) -> f64 {
    x * y as f64
}

#[allow(clippy::unnecessary_cast)]
#[backprop]
fn cast_identity(x: f64) -> f64 {
    (x as f64) * 2.0
}

const SCALE: f64 = 1.5;

#[backprop]
fn constants(x: f64) -> f64 {
    SCALE * x + std::f64::consts::PI * x.sin() + SCALE
}

#[backprop]
fn constants_in_body(x: f64) -> f64 {
    use std::f64::consts::E;
    const K: f64 = 0.25;
    E * x * K + core::f64::consts::LN_2
}

#[test]
fn path_forms_and_literal_methods() {
    check!(path_exp, path_exp_grad, (x), [[0.0], [-1.5], [2.0]], |x| x.exp());
    check!(path_forms, path_forms_grad, (x, y), [[1.5, 2.0], [4.0, 0.5], [0.3, 3.0]], |x, y| x.sqrt() * y.ln()
        + x.powi(3)
        - common::dual_max(x, y)
        + common::dual_atan2(y, x)
        + x * y
        + 1.5);
    check!(literal_sqrt, literal_sqrt_grad, (x), [[0.0], [-1.5], [2.0]], |x| x * 5f64.sqrt());
    check!(literal_powf, literal_powf_grad, (x), [[0.0], [-1.5], [2.0]], |x| c(2.0).powd(x));
    check!(literal_methods, literal_methods_grad, (x), [[0.0], [-1.5], [2.0]], |x| x * 3.0_f64.ln()
        + x * 2.0
        + 1.0
        + common::dual_max(c(0.5), x));
    assert_eq!(literal_sqrt_grad(7.0).1.x, 5f64.sqrt());
    assert_eq!(literal_powf_grad(3.0), (8.0, LiteralPowfGrad { x: 8.0 * std::f64::consts::LN_2 }));
}

#[test]
fn casts() {
    for n in [-3, 0, 1, 7] {
        for x in [1.5, -2.0, 0.25] {
            let (value, g) = cast_int_grad(x, n);
            assert_eq!(value.to_bits(), cast_int(x, n).to_bits());
            assert_eq!(g.x, n as f64, "d/dx (x * n as f64) at x = {x}, n = {n}");
        }
    }
    for k in [0usize, 1, 4] {
        let (value, g) = cast_usize_grad(1.5, k);
        assert_eq!(value, cast_usize(1.5, k));
        assert_eq!(g.x, 3.0 * k as f64);
    }
    // f64 -> f32 -> f64: the derivative 6x is computed through f32, so compare at f32 precision.
    for x in [1.5, -2.0, 0.3, 11.0] {
        let (value, g) = cast_through_f32_grad(x);
        assert_eq!(value.to_bits(), cast_through_f32(x).to_bits());
        let g: f64 = g.x;
        common::assert_close("cast_through_f32", "d/dx", &["x"], &[x], 6.0 * x, g, 1e-6, 1e-6);
    }
    // An f32 argument of an f64 function gets an f32 gradient.
    for (x, y) in [(1.5, 2.5_f32), (-2.0, 0.125), (0.3, -4.0)] {
        let (value, g) = cast_f32_arg_grad(x, y);
        assert_eq!(value.to_bits(), cast_f32_arg(x, y).to_bits());
        let gx: f64 = g.x;
        let gy: f32 = g.y;
        assert_eq!(gx, f64::from(y));
        assert_eq!(gy, x as f32);
    }
    check!(cast_identity, cast_identity_grad, (x), [[1.0], [-2.0], [0.3]], |x| x * 2.0);
    assert_eq!(cast_identity_grad(3.0).1.x, 2.0);
}

#[test]
fn constants_have_zero_derivative() {
    check!(constants, constants_grad, (x), [[0.0], [-1.5], [2.0]], |x| x * SCALE
        + x.sin() * std::f64::consts::PI
        + SCALE);
    check!(constants_in_body, constants_in_body_grad, (x), [[0.0], [-1.5], [2.0]], |x| x * std::f64::consts::E * 0.25
        + std::f64::consts::LN_2);
    assert_eq!(constants_grad(0.0), (SCALE, ConstantsGrad { x: SCALE + std::f64::consts::PI }));
    assert_eq!(constants_in_body_grad(1.0).1.x, std::f64::consts::E * 0.25);
}

// ---------------------------------------------------------------------------------------------
// Runtime activations

#[backprop]
fn act_sigmoid(x: f64) -> f64 {
    sigmoid(x)
}

#[backprop]
fn act_relu(x: f64) -> f64 {
    relu(x)
}

#[backprop]
fn act_leaky_relu(x: f64, alpha: f64) -> f64 {
    leaky_relu(x, alpha)
}

#[backprop]
fn act_leaky_relu_literal(x: f64) -> f64 {
    leaky_relu(x, 0.01)
}

#[backprop]
fn act_softplus(x: f64) -> f64 {
    softplus(x)
}

#[backprop]
fn act_elu(x: f64, alpha: f64) -> f64 {
    elu(x, alpha)
}

#[backprop]
fn act_silu(x: f64) -> f64 {
    silu(x)
}

#[backprop]
fn act_gelu(x: f64) -> f64 {
    gelu(x)
}

#[backprop]
fn act_softsign(x: f64) -> f64 {
    softsign(x)
}

#[backprop]
fn act_qualified(x: f64) -> f64 {
    backprop::runtime::activation::sigmoid(x) + backprop::prelude::relu(x)
}

fn d_gelu(x: Dual64) -> Dual64 {
    let k = (2.0 / std::f64::consts::PI).sqrt();
    let u = (x + x * x * x * 0.044715) * k;
    x * (u.tanh() + 1.0) * 0.5
}

#[test]
fn activations() {
    check!(act_sigmoid, act_sigmoid_grad, (x), [[-3.7], [-1.2], [-0.3], [0.4], [1.1], [2.9]], |x| d_sigmoid(x));
    check!(act_relu, act_relu_grad, (x), [[-3.7], [-1.2], [-0.3], [0.4], [1.1], [2.9]], |x| if x.re > 0.0 {
        x
    } else {
        c(0.0)
    });
    check!(
        act_leaky_relu,
        act_leaky_relu_grad,
        (x, alpha),
        [[-3.7, 0.1], [-0.3, 0.2], [0.4, 0.1], [2.9, 0.3]],
        |x, alpha| if x.re > 0.0 { x } else { alpha * x }
    );
    check!(
        act_leaky_relu_literal,
        act_leaky_relu_literal_grad,
        (x),
        [[-3.7], [-0.3], [0.4], [2.9]],
        |x| if x.re > 0.0 { x } else { x * 0.01 }
    );
    check!(act_softplus, act_softplus_grad, (x), [[-3.7], [-1.2], [-0.3], [0.4], [1.1], [2.9]], |x| x.exp().ln_1p());
    check!(
        act_elu,
        act_elu_grad,
        (x, alpha),
        [[-3.7, 1.0], [-0.3, 0.7], [0.4, 1.5], [2.9, 0.5], [-1.2, 2.0]],
        |x, alpha| if x.re > 0.0 { x } else { alpha * x.exp_m1() }
    );
    check!(act_silu, act_silu_grad, (x), [[-3.7], [-1.2], [-0.3], [0.4], [1.1], [2.9]], |x| x * d_sigmoid(x));
    check!(act_gelu, act_gelu_grad, (x), [[-3.7], [-1.2], [-0.3], [0.4], [1.1], [2.9]], |x| d_gelu(x));
    check!(act_softsign, act_softsign_grad, (x), [[-3.7], [-1.2], [-0.3], [0.4], [1.1], [2.9]], |x| x
        / (common::dual_abs(x) + 1.0));
    check!(act_qualified, act_qualified_grad, (x), [[-1.2], [0.4], [2.9]], |x| d_sigmoid(x)
        + if x.re > 0.0 { x } else { c(0.0) });
}

#[test]
fn activations_exact_values() {
    assert_eq!(act_sigmoid_grad(0.0), (0.5, ActSigmoidGrad { x: 0.25 }));
    assert_eq!(act_relu_grad(2.0), (2.0, ActReluGrad { x: 1.0 }));
    assert_eq!(act_relu_grad(-2.0), (0.0, ActReluGrad { x: 0.0 }));
    // leaky_relu: d/dx is alpha on the negative side, d/dalpha is x there and 0 on the positive side.
    assert_eq!(act_leaky_relu_grad(-2.0, 0.1).1, ActLeakyReluGrad { x: 0.1, alpha: -2.0 });
    assert_eq!(act_leaky_relu_grad(3.0, 0.1).1, ActLeakyReluGrad { x: 1.0, alpha: 0.0 });
    // elu: d/dalpha = e^x - 1 on the negative side, 0 on the positive side.
    assert_eq!(act_elu_grad(2.0, 0.7).1, ActEluGrad { x: 1.0, alpha: 0.0 });
    assert_eq!(act_elu_grad(-1.0, 0.7).1.alpha, (-1.0_f64).exp_m1());
    assert_eq!(act_silu_grad(0.0), (0.0, ActSiluGrad { x: 0.5 }));
    assert_eq!(act_gelu_grad(0.0), (0.0, ActGeluGrad { x: 0.5 }));
    assert_eq!(act_softsign_grad(1.0), (0.5, ActSoftsignGrad { x: 0.25 }));
}

#[test]
fn activations_stay_finite_at_large_magnitudes() {
    for x in [-800.0, 800.0] {
        let gs = [
            act_sigmoid_grad(x).1.x,
            act_softplus_grad(x).1.x,
            act_silu_grad(x).1.x,
            act_gelu_grad(x).1.x,
            act_softsign_grad(x).1.x,
            act_elu_grad(x, 1.0).1.x,
        ];
        assert!(gs.iter().all(|g| g.is_finite()), "non-finite activation gradient at {x}: {gs:?}");
    }
    assert_eq!(act_softplus_grad(1000.0), (1000.0, ActSoftplusGrad { x: 1.0 }));
    assert_eq!(act_sigmoid_grad(-800.0).1.x, 0.0);
}

// ---------------------------------------------------------------------------------------------
// Chains: every operation with an adjoint other than 1 flowing in and a computed operand.

#[backprop]
fn chain_exp_log(x: f64, k: f64) -> f64 {
    let u = (k * x).exp() + (x * x).exp2() - (0.5 * x).exp_m1();
    let v = u.ln() * k + (u * k).log2() - (x * x + 1.0).log10() + (k * x * x).ln_1p();
    let w = (u + 2.0).log(k + 3.0);
    v * w + (k * x).sqrt() + (x - k).cbrt() * k
}

#[backprop]
fn chain_trig(x: f64, k: f64) -> f64 {
    let a = (k * x).sin() * (x + k).cos() + (0.3 * x).tan() * k;
    let b = (0.2 * x * k).asin() + (0.1 * x - 0.2).acos() * k + (x * k).atan();
    let c = (x * 3.0).atan2(k + x) * a;
    (a * b + c).sin() * k
}

#[backprop]
fn chain_hyperbolic(x: f64, k: f64) -> f64 {
    let a = (k * x).sinh() + (x - k).cosh() * k - (x * 0.5).tanh();
    let b = (a * k).asinh() + (x * x + 1.5).acosh() * k + (0.3 * x * k).atanh();
    a * b
}

#[backprop]
fn chain_piecewise(x: f64, k: f64) -> f64 {
    let a = (x * k).abs() * k + (x - 3.0).max(k * 2.0) - (x * k).min(k + 0.5) * x;
    let b = a.mul_add(k, x * x) + (a * 0.5).hypot(k * x) + (a + 10.0).recip() * x;
    let c = (x * k).clamp(-1.5, 2.5) * b + (x * k).signum() * x;
    c + a.powi(3) * 0.01 + (a * a + 1.0).powf(k * 0.5) + b.powi(-2)
}

#[backprop]
fn chain_activations(x: f64, k: f64) -> f64 {
    let a = sigmoid(k * x) * relu(x - 0.5) + leaky_relu(x * k, k * 0.1);
    let b = softplus(a * k) + elu(x - k, k) * silu(x * 0.5);
    let c = gelu(b - x) + softsign(a * b * k);
    a * b * c
}

fn dual_chain_exp_log(x: Dual64, k: Dual64) -> Dual64 {
    let u = (k * x).exp() + (x * x).exp2() - (x * 0.5).exp_m1();
    let v = u.ln() * k + (u * k).log2() - (x * x + 1.0).log10() + (k * x * x).ln_1p();
    let w = (u + 2.0).ln() / (k + 3.0).ln();
    v * w + (k * x).sqrt() + (x - k).cbrt() * k
}

fn dual_chain_trig(x: Dual64, k: Dual64) -> Dual64 {
    let a = (k * x).sin() * (x + k).cos() + (x * 0.3).tan() * k;
    let b = (x * k * 0.2).asin() + (x * 0.1 - 0.2).acos() * k + (x * k).atan();
    let c = common::dual_atan2(x * 3.0, k + x) * a;
    (a * b + c).sin() * k
}

fn dual_chain_hyperbolic(x: Dual64, k: Dual64) -> Dual64 {
    let a = (k * x).sinh() + (x - k).cosh() * k - (x * 0.5).tanh();
    let b = (a * k).asinh() + (x * x + 1.5).acosh() * k + (x * k * 0.3).atanh();
    a * b
}

fn dual_chain_piecewise(x: Dual64, k: Dual64) -> Dual64 {
    let a = common::dual_abs(x * k) * k + common::dual_max(x - 3.0, k * 2.0) - common::dual_min(x * k, k + 0.5) * x;
    let b = a * k + x * x + ((a * 0.5) * (a * 0.5) + (k * x) * (k * x)).sqrt() + (a + 10.0).recip() * x;
    let xk = x * k;
    let clamped = if xk.re < -1.5 {
        c(-1.5)
    } else if xk.re > 2.5 {
        c(2.5)
    } else {
        xk
    };
    let cc = clamped * b + x * xk.re.signum();
    cc + a.powi(3) * 0.01 + (a * a + 1.0).powd(k * 0.5) + b.powi(-2)
}

fn dual_chain_activations(x: Dual64, k: Dual64) -> Dual64 {
    let relu = |v: Dual64| if v.re > 0.0 { v } else { c(0.0) };
    let leaky = |v: Dual64, al: Dual64| if v.re > 0.0 { v } else { al * v };
    let elu = |v: Dual64, al: Dual64| if v.re > 0.0 { v } else { al * v.exp_m1() };
    let a = d_sigmoid(k * x) * relu(x - 0.5) + leaky(x * k, k * 0.1);
    let b = (a * k).exp().ln_1p() + elu(x - k, k) * (x * 0.5) * d_sigmoid(x * 0.5);
    let ab = a * b * k;
    let cc = d_gelu(b - x) + ab / (common::dual_abs(ab) + 1.0);
    a * b * cc
}

#[test]
fn chains_through_every_operation() {
    check!(chain_exp_log, chain_exp_log_grad, (x, k), [[0.7, 1.3], [1.2, 0.4], [0.5, 2.0], [0.3, 0.9]], |x, k| {
        dual_chain_exp_log(x, k)
    });
    check!(chain_trig, chain_trig_grad, (x, k), [[0.7, 1.3], [1.2, 0.4], [-0.5, 2.0], [0.3, -0.9]], |x, k| {
        dual_chain_trig(x, k)
    });
    check!(
        chain_hyperbolic,
        chain_hyperbolic_grad,
        (x, k),
        [[0.7, 1.3], [1.2, 0.4], [-0.5, 2.0], [0.3, -0.9]],
        |x, k| dual_chain_hyperbolic(x, k)
    );
    check!(
        chain_piecewise,
        chain_piecewise_grad,
        (x, k),
        [[0.7, 1.3], [1.2, 0.4], [-0.5, 2.0], [4.5, 0.9], [-2.0, 1.1]],
        |x, k| dual_chain_piecewise(x, k)
    );
    check!(
        chain_activations,
        chain_activations_grad,
        (x, k),
        [[0.7, 1.3], [1.2, 0.4], [-0.5, 2.0], [2.5, 0.9], [-2.0, 1.1]],
        |x, k| dual_chain_activations(x, k)
    );
}

// ---------------------------------------------------------------------------------------------
// Kink conventions, pinned exactly.

#[backprop]
fn kink_max_self(x: f64) -> f64 {
    x.max(x)
}

#[test]
fn kink_abs_at_zero_is_zero() {
    assert_eq!(op_abs_grad(0.0), (0.0, OpAbsGrad { x: 0.0 }));
    let (value, g) = op_abs_grad(-0.0);
    assert_eq!(value.to_bits(), 0.0_f64.to_bits());
    assert_eq!(g.x, 0.0);
}

#[test]
fn kink_relu_at_zero_is_zero() {
    assert_eq!(act_relu_grad(0.0), (0.0, ActReluGrad { x: 0.0 }));
    assert_eq!(act_relu_grad(-0.0).1.x, 0.0);
}

#[test]
fn kink_leaky_relu_at_zero_is_alpha() {
    for alpha in [0.01, 0.2, 0.5] {
        let (value, g) = act_leaky_relu_grad(0.0, alpha);
        assert_eq!(value, 0.0);
        assert_eq!(g.x, alpha, "leaky_relu'(0) with alpha = {alpha}");
        assert_eq!(g.alpha, 0.0, "d leaky_relu(0, alpha) / d alpha");
    }
    assert_eq!(act_leaky_relu_literal_grad(0.0).1.x, 0.01);
}

#[test]
fn kink_max_min_ties_split_evenly() {
    for v in [0.0, 1.5, -2.0] {
        assert_eq!(op_max_grad(v, v), (v, OpMaxGrad { x: 0.5, y: 0.5 }), "max tie at {v}");
        assert_eq!(op_min_grad(v, v), (v, OpMinGrad { x: 0.5, y: 0.5 }), "min tie at {v}");
    }
    // The two halves of a tie between an argument and itself add back up to 1.
    assert_eq!(kink_max_self_grad(2.0), (2.0, KinkMaxSelfGrad { x: 1.0 }));
}

#[test]
fn kink_clamp_edges_pass_gradient_to_x() {
    assert_eq!(op_clamp_grad(0.0, 0.0, 1.0), (0.0, OpClampGrad { x: 1.0, lo: 0.0, hi: 0.0 }));
    assert_eq!(op_clamp_grad(1.0, 0.0, 1.0), (1.0, OpClampGrad { x: 1.0, lo: 0.0, hi: 0.0 }));
    assert_eq!(op_clamp_literal_grad(-1.0), (-1.0, OpClampLiteralGrad { x: 1.0 }));
    assert_eq!(op_clamp_literal_grad(2.0), (2.0, OpClampLiteralGrad { x: 1.0 }));
}

#[test]
fn kink_signum_derivative_is_zero() {
    for x in [-3.0, -0.0, 0.0, 1e-300, 2.0] {
        let (value, g) = op_signum_grad(x);
        assert_eq!(value.to_bits(), x.signum().to_bits());
        assert_eq!(g.x, 0.0, "signum' at {x} must be exactly 0");
    }
    // signum(x) * x == |x| away from 0: the gradient is signum(x), only through the second factor.
    assert_eq!(op_signum_times_grad(-3.0).1.x, -1.0);
    assert_eq!(op_signum_times_grad(3.0).1.x, 1.0);
}
