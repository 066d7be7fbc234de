//! RMSProp as PyTorch `RMSprop` computes it (no momentum, not centered):
//! `v = alpha v + (1-alpha) g^2; p -= lr g / (sqrt(v) + eps)`.

use super::{prepare, Optimizer};
use crate::error::{positive, unit_interval};
use crate::{Error, Float};

/// RMSProp with PyTorch defaults (`alpha = 0.99`, `eps = 1e-8`).
#[derive(Debug, Clone, PartialEq)]
pub struct RmsProp<F> {
    learning_rate: f64,
    alpha: f64,
    epsilon: f64,
    v: Vec<F>,
}

impl<F: Float> RmsProp<F> {
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless `learning_rate` is positive and finite.
    pub fn new(learning_rate: f64) -> Result<Self, Error> {
        Ok(Self {
            learning_rate: positive("RmsProp", "learning_rate", learning_rate)?,
            alpha: 0.99,
            epsilon: 1e-8,
            v: Vec::new(),
        })
    }

    /// Sets the decay of the squared-gradient average.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless `alpha` lies in `[0, 1)`.
    pub fn alpha(mut self, alpha: f64) -> Result<Self, Error> {
        self.alpha = unit_interval("RmsProp", "alpha", alpha)?;
        Ok(self)
    }

    /// Sets the denominator's stabiliser.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless `epsilon` is positive and finite.
    pub fn epsilon(mut self, epsilon: f64) -> Result<Self, Error> {
        self.epsilon = positive("RmsProp", "epsilon", epsilon)?;
        Ok(self)
    }
}

impl<F: Float> Optimizer<F> for RmsProp<F> {
    fn name(&self) -> &'static str {
        "RmsProp"
    }
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }
    fn step_with_lr(&mut self, params: &mut [F], grad: &[F], lr: F) -> Result<(), Error> {
        prepare("RmsProp", params, grad, &mut [&mut self.v])?;
        let (alpha, eps) = (F::of_f64(self.alpha), F::of_f64(self.epsilon));
        for ((p, &g), v) in params.iter_mut().zip(grad).zip(&mut self.v) {
            *v = alpha * *v + (F::one() - alpha) * g * g;
            *p -= lr * g / (v.sqrt() + eps);
        }
        Ok(())
    }
    fn reset(&mut self) {
        self.v.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_steps_on_a_quadratic() {
        // f(x) = 1.5 x^2 from x = 2, lr 0.01, alpha 0.99.
        // step 1: g = 6, v = 0.01*36 = 0.36, x = 2 - 0.01*6/(0.6 + 1e-8)
        let mut opt = RmsProp::new(0.01).unwrap();
        let mut x = [2.0_f64];
        opt.step(&mut x, &[6.0]).unwrap();
        let x1 = 2.0 - 0.01 * 6.0 / (0.6 + 1e-8);
        assert!((x[0] - x1).abs() < 1e-15, "{}", x[0]);
        assert!((x1 - 1.9).abs() < 1e-8);
        // step 2: g = 3 x1 = 5.7, v = 0.99*0.36 + 0.01*5.7^2 = 0.6813
        let g2 = 3.0 * x1;
        let v = 0.99 * 0.36 + 0.01 * g2 * g2;
        let x2 = x1 - 0.01 * g2 / (v.sqrt() + 1e-8);
        opt.step(&mut x, &[g2]).unwrap();
        assert!((x[0] - x2).abs() < 1e-15, "{} vs {x2}", x[0]);
        assert!((x2 - (1.9 - 0.057 / 0.6813_f64.sqrt())).abs() < 1e-8, "{x2}");
    }
}
