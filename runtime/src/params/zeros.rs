//! `ZerosLike`: a zero value with the shape of another, for gradients.
//!
//! A gradient has the shape of the parameters it belongs to, and some of that shape (a `Vec`'s
//! length) is only known at run time, so "zero" cannot be a `Default` or a constant: it is read off
//! an existing value. Generated gradient code starts from `ZerosLike::zeros_like(&net)` for a
//! struct argument `net`; `#[derive(Params)]` implements it field by field.

/// A value of the same type and shape as `self` with every scalar zero.
///
/// Implemented for `f32`, `f64`, arrays, `Vec`s and `Box`es of such values, tuples of up to four,
/// and by `#[derive(Params)]`. Its flat view ([`Params`](crate::Params)) has as many scalars as
/// `self`'s, in the same order, all zero.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no zero of its shape (`ZerosLike`)",
    label = "not `ZerosLike`",
    note = "`#[derive(Params)]` implements `ZerosLike`; a type with a hand-written `Params` impl needs one too"
)]
pub trait ZerosLike {
    /// Zero, shaped like `self` (a `Vec` keeps its length).
    #[must_use]
    fn zeros_like(&self) -> Self;
}

impl ZerosLike for f32 {
    #[inline]
    fn zeros_like(&self) -> Self {
        0.0
    }
}

impl ZerosLike for f64 {
    #[inline]
    fn zeros_like(&self) -> Self {
        0.0
    }
}

impl<T: ZerosLike, const N: usize> ZerosLike for [T; N] {
    fn zeros_like(&self) -> Self {
        // Element-wise rather than `[T::zero; N]`: an element (a `Vec`) may carry its own length.
        std::array::from_fn(|i| self[i].zeros_like())
    }
}

impl<T: ZerosLike> ZerosLike for Vec<T> {
    fn zeros_like(&self) -> Self {
        self.iter().map(ZerosLike::zeros_like).collect()
    }
}

impl<T: ZerosLike> ZerosLike for Box<T> {
    fn zeros_like(&self) -> Self {
        Box::new((**self).zeros_like())
    }
}

// `Box<[T]>` is a `Params` shape too; it does not overlap the impl above, whose `T` is sized.
impl<T: ZerosLike> ZerosLike for Box<[T]> {
    fn zeros_like(&self) -> Self {
        self.iter().map(ZerosLike::zeros_like).collect()
    }
}

macro_rules! tuple_zeros_like {
    ($(($($name:ident $idx:tt),*);)*) => {$(
        impl<$($name: ZerosLike),*> ZerosLike for ($($name,)*) {
            fn zeros_like(&self) -> Self {
                ($(self.$idx.zeros_like(),)*)
            }
        }
    )*};
}
tuple_zeros_like! {
    (A 0, B 1);
    (A 0, B 1, C 2);
    (A 0, B 1, C 2, D 3);
}

#[cfg(test)]
mod tests {
    use super::ZerosLike;
    use crate::params::{to_vec, Params};

    #[test]
    fn zeros_keep_the_shape() {
        assert_eq!(2.5_f64.zeros_like(), 0.0);
        assert_eq!((-1.0_f32).zeros_like(), 0.0);
        assert_eq!([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]].zeros_like(), [[0.0; 3]; 2]);
        // Lengths known only at run time are kept, at every depth.
        let ragged = vec![vec![1.0_f32, 2.0], vec![3.0]];
        assert_eq!(ragged.zeros_like(), vec![vec![0.0, 0.0], vec![0.0]]);
        let in_array = [vec![1.0; 3], vec![2.0; 1]];
        assert_eq!(in_array.zeros_like(), [vec![0.0; 3], vec![0.0; 1]]);
        assert_eq!(Box::new([7.0; 4]).zeros_like(), Box::new([0.0; 4]));
        let boxed: Box<[f64]> = vec![1.0, 2.0].into_boxed_slice();
        assert_eq!(&*boxed.zeros_like(), &[0.0, 0.0]);
        let t = (1.0, [2.0, 3.0], vec![4.0], 5.0_f64);
        assert_eq!(t.zeros_like(), (0.0, [0.0, 0.0], vec![0.0], 0.0));
    }

    #[test]
    fn the_flat_view_lines_up_with_the_original() {
        let p = (vec![[1.0, 2.0], [3.0, 4.0]], 5.0);
        let z = p.zeros_like();
        assert_eq!(z.num_params(), p.num_params());
        assert_eq!(to_vec(&z), vec![0.0; 5]);
        assert_eq!(z.describe(4, "g"), p.describe(4, "g"));
    }
}
