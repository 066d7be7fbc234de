//! Plain gradient descent: `p -= lr * g` (PyTorch `SGD` without momentum).

use super::{prepare, Optimizer};
use crate::error::positive;
use crate::{Error, Float};

/// Plain gradient descent, stateless.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientDescent {
    learning_rate: f64,
}

impl GradientDescent {
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless `learning_rate` is positive and finite.
    pub fn new(learning_rate: f64) -> Result<Self, Error> {
        Ok(Self { learning_rate: positive("GradientDescent", "learning_rate", learning_rate)? })
    }
}

impl<F: Float> Optimizer<F> for GradientDescent {
    fn name(&self) -> &'static str {
        "GradientDescent"
    }
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }
    fn step_with_lr(&mut self, params: &mut [F], grad: &[F], lr: F) -> Result<(), Error> {
        prepare("GradientDescent", params, grad, &mut [])?;
        for (p, &g) in params.iter_mut().zip(grad) {
            *p -= lr * g;
        }
        Ok(())
    }
    fn reset(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_steps_on_a_quadratic() {
        // f(x) = 1.5 x^2, f' = 3x, from x = 2 with lr 0.1: x1 = 2 - 0.1*6 = 1.4, x2 = 1.4 - 0.42.
        let mut opt = GradientDescent::new(0.1).unwrap();
        let mut x = [2.0_f64];
        let g = [3.0 * x[0]];
        opt.step(&mut x, &g).unwrap();
        assert!((x[0] - 1.4).abs() < 1e-15);
        let g = [3.0 * x[0]];
        opt.step(&mut x, &g).unwrap();
        assert!((x[0] - 0.98).abs() < 1e-15);
    }

    #[test]
    fn rejects_non_positive_rates() {
        for lr in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(GradientDescent::new(lr).is_err(), "{lr}");
        }
    }
}
