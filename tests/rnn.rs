//! The GRU of `examples/rnn.rs` (issue 18): its cell is a `#[backprop]` function called in a loop
//! over time steps on its own previous state, with a loss at every step. Its gradient equals the
//! flat twin's (the cell written inline) to 1e-12 and central differences; a short run of the
//! `Trainer` lowers the held-out cost of the generated running-sum task.
// Objectives written with index loops and element copies, as the macro reads them.
#![allow(clippy::needless_range_loop, clippy::manual_memcpy)]

#[path = "../examples/rnn/model.rs"]
mod model;

use backprop::runtime::params::{copy_from_slice, to_vec};
use backprop::{Adam, Params, Trainer};
use model::*;

const H: usize = 4;

#[test]
fn the_composed_gru_equals_its_flat_twin_and_finite_differences() {
    let m: Model<H> = initial_model(11);
    for s in sequences(3, 5) {
        let (c, g) = sequence_cost_grad(&m, &s.xs, &s.sums);
        let (cf, gf) = sequence_cost_flat_grad(&m, &s.xs, &s.sums);
        assert!((c - cf).abs() < 1e-12, "{c} vs {cf}");
        let (a, b) = (to_vec(&g.m), to_vec(&gf.m));
        for i in 0..a.len() {
            assert!((a[i] - b[i]).abs() < 1e-12 * (1.0 + b[i].abs()), "{}: {} vs {}", g.m.describe(i, ""), a[i], b[i]);
        }
        let base = to_vec(&m);
        for i in 0..base.len() {
            let h = 1e-6;
            let at = |d: f64| {
                let mut v = base.clone();
                v[i] += d;
                let mut q = m.clone();
                copy_from_slice(&mut q, &v).unwrap();
                sequence_cost(&q, &s.xs, &s.sums)
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            assert!((a[i] - fd).abs() < 1e-6 * (1.0 + fd.abs()), "{}: {} vs fd {fd}", g.m.describe(i, ""), a[i]);
        }
    }
}

#[test]
fn the_trainer_fits_the_running_sum() {
    let train = sequences(64, 1);
    let test = sequences(32, 2);
    let mut m: Model<H> = initial_model(3);
    let before = mean_cost(&m, &test);
    let history = Trainer::new(Adam::new(0.02).unwrap())
        .batch_size(8)
        .unwrap()
        .epochs(8)
        .seed(7)
        .fit(&mut m, &train, sample_grad)
        .unwrap();
    let after = mean_cost(&m, &test);
    assert_eq!(history.epochs.len(), 8);
    assert!(after < before / 10.0, "held-out cost {before} -> {after}");
}
