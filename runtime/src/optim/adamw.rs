//! AdamW (Loshchilov & Hutter): Adam with weight decay decoupled from the gradient, as PyTorch
//! `AdamW` applies it: `p -= lr * wd * p`, then the Adam update.

use super::{Adam, Optimizer};
use crate::error::non_negative;
use crate::{Error, Float};

/// AdamW with PyTorch defaults (`weight_decay = 0.01`, Adam's betas and epsilon).
#[derive(Debug, Clone, PartialEq)]
pub struct AdamW<F> {
    adam: Adam<F>,
    weight_decay: f64,
}

impl<F: Float> AdamW<F> {
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless `learning_rate` is positive and finite.
    pub fn new(learning_rate: f64) -> Result<Self, Error> {
        Ok(Self { adam: Adam::new(learning_rate)?, weight_decay: 0.01 })
    }

    /// Sets the decoupled weight decay coefficient.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless `weight_decay` is finite and non-negative.
    pub fn weight_decay(mut self, weight_decay: f64) -> Result<Self, Error> {
        self.weight_decay = non_negative("AdamW", "weight_decay", weight_decay)?;
        Ok(self)
    }

    /// See [`Adam::betas`].
    ///
    /// # Errors
    /// As [`Adam::betas`].
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Result<Self, Error> {
        self.adam = self.adam.betas(beta1, beta2)?;
        Ok(self)
    }

    /// See [`Adam::epsilon`].
    ///
    /// # Errors
    /// As [`Adam::epsilon`].
    pub fn epsilon(mut self, epsilon: f64) -> Result<Self, Error> {
        self.adam = self.adam.epsilon(epsilon)?;
        Ok(self)
    }
}

impl<F: Float> Optimizer<F> for AdamW<F> {
    fn name(&self) -> &'static str {
        "AdamW"
    }
    fn learning_rate(&self) -> f64 {
        self.adam.learning_rate()
    }
    fn step_with_lr(&mut self, params: &mut [F], grad: &[F], lr: F) -> Result<(), Error> {
        if grad.len() != params.len() {
            // Checked here too so that a bad call leaves `params` untouched by the decay.
            return Err(Error::ShapeMismatch {
                context: "AdamW step (gradient vs parameters)".into(),
                expected: params.len(),
                found: grad.len(),
            });
        }
        // Decay scales with the scheduled rate, as in PyTorch, so a schedule also anneals it.
        let shrink = F::one() - lr * F::of_f64(self.weight_decay);
        for p in params.iter_mut() {
            *p *= shrink;
        }
        self.adam.step_with_lr(params, grad, lr)
    }
    fn reset(&mut self) {
        self.adam.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_steps_on_a_quadratic() {
        // f(x) = 1.5 x^2 from x = 2, lr 0.1, weight decay 0.5 (large, to be visible).
        let mut opt = AdamW::new(0.1).unwrap().weight_decay(0.5).unwrap();
        let mut x = [2.0_f64];
        // Step 1: decay 2 -> 2*(1 - 0.05) = 1.9, then Adam's first step of -0.1*6/(6+eps).
        let g1 = 6.0;
        opt.step(&mut x, &[g1]).unwrap();
        let x1 = 1.9 - 0.1 * g1 / (g1 + 1e-8);
        assert!((x[0] - x1).abs() < 1e-15, "{}", x[0]);
        // Step 2: gradient at x1 (not at the decayed point), decay, then bias-corrected Adam.
        let g2 = 3.0 * x1;
        let m_hat = (0.9 * 0.1 * g1 + 0.1 * g2) / (1.0 - 0.81);
        let v_hat = (0.999 * 0.001 * g1 * g1 + 0.001 * g2 * g2) / (1.0 - 0.999 * 0.999);
        let x2 = x1 * 0.95 - 0.1 * m_hat / (v_hat.sqrt() + 1e-8);
        opt.step(&mut x, &[g2]).unwrap();
        assert!((x[0] - x2).abs() < 1e-14, "{} vs {x2}", x[0]);
    }

    #[test]
    fn rejects_negative_decay() {
        let err = AdamW::<f64>::new(0.1).unwrap().weight_decay(-1.0).unwrap_err();
        assert_eq!(err.to_string(), "`AdamW`: `weight_decay` must be non-negative and finite, got -1");
    }
}
