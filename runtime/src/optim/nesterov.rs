//! Nesterov momentum in PyTorch's form (`SGD(momentum=mu, nesterov=True)`):
//! `v = mu v + g; p -= lr (g + mu v)`, i.e. the look-ahead is folded into the update.

use super::{prepare, Optimizer};
use crate::error::{positive, unit_interval};
use crate::{Error, Float};

/// Gradient descent with Nesterov momentum.
#[derive(Debug, Clone, PartialEq)]
pub struct Nesterov<F> {
    learning_rate: f64,
    momentum: f64,
    velocity: Vec<F>,
}

impl<F: Float> Nesterov<F> {
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless `learning_rate` is positive and finite and
    /// `momentum` lies in `[0, 1)`.
    pub fn new(learning_rate: f64, momentum: f64) -> Result<Self, Error> {
        Ok(Self {
            learning_rate: positive("Nesterov", "learning_rate", learning_rate)?,
            momentum: unit_interval("Nesterov", "momentum", momentum)?,
            velocity: Vec::new(),
        })
    }
}

impl<F: Float> Optimizer<F> for Nesterov<F> {
    fn name(&self) -> &'static str {
        "Nesterov"
    }
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }
    fn step_with_lr(&mut self, params: &mut [F], grad: &[F], lr: F) -> Result<(), Error> {
        prepare("Nesterov", params, grad, &mut [&mut self.velocity])?;
        let mu = F::of_f64(self.momentum);
        for ((p, &g), v) in params.iter_mut().zip(grad).zip(&mut self.velocity) {
            *v = mu * *v + g;
            *p -= lr * (g + mu * *v);
        }
        Ok(())
    }
    fn reset(&mut self) {
        self.velocity.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_steps_on_a_quadratic() {
        // f(x) = 1.5 x^2 from x = 2, lr 0.1, mu 0.9.
        // step 1: g = 6, v = 6, x = 2 - 0.1*(6 + 5.4) = 0.86
        // step 2: g = 2.58, v = 5.4 + 2.58 = 7.98, x = 0.86 - 0.1*(2.58 + 7.182) = -0.1162
        let mut opt = Nesterov::new(0.1, 0.9).unwrap();
        let mut x = [2.0_f64];
        let g = [3.0 * x[0]];
        opt.step(&mut x, &g).unwrap();
        assert!((x[0] - 0.86).abs() < 1e-15, "{}", x[0]);
        let g = [3.0 * x[0]];
        opt.step(&mut x, &g).unwrap();
        assert!((x[0] + 0.1162).abs() < 1e-15, "{}", x[0]);
    }
}
