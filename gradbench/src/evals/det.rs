//! `det`: the determinant by expansion by minors (cmpad's `det_by_minor`), as the eval defines it:
//! a minor of size `m` is expanded along its first row, `det M = Σⱼ (−1)ʲ M₀ⱼ det S₀ⱼ`, recursively,
//! with no sharing of sub-minors (the eval's O(ℓ!) floating-point work).
//!
//! `#[backprop]` rejects recursion, so the recursion is one function per minor size: `minor_m`
//! calls `minor_{m−1}` (written once by `minors!`). The minor of size `m` has the last `m` rows of
//! `A` (each level removes its first row) and the columns whose bits are set in `cols`, in
//! increasing order: the rows and columns cmpad's `r`/`c` index lists describe. The gradient is
//! the generated `minor_ℓ_grad`, whose backward sweep calls each level's generated pullback.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

/// Powers of two: column sets are bit sets, read with `/` (the macro's integer arithmetic).
const POW2: [usize; 18] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072];

/// The size-1 minor: the one element at the last row and the one column left.
#[backprop(wrt(a))]
pub fn minor_1(a: &[f64], n: usize, cols: usize) -> f64 {
    let mut v = 0.0;
    for j in 0..n {
        if cols / POW2[j] - 2 * (cols / POW2[j + 1]) == 1 {
            v = a[(n - 1) * n + j];
        }
    }
    v
}

/// `minor_m` for each size in turn, each expanding along its first row and calling the size below.
macro_rules! minors {
    ($($name:ident $sub:ident $m:tt),* $(,)?) => {$(
        #[backprop(wrt(a))]
        pub fn $name(a: &[f64], n: usize, cols: usize) -> f64 {
            let row = n - $m;
            let mut det = 0.0;
            let mut sign = 1.0;
            for j in 0..n {
                // Bit j of `cols` (`#[backprop]` has no `&` or `>>`): is column j in the minor?
                if cols / POW2[j] - 2 * (cols / POW2[j + 1]) == 1 {
                    let sub = $sub(a, n, cols - POW2[j]);
                    // cmpad's sign: add at even positions of the minor's columns, subtract at odd.
                    if sign > 0.0 {
                        det += a[row * n + j] * sub;
                    } else {
                        det -= a[row * n + j] * sub;
                    }
                    sign = -sign;
                }
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

/// `det A` by expansion by minors (`A` row-major `ℓ × ℓ`, `1 ≤ ℓ ≤ MAX_ELL`).
pub fn primal(a: &[f64], ell: usize) -> Option<f64> {
    let all = (1usize << ell) - 1;
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
    let all = (1usize << ell) - 1;
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
