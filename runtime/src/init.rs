//! Initialisers for training: overwrite any [`Params`] value with seeded random numbers.
//!
//! ```
//! use backprop_runtime::init;
//!
//! // One dense layer, row = output unit: 3 outputs of 4 inputs, and its bias.
//! let mut layer = ([[0.0_f64; 4]; 3], [1.0_f64; 3]);
//! init::glorot_uniform(&mut layer, 42);
//! let bound = (6.0_f64 / (4.0 + 3.0)).sqrt();
//! assert!(layer.0.iter().flatten().all(|w| w.abs() < bound));
//! assert_eq!(layer.1, [0.0; 3]); // biases start at zero
//! ```
//!
//! The fan-based rules (Glorot/Xavier, He/Kaiming) work tensor by tensor on
//! [`Params::tensors`], so a `#[derive(Params)]` network gets each layer's own scale:
//!
//! * a tensor of two or more dimensions is a weight whose first index is the output unit: Rust's
//!   `[[f64; I]; O]` (shape `[O, I]`) has fan-in `I` and fan-out `O`. Beyond two dimensions the
//!   trailing ones are a receptive field, as in PyTorch (shape `[O, I, K]`: fan-in `I·K`, fan-out
//!   `O·K`); see [`fans`];
//! * a 1-D tensor (a bias) or a scalar has no fans: these rules set it to **zero**. Use
//!   [`uniform`] for parameters that are not layer weights.
//!
//! Every function draws from one SplitMix64 stream seeded with `seed`, in the flat order of
//! [`Params::visit`], in `f64` (rounded once for `f32` parameters): the same seed and shape give
//! the same bits on every platform and build configuration, independent of any RNG crate's version.
//! Normal draws are Box–Muller, not truncated (PyTorch's `xavier_normal_`/`kaiming_normal_`).

use crate::params::Params;
use crate::rng::SplitMix64;
use crate::Float;

/// Every scalar (biases included) uniform in `[lo, hi)`.
pub fn uniform<P: Params + ?Sized>(params: &mut P, lo: P::Scalar, hi: P::Scalar, seed: u64) {
    let (lo, hi) = (lo.as_f64(), hi.as_f64());
    let mut draws = Draws::new(seed);
    params.visit_mut(&mut |x| *x = P::Scalar::of_f64(lo + (hi - lo) * draws.rng.next_f64()));
}

/// Glorot/Xavier uniform: weights uniform in `(-b, b)` with `b = √(6 / (fan_in + fan_out))`,
/// biases and scalars zero. Keeps the variance of activations and of gradients about constant
/// through `tanh`/`sigmoid` layers (Glorot and Bengio, 2010).
pub fn glorot_uniform<P: Params + ?Sized>(params: &mut P, seed: u64) {
    by_fans(params, seed, |d, fan_in, fan_out| d.symmetric((6.0 / (fan_in + fan_out)).sqrt()));
}

/// Glorot/Xavier normal: weights normal with mean 0 and standard deviation
/// `√(2 / (fan_in + fan_out))`, biases and scalars zero.
pub fn glorot_normal<P: Params + ?Sized>(params: &mut P, seed: u64) {
    by_fans(params, seed, |d, fan_in, fan_out| d.normal() * (2.0 / (fan_in + fan_out)).sqrt());
}

/// He/Kaiming uniform: weights uniform in `(-b, b)` with `b = √(6 / fan_in)`, biases and scalars
/// zero. For ReLU layers, whose outputs have half the variance of their inputs (He et al., 2015;
/// PyTorch's `kaiming_uniform_` with `nonlinearity = "relu"`).
pub fn he_uniform<P: Params + ?Sized>(params: &mut P, seed: u64) {
    by_fans(params, seed, |d, fan_in, _| d.symmetric((6.0 / fan_in).sqrt()));
}

/// He/Kaiming normal: weights normal with mean 0 and standard deviation `√(2 / fan_in)`, biases
/// and scalars zero.
pub fn he_normal<P: Params + ?Sized>(params: &mut P, seed: u64) {
    by_fans(params, seed, |d, fan_in, _| d.normal() * (2.0 / fan_in).sqrt());
}

/// `(fan_in, fan_out)` of a tensor of this row-major shape, `None` for a scalar or a 1-D tensor.
///
/// Shape `[O, I]` (Rust `[[f64; I]; O]`, one row per output unit) gives `(I, O)`; further
/// dimensions multiply both: `[O, I, K1, K2]` gives `(I·K1·K2, O·K1·K2)`.
pub fn fans(shape: &[usize]) -> Option<(usize, usize)> {
    match shape {
        [out, inputs, receptive @ ..] => {
            let receptive: usize = receptive.iter().product();
            Some((inputs * receptive, out * receptive))
        }
        _ => None,
    }
}

/// Sets each scalar of a weight tensor to `draw(fans)` and every other scalar to zero.
fn by_fans<P, D>(params: &mut P, seed: u64, mut draw: D)
where
    P: Params + ?Sized,
    D: FnMut(&mut Draws, f64, f64) -> f64,
{
    let tensors = params.tensors("");
    let mut draws = Draws::new(seed);
    let (mut index, mut t) = (0, 0);
    params.visit_mut(&mut |x| {
        // Tensors are in flat order and cover every scalar once (`Params::tensors`' contract);
        // a scalar a hand-written `tensors` leaves out is treated as a bias.
        while tensors.get(t).is_some_and(|tensor| tensor.range.end <= index) {
            t += 1;
        }
        let weight = tensors.get(t).filter(|tensor| tensor.range.contains(&index)).and_then(|t| fans(&t.shape));
        *x = match weight {
            // Both fans are at least 1 here: the tensor holds this scalar, so no extent is zero.
            Some((fan_in, fan_out)) => P::Scalar::of_f64(draw(&mut draws, fan_in as f64, fan_out as f64)),
            None => P::Scalar::of_f64(0.0),
        };
        index += 1;
    });
}

/// The stream the initialisers draw from: uniform and standard normal `f64`s.
struct Draws {
    rng: SplitMix64,
    /// Box–Muller makes normals in pairs; the second waits here for the next call.
    spare: Option<f64>,
}

impl Draws {
    fn new(seed: u64) -> Self {
        Self { rng: SplitMix64::new(seed), spare: None }
    }

    /// Uniform in `[-bound, bound)`.
    fn symmetric(&mut self, bound: f64) -> f64 {
        bound * (2.0 * self.rng.next_f64() - 1.0)
    }

    /// Standard normal, by the Box–Muller transform.
    fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        // `1 - u` lies in (0, 1], so the logarithm is finite.
        let radius = (-2.0 * (1.0 - self.rng.next_f64()).ln()).sqrt();
        let angle = std::f64::consts::TAU * self.rng.next_f64();
        self.spare = Some(radius * angle.sin());
        radius * angle.cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::to_vec;

    /// A 64 × 32 dense layer (64 outputs of 32 inputs) and its bias, biases deliberately nonzero.
    type Layer = ([[f64; 32]; 64], [f64; 64]);

    fn layer() -> Layer {
        ([[0.0; 32]; 64], [1.0; 64])
    }

    fn mean_and_variance(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        (mean, values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n)
    }

    /// Initialises a fresh layer, checks the bias is zeroed, and returns the weights' mean,
    /// variance and largest magnitude.
    fn weight_stats(init: fn(&mut Layer, u64), seed: u64) -> (f64, f64, f64) {
        let mut l = layer();
        init(&mut l, seed);
        assert_eq!(l.1, [0.0; 64]);
        let w: Vec<f64> = to_vec(&l.0);
        let (mean, var) = mean_and_variance(&w);
        (mean, var, w.iter().fold(0.0_f64, |m, v| m.max(v.abs())))
    }

    #[test]
    fn fans_follow_rows_as_outputs() {
        assert_eq!(fans(&[]), None);
        assert_eq!(fans(&[64]), None);
        assert_eq!(fans(&[64, 32]), Some((32, 64)));
        assert_eq!(fans(&[8, 3, 5, 5]), Some((75, 200)));
        let l = layer();
        let shapes: Vec<Vec<usize>> = l.tensors("").into_iter().map(|t| t.shape).collect();
        assert_eq!(shapes, vec![vec![64, 32], vec![64]]);
    }

    #[test]
    fn glorot_uniform_matches_its_bound_and_variance() {
        // fan_in 32, fan_out 64: b = √(6/96) = 1/4, variance b²/3 = 1/48.
        let (mean, var, max) = weight_stats(glorot_uniform, 1);
        assert!(max < 0.25 && max > 0.24, "{max}");
        // 2,048 draws: the mean's standard error is 0.003, the variance's 2%.
        assert!(mean.abs() < 0.015, "{mean}");
        assert!((var * 48.0 - 1.0).abs() < 0.1, "{var}");
    }

    #[test]
    fn glorot_normal_matches_its_variance() {
        let (mean, var, max) = weight_stats(glorot_normal, 2);
        // Standard deviation √(2/96) ≈ 0.144; the variance's standard error is 3%.
        assert!(mean.abs() < 0.015, "{mean}");
        assert!((var * 48.0 - 1.0).abs() < 0.15, "{var}");
        // Not truncated: some of 2,048 draws lie beyond 2σ, none beyond 6σ.
        assert!(max > 2.0 * 0.144 && max < 6.0 * 0.144, "{max}");
    }

    #[test]
    fn he_matches_its_bound_and_variance() {
        // fan_in 32: uniform bound √(6/32) ≈ 0.433, both variances 2/32 = 1/16.
        let (mean, var, max) = weight_stats(he_uniform, 3);
        let bound = (6.0_f64 / 32.0).sqrt();
        assert!(max < bound && max > 0.97 * bound, "{max}");
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var * 16.0 - 1.0).abs() < 0.1, "{var}");
        let (mean, var, _) = weight_stats(he_normal, 4);
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var * 16.0 - 1.0).abs() < 0.15, "{var}");
    }

    #[test]
    fn same_seed_same_bits_other_seed_other_values() {
        for init in [glorot_uniform, glorot_normal, he_uniform, he_normal] as [fn(&mut Layer, u64); 4] {
            let (mut a, mut b, mut c) = (layer(), layer(), layer());
            init(&mut a, 7);
            init(&mut b, 7);
            init(&mut c, 8);
            assert_eq!(to_vec(&a), to_vec(&b));
            assert_ne!(a.0, c.0);
        }
        let (mut a, mut b) = ([0.0_f32; 10], [0.0_f32; 10]);
        uniform(&mut a, -1.0, 1.0, 7);
        uniform(&mut b, -1.0, 1.0, 7);
        assert_eq!(a, b);
        uniform(&mut b, -1.0, 1.0, 8);
        assert_ne!(a, b);
    }

    #[test]
    fn uniform_covers_every_scalar_in_its_range() {
        let mut l = layer();
        uniform(&mut l, 2.0, 3.0, 5);
        let all = to_vec(&l);
        assert!(all.iter().all(|v| (2.0..3.0).contains(v)));
        // Biases too: only the fan-based rules treat them specially.
        assert!(l.1.iter().all(|&v| v != 1.0));
        let (mean, var) = mean_and_variance(&all);
        assert!((mean - 2.5).abs() < 0.01, "{mean}");
        assert!((var * 12.0 - 1.0).abs() < 0.1, "{var}");
    }

    #[test]
    fn scalars_and_vectors_are_zeroed_and_f32_weights_are_drawn() {
        let mut p = (3.0_f32, vec![1.0_f32; 5], vec![[2.0_f32; 3]; 4]);
        glorot_normal(&mut p, 9);
        assert_eq!(p.0, 0.0);
        assert_eq!(p.1, vec![0.0; 5]);
        // `Vec<[f32; 3]>` of 4 rows stacks into one [4, 3] tensor: a weight.
        let bound = 6.0 * (2.0_f32 / 7.0).sqrt();
        assert!(p.2.iter().flatten().all(|&w| w != 0.0 && w.abs() < bound));
        let mut bias_only = [5.0; 3];
        he_uniform(&mut bias_only, 1);
        assert_eq!(bias_only, [0.0; 3]);
    }

    #[test]
    fn normals_use_both_halves_of_each_pair() {
        let mut d = Draws::new(11);
        let z: Vec<f64> = (0..20_000).map(|_| d.normal()).collect();
        let (mean, var) = mean_and_variance(&z);
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05, "{mean} {var}");
        // The sine half is not a copy of the cosine half.
        assert!(z.chunks(2).all(|pair| pair[0] != pair[1]));
    }
}
