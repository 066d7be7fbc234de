//! Optimizers behind one trait. Each works on the flat view of the parameters (see
//! [`Params`]), so it updates scalars, arrays and generated gradient structs alike.
//!
//! Update rules and defaults follow `torch.optim`, so hyper-parameters carry over from PyTorch
//! code unchanged. Constructors validate their settings and return errors naming the setting.

mod adagrad;
mod adam;
mod adamw;
mod gradient_descent;
mod momentum;
mod nesterov;
mod rmsprop;

pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamw::AdamW;
pub use gradient_descent::GradientDescent;
pub use momentum::Momentum;
pub use nesterov::Nesterov;
pub use rmsprop::RmsProp;

use crate::params::{copy_from_slice, to_vec, Params};
use crate::{Error, Float};

/// A first-order optimizer: turns a gradient into a parameter update, keeping whatever state
/// (velocities, moment estimates) it needs between steps.
///
/// Implementors only write [`Optimizer::step_with_lr`]; the learning rate is passed in so that a
/// [`Schedule`](crate::Schedule) can vary it without mutating the optimizer's configuration.
pub trait Optimizer<F: Float> {
    /// Short name used in error messages, e.g. "Adam".
    fn name(&self) -> &'static str;

    /// The configured (base) learning rate.
    fn learning_rate(&self) -> f64;

    /// Updates `params` in place from `grad` using learning rate `lr` for this step.
    ///
    /// `params` and `grad` are flat views of equal length. State is sized on the first call.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the lengths differ from each other or from the state built
    /// on earlier steps (call [`Optimizer::reset`] before reusing an optimizer on other
    /// parameters).
    fn step_with_lr(&mut self, params: &mut [F], grad: &[F], lr: F) -> Result<(), Error>;

    /// Forgets all state (moments, velocities, step count); the configuration is kept.
    fn reset(&mut self);

    /// [`Optimizer::step_with_lr`] at the configured learning rate.
    fn step(&mut self, params: &mut [F], grad: &[F]) -> Result<(), Error> {
        let lr = F::of_f64(self.learning_rate());
        self.step_with_lr(params, grad, lr)
    }

    /// One step on structured parameters, with a gradient of the same shape.
    fn step_params<P: Params<Scalar = F>>(&mut self, params: &mut P, grad: &P) -> Result<(), Error>
    where
        Self: Sized,
    {
        let mut flat = to_vec(params);
        self.step(&mut flat, &to_vec(grad))?;
        copy_from_slice(params, &flat)
    }
}

impl<F: Float, O: Optimizer<F> + ?Sized> Optimizer<F> for Box<O> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn learning_rate(&self) -> f64 {
        (**self).learning_rate()
    }
    fn step_with_lr(&mut self, params: &mut [F], grad: &[F], lr: F) -> Result<(), Error> {
        (**self).step_with_lr(params, grad, lr)
    }
    fn reset(&mut self) {
        (**self).reset()
    }
}

/// Checks `params`/`grad` lengths and sizes each state vector on first use.
///
/// Shared by every optimizer so the shape rules (and their messages) are the same everywhere.
pub(crate) fn prepare<F: Float>(
    name: &'static str,
    params: &[F],
    grad: &[F],
    states: &mut [&mut Vec<F>],
) -> Result<(), Error> {
    if grad.len() != params.len() {
        return Err(Error::ShapeMismatch {
            context: format!("{name} step (gradient vs parameters)"),
            expected: params.len(),
            found: grad.len(),
        });
    }
    for state in states.iter_mut() {
        if state.is_empty() {
            state.resize(params.len(), F::zero());
        } else if state.len() != params.len() {
            return Err(Error::ShapeMismatch {
                context: format!("{name} step (parameters vs optimizer state; call reset)"),
                expected: state.len(),
                found: params.len(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxed_optimizers_and_structured_params() {
        let mut opt: Box<dyn Optimizer<f64>> = Box::new(GradientDescent::new(0.5).unwrap());
        let mut p = (1.0, [2.0, 3.0]);
        opt.step_params(&mut p, &(2.0, [2.0, -2.0])).unwrap();
        assert_eq!(p, (0.0, [1.0, 4.0]));
        assert_eq!(opt.name(), "GradientDescent");
    }

    #[test]
    fn state_shape_is_checked() {
        let mut opt = Momentum::new(0.1, 0.9).unwrap();
        let mut p = vec![1.0, 2.0];
        opt.step(&mut p, &[1.0, 1.0]).unwrap();
        let mut q = vec![1.0, 2.0, 3.0];
        let err = opt.step(&mut q, &[1.0, 1.0, 1.0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "shape mismatch in Momentum step (parameters vs optimizer state; call reset): \
             expected 2 scalars, found 3"
        );
        opt.reset();
        opt.step(&mut q, &[1.0, 1.0, 1.0]).unwrap();
        let err = opt.step(&mut q, &[1.0]).unwrap_err();
        assert!(err.to_string().contains("expected 3 scalars, found 1"), "{err}");
    }
}
