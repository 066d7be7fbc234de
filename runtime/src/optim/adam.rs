//! Adam (Kingma & Ba) with bias correction, as PyTorch `Adam` computes it:
//! `m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr m_hat / (sqrt(v_hat) + eps)`.

use super::{prepare, Optimizer};
use crate::error::{positive, unit_interval};
use crate::{Error, Float};

/// Adam with PyTorch defaults (`beta1 = 0.9`, `beta2 = 0.999`, `eps = 1e-8`).
#[derive(Debug, Clone, PartialEq)]
pub struct Adam<F> {
    learning_rate: f64,
    beta1: f64,
    beta2: f64,
    epsilon: f64,
    m: Vec<F>,
    v: Vec<F>,
    t: u64,
}

impl<F: Float> Adam<F> {
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless `learning_rate` is positive and finite.
    pub fn new(learning_rate: f64) -> Result<Self, Error> {
        Ok(Self {
            learning_rate: positive("Adam", "learning_rate", learning_rate)?,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            m: Vec::new(),
            v: Vec::new(),
            t: 0,
        })
    }

    /// Sets the decay rates of the first and second moment estimates.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless both lie in `[0, 1)`.
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Result<Self, Error> {
        self.beta1 = unit_interval("Adam", "beta1", beta1)?;
        self.beta2 = unit_interval("Adam", "beta2", beta2)?;
        Ok(self)
    }

    /// Sets the denominator's stabiliser.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] unless `epsilon` is positive and finite.
    pub fn epsilon(mut self, epsilon: f64) -> Result<Self, Error> {
        self.epsilon = positive("Adam", "epsilon", epsilon)?;
        Ok(self)
    }

    /// The number of steps taken since construction or the last reset.
    pub fn steps_taken(&self) -> u64 {
        self.t
    }
}

impl<F: Float> Optimizer<F> for Adam<F> {
    fn name(&self) -> &'static str {
        "Adam"
    }
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }
    fn step_with_lr(&mut self, params: &mut [F], grad: &[F], lr: F) -> Result<(), Error> {
        prepare("Adam", params, grad, &mut [&mut self.m, &mut self.v])?;
        self.t += 1;
        // Bias corrections in f64: `beta^t` for large `t` is where f32 would lose the most.
        let t = self.t as f64;
        let bc1 = F::of_f64(1.0 - self.beta1.powf(t));
        let bc2 = F::of_f64(1.0 - self.beta2.powf(t));
        let (b1, b2, eps) = (F::of_f64(self.beta1), F::of_f64(self.beta2), F::of_f64(self.epsilon));
        for (((p, &g), m), v) in params.iter_mut().zip(grad).zip(&mut self.m).zip(&mut self.v) {
            *m = b1 * *m + (F::one() - b1) * g;
            *v = b2 * *v + (F::one() - b2) * g * g;
            let m_hat = *m / bc1;
            let v_hat = *v / bc2;
            *p -= lr * m_hat / (v_hat.sqrt() + eps);
        }
        Ok(())
    }
    fn reset(&mut self) {
        self.m.clear();
        self.v.clear();
        self.t = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_steps_on_a_quadratic() {
        // f(x) = 1.5 x^2 from x = 2, lr 0.1, defaults. With bias correction, the first step has
        // m_hat = g and v_hat = g^2, so it moves by lr * g/(|g| + eps).
        let mut opt = Adam::new(0.1).unwrap();
        let mut x = [2.0_f64];
        let g1 = 6.0;
        let g = [3.0 * x[0]];
        opt.step(&mut x, &g).unwrap();
        let x1 = 2.0 - 0.1 * 6.0 / (6.0 + 1e-8);
        assert!((x[0] - x1).abs() < 1e-15, "{}", x[0]);
        // Step 2, written out from the definitions.
        let g2 = 3.0 * x1;
        let m = 0.9 * (0.1 * g1) + 0.1 * g2;
        let v = 0.999 * (0.001 * g1 * g1) + 0.001 * g2 * g2;
        let m_hat = m / (1.0 - 0.9_f64 * 0.9);
        let v_hat = v / (1.0 - 0.999_f64 * 0.999);
        let x2 = x1 - 0.1 * m_hat / (v_hat.sqrt() + 1e-8);
        opt.step(&mut x, &[g2]).unwrap();
        assert!((x[0] - x2).abs() < 1e-14, "{} vs {x2}", x[0]);
        // The hand computation on paper: x1 = 1.9, g2 = 5.7, m_hat = 1.11/0.19,
        // v_hat = 0.068454/0.001999, so x2 = 1.9 - 0.1 * 0.99834... = 1.800166...
        assert!((x2 - 1.800166).abs() < 1e-6, "{x2}");
        assert_eq!(opt.steps_taken(), 2);
    }

    #[test]
    fn validates_betas_and_epsilon() {
        let err = Adam::<f64>::new(0.1).unwrap().betas(0.9, 1.5).unwrap_err();
        assert_eq!(err.to_string(), "`Adam`: `beta2` must lie in [0, 1), got 1.5");
        assert!(Adam::<f64>::new(0.1).unwrap().epsilon(0.0).is_err());
        assert!(Adam::<f32>::new(-0.1).is_err());
    }
}
