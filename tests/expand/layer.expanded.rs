#[allow(clippy::needless_range_loop, clippy::let_and_return)]
pub fn layer<const I: usize, const O: usize>(p: &Dense<I, O>, x: &[f64; I]) -> [f64; O] {
    let mut out = [0.0; O];
    for j in 0..O {
        let mut z = p.b[j];
        for i in 0..I {
            z += p.w[j][i] * x[i];
        }
        out[j] = z.tanh();
    }
    out
}
///The pullback of [`layer`] (its vector-Jacobian product), which `#[backprop]` functions calling `layer` call in their backward sweep: given the arguments, the value `layer` returned and its adjoint `d_result`, adds `d_result · ∂layer/∂a` into the sink of every array and parameter-struct argument `a` that is `Some`, and returns that of every float argument (`()` for the others).
#[inline]
#[allow(
    unused_variables,
    unused_mut,
    unused_assignments,
    unused_parens,
    non_snake_case,
    non_upper_case_globals,
    clippy::all,
    clippy::pedantic
)]
pub fn layer_pullback<const I: usize, const O: usize>(
    p: &Dense<I, O>,
    x: &[f64; I],
    result: &[f64; O],
    d_result: &[f64; O],
    d_p: ::core::option::Option<&mut Dense<I, O>>,
    d_x: ::core::option::Option<&mut [f64; I]>,
) -> ((), ()) {
    if ::backprop::__private::all_zero(d_result) {
        return ((), ());
    }
    match (d_p, d_x) {
        (::core::option::Option::None, ::core::option::Option::None) => {
            layer_pullback_sweep::<
                I,
                O,
                false,
                false,
            >(
                p,
                x,
                result,
                d_result,
                &mut ::backprop::__private::ZerosLike::zeros_like(p),
                &mut [0.0_f64; I],
            )
        }
        (::core::option::Option::Some(given_0), ::core::option::Option::None) => {
            layer_pullback_sweep::<
                I,
                O,
                true,
                false,
            >(p, x, result, d_result, given_0, &mut [0.0_f64; I])
        }
        (::core::option::Option::None, ::core::option::Option::Some(given_1)) => {
            layer_pullback_sweep::<
                I,
                O,
                false,
                true,
            >(
                p,
                x,
                result,
                d_result,
                &mut ::backprop::__private::ZerosLike::zeros_like(p),
                given_1,
            )
        }
        (
            ::core::option::Option::Some(given_0),
            ::core::option::Option::Some(given_1),
        ) => {
            layer_pullback_sweep::<
                I,
                O,
                true,
                true,
            >(p, x, result, d_result, given_0, given_1)
        }
    }
}
#[doc(hidden)]
#[inline(always)]
#[allow(
    unused_variables,
    unused_mut,
    unused_assignments,
    unused_parens,
    non_snake_case,
    non_upper_case_globals,
    clippy::all,
    clippy::pedantic
)]
pub fn layer_pullback_sweep<
    const I: usize,
    const O: usize,
    const WANT_D_P: bool,
    const WANT_D_X: bool,
>(
    p: &Dense<I, O>,
    x: &[f64; I],
    result: &[f64; O],
    d_result: &[f64; O],
    d_p: &mut Dense<I, O>,
    d_x: &mut [f64; I],
) -> ((), ()) {
    let mut d_out = ::core::clone::Clone::clone(d_result);
    for j in (0..O).rev() {
        let t0 = d_out[j];
        d_out[j] = 0.0_f64;
        let d_z = t0 * (1.0 - result[j] * result[j]);
        let mut d_z_2 = d_z;
        for i in 0..I {
            if WANT_D_X {
                d_x[i] += d_z_2 * p.w[j][i];
            }
            if WANT_D_P {
                d_p.w[j][i] += d_z_2 * x[i];
            }
        }
        if WANT_D_P {
            d_p.b[j] += d_z_2;
        }
    }
    ((), ())
}
///[`layer`] and its pullback in one call (its vjp), which `#[backprop]` functions calling `layer` once call in their forward sweep: runs `layer` and returns its value and a closure that, given the value's adjoint `d_result` and the sinks of `layer_pullback`, runs the backward sweep on what the forward sweep kept, with nothing recomputed.
#[inline]
#[allow(
    unused_variables,
    unused_mut,
    unused_assignments,
    unused_parens,
    non_snake_case,
    non_upper_case_globals,
    clippy::all,
    clippy::pedantic
)]
pub fn layer_vjp<'a, const I: usize, const O: usize>(
    p: &'a Dense<I, O>,
    x: &'a [f64; I],
) -> (
    [f64; O],
    impl ::core::ops::FnOnce(
        &[f64; O],
        ::core::option::Option<&mut Dense<I, O>>,
        ::core::option::Option<&mut [f64; I]>,
    ) -> ((), ()) + 'a,
) {
    let mut tape_t0: [f64; O] = [0.0; O];
    let mut tape_t0_len = 0usize;
    let mut out = [0.0_f64; O];
    for j in 0..O {
        let mut z = p.b[j];
        for i in 0..I {
            let z_2 = z + p.w[j][i] * x[i];
            z = z_2;
        }
        let t0 = z.tanh();
        tape_t0[tape_t0_len] = t0;
        tape_t0_len += 1;
        out[j] = t0;
    }
    (
        ::core::clone::Clone::clone(&out),
        move |
            d_result: &[f64; O],
            d_p: ::core::option::Option<&mut Dense<I, O>>,
            d_x: ::core::option::Option<&mut [f64; I]>|
        {
            if ::backprop::__private::all_zero(d_result) {
                return ((), ());
            }
            let mut d_p_scratch;
            let (WANT_D_P, d_p): (bool, &mut Dense<I, O>) = match d_p {
                ::core::option::Option::Some(given) => (true, given),
                ::core::option::Option::None => {
                    d_p_scratch = ::backprop::__private::ZerosLike::zeros_like(p);
                    (false, &mut d_p_scratch)
                }
            };
            let mut d_x_scratch;
            let (WANT_D_X, d_x): (bool, &mut [f64; I]) = match d_x {
                ::core::option::Option::Some(given) => (true, given),
                ::core::option::Option::None => {
                    d_x_scratch = [0.0_f64; I];
                    (false, &mut d_x_scratch)
                }
            };
            let mut d_out = ::core::clone::Clone::clone(d_result);
            for j in (0..O).rev() {
                tape_t0_len -= 1;
                let t0 = tape_t0[tape_t0_len];
                let t1 = d_out[j];
                d_out[j] = 0.0_f64;
                let d_z = t1 * (1.0 - t0 * t0);
                let mut d_z_2 = d_z;
                for i in 0..I {
                    if WANT_D_X {
                        d_x[i] += d_z_2 * p.w[j][i];
                    }
                    if WANT_D_P {
                        d_p.w[j][i] += d_z_2 * x[i];
                    }
                }
                if WANT_D_P {
                    d_p.b[j] += d_z_2;
                }
            }
            ((), ())
        },
    )
}
/** The value of [`layer`] and its Jacobian `j[k * n + i] = ∂out_k/∂θᵢ`, row-major in one buffer (`M` rows of `n`; `i` over the flat view of the differentiated arguments, in order, each row-major; structs in `Params` order), generated by `#[backprop]`; [`layer_jacobian`] gives the rows.

 # How

 Reverse mode (this function calls others, or is not over `f64`, so it has no forward-mode copy): [`layer`] once, then [`layer_pullback`] once per output `k` with the unit seed `e_k`; row `k` is what that pullback adds into zero sinks (and returns for float arguments). Cost: `M` pullbacks, each about one gradient of one output (its forward sweep included).*/
#[allow(clippy::all, clippy::pedantic, unused, non_snake_case)]
pub fn layer_jacobian_flat<const I: usize, const O: usize>(
    p: &Dense<I, O>,
    x: &[f64; I],
) -> ([f64; O], ::std::vec::Vec<f64>) {
    let __out = layer::<I, O>(p, x);
    let mut __seed = ::backprop::__private::ZerosLike::zeros_like(&__out);
    let mut __flat = ::std::vec::Vec::new();
    for __k in 0..__out.len() {
        __seed[__k] = 1.0;
        let mut __jacobian_p = ::backprop::__private::ZerosLike::zeros_like(p);
        let mut __jacobian_x = ::backprop::__private::ZerosLike::zeros_like(x);
        let __adjoints = layer_pullback::<
            I,
            O,
        >(
            p,
            x,
            &__out,
            &__seed,
            ::backprop::__private::sink(&mut __jacobian_p),
            ::backprop::__private::sink(&mut __jacobian_x),
        );
        __seed[__k] = 0.0;
        let mut __row = __flat;
        ::backprop::__private::dual::extend_flat(&mut __row, &__jacobian_p);
        ::backprop::__private::dual::extend_flat(&mut __row, &__jacobian_x);
        __flat = __row;
    }
    (__out, __flat)
}
/// The value of [`layer`] and its Jacobian `j[k][i] = ∂out_k/∂θᵢ` as rows (`i` over the flat view of the differentiated arguments, in order, each row-major; structs in `Params` order), generated by `#[backprop]`: the rows of [`layer_jacobian_flat`], which returns the same numbers in one row-major buffer (`j[k * n + i]`, one allocation instead of one per row); see it for how they are computed.
#[allow(clippy::all, clippy::pedantic, unused, non_snake_case)]
pub fn layer_jacobian<const I: usize, const O: usize>(
    p: &Dense<I, O>,
    x: &[f64; I],
) -> ([f64; O], ::std::vec::Vec<::std::vec::Vec<f64>>) {
    let (__out, __flat) = layer_jacobian_flat::<I, O>(p, x);
    let __m = __out.len();
    let __n = if __m == 0 { 0 } else { __flat.len() / __m };
    let __rows = (0..__m)
        .map(|__k| __flat[__k * __n..(__k + 1) * __n].to_vec())
        .collect();
    (__out, __rows)
}
