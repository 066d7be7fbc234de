//! Aliased sinks: two arguments of one call whose adjoints are the same place, or one inside the
//! other (`dot(&x, &x)`, `qdot(&p.q, &p.q.v)`), cannot both be lent mutably to the callee's
//! pullback. The caller lends the later one a zero buffer shaped like the place and adds it in
//! after the call. [`AliasBuffer`] makes that buffer for any place the generated code holds: a
//! sized adjoint (an array, a `Vec`, a parameter struct) gets its own type, a slice (the sink of a
//! slice argument inside a pullback) a `Vec`, so the buffer always lends to the same parameter
//! types the place itself would.

use crate::{Float, Params, ZerosLike};

/// A place's zero buffer and how to add it back (see the module doc).
pub trait AliasBuffer {
    /// The buffer: `Self` for a sized place, `Vec<F>` for a slice.
    type Buffer;
    /// Zero, shaped like `self`.
    fn alias_buffer(&self) -> Self::Buffer;
    /// `self += buffer`, entry by entry.
    fn add_buffer(&mut self, buffer: &Self::Buffer);
}

impl<T: ZerosLike + Params> AliasBuffer for T {
    type Buffer = T;
    fn alias_buffer(&self) -> T {
        self.zeros_like()
    }
    fn add_buffer(&mut self, buffer: &T) {
        let mut entries = Vec::with_capacity(buffer.num_params());
        buffer.visit(&mut |x| entries.push(x));
        let mut next = entries.into_iter();
        self.visit_mut(&mut |x| {
            if let Some(y) = next.next() {
                *x += y;
            }
        });
    }
}

impl<F: Float> AliasBuffer for [F] {
    type Buffer = Vec<F>;
    fn alias_buffer(&self) -> Vec<F> {
        vec![F::zero(); self.len()]
    }
    fn add_buffer(&mut self, buffer: &Vec<F>) {
        for (x, y) in self.iter_mut().zip(buffer) {
            *x += *y;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AliasBuffer;

    #[test]
    fn buffers_are_zero_and_add_back() {
        let mut a = [1.0, 2.0];
        let mut b = a.alias_buffer();
        assert_eq!(b, [0.0, 0.0]);
        b[1] = 0.5;
        a.add_buffer(&b);
        assert_eq!(a, [1.0, 2.5]);
        let mut v = vec![1.0_f32, 2.0, 3.0];
        let s: &mut [f32] = &mut v[..];
        let mut w = s.alias_buffer();
        assert_eq!(w, vec![0.0; 3]);
        w[0] = 4.0;
        s.add_buffer(&w);
        assert_eq!(v, [5.0, 2.0, 3.0]);
    }
}
