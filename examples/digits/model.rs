//! The digits model, shared by `examples/digits.rs` and `tests/digits.rs` (both include it
//! with `#[path]`): loading the UCI digits, a seeded
//! train/test split, a 64 → H → 10 network with a tanh hidden layer and a softmax
//! cross-entropy cost, training with the runtime's [`Trainer`], and evaluation.
//!
//! The network is a `#[derive(Params)]` struct of two runtime `Dense` layers; `logits` is the one
//! forward pass (prediction calls it, and so does the cost `sample_cost`), and `#[backprop]`
//! generates `logits_vjp` and `sample_cost_grad` from them: the cost's forward sweep calls
//! `logits_vjp` (both layers run once, their outputs kept in the closure it returns), and its
//! backward sweep calls that closure, which calls each layer's pullback.

use backprop::prelude::*;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use backprop::runtime::train::{EpochRecord, Progress};
use backprop::{Adam, History, Schedule, Trainer};
use flate2::read::GzDecoder;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Pixels per image (8 × 8, row-major).
pub const PIXELS: usize = 64;
/// Side of the square image.
pub const SIDE: usize = 8;
/// Digit classes 0..9.
pub const CLASSES: usize = 10;
/// Largest raw pixel value (a count of on-pixels in a 4 × 4 block of the 32 × 32 bitmap).
pub const MAX_PIXEL: u8 = 16;
/// Hidden units of the example's network.
pub const HIDDEN: usize = 32;

/// `examples/data/digits.csv.gz`, found from any working directory.
pub fn default_data_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/digits.csv.gz")
}

// ------------------------------------------------------------------------------------------
// Data
// ------------------------------------------------------------------------------------------

/// One labelled image, pixels scaled to `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Digit {
    /// Row-major pixels, `raw / 16`.
    pub pixels: [f64; PIXELS],
    /// The digit shown, 0..9.
    pub label: usize,
}

/// Why the data could not be loaded; every variant names the file, and the line when there is
/// one.
#[derive(Debug)]
pub enum DataError {
    /// The file could not be opened.
    Open { path: PathBuf, source: io::Error },
    /// Reading or decompressing failed at a line (e.g. not a gzip file, truncated archive).
    Read { path: PathBuf, line: usize, source: io::Error },
    /// A line is not 64 pixels 0..16 followed by a label 0..9.
    Row { path: PathBuf, line: usize, message: String },
    /// The file holds no rows.
    Empty { path: PathBuf },
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Open { path, source } => {
                write!(f, "cannot open {}: {source}", path.display())
            }
            DataError::Read { path, line, source } => {
                write!(f, "{}: cannot read line {line}: {source}", path.display())
            }
            DataError::Row { path, line, message } => write!(f, "{}: line {line}: {message}", path.display()),
            DataError::Empty { path } => write!(f, "{}: no digits in the file", path.display()),
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DataError::Open { source, .. } | DataError::Read { source, .. } => Some(source),
            DataError::Row { .. } | DataError::Empty { .. } => None,
        }
    }
}

/// Reads a gzip-compressed CSV of digits: per line 64 pixel values 0..16, then the label 0..9,
/// no header.
///
/// # Errors
/// A [`DataError`] naming the file, and the 1-based line for a bad row or a read failure.
pub fn load_digits(path: &Path) -> Result<Vec<Digit>, DataError> {
    let file = File::open(path).map_err(|source| DataError::Open { path: path.to_path_buf(), source })?;
    parse_digits(BufReader::new(GzDecoder::new(file)), path)
}

/// Parses already decompressed CSV text; `path` is only used in error messages. Blank lines are
/// skipped (but still counted for line numbers).
///
/// # Errors
/// As [`load_digits`].
pub fn parse_digits(reader: impl BufRead, path: &Path) -> Result<Vec<Digit>, DataError> {
    let mut digits = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line_no = index + 1;
        let line = line.map_err(|source| DataError::Read { path: path.to_path_buf(), line: line_no, source })?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let digit =
            parse_row(line).map_err(|message| DataError::Row { path: path.to_path_buf(), line: line_no, message })?;
        digits.push(digit);
    }
    if digits.is_empty() {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    Ok(digits)
}

fn parse_row(line: &str) -> Result<Digit, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() != PIXELS + 1 {
        return Err(format!(
            "expected {} comma-separated values (64 pixels, then the label), found {}",
            PIXELS + 1,
            fields.len()
        ));
    }
    let mut pixels = [0.0; PIXELS];
    for (column, (pixel, field)) in pixels.iter_mut().zip(&fields).enumerate() {
        match field.parse::<u8>() {
            Ok(v) if v <= MAX_PIXEL => *pixel = f64::from(v) / f64::from(MAX_PIXEL),
            _ => return Err(format!("column {}: pixel value {field:?} is not an integer 0..={MAX_PIXEL}", column + 1)),
        }
    }
    let field = fields[PIXELS];
    match field.parse::<usize>() {
        Ok(label) if label < CLASSES => Ok(Digit { pixels, label }),
        _ => Err(format!("column {}: label {field:?} is not an integer 0..={}", PIXELS + 1, CLASSES - 1)),
    }
}

/// A fixed split: shuffles the digits with `StdRng::seed_from_u64(seed)` and puts
/// `round(test_fraction · n)` of them (at least one, and leaving at least one) in the test set.
/// Returns `(train, test)`.
pub fn split(digits: &[Digit], test_fraction: f64, seed: u64) -> (Vec<Digit>, Vec<Digit>) {
    let mut order: Vec<usize> = (0..digits.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let n = digits.len();
    let n_test = if n < 2 { n } else { ((test_fraction * n as f64).round() as usize).clamp(1, n - 1) };
    let pick = |indices: &[usize]| indices.iter().map(|&i| digits[i].clone()).collect();
    (pick(&order[n_test..]), pick(&order[..n_test]))
}

// ------------------------------------------------------------------------------------------
// The network
// ------------------------------------------------------------------------------------------

/// A 64 → H → 10 network: `h = tanh(l1 x)`, `logits = l2 h`, each layer `w x + b`.
///
/// `#[derive(Params)]` makes it one flat view (`l1.w[3][17]`) for the optimizer, the trainer and
/// safetensors, and its gradient is a `Net` too.
#[derive(Params, Debug, Clone, PartialEq)]
pub struct Net<const H: usize> {
    /// Input → hidden: `l1.w[j][i]` from pixel `i` to hidden unit `j`.
    pub l1: Dense<PIXELS, H>,
    /// Hidden → output: `l2.w[k][j]` from hidden unit `j` to class `k`.
    pub l2: Dense<H, CLASSES>,
}

impl<const H: usize> Net<H> {
    /// All zeros (a gradient accumulator).
    pub fn zeros() -> Self {
        Net { l1: Dense::zeros(), l2: Dense::zeros() }
    }

    /// Glorot-uniform weights seeded by `seed`, zero biases.
    pub fn init(seed: u64) -> Self {
        let mut net = Self::zeros();
        backprop::init::glorot_uniform(&mut net, seed);
        net
    }

    /// The cost of one digit.
    pub fn cost(&self, digit: &Digit) -> f64 {
        sample_cost(self, &digit.pixels, digit.label)
    }

    /// The output scores before the softmax: the same forward pass the cost differentiates.
    pub fn logits(&self, x: &[f64; PIXELS]) -> [f64; CLASSES] {
        logits(self, x)
    }

    /// The most likely digit.
    pub fn predict(&self, x: &[f64; PIXELS]) -> usize {
        let logits = self.logits(x);
        let mut best = 0;
        for k in 1..CLASSES {
            if logits[k] > logits[best] {
                best = k;
            }
        }
        best
    }
}

// ==========================================================================================
// The forward pass and the cost: plain Rust; `#[backprop]` writes their pullback and gradient.
// ==========================================================================================

/// The network's forward pass, used by prediction and by the cost.
#[backprop]
pub fn logits<const H: usize>(net: &Net<H>, x: &[f64; PIXELS]) -> [f64; CLASSES] {
    let h = dense(&net.l1, x, Activation::Tanh);
    dense(&net.l2, &h, Activation::Identity)
}

/// Softmax cross-entropy of one digit, `-ln softmax(logits)[label]` (the runtime's, with the max
/// shift, so `exp` never overflows).
#[backprop(wrt(net))]
pub fn sample_cost<const H: usize>(net: &Net<H>, x: &[f64; PIXELS], label: usize) -> f64 {
    let z = logits(net, x);
    softmax_cross_entropy(&z, label)
}

/// The cost of one digit and its gradient with respect to every parameter, a `Net`.
/// The summed cost of a batch, on the batched layers: each layer is one matrix product over the
/// batch (`dense_batch`), the cost the batched softmax cross-entropy against one-hot rows. Its
/// gradient equals the sum of `sample_cost_grad` over the batch (to rounding).
#[backprop(wrt(net))]
pub fn batch_cost<const H: usize>(net: &Net<H>, xs: &[[f64; PIXELS]], ys: &[[f64; CLASSES]]) -> f64 {
    let h = dense_batch(&net.l1, xs, Activation::Tanh);
    let z = dense_batch(&net.l2, &h, Activation::Identity);
    softmax_cross_entropy_batch(&z, ys)
}

/// The summed cost and gradient of a batch of digits through [`batch_cost`].
pub fn batch_grad<const H: usize>(net: &Net<H>, batch: &[&Digit]) -> (f64, Net<H>) {
    let xs: Vec<[f64; PIXELS]> = batch.iter().map(|d| d.pixels).collect();
    let ys: Vec<[f64; CLASSES]> =
        batch.iter().map(|d| std::array::from_fn(|k| f64::from(u8::from(k == d.label)))).collect();
    let (cost, g) = batch_cost_grad(net, &xs, &ys);
    (cost, g.net)
}

pub fn sample_grad<const H: usize>(net: &Net<H>, x: &[f64; PIXELS], label: usize) -> (f64, Net<H>) {
    let (cost, g) = sample_cost_grad(net, x, label);
    (cost, g.net)
}

// ------------------------------------------------------------------------------------------
// Training and evaluation
// ------------------------------------------------------------------------------------------

/// Everything a training run depends on; the hidden size is the type parameter `H`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config<const H: usize> {
    /// Passes over the training set.
    pub epochs: usize,
    /// Digits per mini-batch.
    pub batch_size: usize,
    /// Adam's initial learning rate; a cosine schedule anneals it to 1% over the run.
    pub learning_rate: f64,
    /// Share of the digits held out for testing.
    pub test_fraction: f64,
    /// Seed of the train/test split; kept apart from `seed` so changing the training seed
    /// evaluates on the same test digits.
    pub split_seed: u64,
    /// Seed of the weight initialisation and the mini-batch shuffling.
    pub seed: u64,
    /// Train on only the first this many training digits (for fast tests).
    pub train_limit: Option<usize>,
    /// Train on the per-sample gradient (`sample_cost_grad`, summed by the trainer) instead of
    /// the batched one (`batch_cost_grad`, two matrix products per layer and batch).
    pub per_sample: bool,
}

impl<const H: usize> Config<H> {
    /// The example's settings (which it runs with `H = HIDDEN`).
    pub fn example() -> Self {
        Config {
            epochs: 40,
            batch_size: 32,
            learning_rate: 0.005,
            test_fraction: 0.2,
            split_seed: 2024,
            seed: 7,
            train_limit: None,
            per_sample: false,
        }
    }
}

/// The trained network and its training record.
pub struct Trained<const H: usize> {
    /// The parameters after the last epoch.
    pub net: Net<H>,
    /// Per step and per epoch costs; an epoch's `validation` is the mean test cost.
    pub history: History,
}

/// Trains a fresh `Net<H>` on `train` with Adam, mini-batches and a cosine learning-rate
/// schedule, recording the mean cost on `test` after each epoch as the validation metric
/// (monitoring only: nothing is selected or stopped on it). `on_epoch` sees every epoch's
/// record.
///
/// # Errors
/// The runtime's [`backprop::Error`]: an invalid setting, an empty training set, or a cost or
/// gradient that went non-finite (named by step and parameter).
pub fn train_net<const H: usize>(
    config: &Config<H>,
    train: &[Digit],
    test: &[Digit],
    on_epoch: impl FnMut(&EpochRecord),
) -> Result<Trained<H>, backprop::Error> {
    let train = match config.train_limit {
        Some(n) => &train[..n.min(train.len())],
        None => train,
    };
    let mut net = Net::<H>::init(config.seed);
    let steps = config.epochs * train.len().div_ceil(config.batch_size.max(1));
    let mut trainer = Trainer::new(Adam::new(config.learning_rate)?)
        .batch_size(config.batch_size)?
        .epochs(config.epochs)
        .seed(config.seed)
        .schedule(Schedule::cosine(steps.max(1), config.learning_rate / 100.0)?)?
        .progress(Progress::Never)
        .validation(|net: &Net<H>| mean_cost(net, test))
        .on_epoch(on_epoch);
    let history = if config.per_sample {
        trainer.fit(&mut net, train, |p: &Net<H>, d: &Digit| sample_grad(p, &d.pixels, d.label))?
    } else {
        trainer.fit_batched(&mut net, train, batch_grad)?
    };
    Ok(Trained { net, history })
}

/// Mean cost over `digits` (0 for none).
pub fn mean_cost<const H: usize>(net: &Net<H>, digits: &[Digit]) -> f64 {
    if digits.is_empty() {
        return 0.0;
    }
    digits.iter().map(|d| net.cost(d)).sum::<f64>() / digits.len() as f64
}

/// Share of `digits` classified correctly, in `[0, 1]` (0 for none).
pub fn accuracy<const H: usize>(net: &Net<H>, digits: &[Digit]) -> f64 {
    if digits.is_empty() {
        return 0.0;
    }
    let correct = digits.iter().filter(|d| net.predict(&d.pixels) == d.label).count();
    correct as f64 / digits.len() as f64
}

/// The first digit the network gets wrong, with its prediction.
pub fn first_misclassified<'d, const H: usize>(net: &Net<H>, digits: &'d [Digit]) -> Option<(&'d Digit, usize)> {
    digits.iter().find_map(|d| {
        let predicted = net.predict(&d.pixels);
        (predicted != d.label).then_some((d, predicted))
    })
}

/// The image as 8 lines of text, each pixel two characters wide (so it looks square) from the
/// ramp `" .:-=+*#%@"` by intensity, in a frame.
pub fn ascii_art(pixels: &[f64; PIXELS]) -> String {
    const RAMP: &[u8] = b" .:-=+*#%@";
    let border = format!("+{}+\n", "-".repeat(2 * SIDE));
    let mut out = border.clone();
    for row in pixels.chunks(SIDE) {
        out.push('|');
        for &v in row {
            let level = (v.clamp(0.0, 1.0) * (RAMP.len() - 1) as f64).round() as usize;
            let c = char::from(RAMP[level]);
            out.push(c);
            out.push(c);
        }
        out.push_str("|\n");
    }
    out.push_str(&border);
    out
}
