//! A recurrent network trained with the runtime's `Trainer`: a GRU cell (a `#[backprop]` function
//! over its parameter struct, `examples/rnn/model.rs`) called once per time step on its own
//! previous state, learns to output the running sum of a sequence of numbers. Prints the
//! learning curve and the held-out error against predicting zero.
//!
//! ```text
//! cargo run --release --example rnn
//! ```

#[path = "rnn/model.rs"]
mod model;

use backprop::{Adam, Trainer};
use model::{initial_model, mean_cost, sample_grad, sequences, Model};

const H: usize = 8;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let train = sequences(512, 1);
    let test = sequences(256, 2);
    let mut m: Model<H> = initial_model(3);
    let zero = test.iter().map(|s| s.sums.iter().map(|y| y * y).sum::<f64>() / s.sums.len() as f64).sum::<f64>()
        / test.len() as f64;
    println!("held-out error predicting 0: {zero:.5}; before training: {:.5}", mean_cost(&m, &test));
    println!("epoch  train cost  held-out cost");
    let history = Trainer::new(Adam::new(0.01)?)
        .batch_size(16)?
        .epochs(30)
        .seed(7)
        .validation(|m: &Model<H>| mean_cost(m, &test))
        .on_epoch(|e| {
            if e.epoch % 3 == 2 || e.epoch == 0 {
                println!("{:5}  {:10.5}  {:13.5}", e.epoch + 1, e.cost, e.validation.unwrap_or(f64::NAN));
            }
        })
        .fit(&mut m, &train, sample_grad)?;
    let last = mean_cost(&m, &test);
    println!(
        "held-out error after {} epochs: {last:.5} ({:.1}x lower than predicting 0)",
        history.epochs.len(),
        zero / last
    );
    Ok(())
}
