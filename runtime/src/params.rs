//! The flat view of a parameter shape: scalars, arrays, `Vec`s, boxed slices, tuples and the
//! gradient structs `#[backprop]` generates all look like one ordered list of scalars.
//!
//! Optimizers, the trainer and the gradient check only ever see this view, so they work on any
//! shape without the user copying parameters into a vector. [`ZerosLike`] (`params/zeros.rs`)
//! makes a zero of the same shape, for gradients.

use std::ops::Range;

use crate::{Error, Float};

mod zeros;
pub use zeros::ZerosLike;
// Brings `is_finite`, `sqrt`, ... into scope for `P::Scalar`, whose bound is only `crate::Float`.
use num_traits::Float as _;

/// A value made of scalars that optimizers can read and update in a fixed order.
///
/// The order is part of the contract: struct fields in declaration order, arrays and `Vec`s
/// element by element (row-major for nested arrays). Two values of the same type with the same
/// lengths therefore line up index by index, which is what lets a gradient of type `P` update
/// parameters of type `P`.
///
/// `#[derive(Params)]` (in the `backprop` crate) implements it for a struct of such fields.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a parameter shape (`Params`)",
    label = "not `Params`",
    note = "`Params` is implemented for `f64`, `f32`, arrays, slices, `Vec`s, `Box<[T]>` and tuples of them, the \
            gradient structs `#[backprop]` generates, and structs with `#[derive(Params)]`"
)]
pub trait Params {
    /// The scalar type of every entry.
    type Scalar: Float;
    /// Number of scalars in the flat view.
    fn num_params(&self) -> usize;
    /// Visit every scalar in a fixed order (fields in declaration order, arrays row-major).
    fn visit(&self, f: &mut dyn FnMut(Self::Scalar));
    /// Visit every scalar mutably, in the same order as [`Params::visit`].
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut Self::Scalar));
    /// Human name of the scalar at flat index `index`, e.g. `w1`, `w[2][0]`; `prefix` is prepended.
    fn describe(&self, index: usize, prefix: &str) -> String;

    /// The value as named tensors: each a block of the flat view with a row-major shape, in
    /// flat order, covering every scalar once (what `.safetensors` files store, one per field).
    ///
    /// Scalars are 0-dimensional, arrays of equal-shaped elements stack into one tensor
    /// (`[[f64; 64]; 32]` is one tensor of shape `[32, 64]`), struct fields and tuple members
    /// are separate tensors. `prefix` is prepended to names as in [`Params::describe`].
    ///
    /// The default, which the gradient structs `#[backprop]` generates use, recovers the
    /// tensors from [`Params::describe`]'s names: consecutive scalars named `w1[j][i]` with
    /// the same stem form tensor `w1`, its shape read off the largest indices. Implement it
    /// directly when your names do not follow that pattern.
    fn tensors(&self, prefix: &str) -> Vec<TensorInfo> {
        tensors_from_names(self, prefix)
    }
}

/// One tensor of a [`Params`] value: [`Params::tensors`] lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// The field's name, e.g. `w1`, `net.0`, or `param` for an unnamed top-level value.
    pub name: String,
    /// Row-major shape; empty for a scalar.
    pub shape: Vec<usize>,
    /// Where the tensor's scalars sit in the flat view ([`Params::visit`] order).
    pub range: Range<usize>,
}

/// [`Params::tensors`] from the names [`Params::describe`] gives (the trait's default).
///
/// A name is a stem followed by indices, `w1[3][17]`; a run of consecutive scalars with the
/// same stem and the same number of indices is one tensor. Its shape is one more than the
/// largest index per dimension, provided the run lists exactly that box in row-major order;
/// a run that does not (a ragged `Vec<Vec<f64>>`) is kept as one flat tensor of its length.
pub fn tensors_from_names<P: Params + ?Sized>(params: &P, prefix: &str) -> Vec<TensorInfo> {
    let n = params.num_params();
    let mut out = Vec::new();
    let mut run: Vec<Vec<usize>> = Vec::new();
    let mut stem = String::new();
    let mut start = 0;
    for i in 0..n {
        let name = params.describe(i, prefix);
        let (s, index) = split_indices(&name);
        let continues = i > 0 && s == stem && run.first().is_some_and(|first| first.len() == index.len());
        if !continues {
            if i > 0 {
                out.push(run_tensor(std::mem::take(&mut stem), &run, start..i));
                run.clear();
            }
            stem = s.to_string();
            start = i;
        }
        run.push(index);
    }
    if n > 0 {
        out.push(run_tensor(stem, &run, start..n));
    }
    out
}

/// Splits `w1[3][17]` into `("w1", [3, 17])`; a name without trailing indices has none.
fn split_indices(name: &str) -> (&str, Vec<usize>) {
    let mut rest = name;
    let mut indices = Vec::new();
    while let Some(inner) = rest.strip_suffix(']') {
        let Some(open) = inner.rfind('[') else { break };
        let Ok(k) = inner[open + 1..].parse::<usize>() else { break };
        indices.push(k);
        rest = &inner[..open];
    }
    indices.reverse();
    (rest, indices)
}

/// The tensor of one run of same-stem names, with the box shape its indices span if they
/// enumerate it row-major, else flat.
fn run_tensor(name: String, indices: &[Vec<usize>], range: Range<usize>) -> TensorInfo {
    let ndim = indices.first().map_or(0, Vec::len);
    let mut shape = vec![0; ndim];
    for index in indices {
        for (extent, &k) in shape.iter_mut().zip(index) {
            *extent = (*extent).max(k + 1);
        }
    }
    let row_major = shape.iter().product::<usize>() == indices.len()
        && indices.iter().enumerate().all(|(position, index)| {
            let mut rest = position;
            let mut expected = vec![0; ndim];
            for (slot, extent) in expected.iter_mut().zip(&shape).rev() {
                *slot = rest % extent;
                rest /= extent;
            }
            expected == *index
        });
    let shape = if row_major { shape } else { vec![indices.len()] };
    TensorInfo { name, shape, range }
}

/// [`Params::tensors`] of a sequence: one stacked tensor when every element is a single tensor
/// of the same shape (an array of numbers, of arrays, ...), otherwise each element's tensors
/// under `name[i]`.
fn seq_tensors<T: Params>(items: &[T], prefix: &str) -> Vec<TensorInfo> {
    let base = base(prefix);
    let mut parts = Vec::with_capacity(items.len());
    let mut offset = 0;
    let mut stackable = true;
    for (i, item) in items.iter().enumerate() {
        let name = format!("{base}[{i}]");
        let n = item.num_params();
        let mut tensors = item.tensors(&name);
        stackable &= matches!(&tensors[..], [t] if t.name == name && t.range == (0..n));
        for t in &mut tensors {
            t.range = t.range.start + offset..t.range.end + offset;
        }
        offset += n;
        parts.push(tensors);
    }
    let first_shape = parts.first().and_then(|p| p.first()).map(|t| t.shape.clone());
    if let (true, Some(inner)) = (stackable, first_shape) {
        if parts.iter().all(|p| p[0].shape == inner) {
            let mut shape = vec![items.len()];
            shape.extend(inner);
            return vec![TensorInfo { name: base.to_string(), shape, range: 0..offset }];
        }
    }
    parts.into_iter().flatten().collect()
}

/// The base name containers use: the caller's prefix, or "param" at the top level.
pub(crate) fn base(prefix: &str) -> &str {
    if prefix.is_empty() {
        "param"
    } else {
        prefix
    }
}

/// [`Params::describe`] for a struct whose fields, in declaration order, are `fields`: finds the
/// field holding `index` and names it `field` (or `prefix.field`) followed by the field's own
/// naming. The gradient structs `#[backprop]` generates call this.
pub fn describe_fields<S: Float>(fields: &[(&str, &dyn Params<Scalar = S>)], index: usize, prefix: &str) -> String {
    let mut rest = index;
    for (name, field) in fields {
        let n = field.num_params();
        if rest < n {
            let label = if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") };
            return field.describe(rest, &label);
        }
        rest -= n;
    }
    out_of_range(prefix, index)
}

/// [`Params::tensors`] for a struct whose fields, in declaration order, are `fields`: each field's
/// own tensors under `field` (or `prefix.field`), moved to where the field sits in the flat view.
/// Names match [`describe_fields`]'s, so a nested struct's weight is tensor `l1.w` and its scalar
/// `l1.w[3][17]`. `#[derive(Params)]` calls this.
pub fn tensors_fields<S: Float>(fields: &[(&str, &dyn Params<Scalar = S>)], prefix: &str) -> Vec<TensorInfo> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (name, field) in fields {
        let label = if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") };
        for mut t in field.tensors(&label) {
            t.range = t.range.start + offset..t.range.end + offset;
            out.push(t);
        }
        offset += field.num_params();
    }
    out
}

/// A name for an index past the end; `describe` must not panic on a bad index.
pub(crate) fn out_of_range(prefix: &str, index: usize) -> String {
    format!("{}[<index {index} out of range>]", base(prefix))
}

macro_rules! scalar_params {
    ($($t:ty),*) => {$(
        impl Params for $t {
            type Scalar = $t;
            #[inline]
            fn num_params(&self) -> usize {
                1
            }
            #[inline]
            fn visit(&self, f: &mut dyn FnMut($t)) {
                f(*self)
            }
            #[inline]
            fn visit_mut(&mut self, f: &mut dyn FnMut(&mut $t)) {
                f(self)
            }
            fn describe(&self, index: usize, prefix: &str) -> String {
                if index == 0 {
                    base(prefix).to_string()
                } else {
                    out_of_range(prefix, index)
                }
            }
            fn tensors(&self, prefix: &str) -> Vec<TensorInfo> {
                vec![TensorInfo { name: base(prefix).to_string(), shape: vec![], range: 0..1 }]
            }
        }
    )*};
}
// Dual numbers too: the gradients of `_hvp`'s and `_jacobian`'s re-printed sweeps hold them.
scalar_params!(f32, f64, crate::dual::Dual64, crate::dual_lanes::Dual64x4);

/// Shared by every sequence impl: find the element holding `index` and recurse with `[i]`.
fn describe_seq<T: Params>(items: &[T], index: usize, prefix: &str) -> String {
    let mut rest = index;
    for (i, item) in items.iter().enumerate() {
        let n = item.num_params();
        if rest < n {
            return item.describe(rest, &format!("{}[{i}]", base(prefix)));
        }
        rest -= n;
    }
    out_of_range(prefix, index)
}

macro_rules! seq_params {
    ($([$($gen:tt)*] $t:ty),*) => {$(
        impl<$($gen)*> Params for $t {
            type Scalar = T::Scalar;
            fn num_params(&self) -> usize {
                self.iter().map(Params::num_params).sum()
            }
            fn visit(&self, f: &mut dyn FnMut(T::Scalar)) {
                for item in self.iter() {
                    item.visit(f);
                }
            }
            fn visit_mut(&mut self, f: &mut dyn FnMut(&mut T::Scalar)) {
                for item in self.iter_mut() {
                    item.visit_mut(f);
                }
            }
            fn describe(&self, index: usize, prefix: &str) -> String {
                describe_seq(&self[..], index, prefix)
            }
            fn tensors(&self, prefix: &str) -> Vec<TensorInfo> {
                seq_tensors(&self[..], prefix)
            }
        }
    )*};
}
seq_params!([T: Params, const N: usize] [T; N], [T: Params] [T], [T: Params] Vec<T>, [T: Params] Box<[T]>);

macro_rules! tuple_params {
    ($(($first:ident $(, $name:ident)*) => ($($idx:tt),*);)*) => {$(
        impl<$first: Params $(, $name: Params<Scalar = $first::Scalar>)*> Params
            for ($first, $($name),*)
        {
            type Scalar = $first::Scalar;
            fn num_params(&self) -> usize {
                0 $(+ self.$idx.num_params())*
            }
            fn visit(&self, f: &mut dyn FnMut(Self::Scalar)) {
                $(self.$idx.visit(f);)*
            }
            fn visit_mut(&mut self, f: &mut dyn FnMut(&mut Self::Scalar)) {
                $(self.$idx.visit_mut(f);)*
            }
            fn describe(&self, index: usize, prefix: &str) -> String {
                let mut rest = index;
                $(
                    let n = self.$idx.num_params();
                    if rest < n {
                        return self.$idx.describe(rest, &format!("{}.{}", base(prefix), $idx));
                    }
                    rest -= n;
                )*
                let _ = rest;
                out_of_range(prefix, index)
            }
            fn tensors(&self, prefix: &str) -> Vec<TensorInfo> {
                let mut out = Vec::new();
                let mut offset = 0;
                $(
                    for mut t in self.$idx.tensors(&format!("{}.{}", base(prefix), $idx)) {
                        t.range = t.range.start + offset..t.range.end + offset;
                        out.push(t);
                    }
                    offset += self.$idx.num_params();
                )*
                let _ = offset;
                out
            }
        }
    )*};
}
tuple_params! {
    (A, B) => (0, 1);
    (A, B, C) => (0, 1, 2);
    (A, B, C, D) => (0, 1, 2, 3);
}

/// The flat view as a vector, in visit order.
pub fn to_vec<P: Params + ?Sized>(params: &P) -> Vec<P::Scalar> {
    let mut out = Vec::with_capacity(params.num_params());
    params.visit(&mut |x| out.push(x));
    out
}

/// Overwrites every scalar of `params` from `values`, in visit order.
///
/// # Errors
/// [`Error::ShapeMismatch`] if `values.len() != params.num_params()`; `params` is then unchanged.
pub fn copy_from_slice<P: Params + ?Sized>(params: &mut P, values: &[P::Scalar]) -> Result<(), Error> {
    let expected = params.num_params();
    if values.len() != expected {
        return Err(Error::ShapeMismatch { context: "copy_from_slice".into(), expected, found: values.len() });
    }
    let mut it = values.iter();
    params.visit_mut(&mut |x| {
        if let Some(v) = it.next() {
            *x = *v;
        }
    });
    Ok(())
}

/// Sets every scalar to `value` (e.g. zeroing a gradient accumulator).
pub fn fill<P: Params + ?Sized>(params: &mut P, value: P::Scalar) {
    params.visit_mut(&mut |x| *x = value);
}

/// The Euclidean norm of the flat view.
pub fn norm<P: Params + ?Sized>(params: &P) -> P::Scalar {
    slice_norm(&to_vec(params))
}

/// The Euclidean norm of a flat slice.
pub fn slice_norm<F: Float>(values: &[F]) -> F {
    values.iter().map(|&x| x * x).sum::<F>().sqrt()
}

/// The dot product of two flat views (e.g. a gradient and a direction).
///
/// # Errors
/// [`Error::ShapeMismatch`] if the two have different numbers of scalars.
pub fn dot<P, Q>(a: &P, b: &Q) -> Result<P::Scalar, Error>
where
    P: Params + ?Sized,
    Q: Params<Scalar = P::Scalar> + ?Sized,
{
    let left = to_vec(a);
    if left.len() != b.num_params() {
        return Err(Error::ShapeMismatch { context: "dot".into(), expected: left.len(), found: b.num_params() });
    }
    let mut it = left.into_iter();
    let mut sum = P::Scalar::of_f64(0.0);
    b.visit(&mut |y| {
        if let Some(x) = it.next() {
            sum += x * y;
        }
    });
    Ok(sum)
}

/// `params += alpha * delta`, element by element.
///
/// # Errors
/// [`Error::ShapeMismatch`] if the two have different numbers of scalars; `params` is then
/// unchanged.
pub fn add_scaled<P, Q>(params: &mut P, alpha: P::Scalar, delta: &Q) -> Result<(), Error>
where
    P: Params + ?Sized,
    Q: Params<Scalar = P::Scalar> + ?Sized,
{
    let d = to_vec(delta);
    if d.len() != params.num_params() {
        return Err(Error::ShapeMismatch {
            context: "add_scaled".into(),
            expected: params.num_params(),
            found: d.len(),
        });
    }
    let mut it = d.into_iter();
    params.visit_mut(&mut |x| {
        if let Some(v) = it.next() {
            *x += alpha * v;
        }
    });
    Ok(())
}

/// The first entry of a flat slice that is NaN or infinite, as `(index, value)`.
pub fn slice_first_non_finite<F: Float>(values: &[F]) -> Option<(usize, F)> {
    values.iter().copied().enumerate().find(|(_, x)| !x.is_finite())
}

/// The first scalar that is NaN or infinite, as `(flat index, value)`.
pub fn first_non_finite<P: Params + ?Sized>(params: &P) -> Option<(usize, P::Scalar)> {
    let mut found = None;
    let mut i = 0;
    params.visit(&mut |x| {
        if found.is_none() && !x.is_finite() {
            found = Some((i, x));
        }
        i += 1;
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_arrays_are_row_major_and_named() {
        let w = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        assert_eq!(w.num_params(), 6);
        assert_eq!(to_vec(&w), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(w.describe(4, "w"), "w[1][1]");
        assert_eq!(w.describe(2, ""), "param[0][2]");
        assert_eq!(w.describe(6, "w"), "w[<index 6 out of range>]");
        assert_eq!(1.5_f64.describe(0, ""), "param");
        assert_eq!(1.5_f64.describe(0, "b"), "b");
    }

    #[test]
    fn vec_box_and_tuples_line_up() {
        let mut p = (2.0_f64, vec![[1.0, 2.0], [3.0, 4.0]], vec![5.0].into_boxed_slice());
        assert_eq!(p.num_params(), 6);
        assert_eq!(to_vec(&p), vec![2.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(p.describe(0, ""), "param.0");
        assert_eq!(p.describe(3, "net"), "net.1[1][0]");
        assert_eq!(p.describe(5, "net"), "net.2[0]");
        copy_from_slice(&mut p, &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(p.1, vec![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(p.0, 0.0);
        let four = (1.0_f32, 2.0_f32, [3.0_f32], vec![4.0_f32]);
        assert_eq!(to_vec(&four), vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(four.describe(3, "t"), "t.3[0]");
    }

    #[test]
    fn mismatched_lengths_are_errors_that_leave_params_alone() {
        let mut p = [1.0, 2.0, 3.0];
        let err = copy_from_slice(&mut p, &[9.0, 9.0]).unwrap_err();
        assert_eq!(err.to_string(), "shape mismatch in copy_from_slice: expected 3 scalars, found 2");
        assert_eq!(p, [1.0, 2.0, 3.0]);
        assert!(dot(&p, &vec![1.0]).is_err());
        assert!(add_scaled(&mut p, 1.0, &[1.0, 2.0]).is_err());
        assert_eq!(p, [1.0, 2.0, 3.0]);
    }

    fn tensor(name: &str, shape: &[usize], range: Range<usize>) -> TensorInfo {
        TensorInfo { name: name.into(), shape: shape.to_vec(), range }
    }

    /// A struct implemented the way generated gradient structs are: `describe` through
    /// `describe_fields`, `tensors` left to the default.
    struct Net {
        w: [[f64; 3]; 2],
        b: Vec<f64>,
        s: f64,
    }

    impl Params for Net {
        type Scalar = f64;
        fn num_params(&self) -> usize {
            self.w.num_params() + self.b.num_params() + 1
        }
        fn visit(&self, f: &mut dyn FnMut(f64)) {
            self.w.visit(f);
            self.b.visit(f);
            f(self.s);
        }
        fn visit_mut(&mut self, f: &mut dyn FnMut(&mut f64)) {
            self.w.visit_mut(f);
            self.b.visit_mut(f);
            f(&mut self.s);
        }
        fn describe(&self, index: usize, prefix: &str) -> String {
            describe_fields(&[("w", &self.w), ("b", &self.b), ("s", &self.s)], index, prefix)
        }
    }

    #[test]
    fn tensors_of_builtin_shapes() {
        assert_eq!(2.0_f64.tensors(""), vec![tensor("param", &[], 0..1)]);
        assert_eq!([[1.0_f32; 3]; 2].tensors("w"), vec![tensor("w", &[2, 3], 0..6)]);
        assert_eq!(vec![[[0.0; 4]; 3]; 2].tensors(""), vec![tensor("param", &[2, 3, 4], 0..24)]);
        // Ragged rows cannot stack: one tensor per row.
        let ragged = vec![vec![1.0, 2.0], vec![3.0]];
        assert_eq!(ragged.tensors("v"), vec![tensor("v[0]", &[2], 0..2), tensor("v[1]", &[1], 2..3)]);
        let t = (1.0, [2.0, 3.0], vec![[4.0, 5.0]]);
        assert_eq!(
            t.tensors("net"),
            vec![tensor("net.0", &[], 0..1), tensor("net.1", &[2], 1..3), tensor("net.2", &[1, 2], 3..5)]
        );
        let empty: Vec<f64> = vec![];
        assert_eq!(empty.tensors("e"), vec![]);
    }

    #[test]
    fn default_tensors_are_read_off_the_names() {
        let net = Net { w: [[0.0; 3]; 2], b: vec![0.0; 4], s: 0.0 };
        let expected = vec![tensor("w", &[2, 3], 0..6), tensor("b", &[4], 6..10), tensor("s", &[], 10..11)];
        assert_eq!(net.tensors(""), expected);
        // Nested in a container, names get the container's prefix.
        let pair = (net, 1.0);
        let nested = pair.tensors("");
        assert_eq!(nested[0], tensor("param.0.w", &[2, 3], 0..6));
        assert_eq!(nested[3], tensor("param.1", &[], 11..12));
        // The name-based default agrees with the structural impls on built-in shapes.
        let ragged = vec![vec![1.0, 2.0], vec![3.0]];
        assert_eq!(tensors_from_names(&[[[1.0; 2]; 3]; 4], "x"), vec![tensor("x", &[4, 3, 2], 0..24)]);
        assert_eq!(tensors_from_names(&2.0, "x"), vec![tensor("x", &[], 0..1)]);
        // A ragged run is not a box: kept flat rather than given a wrong shape.
        assert_eq!(tensors_from_names(&ragged, "v"), vec![tensor("v", &[3], 0..3)]);
        assert_eq!(split_indices("net.w1[3][17]"), ("net.w1", vec![3, 17]));
        assert_eq!(split_indices("a[x]"), ("a[x]", vec![]));
    }

    /// A struct holding a struct, implemented the way `#[derive(Params)]` expands.
    struct Outer {
        l1: Net,
        scale: f64,
    }

    impl Params for Outer {
        type Scalar = f64;
        fn num_params(&self) -> usize {
            self.l1.num_params() + 1
        }
        fn visit(&self, f: &mut dyn FnMut(f64)) {
            self.l1.visit(f);
            f(self.scale);
        }
        fn visit_mut(&mut self, f: &mut dyn FnMut(&mut f64)) {
            self.l1.visit_mut(f);
            f(&mut self.scale);
        }
        fn describe(&self, index: usize, prefix: &str) -> String {
            describe_fields(&[("l1", &self.l1), ("scale", &self.scale)], index, prefix)
        }
        fn tensors(&self, prefix: &str) -> Vec<TensorInfo> {
            tensors_fields(&[("l1", &self.l1), ("scale", &self.scale)], prefix)
        }
    }

    #[test]
    fn nested_structs_compose_names_and_tensors() {
        let outer = Outer { l1: Net { w: [[0.0; 3]; 2], b: vec![0.0; 4], s: 0.0 }, scale: 1.0 };
        assert_eq!(outer.describe(4, ""), "l1.w[1][1]");
        assert_eq!(outer.describe(7, "net"), "net.l1.b[1]");
        assert_eq!(outer.describe(11, ""), "scale");
        assert_eq!(outer.describe(12, "net"), "net[<index 12 out of range>]");
        let expected = vec![
            tensor("l1.w", &[2, 3], 0..6),
            tensor("l1.b", &[4], 6..10),
            tensor("l1.s", &[], 10..11),
            tensor("scale", &[], 11..12),
        ];
        assert_eq!(outer.tensors(""), expected);
        // The structural tensors and the name-based default agree on a well-named struct.
        assert_eq!(tensors_from_names(&outer, ""), expected);
        assert_eq!(outer.tensors("g")[1], tensor("g.l1.b", &[4], 6..10));
    }

    #[test]
    fn norms_dots_and_updates() {
        let mut p = [3.0, 4.0];
        assert_eq!(norm(&p), 5.0);
        assert_eq!(dot(&p, &vec![1.0, 2.0]).unwrap(), 11.0);
        add_scaled(&mut p, -2.0, &[1.0, 0.5]).unwrap();
        assert_eq!(p, [1.0, 3.0]);
        fill(&mut p, 0.0);
        assert_eq!(p, [0.0, 0.0]);
        assert_eq!(first_non_finite(&p), None);
        let q = vec![1.0, f64::INFINITY, f64::NAN];
        assert_eq!(first_non_finite(&q), Some((1, f64::INFINITY)));
    }
}
