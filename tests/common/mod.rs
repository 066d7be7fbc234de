//! Helpers shared by the gradient integration tests: central finite differences, forward-mode
//! derivatives with `num-dual`, and assertions whose failure message names the function, the point,
//! the expected and the actual value.
//!
//! Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use num_dual::{Dual32, Dual64};

/// Checks `$f_grad` against `$f` (central finite differences) and against `$dual` (forward mode
/// through the same function over `num_dual::Dual64`) at each point, and checks that the value
/// returned by `$f_grad` is bit-for-bit `$f`'s.
///
/// `($($arg),+)` are the differentiated float arguments of `$f`, in order; the gradient fields are
/// named after them. Arguments after a `;` are passed to `$f` as given (non-float arguments, which
/// must come last in the signature). The dual closure binds the float arguments as `Dual64`.
#[allow(unused_macros)]
macro_rules! check {
    (
        $f:ident, $f_grad:ident, ($($arg:ident),+ $(; $($fixed:expr),+)?),
        [$([$($p:expr),+ $(,)?]),+ $(,)?],
        |$($d:ident),+| $dual:expr
    ) => {{
        let names: &[&str] = &[$(stringify!($arg)),+];
        let points: &[&[f64]] = &[$(&[$($p),+]),+];
        assert!(points.len() >= 3, "check at least three points");
        for &point in points {
            $crate::common::check_point(
                stringify!($f),
                names,
                point,
                &|a: &[f64]| {
                    let &[$($arg),+] = a else { panic!("wrong arity") };
                    $f($($arg),+ $(, $($fixed),+)?)
                },
                &|a: &[f64]| {
                    let &[$($arg),+] = a else { panic!("wrong arity") };
                    let (value, g) = $f_grad($($arg),+ $(, $($fixed),+)?);
                    (value, vec![$(g.$arg),+])
                },
                &|a: &[::num_dual::Dual64]| {
                    let &[$($d),+] = a else { panic!("wrong arity") };
                    $dual
                },
            );
        }
    }};
}

/// A generated gradient seen through a slice: the point in, `(value, gradient)` out.
pub type GradFn<'a> = dyn Fn(&[f64]) -> (f64, Vec<f64>) + 'a;
/// [`GradFn`] for f32 functions.
pub type GradFn32<'a> = dyn Fn(&[f32]) -> (f32, Vec<f32>) + 'a;

/// Relative tolerance when comparing a gradient with central finite differences.
pub const FD_RTOL: f64 = 1e-6;
/// Absolute tolerance when comparing a gradient with central finite differences.
pub const FD_ATOL: f64 = 1e-6;
/// Relative tolerance when comparing a gradient with forward mode (both are exact up to rounding).
pub const DUAL_RTOL: f64 = 1e-10;
/// Absolute tolerance when comparing a gradient with forward mode.
pub const DUAL_ATOL: f64 = 1e-12;

/// The finite-difference step for a coordinate of magnitude `|x|`: `1e-6`, scaled up for `|x| > 1`.
pub fn step(x: f64) -> f64 {
    1e-6 * x.abs().max(1.0)
}

/// `∂f/∂x_i` at `x` by central differences, `(f(x + h e_i) - f(x - h e_i)) / (2h)`, where the
/// denominator is the distance between the two points as actually represented.
pub fn central_diff(f: &dyn Fn(&[f64]) -> f64, x: &[f64], i: usize) -> f64 {
    let h = step(x[i]);
    let mut p = x.to_vec();
    p[i] = x[i] + h;
    let hi = p[i];
    let f_hi = f(&p);
    p[i] = x[i] - h;
    let lo = p[i];
    let f_lo = f(&p);
    (f_hi - f_lo) / (hi - lo)
}

/// The gradient of `f` at `x` by central differences.
pub fn fd_gradient(f: &dyn Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len()).map(|i| central_diff(f, x, i)).collect()
}

/// The gradient of `f` at `x` by forward mode: one pass per coordinate, seeding that coordinate.
/// Also returns the value, so callers can check that the dual function is the same function.
pub fn dual_gradient(f: &dyn Fn(&[Dual64]) -> Dual64, x: &[f64]) -> (f64, Vec<f64>) {
    let mut value = f64::NAN;
    let grad = (0..x.len())
        .map(|i| {
            let args: Vec<Dual64> = x
                .iter()
                .enumerate()
                .map(|(j, &v)| if i == j { Dual64::from_re(v).derivative() } else { Dual64::from_re(v) })
                .collect();
            let y = f(&args);
            value = y.re;
            y.eps
        })
        .collect();
    (value, grad)
}

/// The f32 version of [`dual_gradient`].
pub fn dual_gradient_f32(f: &dyn Fn(&[Dual32]) -> Dual32, x: &[f32]) -> (f32, Vec<f32>) {
    let mut value = f32::NAN;
    let grad = (0..x.len())
        .map(|i| {
            let args: Vec<Dual32> = x
                .iter()
                .enumerate()
                .map(|(j, &v)| if i == j { Dual32::from_re(v).derivative() } else { Dual32::from_re(v) })
                .collect();
            let y = f(&args);
            value = y.re;
            y.eps
        })
        .collect();
    (value, grad)
}

/// `|a - b| <= atol + rtol * max(|a|, |b|)`; false if either is NaN. Equal infinities are close.
pub fn close(a: f64, b: f64, rtol: f64, atol: f64) -> bool {
    if a == b {
        return true;
    }
    (a - b).abs() <= atol + rtol * a.abs().max(b.abs())
}

fn point_string(arg_names: &[&str], point: &[f64]) -> String {
    if arg_names.len() == point.len() {
        let parts: Vec<String> = arg_names.iter().zip(point).map(|(n, v)| format!("{n} = {v:?}")).collect();
        format!("({})", parts.join(", "))
    } else {
        format!("{point:?}")
    }
}

/// Asserts `actual` is within the tolerances of `expected`, naming the function, the quantity
/// (e.g. `d/dx`) and the point on failure.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn assert_close(
    func: &str,
    what: &str,
    arg_names: &[&str],
    point: &[f64],
    expected: f64,
    actual: f64,
    rtol: f64,
    atol: f64,
) {
    assert!(
        close(expected, actual, rtol, atol),
        "{func}: {what} at {}: expected {expected:e}, actual {actual:e} (difference {:e}, rtol {rtol:e}, atol {atol:e})",
        point_string(arg_names, point),
        actual - expected,
    );
}

/// Asserts two floats are the same bits (`to_bits`), naming the function and the point.
#[track_caller]
pub fn assert_bits_eq(func: &str, what: &str, arg_names: &[&str], point: &[f64], expected: f64, actual: f64) {
    assert!(
        expected.to_bits() == actual.to_bits(),
        "{func}: {what} at {}: expected exactly {expected:?} (bits {:#018x}), actual {actual:?} (bits {:#018x})",
        point_string(arg_names, point),
        expected.to_bits(),
        actual.to_bits(),
    );
}

/// Asserts every component of `actual` is within the tolerances of `expected`.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn assert_grad_close(
    func: &str,
    method: &str,
    arg_names: &[&str],
    point: &[f64],
    expected: &[f64],
    actual: &[f64],
    rtol: f64,
    atol: f64,
) {
    assert_eq!(expected.len(), actual.len(), "{func}: gradient lengths differ");
    for (i, (&e, &a)) in expected.iter().zip(actual).enumerate() {
        let name = arg_names.get(i).copied().unwrap_or("?");
        assert_close(func, &format!("d/d{name} ({method})"), arg_names, point, e, a, rtol, atol);
    }
}

/// Checks a generated gradient at `point` against central finite differences of `f`.
#[track_caller]
pub fn check_fd(func: &str, arg_names: &[&str], point: &[f64], f: &dyn Fn(&[f64]) -> f64, actual: &[f64]) {
    let expected = fd_gradient(f, point);
    assert_grad_close(func, "vs central differences", arg_names, point, &expected, actual, FD_RTOL, FD_ATOL);
}

/// Checks a generated gradient at `point` against forward mode through `dual`, after checking that
/// `dual` computes the same value as the function under test (so the two really are one function).
#[track_caller]
pub fn check_dual(
    func: &str,
    arg_names: &[&str],
    point: &[f64],
    value: f64,
    dual: &dyn Fn(&[Dual64]) -> Dual64,
    actual: &[f64],
) {
    let (dual_value, expected) = dual_gradient(dual, point);
    assert_close(func, "value of the num-dual version", arg_names, point, value, dual_value, 1e-12, 1e-14);
    assert_grad_close(func, "vs num-dual forward mode", arg_names, point, &expected, actual, DUAL_RTOL, DUAL_ATOL);
}

/// All checks of one generated gradient at one point:
/// - the value returned by `_grad` is bit-for-bit the value of the original function;
/// - the gradient agrees with central finite differences of the original function;
/// - the gradient agrees with forward mode through `dual`, the same function over dual numbers.
#[track_caller]
pub fn check_point(
    func: &str,
    arg_names: &[&str],
    point: &[f64],
    f: &dyn Fn(&[f64]) -> f64,
    grad: &GradFn<'_>,
    dual: &dyn Fn(&[Dual64]) -> Dual64,
) {
    let original = f(point);
    let (value, actual) = grad(point);
    assert_bits_eq(func, "value returned by _grad", arg_names, point, original, value);
    assert!(
        actual.iter().all(|g| g.is_finite()),
        "{func}: non-finite gradient {actual:?} at {}",
        point_string(arg_names, point)
    );
    check_fd(func, arg_names, point, f, &actual);
    check_dual(func, arg_names, point, original, dual, &actual);
}

/// Like [`check_point`] but without forward mode, for functions only checked numerically.
#[track_caller]
pub fn check_point_fd(func: &str, arg_names: &[&str], point: &[f64], f: &dyn Fn(&[f64]) -> f64, grad: &GradFn<'_>) {
    let original = f(point);
    let (value, actual) = grad(point);
    assert_bits_eq(func, "value returned by _grad", arg_names, point, original, value);
    check_fd(func, arg_names, point, f, &actual);
}

/// `x.max(y)` over dual numbers, with the tie split evenly (the convention of the generated code).
pub fn dual_max(x: Dual64, y: Dual64) -> Dual64 {
    if x.re > y.re {
        x
    } else if x.re < y.re {
        y
    } else {
        (x + y) * 0.5
    }
}

/// `x.min(y)` over dual numbers, with the tie split evenly.
pub fn dual_min(x: Dual64, y: Dual64) -> Dual64 {
    if x.re < y.re {
        x
    } else if x.re > y.re {
        y
    } else {
        (x + y) * 0.5
    }
}

/// `|x|` over dual numbers (away from 0).
pub fn dual_abs(x: Dual64) -> Dual64 {
    if x.re < 0.0 {
        -x
    } else {
        x
    }
}

/// `y.atan2(x)` over dual numbers, written out because num-dual's version is NaN at `x = 0`.
pub fn dual_atan2(y: Dual64, x: Dual64) -> Dual64 {
    let r2 = x.re * x.re + y.re * y.re;
    Dual64::new(y.re.atan2(x.re), (x.re * y.eps - y.re * x.eps) / r2)
}

/// Relative tolerance for f32 gradients against an f64 reference.
pub const F32_RTOL: f64 = 1e-4;
/// Absolute tolerance for f32 gradients against an f64 reference.
pub const F32_ATOL: f64 = 1e-5;

/// All checks of one generated f32 gradient at one point:
/// - the value returned by `_grad` is bit-for-bit the value of the original f32 function;
/// - the gradient agrees with central finite differences of `twin`, the same function written in
///   f64 (differences taken in f32 would be too coarse), at f32 tolerances;
/// - the gradient agrees with forward mode through `dual` over `Dual32`, at f32 tolerances.
#[track_caller]
pub fn check_point_f32(
    func: &str,
    arg_names: &[&str],
    point: &[f32],
    f: &dyn Fn(&[f32]) -> f32,
    grad: &GradFn32<'_>,
    twin: &dyn Fn(&[f64]) -> f64,
    dual: &dyn Fn(&[Dual32]) -> Dual32,
) {
    let point64: Vec<f64> = point.iter().map(|&v| f64::from(v)).collect();
    let original = f(point);
    let (value, actual) = grad(point);
    assert_bits_eq(func, "value returned by _grad", arg_names, &point64, f64::from(original), f64::from(value));
    assert_close(
        func,
        "value of the f64 twin",
        arg_names,
        &point64,
        twin(&point64),
        f64::from(original),
        F32_RTOL,
        F32_ATOL,
    );
    let actual64: Vec<f64> = actual.iter().map(|&g| f64::from(g)).collect();
    let fd = fd_gradient(twin, &point64);
    assert_grad_close(
        func,
        "vs central differences of the f64 twin",
        arg_names,
        &point64,
        &fd,
        &actual64,
        F32_RTOL,
        F32_ATOL,
    );
    let (dual_value, forward) = dual_gradient_f32(dual, point);
    assert_close(
        func,
        "value of the num-dual version",
        arg_names,
        &point64,
        f64::from(original),
        f64::from(dual_value),
        1e-5,
        1e-6,
    );
    let forward64: Vec<f64> = forward.iter().map(|&g| f64::from(g)).collect();
    assert_grad_close(
        func,
        "vs num-dual forward mode (f32)",
        arg_names,
        &point64,
        &forward64,
        &actual64,
        F32_RTOL,
        F32_ATOL,
    );
}
