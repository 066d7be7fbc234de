//! `ht`: ADBench's hand tracking. `theta` (26: global angle-axis rotation, translation, 20 finger
//! angles) poses a 22-bone skinned hand; each data point's error is its position minus the hand
//! point it corresponds to: a vertex (simple variant) or a point `u₀ a + u₁ b + (1 − u₀ − u₁) c` of
//! a triangle (complicated variant, `us` also differentiated, two columns before `theta`'s).
//!
//! The objective is written in three `#[backprop]` stages, each a plain-Rust primal of the eval's
//! definition: `bone` (theta → one bone's 3×4 skinning transform along its chain of ancestors,
//! global rotation applied; `translation` the global translation), `vertex` (those → one skinned
//! vertex) and `point_*` (vertices → one error). The dense Jacobian is the product of the stages'
//! generated Jacobians (`bone_jacobian` once per bone and evaluation; `vertex`'s once per distinct
//! vertex and `point_*`'s once per point, row by row from their generated `_vjp`s): the chain
//! rule, no derivative written by hand. Staging is what makes it cheap: `_jacobian` is reverse mode, one pullback per output, so
//! a single function of all `3n` errors would run `3n` pullbacks through the whole bone chain, and
//! one function of all bones 267 pullbacks through all 22 bones. `vertex` sums over the 1–4 bones
//! of non-zero weight only (the other terms are exact zeros), so its pullback, and the product of
//! its Jacobian with the bones', touch those bones alone; each used vertex's derivative is computed
//! once per evaluation in a first pass, and the Jacobian is written into a buffer kept across the
//! benchmark's runs (`jacobian_into`, like `manual`'s output vector): 62 MB of fresh pages per run at
//! 100,000 points made `hand12` 1.4× `manual`.

// Element loops, not `copy_from_slice`: the loops are what `#[backprop]` differentiates.
#![allow(clippy::needless_range_loop, clippy::too_many_arguments, clippy::manual_memcpy)]

use backprop::prelude::*;

/// Bones of the hand (the model's), fixed because `_jacobian` wants a fixed-size array result.
pub const BONES: usize = 22;
/// `theta`'s length.
pub const THETA: usize = 26;
/// `vertex`'s input: a 3×4 transform per bone (row-major, `bone`), then the translation.
pub const AFFINE: usize = 12 * BONES + 3;

/// Bone `path[last]`'s global transform `R_glob · mirror · (absolute · inverse_base_absolute)[0..3]`
/// (3×4, row-major), `absolute` the product of the relatives along `path` (root first). `base_rel`
/// and `inv_abs` are the model's 4×4 matrices row-major, bone after bone.
#[backprop(wrt(theta))]
pub fn bone(theta: &[f64; 26], path: &[usize], base_rel: &[f64], inv_abs: &[f64], mirror: f64) -> [f64; 12] {
    // Pose parameters, 3 × (bones + 3), column c at pose[3c..3c + 3] (ADBench's to_pose_params):
    // column 0 the rotation, 1 the scale (1), 2 the translation; finger f's joints j = 0, 1, 2 are
    // columns 5 + 4f + j, the first joint with two angles (theta 6 + 4f, 7 + 4f), the others one.
    let mut pose = [0.0; 75];
    for r in 0..3 {
        pose[r] = theta[r];
        pose[3 + r] = 1.0;
        pose[6 + r] = theta[3 + r];
    }
    for f in 0..5 {
        let c = 5 + 4 * f;
        pose[3 * c] = theta[6 + 4 * f];
        pose[3 * c + 1] = theta[7 + 4 * f];
        pose[3 * (c + 1)] = theta[8 + 4 * f];
        pose[3 * (c + 2)] = theta[9 + 4 * f];
    }
    // The global rotation from the angle-axis theta[0..3] (identity below norm 1e-4), columns
    // scaled by pose column 1.
    let mut rg = [0.0; 9];
    let norm = (theta[0] * theta[0] + theta[1] * theta[1] + theta[2] * theta[2]).sqrt();
    if norm < 0.0001 {
        rg[0] = 1.0;
        rg[4] = 1.0;
        rg[8] = 1.0;
    } else {
        let x = theta[0] / norm;
        let y = theta[1] / norm;
        let z = theta[2] / norm;
        let s = norm.sin();
        let c = norm.cos();
        rg[0] = x * x + (1.0 - x * x) * c;
        rg[1] = x * y * (1.0 - c) - z * s;
        rg[2] = x * z * (1.0 - c) + y * s;
        rg[3] = x * y * (1.0 - c) + z * s;
        rg[4] = y * y + (1.0 - y * y) * c;
        rg[5] = y * z * (1.0 - c) - x * s;
        rg[6] = x * z * (1.0 - c) - y * s;
        rg[7] = z * y * (1.0 - c) + x * s;
        rg[8] = z * z + (1.0 - z * z) * c;
    }
    for i in 0..3 {
        for j in 0..3 {
            rg[3 * i + j] *= pose[3 + j];
        }
    }
    let mut absolute = [0.0; 16];
    for e in 0..4 {
        absolute[5 * e] = 1.0;
    }
    for k in 0..path.len() {
        let b = path[k];
        // Euler angles in x, z, y order: R = Rz · Ry · Rx.
        let tx = pose[3 * (b + 3)];
        let tz = pose[3 * (b + 3) + 1];
        let ty = pose[3 * (b + 3) + 2];
        let (sx, cx) = (tx.sin(), tx.cos());
        let (sy, cy) = (ty.sin(), ty.cos());
        let (sz, cz) = (tz.sin(), tz.cos());
        let mut rot = [0.0; 9];
        rot[0] = cz * cy;
        rot[1] = cz * sy * sx - sz * cx;
        rot[2] = cz * sy * cx + sz * sx;
        rot[3] = sz * cy;
        rot[4] = sz * sy * sx + cz * cx;
        rot[5] = sz * sy * cx - cz * sx;
        rot[6] = -sy;
        rot[7] = cy * sx;
        rot[8] = cy * cx;
        // relative = base_relative · [R 0; 0 1]; absolute = absolute · relative.
        let mut rel = [0.0; 16];
        for r in 0..4 {
            for c in 0..3 {
                let mut s = 0.0;
                for q in 0..3 {
                    s += base_rel[16 * b + 4 * r + q] * rot[3 * q + c];
                }
                rel[4 * r + c] = s;
            }
            rel[4 * r + 3] = base_rel[16 * b + 4 * r + 3];
        }
        let mut next = [0.0; 16];
        for r in 0..4 {
            for c in 0..4 {
                let mut s = 0.0;
                for q in 0..4 {
                    s += absolute[4 * r + q] * rel[4 * q + c];
                }
                next[4 * r + c] = s;
            }
        }
        for e in 0..16 {
            absolute[e] = next[e];
        }
    }
    // transform = absolute · inverse_base_absolute (rows 0..3), mirrored, rotated globally.
    let last = path[path.len() - 1];
    let mut t = [0.0; 12];
    for r in 0..3 {
        for c in 0..4 {
            let mut s = 0.0;
            for q in 0..4 {
                s += absolute[4 * r + q] * inv_abs[16 * last + 4 * q + c];
            }
            t[4 * r + c] = s;
        }
    }
    for c in 0..4 {
        t[c] *= mirror;
    }
    let mut out = [0.0; 12];
    for r in 0..3 {
        for c in 0..4 {
            out[4 * r + c] = rg[3 * r] * t[c] + rg[3 * r + 1] * t[4 + c] + rg[3 * r + 2] * t[8 + c];
        }
    }
    out
}

/// The global translation, `theta[3..6]`.
#[backprop(wrt(theta))]
pub fn translation(theta: &[f64; 26]) -> [f64; 3] {
    let mut t = [0.0; 3];
    for r in 0..3 {
        t[r] = theta[3 + r];
    }
    t
}

/// One skinned vertex: `Σ_b w_b G_b p + t` (`a` the bones' transforms and the translation, `p`
/// homogeneous) over the bones `bones[k]` of non-zero weight `w[k]` (a vertex has 1 to 4 of the
/// 22: the terms left out are exact zeros, and the pullback then touches only those bones).
#[backprop(wrt(a))]
pub fn vertex(a: &[f64; 267], bones: &[usize], w: &[f64], p: &[f64]) -> [f64; 3] {
    let mut x = [0.0; 3];
    for k in 0..bones.len() {
        let b = bones[k];
        for r in 0..3 {
            x[r] += w[k]
                * (a[12 * b + 4 * r] * p[0]
                    + a[12 * b + 4 * r + 1] * p[1]
                    + a[12 * b + 4 * r + 2] * p[2]
                    + a[12 * b + 4 * r + 3] * p[3]);
        }
    }
    for r in 0..3 {
        x[r] += a[264 + r];
    }
    x
}

/// A data point minus its vertex (the simple variant).
#[backprop(wrt(x))]
pub fn point_simple(x: &[f64; 3], data: &[f64]) -> [f64; 3] {
    let mut e = [0.0; 3];
    for r in 0..3 {
        e[r] = data[r] - x[r];
    }
    e
}

/// A data point minus `u₀ a + u₁ b + (1 − u₀ − u₁) c` (the complicated variant; `x` is a, b, c).
#[backprop(wrt(x, u))]
pub fn point_triangle(x: &[f64; 9], u: &[f64; 2], data: &[f64]) -> [f64; 3] {
    let mut e = [0.0; 3];
    for r in 0..3 {
        e[r] = data[r] - (u[0] * x[r] + u[1] * x[3 + r] + (1.0 - u[0] - u[1]) * x[6 + r]);
    }
    e
}

// The small stages' Jacobians row by row from their generated reverse sweeps (`_vjp`, seed e_r):
// the rows `_jacobian` returns, on the stack instead of in a `Vec` per row (these run once per
// point or vertex, tens of thousands of times per evaluation).

fn unit(r: usize) -> [f64; 3] {
    let mut e = [0.0; 3];
    e[r] = 1.0;
    e
}

/// `vertex`'s value; its Jacobian in `a` added into `j` (zero on entry).
fn vertex_rows(a: &[f64; AFFINE], bones: &[usize], w: &[f64], p: &[f64], j: &mut [[f64; AFFINE]; 3]) -> [f64; 3] {
    let mut x = [0.0; 3];
    for r in 0..3 {
        let (value, back) = vertex_vjp(a, bones, w, p);
        back(&unit(r), Some(&mut j[r]), None, None);
        x = value;
    }
    x
}

/// Vertex `v`'s bones of non-zero weight and their weights (the first `n` of each array).
fn skin(weights: &[f64]) -> ([usize; BONES], [f64; BONES], usize) {
    let (mut bones, mut w, mut n) = ([0; BONES], [0.0; BONES], 0);
    for (b, &wb) in weights.iter().enumerate() {
        if wb != 0.0 {
            (bones[n], w[n]) = (b, wb);
            n += 1;
        }
    }
    (bones, w, n)
}

/// `point_triangle`'s Jacobian: columns `x` (9), then `u` (2).
fn point_triangle_rows(x: &[f64; 9], u: &[f64; 2], data: &[f64]) -> [[f64; 11]; 3] {
    let mut j = [[0.0; 11]; 3];
    for r in 0..3 {
        let (mut dx, mut du) = ([0.0; 9], [0.0; 2]);
        let (_, back) = point_triangle_vjp(x, u, data);
        back(&unit(r), Some(&mut dx), Some(&mut du), None);
        j[r][..9].copy_from_slice(&dx);
        j[r][9..].copy_from_slice(&du);
    }
    j
}

/// `point_simple`'s Jacobian in `x`.
fn point_simple_rows(x: &[f64; 3], data: &[f64]) -> [[f64; 3]; 3] {
    let mut j = [[0.0; 3]; 3];
    for r in 0..3 {
        let (_, back) = point_simple_vjp(x, data);
        back(&unit(r), Some(&mut j[r]), None);
    }
    j
}

/// The parsed input, matrices row-major.
pub struct Input {
    pub theta: [f64; THETA],
    /// 4×4 per bone.
    pub base_rel: Vec<f64>,
    pub inv_abs: Vec<f64>,
    /// `parents[b] == b` for the root.
    pub parents: Vec<usize>,
    /// Each bone's ancestors from the root, then itself (from `parents`).
    pub paths: Vec<Vec<usize>>,
    /// Homogeneous, 4 per vertex.
    pub positions: Vec<f64>,
    /// `BONES` per vertex.
    pub weights: Vec<f64>,
    pub triangles: Vec<[usize; 3]>,
    pub mirrored: bool,
    pub correspondences: Vec<usize>,
    /// 3 per point.
    pub points: Vec<f64>,
    /// 2 per point, empty in the simple variant.
    pub us: Vec<f64>,
}

impl Input {
    fn complicated(&self) -> bool {
        !self.us.is_empty()
    }

    fn mirror(&self) -> f64 {
        if self.mirrored {
            -1.0
        } else {
            1.0
        }
    }

    /// `bone` for every bone, then `translation`: `vertex`'s `a`.
    fn affine(&self) -> [f64; AFFINE] {
        let mut a = [0.0; AFFINE];
        for (b, path) in self.paths.iter().enumerate() {
            a[12 * b..12 * b + 12].copy_from_slice(&bone(
                &self.theta,
                path,
                &self.base_rel,
                &self.inv_abs,
                self.mirror(),
            ));
        }
        a[12 * BONES..].copy_from_slice(&translation(&self.theta));
        a
    }

    /// `affine` and its Jacobian (rows of `bone_jacobian` and `translation_jacobian`, stacked).
    fn affine_jacobian(&self) -> ([f64; AFFINE], Vec<Vec<f64>>) {
        let mut a = [0.0; AFFINE];
        let mut ja = Vec::with_capacity(AFFINE);
        for (b, path) in self.paths.iter().enumerate() {
            let (v, j) = bone_jacobian(&self.theta, path, &self.base_rel, &self.inv_abs, self.mirror());
            a[12 * b..12 * b + 12].copy_from_slice(&v);
            ja.extend(j);
        }
        let (t, j) = translation_jacobian(&self.theta);
        a[12 * BONES..].copy_from_slice(&t);
        ja.extend(j);
        (a, ja)
    }

    fn vertex_of(&self, a: &[f64; AFFINE], v: usize) -> [f64; 3] {
        let (bones, w, n) = skin(&self.weights[BONES * v..BONES * (v + 1)]);
        vertex(a, &bones[..n], &w[..n], &self.positions[4 * v..4 * v + 4])
    }

    /// Columns of the Jacobian: `u₀, u₁` (complicated variant) and `theta`.
    pub fn jacobian_cols(&self) -> usize {
        if self.complicated() {
            2 + THETA
        } else {
            THETA
        }
    }

    /// The errors, 3 per point (each distinct vertex skinned once).
    pub fn objective(&self) -> Vec<f64> {
        let a = self.affine();
        let mut cache: Vec<Option<[f64; 3]>> = vec![None; self.positions.len() / 4];
        let mut vertex_at = |v: usize| -> [f64; 3] { *cache[v].get_or_insert_with(|| self.vertex_of(&a, v)) };
        let mut err = Vec::with_capacity(self.points.len());
        for (i, &c) in self.correspondences.iter().enumerate() {
            let data = &self.points[3 * i..3 * i + 3];
            let e = if self.complicated() {
                let t = self.triangles[c];
                let mut x = [0.0; 9];
                for (k, &v) in t.iter().enumerate() {
                    x[3 * k..3 * k + 3].copy_from_slice(&vertex_at(v));
                }
                point_triangle(&x, &[self.us[2 * i], self.us[2 * i + 1]], data)
            } else {
                point_simple(&vertex_at(c), data)
            };
            err.extend_from_slice(&e);
        }
        err
    }

    /// The dense Jacobian, one row per error, flat (rows of `jacobian_cols()`): `[∂/∂u₀, ∂/∂u₁]`
    /// of the point's own `u` (complicated variant only), then the 26 of `theta`.
    pub fn jacobian(&self) -> Vec<f64> {
        let mut buf = JacobianBuf::default();
        self.jacobian_into(&mut buf);
        buf.rows
    }

    /// `jacobian` into `buf.rows`, every entry overwritten. The buffers are reused when they have
    /// the right size (the benchmark's repeated runs): 100,000 points make a 62 MB Jacobian, and
    /// fresh pages cost a page fault each.
    pub fn jacobian_into(&self, buf: &mut JacobianBuf) {
        let (a, ja) = self.affine_jacobian();
        let ja: Vec<[f64; THETA]> = ja.iter().map(|r| r[..].try_into().unwrap()).collect();
        let nv = self.positions.len() / 4;
        let ncols = self.jacobian_cols();
        let nrows = 3 * self.correspondences.len();
        if buf.rows.len() != nrows * ncols {
            buf.rows = vec![0.0; nrows * ncols];
        }
        if buf.vertices.len() != nv {
            buf.vertices = vec![([0.0; 3], [[0.0; THETA]; 3]); nv];
        }
        // `done[v]`: vertex v's position and d(position)/d(theta) = vertex_jacobian · ja are in
        // `vertices[v]` (each distinct vertex once per evaluation).
        buf.done.clear();
        buf.done.resize(nv, false);
        let JacobianBuf { rows, vertices, done } = buf;
        // Zero between vertices: what a vertex's rows made non-zero is reset as it is read (the
        // pullback adds only into the vertex's bones).
        let mut jv = Box::new([[0.0; AFFINE]; 3]);
        let mut vertex_d = |v: usize| {
            if !done[v] {
                done[v] = true;
                let (bones, w, n) = skin(&self.weights[BONES * v..BONES * (v + 1)]);
                let x = vertex_rows(&a, &bones[..n], &w[..n], &self.positions[4 * v..4 * v + 4], &mut jv);
                let mut d = [[0.0; THETA]; 3];
                // Only the used bones' transforms (and the translation) have entries in `jv`.
                let used = bones[..n].iter().flat_map(|&b| 12 * b..12 * b + 12).chain(12 * BONES..AFFINE);
                for r in 0..3 {
                    for k in used.clone() {
                        let s = jv[r][k];
                        if s != 0.0 {
                            for c in 0..THETA {
                                d[r][c] += s * ja[k][c];
                            }
                            jv[r][k] = 0.0;
                        }
                    }
                }
                vertices[v] = (x, d);
            }
        };
        // The vertices the points use, then the points' rows.
        for &c in &self.correspondences {
            if self.complicated() {
                self.triangles[c].iter().for_each(|&v| vertex_d(v));
            } else {
                vertex_d(c);
            }
        }
        let vertex_d = |v: usize| &vertices[v];
        for ((i, &c), rows) in self.correspondences.iter().enumerate().zip(rows.chunks_exact_mut(3 * ncols)) {
            let data = &self.points[3 * i..3 * i + 3];
            if self.complicated() {
                let t = self.triangles[c];
                let mut x = [0.0; 9];
                let mut dx = [[[0.0; THETA]; 3]; 3];
                for (k, &v) in t.iter().enumerate() {
                    let (p, d) = vertex_d(v);
                    x[3 * k..3 * k + 3].copy_from_slice(p);
                    dx[k] = *d;
                }
                let jp = point_triangle_rows(&x, &[self.us[2 * i], self.us[2 * i + 1]], data);
                for (r, row) in rows.chunks_exact_mut(ncols).enumerate() {
                    row[0] = jp[r][9];
                    row[1] = jp[r][10];
                    for col in 0..THETA {
                        let mut sum = 0.0;
                        for k in 0..3 {
                            for s in 0..3 {
                                sum += jp[r][3 * k + s] * dx[k][s][col];
                            }
                        }
                        row[2 + col] = sum;
                    }
                }
            } else {
                let (p, d) = vertex_d(c);
                let jp = point_simple_rows(p, data);
                for (r, row) in rows.chunks_exact_mut(ncols).enumerate() {
                    for col in 0..THETA {
                        row[col] = jp[r][0] * d[0][col] + jp[r][1] * d[1][col] + jp[r][2] * d[2][col];
                    }
                }
            }
        }
    }
}

/// `jacobian_into`'s output and scratch, kept across runs.
#[derive(Default)]
pub struct JacobianBuf {
    /// The Jacobian, rows of `jacobian_cols()`.
    pub rows: Vec<f64>,
    vertices: Vec<([f64; 3], [[f64; THETA]; 3])>,
    done: Vec<bool>,
}
