//! GradBench's `lstm` objective (the ADBench LSTM: `l` stacked layers of an element-wise LSTM
//! cell, a log-softmax read-out, the mean log-likelihood of the next symbol) written twice: with
//! the cell as a `#[backprop]` function called in the loops over time and layers, its state rows
//! passed in and overwritten after each call, and flat, the cell inline. Values and gradients
//! agree to 1e-12 and with central differences (issue 18).
// Objectives written with index loops and element copies, as the macro reads them.
#![allow(clippy::needless_range_loop, clippy::manual_memcpy)]

use backprop::prelude::*;

const L: usize = 2;
const B: usize = 4;
const G: usize = 4 * B;
const C: usize = 5;
/// A cell's result: its new hidden state (`0..B`) and cell state (`B..2B`).
const S: usize = 2 * B;

#[backprop]
pub fn lstm_cell(weight: &[f64; G], bias: &[f64; G], hidden: &[f64; B], cell: &[f64; B], input: &[f64; B]) -> [f64; S] {
    let mut out = [0.0; S];
    for i in 0..B {
        let forget = sigmoid(input[i] * weight[i] + bias[i]);
        let ingate = sigmoid(hidden[i] * weight[B + i] + bias[B + i]);
        let outgate = sigmoid(input[i] * weight[2 * B + i] + bias[2 * B + i]);
        let change = (hidden[i] * weight[3 * B + i] + bias[3 * B + i]).tanh();
        let c = cell[i] * forget + ingate * change;
        out[B + i] = c;
        out[i] = outgate * c.tanh();
    }
    out
}

#[backprop(wrt(main_params, extra_params))]
pub fn lstm_objective(
    main_params: &[[f64; G]; 2 * L],
    extra_params: &[[f64; B]; 3],
    state: &[[f64; B]; 2 * L],
    sequence: &[[f64; B]; C],
) -> f64 {
    let mut s = [[0.0; B]; 2 * L];
    for k in 0..2 * L {
        for i in 0..B {
            s[k][i] = state[k][i];
        }
    }
    let mut total = 0.0;
    for t in 0..C - 1 {
        let mut x = [0.0; B];
        for i in 0..B {
            x[i] = sequence[t][i] * extra_params[0][i];
        }
        for k in 0..L {
            let hc = lstm_cell(&main_params[2 * k], &main_params[2 * k + 1], &s[2 * k], &s[2 * k + 1], &x);
            for i in 0..B {
                s[2 * k][i] = hc[i];
                s[2 * k + 1][i] = hc[B + i];
                x[i] = hc[i];
            }
        }
        let mut ypred = [0.0; B];
        for i in 0..B {
            ypred[i] = x[i] * extra_params[1][i] + extra_params[2][i];
        }
        let mut m = ypred[0];
        for i in 0..B {
            m = m.max(ypred[i]);
        }
        let mut se = 0.0;
        for i in 0..B {
            se += (ypred[i] - m).exp();
        }
        let lse = se.ln() + m;
        for i in 0..B {
            total += sequence[t + 1][i] * (ypred[i] - lse);
        }
    }
    -total / ((C - 1) * B) as f64
}

#[backprop(wrt(main_params, extra_params))]
pub fn lstm_objective_flat(
    main_params: &[[f64; G]; 2 * L],
    extra_params: &[[f64; B]; 3],
    state: &[[f64; B]; 2 * L],
    sequence: &[[f64; B]; C],
) -> f64 {
    let mut s = [[0.0; B]; 2 * L];
    for k in 0..2 * L {
        for i in 0..B {
            s[k][i] = state[k][i];
        }
    }
    let mut total = 0.0;
    for t in 0..C - 1 {
        let mut x = [0.0; B];
        for i in 0..B {
            x[i] = sequence[t][i] * extra_params[0][i];
        }
        for k in 0..L {
            for i in 0..B {
                let w = 2 * k;
                let forget = sigmoid(x[i] * main_params[w][i] + main_params[w + 1][i]);
                let ingate = sigmoid(s[w][i] * main_params[w][B + i] + main_params[w + 1][B + i]);
                let outgate = sigmoid(x[i] * main_params[w][2 * B + i] + main_params[w + 1][2 * B + i]);
                let change = (s[w][i] * main_params[w][3 * B + i] + main_params[w + 1][3 * B + i]).tanh();
                let c = s[w + 1][i] * forget + ingate * change;
                s[w + 1][i] = c;
                s[w][i] = outgate * c.tanh();
                x[i] = s[w][i];
            }
        }
        let mut ypred = [0.0; B];
        for i in 0..B {
            ypred[i] = x[i] * extra_params[1][i] + extra_params[2][i];
        }
        let mut m = ypred[0];
        for i in 0..B {
            m = m.max(ypred[i]);
        }
        let mut se = 0.0;
        for i in 0..B {
            se += (ypred[i] - m).exp();
        }
        let lse = se.ln() + m;
        for i in 0..B {
            total += sequence[t + 1][i] * (ypred[i] - lse);
        }
    }
    -total / ((C - 1) * B) as f64
}

/// Deterministic inputs in [-1, 1] (GradBench draws them at random; any values do here).
fn filled<const R: usize, const K: usize>(seed: u64) -> [[f64; K]; R] {
    let mut out = [[0.0; K]; R];
    let mut x = seed;
    for row in out.iter_mut() {
        for v in row.iter_mut() {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            *v = ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0;
        }
    }
    out
}

#[test]
fn the_lstm_objective_with_a_cell_function_equals_the_flat_one() {
    let main: [[f64; G]; 2 * L] = filled(1);
    let extra: [[f64; B]; 3] = filled(2);
    let state: [[f64; B]; 2 * L] = filled(3);
    let sequence: [[f64; B]; C] = filled(4);
    let (v, g) = lstm_objective_grad(&main, &extra, &state, &sequence);
    let (vf, gf) = lstm_objective_flat_grad(&main, &extra, &state, &sequence);
    assert!((v - vf).abs() < 1e-12, "{v} vs {vf}");
    assert_eq!(v, lstm_objective(&main, &extra, &state, &sequence));
    for r in 0..2 * L {
        for i in 0..G {
            let (a, b) = (g.main_params[r][i], gf.main_params[r][i]);
            assert!((a - b).abs() < 1e-12, "main[{r}][{i}]: {a} vs {b}");
            let fd = |d: f64| {
                let mut m = main;
                m[r][i] += d;
                lstm_objective(&m, &extra, &state, &sequence)
            };
            let h = 1e-6;
            let want = (fd(h) - fd(-h)) / (2.0 * h);
            assert!((a - want).abs() < 1e-6, "main[{r}][{i}]: {a} vs fd {want}");
        }
    }
    for r in 0..3 {
        for i in 0..B {
            let (a, b) = (g.extra_params[r][i], gf.extra_params[r][i]);
            assert!((a - b).abs() < 1e-12, "extra[{r}][{i}]: {a} vs {b}");
            let fd = |d: f64| {
                let mut e = extra;
                e[r][i] += d;
                lstm_objective(&main, &e, &state, &sequence)
            };
            let want = (fd(1e-6) - fd(-1e-6)) / 2e-6;
            assert!((a - want).abs() < 1e-6, "extra[{r}][{i}]: {a} vs fd {want}");
        }
    }
}
