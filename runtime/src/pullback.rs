//! The `sink` helper of the pullback calling convention (issue 8): how a caller hands its
//! adjoint buffer to a callee's pullback.
//!
//! A pullback takes one `Option<&mut U>` per reference or array parameter and *adds* into it
//! (`None`: the caller does not need that adjoint, so the pullback skips the work). The caller
//! writes `sink(&mut d_x)` for the adjoint it holds, and the pullback's parameter type decides
//! `U`: the adjoint's own type, or `[F]` when the callee takes a slice and the caller holds an
//! array or a `Vec`. Generated code never has to know which; type inference picks the impl.
//!
//! A caller's adjoint binding may itself be a `&mut` (the accumulating form binds
//! `let d_x = &mut grad.x;`), so `sink(&mut d_x)` is also accepted on a `&mut &mut T` and sees
//! through the outer reference.

/// A place whose adjoint buffer can be lent as a `&mut U` (see [`sink`]).
///
/// Implemented for every `T` as itself, for `[F; N]` and `Vec<F>` as `[F]`, and for `&mut P`
/// as whatever `P` lends, one level deep. The impls never overlap because they differ in `U`,
/// which is why the pullback's parameter type alone selects one.
pub trait IntoSink<U: ?Sized> {
    /// Reborrows `self` as the buffer the pullback adds into.
    fn sink_mut(&mut self) -> &mut U;
}

impl<T: ?Sized> IntoSink<T> for T {
    #[inline(always)]
    fn sink_mut(&mut self) -> &mut T {
        self
    }
}

impl<F, const N: usize> IntoSink<[F]> for [F; N] {
    #[inline(always)]
    fn sink_mut(&mut self) -> &mut [F] {
        self
    }
}

impl<F> IntoSink<[F]> for Vec<F> {
    #[inline(always)]
    fn sink_mut(&mut self) -> &mut [F] {
        self
    }
}

impl<T: ?Sized> IntoSink<T> for &mut T {
    #[inline(always)]
    fn sink_mut(&mut self) -> &mut T {
        self
    }
}

impl<F, const N: usize> IntoSink<[F]> for &mut [F; N] {
    #[inline(always)]
    fn sink_mut(&mut self) -> &mut [F] {
        &mut self[..]
    }
}

impl<F> IntoSink<[F]> for &mut Vec<F> {
    #[inline(always)]
    fn sink_mut(&mut self) -> &mut [F] {
        self
    }
}

/// Lends the adjoint buffer at `place` to a pullback: `Some(&mut U)`, with `U` taken from the
/// pullback's parameter (`T` itself, or `[F]` for an array or `Vec` place).
///
/// ```
/// use backprop_runtime::pullback::sink;
///
/// fn adds_to_slice(s: Option<&mut [f64]>) {
///     if let Some(s) = s {
///         s[0] += 1.0;
///     }
/// }
/// let mut d_x = [0.5_f64; 3];
/// adds_to_slice(sink(&mut d_x));
/// assert_eq!(d_x, [1.5, 0.5, 0.5]);
/// ```
#[inline(always)]
pub fn sink<P, U>(place: &mut P) -> Option<&mut U>
where
    P: IntoSink<U> + ?Sized,
    U: ?Sized,
{
    Some(place.sink_mut())
}

/// Whether every scalar of an adjoint is zero. A pullback seeded with an all-zero adjoint (the
/// result of a call read only in a branch that did not run) returns at once: it adds exactly
/// zero, also where a local factor is infinite (`sqrt` at 0), instead of `0 · ∞ = NaN`.
pub fn all_zero<P: crate::Params + ?Sized>(adjoint: &P) -> bool {
    let mut zero = true;
    adjoint.visit(&mut |x| zero &= x == <P::Scalar as num_traits::Zero>::zero());
    zero
}

#[cfg(test)]
mod tests {
    use super::sink;

    fn takes_slice(s: Option<&mut [f64]>) -> usize {
        match s {
            Some(s) => {
                for v in s.iter_mut() {
                    *v += 1.0;
                }
                s.len()
            }
            None => 0,
        }
    }

    fn takes_array(s: Option<&mut [f64; 3]>) {
        if let Some(s) = s {
            s[2] += 10.0;
        }
    }

    #[derive(Debug, PartialEq)]
    struct Pair {
        a: f64,
        b: [f64; 2],
    }

    fn takes_pair(s: Option<&mut Pair>) {
        if let Some(s) = s {
            s.a += 1.0;
            s.b[1] += 2.0;
        }
    }

    fn takes_vec(s: Option<&mut Vec<f32>>) {
        if let Some(s) = s {
            s[0] += 1.0;
        }
    }

    /// The generic shape generated code has: the element type and length come from the callee.
    fn takes_generic_array<F: crate::Float, const N: usize>(s: Option<&mut [F; N]>) {
        if let Some(s) = s {
            s[0] += F::one();
        }
    }

    #[test]
    fn an_array_or_vec_feeds_a_slice_parameter() {
        let mut arr = [1.0, 2.0, 3.0];
        assert_eq!(takes_slice(sink(&mut arr)), 3);
        assert_eq!(arr, [2.0, 3.0, 4.0]);
        let mut vec = vec![0.5, -0.5];
        assert_eq!(takes_slice(sink(&mut vec)), 2);
        assert_eq!(vec, [1.5, 0.5]);
        let mut boxed: Box<[f64]> = vec![0.0; 4].into_boxed_slice();
        assert_eq!(takes_slice(sink(&mut *boxed)), 4);
        assert_eq!(&*boxed, &[1.0; 4]);
    }

    #[test]
    fn a_place_feeds_a_parameter_of_its_own_type() {
        let mut arr = [1.0, 2.0, 3.0];
        takes_array(sink(&mut arr));
        assert_eq!(arr, [1.0, 2.0, 13.0]);
        let mut pair = Pair { a: 1.0, b: [0.0, 0.0] };
        takes_pair(sink(&mut pair));
        assert_eq!(pair, Pair { a: 2.0, b: [0.0, 2.0] });
        let mut vec = vec![1.0_f32];
        takes_vec(sink(&mut vec));
        assert_eq!(vec, [2.0]);
        let mut generic = [0.0_f32; 5];
        takes_generic_array(sink(&mut generic));
        assert_eq!(generic, [1.0, 0.0, 0.0, 0.0, 0.0]);
        // With a single impl to choose from, `U` is inferred even without an expected type.
        let s = sink(&mut pair);
        takes_pair(s);
        assert_eq!(pair.a, 3.0);
    }

    #[test]
    fn a_binding_that_is_itself_a_reference_is_seen_through() {
        // The accumulating form binds the caller's buffer as `let d_x = &mut grad.x;`.
        let mut grad_x = [0.0; 3];
        let mut d_x = &mut grad_x;
        takes_array(sink(&mut d_x));
        assert_eq!(takes_slice(sink(&mut d_x)), 3);
        assert_eq!(grad_x, [1.0, 1.0, 11.0]);
        // `let d_v = &mut grad.v[..];` for a slice argument.
        let mut grad_v = vec![0.0; 2];
        let mut d_v = &mut grad_v[..];
        assert_eq!(takes_slice(sink(&mut d_v)), 2);
        let mut d_w = &mut grad_v;
        assert_eq!(takes_slice(sink(&mut d_w)), 2);
        assert_eq!(grad_v, [2.0, 2.0]);
        let mut pair = Pair { a: 0.0, b: [0.0; 2] };
        let mut d_pair = &mut pair;
        takes_pair(sink(&mut d_pair));
        assert_eq!(pair.a, 1.0);
    }
}
