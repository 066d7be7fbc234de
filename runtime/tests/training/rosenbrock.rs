//! Rosenbrock's banana from the classic start (-1.2, 1): momentum and Adam reach the minimum
//! (1, 1) to 1e-6, and plain descent with a small rate never increases the cost.

use backprop_runtime::{Adam, GradientDescent, Momentum, Nesterov, Schedule, Stop, Trainer};

/// f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 and its gradient, written out by hand.
fn rosenbrock(p: &[f64; 2]) -> (f64, [f64; 2]) {
    let [x, y] = *p;
    let a = 1.0 - x;
    let b = y - x * x;
    let cost = a * a + 100.0 * b * b;
    let dx = -2.0 * a - 400.0 * x * b;
    let dy = 200.0 * b;
    (cost, [dx, dy])
}

fn distance_to_minimum(p: &[f64; 2]) -> f64 {
    ((p[0] - 1.0).powi(2) + (p[1] - 1.0).powi(2)).sqrt()
}

#[test]
fn momentum_converges_to_the_minimum() {
    let mut p = [-1.2, 1.0];
    let history = Trainer::new(Momentum::new(1e-3, 0.9).unwrap())
        .max_steps(200_000)
        .stop_when(Stop::GradNormBelow(1e-9))
        .unwrap()
        .minimize(&mut p, rosenbrock)
        .unwrap();
    eprintln!("momentum: {} steps, {:?}", history.steps.len(), history.stop_reason);
    assert!(distance_to_minimum(&p) < 1e-6, "{p:?}");
}

#[test]
fn nesterov_converges_to_the_minimum() {
    let mut p = [-1.2, 1.0];
    let history = Trainer::new(Nesterov::new(1e-3, 0.9).unwrap())
        .max_steps(200_000)
        .stop_when(Stop::GradNormBelow(1e-9))
        .unwrap()
        .minimize(&mut p, rosenbrock)
        .unwrap();
    eprintln!("nesterov: {} steps, {:?}", history.steps.len(), history.stop_reason);
    assert!(distance_to_minimum(&p) < 1e-6, "{p:?}");
}

#[test]
fn adam_with_decay_converges_to_the_minimum() {
    let mut p = [-1.2, 1.0];
    let history = Trainer::new(Adam::new(2e-2).unwrap())
        .schedule(Schedule::exponential(0.9995).unwrap())
        .unwrap()
        .max_steps(200_000)
        .stop_when(Stop::GradNormBelow(1e-9))
        .unwrap()
        .minimize(&mut p, rosenbrock)
        .unwrap();
    eprintln!("adam: {} steps, {:?}", history.steps.len(), history.stop_reason);
    assert!(distance_to_minimum(&p) < 1e-6, "{p:?}");
}

#[test]
fn plain_descent_with_a_small_rate_is_monotone() {
    let mut p = [-1.2, 1.0];
    let history =
        Trainer::new(GradientDescent::new(1e-4).unwrap()).max_steps(5_000).minimize(&mut p, rosenbrock).unwrap();
    let costs: Vec<f64> = history.steps.iter().map(|s| s.cost).collect();
    assert_eq!(costs.len(), 5_000);
    // f(-1.2, 1) = 2.2^2 + 100 * 0.44^2 = 24.2
    assert!((costs[0] - 24.2).abs() < 1e-12, "{}", costs[0]);
    for (i, w) in costs.windows(2).enumerate() {
        assert!(w[1] <= w[0], "cost rose at step {}: {} -> {}", i + 1, w[0], w[1]);
    }
    assert!(costs[4_999] < 5.0, "{}", costs[4_999]);
}
