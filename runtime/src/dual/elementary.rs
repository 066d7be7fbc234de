//! What the dual types write alike inside their `impl`s: the chain rules of the elementary
//! functions (`Dual64`, `dual2::DualDual64`, `dual_lanes::Dual64x4`), the `f64` constants (all
//! three) and the rules written on an `f64` value (`sqrt`, `recip`, `powi`, the piecewise-constant
//! and predicate methods: `Dual64`, `Dual64x4`).

/// The elementary functions whose rule is `f(re)` with tangent `f'(re) · eps`, written once for
/// both dual types: their `re` is `f64` (`Dual64`) or `Dual64` (`dual2::DualDual64`, where the same
/// text in `Dual64` arithmetic also carries the second derivative), and mixed operations with `f64`
/// literals read the same for both. Expanded inside each type's `impl` (its own `chain`); `sqrt`
/// and `recip`, the hot ones of forward over forward, are written per type.
macro_rules! elementary_functions {
    () => {
        /// `cbrt`.
        #[inline]
        pub fn cbrt(self) -> Self {
            let r = self.re.cbrt();
            self.chain(r, 1.0 / (3.0 * r * r))
        }
        /// `exp`.
        #[inline]
        pub fn exp(self) -> Self {
            let r = self.re.exp();
            self.chain(r, r)
        }
        /// `exp2`.
        #[inline]
        pub fn exp2(self) -> Self {
            let r = self.re.exp2();
            self.chain(r, r * std::f64::consts::LN_2)
        }
        /// `exp_m1`.
        #[inline]
        pub fn exp_m1(self) -> Self {
            self.chain(self.re.exp_m1(), self.re.exp())
        }
        /// `ln`.
        #[inline]
        pub fn ln(self) -> Self {
            self.chain(self.re.ln(), 1.0 / self.re)
        }
        /// `ln_1p`.
        #[inline]
        pub fn ln_1p(self) -> Self {
            self.chain(self.re.ln_1p(), 1.0 / (1.0 + self.re))
        }
        /// `log2`.
        #[inline]
        pub fn log2(self) -> Self {
            self.chain(self.re.log2(), 1.0 / (self.re * std::f64::consts::LN_2))
        }
        /// `log10`.
        #[inline]
        pub fn log10(self) -> Self {
            self.chain(self.re.log10(), 1.0 / (self.re * std::f64::consts::LN_10))
        }
        /// `sin`.
        #[inline]
        pub fn sin(self) -> Self {
            self.chain(self.re.sin(), self.re.cos())
        }
        /// `cos`.
        #[inline]
        pub fn cos(self) -> Self {
            self.chain(self.re.cos(), -self.re.sin())
        }
        /// `sin` and `cos`.
        #[inline]
        pub fn sin_cos(self) -> (Self, Self) {
            (self.sin(), self.cos())
        }
        /// `tan`.
        #[inline]
        pub fn tan(self) -> Self {
            let t = self.re.tan();
            self.chain(t, 1.0 + t * t)
        }
        /// `asin`.
        #[inline]
        pub fn asin(self) -> Self {
            self.chain(self.re.asin(), 1.0 / (1.0 - self.re * self.re).sqrt())
        }
        /// `acos`.
        #[inline]
        pub fn acos(self) -> Self {
            self.chain(self.re.acos(), -1.0 / (1.0 - self.re * self.re).sqrt())
        }
        /// `atan`.
        #[inline]
        pub fn atan(self) -> Self {
            self.chain(self.re.atan(), 1.0 / (1.0 + self.re * self.re))
        }
        /// `sinh`.
        #[inline]
        pub fn sinh(self) -> Self {
            self.chain(self.re.sinh(), self.re.cosh())
        }
        /// `cosh`.
        #[inline]
        pub fn cosh(self) -> Self {
            self.chain(self.re.cosh(), self.re.sinh())
        }
        /// `tanh`.
        #[inline]
        pub fn tanh(self) -> Self {
            let t = self.re.tanh();
            self.chain(t, 1.0 - t * t)
        }
        /// `asinh`.
        #[inline]
        pub fn asinh(self) -> Self {
            self.chain(self.re.asinh(), 1.0 / (self.re * self.re + 1.0).sqrt())
        }
        /// `acosh`.
        #[inline]
        pub fn acosh(self) -> Self {
            self.chain(self.re.acosh(), 1.0 / (self.re * self.re - 1.0).sqrt())
        }
        /// `atanh`.
        #[inline]
        pub fn atanh(self) -> Self {
            self.chain(self.re.atanh(), 1.0 / (1.0 - self.re * self.re))
        }
    };
}
pub(crate) use elementary_functions;

/// `EPSILON`, `INFINITY`, .. as constants of the dual type (every tangent zero), by its `c`.
macro_rules! float_constants {
    () => {
        /// `f64::EPSILON` as a constant.
        pub const EPSILON: Self = Self::c(f64::EPSILON);
        /// `f64::INFINITY` as a constant.
        pub const INFINITY: Self = Self::c(f64::INFINITY);
        /// `f64::NEG_INFINITY` as a constant.
        pub const NEG_INFINITY: Self = Self::c(f64::NEG_INFINITY);
        /// `f64::MAX` as a constant.
        pub const MAX: Self = Self::c(f64::MAX);
        /// `f64::MIN` as a constant.
        pub const MIN: Self = Self::c(f64::MIN);
        /// `f64::MIN_POSITIVE` as a constant.
        pub const MIN_POSITIVE: Self = Self::c(f64::MIN_POSITIVE);
        /// `f64::NAN` as a constant.
        pub const NAN: Self = Self::c(f64::NAN);
    };
}
pub(crate) use float_constants;

/// `sqrt`, `recip`, `powi`, the piecewise-constant functions (`floor`, .., tangent 0), `fract`, the
/// predicates on the value and the angle conversions, for a type whose `re` is `f64` and whose
/// `chain` (guarded) and `chain_finite` scale its tangents.
macro_rules! value_methods {
    () => {
        /// `sqrt`.
        #[inline]
        pub fn sqrt(self) -> Self {
            let r = self.re.sqrt();
            self.chain(r, 0.5 / r)
        }
        /// `recip`.
        #[inline]
        pub fn recip(self) -> Self {
            self.chain(self.re.recip(), -1.0 / (self.re * self.re))
        }
        /// `powi`.
        #[inline]
        pub fn powi(self, n: i32) -> Self {
            let d = if n == 0 { 0.0 } else { <f64 as From<i32>>::from(n) * self.re.powi(n - 1) };
            if n >= 1 {
                // `n·x^(n−1)` is finite wherever `x` is (it overflows only with the value), so a
                // zero tangent times it is zero without the guard of `chain`: the squares of every
                // least squares objective pay one multiply for their tangent, as in `x * x`.
                return self.chain_finite(self.re.powi(n), d);
            }
            self.chain(self.re.powi(n), d)
        }
        crate::dual::rounding_methods!(c);
        /// `to_degrees`.
        #[inline]
        pub fn to_degrees(self) -> Self {
            self.chain(self.re.to_degrees(), 180.0 / std::f64::consts::PI)
        }
        /// `to_radians`.
        #[inline]
        pub fn to_radians(self) -> Self {
            self.chain(self.re.to_radians(), std::f64::consts::PI / 180.0)
        }
    };
}
pub(crate) use value_methods;

/// The piecewise-constant methods and the predicates on the value, alike for every dual type:
/// `floor`, `ceil`, `round`, `trunc` (their value with zero tangents, made by the type's
/// constructor `$flat` from its value part), `fract` (the tangents kept), `is_nan`, `is_finite`,
/// `is_infinite`.
macro_rules! rounding_methods {
    ($flat:ident) => {
        /// `floor` (tangents 0).
        #[inline]
        pub fn floor(self) -> Self {
            Self::$flat(self.re.floor())
        }
        /// `ceil` (tangents 0).
        #[inline]
        pub fn ceil(self) -> Self {
            Self::$flat(self.re.ceil())
        }
        /// `round` (tangents 0).
        #[inline]
        pub fn round(self) -> Self {
            Self::$flat(self.re.round())
        }
        /// `trunc` (tangents 0).
        #[inline]
        pub fn trunc(self) -> Self {
            Self::$flat(self.re.trunc())
        }
        /// `fract`.
        #[inline]
        pub fn fract(self) -> Self {
            Self { re: self.re.fract(), eps: self.eps }
        }
        /// `is_nan` of the value.
        #[inline]
        pub fn is_nan(self) -> bool {
            self.re.is_nan()
        }
        /// `is_finite` of the value.
        #[inline]
        pub fn is_finite(self) -> bool {
            self.re.is_finite()
        }
        /// `is_infinite` of the value.
        #[inline]
        pub fn is_infinite(self) -> bool {
            self.re.is_infinite()
        }
    };
}
pub(crate) use rounding_methods;
