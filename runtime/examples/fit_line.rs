//! Trains a two-parameter line on noisy data with mini-batch Adam and writes the loss curve.
//!
//! `cargo run -p backprop-runtime --example fit_line -- OUT_DIR` writes `OUT_DIR/loss.svg`
//! and `OUT_DIR/history.csv` (OUT_DIR defaults to the system temp dir).

use backprop_runtime::{plot_loss, Adam, Schedule, Stop, Trainer};

fn main() -> Result<(), backprop_runtime::Error> {
    let out = std::env::args().nth(1).map_or_else(std::env::temp_dir, Into::into);
    // y = 2x + 1 plus a deterministic wiggle standing in for noise.
    let data: Vec<(f64, f64)> = (0..500)
        .map(|i| {
            let x = i as f64 / 250.0 - 1.0;
            (x, 2.0 * x + 1.0 + 0.05 * (17.0 * x).sin())
        })
        .collect();

    let mut line = [0.0_f64, 0.0]; // [slope, intercept]
    let history = Trainer::new(Adam::new(0.05)?)
        .batch_size(32)?
        .epochs(200)
        .seed(7)
        .schedule(Schedule::cosine(3200, 1e-3)?.with_warmup(50)?)?
        .stop_when(Stop::NoImprovement { epochs: 10, min_delta: 1e-7 })?
        .on_epoch(|e| {
            if e.epoch % 20 == 0 {
                println!("epoch {:3}  cost {:.3e}", e.epoch, e.cost);
            }
        })
        .fit(&mut line, &data, |p: &[f64; 2], &(x, y): &(f64, f64)| {
            let r = p[0] * x + p[1] - y;
            (r * r, [2.0 * r * x, 2.0 * r])
        })?;

    println!("slope {:.4}, intercept {:.4} ({:?})", line[0], line[1], history.stop_reason);
    history.write_csv(out.join("history.csv"))?;
    plot_loss(&history, out.join("loss.svg"))?;
    println!("wrote loss.svg and history.csv to {}", out.display());
    Ok(())
}
