//! Heavy-ball momentum as in PyTorch `SGD(momentum=mu)`: `v = mu v + g; p -= lr v`.

use super::{prepare, Optimizer};
use crate::error::{positive, unit_interval};
use crate::{Error, Float};

/// Gradient descent with heavy-ball momentum.
#[derive(Debug, Clone, PartialEq)]
pub struct Momentum<F> {
    learning_rate: f64,
    momentum: f64,
    velocity: Vec<F>,
}

impl<F: Float> Momentum<F> {
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless `learning_rate` is positive and finite and
    /// `momentum` lies in `[0, 1)`.
    pub fn new(learning_rate: f64, momentum: f64) -> Result<Self, Error> {
        Ok(Self {
            learning_rate: positive("Momentum", "learning_rate", learning_rate)?,
            momentum: unit_interval("Momentum", "momentum", momentum)?,
            velocity: Vec::new(),
        })
    }
}

impl<F: Float> Optimizer<F> for Momentum<F> {
    fn name(&self) -> &'static str {
        "Momentum"
    }
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }
    fn step_with_lr(&mut self, params: &mut [F], grad: &[F], lr: F) -> Result<(), Error> {
        prepare("Momentum", params, grad, &mut [&mut self.velocity])?;
        let mu = F::of_f64(self.momentum);
        for ((p, &g), v) in params.iter_mut().zip(grad).zip(&mut self.velocity) {
            *v = mu * *v + g;
            *p -= lr * *v;
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
        // step 1: g = 6, v = 6, x = 2 - 0.6 = 1.4
        // step 2: g = 4.2, v = 0.9*6 + 4.2 = 9.6, x = 1.4 - 0.96 = 0.44
        let mut opt = Momentum::new(0.1, 0.9).unwrap();
        let mut x = [2.0_f64];
        let g = [3.0 * x[0]];
        opt.step(&mut x, &g).unwrap();
        assert!((x[0] - 1.4).abs() < 1e-15);
        let g = [3.0 * x[0]];
        opt.step(&mut x, &g).unwrap();
        assert!((x[0] - 0.44).abs() < 1e-15, "{}", x[0]);
    }

    #[test]
    fn rejects_momentum_outside_unit_interval() {
        let err = Momentum::<f64>::new(0.1, 1.0).unwrap_err();
        assert_eq!(err.to_string(), "`Momentum`: `momentum` must lie in [0, 1), got 1");
        assert!(Momentum::<f64>::new(-0.1, 0.5).is_err());
    }
}
