//! The scalar type every runtime routine is generic over.
//!
//! One trait bundles the bounds that activations, kinks, optimizers and the trainer need, so
//! generated code can write `F: backprop_runtime::Float` instead of repeating eight bounds.

/// A floating-point scalar usable by generated gradients and by the runtime (`f32` and `f64`).
///
/// Besides [`num_traits::Float`] it provides lossless-enough conversions to and from `f64`
/// ([`Float::of_f64`], [`Float::as_f64`]). They exist because `num_traits` conversions return
/// `Option`, and unwrapping them would be a panic path for a conversion that cannot fail for
/// `f32`/`f64`. The names avoid clashing with `ToPrimitive::to_f64` / `FromPrimitive::from_f64`.
pub trait Float:
    num_traits::Float
    + num_traits::FloatConst
    + num_traits::NumAssign
    + std::fmt::Debug
    + std::fmt::Display
    + std::fmt::LowerExp
    + Default
    + Send
    + Sync
    + 'static
    + std::iter::Sum
{
    /// Converts an `f64` constant (rounding to nearest for `f32`).
    fn of_f64(x: f64) -> Self;
    /// Widens (or passes through) to `f64`; exact for both implementors.
    fn as_f64(self) -> f64;
}

impl Float for f64 {
    #[inline]
    fn of_f64(x: f64) -> Self {
        x
    }
    #[inline]
    fn as_f64(self) -> f64 {
        self
    }
}

impl Float for f32 {
    #[inline]
    fn of_f64(x: f64) -> Self {
        // Rounding to nearest is the documented intent of this conversion.
        x as f32
    }
    #[inline]
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

#[cfg(test)]
mod tests {
    use super::Float;

    #[test]
    fn conversions_round_trip() {
        assert_eq!(<f64 as Float>::of_f64(0.1), 0.1);
        assert_eq!(<f32 as Float>::of_f64(0.1), 0.1_f32);
        assert_eq!(0.5_f32.as_f64(), 0.5);
        assert_eq!(<f32 as Float>::of_f64(1e300), f32::INFINITY);
    }
}
