//! The chain rules of the elementary functions, shared by `Dual64` and `dual2::DualDual64`.

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
