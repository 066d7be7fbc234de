//! Adagrad as PyTorch `Adagrad` computes it (no lr decay, zero initial accumulator):
//! `s += g^2; p -= lr g / (sqrt(s) + eps)`.

use super::{prepare, Optimizer};
use crate::error::positive;
use crate::{Error, Float};

/// Adagrad with PyTorch's default `eps = 1e-10`.
#[derive(Debug, Clone, PartialEq)]
pub struct Adagrad<F> {
    learning_rate: f64,
    epsilon: f64,
    sum_sq: Vec<F>,
}

impl<F: Float> Adagrad<F> {
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless `learning_rate` is positive and finite.
    pub fn new(learning_rate: f64) -> Result<Self, Error> {
        Ok(Self {
            learning_rate: positive("Adagrad", "learning_rate", learning_rate)?,
            epsilon: 1e-10,
            sum_sq: Vec::new(),
        })
    }

    /// Sets the denominator's stabiliser.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless `epsilon` is positive and finite.
    pub fn epsilon(mut self, epsilon: f64) -> Result<Self, Error> {
        self.epsilon = positive("Adagrad", "epsilon", epsilon)?;
        Ok(self)
    }
}

impl<F: Float> Optimizer<F> for Adagrad<F> {
    fn name(&self) -> &'static str {
        "Adagrad"
    }
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }
    fn step_with_lr(&mut self, params: &mut [F], grad: &[F], lr: F) -> Result<(), Error> {
        prepare("Adagrad", params, grad, &mut [&mut self.sum_sq])?;
        let eps = F::of_f64(self.epsilon);
        for ((p, &g), s) in params.iter_mut().zip(grad).zip(&mut self.sum_sq) {
            *s += g * g;
            *p -= lr * g / (s.sqrt() + eps);
        }
        Ok(())
    }
    fn reset(&mut self) {
        self.sum_sq.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_steps_on_a_quadratic() {
        // f(x) = 1.5 x^2 from x = 2, lr 0.5.
        // step 1: g = 6, s = 36, x = 2 - 0.5*6/6 = 1.5 (eps 1e-10 shifts it by ~1e-11)
        // step 2: g = 4.5, s = 56.25, x = 1.5 - 0.5*4.5/7.5 = 1.2
        let mut opt = Adagrad::new(0.5).unwrap();
        let mut x = [2.0_f64];
        let g = [3.0 * x[0]];
        opt.step(&mut x, &g).unwrap();
        assert!((x[0] - 1.5).abs() < 1e-10, "{}", x[0]);
        let g = [3.0 * x[0]];
        opt.step(&mut x, &g).unwrap();
        assert!((x[0] - 1.2).abs() < 1e-10, "{}", x[0]);
    }
}
