//! `det`: the determinant by expansion by minors (cmpad's `det_by_minor`), as the eval defines it:
//! a minor of size `m` is expanded along its first row, `det M = Σⱼ (−1)ʲ M₀ⱼ det S₀ⱼ`, recursively,
//! with no sharing of sub-minors (the eval's O(ℓ!) floating-point work).
//!
//! `#[backprop]` rejects recursion, so the recursion is one function per minor size: `minor_m`
//! calls `minor_{m−1}` (written once by `minors!`). The minor of size `m` has the last `m` rows of
//! `A` (each level removes its first row) and the columns listed in `cols`, four bits per column,
//! the first column in the lowest four bits: the columns cmpad's `c` index list links, in order.
//! The gradient is the generated `minor_ℓ_grad`, whose backward sweep calls each level's
//! generated pullback.
//!
//! Why a packed list and not a bit set of the `n` columns: each level then loops over its own `m`
//! columns (a literal trip count, so its tapes are stack arrays, no allocation per call), and
//! reading the list is `% 16` and `/ 16` (masks and shifts), where testing bit `j` of a set took
//! two integer divisions by a table entry for each of the `n` columns at every level, leaves
//! included (our primal was 7× `manual`'s at `ℓ = 10` measured alone, 15× in the logged eval).

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

/// The size-1 minor: the one element at the last row and the one column left.
#[backprop(wrt(a))]
pub fn minor_1(a: &[f64], n: usize, cols: usize) -> f64 {
    a[(n - 1) * n + cols]
}

/// `minor_m` for each size in turn, each expanding along its first row and calling the size below.
macro_rules! minors {
    ($($name:ident $sub:ident $m:tt),* $(,)?) => {$(
        #[backprop(wrt(a))]
        pub fn $name(a: &[f64], n: usize, cols: usize) -> f64 {
            let row = (n - $m) * n;
            let mut det = 0.0;
            // The list splits into `low` (the columns before position k, still packed from bit 0),
            // column `j` and `rest / 16` (those after it); `p = 16^k` shifts the latter down by one.
            let mut low = 0;
            let mut p = 1;
            let mut rest = cols;
            for k in 0..$m {
                let j = rest % 16;
                let high = rest / 16;
                let sub = $sub(a, n, low + high * p);
                // cmpad's sign: add at even positions of the minor's columns, subtract at odd.
                if k % 2 == 0 {
                    det += a[row + j] * sub;
                } else {
                    det -= a[row + j] * sub;
                }
                low += j * p;
                if k + 1 < $m {
                    p *= 16;
                }
                rest = high;
            }
            det
        }
    )*};
}

minors! {
    minor_2 minor_1 2,
    minor_3 minor_2 3,
    minor_4 minor_3 4,
    minor_5 minor_4 5,
    minor_6 minor_5 6,
    minor_7 minor_6 7,
    minor_8 minor_7 8,
    minor_9 minor_8 9,
    minor_10 minor_9 10,
    minor_11 minor_10 11,
    minor_12 minor_11 12,
    minor_13 minor_12 13,
    minor_14 minor_13 14,
    minor_15 minor_14 15,
    minor_16 minor_15 16,
}

/// The largest `ℓ` implemented (a minor function per size up to it; 16! products are out of reach
/// of this algorithm anyway).
pub const MAX_ELL: usize = 16;

/// The packed list of columns `0, 1, .., ℓ − 1` (four bits each, the first lowest).
fn all_columns(ell: usize) -> usize {
    (0..ell.min(MAX_ELL)).rev().fold(0, |acc, j| acc * 16 + j)
}

/// `det A` by expansion by minors (`A` row-major `ℓ × ℓ`, `1 ≤ ℓ ≤ MAX_ELL`).
pub fn primal(a: &[f64], ell: usize) -> Option<f64> {
    let all = all_columns(ell);
    Some(match ell {
        1 => minor_1(a, ell, all),
        2 => minor_2(a, ell, all),
        3 => minor_3(a, ell, all),
        4 => minor_4(a, ell, all),
        5 => minor_5(a, ell, all),
        6 => minor_6(a, ell, all),
        7 => minor_7(a, ell, all),
        8 => minor_8(a, ell, all),
        9 => minor_9(a, ell, all),
        10 => minor_10(a, ell, all),
        11 => minor_11(a, ell, all),
        12 => minor_12(a, ell, all),
        13 => minor_13(a, ell, all),
        14 => minor_14(a, ell, all),
        15 => minor_15(a, ell, all),
        16 => minor_16(a, ell, all),
        _ => return None,
    })
}

/// The gradient of `det A` with respect to `A` (row-major), from the generated `minor_ℓ_grad`.
pub fn gradient(a: &[f64], ell: usize) -> Option<Vec<f64>> {
    let all = all_columns(ell);
    Some(match ell {
        1 => minor_1_grad(a, ell, all).1.a,
        2 => minor_2_grad(a, ell, all).1.a,
        3 => minor_3_grad(a, ell, all).1.a,
        4 => minor_4_grad(a, ell, all).1.a,
        5 => minor_5_grad(a, ell, all).1.a,
        6 => minor_6_grad(a, ell, all).1.a,
        7 => minor_7_grad(a, ell, all).1.a,
        8 => minor_8_grad(a, ell, all).1.a,
        9 => minor_9_grad(a, ell, all).1.a,
        10 => minor_10_grad(a, ell, all).1.a,
        11 => minor_11_grad(a, ell, all).1.a,
        12 => minor_12_grad(a, ell, all).1.a,
        13 => minor_13_grad(a, ell, all).1.a,
        14 => minor_14_grad(a, ell, all).1.a,
        15 => minor_15_grad(a, ell, all).1.a,
        16 => minor_16_grad(a, ell, all).1.a,
        _ => return None,
    })
}
