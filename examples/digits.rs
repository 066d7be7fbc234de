//! From messy handwritten digits to a trained network: a 64 → 32 → 10 network (tanh hidden
//! layer, softmax cross-entropy) learns the 8×8 UCI digits in `examples/data/` with Adam on
//! mini-batches, then reports its accuracy on held-out digits, draws one it gets wrong, and
//! plots its loss curve.
//!
//! ```text
//! cargo run --release --example digits [-- path/to/digits.csv.gz]
//! DIGITS_PER_SAMPLE=1 cargo run --release --example digits     # the per-sample gradient instead
//! ```
//!
//! Writes `target/digits-loss.svg` (under the workspace root).
//! The model, data loading and training live in `examples/digits/model.rs`, shared with
//! `tests/digits.rs`; the per-sample cost there is one `#[backprop]` function with arrays and
//! loops, and the batch cost the training uses is its batched twin on `dense_batch` (two matrix
//! products per layer and batch); both gradients are generated.

#[path = "digits/model.rs"]
mod model;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use backprop::plot_loss;
use model::{
    accuracy, ascii_art, default_data_path, first_misclassified, load_digits, split, train_net, Config, HIDDEN,
};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let path = std::env::args_os().nth(1).map(PathBuf::from).unwrap_or_else(default_data_path);
    let digits = load_digits(&path)?;
    // `DIGITS_PER_SAMPLE=1` trains on the per-sample gradient instead of the batched one, to
    // compare the two (same batches, same steps).
    let per_sample = std::env::var_os("DIGITS_PER_SAMPLE").is_some_and(|v| v == "1");
    let config = Config::<HIDDEN> { per_sample, ..Config::example() };
    let (train, test) = split(&digits, config.test_fraction, config.split_seed);
    println!(
        "{} digits from {}: {} for training, {} held out for testing",
        digits.len(),
        path.display(),
        train.len(),
        test.len()
    );
    println!(
        "network 64 → {HIDDEN} (tanh) → 10 (softmax), Adam lr {} with cosine decay, \
         batches of {}, {} epochs, seed {}, {} gradient",
        config.learning_rate,
        config.batch_size,
        config.epochs,
        config.seed,
        if per_sample { "per-sample (dense)" } else { "batched (dense_batch)" }
    );

    let start = Instant::now();
    let epochs = config.epochs;
    let trained = train_net(&config, &train, &test, |e| {
        println!(
            "epoch {:>3}/{epochs}  train cost {:.4}  test cost {:.4}",
            e.epoch + 1,
            e.cost,
            e.validation.unwrap_or(f64::NAN)
        );
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let net = &trained.net;
    println!("trained in {seconds:.2} s; train accuracy {:.1}%", 100.0 * accuracy(net, &train));
    println!("test accuracy: {:.1}%", 100.0 * accuracy(net, &test));

    match first_misclassified(net, &test) {
        Some((digit, predicted)) => {
            println!("\na misclassified test digit: true label {}, predicted {predicted}", digit.label);
            print!("{}", ascii_art(&digit.pixels));
        }
        None => println!("\nno test digit is misclassified"),
    }

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let file = dir.join("digits-loss.svg");
    plot_loss(&trained.history, &file)?;
    println!("loss curve written to {}", file.display());
    Ok(())
}
