//! `ba`: ADBench's bundle adjustment. Each observation's reprojection error (a Rodrigues rotation
//! about the camera centre, perspective division, radial distortion, focal length and principal
//! point, times the observation's weight) and each weight's error `1 − w²` are `#[backprop]`
//! functions returning arrays; the sparse Jacobian is assembled in CSR/COO form (the manual tool's
//! order: 2 rows per observation with 15 entries each, camera, point, weight; then one row per
//! weight) from their generated derivatives, one per observation: the reverse sweep for each unit
//! seed through `reproj_vjp` (the rows `reproj_jacobian` returns, written straight into the matrix)
//! and `weight_err_vjp`.
//!
//! The rotation depends on the camera alone, so it is a stage of its own: `rotation` (angle-axis →
//! Rodrigues' matrix) and its generated `rotation_jacobian` run once per camera, `reproj` takes the
//! matrix, and the angle-axis columns are `d reproj / d rot · d rot / d r` (the chain rule). Before,
//! the rotation's `sincos`, square root and divisions ran in each of the two forward sweeps of every
//! observation; the Jacobian went from 0.6–1.1× `manual`'s time to about 0.3×. The matrix is written
//! into one `Sparse` kept across the benchmark's runs (`jacobian_into`), like `manual`'s output
//! object: fresh pages for its 300 MB were about a third of each run.

#![allow(clippy::needless_range_loop)]

use backprop::prelude::*;

/// Camera parameters: rotation (angle-axis), centre, focal length, principal point, distortion.
pub const CAM: usize = 11;

/// Rodrigues' rotation matrix (row-major) of the angle-axis `r` (a camera's `cam[0..3]`):
/// `cos θ I + sin θ [k]× + (1 − cos θ) k kᵀ` with `θ = |r|`, `k = r / θ`, so that `R (X − C)` is
/// the eval's `X cos θ + (k × X) sin θ + k (k · X)(1 − cos θ)`; `I + [r]×` at `θ = 0`, as the
/// eval's first-order rotation there. A function of the camera alone: computed (with its Jacobian)
/// once per camera, not once per observation.
#[backprop(wrt(r))]
pub fn rotation(r: &[f64; 3]) -> [f64; 9] {
    let sqtheta = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
    let mut m = [0.0; 9];
    if sqtheta != 0.0 {
        let theta = sqtheta.sqrt();
        let (costheta, sintheta) = (theta.cos(), theta.sin());
        let (k0, k1, k2) = (r[0] / theta, r[1] / theta, r[2] / theta);
        let c1 = 1.0 - costheta;
        m[0] = costheta + k0 * k0 * c1;
        m[1] = k0 * k1 * c1 - k2 * sintheta;
        m[2] = k0 * k2 * c1 + k1 * sintheta;
        m[3] = k1 * k0 * c1 + k2 * sintheta;
        m[4] = costheta + k1 * k1 * c1;
        m[5] = k1 * k2 * c1 - k0 * sintheta;
        m[6] = k2 * k0 * c1 - k1 * sintheta;
        m[7] = k2 * k1 * c1 + k0 * sintheta;
        m[8] = costheta + k2 * k2 * c1;
    } else {
        m[0] = 1.0;
        m[1] = -r[2];
        m[2] = r[1];
        m[3] = r[2];
        m[4] = 1.0;
        m[5] = -r[0];
        m[6] = -r[1];
        m[7] = r[0];
        m[8] = 1.0;
    }
    m
}

/// `w · (project(cam, x) − feat)`, the camera's rotation given as its matrix `rot` (`rotation` of
/// `cam[0..3]`, which this function does not read).
#[backprop(wrt(rot, cam, x, w))]
pub fn reproj(rot: &[f64; 9], cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64]) -> [f64; 2] {
    let xo0 = x[0] - cam[3];
    let xo1 = x[1] - cam[4];
    let xo2 = x[2] - cam[5];
    let xc0 = rot[0] * xo0 + rot[1] * xo1 + rot[2] * xo2;
    let xc1 = rot[3] * xo0 + rot[4] * xo1 + rot[5] * xo2;
    let xc2 = rot[6] * xo0 + rot[7] * xo1 + rot[8] * xo2;
    let p0 = xc0 / xc2;
    let p1 = xc1 / xc2;
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
        let rots: Vec<[f64; 9]> = (0..self.n).map(|c| rotation(self.cam(c)[..3].try_into().unwrap())).collect();
        let mut reproj_err = Vec::with_capacity(2 * self.p);
        for (i, &[c, q]) in self.obs.iter().enumerate() {
            let e = reproj(&rots[c], self.cam(c), self.point(q), self.w[i], &self.feats[2 * i..2 * i + 2]);
            reproj_err.extend_from_slice(&e);
        }
        let w_err = self.w.iter().map(|&w| weight_err(w)[0]).collect();
        (reproj_err, w_err)
    }

    /// The sparse Jacobian, `3p` rows by `11n + 3m + p` columns: CSR row starts and the COO columns
    /// and values.
    pub fn jacobian(&self) -> Sparse {
        let mut s = Sparse::default();
        self.jacobian_into(&mut s);
        s
    }

    /// `jacobian` into `s`, every entry overwritten. Its vectors are reused when they already have
    /// the right length (the benchmark's repeated runs): at `p` in the millions the matrix is
    /// hundreds of MB, and fresh pages cost a page fault each, about a third of the time.
    pub fn jacobian_into(&self, s: &mut Sparse) {
        let nnz = 2 * (CAM + 4) * self.p + self.p;
        // Zeroed vectors when the size is new: `calloc`'s fresh pages, not written twice.
        if s.rows.len() != 3 * self.p + 1 || s.vals.len() != nnz || s.cols.len() != nnz {
            *s = Sparse { rows: vec![0; 3 * self.p + 1], cols: vec![0; nnz], vals: vec![0.0; nnz] };
        }
        s.rows[0] = 0;
        let (point_col, w_col) = (CAM * self.n, CAM * self.n + 3 * self.m);
        // Each camera's rotation matrix and its Jacobian in the angle-axis, `jr[c][j][a]`.
        let (mut rots, mut jr) = (Vec::with_capacity(self.n), Vec::with_capacity(self.n));
        for c in 0..self.n {
            let (m, j) = rotation_jacobian(self.cam(c)[..3].try_into().unwrap());
            rots.push(m);
            jr.push(std::array::from_fn::<[f64; 3], 9, _>(|k| j[k][..].try_into().unwrap()));
        }
        let (rows, cols, vals) = (&mut s.rows[1..], &mut s.cols[..], &mut s.vals[..]);
        // Each observation's two rows, `2 · 15` entries from `30 i`.
        let blocks = cols[..30 * self.p].chunks_exact_mut(30).zip(vals[..30 * self.p].chunks_exact_mut(30));
        for (i, ((&[c, q], (cols, vals)), rows)) in
            self.obs.iter().zip(blocks).zip(rows[..2 * self.p].chunks_exact_mut(2)).enumerate()
        {
            let (cam, x, feat) = (self.cam(c), self.point(q), &self.feats[2 * i..2 * i + 2]);
            // Row k of the observation's Jacobian is the generated reverse sweep with seed e_k (what
            // `reproj_jacobian` computes, without its per-row vectors): `reproj_vjp` runs the
            // forward sweep and hands back the backward one, camera and point adjoints into the
            // sinks, the weight's returned.
            for k in 0..2 {
                let mut seed = [0.0; 2];
                seed[k] = 1.0;
                let (mut drot, mut dcam, mut dx) = ([0.0; 9], [0.0; CAM], [0.0; 3]);
                let (_, back) = reproj_vjp(&rots[c], cam, x, self.w[i], feat);
                let (_, _, _, dw, _) = back(&seed, Some(&mut drot), Some(&mut dcam), Some(&mut dx), None);
                // The chain rule through the camera's rotation: d/dcam[0..3] = d/drot · drot/dr.
                for a in 0..3 {
                    dcam[a] += (0..9).map(|j| drot[j] * jr[c][j][a]).sum::<f64>();
                }
                let (cols, vals) = (&mut cols[15 * k..15 * k + 15], &mut vals[15 * k..15 * k + 15]);
                for j in 0..CAM {
                    cols[j] = (CAM * c + j) as u32;
                }
                for j in 0..3 {
                    cols[CAM + j] = (point_col + 3 * q + j) as u32;
                }
                cols[14] = (w_col + i) as u32;
                vals[..CAM].copy_from_slice(&dcam);
                vals[CAM..14].copy_from_slice(&dx);
                vals[14] = dw;
                rows[k] = (30 * i + 15 * (k + 1)) as u32;
            }
        }
        let (rows, cols, vals) = (&mut rows[2 * self.p..], &mut cols[30 * self.p..], &mut vals[30 * self.p..]);
        for (i, &w) in self.w.iter().enumerate() {
            let (_, back) = weight_err_vjp(w);
            let (dw,) = back(&[1.0]);
            cols[i] = (w_col + i) as u32;
            vals[i] = dw;
            rows[i] = (30 * self.p + i + 1) as u32;
        }
    }
}

/// A sparse matrix: `rows[r]..rows[r + 1]` index row `r`'s entries in `cols` and `vals`.
/// Indices are `u32` (the manual tool's `int`): half the memory of `usize` at a million rows.
#[derive(Default)]
pub struct Sparse {
    pub rows: Vec<u32>,
    pub cols: Vec<u32>,
    pub vals: Vec<f64>,
}
