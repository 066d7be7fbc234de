//! `lstm`: ADBench's LSTM with diagonal weights. Parameters flat as the eval's `jacobian` output
//! wants them: `main_params` rows (per layer: weights forget/ingate/outgate/change, then biases, each
//! of `b`), then `extra_params` rows (input weight, output weight, output bias). The loss is
//! `−Σₜ Σᵢ y_{t+1,i} (ŷ_{t,i} − ln(Σ exp ŷ_t + 2)) / ((c − 1) b)`.

#![allow(clippy::needless_range_loop, clippy::too_many_arguments)]

use backprop::prelude::*;

#[backprop(wrt(main, extra))]
pub fn objective(main: &[f64], extra: &[f64], state: &[f64], seq: &[f64], l: usize, c: usize, b: usize) -> f64 {
    let mut st = state.to_vec();
    let mut ypred = vec![0.0; b];
    let mut total = 0.0;
    for t in 0..c - 1 {
        for li in 0..l {
            let w = 8 * b * li;
            let hs = 2 * b * li;
            for i in 0..b {
                // The layer's input: the scaled character for the first layer, else the hidden
                // state the layer below just computed.
                let input = if li == 0 { seq[t * b + i] * extra[i] } else { st[hs - 2 * b + i] };
                let hidden = st[hs + i];
                let forget = sigmoid(input * main[w + i] + main[w + 4 * b + i]);
                let ingate = sigmoid(hidden * main[w + b + i] + main[w + 5 * b + i]);
                let outgate = sigmoid(input * main[w + 2 * b + i] + main[w + 6 * b + i]);
                let change = (hidden * main[w + 3 * b + i] + main[w + 7 * b + i]).tanh();
                let cell = st[hs + b + i] * forget + ingate * change;
                st[hs + b + i] = cell;
                st[hs + i] = outgate * cell.tanh();
            }
        }
        let top = 2 * b * (l - 1);
        let mut sum = 0.0;
        for i in 0..b {
            ypred[i] = st[top + i] * extra[b + i] + extra[2 * b + i];
            sum += ypred[i].exp();
        }
        let lse = (sum + 2.0).ln();
        for i in 0..b {
            total += seq[(t + 1) * b + i] * (ypred[i] - lse);
        }
    }
    -total / (((c - 1) * b) as f64)
}

/// The parsed input, flat row after row.
pub struct Input {
    pub l: usize,
    pub c: usize,
    pub b: usize,
    pub main: Vec<f64>,
    pub extra: Vec<f64>,
    pub state: Vec<f64>,
    pub seq: Vec<f64>,
}

impl Input {
    pub fn objective(&self) -> f64 {
        objective(&self.main, &self.extra, &self.state, &self.seq, self.l, self.c, self.b)
    }

    /// The gradient of `main_params` then `extra_params`, concatenated.
    pub fn jacobian(&self) -> Vec<f64> {
        let g = objective_grad(&self.main, &self.extra, &self.state, &self.seq, self.l, self.c, self.b).1;
        let mut out = g.main;
        out.extend(g.extra);
        out
    }
}
