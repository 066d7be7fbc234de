//! [`Matrix`]: the dense matrix the second-order adapters hand to argmin (Hessians for Newton and
//! trust region, Jacobians for Gauss-Newton).
//!
//! Why not the generated `Vec<Vec<f64>>` itself: argmin-math's `vec` backend multiplies and
//! transposes `Vec<Vec<F>>` but has no `ArgminInv` for it, and Newton, Dogleg and Gauss-Newton
//! all invert (`H⁻¹·g`, `(JᵀJ)⁻¹`). Both the trait and `Vec` are foreign, so the orphan rule
//! forbids adding the inverse here; a local type may implement every trait the solvers ask for.
//! Row-major storage, indexable as `m[i][j]` like the generated matrices.

use std::ops::{Index, IndexMut};

use ::argmin::core::ArgminFloat;
use argmin_math::{ArgminDot, ArgminInv, ArgminTranspose};

/// A dense `rows × cols` matrix in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix<F> {
    rows: usize,
    cols: usize,
    data: Vec<F>,
}

impl<F: ArgminFloat> Matrix<F> {
    /// The `rows × cols` zero matrix.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self { rows, cols, data: vec![F::zero(); rows * cols] }
    }

    /// The matrix with rows `rows` (all of one length; a ragged input panics, as it is a bug
    /// in the caller, never a property of a point).
    pub fn from_rows(rows: &[Vec<F>]) -> Self {
        let cols = rows.first().map_or(0, Vec::len);
        assert!(rows.iter().all(|r| r.len() == cols), "Matrix::from_rows: rows of different lengths");
        Self { rows: rows.len(), cols, data: rows.iter().flatten().copied().collect() }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i` as a slice.
    pub fn row(&self, i: usize) -> &[F] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// `self · v`.
    fn mul_vec(&self, v: &[F]) -> Vec<F> {
        assert_eq!(v.len(), self.cols, "Matrix · vector: {} columns, vector of {}", self.cols, v.len());
        (0..self.rows).map(|i| self.row(i).iter().zip(v).fold(F::zero(), |s, (a, b)| s + *a * *b)).collect()
    }
}

impl<F: ArgminFloat> From<Vec<Vec<F>>> for Matrix<F> {
    fn from(rows: Vec<Vec<F>>) -> Self {
        Self::from_rows(&rows)
    }
}

impl<F: ArgminFloat> From<&Vec<Vec<F>>> for Matrix<F> {
    fn from(rows: &Vec<Vec<F>>) -> Self {
        Self::from_rows(rows)
    }
}

impl<F> Index<usize> for Matrix<F> {
    type Output = [F];
    fn index(&self, i: usize) -> &[F] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

impl<F> IndexMut<usize> for Matrix<F> {
    fn index_mut(&mut self, i: usize) -> &mut [F] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }
}

impl<F: ArgminFloat> ArgminDot<Vec<F>, Vec<F>> for Matrix<F> {
    fn dot(&self, other: &Vec<F>) -> Vec<F> {
        self.mul_vec(other)
    }
}

impl<F: ArgminFloat> ArgminDot<Matrix<F>, Matrix<F>> for Matrix<F> {
    fn dot(&self, other: &Matrix<F>) -> Matrix<F> {
        assert_eq!(self.cols, other.rows, "Matrix · Matrix: {} columns, {} rows", self.cols, other.rows);
        let mut out = Matrix::zeros(self.rows, other.cols);
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self[i][k];
                for (o, b) in out[i].iter_mut().zip(other.row(k)) {
                    *o = *o + a * *b;
                }
            }
        }
        out
    }
}

impl<F: ArgminFloat> ArgminTranspose<Matrix<F>> for Matrix<F> {
    fn t(self) -> Matrix<F> {
        let mut out = Matrix::zeros(self.cols, self.rows);
        for i in 0..self.rows {
            for j in 0..self.cols {
                out[j][i] = self[i][j];
            }
        }
        out
    }
}

impl<F: ArgminFloat> ArgminInv<Matrix<F>> for Matrix<F> {
    /// Gauss-Jordan elimination with partial pivoting. A singular matrix (a zero or non-finite
    /// pivot) is an error naming the column, which stops the solver instead of stepping to
    /// infinity.
    fn inv(&self) -> Result<Matrix<F>, argmin_math::Error> {
        let n = self.rows;
        if self.cols != n {
            return Err(argmin_math::Error::msg(format!("cannot invert a non-square {}×{} matrix", n, self.cols)));
        }
        let mut a = self.clone();
        let mut inv = Matrix::zeros(n, n);
        for i in 0..n {
            inv[i][i] = F::one();
        }
        for col in 0..n {
            let pivot = (col..n)
                .max_by(|&r, &s| a[r][col].abs().partial_cmp(&a[s][col].abs()).unwrap_or(std::cmp::Ordering::Equal))
                .unwrap_or(col);
            let p = a[pivot][col];
            if p == F::zero() || !p.is_finite() {
                return Err(argmin_math::Error::msg(format!("singular matrix: no pivot in column {col}")));
            }
            if pivot != col {
                swap_rows(&mut a, pivot, col);
                swap_rows(&mut inv, pivot, col);
            }
            let scale = F::one() / p;
            a[col].iter_mut().for_each(|x| *x = *x * scale);
            inv[col].iter_mut().for_each(|x| *x = *x * scale);
            for r in 0..n {
                let factor = a[r][col];
                if r == col || factor == F::zero() {
                    continue;
                }
                for j in 0..n {
                    let (ac, ic) = (a[col][j], inv[col][j]);
                    a[r][j] = a[r][j] - factor * ac;
                    inv[r][j] = inv[r][j] - factor * ic;
                }
            }
        }
        Ok(inv)
    }
}

fn swap_rows<F>(m: &mut Matrix<F>, r: usize, s: usize) {
    for j in 0..m.cols {
        m.data.swap(r * m.cols + j, s * m.cols + j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_transpose_and_inverse() {
        let a: Matrix<f64> = Matrix::from(vec![vec![0.0, 2.0, 1.0], vec![1.0, 1.0, 0.0], vec![3.0, 0.0, 1.0]]);
        assert_eq!(a.dot(&vec![1.0, 2.0, 3.0]), vec![7.0, 3.0, 6.0]);
        assert_eq!(a.clone().t()[0], [0.0, 1.0, 3.0]);
        // The first column's pivot is zero: only partial pivoting gets past it.
        let inv = a.inv().unwrap();
        let id = a.dot(&inv);
        for i in 0..3 {
            for j in 0..3 {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((id[i][j] - expected).abs() < 1e-14, "{id:?}");
            }
        }
        let rect = Matrix::from(vec![vec![1.0, 2.0]]);
        assert_eq!(rect.clone().t().dot(&rect), Matrix::from(vec![vec![1.0, 2.0], vec![2.0, 4.0]]));
        assert!(rect.inv().is_err());
    }

    #[test]
    fn a_singular_matrix_is_an_error_not_infinities() {
        let s = Matrix::from(vec![vec![1.0, 2.0], vec![2.0, 4.0]]);
        let err = s.inv().unwrap_err();
        assert_eq!(err.to_string(), "singular matrix: no pivot in column 1");
    }
}
