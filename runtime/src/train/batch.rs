//! Summing per-sample gradients over a batch, sequentially or with rayon, in a fixed order so
//! both paths give bit-identical sums.
//!
//! Floating-point addition is not associative, so a work-stealing reduction would make results
//! depend on thread timing. Instead the batch is cut into fixed-size chunks; each chunk is summed
//! left to right (on any thread), and the chunk sums are added in chunk order. The sequential
//! path uses the very same chunks, so switching paths never changes a single bit; that is also
//! why a build without the `parallel` feature can simply run every batch on one thread.

#[cfg(feature = "parallel")]
use rayon::prelude::*;

use crate::params::Params;
use crate::Error;
// `zero()` and `+=` for `P::Scalar`, whose declared bound is only `crate::Float`.
use num_traits::Zero as _;

/// Samples per chunk. Part of the numerical contract: changing it changes rounding.
const CHUNK: usize = 32;

/// Batches with at least this many samples use rayon under [`Parallelism::Auto`]; below it the
/// thread hand-off costs more than it saves for typical per-sample gradients.
pub const AUTO_PARALLEL_MIN: usize = 256;

/// Whether per-sample gradients are computed on several threads.
///
/// Without the `parallel` feature there is no thread pool and every variant runs on one
/// thread; the results are the same bits either way, so this is a speed setting only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parallelism {
    /// One thread.
    Sequential,
    /// rayon's global pool, for every batch.
    Parallel,
    /// rayon for batches of at least [`AUTO_PARALLEL_MIN`] samples.
    #[default]
    Auto,
}

impl Parallelism {
    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    fn use_threads(self, batch_len: usize) -> bool {
        match self {
            Parallelism::Sequential => false,
            Parallelism::Parallel => true,
            Parallelism::Auto => batch_len >= AUTO_PARALLEL_MIN,
        }
    }
}

/// How per-sample costs and gradients combine into the batch's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// Average over the batch (PyTorch's default), so the learning rate does not depend on
    /// the batch size.
    #[default]
    Mean,
    /// Plain sum.
    Sum,
}

/// Sums `grad(params, sample)` over `samples`, returning `(cost sum, flat gradient sum)`.
///
/// The result is the same bit for bit whatever `parallelism` is.
///
/// # Errors
/// [`Error::EmptyDataSet`] for no samples; [`Error::ShapeMismatch`] if a sample's gradient has
/// a different number of scalars than `params`.
pub fn sum_gradients<P, S, G>(
    params: &P,
    samples: &[S],
    grad: &G,
    parallelism: Parallelism,
) -> Result<(P::Scalar, Vec<P::Scalar>), Error>
where
    P: Params + Sync,
    S: Sync,
    G: Fn(&P, &S) -> (P::Scalar, P) + Sync,
{
    if samples.is_empty() {
        return Err(Error::EmptyDataSet);
    }
    let indices: Vec<usize> = (0..samples.len()).collect();
    sum_indexed(params, samples, &indices, grad, parallelism)
}

/// [`sum_gradients`] over `samples[i]` for `i` in `indices`, in that order.
pub(crate) fn sum_indexed<P, S, G>(
    params: &P,
    samples: &[S],
    indices: &[usize],
    grad: &G,
    parallelism: Parallelism,
) -> Result<(P::Scalar, Vec<P::Scalar>), Error>
where
    P: Params + Sync,
    S: Sync,
    G: Fn(&P, &S) -> (P::Scalar, P) + Sync,
{
    let n = params.num_params();
    reduce_chunks(indices, n, parallelism, |chunk| chunk_sum(params, samples, chunk, grad, n))
}

/// Sums `chunk_sum` over the fixed chunks of `indices`, on rayon's pool or not, adding the chunk
/// sums in chunk order: the same bits either way.
fn reduce_chunks<T, F>(
    indices: &[usize],
    n: usize,
    parallelism: Parallelism,
    chunk_sum: F,
) -> Result<(T, Vec<T>), Error>
where
    T: crate::Float,
    F: Fn(&[usize]) -> Result<(T, Vec<T>), Error> + Sync,
{
    #[cfg(feature = "parallel")]
    let partials: Vec<Result<_, Error>> = if parallelism.use_threads(indices.len()) {
        // `collect` on an indexed parallel iterator keeps chunk order.
        indices.par_chunks(CHUNK).map(&chunk_sum).collect()
    } else {
        indices.chunks(CHUNK).map(&chunk_sum).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let partials: Vec<Result<_, Error>> = {
        let _ = parallelism;
        indices.chunks(CHUNK).map(&chunk_sum).collect()
    };
    let mut cost = T::zero();
    let mut total = vec![T::zero(); n];
    for partial in partials {
        let (c, g) = partial?;
        cost += c;
        for (t, x) in total.iter_mut().zip(&g) {
            *t += *x;
        }
    }
    Ok((cost, total))
}

/// One chunk, left to right.
fn chunk_sum<P, S, G>(
    params: &P,
    samples: &[S],
    chunk: &[usize],
    grad: &G,
    n: usize,
) -> Result<(P::Scalar, Vec<P::Scalar>), Error>
where
    P: Params,
    G: Fn(&P, &S) -> (P::Scalar, P),
{
    let mut cost = P::Scalar::zero();
    let mut total = vec![P::Scalar::zero(); n];
    for &i in chunk {
        let Some(sample) = samples.get(i) else {
            // Indices come from the trainer's own permutation; this is a guard, not a path.
            return Err(Error::ShapeMismatch { context: "sample index".into(), expected: samples.len(), found: i });
        };
        let (c, g) = grad(params, sample);
        if g.num_params() != n {
            return Err(Error::ShapeMismatch {
                context: format!("gradient of sample {i}"),
                expected: n,
                found: g.num_params(),
            });
        }
        cost += c;
        let mut k = 0;
        g.visit(&mut |x| {
            total[k] += x;
            k += 1;
        });
    }
    Ok((cost, total))
}

/// [`sum_indexed`] for an accumulating gradient, `acc(params, sample, &mut grad) -> cost`, which
/// adds the sample's gradient into `grad` (the form `#[backprop]` generates as `<name>_grad_acc`):
/// each chunk accumulates into one zeroed copy of `params`, so a batch allocates one gradient per
/// chunk of 32 samples instead of one per sample. Bit-identical across `parallelism`, as above.
pub(crate) fn sum_accumulated<P, S, A>(
    params: &P,
    samples: &[S],
    indices: &[usize],
    acc: &A,
    parallelism: Parallelism,
) -> Result<(P::Scalar, Vec<P::Scalar>), Error>
where
    P: Params + Clone + Sync,
    S: Sync,
    A: Fn(&P, &S, &mut P) -> P::Scalar + Sync,
{
    let n = params.num_params();
    let chunk_sum = |chunk: &[usize]| -> Result<(P::Scalar, Vec<P::Scalar>), Error> {
        let mut grad = params.clone();
        grad.visit_mut(&mut |x| *x = P::Scalar::zero());
        let mut cost = P::Scalar::zero();
        for &i in chunk {
            let Some(sample) = samples.get(i) else {
                return Err(Error::ShapeMismatch { context: "sample index".into(), expected: samples.len(), found: i });
            };
            cost += acc(params, sample, &mut grad);
        }
        if grad.num_params() != n {
            return Err(Error::ShapeMismatch {
                context: "accumulated gradient".into(),
                expected: n,
                found: grad.num_params(),
            });
        }
        let mut flat = Vec::with_capacity(n);
        grad.visit(&mut |x| flat.push(x));
        Ok((cost, flat))
    };
    reduce_chunks(indices, n, parallelism, chunk_sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulated_sums_match_per_sample_sums_and_do_not_depend_on_threads() {
        let data: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1009) as f64 * 1.37e-3 - 0.5).collect();
        let grad = |p: &[f64; 2], x: &f64| {
            let r = p[0] * x.exp() + p[1] - x.sin();
            (r * r, [2.0 * r * x.exp(), 2.0 * r])
        };
        let acc = |p: &[f64; 2], x: &f64, g: &mut [f64; 2]| {
            let (c, d) = grad(p, x);
            g[0] += d[0];
            g[1] += d[1];
            c
        };
        let p = [0.3, -1.1];
        let indices: Vec<usize> = (0..data.len()).collect();
        let seq = sum_accumulated(&p, &data, &indices, &acc, Parallelism::Sequential).unwrap();
        let par = sum_accumulated(&p, &data, &indices, &acc, Parallelism::Parallel).unwrap();
        assert_eq!(seq.0.to_bits(), par.0.to_bits());
        assert_eq!(seq.1, par.1);
        // Per-sample gradients added into one running sum per chunk: the same sums, here even the
        // same bits, since each chunk adds the same terms in the same order.
        let plain = sum_gradients(&p, &data, &grad, Parallelism::Sequential).unwrap();
        assert_eq!(seq, plain);
    }

    #[test]
    fn parallel_sum_is_bit_identical_to_sequential() {
        // Values spanning many magnitudes, so a different summation order would show.
        let data: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1009) as f64 * 1.37e-3 - 0.5).collect();
        let grad = |p: &[f64; 2], x: &f64| {
            let r = p[0] * x.exp() + p[1] - x.sin();
            (r * r, [2.0 * r * x.exp(), 2.0 * r])
        };
        let p = [0.3, -1.1];
        let seq = sum_gradients(&p, &data, &grad, Parallelism::Sequential).unwrap();
        let par = sum_gradients(&p, &data, &grad, Parallelism::Parallel).unwrap();
        assert_eq!(seq.0.to_bits(), par.0.to_bits());
        assert_eq!(seq.1, par.1);
        // And the sum is the sum: compare with a plain loop within rounding.
        let plain: f64 = data.iter().map(|x| grad(&p, x).0).sum();
        assert!((plain - seq.0).abs() <= 1e-12 * plain.abs());
    }

    #[test]
    fn bad_sample_gradients_are_reported() {
        let grad = |_: &Vec<f64>, x: &usize| (0.0, vec![0.0; *x]);
        let err = sum_gradients(&vec![1.0, 2.0], &[2, 2, 3], &grad, Parallelism::Sequential).unwrap_err();
        assert_eq!(err.to_string(), "shape mismatch in gradient of sample 2: expected 2 scalars, found 3");
        let empty: [usize; 0] = [];
        assert!(matches!(sum_gradients(&vec![1.0], &empty, &grad, Parallelism::Auto), Err(Error::EmptyDataSet)));
    }
}
