//! `ba`: ADBench's bundle adjustment. Each observation's reprojection error (a Rodrigues rotation
//! about the camera centre, perspective division, radial distortion, focal length and principal
//! point, times the observation's weight) and each weight's error `1 − w²` are `#[backprop]`
//! functions returning arrays; the sparse Jacobian is assembled in CSR/COO form (the manual tool's
//! order: 2 rows per observation with 15 entries each, camera, point, weight; then one row per
//! weight) from their generated `_jacobian`s, one per observation.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

/// Camera parameters: rotation (angle-axis), centre, focal length, principal point, distortion.
pub const CAM: usize = 11;

/// `w · (project(cam, x) − feat)`.
#[backprop(wrt(cam, x, w))]
pub fn reproj(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64]) -> [f64; 2] {
    let xo0 = x[0] - cam[3];
    let xo1 = x[1] - cam[4];
    let xo2 = x[2] - cam[5];
    let sqtheta = cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2];
    let mut xc = [0.0; 3];
    if sqtheta != 0.0 {
        let theta = sqtheta.sqrt();
        let (costheta, sintheta) = (theta.cos(), theta.sin());
        let (w0, w1, w2) = (cam[0] / theta, cam[1] / theta, cam[2] / theta);
        let tmp = (w0 * xo0 + w1 * xo1 + w2 * xo2) * (1.0 - costheta);
        xc[0] = xo0 * costheta + (w1 * xo2 - w2 * xo1) * sintheta + w0 * tmp;
        xc[1] = xo1 * costheta + (w2 * xo0 - w0 * xo2) * sintheta + w1 * tmp;
        xc[2] = xo2 * costheta + (w0 * xo1 - w1 * xo0) * sintheta + w2 * tmp;
    } else {
        xc[0] = xo0 + (cam[1] * xo2 - cam[2] * xo1);
        xc[1] = xo1 + (cam[2] * xo0 - cam[0] * xo2);
        xc[2] = xo2 + (cam[0] * xo1 - cam[1] * xo0);
    }
    let p0 = xc[0] / xc[2];
    let p1 = xc[1] / xc[2];
    let rsq = p0 * p0 + p1 * p1;
    let l = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq;
    let mut err = [0.0; 2];
    err[0] = w * (p0 * l * cam[6] + cam[7] - feat[0]);
    err[1] = w * (p1 * l * cam[6] + cam[8] - feat[1]);
    err
}

/// Zach's weight error `1 − w²`.
#[backprop(wrt(w))]
pub fn weight_err(w: f64) -> [f64; 1] {
    // `[1.0 - w * w]` as the result is rejected (an array result must be a named local).
    let mut e = [0.0; 1];
    e[0] = 1.0 - w * w;
    e
}

/// The input, duplicated as the eval prescribes (every camera, point, weight and feature a copy
/// of the one given; observation `i` sees camera `i mod n` and point `i mod m`).
pub struct Input {
    pub n: usize,
    pub m: usize,
    pub p: usize,
    pub cams: Vec<f64>,
    pub x: Vec<f64>,
    pub w: Vec<f64>,
    pub feats: Vec<f64>,
    pub obs: Vec<[usize; 2]>,
}

impl Input {
    pub fn new(n: usize, m: usize, p: usize, cam: &[f64], x: &[f64], w: f64, feat: &[f64]) -> Input {
        Input {
            n,
            m,
            p,
            cams: (0..n).flat_map(|_| cam.iter().copied()).collect(),
            x: (0..m).flat_map(|_| x.iter().copied()).collect(),
            w: vec![w; p],
            feats: (0..p).flat_map(|_| feat.iter().copied()).collect(),
            obs: (0..p).map(|i| [i % n, i % m]).collect(),
        }
    }

    fn cam(&self, c: usize) -> &[f64; CAM] {
        self.cams[CAM * c..CAM * (c + 1)].try_into().unwrap()
    }

    fn point(&self, q: usize) -> &[f64; 3] {
        self.x[3 * q..3 * q + 3].try_into().unwrap()
    }

    /// Reprojection errors (2 per observation) and weight errors.
    pub fn objective(&self) -> (Vec<f64>, Vec<f64>) {
        let mut reproj_err = Vec::with_capacity(2 * self.p);
        for (i, &[c, q]) in self.obs.iter().enumerate() {
            reproj_err.extend_from_slice(&reproj(self.cam(c), self.point(q), self.w[i], &self.feats[2 * i..2 * i + 2]));
        }
        let w_err = self.w.iter().map(|&w| weight_err(w)[0]).collect();
        (reproj_err, w_err)
    }

    /// The sparse Jacobian, `3p` rows by `11n + 3m + p` columns: CSR row starts and the COO columns
    /// and values.
    pub fn jacobian(&self) -> Sparse {
        let nnz = 2 * (CAM + 4) * self.p + self.p;
        let mut s = Sparse {
            rows: Vec::with_capacity(3 * self.p + 1),
            cols: Vec::with_capacity(nnz),
            vals: Vec::with_capacity(nnz),
        };
        s.rows.push(0);
        let (point_col, w_col) = (CAM * self.n, CAM * self.n + 3 * self.m);
        for (i, &[c, q]) in self.obs.iter().enumerate() {
            let (_, j) = reproj_jacobian(self.cam(c), self.point(q), self.w[i], &self.feats[2 * i..2 * i + 2]);
            for row in &j {
                // Flat order of the differentiated arguments: cam (11), x (3), w.
                s.cols.extend((0..CAM).map(|k| CAM * c + k));
                s.cols.extend((0..3).map(|k| point_col + 3 * q + k));
                s.cols.push(w_col + i);
                s.vals.extend_from_slice(row);
                s.rows.push(s.cols.len());
            }
        }
        for (i, &w) in self.w.iter().enumerate() {
            let (_, j) = weight_err_jacobian(w);
            s.cols.push(w_col + i);
            s.vals.push(j[0][0]);
            s.rows.push(s.cols.len());
        }
        s
    }
}

/// A sparse matrix: `rows[r]..rows[r + 1]` index row `r`'s entries in `cols` and `vals`.
pub struct Sparse {
    pub rows: Vec<usize>,
    pub cols: Vec<usize>,
    pub vals: Vec<f64>,
}
