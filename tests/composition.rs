//! Composition (issue 8): parameter structs read at any depth, `#[backprop]` functions calling
//! `#[backprop]` functions (in loops and branches, returning floats or arrays, called twice, by
//! path), methods, the runtime's layers, and custom derivatives. Every gradient is checked against
//! central differences over the flat `Params` view of the arguments.

// `&Vec<f64>` arguments are a form under test (a slice sink), not a style slip.
#![allow(clippy::ptr_arg)]

use backprop::layers::{dense, Dense};
use backprop::prelude::*;
use backprop::runtime::params::{copy_from_slice, to_vec};

/// Central differences of `f` over every scalar of `p`.
fn fd<P: Params<Scalar = f64> + Clone>(p: &P, f: impl Fn(&P) -> f64) -> Vec<f64> {
    let base = to_vec(p);
    (0..base.len())
        .map(|i| {
            let h = 1e-6 * (1.0 + base[i].abs());
            let at = |delta: f64| {
                let mut v = base.clone();
                v[i] += delta;
                let mut q = p.clone();
                copy_from_slice(&mut q, &v).unwrap();
                f(&q)
            };
            (at(h) - at(-h)) / (2.0 * h)
        })
        .collect()
}

fn assert_grad<P: Params<Scalar = f64>>(what: &str, grad: &P, expected: &[f64]) {
    let got = to_vec(grad);
    assert_eq!(got.len(), expected.len(), "{what}: number of parameters");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-6 * (1.0 + e.abs()),
            "{what}: ∂/∂{} = {g}, finite differences say {e}",
            grad.describe(i, "")
        );
    }
}

#[derive(Params, Clone, Debug, PartialEq)]
pub struct Layer {
    pub w: [[f64; 3]; 2],
    pub b: [f64; 2],
}

#[derive(Params, Clone, Debug, PartialEq)]
pub struct Model {
    pub l1: Layer,
    pub v: Vec<f64>,
    pub bias: f64,
}

fn model() -> Model {
    Model { l1: Layer { w: [[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]], b: [0.05, -0.1] }, v: vec![0.7, -0.4], bias: 0.2 }
}

const XS: [[f64; 3]; 3] = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-0.75, 1.0, 0.3]];
const YS: [f64; 3] = [0.3, -0.2, 0.9];

// ---- parameter structs read at any depth -----------------------------------------------------------

#[backprop]
fn read_fields(m: &Model, x: &[f64; 3], y: f64) -> f64 {
    let mut out = m.bias;
    for j in 0..2 {
        let mut z = m.l1.b[j];
        for i in 0..3 {
            z += m.l1.w[j][i] * x[i];
        }
        out += m.v[j] * z.tanh();
    }
    (out - y).powi(2)
}

#[test]
fn nested_struct_and_vec_fields_get_their_gradients() {
    let m = model();
    let (x, y) = (XS[0], YS[0]);
    let (c, g) = read_fields_grad(&m, &x, y);
    assert_eq!(c.to_bits(), read_fields(&m, &x, y).to_bits());
    assert_grad("read_fields", &g.m, &fd(&m, |q| read_fields(q, &x, y)));
    // The gradient is a `Model`, named like the parameters.
    assert_eq!(g.m.describe(7, ""), "l1.b[1]");
    assert_eq!(g.m.v.len(), 2);
}

// ---- functions calling functions -------------------------------------------------------------------

/// A layer: returns an array.
#[backprop]
fn layer(l: &Layer, x: &[f64; 3]) -> [f64; 2] {
    let mut out = [0.0; 2];
    for j in 0..2 {
        let mut z = l.b[j];
        for i in 0..3 {
            z += l.w[j][i] * x[i];
        }
        out[j] = z.tanh();
    }
    out
}

/// A scalar callee, called twice with different arguments.
#[backprop]
fn squared_error(a: f64, b: f64) -> f64 {
    (a - b) * (a - b)
}

#[backprop]
fn readout(m: &Model, h: &[f64; 2]) -> f64 {
    m.v[0] * h[0] + m.v[1] * h[1] + m.bias
}

#[backprop]
fn sample_loss(m: &Model, x: &[f64; 3], y: f64) -> f64 {
    let h = layer(&m.l1, x);
    let p = readout(m, &h);
    squared_error(p, y) + 0.1 * squared_error(h[0], h[1])
}

/// Calls in a loop, over rows of a data array.
#[backprop(wrt(m))]
fn batch_loss(m: &Model, xs: &[[f64; 3]], ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for s in 0..xs.len() {
        total += sample_loss(m, &xs[s], ys[s]);
    }
    total / xs.len() as f64
}

/// Calls in a branch.
#[backprop]
fn branchy(m: &Model, x: &[f64; 3], y: f64, robust: bool) -> f64 {
    let e = sample_loss(m, x, y);
    if robust && e > 0.01 {
        squared_error(e.sqrt(), 0.0)
    } else {
        e * e
    }
}

mod inner {
    use backprop::prelude::*;

    #[backprop]
    pub fn softened(a: f64, s: f64) -> f64 {
        (a * a + s * s).sqrt()
    }
}

/// A callee from another module, by path (and `explain` over a call).
#[backprop(explain)]
fn by_path(a: f64, b: f64) -> f64 {
    inner::softened(a - b, 0.5) * b
}

#[test]
fn an_array_returning_callee_and_a_callee_called_twice() {
    let m = model();
    for (x, y) in XS.iter().zip(YS) {
        let (c, g) = sample_loss_grad(&m, x, y);
        assert_eq!(c.to_bits(), sample_loss(&m, x, y).to_bits());
        assert_grad("sample_loss", &g.m, &fd(&m, |q| sample_loss(q, x, y)));
        assert_grad("sample_loss x", &g.x, &fd(x, |q| sample_loss(&m, q, y)));
        let e = fd(&y, |q| sample_loss(&m, x, *q))[0];
        assert!((g.y - e).abs() < 1e-6, "∂/∂y {} vs {e}", g.y);
    }
}

#[test]
fn calls_in_a_loop_over_rows_and_in_branches() {
    let m = model();
    let (xs, ys) = (XS.to_vec(), YS.to_vec());
    let (c, g) = batch_loss_grad(&m, &xs, &ys);
    assert!((c - batch_loss(&m, &xs, &ys)).abs() < 1e-15);
    assert_grad("batch_loss", &g.m, &fd(&m, |q| batch_loss(q, &xs, &ys)));
    for robust in [true, false] {
        let (_, g) = branchy_grad(&m, &XS[1], YS[1], robust);
        assert_grad("branchy", &g.m, &fd(&m, |q| branchy(q, &XS[1], YS[1], robust)));
    }
}

#[test]
fn a_callee_in_another_module_by_path() {
    let (c, g) = by_path_grad(0.7, -0.3);
    assert_eq!(c, by_path(0.7, -0.3));
    let da = (by_path(0.7 + 1e-6, -0.3) - by_path(0.7 - 1e-6, -0.3)) / 2e-6;
    let db = (by_path(0.7, -0.3 + 1e-6) - by_path(0.7, -0.3 - 1e-6)) / 2e-6;
    assert!((g.a - da).abs() < 1e-8 && (g.b - db).abs() < 1e-8, "{g:?} vs ({da}, {db})");
    let e = by_path_explain(0.7, -0.3);
    assert_eq!(e.cost, c);
    assert_eq!(e.arguments.iter().map(|a| a.gradient).collect::<Vec<_>>(), [g.a, g.b]);
}

#[test]
fn a_pullback_scales_by_its_seed_adds_into_sinks_and_skips_none() {
    let m = model();
    let x = XS[2];
    let (c, g) = sample_loss_grad(&m, &x, YS[2]);
    let mut dm = model();
    let before = to_vec(&dm);
    let mut dx = [1.0; 3];
    let (_, _, dy) = sample_loss_pullback(&m, &x, YS[2], c, -2.0, Some(&mut dm), None);
    assert_eq!(dx, [1.0; 3], "a None sink is not written");
    for ((after, before), g) in to_vec(&dm).iter().zip(&before).zip(to_vec(&g.m)) {
        assert!((after - before - (-2.0 * g)).abs() < 1e-12);
    }
    assert!((dy - (-2.0 * g.y)).abs() < 1e-12);
    sample_loss_pullback(&m, &x, YS[2], c, 1.0, None, Some(&mut dx));
    for (d, g) in dx.iter().zip(g.x) {
        assert!((d - 1.0 - g).abs() < 1e-12);
    }
}

// ---- the runtime's layers --------------------------------------------------------------------------

#[derive(Params, Clone, Debug)]
pub struct Tiny {
    pub l1: Dense<3, 4>,
    pub l2: Dense<4, 2>,
}

#[backprop(wrt(net))]
fn tiny_loss(net: &Tiny, x: &[f64; 3], label: usize) -> f64 {
    let h = dense(&net.l1, x, Activation::Tanh);
    let logits = dense(&net.l2, &h, Activation::Identity);
    softmax_cross_entropy(&logits, label)
}

#[test]
fn a_network_of_runtime_layers() {
    let mut net = Tiny { l1: Dense::zeros(), l2: Dense::zeros() };
    backprop::init::glorot_uniform(&mut net, 3);
    backprop::init::uniform(&mut net.l1.b, -0.1, 0.1, 4);
    for (k, x) in XS.iter().enumerate() {
        let (c, g) = tiny_loss_grad(&net, x, k % 2);
        assert_eq!(c.to_bits(), tiny_loss(&net, x, k % 2).to_bits());
        assert_grad("tiny_loss", &g.net, &fd(&net, |q| tiny_loss(q, x, k % 2)));
    }
}

// ---- methods ---------------------------------------------------------------------------------------

#[backprop]
impl Model {
    /// The model's prediction, a method calling a method.
    #[backprop]
    pub fn predict(&self, x: &[f64; 3]) -> f64 {
        let h = layer(&self.l1, x);
        self.v[0] * h[0] + self.v[1] * h[1] + self.bias
    }

    #[backprop(wrt(self))]
    pub fn loss(&self, x: &[f64; 3], y: f64) -> f64 {
        let p = self.predict(x);
        (p - y) * (p - y)
    }

    /// Not differentiated: a plain method in the same block.
    pub fn size(&self) -> usize {
        self.v.len()
    }
}

#[test]
fn methods_get_gradients_with_respect_to_self() {
    let m = model();
    assert_eq!(m.size(), 2);
    let (c, g) = m.loss_grad(&XS[0], YS[0]);
    assert_eq!(c.to_bits(), m.loss(&XS[0], YS[0]).to_bits());
    assert_grad("Model::loss", &g.self_, &fd(&m, |q| q.loss(&XS[0], YS[0])));
    // A method is the same function as the free one.
    assert!((m.predict(&XS[1]) - readout(&m, &layer(&m.l1, &XS[1]))).abs() < 1e-15);
}

// ---- custom derivatives ----------------------------------------------------------------------------

/// Its pullback says the derivative is 7, which is false (it is 3x²): the test can tell which rule
/// the caller used.
#[backprop(pullback = seven_vjp)]
fn cube(x: f64) -> f64 {
    x * x * x
}

fn seven_vjp(_x: f64, _result: f64, d_result: f64) -> (f64,) {
    (7.0 * d_result,)
}

#[backprop]
fn uses_cube(x: f64, w: f64) -> f64 {
    w * cube(x)
}

/// `ln(1 + eˣ)` written so that it overflows for large `x`, with a custom rule that does not.
#[backprop(pullback = softplus_vjp)]
fn my_softplus(x: f64) -> f64 {
    if x > 30.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

fn softplus_vjp(x: f64, _result: f64, d_result: f64) -> (f64,) {
    (d_result / (1.0 + (-x).exp()),)
}

#[backprop]
fn softplus_cost(x: f64) -> f64 {
    3.0 * my_softplus(2.0 * x)
}

#[test]
fn a_custom_pullback_is_used_as_given() {
    let (c, g) = uses_cube_grad(2.0, 0.5);
    assert_eq!(c, 4.0);
    assert_eq!(g.x, 0.5 * 7.0, "the caller must use the supplied rule, not 3x²");
    assert_eq!(g.w, 8.0);
    for x in [-3.0, 0.0, 1.5, 400.0] {
        let (_, g) = softplus_cost_grad(x);
        let exact = 6.0 / (1.0 + (-2.0 * x).exp());
        assert!((g.x - exact).abs() < 1e-12 * (1.0 + exact), "{x}: {} vs {exact}", g.x);
    }
}

// ---- the zero-adjoint rule across a call ----------------------------------------------------------

#[backprop]
fn root_sum(v: &[f64; 2]) -> f64 {
    v[0].sqrt() + v[1].sqrt()
}

/// At `v[0] = 0` the branch that uses `root_sum` does not run: its infinite derivative there must
/// contribute exactly zero, to the array as to the scalar.
#[backprop]
fn guarded_call(v: &[f64; 2], x: f64) -> f64 {
    let r = root_sum(v);
    let s = x.sqrt();
    if v[0] > 0.0 {
        r + s
    } else {
        0.0
    }
}

#[test]
fn a_call_in_a_branch_not_taken_contributes_exactly_zero() {
    let (c, g) = guarded_call_grad(&[0.0, 1.0], 0.0);
    assert_eq!(c, 0.0);
    assert_eq!((g.v, g.x), ([0.0, 0.0], 0.0), "no NaN from the untaken branch's pullback");
    let (_, g) = guarded_call_grad(&[4.0, 1.0], 9.0);
    assert_eq!((g.v, g.x), ([0.25, 0.5], 1.0 / 6.0));
}

// ---- more sinks than the pullback instantiates per combination -------------------------------------

#[backprop]
fn four_sinks(a: &[f64], b: &[f64], c: &Vec<f64>, d: &[f64; 2]) -> f64 {
    a[0] * b[1] + c[0] * d[1] + a[1] * d[0] * c[1]
}

#[backprop(wrt(a, c))]
fn calls_four_sinks(a: &[f64], b: &[f64], c: &Vec<f64>, d: &[f64; 2]) -> f64 {
    2.0 * four_sinks(a, b, c, d)
}

#[test]
fn four_sinks_some_of_them_none() {
    let (a, b, c, d) = (vec![0.5, -1.0], vec![2.0, 3.0], vec![1.5, -0.5], [0.25, 4.0]);
    let (_, g) = calls_four_sinks_grad(&a, &b, &c, &d);
    assert_eq!(g.a, vec![2.0 * 3.0, 2.0 * 0.25 * -0.5]);
    assert_eq!(g.c, vec![2.0 * 4.0, -2.0 * 0.25]);
    let mut db = vec![1.0, 1.0];
    let v = four_sinks(&a, &b, &c, &d);
    four_sinks_pullback(&a, &b, &c, &d, v, 1.0, None, Some(&mut db[..]), None, None);
    assert_eq!(db, vec![1.0, 1.5]);
}

// ---- one adjoint passed twice ----------------------------------------------------------------------

#[backprop]
fn pair_dot(a: &[f64; 2], b: &[f64; 2]) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

#[backprop]
fn layer_pair(p: &Layer, q: &Layer) -> f64 {
    p.b[0] * q.b[1] + p.w[1][2] * q.w[0][0]
}

/// The same array twice, two rows of one array, and a struct with one of its own fields: each
/// call's sinks overlap, so all but the first get a buffer of their own, added in after the call.
#[backprop]
fn aliased(v: &[f64; 2], rows: &[[f64; 2]; 2], m: &Model) -> f64 {
    pair_dot(v, v) + pair_dot(&rows[0], &rows[1]) + layer_pair(&m.l1, &m.l1)
}

#[test]
fn one_adjoint_passed_twice_gets_both_contributions() {
    let (v, rows, m) = ([1.5, -2.0], [[0.5, 1.0], [2.0, -3.0]], model());
    let (_, g) = aliased_grad(&v, &rows, &m);
    assert_eq!(g.v, [3.0, -4.0]);
    assert_eq!(g.rows, [[2.0, -3.0], [0.5, 1.0]]);
    assert_grad("aliased", &g.m, &fd(&m, |q| aliased(&v, &rows, q)));
}

// ---- a callee that writes its own array argument ---------------------------------------------------

#[backprop]
fn overwrite(mut v: [f64; 3]) -> f64 {
    v[1] = v[0] * v[2];
    v[1] + v[0] * v[1]
}

#[backprop]
fn calls_overwrite(v: [f64; 3], w: f64) -> f64 {
    w * overwrite(v)
}

#[test]
fn a_callee_writing_its_argument_passes_the_written_values_adjoint_on() {
    let v = [1.5, -2.0, 0.5];
    let (_, g) = calls_overwrite_grad(v, 2.0);
    assert_grad("calls_overwrite", &g.v, &fd(&v, |q| calls_overwrite(*q, 2.0)));
    assert_eq!(g.w, overwrite(v));
}

// ---- saving instead of recomputing: `_vjp` -------------------------------------------------------

/// The network of `tiny_loss` with its layers behind a function returning the logits: the cost
/// calls `tiny_logits_vjp` once, whose closure runs both layers' backward sweeps on what its
/// forward call kept (the first layer is not run again).
#[backprop]
fn tiny_logits(net: &Tiny, x: &[f64; 3]) -> [f64; 2] {
    let h = dense(&net.l1, x, Activation::Tanh);
    dense(&net.l2, &h, Activation::Identity)
}

#[backprop(wrt(net))]
fn tiny_nested_loss(net: &Tiny, x: &[f64; 3], label: usize) -> f64 {
    let logits = tiny_logits(net, x);
    softmax_cross_entropy(&logits, label)
}

fn tiny() -> Tiny {
    let mut net = Tiny { l1: Dense::zeros(), l2: Dense::zeros() };
    backprop::init::glorot_uniform(&mut net, 3);
    backprop::init::uniform(&mut net.l1.b, -0.1, 0.1, 4);
    net
}

fn assert_close<P: Params<Scalar = f64>>(what: &str, got: &P, expected: &P) {
    for (i, (g, e)) in to_vec(got).iter().zip(to_vec(expected)).enumerate() {
        assert!((g - e).abs() <= 1e-12 * (1.0 + e.abs()), "{what}: ∂/∂{} = {g}, expected {e}", got.describe(i, ""));
    }
}

#[test]
fn the_nested_network_has_the_direct_networks_gradient() {
    let net = tiny();
    for (k, x) in XS.iter().enumerate() {
        let (c, g) = tiny_nested_loss_grad(&net, x, k % 2);
        let (c_direct, g_direct) = tiny_loss_grad(&net, x, k % 2);
        assert!((c - c_direct).abs() <= 1e-12);
        assert_close("tiny_nested_loss", &g.net, &g_direct.net);
    }
}

#[test]
fn a_vjp_returns_the_value_and_the_pullback_at_it() {
    let (net, x) = (tiny(), XS[1]);
    let d_logits = [0.75, -1.25];
    let (logits, back) = tiny_logits_vjp(&net, &x);
    assert_eq!(logits, tiny_logits(&net, &x));
    let (mut d_net, mut d_x) = (Tiny { l1: Dense::zeros(), l2: Dense::zeros() }, [0.5; 3]);
    back(&d_logits, Some(&mut d_net), Some(&mut d_x));
    let (mut p_net, mut p_x) = (Tiny { l1: Dense::zeros(), l2: Dense::zeros() }, [0.5; 3]);
    tiny_logits_pullback(&net, &x, &logits, &d_logits, Some(&mut p_net), Some(&mut p_x));
    assert_close("tiny_logits_vjp", &d_net, &p_net);
    assert_close("tiny_logits_vjp", &d_x, &p_x);
    // `None` sinks: nothing written, and the other adjoint is the same.
    let (_, back) = tiny_logits_vjp(&net, &x);
    let mut only_x = [0.5; 3];
    back(&d_logits, None, Some(&mut only_x));
    assert_close("tiny_logits_vjp", &only_x, &p_x);
    // A float result: the closure returns the float arguments' adjoints, zero for a zero seed.
    let (r, back) = squared_error_vjp(2.0, 0.5);
    assert_eq!(r, squared_error(2.0, 0.5));
    assert_eq!(back(1.0), squared_error_pullback(2.0, 0.5, r, 1.0));
    let (_, back) = squared_error_vjp(2.0, 0.5);
    assert_eq!(back(0.0), (0.0, 0.0));
    // A custom derivative's vjp calls its pullback.
    let (r, back) = cube_vjp(2.0);
    assert_eq!((r, back(1.0)), (8.0, (7.0,)));
}

#[backprop]
impl Tiny {
    #[backprop]
    pub fn logits(&self, x: &[f64; 3]) -> [f64; 2] {
        let h = dense(&self.l1, x, Activation::Tanh);
        dense(&self.l2, &h, Activation::Identity)
    }

    /// A method calling a method at its top level: through `Self::logits_vjp`.
    #[backprop(wrt(self))]
    pub fn cost(&self, x: &[f64; 3], label: usize) -> f64 {
        let logits = self.logits(x);
        softmax_cross_entropy(&logits, label)
    }
}

#[test]
fn a_method_calls_a_method_through_its_vjp() {
    let net = tiny();
    for (k, x) in XS.iter().enumerate() {
        let (c, g) = net.cost_grad(x, k % 2);
        assert_eq!(c.to_bits(), net.cost(x, k % 2).to_bits());
        let (_, g_direct) = tiny_loss_grad(&net, x, k % 2);
        assert_close("Tiny::cost", &g.self_, &g_direct.net);
        assert_grad("Tiny::cost", &g.self_, &fd(&net, |q| q.cost(x, k % 2)));
    }
    let (logits, back) = net.logits_vjp(&XS[0]);
    assert_eq!(logits, net.logits(&XS[0]));
    let mut d_x = [0.0; 3];
    back(&[1.0, 0.0], None, Some(&mut d_x));
    assert!(d_x.iter().any(|d| *d != 0.0));
}

// ---- a loop that only the result needs --------------------------------------------------------------

/// The pullback reads the result instead of computing it, so the forward loop has nothing to do;
/// its reverse (fused with it in the gradient) must still run. Found by the wide random suite
/// (`nest_1150`): the fused reverse was printed inside a forward loop that was no longer emitted.
#[backprop]
fn loop_feeds_only_the_result(x: &[f64], h: f64) -> f64 {
    let mut s = h.cos();
    for i in 0..x.len() {
        s += x[i] * 2.0;
    }
    s + h
}

#[test]
fn a_pullback_reverses_a_loop_that_only_the_result_needs() {
    let x = [0.5, -1.0, 2.0];
    let value = loop_feeds_only_the_result(&x, 0.3);
    let mut dx = [0.0; 3];
    let (_, dh) = loop_feeds_only_the_result_pullback(&x, 0.3, value, 0.5, Some(&mut dx[..]));
    assert_eq!(dx, [1.0, 1.0, 1.0]);
    assert!((dh - 0.5 * (1.0 - 0.3_f64.sin())).abs() < 1e-15, "{dh}");
}

/// The silent sibling of the case above (`tests/expand/iterators.expanded.rs`): the zip loop's
/// reverse only adds into the sinks, so nothing referred to it and the pullback quietly lost `a`'s
/// and `b`'s share of the dot product.
#[backprop]
fn zip_dot_plus_max(a: &[f64], b: &[f64; 3]) -> f64 {
    let m = a.iter().copied().fold(f64::MIN, f64::max);
    a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() + m
}

#[test]
fn a_pullback_keeps_the_reverse_of_a_loop_that_only_adds_into_sinks() {
    let (a, b) = ([0.5, -1.0, 2.0], [3.0, 0.25, -1.5]);
    let value = zip_dot_plus_max(&a, &b);
    let (mut da, mut db) = ([0.0; 3], [0.0; 3]);
    zip_dot_plus_max_pullback(&a, &b, value, 2.0, Some(&mut da[..]), Some(&mut db));
    assert_eq!(da, [6.0, 0.5, -3.0 + 2.0]);
    assert_eq!(db, [1.0, -2.0, 4.0]);
}
