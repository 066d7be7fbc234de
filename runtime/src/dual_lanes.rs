//! Dual numbers with four tangents, `a + b₀ε₀ + b₁ε₁ + b₂ε₂ + b₃ε₃` (`εᵢεⱼ = 0`): four directions
//! of forward mode in one sweep. `_jacobian`'s forward mode (codegen `second_order/jacobian.rs`)
//! runs the function once per four columns over this type instead of once per column over
//! [`Dual64`](crate::dual::Dual64): the value and every elementary function (`exp`, `sin`, ...) are
//! computed once and scaled into four tangents, as num-dual's `DualSVec64<4>` does.
//!
//! Every rule is `Dual64`'s applied lane by lane, so each lane is bit for bit what a `Dual64` sweep
//! seeded with that direction computes, the real part is the `f64` computation, and comparisons see
//! the real part only.

// The product and quotient rules are other operators than the one they implement.
#![allow(clippy::suspicious_arithmetic_impl)]

use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Rem, Sub};

use crate::dual2::by_reference;

/// How many tangents a [`Dual64x4`] carries.
pub const LANES: usize = 4;

/// A dual number over `f64` with [`LANES`] tangents.
#[derive(Clone, Copy, Debug, Default)]
pub struct Dual64x4 {
    /// The value: bit-for-bit what the `f64` code computes.
    pub re: f64,
    /// The tangents: the derivative of `re` along each seeded direction.
    pub eps: [f64; LANES],
}

/// `d · e`, exactly zero where the tangent `e` is (even where `d` is infinite), as `Dual64::chain`.
#[inline(always)]
fn times(e: f64, d: f64) -> f64 {
    if e == 0.0 {
        0.0
    } else {
        e * d
    }
}

#[inline(always)]
fn lanes(f: impl Fn(usize) -> f64) -> [f64; LANES] {
    [f(0), f(1), f(2), f(3)]
}

impl Dual64x4 {
    /// A value with the tangents `eps`.
    #[inline]
    pub const fn new(re: f64, eps: [f64; LANES]) -> Self {
        Self { re, eps }
    }
    /// A constant (every tangent zero): what the macro writes for a float literal.
    #[inline]
    pub const fn c(re: f64) -> Self {
        Self { re, eps: [0.0; LANES] }
    }
    /// The value and every tangent are zero.
    #[inline]
    pub fn both_zero(self) -> bool {
        self.re == 0.0 && self.eps.iter().all(|&e| e == 0.0)
    }
    /// The value: what the `f64` code computes (comparisons and conversions read it).
    #[inline]
    pub fn value(self) -> f64 {
        self.re
    }

    crate::dual::float_constants!();

    /// `re` with tangents `d · eps` (the chain rule, lane by lane).
    #[inline]
    fn chain(self, re: f64, d: f64) -> Self {
        Self { re, eps: lanes(|k| times(self.eps[k], d)) }
    }

    crate::dual::elementary_functions!();

    /// `c · self` for a plain `f64` `c`: every part scaled (the value bit for bit as
    /// `Dual64x4::c(c) * self`, without multiplying the constant's zero tangents).
    #[inline]
    pub fn scaled(self, c: f64) -> Self {
        Self { re: c * self.re, eps: lanes(|k| c * self.eps[k]) }
    }
    /// `self / c` for a plain `f64` `c`: every part divided.
    #[inline]
    pub fn divided(self, c: f64) -> Self {
        Self { re: self.re / c, eps: lanes(|k| self.eps[k] / c) }
    }

    /// `re` with tangents `d · eps` where `d` is finite wherever the value is (no guard needed).
    #[inline]
    fn chain_finite(self, re: f64, d: f64) -> Self {
        Self { re, eps: lanes(|k| self.eps[k] * d) }
    }
    /// `powf`, differentiable in both the base and the exponent (`Dual64`'s formulas per lane).
    #[inline]
    pub fn powf(self, n: Self) -> Self {
        let re = self.re.powf(n.re);
        let (p, l) = (self.re.powf(n.re - 1.0), self.re.ln());
        let base = |k: usize| if self.eps[k] == 0.0 { 0.0 } else { self.eps[k] * n.re * p };
        let exponent = |k: usize| if n.eps[k] == 0.0 { 0.0 } else { n.eps[k] * re * l };
        Self { re, eps: lanes(|k| base(k) + exponent(k)) }
    }
    /// `log` in base `b`.
    #[inline]
    pub fn log(self, b: Self) -> Self {
        let re = self.re.log(b.re);
        let lb = b.re.ln();
        let l = self.re.ln();
        let x = |k: usize| if self.eps[k] == 0.0 { 0.0 } else { self.eps[k] / (self.re * lb) };
        let y = |k: usize| if b.eps[k] == 0.0 { 0.0 } else { -b.eps[k] * l / (b.re * lb * lb) };
        Self { re, eps: lanes(|k| x(k) + y(k)) }
    }
    /// `atan2` (`self` is `y`).
    #[inline]
    pub fn atan2(self, x: Self) -> Self {
        let r2 = self.re * self.re + x.re * x.re;
        let eps = |k: usize| {
            if self.eps[k] == 0.0 && x.eps[k] == 0.0 {
                0.0
            } else {
                (x.re * self.eps[k] - self.re * x.eps[k]) / r2
            }
        };
        Self { re: self.re.atan2(x.re), eps: lanes(eps) }
    }
    /// `abs`: the tangent times the sign (zero at zero).
    #[inline]
    pub fn abs(self) -> Self {
        let s = if self.re > 0.0 {
            1.0
        } else if self.re < 0.0 {
            -1.0
        } else {
            0.0
        };
        self.chain(self.re.abs(), s)
    }
    /// `signum` (flat).
    #[inline]
    pub fn signum(self) -> Self {
        Self::c(self.re.signum())
    }
    /// `max`: the tangents of the chosen operand (ties and NaN as `f64::max`).
    #[inline]
    pub fn max(self, other: Self) -> Self {
        let eps = if self.re >= other.re || other.re.is_nan() { self.eps } else { other.eps };
        Self { re: self.re.max(other.re), eps }
    }
    /// `min`: the tangents of the chosen operand.
    #[inline]
    pub fn min(self, other: Self) -> Self {
        let eps = if self.re <= other.re || other.re.is_nan() { self.eps } else { other.eps };
        Self { re: self.re.min(other.re), eps }
    }
    /// `clamp`: the tangents of the bound when clamped.
    #[inline]
    pub fn clamp(self, lo: Self, hi: Self) -> Self {
        let eps = if self.re < lo.re {
            lo.eps
        } else if self.re > hi.re {
            hi.eps
        } else {
            self.eps
        };
        Self { re: self.re.clamp(lo.re, hi.re), eps }
    }
    /// `self · a + b`, the value fused as `f64::mul_add`.
    #[inline]
    pub fn mul_add(self, a: Self, b: Self) -> Self {
        Self { re: self.re.mul_add(a.re, b.re), eps: lanes(|k| self.eps[k] * a.re + self.re * a.eps[k] + b.eps[k]) }
    }
    /// `hypot`.
    #[inline]
    pub fn hypot(self, other: Self) -> Self {
        let r = self.re.hypot(other.re);
        let eps =
            if r == 0.0 { [0.0; LANES] } else { lanes(|k| (self.re * self.eps[k] + other.re * other.eps[k]) / r) };
        Self { re: r, eps }
    }
    crate::dual::value_methods!();
}

crate::dual::scalar_traits!(Dual64x4);

impl Neg for Dual64x4 {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        Self { re: -self.re, eps: lanes(|k| -self.eps[k]) }
    }
}

impl Add for Dual64x4 {
    type Output = Self;
    #[inline]
    fn add(self, o: Self) -> Self {
        Self { re: self.re + o.re, eps: lanes(|k| self.eps[k] + o.eps[k]) }
    }
}

impl Sub for Dual64x4 {
    type Output = Self;
    #[inline]
    fn sub(self, o: Self) -> Self {
        Self { re: self.re - o.re, eps: lanes(|k| self.eps[k] - o.eps[k]) }
    }
}

impl Mul for Dual64x4 {
    type Output = Self;
    #[inline]
    fn mul(self, o: Self) -> Self {
        Self { re: self.re * o.re, eps: lanes(|k| self.eps[k] * o.re + self.re * o.eps[k]) }
    }
}

impl Div for Dual64x4 {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        let re = self.re / o.re;
        Self { re, eps: lanes(|k| (self.eps[k] - re * o.eps[k]) / o.re) }
    }
}

impl Rem for Dual64x4 {
    type Output = Self;
    #[inline]
    fn rem(self, o: Self) -> Self {
        let q = (self.re / o.re).trunc();
        Self { re: self.re % o.re, eps: lanes(|k| self.eps[k] - q * o.eps[k]) }
    }
}

impl fmt::Display for Dual64x4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.re, f)?;
        write!(f, " + {:?}ε", self.eps)
    }
}

impl fmt::LowerExp for Dual64x4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerExp::fmt(&self.re, f)?;
        write!(f, " + {:?}ε", self.eps)
    }
}

// The reference forms (`&a * &b`, `&a + 1.0`, `Product`) Dual64's and DualDual64's have.
by_reference!(Dual64x4);

// `dual_lanes::scale`: a product with a float literal in the re-print over `Dual64x4`
// (`_jacobian`'s forward mode), the value and the four tangents scaled.
crate::dual::scale_by!(Dual64x4);

/// `f64` data lifted to [`Dual64x4`] for one four-column sweep: seeded (flat entry `first + k`
/// gets tangent `k`, `k < LANES`, in the flat order of `Params`: row-major, arguments in order) or
/// constant.
pub trait Lanes {
    /// The same shape over `Dual64x4`.
    type Twin;
    /// Seeded: `at` is the flat index of this value's first entry, advanced past it.
    fn lanes(&self, at: &mut usize, first: usize) -> Self::Twin;
    /// Every tangent zero.
    fn constant(&self) -> Self::Twin;
}

impl Lanes for f64 {
    type Twin = Dual64x4;
    #[inline]
    fn lanes(&self, at: &mut usize, first: usize) -> Dual64x4 {
        let k = at.wrapping_sub(first);
        *at += 1;
        Dual64x4 { re: *self, eps: lanes(|j| if j == k { 1.0 } else { 0.0 }) }
    }
    #[inline]
    fn constant(&self) -> Dual64x4 {
        Dual64x4::c(*self)
    }
}

impl<T: Lanes, const N: usize> Lanes for [T; N] {
    type Twin = [T::Twin; N];
    #[inline]
    fn lanes(&self, at: &mut usize, first: usize) -> Self::Twin {
        std::array::from_fn(|i| self[i].lanes(at, first))
    }
    #[inline]
    fn constant(&self) -> Self::Twin {
        std::array::from_fn(|i| self[i].constant())
    }
}

impl<T: Lanes> Lanes for [T] {
    type Twin = Vec<T::Twin>;
    fn lanes(&self, at: &mut usize, first: usize) -> Self::Twin {
        self.iter().map(|x| x.lanes(at, first)).collect()
    }
    fn constant(&self) -> Self::Twin {
        self.iter().map(Lanes::constant).collect()
    }
}

impl<T: Lanes> Lanes for Vec<T> {
    type Twin = Vec<T::Twin>;
    fn lanes(&self, at: &mut usize, first: usize) -> Self::Twin {
        self.as_slice().lanes(at, first)
    }
    fn constant(&self) -> Self::Twin {
        self.as_slice().constant()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dual::Dual64;

    /// Each lane is bit for bit the `Dual64` sweep seeded with that lane's direction.
    #[test]
    fn every_lane_is_the_dual64_sweep_of_its_direction() {
        fn f<T: crate::Float>(x: T, y: T) -> T {
            let a = (x * y).exp() / (T::one() + x * x).sqrt();
            a.powi(3) - y.atan2(x) + (x - y).abs().max(T::from(0.1).unwrap()) * y.ln() + x % y
        }
        let (x, y) = (0.7, 1.9);
        let dirs = [(1.0, 0.0), (0.0, 1.0), (0.5, -2.0), (0.0, 0.0)];
        let lifted = |v: f64, pick: fn((f64, f64)) -> f64| Dual64x4 { re: v, eps: lanes(|k| pick(dirs[k])) };
        let four = f(lifted(x, |d| d.0), lifted(y, |d| d.1));
        for (k, d) in dirs.iter().enumerate() {
            let one = f(Dual64::new(x, d.0), Dual64::new(y, d.1));
            assert_eq!(four.re.to_bits(), one.re.to_bits());
            assert_eq!(four.eps[k].to_bits(), one.eps.to_bits(), "lane {k}");
        }
    }

    /// Every rule written for this type rather than shared (products, quotients, `powf`, `log`,
    /// `atan2`, the kinks, `mul_add`, `hypot`, `%`, `powi`, scaling by plain `f64`), at points that
    /// reach their special cases (zero, ties, negative powers), lane by lane against `Dual64`.
    #[test]
    fn every_rule_written_here_is_dual64_s_lane_by_lane() {
        type Binary = (&'static str, fn(Dual64, Dual64) -> Dual64, fn(Dual64x4, Dual64x4) -> Dual64x4);
        let binary: [Binary; 17] = [
            ("mul", |a, b| a * b, |a, b| a * b),
            ("div", |a, b| a / b, |a, b| a / b),
            ("rem", |a, b| a % b, |a, b| a % b),
            ("sub neg", |a, b| -(a - b), |a, b| -(a - b)),
            ("powf", |a, b| a.abs().powf(b), |a, b| a.abs().powf(b)),
            ("log", |a, b| (a.abs() + 1.5).log(b.abs() + 2.0), |a, b| (a.abs() + 1.5).log(b.abs() + 2.0)),
            ("atan2", |a, b| a.atan2(b), |a, b| a.atan2(b)),
            ("max", |a, b| a.max(b), |a, b| a.max(b)),
            ("min", |a, b| a.min(b), |a, b| a.min(b)),
            ("clamp", |a, b| a.clamp(b, b + 0.5), |a, b| a.clamp(b, b + 0.5)),
            ("mul_add", |a, b| a.mul_add(b, a * a), |a, b| a.mul_add(b, a * a)),
            ("hypot", |a, b| a.hypot(b), |a, b| a.hypot(b)),
            ("abs", |a, b| a.abs() * b, |a, b| a.abs() * b),
            (
                "powi",
                |a, b| a.powi(3) + (a + 2.0).powi(-2) + b.powi(0),
                |a, b| a.powi(3) + (a + 2.0).powi(-2) + b.powi(0),
            ),
            // Alone, so the sign of a zero tangent (`0 · 2x` at negative `x`) is compared too.
            ("square", |a, _| a.powi(2), |a, _| a.powi(2)),
            ("scaled", |a, b| 2.5 * a / 0.75 - b * 3.0, |a, b| 2.5 * a / 0.75 - b * 3.0),
            ("sqrt recip", |a, b| (a * a + b * b).sqrt().recip(), |a, b| (a * a + b * b).sqrt().recip()),
        ];
        let dirs = [(1.0, 0.0), (0.0, 1.0), (0.5, -2.0), (-1.25, 0.75)];
        for (x, y) in [(0.7, 1.9), (-1.3, 0.4), (0.0, 0.8), (0.6, 0.6), (2.0, -0.0)] {
            for (name, one, four) in &binary {
                let lift = |v: f64, pick: fn((f64, f64)) -> f64| Dual64x4 { re: v, eps: lanes(|k| pick(dirs[k])) };
                let r4 = four(lift(x, |d| d.0), lift(y, |d| d.1));
                for (k, d) in dirs.iter().enumerate() {
                    let r1 = one(Dual64::new(x, d.0), Dual64::new(y, d.1));
                    let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
                    assert!(same(r4.re, r1.re), "{name} at ({x}, {y}): value {} vs {}", r4.re, r1.re);
                    assert!(same(r4.eps[k], r1.eps), "{name} at ({x}, {y}), lane {k}: {} vs {}", r4.eps[k], r1.eps);
                }
            }
        }
    }

    #[test]
    fn seeding_walks_the_flat_order_four_entries_at_a_time() {
        let x = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let mut at = 0;
        let twin = x.lanes(&mut at, 4);
        assert_eq!(at, 6);
        let tangents: Vec<[f64; LANES]> = twin.iter().flatten().map(|d| d.eps).collect();
        for (i, t) in tangents.iter().enumerate() {
            let expect = lanes(|k| if i >= 4 && i - 4 == k { 1.0 } else { 0.0 });
            assert_eq!(*t, expect, "entry {i}");
        }
        assert!(vec![1.0, 2.0].constant().iter().all(|d| d.eps == [0.0; LANES]));
    }
}
