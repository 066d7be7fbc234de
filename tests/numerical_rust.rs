//! Rust as numerical code is written (issue 10): integer arrays as arguments (a data set's
//! structure: observations, a skeleton's parents, labels), tuples, deferred initialisation and
//! `match`. Each form is checked against exact values or central finite differences, and the value
//! `_grad` returns is bit for bit the function's.

// The forms are written as users write them, which clippy would sometimes write differently.
#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::match_overlapping_arm,
    clippy::needless_late_init,
    clippy::needless_return
)]

use backprop::prelude::*;

fn numeric_gradient(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let d = |h: f64| {
                let mut p = x.to_vec();
                p[i] = x[i] + h;
                let up = f(&p);
                p[i] = x[i] - h;
                (up - f(&p)) / (2.0 * h)
            };
            let h = 1e-4 * (1.0 + x[i].abs());
            (4.0 * d(h / 2.0) - d(h)) / 3.0
        })
        .collect()
}

fn assert_close(what: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= 1e-6 * (1.0 + e.abs()), "{what}[{i}]: generated {a} vs finite differences {e}");
    }
}

// ---- integer arrays as arguments -----------------------------------------------------------------

/// Bundle adjustment's shape: which camera (`obs[k][0]`) sees which point (`obs[k][1]`).
#[backprop(wrt(cams, points))]
fn reprojection(cams: &[f64], points: &[f64], obs: &[[usize; 2]], measured: &[f64]) -> f64 {
    let mut c = 0.0;
    for k in 0..obs.len() {
        let cam = obs[k][0];
        let p = obs[k][1];
        let r = cams[cam] * points[p] + cams[cam + 2] - measured[k];
        c += r * r;
    }
    c
}

/// Hand tracking's shape: each bone's angle accumulates its parent's.
#[backprop(wrt(angles))]
fn skeleton(angles: &[f64; 5], parents: &[usize; 5]) -> f64 {
    let mut world = [0.0; 5];
    world[0] = angles[0];
    for b in 1..5 {
        world[b] = world[parents[b]] + angles[b];
    }
    let mut c = 0.0;
    for b in 0..5 {
        c += world[b].sin();
    }
    c
}

/// Labels as `u8` and indices as `i32` in a `Vec`, converted where they index.
#[backprop(wrt(w))]
fn labelled(w: &[f64; 3], labels: &[u8], idx: &Vec<i32>) -> f64 {
    let mut c = 0.0;
    for s in 0..labels.len() {
        let k = labels[s] as usize;
        c += w[k] * w[idx[s] as usize];
    }
    c
}

#[test]
fn integer_arrays_index_the_differentiated_ones() {
    let cams = [1.5, 0.5, 0.2, -0.3];
    let points = [1.0, 2.0, -1.0];
    let obs = [[0, 0], [1, 2], [0, 1], [1, 1]];
    let measured = [1.0, 0.4, 2.5, 0.9];
    let (c, g) = reprojection_grad(&cams, &points, &obs, &measured);
    assert_eq!(c, reprojection(&cams, &points, &obs, &measured));
    let f = |v: &[f64]| reprojection(&v[..4], &v[4..], &obs, &measured);
    let mut actual = g.cams.clone();
    actual.extend(&g.points);
    let point: Vec<f64> = cams.iter().chain(&points).copied().collect();
    assert_close("reprojection", &actual, &numeric_gradient(f, &point));

    let angles = [0.3, -0.2, 0.5, 0.1, 0.7];
    let parents = [0, 0, 1, 1, 3];
    let (c, g) = skeleton_grad(&angles, &parents);
    assert_eq!(c, skeleton(&angles, &parents));
    let f = |v: &[f64]| skeleton(&[v[0], v[1], v[2], v[3], v[4]], &parents);
    assert_close("skeleton", &g.angles, &numeric_gradient(f, &angles));

    // c = w0 w2 + w2 w1 + w1 w1: gradient (w2, w2 + 2 w1, w0 + w1).
    let w = [2.0, 3.0, 5.0];
    let (c, g) = labelled_grad(&w, &[0, 2, 1], &vec![2, 1, 1]);
    assert_eq!(c, 10.0 + 15.0 + 9.0);
    assert_eq!(g.w, [5.0, 11.0, 5.0]);
}

// ---- tuples ----------------------------------------------------------------------------------

#[backprop]
fn tuples(x: f64, y: f64) -> f64 {
    let (a, b, _) = (x * y, x + y, x / y);
    let t = (a.sin(), b * b);
    let (p, q) = t;
    t.0 * q + p * t.1 + a
}

#[test]
fn tuples_destructure_and_read_fields() {
    for &(x, y) in &[(0.5, 2.0), (-1.5, 0.75), (2.0, -3.0)] {
        let (c, g) = tuples_grad(x, y);
        assert_eq!(c, tuples(x, y));
        assert_close("tuples", &[g.x, g.y], &numeric_gradient(|v: &[f64]| tuples(v[0], v[1]), &[x, y]));
    }
}

// ---- deferred initialisation --------------------------------------------------------------------

#[backprop]
fn deferred(x: f64, y: f64) -> f64 {
    let r;
    let k: f64;
    if x > y {
        r = x * x;
        k = 2.0;
    } else {
        r = y.exp();
        k = x;
    }
    let z;
    z = r * k;
    z + r
}

#[test]
fn let_without_a_value_is_assigned_in_every_branch() {
    // x > y: z + r = 2x² + x², derivative 6x in x, 0 in y.
    assert_eq!(deferred_grad(3.0, 1.0), (27.0, DeferredGrad { x: 18.0, y: 0.0 }));
    for &(x, y) in &[(0.5, 2.0), (-1.0, 0.25)] {
        let (c, g) = deferred_grad(x, y);
        assert_eq!(c, deferred(x, y));
        assert_close("deferred", &[g.x, g.y], &numeric_gradient(|v: &[f64]| deferred(v[0], v[1]), &[x, y]));
    }
}

// ---- match -----------------------------------------------------------------------------------

#[backprop(wrt(x))]
fn piecewise(x: f64, n: i32, flag: bool) -> f64 {
    let a = match n {
        0 => x,
        1 | 2 => x * x,
        3..=5 => x.sin(),
        k if k < 0 => -x,
        k => x * k as f64,
    };
    let mut b = 0.0;
    match flag {
        true => b = a.exp(),
        false => {
            b += a * 3.0;
        }
    }
    a + b
}

#[backprop(wrt(w))]
fn match_in_loop(w: &[f64; 4]) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        s += match i % 3 {
            0 => w[i] * w[i],
            1 => match i {
                1 => w[i].tanh(),
                _ => 2.0 * w[i],
            },
            _ => w[i],
        };
    }
    s
}

#[test]
fn match_follows_the_arm_taken() {
    let x: f64 = 0.7;
    let expect = |n: i32, flag: bool| -> f64 {
        let (a, da) = match n {
            0 => (x, 1.0),
            1 | 2 => (x * x, 2.0 * x),
            3..=5 => (x.sin(), x.cos()),
            k if k < 0 => (-x, -1.0),
            k => (x * k as f64, k as f64),
        };
        if flag {
            da + a.exp() * da
        } else {
            da + 3.0 * da
        }
    };
    for n in [0, 1, 2, 4, -3, 9] {
        for flag in [true, false] {
            let (c, g) = piecewise_grad(x, n, flag);
            assert_eq!(c, piecewise(x, n, flag), "value at n = {n}, flag = {flag}");
            assert!((g.x - expect(n, flag)).abs() < 1e-12, "n = {n}, flag = {flag}: {} vs {}", g.x, expect(n, flag));
        }
    }
    let w = [0.5, -0.3, 1.2, 0.8];
    let (c, g) = match_in_loop_grad(&w);
    assert_eq!(c, match_in_loop(&w));
    // i = 0: w0², i = 1: tanh w1, i = 2: w2, i = 3: w3².
    let t = (-0.3_f64).tanh();
    assert_eq!(g.w, [1.0, 1.0 - t * t, 1.0, 1.6]);
}

// ---- iterator idioms ---------------------------------------------------------------------------

#[backprop]
fn dot_zip(a: &[f64], b: &[f64; 3]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>()
}

#[backprop(wrt(a, w))]
fn idioms(a: &[f64; 4], w: f64) -> f64 {
    let squares: f64 = a.iter().map(|v| v * v).sum();
    let top = a.iter().copied().fold(f64::MIN, f64::max);
    let horner = a.iter().fold(0.0, |acc, v| acc * w + v);
    let product = a.iter().map(|&v| v + w).product::<f64>();
    let mut pairs = 0.0;
    for (x, y) in a.iter().zip(a.iter()) {
        pairs += x * y * w;
    }
    squares + top + horner + product + pairs
}

#[test]
fn iterator_idioms_are_index_loops_with_the_same_value() {
    // zip stops at the shorter source: a has 4 elements, b 3.
    let a = [1.0, -2.0, 0.5, 7.0];
    let b = [3.0, 0.25, -4.0];
    let (c, g) = dot_zip_grad(&a, &b);
    assert_eq!(c, dot_zip(&a, &b));
    assert_eq!(g.a, vec![3.0, 0.25, -4.0, 0.0]);
    assert_eq!(g.b, [1.0, -2.0, 0.5]);
    // An empty sum is -0.0, as `Sum` for floats gives.
    assert_eq!(dot_zip_grad(&[], &b).0.to_bits(), (-0.0_f64).to_bits());
}

#[test]
fn folds_maps_products_and_zipped_loops() {
    for &(a, w) in &[([0.5, -1.5, 2.0, 0.25], 0.75), ([1.0, 2.0, -0.5, 3.0], -0.5)] {
        let (c, g) = idioms_grad(&a, w);
        assert_eq!(c, idioms(&a, w));
        let f = |v: &[f64]| idioms(&[v[0], v[1], v[2], v[3]], v[4]);
        let mut actual = g.a.to_vec();
        actual.push(g.w);
        assert_close("idioms", &actual, &numeric_gradient(f, &[a[0], a[1], a[2], a[3], w]));
    }
}

// ---- while loops -------------------------------------------------------------------------------

/// Newton's method for √a: the trip count depends on `a`.
#[backprop]
fn newton_sqrt(a: f64) -> f64 {
    let mut x = a;
    let mut prev = 0.0;
    while (x - prev).abs() > 1e-12 * x {
        prev = x;
        x = 0.5 * (x + a / x);
    }
    x
}

/// A fixed-point iteration `x = cos(w x)`, stopped at a tolerance, inside a loop over data: each
/// outer iteration runs its own number of inner iterations.
#[backprop(wrt(w))]
fn fixed_points(w: f64, data: &[f64; 3]) -> f64 {
    let mut total = 0.0;
    for i in 0..3 {
        let mut x = data[i];
        let mut step = 1.0;
        while step > 1e-13 {
            let next = (w * x).cos();
            step = (next - x).abs();
            x = next;
        }
        total += x * data[i];
    }
    total
}

/// Bisection on `x³ = a` over floats: the interval halves until it is small.
#[backprop(max_iterations = 200)]
fn bisect_cube_root(a: f64) -> f64 {
    let mut lo = 0.0;
    let mut hi = a + 1.0;
    while hi - lo > 1e-12 {
        let mid = 0.5 * (lo + hi);
        if mid * mid * mid > a {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    0.5 * (lo + hi)
}

#[backprop(max_iterations = 5)]
fn never_settles(x: f64) -> f64 {
    let mut y = x;
    while y > 0.0 {
        y += 1.0;
    }
    y
}

#[test]
fn while_loops_replay_their_trip_count_backwards() {
    for a in [0.25, 2.0, 9.0, 1e4] {
        let (c, g) = newton_sqrt_grad(a);
        assert_eq!(c, newton_sqrt(a));
        let exact = 0.5 / a.sqrt();
        assert!((g.a - exact).abs() <= 1e-9 * exact, "d√a/da at {a}: {} vs {exact}", g.a);
    }
    let data = [0.3, -0.5, 0.9];
    for w in [0.4, 0.8] {
        let (c, g) = fixed_points_grad(w, &data);
        assert_eq!(c, fixed_points(w, &data));
        // x* = cos(w x*): dx*/dw = -x* sin(w x*) / (1 + w sin(w x*)), summed with weights data[i].
        let mut x: f64 = 0.5;
        for _ in 0..200 {
            x = (w * x).cos();
        }
        let dx = -x * (w * x).sin() / (1.0 + w * (w * x).sin());
        let exact: f64 = data.iter().map(|d| d * dx).sum();
        assert!((g.w - exact).abs() <= 1e-8 * (1.0 + exact.abs()), "w = {w}: {} vs {exact}", g.w);
    }
    // With the comparisons' outcomes fixed (the derivative follows the branches taken), every
    // midpoint is a fixed fraction of the initial upper bound `a + 1`, so the result is
    // `t (a + 1)` with `t = c / (a + 1)`, and its derivative along those branches is `t`.
    let (c, g) = bisect_cube_root_grad(8.0);
    assert_eq!(c, bisect_cube_root(8.0));
    assert!((c - 2.0).abs() < 1e-9);
    assert!((g.a - c / 9.0).abs() < 1e-12, "{} vs {}", g.a, c / 9.0);
}

#[test]
#[should_panic(expected = "ran more than 5 iterations (`max_iterations = 5`)")]
fn max_iterations_bounds_a_loop_that_does_not_end() {
    never_settles_grad(1.0);
}

// ---- scratch buffers sized at run time -----------------------------------------------------------

/// A smoothing pass over a runtime-length signal in a `vec!` buffer, and a copy made with `to_vec`.
#[backprop(wrt(x, w))]
fn smooth(x: &[f64], w: f64, n: usize) -> f64 {
    let mut h = vec![0.0; n];
    let mut s = x.to_vec();
    for i in 0..n {
        h[i] = w * x[i] + (1.0 - w) * x[(i + 1) % n];
    }
    for i in 0..s.len() {
        s[i] *= h[i % n];
    }
    let mut c = 0.0;
    for t in 0..2 {
        let mut tmp = vec![0.0; x.len()];
        for i in 0..tmp.len() {
            tmp[i] = s[i] * (t as f64 + 1.0);
        }
        for i in 0..tmp.len() {
            c += tmp[i] * tmp[i];
        }
    }
    c
}

#[test]
fn vec_and_to_vec_buffers() {
    let x = vec![0.5, -1.0, 2.0, 0.25, 1.5];
    let (c, g) = smooth_grad(&x, 0.3, 5);
    assert_eq!(c, smooth(&x, 0.3, 5));
    let f = |v: &[f64]| smooth(&v[..5], v[5], 5);
    let mut actual = g.x.clone();
    actual.push(g.w);
    let mut point = x.clone();
    point.push(0.3);
    assert_close("smooth", &actual, &numeric_gradient(f, &point));
}

// ---- break, continue, loop -----------------------------------------------------------------------

#[backprop]
fn first_above(x: &[f64; 5], t: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..5 {
        if x[i] > t {
            s += x[i] * x[i];
            break;
        }
        if x[i] < 0.0 {
            continue;
        }
        s += x[i];
    }
    s
}

#[backprop]
fn newton_loop(a: f64) -> f64 {
    let mut x = a;
    loop {
        let next = 0.5 * (x + a / x);
        if (next - x).abs() < 1e-12 * next {
            x = next;
            break;
        }
        x = next;
    }
    x
}

#[backprop]
fn while_with_exits(w: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut total = 0.0;
    while s < 10.0 {
        s += w;
        if s > 3.0 && s < 4.0 {
            continue;
        }
        total += s * x[0];
        if total > 8.0 {
            break;
        }
    }
    total
}

#[test]
fn break_continue_and_loop_follow_what_ran() {
    // t = 1.5: i0 = 0.5 counts, i1 = -1 skipped, i2 = 2 > 1.5 squared then stop.
    let x = [0.5, -1.0, 2.0, 0.25, 3.0];
    let (c, g) = first_above_grad(&x, 1.5);
    assert_eq!(c, first_above(&x, 1.5));
    assert_eq!(c, 4.5);
    assert_eq!(g.x, [1.0, 0.0, 4.0, 0.0, 0.0]);
    assert_eq!(g.t, 0.0);
    for a in [0.5, 3.0, 50.0] {
        let (c, g) = newton_loop_grad(a);
        assert_eq!(c, newton_loop(a));
        let exact = 0.5 / a.sqrt();
        assert!((g.a - exact).abs() <= 1e-9 * exact, "{a}: {} vs {exact}", g.a);
    }
    for &(w, x0) in &[(0.7, 1.3), (1.1, 0.4)] {
        let (c, g) = while_with_exits_grad(w, &[x0]);
        assert_eq!(c, while_with_exits(w, &[x0]));
        let f = |v: &[f64]| while_with_exits(v[0], &[v[1]]);
        assert_close("while_with_exits", &[g.w, g.x[0]], &numeric_gradient(f, &[w, x0]));
    }
}

// ---- early return --------------------------------------------------------------------------------

#[backprop]
fn early_guard(x: f64, w: f64) -> f64 {
    if x <= 0.0 {
        return w * 0.5;
    }
    let r = x.sqrt();
    r * w
}

#[backprop(wrt(x, w))]
fn first_hit(x: &[f64; 4], w: f64, t: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        s += x[i];
        if x[i] > t {
            return s * w;
        }
    }
    if s > 0.0 {
        return s;
    } else {
        s * s * w
    }
}

#[backprop(wrt(x))]
fn returns_from_match_and_while(x: f64, n: i32) -> f64 {
    let mut y = x;
    match n {
        0 => return y * 3.0,
        1 => {
            y = y * y;
        }
        _ => {}
    }
    while y < 100.0 {
        y = y * 2.0 + 1.0;
        if y > 50.0 {
            return y - x;
        }
    }
    y
}

#[test]
fn early_returns_give_the_value_and_the_derivative_of_the_path_taken() {
    assert_eq!(early_guard_grad(-1.0, 4.0), (2.0, EarlyGuardGrad { x: 0.0, w: 0.5 }));
    assert_eq!(early_guard_grad(0.0, 4.0), (2.0, EarlyGuardGrad { x: 0.0, w: 0.5 }));
    let (c, g) = early_guard_grad(4.0, 3.0);
    assert_eq!((c, g.x, g.w), (6.0, 0.75, 2.0));
    for (x, t) in [([0.5, 2.0, 0.25, 3.0], 1.0), ([0.5, -2.0, 0.25, 0.1], 1.0), ([-0.5, -2.0, 0.25, 0.1], 1.0)] {
        let (c, g) = first_hit_grad(&x, 0.7, t);
        assert_eq!(c, first_hit(&x, 0.7, t));
        let f = |v: &[f64]| first_hit(&[v[0], v[1], v[2], v[3]], v[4], t);
        let mut actual = g.x.to_vec();
        actual.push(g.w);
        assert_close("first_hit", &actual, &numeric_gradient(f, &[x[0], x[1], x[2], x[3], 0.7]));
    }
    for n in [0, 1, 2] {
        for x in [1.5, 3.0, 7.0] {
            let (c, g) = returns_from_match_and_while_grad(x, n);
            assert_eq!(c, returns_from_match_and_while(x, n), "n = {n}, x = {x}");
            let f = |v: &[f64]| returns_from_match_and_while(v[0], n);
            assert_close("returns_from_match_and_while", &[g.x], &numeric_gradient(f, &[x]));
        }
    }
}

// ---- generic float functions -------------------------------------------------------------------

/// Library code written once over the runtime's `Float`, differentiated per instantiation.
#[backprop]
fn generic_cost<T: Float>(x: &[T], w: T) -> T {
    let mut s = T::zero();
    for i in 0..x.len() {
        s += (x[i] * w).tanh() * T::of_f64(0.5) + T::from(2.0).unwrap() * x[i] * x[i];
    }
    s * T::PI() + T::one()
}

/// Generic code that calls the generated gradient without knowing the float type.
fn gradient_norm<T: Float + __GenericCostGradFloat>(x: &[T], w: T) -> T {
    let (_, g) = generic_cost_grad(x, w);
    let mut total = g.w * g.w;
    for v in &g.x {
        total += *v * *v;
    }
    total.sqrt()
}

#[test]
fn a_generic_function_is_differentiated_for_each_float_type() {
    let x64 = [0.5, -1.0, 0.25];
    let (c, g) = generic_cost_grad(&x64, 0.8_f64);
    assert_eq!(c, generic_cost(&x64, 0.8_f64));
    let f = |v: &[f64]| generic_cost(&v[..3], v[3]);
    let mut actual = g.x.clone();
    actual.push(g.w);
    assert_close("generic_cost::<f64>", &actual, &numeric_gradient(f, &[0.5, -1.0, 0.25, 0.8]));

    let x32 = [0.5_f32, -1.0, 0.25];
    let (c32, g32) = generic_cost_grad(&x32, 0.8_f32);
    assert_eq!(c32, generic_cost(&x32, 0.8_f32));
    for (a, b) in g32.x.iter().zip(&g.x) {
        assert!((f64::from(*a) - b).abs() < 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
    }
    let mut acc = GenericCostGrad::zeros_like(&x32);
    generic_cost_grad_acc(&x32, 0.8_f32, &mut acc);
    assert_eq!(acc, g32);
    assert!(
        gradient_norm(&x64, 0.8) > 0.0 && (gradient_norm(&x32, 0.8_f32) as f64 - gradient_norm(&x64, 0.8)).abs() < 1e-4
    );
}

/// A buffer filled with `push`, its length read back.
#[backprop(wrt(x))]
fn pushed(x: &[f64], n: usize) -> f64 {
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        if x[i] > 0.0 {
            v.push(x[i] * x[i]);
        }
    }
    let mut s = 0.0;
    for k in 0..v.len() {
        s += v[k] * (k as f64 + 1.0);
    }
    s
}

#[test]
fn with_capacity_and_push() {
    let x = [0.5, -1.0, 2.0, 0.25];
    // pushed: 0.25 (k=0), 4 (k=1), 0.0625 (k=2): s = 0.25 + 8 + 0.1875.
    let (c, g) = pushed_grad(&x, 4);
    assert_eq!(c, pushed(&x, 4));
    assert_eq!(c, 0.25 + 8.0 + 0.1875);
    assert_eq!(g.x, vec![1.0, 0.0, 8.0, 1.5]);
}

/// An outer `break` after an inner loop that breaks: each loop has its own flag (the outer break
/// was once lost, found by the random generator).
#[backprop]
fn nested_breaks(x: f64, m: usize) -> f64 {
    let mut q: f64 = 1.0;
    for j in 0..4 {
        let mut s = 0.0;
        for k in 0..3 {
            s += x;
            if k == 1 {
                break;
            }
        }
        q += s * (j as f64 + 1.0);
        if m == 0 {
            break;
        }
    }
    q
}

/// A `continue` two loops deep inside a loop with its own `continue`.
#[backprop(wrt(x, a))]
fn nested_continues(x: &[f64], a: f64, m: usize) -> f64 {
    let mut s = 0.0;
    for k in 0..4 {
        let mut q: f64 = 0.5 * a;
        for _j in 0..2 {
            for i in 0..2 {
                if m == 1 && i == 0 {
                    continue;
                }
                q += x[i] * a;
            }
        }
        if k == 2 {
            continue;
        }
        s += q;
    }
    s
}

#[test]
fn nested_loops_keep_their_own_exits() {
    // m = 0: one outer iteration, s = 2x: q = 1 + 2x.
    assert_eq!(nested_breaks_grad(0.5, 0), (2.0, NestedBreaksGrad { x: 2.0 }));
    // m = 1: four iterations, q = 1 + 2x (1 + 2 + 3 + 4).
    assert_eq!(nested_breaks_grad(0.5, 1), (11.0, NestedBreaksGrad { x: 20.0 }));
    let x = [0.3, -0.7];
    for m in [0, 1] {
        let (c, g) = nested_continues_grad(&x, 1.5, m);
        assert_eq!(c, nested_continues(&x, 1.5, m));
        let f = |v: &[f64]| nested_continues(&v[..2], v[2], m);
        let mut actual = g.x.clone();
        actual.push(g.a);
        assert_close("nested_continues", &actual, &numeric_gradient(f, &[0.3, -0.7, 1.5]));
    }
}
