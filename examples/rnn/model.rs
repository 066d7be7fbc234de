//! A GRU over time, composed the way Rust is written: the cell is one `#[backprop]` function over
//! its parameter struct, called once per time step with its own previous result
//! (`h = gru_cell(&m.cell, &h, &xs[t]);`), and the sequence cost reads a prediction at every step.
//! The task is generated here: read numbers one at a time and say the running sum so far.
//! Shared by `examples/rnn.rs` (training with the `Trainer`) and `tests/rnn.rs` (the gradient
//! against a flat twin and finite differences).

#![allow(dead_code)]
// The flat twin copies the new state element by element, as the macro lowers it (no `copy_from_slice`).
#![allow(clippy::manual_memcpy)]

use backprop::prelude::*;

/// Time steps per sequence.
pub const T: usize = 8;

/// A GRU cell (`z` update gate, `r` reset gate, `n` candidate), the reset gate applied to the
/// previous state before its product with `un`.
#[derive(Params, Clone, Debug, PartialEq)]
pub struct Gru<const I: usize, const H: usize> {
    pub wz: [[f64; I]; H],
    pub uz: [[f64; H]; H],
    pub bz: [f64; H],
    pub wr: [[f64; I]; H],
    pub ur: [[f64; H]; H],
    pub br: [f64; H],
    pub wn: [[f64; I]; H],
    pub un: [[f64; H]; H],
    pub bn: [f64; H],
}

/// The cell and a linear read-out of its state.
#[derive(Params, Clone, Debug, PartialEq)]
pub struct Model<const H: usize> {
    pub cell: Gru<1, H>,
    pub out: [f64; H],
    pub bias: f64,
}

/// One step: the next state from the previous one and the input.
#[backprop]
pub fn gru_cell<const I: usize, const H: usize>(c: &Gru<I, H>, h: &[f64; H], x: &[f64; I]) -> [f64; H] {
    let mut z = [0.0; H];
    let mut rh = [0.0; H];
    for j in 0..H {
        let mut az = c.bz[j];
        let mut ar = c.br[j];
        for i in 0..I {
            az += c.wz[j][i] * x[i];
            ar += c.wr[j][i] * x[i];
        }
        for i in 0..H {
            az += c.uz[j][i] * h[i];
            ar += c.ur[j][i] * h[i];
        }
        z[j] = sigmoid(az);
        rh[j] = sigmoid(ar) * h[j];
    }
    let mut out = [0.0; H];
    for j in 0..H {
        let mut an = c.bn[j];
        for i in 0..I {
            an += c.wn[j][i] * x[i];
        }
        for i in 0..H {
            an += c.un[j][i] * rh[i];
        }
        out[j] = (1.0 - z[j]) * an.tanh() + z[j] * h[j];
    }
    out
}

/// The mean squared error of the running-sum prediction over every step of one sequence.
#[backprop(wrt(m))]
pub fn sequence_cost<const H: usize>(m: &Model<H>, xs: &[[f64; 1]; T], sums: &[f64; T]) -> f64 {
    let mut h = [0.0; H];
    let mut loss = 0.0;
    for t in 0..T {
        h = gru_cell(&m.cell, &h, &xs[t]);
        let mut y = m.bias;
        for j in 0..H {
            y += m.out[j] * h[j];
        }
        loss += (y - sums[t]).powi(2);
    }
    loss / T as f64
}

/// The same cost with the cell written inline (the flat twin the composed gradient must equal).
#[backprop(wrt(m))]
pub fn sequence_cost_flat<const H: usize>(m: &Model<H>, xs: &[[f64; 1]; T], sums: &[f64; T]) -> f64 {
    let mut h = [0.0; H];
    let mut loss = 0.0;
    for t in 0..T {
        let mut z = [0.0; H];
        let mut rh = [0.0; H];
        for j in 0..H {
            let mut az = m.cell.bz[j];
            let mut ar = m.cell.br[j];
            for i in 0..1 {
                az += m.cell.wz[j][i] * xs[t][i];
                ar += m.cell.wr[j][i] * xs[t][i];
            }
            for i in 0..H {
                az += m.cell.uz[j][i] * h[i];
                ar += m.cell.ur[j][i] * h[i];
            }
            z[j] = sigmoid(az);
            rh[j] = sigmoid(ar) * h[j];
        }
        let mut next = [0.0; H];
        for j in 0..H {
            let mut an = m.cell.bn[j];
            for i in 0..1 {
                an += m.cell.wn[j][i] * xs[t][i];
            }
            for i in 0..H {
                an += m.cell.un[j][i] * rh[i];
            }
            next[j] = (1.0 - z[j]) * an.tanh() + z[j] * h[j];
        }
        for j in 0..H {
            h[j] = next[j];
        }
        let mut y = m.bias;
        for j in 0..H {
            y += m.out[j] * h[j];
        }
        loss += (y - sums[t]).powi(2);
    }
    loss / T as f64
}

/// One sequence of the task: `T` numbers in [-0.5, 0.5] and their running sums.
#[derive(Clone, Debug)]
pub struct Sequence {
    pub xs: [[f64; 1]; T],
    pub sums: [f64; T],
}

/// `n` sequences from a seeded generator (SplitMix64), the same for the same seed.
pub fn sequences(n: usize, seed: u64) -> Vec<Sequence> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let mut s = Sequence { xs: [[0.0]; T], sums: [0.0; T] };
            let mut sum = 0.0;
            for t in 0..T {
                s.xs[t][0] = next() - 0.5;
                sum += s.xs[t][0];
                s.sums[t] = sum;
            }
            s
        })
        .collect()
}

/// A model with small weights from a seeded Glorot initialisation.
pub fn initial_model<const H: usize>(seed: u64) -> Model<H> {
    let mut m = Model {
        cell: Gru {
            wz: [[0.0; 1]; H],
            uz: [[0.0; H]; H],
            bz: [0.0; H],
            wr: [[0.0; 1]; H],
            ur: [[0.0; H]; H],
            br: [0.0; H],
            wn: [[0.0; 1]; H],
            un: [[0.0; H]; H],
            bn: [0.0; H],
        },
        out: [0.0; H],
        bias: 0.0,
    };
    backprop::runtime::init::uniform(&mut m, -0.5, 0.5, seed);
    m
}

/// The mean cost over a data set.
pub fn mean_cost<const H: usize>(m: &Model<H>, data: &[Sequence]) -> f64 {
    data.iter().map(|s| sequence_cost(m, &s.xs, &s.sums)).sum::<f64>() / data.len() as f64
}

/// The cost of one sequence and its gradient, a `Model`.
pub fn sample_grad<const H: usize>(m: &Model<H>, s: &Sequence) -> (f64, Model<H>) {
    let (c, g) = sequence_cost_grad(m, &s.xs, &s.sums);
    (c, g.m)
}
