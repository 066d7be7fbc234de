//! Gradient clipping by global norm (PyTorch `clip_grad_norm_`, optax `clip_by_global_norm`):
//! the whole gradient is rescaled, so its direction is kept.

use crate::params::slice_norm;
use crate::Float;

/// Rescales `grad` so its Euclidean norm is at most `max_norm`; returns the norm before
/// clipping (what is worth logging).
///
/// A non-finite norm leaves `grad` unchanged: the trainer reports non-finite gradients as
/// errors, and scaling by `max_norm / inf` would silently zero them instead.
pub fn clip_global_norm<F: Float>(grad: &mut [F], max_norm: F) -> F {
    let norm = slice_norm(grad);
    if norm.is_finite() && norm > max_norm {
        let scale = max_norm / norm;
        for g in grad.iter_mut() {
            *g *= scale;
        }
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_long_gradients_and_keeps_short_ones() {
        let mut g = [3.0_f64, 4.0];
        assert_eq!(clip_global_norm(&mut g, 1.0), 5.0);
        assert!((g[0] - 0.6).abs() < 1e-15 && (g[1] - 0.8).abs() < 1e-15);
        let mut h = [0.3_f32, 0.4];
        assert_eq!(clip_global_norm(&mut h, 1.0), 0.5);
        assert_eq!(h, [0.3, 0.4]);
        let mut bad = [f64::NAN, 1.0];
        assert!(clip_global_norm(&mut bad, 1.0).is_nan());
        assert_eq!(bad[1], 1.0);
    }
}
