//! A fully connected layer, `activation(w x + b)`, with its pullback.
//!
//! The pullback reads the layer's output (the convention passes it) and takes the activation's
//! derivative from it wherever the output determines it (tanh: 1 − y², sigmoid: y(1 − y),
//! softplus: 1 − e^−y, relu and leaky relu with α ≥ 0: the sign of y, identity: 1). Only the
//! other activations recompute the pre-activation `w x + b`, one dot product per output unit.

use super::kernels;
use crate::activation::{leaky_relu_derivative, relu, relu_derivative, sigmoid};
use crate::params::{out_of_range, Params};
use crate::{Activation, Float};

/// The weights and biases of a fully connected layer from `I` inputs to `O` outputs.
///
/// Row `w[j]` holds the weights of output unit `j`, so the forward pass and both backward
/// loops walk memory contiguously. As [`Params`] it is `w` row by row, then `b`, with names
/// `w[j][i]` and `b[j]` (`l1.w[j][i]` inside a struct field `l1`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dense<const I: usize, const O: usize, F = f64> {
    /// `w[j][i]`: the weight from input `i` to output unit `j`.
    pub w: [[F; I]; O],
    /// `b[j]`: the bias of output unit `j`.
    pub b: [F; O],
}

impl<const I: usize, const O: usize, F: Float> Dense<I, O, F> {
    /// All weights and biases zero (also the starting value of a gradient accumulator).
    pub fn zeros() -> Self {
        Self { w: [[F::zero(); I]; O], b: [F::zero(); O] }
    }
}

/// A gradient of a `Dense` is a `Dense`; generated code starts it at [`Dense::zeros`].
impl<const I: usize, const O: usize, F: Float> crate::ZerosLike for Dense<I, O, F> {
    fn zeros_like(&self) -> Self {
        Self::zeros()
    }
}

impl<const I: usize, const O: usize, F: Float> Default for Dense<I, O, F> {
    /// [`Dense::zeros`].
    fn default() -> Self {
        Self::zeros()
    }
}

/// Written by hand rather than built from `[[F; I]; O]`'s impl because that impl needs
/// `F: Params`, which a generic `F: Float` does not promise.
impl<const I: usize, const O: usize, F: Float> Params for Dense<I, O, F> {
    type Scalar = F;

    fn num_params(&self) -> usize {
        I * O + O
    }

    fn visit(&self, f: &mut dyn FnMut(F)) {
        self.w.iter().flatten().chain(&self.b).for_each(|&x| f(x));
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut F)) {
        self.w.iter_mut().flatten().chain(&mut self.b).for_each(f);
    }

    fn describe(&self, index: usize, prefix: &str) -> String {
        let dot = if prefix.is_empty() { "" } else { "." };
        if index < I * O {
            format!("{prefix}{dot}w[{}][{}]", index / I, index % I)
        } else if index < I * O + O {
            format!("{prefix}{dot}b[{}]", index - I * O)
        } else {
            out_of_range(prefix, index)
        }
    }
}

/// `activation(w x + b)`: output unit `j` is `activation(b[j] + Σ_i w[j][i] x[i])`.
///
/// The sum runs in eight interleaved partial sums so it vectorises; it may differ in the last
/// bits from a left-to-right loop.
///
/// ```
/// use backprop_runtime::layers::{dense, Dense};
/// use backprop_runtime::Activation;
///
/// let layer = Dense { w: [[1.0, 2.0], [3.0, 4.0]], b: [0.5, -1.0] };
/// assert_eq!(dense(&layer, &[1.0, -1.0], Activation::Identity), [-0.5, -2.0]);
/// assert_eq!(dense(&layer, &[1.0, -1.0], Activation::Relu), [0.0, 0.0]);
/// ```
#[inline]
pub fn dense<const I: usize, const O: usize, F: Float>(
    layer: &Dense<I, O, F>,
    x: &[F; I],
    activation: Activation<F>,
) -> [F; O] {
    let mut out = [F::zero(); O];
    for (j, z) in out.iter_mut().enumerate() {
        *z = pre_activation(layer, x, j);
    }
    // One loop per activation, so each is a straight loop (relu and identity vectorise).
    match activation {
        Activation::Identity => {}
        Activation::Relu => map(&mut out, relu),
        Activation::Tanh => map(&mut out, F::tanh),
        Activation::Sigmoid => map(&mut out, sigmoid),
        other => map(&mut out, |z| other.apply(z)),
    }
    out
}

/// The pullback of [`dense`] (the issue 8 convention): adds `d_result`'s vector-Jacobian
/// products into `d_layer` (weights and biases) and `d_x` when they are `Some`, skipping the
/// weight loop or the input loop when they are `None`. `activation` is passive.
///
/// `result` must be `dense(layer, x, activation)`: the activation's derivative is read off it
/// where the output determines it (see the module doc); sigmoid's `y(1 − y)` is then 0 where
/// `y` rounds to 1 (`x > 37` in `f64`), an absolute error below 1e-16.
#[inline]
pub fn dense_pullback<const I: usize, const O: usize, F: Float>(
    layer: &Dense<I, O, F>,
    x: &[F; I],
    activation: Activation<F>,
    result: &[F; O],
    d_result: &[F; O],
    d_layer: Option<&mut Dense<I, O, F>>,
    d_x: Option<&mut [F; I]>,
) -> ((), (), ()) {
    if d_layer.is_none() && d_x.is_none() {
        return ((), (), ());
    }
    // delta[j] = d_result[j] · activation'(z[j]), the adjoint of the pre-activation.
    let mut delta = *d_result;
    let one = F::one();
    match activation {
        Activation::Identity => scale(&mut delta, result, |y| if y.is_nan() { y } else { one }),
        Activation::Relu => scale(&mut delta, result, relu_derivative),
        // y has the sign of z when alpha >= 0; a negative slope flips it, so recompute then.
        Activation::LeakyRelu(alpha) if alpha >= F::zero() => {
            scale(&mut delta, result, |y| leaky_relu_derivative(y, alpha))
        }
        Activation::Tanh => scale(&mut delta, result, |y| one - y * y),
        Activation::Sigmoid => scale(&mut delta, result, |y| y * (one - y)),
        // softplus' = sigmoid(z) = 1 − e^−y, accurate at both ends through exp_m1.
        Activation::Softplus => scale(&mut delta, result, |y| -(-y).exp_m1()),
        other => {
            for (j, d) in delta.iter_mut().enumerate() {
                *d *= other.derivative(pre_activation(layer, x, j));
            }
        }
    }
    if let Some(g) = d_layer {
        for ((g_row, g_b), &d) in g.w.iter_mut().zip(&mut g.b).zip(&delta) {
            kernels::axpy(g_row, d, x);
            *g_b += d;
        }
    }
    if let Some(d_x) = d_x {
        // Row by row (d_x += delta[j] · w[j]) rather than column sums: contiguous reads of w.
        for (row, &d) in layer.w.iter().zip(&delta) {
            kernels::axpy(d_x, d, row);
        }
    }
    ((), (), ())
}

/// `b[j] + w[j] · x`, the same bits in the forward pass and in the pullback's recomputation.
#[inline(always)]
fn pre_activation<const I: usize, const O: usize, F: Float>(layer: &Dense<I, O, F>, x: &[F; I], j: usize) -> F {
    layer.b[j] + kernels::dot(&layer.w[j], x)
}

#[inline(always)]
fn map<F: Float>(values: &mut [F], f: impl Fn(F) -> F) {
    for v in values {
        *v = f(*v);
    }
}

/// `delta[j] *= derivative(result[j])`.
#[inline(always)]
fn scale<F: Float>(delta: &mut [F], result: &[F], derivative: impl Fn(F) -> F) {
    for (d, &y) in delta.iter_mut().zip(result) {
        *d *= derivative(y);
    }
}

/// [`dense`] and its pullback as one call (the `_vjp` of `docs/CALLS.md`): the output, and a
/// closure that, given the output's adjoint and the sinks, runs [`dense_pullback`] on what the
/// forward call computed (the output is kept; nothing is recomputed).
#[inline]
#[allow(clippy::type_complexity)]
pub fn dense_vjp<'a, const I: usize, const O: usize, F: Float>(
    layer: &'a Dense<I, O, F>,
    x: &'a [F; I],
    activation: Activation<F>,
) -> ([F; O], impl FnOnce(&[F; O], Option<&mut Dense<I, O, F>>, Option<&mut [F; I]>) -> ((), (), ()) + 'a) {
    let y = dense(layer, x, activation);
    (y, move |d_result: &[F; O], d_layer: Option<&mut Dense<I, O, F>>, d_x: Option<&mut [F; I]>| {
        dense_pullback(layer, x, activation, &y, d_result, d_layer, d_x)
    })
}
