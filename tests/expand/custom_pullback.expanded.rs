pub fn erf(x: f64) -> f64 {
    libm::erf(x)
}
///[`erf`] and its pullback in one call: what `#[backprop]` functions calling `erf` once call in their forward sweep. The closure calls `erf_pullback` at the value `erf` returned.
#[inline]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn erf_vjp<'a>(x: f64) -> (f64, impl ::core::ops::FnOnce(f64) -> (f64,) + 'a) {
    let result = erf(x);
    (result, move |d_result: f64| erf_pullback(x, result, d_result))
}
///The pullback of [`erf`], given by its custom derivative `erf_rule` (`#[backprop(pullback = erf_rule)]`): what `#[backprop]` functions calling `erf` call in their backward sweep.
#[inline]
#[allow(clippy::too_many_arguments)]
pub fn erf_pullback(x: f64, result: f64, d_result: f64) -> (f64,) {
    erf_rule(x, result, d_result)
}
#[doc(hidden)]
#[allow(unused, non_snake_case, clippy::all)]
pub fn __backprop_dual_erf<__A0>(_: __A0) -> !
where
    for<'__h> ::backprop::__private::NoForwardMode: ::backprop::__private::HasForwardMode,
{
    ::core::unreachable!()
}
#[doc(hidden)]
#[allow(unused, non_snake_case, clippy::all)]
pub fn erf_pullback_dual<__A0, __A1, __A2>(_: __A0, _: __A1, _: __A2) -> !
where
    for<'__h> ::backprop::__private::NoSecondOrder: ::backprop::__private::HasSecondOrder,
{
    ::core::unreachable!()
}
#[doc(hidden)]
#[allow(unused, non_snake_case, clippy::all)]
pub fn erf_vjp_dual<__A0>(_: __A0) -> !
where
    for<'__h> ::backprop::__private::NoSecondOrder: ::backprop::__private::HasSecondOrder,
{
    ::core::unreachable!()
}
