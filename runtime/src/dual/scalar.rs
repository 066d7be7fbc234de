//! The traits `Dual64` and `dual2::DualDual64` implement alike, written once: comparisons of the
//! values, the mixed operations with `f64`, `Sum`, num-traits' `Zero`/`One`/`Num`/`ToPrimitive`/
//! `NumCast`/`FloatConst`/`Float` (forwarding to each type's inherent methods), the runtime's `Float`
//! and `ZerosLike`. Each type supplies `c`, `value`, `both_zero`, its constants, its arithmetic and
//! its inherent float methods.

/// Mixed operations of `$t` with a plain `f64` (an integer cast, a `std` constant): the constant
/// lifted by `c`, except products and quotients by it, which scale every part (`$t::scaled`,
/// `$t::divided`: the same value bit for bit, without multiplying the constant's zero tangents).
macro_rules! mixed_ops {
    ($t:ident; scaled $($tr:ident $m:ident $tra:ident $ma:ident),*) => {
        $crate::dual::mixed_ops!($t; $($tr $m $tra $ma),*);
        impl ::core::ops::Mul<f64> for $t {
            type Output = $t;
            #[inline]
            fn mul(self, o: f64) -> $t {
                self.scaled(o)
            }
        }
        impl ::core::ops::Mul<$t> for f64 {
            type Output = $t;
            #[inline]
            fn mul(self, o: $t) -> $t {
                o.scaled(self)
            }
        }
        impl ::core::ops::MulAssign for $t {
            #[inline]
            fn mul_assign(&mut self, o: $t) {
                *self = *self * o;
            }
        }
        impl ::core::ops::MulAssign<f64> for $t {
            #[inline]
            fn mul_assign(&mut self, o: f64) {
                *self = self.scaled(o);
            }
        }
        impl ::core::ops::Div<f64> for $t {
            type Output = $t;
            #[inline]
            fn div(self, o: f64) -> $t {
                self.divided(o)
            }
        }
        impl ::core::ops::Div<$t> for f64 {
            type Output = $t;
            #[inline]
            fn div(self, o: $t) -> $t {
                $t::c(self) / o
            }
        }
        impl ::core::ops::DivAssign for $t {
            #[inline]
            fn div_assign(&mut self, o: $t) {
                *self = *self / o;
            }
        }
        impl ::core::ops::DivAssign<f64> for $t {
            #[inline]
            fn div_assign(&mut self, o: f64) {
                *self = self.divided(o);
            }
        }
    };
    ($t:ident; $($tr:ident $m:ident $tra:ident $ma:ident),*) => {$(
        impl ::core::ops::$tr<f64> for $t {
            type Output = $t;
            #[inline]
            fn $m(self, o: f64) -> $t {
                self.$m($t::c(o))
            }
        }
        impl ::core::ops::$tr<$t> for f64 {
            type Output = $t;
            #[inline]
            fn $m(self, o: $t) -> $t {
                $t::c(self).$m(o)
            }
        }
        impl ::core::ops::$tra for $t {
            #[inline]
            fn $ma(&mut self, o: $t) {
                *self = (*self).$m(o);
            }
        }
        impl ::core::ops::$tra<f64> for $t {
            #[inline]
            fn $ma(&mut self, o: f64) {
                *self = (*self).$m($t::c(o));
            }
        }
    )*};
}
pub(crate) use mixed_ops;

/// `FloatConst` from `f64`'s constants.
macro_rules! float_consts {
    ($t:ident; $($name:ident),*) => {
        impl ::num_traits::FloatConst for $t {
            $(fn $name() -> Self { Self::c(<f64 as ::num_traits::FloatConst>::$name()) })*
        }
    };
}
pub(crate) use float_consts;

/// `num_traits::Float` methods that are the inherent ones of the same name.
macro_rules! forward_methods {
    ($t:ident; $($m:ident($($a:ident),*)),*) => {$(
        fn $m(self $(, $a: Self)*) -> Self {
            $t::$m(self $(, $a)*)
        }
    )*};
}
pub(crate) use forward_methods;

/// Every trait of the module doc for the dual type `$t`.
macro_rules! scalar_traits {
    ($t:ident) => {
        impl PartialEq for $t {
            /// The values only, as the `f64` code compares.
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                self.value() == other.value()
            }
        }

        impl PartialOrd for $t {
            #[inline]
            fn partial_cmp(&self, other: &Self) -> Option<::core::cmp::Ordering> {
                self.value().partial_cmp(&other.value())
            }
        }

        impl PartialEq<f64> for $t {
            #[inline]
            fn eq(&self, other: &f64) -> bool {
                self.value() == *other
            }
        }

        impl PartialOrd<f64> for $t {
            #[inline]
            fn partial_cmp(&self, other: &f64) -> Option<::core::cmp::Ordering> {
                self.value().partial_cmp(other)
            }
        }

        $crate::dual::mixed_ops!($t; scaled Add add AddAssign add_assign, Sub sub SubAssign sub_assign,
            Rem rem RemAssign rem_assign);

        impl ::core::iter::Sum for $t {
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(Self::c(-0.0), |a, b| a + b)
            }
        }

        impl<'a> ::core::iter::Sum<&'a $t> for $t {
            fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
                iter.fold(Self::c(-0.0), |a, b| a + *b)
            }
        }

        impl ::num_traits::Zero for $t {
            fn zero() -> Self {
                Self::c(0.0)
            }
            fn is_zero(&self) -> bool {
                self.both_zero()
            }
        }

        impl ::num_traits::One for $t {
            fn one() -> Self {
                Self::c(1.0)
            }
        }

        impl ::num_traits::Num for $t {
            type FromStrRadixErr = <f64 as ::num_traits::Num>::FromStrRadixErr;
            fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
                <f64 as ::num_traits::Num>::from_str_radix(s, radix).map(Self::c)
            }
        }

        impl ::num_traits::ToPrimitive for $t {
            fn to_i64(&self) -> Option<i64> {
                ::num_traits::ToPrimitive::to_i64(&self.value())
            }
            fn to_u64(&self) -> Option<u64> {
                ::num_traits::ToPrimitive::to_u64(&self.value())
            }
            fn to_f64(&self) -> Option<f64> {
                Some(self.value())
            }
        }

        impl ::num_traits::NumCast for $t {
            fn from<T: ::num_traits::ToPrimitive>(n: T) -> Option<Self> {
                n.to_f64().map(Self::c)
            }
        }

        $crate::dual::float_consts!($t; E, FRAC_1_PI, FRAC_1_SQRT_2, FRAC_2_PI, FRAC_2_SQRT_PI, FRAC_PI_2, FRAC_PI_3, FRAC_PI_4, FRAC_PI_6, FRAC_PI_8, LN_10, LN_2, LOG10_E, LOG2_E, PI, SQRT_2);

        impl ::num_traits::Float for $t {
            fn nan() -> Self {
                Self::NAN
            }
            fn infinity() -> Self {
                Self::INFINITY
            }
            fn neg_infinity() -> Self {
                Self::NEG_INFINITY
            }
            fn neg_zero() -> Self {
                Self::c(-0.0)
            }
            fn min_value() -> Self {
                Self::MIN
            }
            fn min_positive_value() -> Self {
                Self::MIN_POSITIVE
            }
            fn max_value() -> Self {
                Self::MAX
            }
            fn epsilon() -> Self {
                Self::EPSILON
            }
            fn is_nan(self) -> bool {
                self.value().is_nan()
            }
            fn is_infinite(self) -> bool {
                self.value().is_infinite()
            }
            fn is_finite(self) -> bool {
                self.value().is_finite()
            }
            fn is_normal(self) -> bool {
                self.value().is_normal()
            }
            fn classify(self) -> ::core::num::FpCategory {
                self.value().classify()
            }
            fn is_sign_positive(self) -> bool {
                self.value().is_sign_positive()
            }
            fn is_sign_negative(self) -> bool {
                self.value().is_sign_negative()
            }
            fn powi(self, n: i32) -> Self {
                $t::powi(self, n)
            }
            fn abs_sub(self, other: Self) -> Self {
                if self.value() <= other.value() {
                    Self::c(0.0)
                } else {
                    self - other
                }
            }
            fn sin_cos(self) -> (Self, Self) {
                $t::sin_cos(self)
            }
            fn integer_decode(self) -> (u64, i16, i8) {
                self.value().integer_decode()
            }
            $crate::dual::forward_methods!($t;
                floor(),
                ceil(),
                round(),
                trunc(),
                fract(),
                abs(),
                signum(),
                mul_add(a, b),
                recip(),
                powf(n),
                sqrt(),
                exp(),
                exp2(),
                ln(),
                log(base),
                log2(),
                log10(),
                max(other),
                min(other),
                clamp(lo, hi),
                cbrt(),
                hypot(other),
                sin(),
                cos(),
                tan(),
                asin(),
                acos(),
                atan(),
                atan2(other),
                exp_m1(),
                ln_1p(),
                sinh(),
                cosh(),
                tanh(),
                asinh(),
                acosh(),
                atanh(),
                to_degrees(),
                to_radians()
            );
        }

        impl $crate::Float for $t {
            fn of_f64(x: f64) -> Self {
                Self::c(x)
            }
            fn as_f64(self) -> f64 {
                self.value()
            }
        }

        impl $crate::ZerosLike for $t {
            fn zeros_like(&self) -> Self {
                Self::c(0.0)
            }
        }
    };
}
pub(crate) use scalar_traits;

/// `-`, `+`, `-` and `*` of a dual type made of a value `re` and a tangent `eps` of one arithmetic
/// type (`f64` for `Dual64`, `Dual64` for `DualDual64`): part by part, and the product rule.
macro_rules! part_ops {
    ($t:ident) => {
        impl ::core::ops::Neg for $t {
            type Output = Self;
            #[inline]
            fn neg(self) -> Self {
                Self { re: -self.re, eps: -self.eps }
            }
        }

        impl ::core::ops::Add for $t {
            type Output = Self;
            #[inline]
            fn add(self, o: Self) -> Self {
                Self { re: self.re + o.re, eps: self.eps + o.eps }
            }
        }

        impl ::core::ops::Sub for $t {
            type Output = Self;
            #[inline]
            fn sub(self, o: Self) -> Self {
                Self { re: self.re - o.re, eps: self.eps - o.eps }
            }
        }

        impl ::core::ops::Mul for $t {
            type Output = Self;
            #[inline]
            fn mul(self, o: Self) -> Self {
                Self { re: self.re * o.re, eps: self.eps * o.re + self.re * o.eps }
            }
        }
    };
}
pub(crate) use part_ops;
