//! The training loop: an argmin-style executor that owns the loop, batching, shuffling,
//! schedules, clipping, stopping rules, observers, progress and history, so user code is just
//! configuration plus a gradient function.

use super::batch::{sum_indexed, Parallelism, Reduction};
use super::history::{EpochRecord, History, StepRecord, StopReason};
use super::observer::{Control, EpochFn, Observer, StepFn};
use super::progress::{Bar, Progress};
use super::stop::{Patience, Stop, StopRules};
use crate::clip::clip_global_norm;
use crate::error::positive;
use crate::optim::Optimizer;
use crate::params::{copy_from_slice, slice_first_non_finite, slice_norm, to_vec, Params};
use crate::rng::SplitMix64;
use crate::{Error, Float, Quantity, Schedule};
use num_traits::Float as _;

/// A boxed validation metric, evaluated on the parameters after each epoch.
type Validation<'a, P> = Box<dyn FnMut(&P) -> <P as Params>::Scalar + 'a>;

/// A batch's reduced cost and flat gradient, from the parameters and the batch's sample indices.
type BatchEval<'e, P> =
    dyn FnMut(&P, &[usize]) -> Result<(<P as Params>::Scalar, Vec<<P as Params>::Scalar>), Error> + 'e;

/// Trains parameters of type `P` with optimizer `O`.
///
/// Configure with the builder methods, then call [`Trainer::fit`] (a data set and a
/// per-sample gradient) or [`Trainer::minimize`] (one cost function that sees everything).
/// Settings that can be invalid are checked when set and return [`Error`]s naming them.
///
/// | setting | default |
/// | --- | --- |
/// | batch | full batch ([`Trainer::batch_size`] for mini-batches) |
/// | reduction | [`Reduction::Mean`] |
/// | shuffle | on for mini-batches, seeded by [`Trainer::seed`] (default 0) |
/// | bound | none: set [`Trainer::epochs`] and/or [`Trainer::max_steps`] |
/// | schedule | [`Schedule::Constant`] |
/// | parallelism | [`Parallelism::Auto`] |
/// | progress bar | [`Progress::Auto`] (only on a terminal) |
///
/// # Example
/// ```
/// use backprop_runtime::{Adam, Stop, Trainer};
/// // Fit y = w x + b to three points; the per-sample cost is (w x + b - y)^2.
/// let data = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)];
/// let mut params = [0.0_f64, 0.0]; // [w, b]
/// let history = Trainer::new(Adam::new(0.1)?)
///     .epochs(2000)
///     .stop_when(Stop::CostBelow(1e-12))?
///     .fit(&mut params, &data, |p: &[f64; 2], &(x, y): &(f64, f64)| {
///         let r = p[0] * x + p[1] - y;
///         (r * r, [2.0 * r * x, 2.0 * r])
///     })?;
/// assert!((params[0] - 2.0).abs() < 1e-4 && (params[1] - 1.0).abs() < 1e-4);
/// assert!(history.final_cost().unwrap() < 1e-6);
/// # Ok::<(), backprop_runtime::Error>(())
/// ```
pub struct Trainer<'a, P: Params, O> {
    optimizer: O,
    schedule: Schedule,
    batch_size: Option<usize>,
    reduction: Reduction,
    shuffle: bool,
    seed: u64,
    rules: StopRules,
    clip: Option<f64>,
    parallelism: Parallelism,
    progress: Progress,
    observers: Vec<Box<dyn Observer + 'a>>,
    validation: Option<Validation<'a, P>>,
}

impl<'a, P, O> Trainer<'a, P, O>
where
    P: Params,
    O: Optimizer<P::Scalar>,
{
    /// A full-batch trainer around an already validated optimizer.
    pub fn new(optimizer: O) -> Self {
        Self {
            optimizer,
            schedule: Schedule::Constant,
            batch_size: None,
            reduction: Reduction::Mean,
            shuffle: true,
            seed: 0,
            rules: StopRules::default(),
            clip: None,
            parallelism: Parallelism::Auto,
            progress: Progress::Auto,
            observers: Vec::new(),
            validation: None,
        }
    }

    /// Mini-batches of `batch_size` samples (the last batch of an epoch may be smaller; a size
    /// above the data set's is the full batch).
    ///
    /// # Errors
    /// [`Error::InvalidBatchSize`] for 0.
    pub fn batch_size(mut self, batch_size: usize) -> Result<Self, Error> {
        if batch_size == 0 {
            return Err(Error::InvalidBatchSize { batch_size });
        }
        self.batch_size = Some(batch_size);
        Ok(self)
    }

    /// One batch holding the whole data set (the default).
    pub fn full_batch(mut self) -> Self {
        self.batch_size = None;
        self
    }

    /// How per-sample costs and gradients combine (default [`Reduction::Mean`]).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Whether mini-batch epochs visit samples in a fresh random order (default true).
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Seed of the shuffling RNG: the same seed gives bit-identical parameters.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Stop after this many epochs. With [`Trainer::minimize`] every step is an epoch.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.rules.max_epochs = Some(epochs);
        self
    }

    /// Stop after this many optimizer steps.
    pub fn max_steps(mut self, steps: usize) -> Self {
        self.rules.max_steps = Some(steps);
        self
    }

    /// Adds an early-stopping rule (replacing one of the same kind).
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] naming the rule's invalid setting.
    pub fn stop_when(mut self, rule: Stop) -> Result<Self, Error> {
        rule.validate()?;
        self.rules.add(rule);
        Ok(self)
    }

    /// Learning-rate schedule over steps, scaling the optimizer's configured rate.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] from [`Schedule::validate`].
    pub fn schedule(mut self, schedule: Schedule) -> Result<Self, Error> {
        schedule.validate()?;
        self.schedule = schedule;
        Ok(self)
    }

    /// Rescales each batch gradient to Euclidean norm at most `max_norm` before the update.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless `max_norm` is positive and finite.
    pub fn clip_grad_norm(mut self, max_norm: f64) -> Result<Self, Error> {
        self.clip = Some(positive("Trainer", "clip_grad_norm", max_norm)?);
        Ok(self)
    }

    /// Whether batch gradients are computed with rayon (default [`Parallelism::Auto`]).
    /// Results are bit-identical either way.
    pub fn parallelism(mut self, parallelism: Parallelism) -> Self {
        self.parallelism = parallelism;
        self
    }

    /// When to draw a progress bar (default [`Progress::Auto`]).
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Adds an observer.
    pub fn observer(mut self, observer: impl Observer + 'a) -> Self {
        self.observers.push(Box::new(observer));
        self
    }

    /// Adds a per-step callback; it may return `()`, a [`Control`] or `bool` (true = stop).
    /// Stopping from a step callback skips that step's update.
    pub fn on_step<R: Into<Control>>(self, callback: impl FnMut(&StepRecord) -> R + 'a) -> Self {
        self.observer(StepFn(callback))
    }

    /// Adds a per-epoch callback; it may return `()`, a [`Control`] or `bool` (true = stop).
    pub fn on_epoch<R: Into<Control>>(self, callback: impl FnMut(&EpochRecord) -> R + 'a) -> Self {
        self.observer(EpochFn(callback))
    }

    /// A validation metric computed on the parameters after every epoch, recorded in the
    /// history and monitored by [`Stop::NoImprovement`] (lower is better).
    pub fn validation(mut self, metric: impl FnMut(&P) -> P::Scalar + 'a) -> Self {
        self.validation = Some(Box::new(metric));
        self
    }

    /// The optimizer, with whatever state training left in it.
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }

    /// Trains on `data`, where `grad(params, sample)` returns that sample's cost and gradient
    /// (same shape as the parameters). Batches are reduced by [`Trainer::reduction`].
    ///
    /// Each call counts steps from 0 (for the schedule) while keeping the optimizer's state.
    ///
    /// # Errors
    /// - [`Error::EmptyDataSet`] before anything runs, and [`Error::Unbounded`] if neither
    ///   [`Trainer::epochs`] nor [`Trainer::max_steps`] was set.
    /// - [`Error::NonFinite`] naming the step and parameter when a cost, gradient, updated
    ///   parameter or validation metric is NaN or infinite; `params` keep the last finite
    ///   iterate.
    /// - [`Error::ShapeMismatch`] if a sample's gradient has the wrong number of scalars.
    pub fn fit<S, G>(&mut self, params: &mut P, data: &[S], grad: G) -> Result<History, Error>
    where
        P: Sync,
        S: Sync,
        G: Fn(&P, &S) -> (P::Scalar, P) + Sync,
    {
        let parallelism = self.parallelism;
        self.fit_batches(params, data.len(), |p: &P, indices: &[usize]| {
            sum_indexed(p, data, indices, &grad, parallelism)
        })
    }

    /// Training over `samples` data points whose batch sums `sum(params, indices)` computes:
    /// batching, shuffling and the reduction shared by [`Trainer::fit`] and
    /// [`Trainer::fit_accumulating`].
    fn fit_batches<B>(&mut self, params: &mut P, samples: usize, sum: B) -> Result<History, Error>
    where
        B: Fn(&P, &[usize]) -> Result<(P::Scalar, Vec<P::Scalar>), Error>,
    {
        if samples == 0 {
            return Err(Error::EmptyDataSet);
        }
        let batch = self.batch_size.unwrap_or(samples).min(samples);
        let shuffle = self.shuffle && batch < samples;
        let reduction = self.reduction;
        let mut eval = |p: &P, indices: &[usize]| {
            let (mut cost, mut g) = sum(p, indices)?;
            if reduction == Reduction::Mean {
                let scale = P::Scalar::of_f64(1.0 / indices.len() as f64);
                cost *= scale;
                g.iter_mut().for_each(|x| *x *= scale);
            }
            Ok((cost, g))
        };
        self.run(params, samples, batch, shuffle, &mut eval)
    }

    /// [`Trainer::fit`] with an accumulating gradient: `acc(params, sample, &mut grad)` adds the
    /// sample's gradient into `grad` and returns its cost, which is what `#[backprop]` generates as
    /// `<name>_grad_acc`. A batch then allocates one gradient per chunk of 32 samples, none per
    /// sample. The parameters are the gradient's shape (`P: Clone` makes the zeroed buffers).
    ///
    /// # Errors
    /// As [`Trainer::fit`].
    pub fn fit_accumulating<S, A>(&mut self, params: &mut P, data: &[S], acc: A) -> Result<History, Error>
    where
        P: Clone + Sync,
        S: Sync,
        A: Fn(&P, &S, &mut P) -> P::Scalar + Sync,
    {
        let parallelism = self.parallelism;
        self.fit_batches(params, data.len(), |p: &P, indices: &[usize]| {
            super::batch::sum_accumulated(p, data, indices, &acc, parallelism)
        })
    }

    /// [`Trainer::fit`] with a gradient of a whole batch: `grad(params, batch)` returns the *sum*
    /// over the batch's samples of their costs and of their gradients (what a `#[backprop]`
    /// cost over a batch, e.g. on `dense_batch`, computes in a few matrix products instead of
    /// one matrix-vector product per sample). The batches, their order and the reduction are
    /// [`Trainer::fit`]'s, so with the same seed both see the same samples in the same steps.
    ///
    /// # Errors
    /// As [`Trainer::fit`] ([`Error::ShapeMismatch`] if the gradient has the wrong size).
    pub fn fit_batched<S, B>(&mut self, params: &mut P, data: &[S], grad: B) -> Result<History, Error>
    where
        B: Fn(&P, &[&S]) -> (P::Scalar, P),
    {
        self.fit_batches(params, data.len(), |p: &P, indices: &[usize]| {
            let batch: Vec<&S> = indices.iter().map(|&i| &data[i]).collect();
            let (cost, g) = grad(p, &batch);
            if g.num_params() != p.num_params() {
                return Err(Error::ShapeMismatch {
                    context: "batch gradient".into(),
                    expected: p.num_params(),
                    found: g.num_params(),
                });
            }
            Ok((cost, to_vec(&g)))
        })
    }

    /// Minimises a cost function that returns `(cost, gradient)` for the whole problem, with
    /// no data set (e.g. Rosenbrock, or a cost that loops over its own data). Each step is
    /// one epoch.
    ///
    /// # Errors
    /// As [`Trainer::fit`], apart from the data-set error.
    pub fn minimize<C>(&mut self, params: &mut P, mut cost_grad: C) -> Result<History, Error>
    where
        C: FnMut(&P) -> (P::Scalar, P),
    {
        let mut eval = |p: &P, _: &[usize]| {
            let (cost, g) = cost_grad(p);
            if g.num_params() != p.num_params() {
                return Err(Error::ShapeMismatch {
                    context: "gradient".into(),
                    expected: p.num_params(),
                    found: g.num_params(),
                });
            }
            Ok((cost, to_vec(&g)))
        };
        self.run(params, 1, 1, false, &mut eval)
    }

    /// The loop shared by `fit` and `minimize`; `eval` returns a batch's reduced cost and flat
    /// gradient for the given sample indices.
    fn run(
        &mut self,
        params: &mut P,
        n_samples: usize,
        batch: usize,
        shuffle: bool,
        eval: &mut BatchEval<'_, P>,
    ) -> Result<History, Error> {
        let rules = self.rules.clone();
        if rules.max_epochs.is_none() && rules.max_steps.is_none() {
            return Err(Error::Unbounded);
        }
        let batches_per_epoch = n_samples.div_ceil(batch);
        let total = match (rules.max_epochs, rules.max_steps) {
            (Some(e), Some(s)) => Some(e.saturating_mul(batches_per_epoch).min(s)),
            (Some(e), None) => Some(e.saturating_mul(batches_per_epoch)),
            (None, s) => s,
        };
        let bar = Bar::new(self.progress, total);
        let mut flat = to_vec(params);
        let mut order: Vec<usize> = (0..n_samples).collect();
        let mut rng = SplitMix64::new(self.seed);
        let base_lr = self.optimizer.learning_rate();
        let mut patience = rules.no_improvement.map(|(k, d)| Patience::new(k, d));
        let mut history = History { steps: Vec::new(), epochs: Vec::new(), stop_reason: StopReason::MaxEpochs };
        let mut step = 0usize;
        let mut epoch = 0usize;

        let reason = loop {
            if rules.max_epochs.is_some_and(|m| epoch >= m) {
                break StopReason::MaxEpochs;
            }
            if rules.max_steps.is_some_and(|m| step >= m) {
                break StopReason::MaxSteps;
            }
            if shuffle {
                rng.shuffle(&mut order);
            }
            let mut stop = None;
            let (mut cost_sum, mut weight_sum, mut norm_sum, mut n_steps) = (0.0, 0.0, 0.0, 0);
            let mut last_lr = base_lr;
            for indices in order.chunks(batch) {
                if rules.max_steps.is_some_and(|m| step >= m) {
                    stop = Some(StopReason::MaxSteps);
                    break;
                }
                let lr = self.schedule.learning_rate(base_lr, step);
                let (cost, mut grad) = eval(params, indices)?;
                check_finite(params, cost, &grad, step)?;
                let grad_norm = slice_norm(&grad).as_f64();
                let record = StepRecord {
                    epoch,
                    step,
                    cost: cost.as_f64(),
                    grad_norm,
                    learning_rate: lr,
                    batch_len: indices.len(),
                };
                history.steps.push(record);
                // Mean costs are per sample, so weight them by batch size; sums just add up.
                let weight = match self.reduction {
                    Reduction::Mean => indices.len() as f64,
                    Reduction::Sum => 1.0,
                };
                cost_sum += record.cost * weight;
                weight_sum += weight;
                norm_sum += grad_norm;
                n_steps += 1;
                last_lr = lr;
                bar.step();
                if notify(&mut self.observers, |o| o.on_step(&record)) {
                    stop = Some(StopReason::Observer);
                    break;
                }
                // With one batch per epoch the step's cost is the epoch's, and stopping before
                // the update returns the parameters that met the tolerance.
                if batches_per_epoch == 1 {
                    if let Some(reason) = rules.converged(record.cost, grad_norm) {
                        stop = Some(reason);
                        break;
                    }
                }
                if let Some(max_norm) = self.clip {
                    clip_global_norm(&mut grad, P::Scalar::of_f64(max_norm));
                }
                self.optimizer.step_with_lr(&mut flat, &grad, P::Scalar::of_f64(lr))?;
                if let Some((i, value)) = slice_first_non_finite(&flat) {
                    return Err(Error::NonFinite {
                        quantity: Quantity::Parameter,
                        step,
                        parameter: Some(params.describe(i, "")),
                        value: value.as_f64(),
                    });
                }
                copy_from_slice(params, &flat)?;
                step += 1;
            }
            if n_steps == 0 {
                // Only reachable when `max_steps` ran out exactly at an epoch boundary.
                break stop.unwrap_or(StopReason::MaxSteps);
            }
            let validation = match self.validation.as_mut() {
                Some(metric) => {
                    let value = metric(params).as_f64();
                    if !value.is_finite() {
                        return Err(Error::NonFinite { quantity: Quantity::Validation, step, parameter: None, value });
                    }
                    Some(value)
                }
                None => None,
            };
            let record = EpochRecord {
                epoch,
                steps: step,
                cost: cost_sum / weight_sum,
                grad_norm: norm_sum / n_steps as f64,
                validation,
                learning_rate: last_lr,
            };
            history.epochs.push(record);
            bar.epoch(&record);
            epoch += 1;
            let observer_stop = notify(&mut self.observers, |o| o.on_epoch(&record));
            if let Some(reason) = stop {
                break reason;
            }
            if observer_stop {
                break StopReason::Observer;
            }
            if batches_per_epoch > 1 {
                if let Some(reason) = rules.converged(record.cost, record.grad_norm) {
                    break reason;
                }
            }
            if let Some(p) = patience.as_mut() {
                if p.exhausted_after(validation.unwrap_or(record.cost)) {
                    break StopReason::NoImprovement;
                }
            }
        };
        bar.finish();
        history.stop_reason = reason;
        Ok(history)
    }
}

/// Calls every observer (all of them, even after one asks to stop) and reports whether any did.
fn notify<'a>(observers: &mut [Box<dyn Observer + 'a>], mut call: impl FnMut(&mut dyn Observer) -> Control) -> bool {
    let mut stop = false;
    for observer in observers.iter_mut() {
        stop |= call(observer.as_mut()) == Control::Stop;
    }
    stop
}

/// The NaN/inf check on a batch's cost and gradient, naming the parameter via `describe`.
fn check_finite<P: Params>(params: &P, cost: P::Scalar, grad: &[P::Scalar], step: usize) -> Result<(), Error> {
    if !cost.is_finite() {
        return Err(Error::NonFinite { quantity: Quantity::Cost, step, parameter: None, value: cost.as_f64() });
    }
    if let Some((i, value)) = slice_first_non_finite(grad) {
        return Err(Error::NonFinite {
            quantity: Quantity::Gradient,
            step,
            parameter: Some(params.describe(i, "")),
            value: value.as_f64(),
        });
    }
    Ok(())
}
