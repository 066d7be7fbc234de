//! The evals built on second-order code (`kmeans`, `ht`, `ba`, `particle`, `saddle`), each run
//! through the binary over the protocol on small inputs and checked against values computed without
//! `#[backprop]`: closed forms (`kmeans`' Newton direction is `C − mean of the assigned points`) and
//! central finite differences of plain-Rust primals written here, independent of the tool's.

#![allow(clippy::needless_range_loop)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

/// A seeded SplitMix64 in [0, 1).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| lo + (hi - lo) * self.next()).collect()
    }
}

/// Central differences with Richardson extrapolation (error O(h⁴)).
#[allow(dead_code)]
fn finite_differences(f: impl Fn(&[f64]) -> Vec<f64>, x: &[f64]) -> Vec<Vec<f64>> {
    // Column i of the Jacobian, returned as columns.
    (0..x.len())
        .map(|i| {
            let d = |h: f64| {
                let mut p = x.to_vec();
                p[i] = x[i] + h;
                let up = f(&p);
                p[i] = x[i] - h;
                let down = f(&p);
                up.iter().zip(&down).map(|(u, d)| (u - d) / (2.0 * h)).collect::<Vec<f64>>()
            };
            let h = 1e-3 * (1.0 + x[i].abs());
            let (a, b) = (d(h / 2.0), d(h));
            a.iter().zip(&b).map(|(a, b)| (4.0 * a - b) / 3.0).collect()
        })
        .collect()
}

fn assert_close(what: &str, actual: f64, expected: f64, tol: f64) {
    assert!((actual - expected).abs() <= tol * (1.0 + expected.abs()), "{what}: {actual} vs {expected}");
}

/// Runs one protocol session through the built binary; returns the `evaluate` responses' outputs,
/// checking each response's shape (`success`, one `evaluate` timing per run, at least `min_runs`).
fn evaluate(module: &str, calls: &[(&str, Value)]) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_backprop-gradbench"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the tool starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |m: Value| -> Value {
        writeln!(stdin, "{m}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).expect("a JSON response")
    };
    assert_eq!(send(json!({"id": 0, "kind": "start", "eval": module}))["tool"], "backprop");
    assert_eq!(send(json!({"id": 1, "kind": "define", "module": module}))["success"], true);
    let mut outputs = Vec::new();
    for (k, (function, input)) in calls.iter().enumerate() {
        let mut input = input.clone();
        input.as_object_mut().unwrap().extend([("min_runs".to_string(), json!(2)), ("min_seconds".to_string(), json!(0))]);
        let r = send(json!({"id": 2 + k, "kind": "evaluate", "module": module, "function": function, "input": input}));
        assert_eq!(r["success"], true, "{module}::{function}: {r}");
        let timings = r["timings"].as_array().unwrap();
        assert!(timings.len() >= 2 && timings.iter().all(|t| t["name"] == "evaluate"));
        outputs.push(r["output"].clone());
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    outputs
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()).collect()
}

// ---- kmeans -------------------------------------------------------------------------------------

#[test]
fn kmeans_cost_and_newton_direction() {
    let mut rng = Rng(11);
    let (n, k, d) = (40, 4, 3);
    let points: Vec<Vec<f64>> = (0..n).map(|_| rng.vec(d, 0.0, 1.0)).collect();
    // The eval's construction: the last k points are the centroids, so no cluster is empty.
    let centroids: Vec<Vec<f64>> = points[n - k..].to_vec();
    let input = json!({"points": points, "centroids": centroids});
    let out = evaluate("kmeans", &[("cost", input.clone()), ("dir", input)]);
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>();
    let mut cost = 0.0;
    let mut sums = vec![vec![0.0; d]; k];
    let mut counts = vec![0.0; k];
    for p in &points {
        let j = (0..k).min_by(|&a, &b| dist(p, &centroids[a]).total_cmp(&dist(p, &centroids[b]))).unwrap();
        cost += dist(p, &centroids[j]);
        counts[j] += 1.0;
        for l in 0..d {
            sums[j][l] += p[l];
        }
    }
    assert_close("cost", out[0].as_f64().unwrap(), cost, 1e-13);
    // J = 2 Σ (c − p), H = 2 count: J H⁻¹ = c − mean.
    let dir = matrix(&out[1]);
    for j in 0..k {
        for l in 0..d {
            assert_close(&format!("dir[{j}][{l}]"), dir[j][l], centroids[j][l] - sums[j][l] / counts[j], 1e-12);
        }
    }
}
