//! The training loop: batching, determinism, parallel sums, schedules, clipping, stopping
//! rules, observers, validation and the CSV history.

use std::cell::RefCell;

use backprop_runtime::params::to_vec;
use backprop_runtime::train::{Control, Parallelism, Progress, Reduction, StopReason};
use backprop_runtime::{Adam, GradientDescent, Momentum, Params, Schedule, Stop, Trainer};

use crate::common::{data, scratch, squared_error, Linear};

#[test]
fn mini_batch_training_fits_the_line() {
    let data = data(200);
    let mut p = Linear::default();
    let history = Trainer::new(Adam::new(0.05).unwrap())
        .batch_size(16)
        .unwrap()
        .epochs(60)
        .seed(1)
        .fit(&mut p, &data, squared_error)
        .unwrap();
    // 200 samples in batches of 16: 12 full batches and one of 8 per epoch.
    assert_eq!(history.steps.len(), 60 * 13);
    assert_eq!(history.steps[12].batch_len, 8);
    assert_eq!(history.epochs.len(), 60);
    assert_eq!(history.epochs[59].steps, 780);
    assert_eq!(history.stop_reason, StopReason::MaxEpochs);
    assert!((p.w[0] - 2.0).abs() < 1e-2 && (p.w[1] + 3.0).abs() < 1e-2, "{p:?}");
    assert!((p.b - 0.5).abs() < 1e-2, "{p:?}");
    assert!(history.final_cost().unwrap() < 1e-4);
}

#[test]
fn the_same_seed_gives_bit_identical_parameters() {
    let data = data(100);
    let train = |seed| {
        let mut p = Linear::default();
        Trainer::new(Momentum::new(0.05, 0.9).unwrap())
            .batch_size(7)
            .unwrap()
            .epochs(5)
            .seed(seed)
            .fit(&mut p, &data, squared_error)
            .unwrap();
        to_vec(&p).iter().map(|x| x.to_bits()).collect::<Vec<u64>>()
    };
    assert_eq!(train(42), train(42));
    // And the seed matters: another order gives (slightly) different parameters.
    assert_ne!(train(42), train(43));
}

#[test]
fn parallel_and_sequential_training_agree() {
    let data = data(1000);
    let train = |parallelism| {
        let mut p = Linear::default();
        let h = Trainer::new(GradientDescent::new(0.1).unwrap())
            .batch_size(500)
            .unwrap()
            .epochs(4)
            .seed(9)
            .parallelism(parallelism)
            .fit(&mut p, &data, squared_error)
            .unwrap();
        (p, h.final_cost().unwrap())
    };
    let (seq, seq_cost) = train(Parallelism::Sequential);
    let (par, par_cost) = train(Parallelism::Parallel);
    for (a, b) in to_vec(&seq).into_iter().zip(to_vec(&par)) {
        assert!((a - b).abs() <= 1e-12 * a.abs().max(b.abs()), "{a} vs {b}");
    }
    assert!((seq_cost - par_cost).abs() <= 1e-12 * seq_cost);
    // The chunked reduction is designed to make them identical, not just close.
    assert_eq!(seq, par);
}

#[test]
fn full_batch_mean_and_sum_reductions() {
    let data = data(10);
    let mut mean = Linear::default();
    let hm = Trainer::new(GradientDescent::new(0.1).unwrap()).epochs(1).fit(&mut mean, &data, squared_error).unwrap();
    let mut sum = Linear::default();
    let hs = Trainer::new(GradientDescent::new(0.01).unwrap())
        .reduction(Reduction::Sum)
        .epochs(1)
        .fit(&mut sum, &data, squared_error)
        .unwrap();
    let total: f64 = data.iter().map(|s| squared_error(&Linear::default(), s).0).sum();
    assert!((hs.epochs[0].cost - total).abs() < 1e-12);
    assert!((hm.epochs[0].cost - total / 10.0).abs() < 1e-12);
    // lr 0.1 on the mean is lr 0.01 on the sum of 10 samples.
    for (a, b) in to_vec(&mean).into_iter().zip(to_vec(&sum)) {
        assert!((a - b).abs() < 1e-15, "{a} vs {b}");
    }
}

#[test]
fn schedule_and_clipping_shape_the_updates() {
    // One parameter, cost (x - 10)^2 with gradient 2(x - 10): at x = 0 the gradient is -20.
    let mut x = [0.0];
    let h = Trainer::new(GradientDescent::new(0.5).unwrap())
        .schedule(Schedule::step(2, 0.1).unwrap())
        .unwrap()
        .clip_grad_norm(1.0)
        .unwrap()
        .max_steps(3)
        .minimize(&mut x, |p: &[f64; 1]| ((p[0] - 10.0).powi(2), [2.0 * (p[0] - 10.0)]))
        .unwrap();
    let rates: Vec<f64> = h.steps.iter().map(|s| s.learning_rate).collect();
    assert_eq!(rates, vec![0.5, 0.5, 0.05]);
    // Recorded norms are before clipping; each update moves by rate * 1 after clipping.
    assert_eq!(h.steps[0].grad_norm, 20.0);
    assert!((x[0] - (0.5 + 0.5 + 0.05)).abs() < 1e-15, "{}", x[0]);
    assert_eq!(h.stop_reason, StopReason::MaxSteps);
}

#[test]
fn cost_tolerance_stops_before_updating() {
    let mut x = [4.0];
    let h = Trainer::new(GradientDescent::new(0.25).unwrap())
        .max_steps(100)
        // Exercises the bar's code path; indicatif hides it when stderr is not a terminal.
        .progress(Progress::Always)
        .stop_when(Stop::CostBelow(1e-6))
        .unwrap()
        .minimize(&mut x, |p: &[f64; 1]| (p[0] * p[0], [2.0 * p[0]]))
        .unwrap();
    // x halves each step: 4 * 2^-k squared drops below 1e-6 first at k = 12.
    assert_eq!(h.stop_reason, StopReason::CostBelow);
    assert_eq!(h.steps.len(), 13);
    assert_eq!(x[0], 4.0 / 4096.0);
    assert!(h.final_cost().unwrap() < 1e-6);
}

#[test]
fn no_improvement_stops_on_the_validation_metric() {
    let data = data(50);
    let mut p = Linear::default();
    // A validation metric that stops improving after epoch 3.
    let epochs_seen = RefCell::new(0);
    let h = Trainer::new(Adam::new(0.01).unwrap())
        .epochs(100)
        .validation(|_: &Linear| {
            let mut n = epochs_seen.borrow_mut();
            *n += 1;
            if *n <= 3 {
                1.0 / *n as f64
            } else {
                0.5
            }
        })
        .stop_when(Stop::NoImprovement { epochs: 4, min_delta: 0.0 })
        .unwrap()
        .fit(&mut p, &data, squared_error)
        .unwrap();
    assert_eq!(h.stop_reason, StopReason::NoImprovement);
    assert_eq!(h.epochs.len(), 7);
    assert_eq!(h.epochs[2].validation, Some(1.0 / 3.0));
    assert_eq!(h.epochs[6].validation, Some(0.5));
}

#[test]
fn observers_see_every_step_and_can_stop() {
    let data = data(20);
    let mut p = Linear::default();
    let steps = RefCell::new(Vec::new());
    let epochs = RefCell::new(Vec::new());
    let h = Trainer::new(GradientDescent::new(0.05).unwrap())
        .batch_size(5)
        .unwrap()
        .epochs(10)
        .progress(Progress::Never)
        .on_step(|s| steps.borrow_mut().push(s.step))
        .on_epoch(|e| {
            epochs.borrow_mut().push(e.epoch);
            if e.epoch == 2 {
                Control::Stop
            } else {
                Control::Continue
            }
        })
        .fit(&mut p, &data, squared_error)
        .unwrap();
    assert_eq!(h.stop_reason, StopReason::Observer);
    assert_eq!(*epochs.borrow(), vec![0, 1, 2]);
    assert_eq!(*steps.borrow(), (0..12).collect::<Vec<_>>());
    // Observer-driven stop from a step skips that step's update.
    let mut q = [1.0];
    let h = Trainer::new(GradientDescent::new(0.5).unwrap())
        .max_steps(10)
        .on_step(|s| s.step == 1)
        .minimize(&mut q, |p: &[f64; 1]| (p[0] * p[0], [2.0 * p[0]]))
        .unwrap();
    assert_eq!(h.stop_reason, StopReason::Observer);
    assert_eq!(h.steps.len(), 2);
    assert_eq!(q[0], 0.0); // one update of 1 - 0.5 * 2 = 0
}

#[test]
fn f32_parameters_train_too() {
    let mut p = vec![3.0_f32, -2.0];
    let h = Trainer::new(Adam::new(0.1).unwrap())
        .max_steps(500)
        .minimize(&mut p, |p: &Vec<f32>| (p.iter().map(|x| x * x).sum(), p.iter().map(|x| 2.0 * x).collect()))
        .unwrap();
    assert!(p.iter().all(|x| x.abs() < 1e-2), "{p:?}");
    assert!(h.steps[0].cost == 13.0);
    assert_eq!(p.num_params(), 2);
}

#[test]
fn history_csv_round_trips_through_a_file() {
    let data = data(30);
    let mut p = Linear::default();
    let h = Trainer::new(GradientDescent::new(0.1).unwrap())
        .epochs(3)
        .validation(|p: &Linear| p.b)
        .fit(&mut p, &data, squared_error)
        .unwrap();
    let path = scratch("history.csv");
    h.write_csv(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "epoch,steps,cost,grad_norm,learning_rate,validation");
    assert_eq!(lines.len(), 4);
    let cols: Vec<&str> = lines[3].split(',').collect();
    assert_eq!(cols[0], "2");
    assert_eq!(cols[1], "3");
    assert_eq!(cols[2].parse::<f64>().unwrap(), h.epochs[2].cost);
    assert_eq!(cols[5].parse::<f64>().unwrap(), p.b);
    let steps_path = scratch("steps.csv");
    h.write_steps_csv(&steps_path).unwrap();
    assert_eq!(std::fs::read_to_string(&steps_path).unwrap().lines().count(), 4);
}
