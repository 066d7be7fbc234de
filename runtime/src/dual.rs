//! Dual numbers `a + b·ε` (`ε² = 0`): the scalar the second-order functions of `#[backprop(hessian)]`
//! run the generated gradient over (forward-over-reverse, see docs/ARCHITECTURE.md, "Second order").
//!
//! The real part of every operation is the very `f64` operation the gradient performs, in the same
//! order, so the value and gradient read off the real parts are bit-for-bit those of `cost_grad`;
//! the `ε` part carries the directional derivative of each of them.
//!
//! Comparisons (`<`, `==`, ...) look at the real part only, as the `f64` code does, so branches and
//! loop exits are taken exactly as in the gradient. The one comparison that must see both parts is
//! the generated guard `if d == 0.0 { 0.0 } else { d · factor }` (a zero adjoint from a branch that
//! did not run): [`Dual64::both_zero`], which the macro writes there instead.
//!
//! [`DualTwin`] maps an argument to its dual twin (`[f64; N]` to `[Dual64; N]`, a parameter struct
//! to its derived twin) and back.

use std::fmt;
use std::ops::{Add, Div, Rem, Sub};

use crate::params::Params;

mod elementary;
mod scalar;
pub(crate) use elementary::{elementary_functions, float_constants, rounding_methods, value_methods};
pub(crate) use scalar::{float_consts, forward_methods, mixed_ops, part_ops, scalar_traits};

/// A dual number over `f64`: `re` the value, `eps` its derivative along one direction.
#[derive(Clone, Copy, Debug, Default)]
pub struct Dual64 {
    /// The value: bit-for-bit what the `f64` code computes.
    pub re: f64,
    /// The tangent: the derivative of `re` along the seeded direction.
    pub eps: f64,
}

impl Dual64 {
    /// A value with the tangent `eps`.
    #[inline]
    pub const fn new(re: f64, eps: f64) -> Self {
        Self { re, eps }
    }
    /// A constant (zero tangent): what the macro writes for a float literal.
    #[inline]
    pub const fn c(re: f64) -> Self {
        Self { re, eps: 0.0 }
    }
    /// Both parts are zero: the guard of a contribution through an adjoint that may be zero because
    /// its branch did not run. A tangent alone (`re == 0`, `eps != 0`) is a real contribution.
    #[inline]
    pub fn both_zero(self) -> bool {
        self.re == 0.0 && self.eps == 0.0
    }

    /// The value: what the `f64` code computes (comparisons and conversions read it).
    #[inline]
    pub fn value(self) -> f64 {
        self.re
    }

    crate::dual::float_constants!();

    /// `re` with tangent `d · eps` (chain rule), `d` the local derivative.
    #[inline]
    fn chain(self, re: f64, d: f64) -> Self {
        // A zero tangent stays exactly zero even where `d` is infinite (`sqrt` at 0 of a constant).
        Self { re, eps: if self.eps == 0.0 { 0.0 } else { self.eps * d } }
    }

    elementary_functions!();

    /// `re` with tangent `d · eps` where `d` is finite wherever the value is (no guard needed).
    #[inline]
    fn chain_finite(self, re: f64, d: f64) -> Self {
        Self { re, eps: self.eps * d }
    }
    /// `c · self` for a plain `f64` `c` (a constant's product, `x * 2.0` or `x * (i as f64)`): the
    /// value `c · re` bit for bit as `Dual64::c(c) * self`, without the `0 · re` term of the
    /// constant's zero tangent.
    #[inline]
    pub fn scaled(self, c: f64) -> Self {
        Self { re: c * self.re, eps: c * self.eps }
    }
    /// `self / c` for a plain `f64` `c`: the value `re / c` bit for bit as `self / Dual64::c(c)`,
    /// without the `re · 0` term of the constant's zero tangent.
    #[inline]
    pub fn divided(self, c: f64) -> Self {
        Self { re: self.re / c, eps: self.eps / c }
    }
    /// `powf`, differentiable in both the base and the exponent.
    #[inline]
    pub fn powf(self, n: Self) -> Self {
        let re = self.re.powf(n.re);
        let base = if self.eps == 0.0 { 0.0 } else { self.eps * n.re * self.re.powf(n.re - 1.0) };
        let exponent = if n.eps == 0.0 { 0.0 } else { n.eps * re * self.re.ln() };
        Self { re, eps: base + exponent }
    }
    /// `log` in base `b`.
    #[inline]
    pub fn log(self, b: Self) -> Self {
        let re = self.re.log(b.re);
        let lb = b.re.ln();
        let x = if self.eps == 0.0 { 0.0 } else { self.eps / (self.re * lb) };
        let y = if b.eps == 0.0 { 0.0 } else { -b.eps * self.re.ln() / (b.re * lb * lb) };
        Self { re, eps: x + y }
    }
    /// `atan2` (`self` is `y`).
    #[inline]
    pub fn atan2(self, x: Self) -> Self {
        let r2 = self.re * self.re + x.re * x.re;
        let eps = if self.eps == 0.0 && x.eps == 0.0 { 0.0 } else { (x.re * self.eps - self.re * x.eps) / r2 };
        Self { re: self.re.atan2(x.re), eps }
    }
    /// `abs`: the tangent follows the side of the kink (zero at exactly 0, like `kinks::sign`).
    #[inline]
    pub fn abs(self) -> Self {
        self.chain(self.re.abs(), sign(self.re))
    }
    /// `signum` (tangent 0).
    #[inline]
    pub fn signum(self) -> Self {
        Self::c(self.re.signum())
    }
    /// `max`: the tangent of the operand `f64::max` picks.
    #[inline]
    pub fn max(self, other: Self) -> Self {
        let re = self.re.max(other.re);
        let eps = if self.re >= other.re || other.re.is_nan() { self.eps } else { other.eps };
        Self { re, eps }
    }
    /// `min`: the tangent of the operand `f64::min` picks.
    #[inline]
    pub fn min(self, other: Self) -> Self {
        let re = self.re.min(other.re);
        let eps = if self.re <= other.re || other.re.is_nan() { self.eps } else { other.eps };
        Self { re, eps }
    }
    /// `clamp`.
    #[inline]
    pub fn clamp(self, lo: Self, hi: Self) -> Self {
        let re = self.re.clamp(lo.re, hi.re);
        let eps = if self.re < lo.re {
            lo.eps
        } else if self.re > hi.re {
            hi.eps
        } else {
            self.eps
        };
        Self { re, eps }
    }
    /// `mul_add`: `self * a + b`, rounded once like `f64::mul_add`.
    #[inline]
    pub fn mul_add(self, a: Self, b: Self) -> Self {
        Self { re: self.re.mul_add(a.re, b.re), eps: self.eps * a.re + self.re * a.eps + b.eps }
    }
    /// `hypot`.
    #[inline]
    pub fn hypot(self, other: Self) -> Self {
        let r = self.re.hypot(other.re);
        let eps = if r == 0.0 { 0.0 } else { (self.re * self.eps + other.re * other.eps) / r };
        Self { re: r, eps }
    }
    crate::dual::value_methods!();
}

#[inline]
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

scalar_traits!(Dual64);

crate::dual::part_ops!(Dual64);

impl Div for Dual64 {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        let re = self.re / o.re;
        Self { re, eps: (self.eps - re * o.eps) / o.re }
    }
}

impl Rem for Dual64 {
    type Output = Self;
    #[inline]
    fn rem(self, o: Self) -> Self {
        let re = self.re % o.re;
        Self { re, eps: self.eps - (self.re / o.re).trunc() * o.eps }
    }
}

/// A product with a constant the gradient's code writes as a literal (`2.0 * t`), over one dual
/// type: the same value as `<Type>::c(c) * x`, `c · re` bit for bit, without the `0 · re` terms
/// of the constant's zero tangents. The macro's re-print over that type writes `scale` there
/// (`second_order/scale.rs`): `dual::scale` over `Dual64`, `dual2::scale` over `DualDual64`,
/// `dual_lanes::scale` over `Dual64x4`.
macro_rules! scale_by {
    ($t:ident) => {
        /// `c · self` for a literal `c` of the re-printed code (see [`scale`]).
        pub trait ScaleBy {
            /// `c · self`, every part scaled.
            fn scale_by(self, c: f64) -> $t;
        }

        impl ScaleBy for $t {
            #[inline]
            fn scale_by(self, c: f64) -> $t {
                self.scaled(c)
            }
        }

        impl ScaleBy for f64 {
            #[inline]
            fn scale_by(self, c: f64) -> $t {
                $t::c(c * self)
            }
        }

        /// `c · x` for a literal `c` of the re-printed code, of the same value as the product
        /// with the constant, without its zero tangents' terms.
        #[inline]
        pub fn scale<T: ScaleBy>(x: T, c: f64) -> $t {
            x.scale_by(c)
        }
    };
}
pub(crate) use scale_by;

scale_by!(Dual64);

impl fmt::Display for Dual64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.re, f)?;
        write!(f, " + ")?;
        fmt::Display::fmt(&self.eps, f)?;
        write!(f, "ε")
    }
}

impl fmt::LowerExp for Dual64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerExp::fmt(&self.re, f)?;
        write!(f, " + ")?;
        fmt::LowerExp::fmt(&self.eps, f)?;
        write!(f, "ε")
    }
}

/// An argument's dual twin (`f64` → [`Dual64`], arrays, slices and `Vec`s element by element,
/// `#[derive(Params)]` structs field by field into a derived twin struct), and back: the real and
/// the tangent parts of a twin.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no dual twin (`DualTwin`), which `#[backprop(hessian)]` needs for its arguments",
    label = "no `DualTwin`",
    note = "`DualTwin` is implemented for `f64`, arrays, slices and `Vec`s of it, the runtime's `Dense`, and \
            structs with `#[derive(Params)]` over `f64`; a type with a hand-written `Params` impl has none: \
            derive `Params` on it to take a Hessian over it (its gradient needs no twin)"
)]
pub trait DualTwin {
    /// The twin: the same shape over [`Dual64`] (a `Vec` for a slice).
    type Twin;
    /// The twin with tangent `tangent` (a value of the same shape: a direction).
    fn dualize(&self, tangent: &Self) -> Self::Twin;
    /// The twin with zero tangent.
    fn constant(&self) -> Self::Twin;
}

/// The two parts of a dual twin, each in the original shape.
pub trait DualParts {
    /// The original shape.
    type Real;
    /// The real parts (bit-for-bit the `f64` computation's values).
    fn real(&self) -> Self::Real;
    /// The tangent parts.
    fn tangent(&self) -> Self::Real;
}

impl DualTwin for f64 {
    type Twin = Dual64;
    #[inline]
    fn dualize(&self, tangent: &Self) -> Dual64 {
        Dual64::new(*self, *tangent)
    }
    #[inline]
    fn constant(&self) -> Dual64 {
        Dual64::c(*self)
    }
}

impl<T: DualTwin, const N: usize> DualTwin for [T; N] {
    type Twin = [T::Twin; N];
    fn dualize(&self, tangent: &Self) -> Self::Twin {
        std::array::from_fn(|i| self[i].dualize(&tangent[i]))
    }
    fn constant(&self) -> Self::Twin {
        std::array::from_fn(|i| self[i].constant())
    }
}

impl<T: DualTwin> DualTwin for [T] {
    type Twin = Vec<T::Twin>;
    #[track_caller]
    fn dualize(&self, tangent: &Self) -> Self::Twin {
        assert_eq!(
            self.len(),
            tangent.len(),
            "the direction has {} entries where the argument has {}",
            tangent.len(),
            self.len()
        );
        self.iter().zip(tangent).map(|(x, t)| x.dualize(t)).collect()
    }
    fn constant(&self) -> Self::Twin {
        self.iter().map(DualTwin::constant).collect()
    }
}

impl<T: DualTwin> DualTwin for Vec<T> {
    type Twin = Vec<T::Twin>;
    #[track_caller]
    fn dualize(&self, tangent: &Self) -> Self::Twin {
        self[..].dualize(&tangent[..])
    }
    fn constant(&self) -> Self::Twin {
        self[..].constant()
    }
}

impl DualParts for Dual64 {
    type Real = f64;
    #[inline]
    fn real(&self) -> f64 {
        self.re
    }
    #[inline]
    fn tangent(&self) -> f64 {
        self.eps
    }
}

impl<T: DualParts, const N: usize> DualParts for [T; N] {
    type Real = [T::Real; N];
    fn real(&self) -> Self::Real {
        std::array::from_fn(|i| self[i].real())
    }
    fn tangent(&self) -> Self::Real {
        std::array::from_fn(|i| self[i].tangent())
    }
}

impl<T: DualParts> DualParts for Vec<T> {
    type Real = Vec<T::Real>;
    fn real(&self) -> Self::Real {
        self.iter().map(DualParts::real).collect()
    }
    fn tangent(&self) -> Self::Real {
        self.iter().map(DualParts::tangent).collect()
    }
}

impl<const I: usize, const O: usize> DualTwin for crate::Dense<I, O, f64> {
    type Twin = crate::Dense<I, O, Dual64>;
    fn dualize(&self, tangent: &Self) -> Self::Twin {
        crate::Dense { w: self.w.dualize(&tangent.w), b: self.b.dualize(&tangent.b) }
    }
    fn constant(&self) -> Self::Twin {
        crate::Dense { w: self.w.constant(), b: self.b.constant() }
    }
}

impl<const I: usize, const O: usize> DualParts for crate::Dense<I, O, Dual64> {
    type Real = crate::Dense<I, O, f64>;
    fn real(&self) -> Self::Real {
        crate::Dense { w: self.w.real(), b: self.b.real() }
    }
    fn tangent(&self) -> Self::Real {
        crate::Dense { w: self.w.tangent(), b: self.b.tangent() }
    }
}

/// The dense Hessian from `n` Hessian-vector products with the unit directions `e_j` (column `j`),
/// symmetrised as `(H + Hᵀ)/2` so that `h[i][j] == h[j][i]` exactly. `direction` is a buffer of the
/// gradient's shape (its values are overwritten); `hvp(v)` returns `H·v` in the same shape.
// Index loops: column `j` is written across rows, and the symmetrisation touches `h[i][j]` and `h[j][i]`.
#[allow(clippy::needless_range_loop)]
pub fn hessian_by_columns<G: Params<Scalar = f64>>(mut direction: G, mut hvp: impl FnMut(&G) -> G) -> Vec<Vec<f64>> {
    let n = direction.num_params();
    crate::params::fill(&mut direction, 0.0);
    let mut h = vec![vec![0.0; n]; n];
    for j in 0..n {
        set_flat(&mut direction, j, 1.0);
        let column = hvp(&direction);
        set_flat(&mut direction, j, 0.0);
        let mut i = 0;
        column.visit(&mut |x| {
            h[i][j] = x;
            i += 1;
        });
    }
    for i in 0..n {
        for j in 0..i {
            let s = 0.5 * (h[i][j] + h[j][i]);
            h[i][j] = s;
            h[j][i] = s;
        }
    }
    h
}

/// Sets entry `index` of the flat view (a forward-mode gradient's entry `j`, one tangent sweep each).
pub fn set_flat<P: Params + ?Sized>(p: &mut P, index: usize, value: P::Scalar) {
    let mut k = 0;
    p.visit_mut(&mut |x| {
        if k == index {
            *x = value;
        }
        k += 1;
    });
}

/// Sets the entries of the flat view to `values` in order: a forward-mode gradient, one entry per
/// tangent sweep, written once after the sweeps (`set_flat` per entry walks the view up to the
/// entry each time, `O(n²)` over a gradient).
pub fn set_flat_all<P: Params + ?Sized>(p: &mut P, values: &[P::Scalar]) {
    let mut values = values.iter();
    p.visit_mut(&mut |x| {
        if let Some(v) = values.next() {
            *x = *v;
        }
    });
}

/// Appends `p`'s flat view to `row` (a Jacobian row, argument by argument).
pub fn extend_flat<P: Params + ?Sized>(row: &mut Vec<P::Scalar>, p: &P) {
    p.visit(&mut |x| row.push(x));
}

/// `dst += src` entry by entry over the flat views (shapes may differ in type: a slice and a `Vec`).
pub fn add_flat<P: Params<Scalar = f64> + ?Sized, Q: Params<Scalar = f64> + ?Sized>(dst: &mut P, src: &Q) {
    let mut xs = Vec::with_capacity(src.num_params());
    src.visit(&mut |x| xs.push(x));
    let mut i = 0;
    dst.visit_mut(&mut |y| {
        *y += xs[i];
        i += 1;
    });
}

/// `dst = src` entry by entry over the flat views.
pub fn copy_flat<P: Params<Scalar = f64> + ?Sized, Q: Params<Scalar = f64> + ?Sized>(dst: &mut P, src: &Q) {
    let mut xs = Vec::with_capacity(src.num_params());
    src.visit(&mut |x| xs.push(x));
    let mut i = 0;
    dst.visit_mut(&mut |y| {
        *y = xs[i];
        i += 1;
    });
}

/// Every entry zero.
pub fn zero_flat<P: Params<Scalar = f64> + ?Sized>(p: &mut P) {
    p.visit_mut(&mut |y| *y = 0.0);
}

/// `⟨a, b⟩` over the flat views (the directional derivative `∇C·v` of `cost_jvp`).
pub fn flat_dot<P: Params<Scalar = f64>>(a: &P, b: &P) -> f64 {
    let mut xs = Vec::with_capacity(a.num_params());
    a.visit(&mut |x| xs.push(x));
    let mut i = 0;
    let mut s = 0.0;
    b.visit(&mut |y| {
        s += xs[i] * y;
        i += 1;
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_and_functions_carry_tangents() {
        let x = Dual64::new(0.7, 1.0);
        let y = x * x.sin() + x.exp() / (x + 2.0);
        let exact = 0.7_f64.sin() + 0.7 * 0.7_f64.cos() + 0.7_f64.exp() * (2.7 - 1.0) / (2.7 * 2.7);
        assert!((y.eps - exact).abs() < 1e-14);
        assert_eq!(y.re, 0.7 * 0.7_f64.sin() + 0.7_f64.exp() / (0.7 + 2.0));
        assert!(Dual64::new(0.0, 1.0) == 0.0 && !Dual64::new(0.0, 1.0).both_zero());
    }

    #[test]
    fn powers_and_products_with_constants() {
        let x = Dual64::new(3.0, 0.5);
        assert_eq!((x.powi(2).re, x.powi(2).eps), (9.0, 3.0));
        assert_eq!((x.powi(3).re, x.powi(3).eps), (27.0, 13.5));
        // A negative power keeps the guard: a constant at 0 has a zero tangent, not 0 · ∞.
        assert_eq!(Dual64::c(0.0).powi(-2).eps, 0.0);
        let (s, d) = (x * 2.0, x / 4.0);
        assert_eq!((s.re, s.eps, d.re, d.eps), (6.0, 1.0, 0.75, 0.125));
        let mut y = x;
        y *= 2.0;
        y /= 4.0;
        assert_eq!((y.re, y.eps), (1.5, 0.25));
    }
}
