//! Real views for passive calls: a `#[backprop]` body may call a plain function for an integer or
//! a `bool` (`let j: usize = nearest(p, c, i);`), whose result carries no derivative. The call is
//! made as written, with real numbers: in the `f64` code its arguments are passed as they are
//! (the views below borrow), and in the code re-printed over a dual type (`_hvp`, forward mode,
//! `_jacobian`'s lanes) each float is its value part, each array of floats a copy of its values.
//! The generated code takes the copy of an argument array once per call of the generated
//! function, not once per passive call.

use crate::dual::Dual64;
use crate::dual2::DualDual64;
use crate::dual_lanes::Dual64x4;
use std::borrow::Cow;

/// A float's value part: `f64` and `f32` themselves, a dual number's `re` (all the way down).
pub trait RealValue: Copy {
    /// The plain float the value part is.
    type Real: Copy;
    /// The value part.
    fn real_value(self) -> Self::Real;
}

impl RealValue for f64 {
    type Real = f64;
    #[inline(always)]
    fn real_value(self) -> f64 {
        self
    }
}

impl RealValue for f32 {
    type Real = f32;
    #[inline(always)]
    fn real_value(self) -> f32 {
        self
    }
}

impl RealValue for Dual64 {
    type Real = f64;
    #[inline(always)]
    fn real_value(self) -> f64 {
        self.re
    }
}

impl RealValue for DualDual64 {
    type Real = f64;
    #[inline(always)]
    fn real_value(self) -> f64 {
        self.re.re
    }
}

impl RealValue for Dual64x4 {
    type Real = f64;
    #[inline(always)]
    fn real_value(self) -> f64 {
        self.re
    }
}

impl<T: RealValue, const N: usize> RealValue for [T; N] {
    type Real = [T::Real; N];
    #[inline(always)]
    fn real_value(self) -> [T::Real; N] {
        self.map(T::real_value)
    }
}

/// The value part of a float argument of a passive call (the identity on `f64` and `f32`).
#[inline(always)]
pub fn real_value<T: RealValue>(x: T) -> T::Real {
    x.real_value()
}

/// An array of floats as the plain floats a passive call takes: borrowed when it holds `f64` or
/// `f32` (no copy), its value parts copied when it holds dual numbers.
pub trait RealView {
    /// The plain array: `[f64]`, `[f64; N]`, `[[f64; N]]`, ...
    type Real: ?Sized + ToOwned;
    /// The values, borrowed or copied.
    fn real_view(&self) -> Cow<'_, Self::Real>;
}

/// Plain floats and arrays of them: borrowed.
macro_rules! borrowed {
    ($($t:ty),*) => {$(
        impl RealView for [$t] {
            type Real = [$t];
            #[inline(always)]
            fn real_view(&self) -> Cow<'_, [$t]> {
                Cow::Borrowed(self)
            }
        }
        impl<const N: usize> RealView for [$t; N] {
            type Real = [$t; N];
            #[inline(always)]
            fn real_view(&self) -> Cow<'_, [$t; N]> {
                Cow::Borrowed(self)
            }
        }
        impl<const N: usize> RealView for [[$t; N]] {
            type Real = [[$t; N]];
            #[inline(always)]
            fn real_view(&self) -> Cow<'_, [[$t; N]]> {
                Cow::Borrowed(self)
            }
        }
        impl<const N: usize, const M: usize> RealView for [[$t; N]; M] {
            type Real = [[$t; N]; M];
            #[inline(always)]
            fn real_view(&self) -> Cow<'_, [[$t; N]; M]> {
                Cow::Borrowed(self)
            }
        }
    )*};
}

borrowed!(f64, f32);

/// Dual numbers and arrays of them: their value parts, copied.
macro_rules! copied {
    ($($t:ty),*) => {$(
        impl RealView for [$t] {
            type Real = [f64];
            fn real_view(&self) -> Cow<'_, [f64]> {
                Cow::Owned(self.iter().map(|x| x.real_value()).collect())
            }
        }
        impl<const N: usize> RealView for [$t; N] {
            type Real = [f64; N];
            fn real_view(&self) -> Cow<'_, [f64; N]> {
                Cow::Owned(self.map(RealValue::real_value))
            }
        }
        impl<const N: usize> RealView for [[$t; N]] {
            type Real = [[f64; N]];
            fn real_view(&self) -> Cow<'_, [[f64; N]]> {
                Cow::Owned(self.iter().map(|row| row.real_value()).collect())
            }
        }
        impl<const N: usize, const M: usize> RealView for [[$t; N]; M] {
            type Real = [[f64; N]; M];
            fn real_view(&self) -> Cow<'_, [[f64; N]; M]> {
                Cow::Owned(self.real_value())
            }
        }
    )*};
}

copied!(Dual64, DualDual64, Dual64x4);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_arrays_are_borrowed_and_dual_arrays_copied_to_their_values() {
        let x = [1.5, -2.0];
        assert!(matches!(x[..].real_view(), Cow::Borrowed(v) if std::ptr::eq(v, &x[..])));
        let duals = [Dual64 { re: 1.5, eps: 3.0 }, Dual64 { re: -2.0, eps: 1.0 }];
        assert_eq!(&*duals[..].real_view(), &x[..]);
        let nested = [[DualDual64 { re: Dual64 { re: 0.25, eps: 1.0 }, eps: Dual64 { re: 2.0, eps: 0.0 } }; 2]; 3];
        assert_eq!(*nested.real_view(), [[0.25; 2]; 3]);
        let lanes = [Dual64x4 { re: 7.0, eps: [1.0; 4] }];
        assert_eq!(*lanes.real_view(), [7.0]);
        assert_eq!(real_value(Dual64 { re: 4.0, eps: 9.0 }), 4.0);
        assert_eq!(real_value(2.5f32), 2.5f32);
    }
}
