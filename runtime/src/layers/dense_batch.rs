//! A fully connected layer over a batch, `activation(X Wᵀ + b)` one row per sample, and a
//! batched softmax cross-entropy, with their pullbacks on a pure-Rust GEMM (issue 17).
//!
//! The per-sample [`dense`](super::dense) is a matrix-vector product; over a batch the same work
//! is three matrix products (forward `Z = X Wᵀ`, backward `dW += Δᵀ X` and `dX += Δ W`), which a
//! blocked GEMM runs near the machine's peak. The GEMM is `matrixmultiply` (pure Rust, two small
//! dependencies, runtime selection of AVX2/FMA kernels); it packs its operands into buffers it
//! allocates per call, which at these sizes (256 × 64 × 32) costs a few percent.
//!
//! The pullbacks follow the convention of `docs/CALLS.md`: the arguments, the result and its
//! adjoint, then one `Option<&mut _>` sink per array argument, *added* into.

use super::Dense;
use crate::activation::{leaky_relu_derivative, relu, relu_derivative};
use crate::{Activation, Float};

/// The scalar types the GEMM has kernels for (`f32`, `f64`).
pub trait Gemm: Float {
    /// `C ← α A B + β C` for an `m × k` A, a `k × n` B and an `m × n` C, each given by a
    /// pointer's slice and (row, column) strides in elements.
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: (&[Self], isize, isize),
        b: (&[Self], isize, isize),
        beta: Self,
        c: (&mut [Self], isize, isize),
    );

    /// `v ← sigmoid(v)` element-wise (`f32` and `f64`: on a vectorised exponential, within 3 ulp
    /// of [`sigmoid`](crate::activation::sigmoid); the default: its bits).
    #[doc(hidden)]
    fn sigmoid_in_place(v: &mut [Self]) {
        v.iter_mut().for_each(|v| *v = sigmoid_select(*v));
    }
}

macro_rules! gemm_impl {
    ($t:ty, $f:ident $(, $sigmoid:path)?) => {
        impl Gemm for $t {
            $(
                #[inline]
                fn sigmoid_in_place(v: &mut [Self]) {
                    $sigmoid(v)
                }
            )?

            #[inline]
            fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: (&[Self], isize, isize),
                b: (&[Self], isize, isize),
                beta: Self,
                c: (&mut [Self], isize, isize),
            ) {
                if m == 0 || n == 0 {
                    return;
                }
                // The extents the strides reach must lie inside the slices (checked, so the
                // unsafe call below reads and writes only what it was lent).
                let reach = |rows: usize, cols: usize, rs: isize, cs: isize| {
                    (rows.max(1) - 1) * rs as usize + (cols.max(1) - 1) * cs as usize + 1
                };
                assert!(a.1 > 0 && a.2 > 0 && b.1 > 0 && b.2 > 0 && c.1 > 0 && c.2 > 0);
                assert!(k == 0 || (a.0.len() >= reach(m, k, a.1, a.2) && b.0.len() >= reach(k, n, b.1, b.2)));
                assert!(c.0.len() >= reach(m, n, c.1, c.2));
                // SAFETY: the asserts above keep every access inside the three slices; C does not
                // alias A or B (a `&mut` and two `&`).
                #[cfg(feature = "gemm")]
                unsafe {
                    // The `gemm` crate computes `dst ← α dst + β lhs rhs` (its α and β swapped),
                    // with strides given column first; `read_dst: false` leaves C unread.
                    gemm::gemm(
                        m,
                        n,
                        k,
                        c.0.as_mut_ptr(),
                        c.2,
                        c.1,
                        beta != 0.0,
                        a.0.as_ptr(),
                        a.2,
                        a.1,
                        b.0.as_ptr(),
                        b.2,
                        b.1,
                        beta,
                        alpha,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    )
                }
                #[cfg(not(feature = "gemm"))]
                unsafe {
                    matrixmultiply::$f(
                        m,
                        k,
                        n,
                        alpha,
                        a.0.as_ptr(),
                        a.1,
                        a.2,
                        b.0.as_ptr(),
                        b.1,
                        b.2,
                        beta,
                        c.0.as_mut_ptr(),
                        c.1,
                        c.2,
                    )
                }
            }
        }
    };
}
gemm_impl!(f64, dgemm, super::vexp::sigmoid_f64_in_place);
gemm_impl!(f32, sgemm, super::vexp::sigmoid_f32_in_place);

/// `activation(W x + b)` for every row `x` of `xs`: row `s` of the result is
/// [`dense`](super::dense)`(layer, &xs[s], activation)` (to rounding: the sums run in another order).
///
/// ```
/// use backprop_runtime::layers::{dense_batch, Dense};
/// use backprop_runtime::Activation;
///
/// let layer = Dense { w: [[1.0, 2.0], [3.0, 4.0]], b: [0.5, -1.0] };
/// let out = dense_batch(&layer, &[[1.0, -1.0], [0.0, 1.0]], Activation::Identity);
/// assert_eq!(out, vec![[-0.5, -2.0], [2.5, 3.0]]);
/// ```
pub fn dense_batch<const I: usize, const O: usize, F: Gemm>(
    layer: &Dense<I, O, F>,
    xs: &[[F; I]],
    activation: Activation<F>,
) -> Vec<[F; O]> {
    // A few samples: the per-sample layer (a GEMM's packing costs more than it saves).
    if xs.len() < SMALL_BATCH {
        return xs.iter().map(|x| super::dense(layer, x, activation)).collect();
    }
    let mut out = vec![layer.b; xs.len()];
    pre_activations(layer, xs, &mut out);
    let flat = out.as_flattened_mut();
    match activation {
        Activation::Identity => {}
        Activation::Relu => flat.iter_mut().for_each(|v| *v = relu(*v)),
        Activation::Tanh => flat.iter_mut().for_each(|v| *v = v.tanh()),
        Activation::Sigmoid => F::sigmoid_in_place(flat),
        other => flat.iter_mut().for_each(|v| *v = other.apply(*v)),
    }
    out
}

/// Below this many samples the layer runs sample by sample ([`dense`](super::dense) and
/// [`dense_pullback`](super::dense_pullback)); from it on, on GEMMs.
const SMALL_BATCH: usize = 8;

/// [`sigmoid`](crate::activation::sigmoid) without its branch: over a batch the signs of the
/// pre-activations are random, and a mispredicted branch per element costs more than the
/// exponential. Both sides computed and one selected: the same bits as `sigmoid`.
#[inline(always)]
fn sigmoid_select<F: Float>(x: F) -> F {
    let e = (-x.abs()).exp();
    let (pos, neg) = (F::one() / (F::one() + e), e / (F::one() + e));
    if x < F::zero() {
        neg
    } else {
        pos
    }
}

/// `out[s] += W xs[s]` (out holds the biases on entry): `Z = X Wᵀ + Z`.
fn pre_activations<const I: usize, const O: usize, F: Gemm>(layer: &Dense<I, O, F>, xs: &[[F; I]], out: &mut [[F; O]]) {
    let (x, w) = (xs.as_flattened(), layer.w.as_flattened());
    // X: S × I (rows I apart); Wᵀ: I × O, element (i, j) = w[j][i] at j·I + i.
    F::gemm(
        xs.len(),
        I,
        O,
        F::one(),
        (x, I as isize, 1),
        (w, 1, I as isize),
        F::one(),
        (out.as_flattened_mut(), O as isize, 1),
    );
}

/// The pullback of [`dense_batch`]: adds into `d_layer` (weights `Δᵀ X`, biases the column sums
/// of `Δ`) and `d_xs` (`Δ W`) when they are `Some`, where `Δ = d_result ⊙ activation'`, read off
/// `result` as [`dense_pullback`](super::dense_pullback) does (recomputed for the activations
/// whose output does not determine it).
#[allow(clippy::too_many_arguments)]
pub fn dense_batch_pullback<const I: usize, const O: usize, F: Gemm>(
    layer: &Dense<I, O, F>,
    xs: &[[F; I]],
    activation: Activation<F>,
    result: &[[F; O]],
    d_result: &[[F; O]],
    d_layer: Option<&mut Dense<I, O, F>>,
    d_xs: Option<&mut [[F; I]]>,
) -> ((), (), ()) {
    if d_layer.is_none() && d_xs.is_none() {
        return ((), (), ());
    }
    let s = xs.len();
    if s < SMALL_BATCH {
        let mut d_layer = d_layer;
        let mut d_xs = d_xs;
        for r in 0..s {
            let d_x = d_xs.as_deref_mut().map(|d| &mut d[r]);
            super::dense_pullback(layer, &xs[r], activation, &result[r], &d_result[r], d_layer.as_deref_mut(), d_x);
        }
        return ((), (), ());
    }
    assert!(
        result.len() == s && d_result.len() == s,
        "dense_batch_pullback: {s} samples but result/d_result have {}/{}",
        result.len(),
        d_result.len()
    );
    let one = F::one();
    let mut delta = d_result.to_vec();
    {
        let (d, y) = (delta.as_flattened_mut(), result.as_flattened());
        let scale = |d: &mut [F], f: &dyn Fn(F) -> F| d.iter_mut().zip(y).for_each(|(d, &y)| *d *= f(y));
        match activation {
            Activation::Identity => scale(d, &|y: F| if y.is_nan() { y } else { one }),
            Activation::Relu => scale(d, &relu_derivative),
            Activation::LeakyRelu(alpha) if alpha >= F::zero() => scale(d, &|y| leaky_relu_derivative(y, alpha)),
            Activation::Tanh => scale(d, &|y| one - y * y),
            Activation::Sigmoid => d.iter_mut().zip(y).for_each(|(d, &y)| *d *= y * (one - y)),
            Activation::Softplus => scale(d, &|y| -(-y).exp_m1()),
            other => {
                let mut z = vec![layer.b; s];
                pre_activations(layer, xs, &mut z);
                d.iter_mut().zip(z.as_flattened()).for_each(|(d, &z)| *d *= other.derivative(z));
            }
        }
    }
    let d = delta.as_flattened();
    if let Some(g) = d_layer {
        // dW (O × I) += Δᵀ (O × S: element (j, s) at s·O + j) · X (S × I).
        F::gemm(
            O,
            s,
            I,
            one,
            (d, 1, O as isize),
            (xs.as_flattened(), I as isize, 1),
            one,
            (g.w.as_flattened_mut(), I as isize, 1),
        );
        for row in &delta {
            for (b, &v) in g.b.iter_mut().zip(row) {
                *b += v;
            }
        }
    }
    if let Some(d_xs) = d_xs {
        assert_eq!(d_xs.len(), s, "dense_batch_pullback: d_xs has {} rows for {s} samples", d_xs.len());
        // dX (S × I) += Δ (S × O) · W (O × I).
        F::gemm(
            s,
            O,
            I,
            one,
            (d, O as isize, 1),
            (layer.w.as_flattened(), I as isize, 1),
            one,
            (d_xs.as_flattened_mut(), I as isize, 1),
        );
    }
    ((), (), ())
}

/// [`dense_batch`] and its pullback in one call (the `_vjp` of `docs/CALLS.md`): the output, and
/// a closure running [`dense_batch_pullback`] on a copy of it (nothing is recomputed).
#[allow(clippy::type_complexity)]
pub fn dense_batch_vjp<'a, const I: usize, const O: usize, F: Gemm>(
    layer: &'a Dense<I, O, F>,
    xs: &'a [[F; I]],
    activation: Activation<F>,
) -> (Vec<[F; O]>, impl FnOnce(&[[F; O]], Option<&mut Dense<I, O, F>>, Option<&mut [[F; I]]>) -> ((), (), ()) + 'a) {
    let y = dense_batch(layer, xs, activation);
    let kept = y.clone();
    (y, move |d_result: &[[F; O]], d_layer: Option<&mut Dense<I, O, F>>, d_xs: Option<&mut [[F; I]]>| {
        dense_batch_pullback(layer, xs, activation, &kept, d_result, d_layer, d_xs)
    })
}

/// The summed softmax cross-entropy of a batch of logits against one-hot (or soft) targets,
/// `Σ_s (logsumexp(logits[s]) − Σ_k ys[s][k] logits[s][k])` (for one-hot targets, the sum of the
/// per-sample [`softmax_cross_entropy`](super::softmax_cross_entropy) of each row's label).
pub fn softmax_cross_entropy_batch<const O: usize, F: Float>(logits: &[[F; O]], ys: &[[F; O]]) -> F {
    assert_eq!(
        logits.len(),
        ys.len(),
        "softmax_cross_entropy_batch: {} rows of logits, {} of targets",
        logits.len(),
        ys.len()
    );
    let mut total = F::zero();
    for (z, y) in logits.iter().zip(ys) {
        let lse = logsumexp_row(z);
        for (&zk, &yk) in z.iter().zip(y) {
            total += yk * (lse - zk);
        }
    }
    total
}

/// The pullback of [`softmax_cross_entropy_batch`]: `d_logits[s][k] += d_result ·
/// (softmax(logits[s])[k] · Σ_k ys[s][k] − ys[s][k])`, `d_ys[s][k] += d_result · (lse_s − logits[s][k])`.
pub fn softmax_cross_entropy_batch_pullback<const O: usize, F: Float>(
    logits: &[[F; O]],
    ys: &[[F; O]],
    _result: F,
    d_result: F,
    d_logits: Option<&mut [[F; O]]>,
    d_ys: Option<&mut [[F; O]]>,
) -> ((), ()) {
    if d_logits.is_none() && d_ys.is_none() {
        return ((), ());
    }
    let mut d_logits = d_logits;
    let mut d_ys = d_ys;
    for (s, (z, y)) in logits.iter().zip(ys).enumerate() {
        let lse = logsumexp_row(z);
        if let Some(dl) = d_logits.as_deref_mut() {
            let mass: F = y.iter().copied().sum();
            for k in 0..O {
                dl[s][k] += d_result * ((z[k] - lse).exp() * mass - y[k]);
            }
        }
        if let Some(dy) = d_ys.as_deref_mut() {
            for k in 0..O {
                dy[s][k] += d_result * (lse - z[k]);
            }
        }
    }
    ((), ())
}

/// [`softmax_cross_entropy_batch`] and its pullback in one call.
#[allow(clippy::type_complexity)]
pub fn softmax_cross_entropy_batch_vjp<'a, const O: usize, F: Float>(
    logits: &'a [[F; O]],
    ys: &'a [[F; O]],
) -> (F, impl FnOnce(F, Option<&mut [[F; O]]>, Option<&mut [[F; O]]>) -> ((), ()) + 'a) {
    let value = softmax_cross_entropy_batch(logits, ys);
    (value, move |d_result: F, d_logits: Option<&mut [[F; O]]>, d_ys: Option<&mut [[F; O]]>| {
        softmax_cross_entropy_batch_pullback(logits, ys, value, d_result, d_logits, d_ys)
    })
}

/// `ln Σ e^z_k`, shifted by the maximum.
fn logsumexp_row<F: Float>(z: &[F]) -> F {
    let m = z.iter().copied().fold(F::neg_infinity(), F::max);
    if m == F::neg_infinity() || m.is_nan() || m.is_infinite() {
        return m;
    }
    m + z.iter().map(|&v| (v - m).exp()).sum::<F>().ln()
}
