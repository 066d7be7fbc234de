//! The digits example's model (`examples/digits/model.rs`) on a smaller, fast configuration,
//! its per-sample gradient against central finite differences, and its data loading errors.

#[path = "../examples/digits/model.rs"]
mod model;

use std::io::Cursor;
use std::path::Path;

use backprop::prelude::*;
use backprop::runtime::gradcheck::check_gradient;
use model::{
    accuracy, ascii_art, batch_grad, default_data_path, first_misclassified, load_digits, parse_digits, sample_cost,
    sample_grad, split, train_net, Config, DataError, Digit, Net, CLASSES, HIDDEN, PIXELS,
};

/// Hidden units of the fast configuration: half the example's.
const QUICK_HIDDEN: usize = HIDDEN / 2;

/// The example's settings with a quarter of its epochs, at a higher learning rate, on the same
/// split (with `QUICK_HIDDEN`: about 94% test accuracy, in about a second in a debug build).
fn quick<const H: usize>() -> Config<H> {
    Config { epochs: 10, learning_rate: 0.01, ..Config::example() }
}

fn digits() -> Vec<Digit> {
    load_digits(&default_data_path()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_data_file_holds_1797_digits_of_every_class() {
    let digits = digits();
    assert_eq!(digits.len(), 1797);
    for k in 0..CLASSES {
        let n = digits.iter().filter(|d| d.label == k).count();
        assert!((170..=190).contains(&n), "{n} digits of class {k}");
    }
    assert!(digits.iter().flat_map(|d| d.pixels).all(|p| (0.0..=1.0).contains(&p)));
    // The first row of the file, scaled by 1/16.
    assert_eq!(digits[0].label, 0);
    assert_eq!(digits[0].pixels[..4], [0.0, 0.0, 5.0 / 16.0, 13.0 / 16.0]);
}

#[test]
fn the_split_is_fixed_by_its_seed_and_disjoint() {
    let digits = digits();
    let (train, test) = split(&digits, 0.2, 2024);
    assert_eq!((train.len(), test.len()), (1438, 359));
    assert_eq!(split(&digits, 0.2, 2024), (train.clone(), test.clone()));
    assert_ne!(split(&digits, 0.2, 2025).1, test);
    // Together they are the data set, each digit once.
    let mut all: Vec<String> = train.iter().chain(&test).map(|d| format!("{d:?}")).collect();
    let mut expected: Vec<String> = digits.iter().map(|d| format!("{d:?}")).collect();
    all.sort();
    expected.sort();
    assert_eq!(all, expected);
}

#[test]
fn a_quick_configuration_learns_the_digits() {
    let digits = digits();
    let config = quick::<QUICK_HIDDEN>();
    let (train, test) = split(&digits, config.test_fraction, config.split_seed);
    let mut epochs = 0;
    let trained = train_net(&config, &train, &test, |_| epochs += 1).unwrap();
    assert_eq!(epochs, config.epochs);
    let history = &trained.history;
    let first = history.epochs[0].cost;
    let last = history.final_cost().unwrap();
    assert!(last < 0.2 * first, "cost went from {first} to {last}");
    assert!(history.epochs.iter().all(|e| e.validation.is_some()));
    let acc = accuracy(&trained.net, &test);
    assert!(acc >= 0.92, "test accuracy {:.1}%", 100.0 * acc);
    if let Some((digit, predicted)) = first_misclassified(&trained.net, &test) {
        assert_ne!(digit.label, predicted);
    }

    // The trained network survives a trip through a .safetensors file bit for bit.
    let path = std::env::temp_dir().join(format!("backprop-digits-{}.safetensors", std::process::id()));
    backprop::save_safetensors(&trained.net, &path).unwrap();
    let mut loaded = Net::<QUICK_HIDDEN>::zeros();
    backprop::load_safetensors(&mut loaded, &path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(loaded, trained.net);
    assert_eq!(accuracy(&loaded, &test), acc);
}

/// The batched gradient the example trains on (`batch_grad`, on `dense_batch`) is the sum of the
/// per-sample gradients over the batch, at a batch that takes the GEMM path (32 samples), and
/// training on either path steps the same way.
#[test]
fn the_batched_gradient_is_the_per_sample_gradient_summed() {
    let digits = digits();
    let net = Net::<QUICK_HIDDEN>::init(5);
    let batch: Vec<&Digit> = digits[..32].iter().collect();
    let (cost, g) = batch_grad(&net, &batch);
    let (mut cost_sum, mut sum) = (0.0, Net::<QUICK_HIDDEN>::zeros());
    for d in &batch {
        let (c, gs) = sample_grad(&net, &d.pixels, d.label);
        cost_sum += c;
        let mut flat = Vec::new();
        gs.visit(&mut |v| flat.push(v));
        let mut k = 0;
        sum.visit_mut(&mut |v| {
            *v += flat[k];
            k += 1;
        });
    }
    assert!((cost - cost_sum).abs() <= 1e-12 * cost_sum.abs(), "{cost} vs {cost_sum}");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    g.visit(&mut |v| a.push(v));
    sum.visit(&mut |v| b.push(v));
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!((x - y).abs() <= 1e-10 * (1.0 + y.abs()), "{}: {x} vs {y}", net.describe(i, "net"));
    }
    let config = Config { epochs: 2, train_limit: Some(200), ..quick::<4>() };
    let (train, test) = split(&digits, config.test_fraction, config.split_seed);
    let batched = train_net(&config, &train, &test, |_| {}).unwrap();
    let per_sample = train_net(&Config { per_sample: true, ..config }, &train, &test, |_| {}).unwrap();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    batched.net.visit(&mut |v| a.push(v));
    per_sample.net.visit(&mut |v| b.push(v));
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-8 * (1.0 + y.abs()), "{x} vs {y}");
    }
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let digits = digits();
    let config = Config { epochs: 2, train_limit: Some(200), ..quick::<4>() };
    let (train, test) = split(&digits, config.test_fraction, config.split_seed);
    let a = train_net(&config, &train, &test, |_| {}).unwrap();
    let b = train_net(&config, &train, &test, |_| {}).unwrap();
    assert_eq!(a.net, b.net);
    assert_eq!(a.history, b.history);
    let c = train_net(&Config { seed: 8, ..config }, &train, &test, |_| {}).unwrap();
    assert_ne!(a.net, c.net);
}

/// Checks `sample_grad` against central differences of `sample_cost` in every parameter, and
/// that it returns `sample_cost`'s value bit for bit.
fn assert_gradient_matches<const H: usize>(net: &mut Net<H>, digit: &Digit) {
    let (cost, _) = sample_grad(net, &digit.pixels, digit.label);
    assert_eq!(cost.to_bits(), net.cost(digit).to_bits(), "sample_grad's cost differs from sample_cost's");
    let cost_grad = |p: &Net<H>| (p.cost(digit), sample_grad(p, &digit.pixels, digit.label).1);
    let check = check_gradient(cost_grad, net, 1e-6).unwrap();
    assert!(check.passes(1e-6), "label {}:\n{check}", digit.label);
}

#[test]
fn the_generated_gradient_matches_finite_differences() {
    let digits = digits();
    let mut net = Net::<QUICK_HIDDEN>::init(3);
    // Biases away from zero so their entries are exercised too.
    for (j, b) in net.l1.b.iter_mut().enumerate() {
        *b = 0.1 * j as f64 - 0.5;
    }
    for (k, b) in net.l2.b.iter_mut().enumerate() {
        *b = 0.2 - 0.05 * k as f64;
    }
    for digit in &digits[..3] {
        assert_gradient_matches(&mut net, digit);
    }
}

/// The same network written flat, as the example was before it had layers: one function with
/// array arguments and loops, and the max shift written out.
#[backprop(wrt(w1, b1, w2, b2))]
fn flat_cost<const H: usize>(
    w1: &[[f64; PIXELS]; H],
    b1: &[f64; H],
    w2: &[[f64; H]; CLASSES],
    b2: &[f64; CLASSES],
    x: &[f64; PIXELS],
    label: usize,
) -> f64 {
    let mut h = [0.0; H];
    for j in 0..H {
        let mut z = b1[j];
        for i in 0..PIXELS {
            z += w1[j][i] * x[i];
        }
        h[j] = z.tanh();
    }
    let mut logits = [0.0; CLASSES];
    for k in 0..CLASSES {
        let mut z = b2[k];
        for j in 0..H {
            z += w2[k][j] * h[j];
        }
        logits[k] = z;
    }
    let mut m = logits[0];
    for k in 1..CLASSES {
        if logits[k] > m {
            m = logits[k];
        }
    }
    let mut s = 0.0;
    for k in 0..CLASSES {
        s += (logits[k] - m).exp();
    }
    m + s.ln() - logits[label]
}

#[test]
fn the_layered_gradient_equals_the_flat_one() {
    let digits = digits();
    let mut net = Net::<QUICK_HIDDEN>::init(11);
    backprop::init::uniform(&mut net.l1.b, -0.3, 0.3, 12);
    backprop::init::uniform(&mut net.l2.b, -0.3, 0.3, 13);
    let close = |a: f64, b: f64, what: &str| {
        assert!((a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-3), "{what}: {a} vs {b}");
    };
    for digit in &digits[..20] {
        let (cost, g) = sample_grad(&net, &digit.pixels, digit.label);
        let (flat, f) = flat_cost_grad(&net.l1.w, &net.l1.b, &net.l2.w, &net.l2.b, &digit.pixels, digit.label);
        close(cost, flat, "cost");
        for (a, b) in g.l1.w.iter().flatten().zip(f.w1.iter().flatten()) {
            close(*a, *b, "l1.w");
        }
        for (a, b) in g.l1.b.iter().zip(&f.b1).chain(g.l2.b.iter().zip(&f.b2)) {
            close(*a, *b, "b");
        }
        for (a, b) in g.l2.w.iter().flatten().zip(f.w2.iter().flatten()) {
            close(*a, *b, "l2.w");
        }
    }
}

#[test]
fn the_max_shift_keeps_large_logits_finite() {
    let digits = digits();
    let mut net = Net::<4>::init(5);
    // Logits in the hundreds: exp would overflow without the shift.
    for w in net.l2.w.iter_mut().flatten() {
        *w *= 400.0;
    }
    let digit = &digits[1];
    let (cost, grad) = sample_grad(&net, &digit.pixels, digit.label);
    assert!(cost.is_finite() && cost >= 0.0, "{cost}");
    assert!(backprop::runtime::params::first_non_finite(&grad).is_none());
    assert_eq!(cost, sample_cost(&net, &digit.pixels, digit.label));
    // The gradient of the logits sums to zero, so l2.b's entries do too (up to rounding).
    assert!(grad.l2.b.iter().sum::<f64>().abs() < 1e-12);
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let err = load_digits(Path::new("no/such/digits.csv.gz")).unwrap_err();
    assert!(matches!(err, DataError::Open { .. }));
    let message = err.to_string();
    assert!(message.starts_with("cannot open no/such/digits.csv.gz: "), "{message}");
}

#[test]
fn malformed_rows_are_errors_naming_the_line() {
    let good = format!("{}3", "0,".repeat(PIXELS));
    let parse = |text: String| parse_digits(Cursor::new(text), Path::new("mem.csv"));
    assert_eq!(parse(format!("{good}\n\n{good}\n")).unwrap().len(), 2);

    let short = format!("{good}\n{}\n", "1,2,3");
    let err = parse(short).unwrap_err().to_string();
    assert_eq!(err, "mem.csv: line 2: expected 65 comma-separated values (64 pixels, then the label), found 3");
    let bad_pixel = format!("{good}\n{good}\n{}1\n", "0,".repeat(10) + "17," + &"0,".repeat(53));
    let err = parse(bad_pixel).unwrap_err().to_string();
    assert_eq!(err, "mem.csv: line 3: column 11: pixel value \"17\" is not an integer 0..=16");
    let bad_label = format!("{}x\n", "0,".repeat(PIXELS));
    let err = parse(bad_label).unwrap_err().to_string();
    assert_eq!(err, "mem.csv: line 1: column 65: label \"x\" is not an integer 0..=9");
    assert!(matches!(parse(String::new()), Err(DataError::Empty { .. })));
}

#[test]
fn a_file_that_is_not_gzip_is_an_error_naming_the_line() {
    let path = std::env::temp_dir().join(format!("digits-plain-{}.csv", std::process::id()));
    std::fs::write(&path, "0,0,0\n").unwrap();
    let err = load_digits(&path).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(err, DataError::Read { line: 1, .. }), "{err}");
}

#[test]
fn ascii_art_draws_eight_framed_rows_by_intensity() {
    let mut pixels = [0.0; PIXELS];
    pixels[0] = 1.0;
    pixels[9] = 0.5;
    let art = ascii_art(&pixels);
    let lines: Vec<&str> = art.lines().collect();
    assert_eq!(lines.len(), 10);
    assert_eq!(lines[0], "+----------------+");
    assert_eq!(lines[1], "|@@              |");
    assert_eq!(lines[2], "|  ++            |");
    assert!(lines.iter().all(|l| l.chars().count() == 18));
}
