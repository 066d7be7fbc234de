//! Activation functions and their derivatives with respect to `x` (and `alpha` where it is a
//! parameter), written to stay finite at large `|x|`.
//!
//! The macro calls these by name when a cost function uses them, so names and signatures are
//! part of the public contract. Conventions at kinks follow PyTorch: `relu'(0) = 0`,
//! `leaky_relu'(0) = alpha`. NaN in gives NaN out everywhere.

use crate::Float;

#[inline]
fn two<F: Float>() -> F {
    F::one() + F::one()
}

/// The logistic function `1 / (1 + e^-x)`.
///
/// Computed in the sign-split form so `e^x` is only ever taken of a non-positive number: the
/// naive form overflows `e^-x` for very negative `x` (giving `1/inf`, fine) but loses all
/// relative precision there; the split form keeps it.
#[inline]
pub fn sigmoid<F: Float>(x: F) -> F {
    if x >= F::zero() {
        F::one() / (F::one() + (-x).exp())
    } else {
        // Also the NaN path: exp(NaN) / (1 + NaN) is NaN.
        let e = x.exp();
        e / (F::one() + e)
    }
}

/// `sigmoid'(x) = sigmoid(x) * sigmoid(-x)`.
///
/// Written with `sigmoid(-x)` rather than `1 - sigmoid(x)` because the subtraction rounds to 0
/// for large positive `x`, where the true derivative `≈ e^-x` is still representable.
#[inline]
pub fn sigmoid_derivative<F: Float>(x: F) -> F {
    sigmoid(x) * sigmoid(-x)
}

/// `max(x, 0)`, propagating NaN (unlike `x.max(0.0)`, which would return 0 for NaN).
#[inline]
pub fn relu<F: Float>(x: F) -> F {
    // `x > 0` is false for NaN, so NaN takes the first branch along with positive numbers.
    if x > F::zero() || x.is_nan() {
        x
    } else {
        F::zero()
    }
}

/// 1 for `x > 0`, 0 for `x <= 0` (0 at the kink, like PyTorch), NaN for NaN.
#[inline]
pub fn relu_derivative<F: Float>(x: F) -> F {
    if x > F::zero() {
        F::one()
    } else if x.is_nan() {
        x
    } else {
        F::zero()
    }
}

/// `x` for `x > 0`, else `alpha * x`.
#[inline]
pub fn leaky_relu<F: Float>(x: F, alpha: F) -> F {
    if x > F::zero() {
        x
    } else {
        alpha * x
    }
}

/// 1 for `x > 0`, else `alpha` (so `alpha` at the kink, like PyTorch); NaN for NaN.
#[inline]
pub fn leaky_relu_derivative<F: Float>(x: F, alpha: F) -> F {
    if x > F::zero() {
        F::one()
    } else if x.is_nan() {
        x
    } else {
        alpha
    }
}

/// Derivative of [`leaky_relu`] with respect to `alpha`: 0 for `x > 0`, else `x`.
#[inline]
pub fn leaky_relu_alpha_derivative<F: Float>(x: F, _alpha: F) -> F {
    if x > F::zero() {
        F::zero()
    } else {
        x
    }
}

/// `ln(1 + e^x)` as `max(x, 0) + ln_1p(e^-|x|)`, so it never overflows and
/// `softplus(1000.0) == 1000.0` exactly.
#[inline]
pub fn softplus<F: Float>(x: F) -> F {
    // NaN: `relu` keeps it, and the ln_1p term is NaN as well.
    relu(x) + (-x.abs()).exp().ln_1p()
}

/// `softplus'(x) = sigmoid(x)`.
#[inline]
pub fn softplus_derivative<F: Float>(x: F) -> F {
    sigmoid(x)
}

/// `x` for `x > 0`, else `alpha * (e^x - 1)`, using `exp_m1` for accuracy near 0.
#[inline]
pub fn elu<F: Float>(x: F, alpha: F) -> F {
    if x > F::zero() {
        x
    } else {
        alpha * x.exp_m1()
    }
}

/// 1 for `x > 0`, else `alpha * e^x`.
#[inline]
pub fn elu_derivative<F: Float>(x: F, alpha: F) -> F {
    if x > F::zero() {
        F::one()
    } else {
        alpha * x.exp()
    }
}

/// Derivative of [`elu`] with respect to `alpha`: 0 for `x > 0`, else `e^x - 1`.
#[inline]
pub fn elu_alpha_derivative<F: Float>(x: F, _alpha: F) -> F {
    if x > F::zero() {
        F::zero()
    } else {
        x.exp_m1()
    }
}

/// `x * sigmoid(x)` (a.k.a. swish).
#[inline]
pub fn silu<F: Float>(x: F) -> F {
    let s = sigmoid(x);
    // When sigmoid underflows to 0 the product is 0; testing first keeps `-inf * 0` from
    // turning the limit 0 into NaN.
    if s == F::zero() {
        F::zero()
    } else {
        x * s
    }
}

/// `silu'(x) = sigmoid(x) + x * sigmoid(x) * sigmoid(-x)`.
#[inline]
pub fn silu_derivative<F: Float>(x: F) -> F {
    let s = sigmoid(x);
    let p = s * sigmoid(-x);
    // `p` underflows to 0 far in the tails; skipping the product avoids `inf * 0`.
    if p == F::zero() {
        s
    } else {
        s + x * p
    }
}

/// `sqrt(2/pi)` and the cubic coefficient of the tanh approximation of GELU.
#[inline]
fn gelu_consts<F: Float>() -> (F, F) {
    ((two::<F>() / F::PI()).sqrt(), F::of_f64(0.044_715))
}

/// GELU, tanh approximation: `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
///
/// Evaluated as `x * sigmoid(2u)` (the same function, since `1 + tanh(u) = 2 sigmoid(2u)`),
/// which keeps relative precision for negative `x` where `1 + tanh(u)` would cancel to 0.
#[inline]
pub fn gelu<F: Float>(x: F) -> F {
    let (k, c) = gelu_consts::<F>();
    let u = k * (x + c * x * x * x);
    let s = sigmoid(two::<F>() * u);
    if s == F::zero() {
        F::zero()
    } else {
        x * s
    }
}

/// Derivative of the tanh-approximated [`gelu`]:
/// `sigmoid(2u) + x * 2u'(x) * sigmoid(2u) * sigmoid(-2u)` with `u' = sqrt(2/pi)(1 + 3c x^2)`.
#[inline]
pub fn gelu_derivative<F: Float>(x: F) -> F {
    let (k, c) = gelu_consts::<F>();
    let two_u = two::<F>() * k * (x + c * x * x * x);
    let s = sigmoid(two_u);
    let p = s * sigmoid(-two_u);
    if p == F::zero() {
        // Far tails: the second term is 0 in the limit, and computing it could give inf * 0.
        return s;
    }
    let three = two::<F>() + F::one();
    let du = two::<F>() * k * (F::one() + three * c * x * x);
    s + x * du * p
}

/// `x / (1 + |x|)`, with the limits ±1 at ±infinity.
#[inline]
pub fn softsign<F: Float>(x: F) -> F {
    if x.is_infinite() {
        x.signum()
    } else {
        x / (F::one() + x.abs())
    }
}

/// `1 / (1 + |x|)^2`.
#[inline]
pub fn softsign_derivative<F: Float>(x: F) -> F {
    let d = F::one() + x.abs();
    F::one() / (d * d)
}

/// An activation as data, for models that pick their nonlinearity at run time.
///
/// Parameterised variants carry their `alpha`. `apply` and `derivative` are one `match` each;
/// the derivative is with respect to the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation<F> {
    /// [`sigmoid`]
    Sigmoid,
    /// [`relu`]
    Relu,
    /// [`leaky_relu`] with its negative slope.
    LeakyRelu(F),
    /// [`softplus`]
    Softplus,
    /// [`elu`] with its `alpha`.
    Elu(F),
    /// [`silu`]
    Silu,
    /// [`gelu`] (tanh approximation)
    Gelu,
    /// [`softsign`]
    Softsign,
    /// `tanh`
    Tanh,
    /// `x`
    Identity,
}

impl<F: Float> Activation<F> {
    /// The activation's value at `x`.
    pub fn apply(&self, x: F) -> F {
        match *self {
            Activation::Sigmoid => sigmoid(x),
            Activation::Relu => relu(x),
            Activation::LeakyRelu(alpha) => leaky_relu(x, alpha),
            Activation::Softplus => softplus(x),
            Activation::Elu(alpha) => elu(x, alpha),
            Activation::Silu => silu(x),
            Activation::Gelu => gelu(x),
            Activation::Softsign => softsign(x),
            Activation::Tanh => x.tanh(),
            Activation::Identity => x,
        }
    }

    /// The derivative of [`Activation::apply`] with respect to `x`.
    pub fn derivative(&self, x: F) -> F {
        match *self {
            Activation::Sigmoid => sigmoid_derivative(x),
            Activation::Relu => relu_derivative(x),
            Activation::LeakyRelu(alpha) => leaky_relu_derivative(x, alpha),
            Activation::Softplus => softplus_derivative(x),
            Activation::Elu(alpha) => elu_derivative(x, alpha),
            Activation::Silu => silu_derivative(x),
            Activation::Gelu => gelu_derivative(x),
            Activation::Softsign => softsign_derivative(x),
            Activation::Tanh => {
                let t = x.tanh();
                F::one() - t * t
            }
            Activation::Identity => {
                if x.is_nan() {
                    x
                } else {
                    F::one()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Activation<f64>; 10] = [
        Activation::Sigmoid,
        Activation::Relu,
        Activation::LeakyRelu(0.01),
        Activation::Softplus,
        Activation::Elu(1.5),
        Activation::Silu,
        Activation::Gelu,
        Activation::Softsign,
        Activation::Tanh,
        Activation::Identity,
    ];

    fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
        let h = 1e-6;
        (f(x + h) - f(x - h)) / (2.0 * h)
    }

    #[test]
    fn derivatives_match_finite_differences_away_from_kinks() {
        for act in ALL {
            for &x in &[-3.7, -1.2, -0.3, 0.4, 1.1, 2.9] {
                let numeric = central(|t| act.apply(t), x);
                let exact = act.derivative(x);
                assert!((numeric - exact).abs() < 1e-8, "{act:?} at {x}: {exact} vs {numeric}");
            }
        }
        for &x in &[-2.0, -0.5, 0.5, 2.0] {
            let n = central(|a| leaky_relu(x, a), 0.2);
            assert!((n - leaky_relu_alpha_derivative(x, 0.2)).abs() < 1e-8);
            let n = central(|a| elu(x, a), 0.7);
            assert!((n - elu_alpha_derivative(x, 0.7)).abs() < 1e-8);
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert_eq!(sigmoid_derivative(0.0), 0.25);
        assert_eq!(softplus(0.0_f64), 2.0_f64.ln());
        assert_eq!(softsign(1.0), 0.5);
        assert_eq!(softsign_derivative(-1.0), 0.25);
        assert_eq!(silu(0.0), 0.0);
        assert_eq!(silu_derivative(0.0), 0.5);
        assert_eq!(gelu(0.0), 0.0);
        assert_eq!(gelu_derivative(0.0), 0.5);
        // gelu(1) with the tanh formula written out directly.
        let direct = 0.5 * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * 1.044715_f64).tanh());
        assert!((gelu(1.0) - direct).abs() < 1e-15);
        assert!((elu(-1.0, 2.0) - 2.0 * (-1.0_f64).exp_m1()).abs() < 1e-16);
    }

    #[test]
    fn kink_conventions_follow_pytorch() {
        assert_eq!(relu_derivative(0.0), 0.0);
        assert_eq!(relu_derivative(-0.0), 0.0);
        assert_eq!(leaky_relu_derivative(0.0, 0.1), 0.1);
        assert_eq!(leaky_relu_alpha_derivative(3.0, 0.1), 0.0);
        assert_eq!(leaky_relu_alpha_derivative(-3.0, 0.1), -3.0);
        assert_eq!(elu_derivative(0.0, 2.0), 2.0);
        assert_eq!(elu_alpha_derivative(1.0, 2.0), 0.0);
    }

    #[test]
    fn stable_at_large_magnitudes() {
        assert_eq!(softplus(1000.0_f64), 1000.0);
        assert_eq!(softplus(-1000.0_f64), 0.0);
        assert_eq!(softplus(100.0_f32), 100.0);
        for &x in &[-800.0_f64, 800.0] {
            for act in ALL {
                assert!(act.apply(x).is_finite(), "{act:?}({x})");
                assert!(act.derivative(x).is_finite(), "{act:?}'({x})");
            }
        }
        let all32 = [
            Activation::<f32>::Sigmoid,
            Activation::Softplus,
            Activation::Elu(1.0),
            Activation::Silu,
            Activation::Gelu,
            Activation::Softsign,
        ];
        for &x in &[-100.0_f32, 100.0] {
            for act in all32 {
                assert!(act.apply(x).is_finite(), "{act:?}({x})");
                assert!(act.derivative(x).is_finite(), "{act:?}'({x})");
            }
        }
        assert_eq!(sigmoid(800.0), 1.0);
        assert_eq!(sigmoid(-800.0), 0.0);
        assert_eq!(silu_derivative(800.0), 1.0);
        assert_eq!(gelu_derivative(800.0), 1.0);
        assert_eq!(gelu_derivative(-800.0), 0.0);
        // The split form keeps precision where 1 - sigmoid would round to 0.
        assert!((sigmoid_derivative(40.0) - (-40.0_f64).exp()).abs() < 1e-30);
        assert!((sigmoid(-40.0) / (-40.0_f64).exp() - 1.0).abs() < 1e-12);
        assert_eq!(softsign(f64::INFINITY), 1.0);
    }

    #[test]
    fn nan_propagates() {
        for act in ALL {
            assert!(act.apply(f64::NAN).is_nan(), "{act:?}");
            assert!(act.derivative(f64::NAN).is_nan(), "{act:?}'");
        }
        assert!(leaky_relu_alpha_derivative(f64::NAN, 0.1).is_nan());
        assert!(elu_alpha_derivative(f64::NAN, 0.1).is_nan());
    }
}
