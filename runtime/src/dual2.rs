//! Dual numbers over dual numbers, `a + b·δ` with `a, b` [`Dual64`]s (`ε² = δ² = 0`, `εδ ≠ 0`): the
//! scalar of forward-over-forward differentiation (`#[backprop(forward)]`'s `_hvp_fwd` and the
//! forward-mode gradient of a function whose own tangent is taken, docs/ARCHITECTURE.md, "Forward
//! mode"). The outer tangent `ε` lives inside each part; the inner `δ` is this type's `eps`, so
//! `eps.eps` is the mixed second derivative `∂²/∂ε∂δ`.
//!
//! Every operation is [`Dual64`]'s rule applied with `Dual64` arithmetic (division, `sqrt` and
//! `recip`, the hot ones, written out on the four parts with their second derivatives), so the real
//! part `re.re` is bit for bit the `f64` computation, and comparisons see `re.re` only, as the `f64`
//! code does.

use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Rem, Sub};

use crate::dual::Dual64;

/// A dual number over [`Dual64`]: `re` the value (with its outer tangent), `eps` its derivative
/// along the inner direction (with that derivative's outer tangent).
#[derive(Clone, Copy, Debug, Default)]
pub struct DualDual64 {
    /// The value, a [`Dual64`]: bit-for-bit what the same code over `Dual64` computes.
    pub re: Dual64,
    /// The inner tangent, with its own outer tangent (`eps.eps` is the mixed second derivative).
    pub eps: Dual64,
}

const ZERO: Dual64 = Dual64::c(0.0);

impl DualDual64 {
    /// A value with the inner tangent `eps`.
    #[inline]
    pub const fn new(re: Dual64, eps: Dual64) -> Self {
        Self { re, eps }
    }
    /// A constant (every tangent zero): what the macro writes for a float literal.
    #[inline]
    pub const fn c(re: f64) -> Self {
        Self { re: Dual64::c(re), eps: ZERO }
    }
    /// All four parts are zero.
    #[inline]
    pub fn both_zero(self) -> bool {
        self.re.both_zero() && self.eps.both_zero()
    }

    /// The value: what the `f64` code computes (comparisons and conversions read it).
    #[inline]
    pub fn value(self) -> f64 {
        self.re.re
    }

    crate::dual::float_constants!();

    /// `re` with inner tangent `d · eps` (chain rule in `Dual64` arithmetic, so `d`'s own outer
    /// tangent, the second derivative, reaches `eps.eps`).
    #[inline]
    fn chain(self, re: Dual64, d: Dual64) -> Self {
        // A zero tangent stays exactly zero even where `d` is infinite (as `Dual64::chain`).
        Self { re, eps: if self.eps.both_zero() { ZERO } else { self.eps * d } }
    }
    /// A function of the value that is locally constant (`floor`, `signum`, ...).
    #[inline]
    fn flat(re: Dual64) -> Self {
        Self { re: Dual64::c(re.re), eps: ZERO }
    }

    crate::dual::elementary_functions!();

    /// The four parts: value, outer tangent, inner tangent, mixed second derivative.
    #[inline]
    fn parts(self) -> [f64; 4] {
        [self.re.re, self.re.eps, self.eps.re, self.eps.eps]
    }
    #[inline]
    fn of(p: [f64; 4]) -> Self {
        Self { re: Dual64::new(p[0], p[1]), eps: Dual64::new(p[2], p[3]) }
    }
    /// `f(self)` from `f`, `f'` and `f''` at the value, in `f64` (one evaluation of each instead of
    /// the `Dual64` operations `chain` runs); a zero tangent part stays zero where `f'` is infinite.
    #[inline]
    fn second_order(self, f0: f64, f1: f64, f2: f64) -> Self {
        let [_, a1, a2, a3] = self.parts();
        let times = |d: f64, a: f64| if a == 0.0 { 0.0 } else { d * a };
        let cross = if a1 == 0.0 || a2 == 0.0 { 0.0 } else { f2 * a1 * a2 };
        Self::of([f0, times(f1, a1), times(f1, a2), times(f1, a3) + cross])
    }
    /// `sqrt`: `f' = 1/(2√x)`, `f'' = −f'/(2x)`.
    #[inline]
    pub fn sqrt(self) -> Self {
        let a0 = self.re.re;
        let r = a0.sqrt();
        let d = 0.5 / r;
        self.second_order(r, d, -0.5 * d / a0)
    }
    /// `recip`: `f' = −1/x²`, `f'' = 2/x³`.
    #[inline]
    pub fn recip(self) -> Self {
        let a0 = self.re.re;
        let r = a0.recip();
        let d = -1.0 / (a0 * a0);
        self.second_order(r, d, -2.0 * d * r)
    }
    /// `powi`: for `n ≥ 1` on the four parts with `f' = n·x^(n−1)` and `f'' = n(n−1)·x^(n−2)`
    /// (the tangents `f'·a` bit for bit `Dual64::powi`'s, and without guards: both are finite
    /// wherever `x` is, as in `Dual64::powi`); otherwise `Dual64`'s rule in `Dual64` arithmetic.
    #[inline]
    pub fn powi(self, n: i32) -> Self {
        if n >= 1 {
            let [a0, a1, a2, a3] = self.parts();
            let f1 = <f64 as From<i32>>::from(n) * a0.powi(n - 1);
            let cross = if n == 1 {
                0.0
            } else {
                <f64 as From<i32>>::from(n) * <f64 as From<i32>>::from(n - 1) * a0.powi(n - 2) * (a1 * a2)
            };
            return Self::of([a0.powi(n), a1 * f1, a2 * f1, a3 * f1 + cross]);
        }
        let d = if n == 0 { ZERO } else { <f64 as From<i32>>::from(n) * self.re.powi(n - 1) };
        self.chain(self.re.powi(n), d)
    }
    /// `c · self` for a plain `f64` `c`: every part scaled (see `Dual64::scaled`).
    #[inline]
    pub fn scaled(self, c: f64) -> Self {
        Self { re: self.re.scaled(c), eps: self.eps.scaled(c) }
    }
    /// `self / c` for a plain `f64` `c`: every part divided (see `Dual64::divided`).
    #[inline]
    pub fn divided(self, c: f64) -> Self {
        Self { re: self.re.divided(c), eps: self.eps.divided(c) }
    }
    /// `powf`, differentiable in both the base and the exponent.
    #[inline]
    pub fn powf(self, n: Self) -> Self {
        let re = self.re.powf(n.re);
        let base = if self.eps.both_zero() { ZERO } else { self.eps * n.re * self.re.powf(n.re - 1.0) };
        let exponent = if n.eps.both_zero() { ZERO } else { n.eps * re * self.re.ln() };
        Self { re, eps: base + exponent }
    }
    /// `log` in base `b`.
    #[inline]
    pub fn log(self, b: Self) -> Self {
        self.ln() / b.ln()
    }
    /// `atan2` (`self` is `y`).
    #[inline]
    pub fn atan2(self, x: Self) -> Self {
        let r2 = self.re * self.re + x.re * x.re;
        let eps =
            if self.eps.both_zero() && x.eps.both_zero() { ZERO } else { (x.re * self.eps - self.re * x.eps) / r2 };
        Self { re: self.re.atan2(x.re), eps }
    }
    /// `abs`: the tangents follow the side of the kink (zero at exactly 0).
    #[inline]
    pub fn abs(self) -> Self {
        let s = if self.re.re > 0.0 {
            1.0
        } else if self.re.re < 0.0 {
            -1.0
        } else {
            0.0
        };
        Self { re: self.re * s, eps: self.eps * s }
    }
    /// `signum` (tangents 0).
    #[inline]
    pub fn signum(self) -> Self {
        Self::flat(self.re.signum())
    }
    /// `max`: the operand `f64::max` picks.
    #[inline]
    pub fn max(self, other: Self) -> Self {
        if self.re.re >= other.re.re || other.re.re.is_nan() {
            self
        } else {
            other
        }
    }
    /// `min`: the operand `f64::min` picks.
    #[inline]
    pub fn min(self, other: Self) -> Self {
        if self.re.re <= other.re.re || other.re.re.is_nan() {
            self
        } else {
            other
        }
    }
    /// `clamp`.
    #[inline]
    pub fn clamp(self, lo: Self, hi: Self) -> Self {
        if self.re.re < lo.re.re {
            lo
        } else if self.re.re > hi.re.re {
            hi
        } else {
            self
        }
    }
    /// `mul_add`: `self * a + b`, the value rounded once like `f64::mul_add`.
    #[inline]
    pub fn mul_add(self, a: Self, b: Self) -> Self {
        Self { re: self.re.mul_add(a.re, b.re), eps: self.eps * a.re + self.re * a.eps + b.eps }
    }
    /// `hypot`.
    #[inline]
    pub fn hypot(self, other: Self) -> Self {
        let r = self.re.hypot(other.re);
        let eps = if r.re == 0.0 { ZERO } else { (self.re * self.eps + other.re * other.eps) / r };
        Self { re: r, eps }
    }
    crate::dual::rounding_methods!(flat);
    /// `to_degrees`.
    #[inline]
    pub fn to_degrees(self) -> Self {
        self * (180.0 / std::f64::consts::PI)
    }
    /// `to_radians`.
    #[inline]
    pub fn to_radians(self) -> Self {
        self * (std::f64::consts::PI / 180.0)
    }
}

crate::dual::scalar_traits!(DualDual64);

crate::dual::part_ops!(DualDual64);

impl Div for DualDual64 {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        // `self = q · o` part by part, solved for `q` with one division for the value (bit for bit
        // the `f64` quotient) and one reciprocal for the rest.
        let ([a0, a1, a2, a3], [b0, b1, b2, b3]) = (self.parts(), o.parts());
        let q0 = a0 / b0;
        let inv = 1.0 / b0;
        let q1 = (a1 - q0 * b1) * inv;
        let q2 = (a2 - q0 * b2) * inv;
        let q3 = (a3 - q0 * b3 - q1 * b2 - q2 * b1) * inv;
        Self::of([q0, q1, q2, q3])
    }
}

impl Rem for DualDual64 {
    type Output = Self;
    #[inline]
    fn rem(self, o: Self) -> Self {
        let re = self.re % o.re;
        Self { re, eps: self.eps - Dual64::c((self.re.re / o.re.re).trunc()) * o.eps }
    }
}

impl fmt::Display for DualDual64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}) + ({})δ", self.re, self.eps)
    }
}

impl fmt::LowerExp for DualDual64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:e}) + ({:e})δ", self.re, self.eps)
    }
}

/// The operators on references and `Product` for both dual types: the user's own statements, which
/// forward mode re-prints over them, write `p * q` over `iter().zip(..)` items and `.product()`.
macro_rules! by_reference {
    ($($t:ty),*) => {$(
        by_reference!(@ops $t; Add add, Sub sub, Mul mul, Div div, Rem rem);
        impl std::iter::Product for $t {
            fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(<$t>::c(1.0), |a, b| a * b)
            }
        }
        impl<'a> std::iter::Product<&'a $t> for $t {
            fn product<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
                iter.fold(<$t>::c(1.0), |a, b| a * *b)
            }
        }
        impl Neg for &$t {
            type Output = $t;
            #[inline]
            fn neg(self) -> $t {
                -*self
            }
        }
    )*};
    (@ops $t:ty; $($tr:ident $m:ident),*) => {$(
        impl $tr<&$t> for &$t {
            type Output = $t;
            #[inline]
            fn $m(self, o: &$t) -> $t {
                (*self).$m(*o)
            }
        }
        impl $tr<$t> for &$t {
            type Output = $t;
            #[inline]
            fn $m(self, o: $t) -> $t {
                (*self).$m(o)
            }
        }
        impl $tr<&$t> for $t {
            type Output = $t;
            #[inline]
            fn $m(self, o: &$t) -> $t {
                self.$m(*o)
            }
        }
        impl $tr<f64> for &$t {
            type Output = $t;
            #[inline]
            fn $m(self, o: f64) -> $t {
                (*self).$m(o)
            }
        }
        impl $tr<&$t> for f64 {
            type Output = $t;
            #[inline]
            fn $m(self, o: &$t) -> $t {
                self.$m(*o)
            }
        }
    )*};
}
by_reference!(Dual64, DualDual64);
pub(crate) use by_reference;

// `dual2::scale`: a product with a float literal in the re-print over `DualDual64` (forward
// over forward), every part scaled.
crate::dual::scale_by!(DualDual64);

/// An argument lifted one tangent level up, the `j`-th scalar of the flat view seeded: `f64` →
/// [`Dual64`], [`Dual64`] → [`DualDual64`], arrays and `Vec`s element by element (a slice to a
/// `Vec`). What forward mode seeds its arguments with, one direction `e_j` at a time: an argument
/// taken by reference is lifted once with every inner tangent zero ([`constant_up`]) and
/// [`reseed`](Seed::reseed)ed around each sweep, so the sweeps allocate nothing.
pub trait Seed {
    /// The same shape one level up.
    type Up;
    /// The number of scalars of every value of this type, if the type fixes it (`f64`, arrays of
    /// it), which lets [`reseed`](Seed::reseed) of a slice go straight to entry `j`.
    const SIZE: Option<usize>;
    /// The lifted value: inner tangent 1 at flat index `j` (counted by `at`, advanced past this
    /// value), 0 elsewhere.
    fn seed(&self, at: &mut usize, j: usize) -> Self::Up;
    /// Sets the inner tangent of flat index `j` (counted by `at`, advanced past this value) of
    /// `up`, this value lifted, to `t`.
    fn reseed(&self, up: &mut Self::Up, at: &mut usize, j: usize, t: f64);
    /// The number of scalars in the flat view.
    fn count(&self) -> usize;
}

impl Seed for f64 {
    type Up = Dual64;
    const SIZE: Option<usize> = Some(1);
    #[inline]
    fn seed(&self, at: &mut usize, j: usize) -> Dual64 {
        let t = if *at == j { 1.0 } else { 0.0 };
        *at += 1;
        Dual64::new(*self, t)
    }
    #[inline]
    fn reseed(&self, up: &mut Dual64, at: &mut usize, j: usize, t: f64) {
        if *at == j {
            up.eps = t;
        }
        *at += 1;
    }
    fn count(&self) -> usize {
        1
    }
}

impl Seed for Dual64 {
    type Up = DualDual64;
    const SIZE: Option<usize> = Some(1);
    #[inline]
    fn seed(&self, at: &mut usize, j: usize) -> DualDual64 {
        let t = if *at == j { 1.0 } else { 0.0 };
        *at += 1;
        DualDual64::new(*self, Dual64::c(t))
    }
    #[inline]
    fn reseed(&self, up: &mut DualDual64, at: &mut usize, j: usize, t: f64) {
        if *at == j {
            up.eps = Dual64::c(t);
        }
        *at += 1;
    }
    fn count(&self) -> usize {
        1
    }
}

/// [`Seed::reseed`] of a slice: straight to the element holding `j` when the elements' size is
/// fixed, else element by element.
#[inline]
fn reseed_slice<T: Seed>(xs: &[T], ups: &mut [T::Up], at: &mut usize, j: usize, t: f64) {
    match T::SIZE {
        Some(k) => {
            let len = k * xs.len();
            if j >= *at && j - *at < len {
                let i = (j - *at) / k;
                xs[i].reseed(&mut ups[i], &mut (*at + i * k), j, t);
            }
            *at += len;
        }
        None => {
            for (x, up) in xs.iter().zip(ups) {
                x.reseed(up, at, j, t);
            }
        }
    }
}

impl<T: Seed, const N: usize> Seed for [T; N] {
    type Up = [T::Up; N];
    const SIZE: Option<usize> = match T::SIZE {
        Some(k) => Some(k * N),
        None => None,
    };
    fn seed(&self, at: &mut usize, j: usize) -> Self::Up {
        std::array::from_fn(|i| self[i].seed(at, j))
    }
    #[inline]
    fn reseed(&self, up: &mut Self::Up, at: &mut usize, j: usize, t: f64) {
        reseed_slice(self, up, at, j, t);
    }
    fn count(&self) -> usize {
        self.iter().map(Seed::count).sum()
    }
}

impl<T: Seed> Seed for [T] {
    type Up = Vec<T::Up>;
    const SIZE: Option<usize> = None;
    fn seed(&self, at: &mut usize, j: usize) -> Self::Up {
        self.iter().map(|x| x.seed(at, j)).collect()
    }
    #[inline]
    fn reseed(&self, up: &mut Self::Up, at: &mut usize, j: usize, t: f64) {
        reseed_slice(self, up, at, j, t);
    }
    fn count(&self) -> usize {
        self.iter().map(Seed::count).sum()
    }
}

impl<T: Seed> Seed for Vec<T> {
    type Up = Vec<T::Up>;
    const SIZE: Option<usize> = None;
    fn seed(&self, at: &mut usize, j: usize) -> Self::Up {
        self[..].seed(at, j)
    }
    #[inline]
    fn reseed(&self, up: &mut Self::Up, at: &mut usize, j: usize, t: f64) {
        self[..].reseed(up, at, j, t);
    }
    fn count(&self) -> usize {
        self[..].count()
    }
}

/// The value lifted with zero tangent (an argument not differentiated), any shape.
pub fn constant_up<T: Seed + ?Sized>(x: &T) -> T::Up {
    x.seed(&mut 0, usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f64, outer: f64, inner: f64) -> DualDual64 {
        DualDual64::new(Dual64::new(x, outer), Dual64::c(inner))
    }

    #[test]
    fn mixed_second_derivatives_are_exact() {
        // f(x) = x³: f'' = 6x; seeding both tangents on x gives eps.eps = f''(x).
        let x = at(2.0, 1.0, 1.0);
        let y = x * x * x;
        assert_eq!((y.re.re, y.re.eps, y.eps.re, y.eps.eps), (8.0, 12.0, 12.0, 12.0));
        // exp: every derivative is exp.
        let e = at(0.5, 1.0, 1.0).exp();
        assert_eq!(e.eps.eps, 0.5f64.exp());
        // 1/sqrt(x): f'' = 3/4 x^(-5/2).
        let r = 1.0 / at(4.0, 1.0, 1.0).sqrt();
        assert!((r.eps.eps - 0.75 * 4.0f64.powf(-2.5)).abs() < 1e-15);
        // f(x, y) = x·y with the outer tangent on x and the inner on y: ∂²/∂x∂y = 1.
        let p = at(3.0, 1.0, 0.0) * at(5.0, 0.0, 1.0);
        assert_eq!((p.re.re, p.re.eps, p.eps.re, p.eps.eps), (15.0, 5.0, 3.0, 1.0));
    }

    #[test]
    fn powers_on_four_parts_match_products_and_dual64() {
        // x³ and x⁻²: f' and f'' exact at 2; the outer and inner tangents are `Dual64::powi`'s bit
        // for bit; a constant's tangents stay zero where `f'` is infinite (a negative power at 0).
        let x = DualDual64::new(Dual64::new(2.0, 0.5), Dual64::new(0.25, 0.125));
        let p = x.powi(3);
        let m = x * x * x;
        assert_eq!(p.parts(), [8.0, 6.0, 3.0, m.eps.eps]);
        assert_eq!((p.re.eps, p.eps.re), (x.re.powi(3).eps, Dual64::new(2.0, 0.25).powi(3).eps));
        let q = at(2.0, 1.0, 1.0).powi(-2);
        assert_eq!((q.re.re, q.re.eps, q.eps.re, q.eps.eps), (0.25, -0.25, -0.25, 6.0 / 16.0));
        let z = DualDual64::c(0.0).powi(-1);
        assert_eq!((z.re.eps, z.eps.re, z.eps.eps), (0.0, 0.0, 0.0));
        assert_eq!(x.powi(1).parts(), x.parts());
        // Products with a plain f64 scale every part.
        assert_eq!((x * 3.0).parts(), [6.0, 1.5, 0.75, 0.375]);
        assert_eq!((x / 2.0).parts(), [1.0, 0.25, 0.125, 0.0625]);
        assert_eq!(scale(x, 2.0).parts(), (2.0 * x).parts());
    }

    #[test]
    fn comparisons_and_constants_see_the_value() {
        assert!(at(1.0, 5.0, 5.0) < DualDual64::c(2.0));
        assert!(DualDual64::c(3.0) == 3.0);
        assert!(at(0.0, 0.0, 0.0).both_zero() && !at(0.0, 0.0, 1.0).both_zero());
    }

    #[test]
    fn seeding_counts_flat_indices() {
        let x = [1.0, 2.0, 3.0];
        let s = x.seed(&mut 0, 1);
        assert_eq!(s.map(|d| d.eps), [0.0, 1.0, 0.0]);
        let v = vec![Dual64::new(1.0, 0.5); 2];
        let mut at = 3;
        let u = v.seed(&mut at, 4);
        assert_eq!((u[0].eps.re, u[1].eps.re, u[1].re.eps, at), (0.0, 1.0, 0.5, 5));
        assert_eq!(constant_up(&x[..]).iter().map(|d| d.eps).sum::<f64>(), 0.0);
        // Reseeding a lifted value moves the seed as seeding afresh would, arrays of arrays and
        // slices of slices alike (tangents compared: `==` on duals sees the values only).
        let m = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let tangents = |u: [[Dual64; 2]; 3]| u.map(|r| r.map(|d| d.eps));
        let mut up = constant_up(&m);
        let mut at = 2;
        m.reseed(&mut up, &mut at, 5, 1.0);
        assert_eq!((tangents(up), at), (tangents(m.seed(&mut 2, 5)), 8));
        assert_eq!(tangents(up), [[0.0, 0.0], [0.0, 1.0], [0.0, 0.0]]);
        m.reseed(&mut up, &mut 2, 5, 0.0);
        assert_eq!(tangents(up), [[0.0; 2]; 3]);
        let vs = vec![vec![1.0, 2.0], vec![3.0]];
        let mut up = constant_up(&vs);
        let mut at = 0;
        vs.reseed(&mut up, &mut at, 2, 1.0);
        let flat: Vec<f64> = up.iter().flatten().map(|d| d.eps).collect();
        assert_eq!((flat, at), (vec![0.0, 0.0, 1.0], 3));
    }
}
