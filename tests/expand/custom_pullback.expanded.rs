pub fn erf(x: f64) -> f64 {
    libm::erf(x)
}
///The pullback of [`erf`], given by its custom derivative `erf_vjp` (`#[backprop(pullback = erf_vjp)]`): what `#[backprop]` functions calling `erf` call in their backward sweep.
#[inline]
#[allow(clippy::too_many_arguments)]
pub fn erf_pullback(x: f64, result: f64, d_result: f64) -> (f64,) {
    erf_vjp(x, result, d_result)
}
