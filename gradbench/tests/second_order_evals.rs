//! The evals built on second-order code (`kmeans`, `ht`, `ba`, `particle`, `saddle`), each run
//! through the binary over the protocol on small inputs and checked against values computed without
//! `#[backprop]`: closed forms (`kmeans`' Newton direction is `C − mean of the assigned points`) and
//! central finite differences of plain-Rust primals written here, independent of the tool's.

#![allow(clippy::needless_range_loop)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

mod common;
use common::Rng;

/// Central differences with Richardson extrapolation (error O(h⁴)).
fn finite_differences(f: impl Fn(&[f64]) -> Vec<f64>, x: &[f64]) -> Vec<Vec<f64>> {
    // Column i of the Jacobian, returned as columns.
    (0..x.len())
        .map(|i| {
            let d = |h: f64| {
                let mut p = x.to_vec();
                p[i] = x[i] + h;
                let up = f(&p);
                p[i] = x[i] - h;
                let down = f(&p);
                up.iter().zip(&down).map(|(u, d)| (u - d) / (2.0 * h)).collect::<Vec<f64>>()
            };
            let h = 1e-3 * (1.0 + x[i].abs());
            let (a, b) = (d(h / 2.0), d(h));
            a.iter().zip(&b).map(|(a, b)| (4.0 * a - b) / 3.0).collect()
        })
        .collect()
}

fn assert_close(what: &str, actual: f64, expected: f64, tol: f64) {
    assert!((actual - expected).abs() <= tol * (1.0 + expected.abs()), "{what}: {actual} vs {expected}");
}

/// Runs one protocol session through the built binary; returns the `evaluate` responses' outputs,
/// checking each response's shape (`success`, one `evaluate` timing per run, at least `min_runs`).
fn evaluate(module: &str, calls: &[(&str, Value)]) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_backprop-gradbench"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the tool starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |m: Value| -> Value {
        writeln!(stdin, "{m}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).expect("a JSON response")
    };
    assert_eq!(send(json!({"id": 0, "kind": "start", "eval": module}))["tool"], "backprop");
    assert_eq!(send(json!({"id": 1, "kind": "define", "module": module}))["success"], true);
    let mut outputs = Vec::new();
    for (k, (function, input)) in calls.iter().enumerate() {
        let mut input = input.clone();
        input
            .as_object_mut()
            .unwrap()
            .extend([("min_runs".to_string(), json!(2)), ("min_seconds".to_string(), json!(0))]);
        let r = send(json!({"id": 2 + k, "kind": "evaluate", "module": module, "function": function, "input": input}));
        assert_eq!(r["success"], true, "{module}::{function}: {r}");
        let timings = r["timings"].as_array().unwrap();
        assert!(timings.len() >= 2 && timings.iter().all(|t| t["name"] == "evaluate"));
        outputs.push(r["output"].clone());
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    outputs
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()).collect()
}

// ---- kmeans -------------------------------------------------------------------------------------

#[test]
fn kmeans_cost_and_newton_direction() {
    kmeans_case(11, 40, 4, 3);
    // Counts that are no multiple of the blocks the search runs in (points and centroids in fours
    // or twos): the leftover points and centroids take the other paths.
    kmeans_case(12, 43, 7, 5);
    kmeans_case(13, 9, 1, 2);
}

fn kmeans_case(seed: u64, n: usize, k: usize, d: usize) {
    let mut rng = Rng(seed);
    let points: Vec<Vec<f64>> = (0..n).map(|_| rng.vec(d, 0.0, 1.0)).collect();
    // The eval's construction: the last k points are the centroids, so no cluster is empty.
    let centroids: Vec<Vec<f64>> = points[n - k..].to_vec();
    let input = json!({"points": points, "centroids": centroids});
    let out = evaluate("kmeans", &[("cost", input.clone()), ("dir", input)]);
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>();
    let mut cost = 0.0;
    let mut sums = vec![vec![0.0; d]; k];
    let mut counts = vec![0.0; k];
    for p in &points {
        let j = (0..k).min_by(|&a, &b| dist(p, &centroids[a]).total_cmp(&dist(p, &centroids[b]))).unwrap();
        cost += dist(p, &centroids[j]);
        counts[j] += 1.0;
        for l in 0..d {
            sums[j][l] += p[l];
        }
    }
    assert_close("cost", out[0].as_f64().unwrap(), cost, 1e-13);
    // J = 2 Σ (c − p), H = 2 count: J H⁻¹ = c − mean.
    let dir = matrix(&out[1]);
    for j in 0..k {
        for l in 0..d {
            assert_close(&format!("dir[{j}][{l}]"), dir[j][l], centroids[j][l] - sums[j][l] / counts[j], 1e-12);
        }
    }
}

// ---- ht -----------------------------------------------------------------------------------------

type M4 = [[f64; 4]; 4];

fn mul4(a: &M4, b: &M4) -> M4 {
    let mut c = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..4 {
            for k in 0..4 {
                c[i][j] += a[i][k] * b[k][j];
            }
        }
    }
    c
}

/// A 4×4 with rotation block `r` (3×3).
fn rot4(r: [[f64; 3]; 3]) -> M4 {
    let mut m = [[0.0; 4]; 4];
    for i in 0..3 {
        m[i][..3].copy_from_slice(&r[i]);
    }
    m[3][3] = 1.0;
    m
}

/// A small random hand: 22 bones (a tree), `nv` vertices with 1 to 3 bones each, triangles.
struct Hand {
    base_rel: Vec<M4>,
    inv_abs: Vec<M4>,
    parents: Vec<i64>,
    positions: Vec<[f64; 4]>,
    weights: Vec<Vec<f64>>,
    triangles: Vec<[usize; 3]>,
}

fn random_hand(rng: &mut Rng, nv: usize) -> Hand {
    let m4 = |rng: &mut Rng| -> M4 {
        let mut m = [[0.0; 4]; 4];
        for i in 0..3 {
            for j in 0..4 {
                m[i][j] = rng.next() - 0.5 + if i == j { 1.0 } else { 0.0 };
            }
        }
        m[3][3] = 1.0;
        m
    };
    let base_rel = (0..22).map(|_| m4(rng)).collect();
    let inv_abs = (0..22).map(|_| m4(rng)).collect();
    let parents = (0..22).map(|b: i64| if b == 0 { -1 } else { (b - 1) / 2 }).collect();
    let positions = (0..nv).map(|_| [rng.next(), rng.next(), rng.next(), 1.0]).collect();
    let weights = (0..nv)
        .map(|v| {
            let mut w = vec![0.0; 22];
            for k in 0..1 + v % 3 {
                w[(v * 7 + 5 * k) % 22] += rng.next();
            }
            w
        })
        .collect();
    let triangles = (0..nv).map(|v| [v, (v + 1) % nv, (v + 3) % nv]).collect();
    Hand { base_rel, inv_abs, parents, positions, weights, triangles }
}

/// ADBench's hand objective, straight from its definition (matrix products, no expansion).
fn ht_errors(h: &Hand, theta: &[f64], us: &[f64], corr: &[usize], points: &[[f64; 3]]) -> Vec<f64> {
    // Pose columns: 0 rotation, 1 scale, 2 translation, 3 + b bone b's Euler (x, z, y).
    let mut pose = vec![[0.0; 3]; 25];
    pose[0] = [theta[0], theta[1], theta[2]];
    pose[1] = [1.0; 3];
    pose[2] = [theta[3], theta[4], theta[5]];
    let mut it = 6;
    let mut ip = 5;
    for _ in 0..5 {
        for i in 2..=4 {
            pose[ip][0] = theta[it];
            it += 1;
            if i == 2 {
                pose[ip][1] = theta[it];
                it += 1;
            }
            ip += 1;
        }
        ip += 1;
    }
    let mut abs: Vec<M4> = Vec::new();
    let mut transforms = Vec::new();
    for b in 0..22 {
        let (tx, tz, ty) = (pose[b + 3][0], pose[b + 3][1], pose[b + 3][2]);
        let rx = [[1.0, 0.0, 0.0], [0.0, tx.cos(), -tx.sin()], [0.0, tx.sin(), tx.cos()]];
        let ry = [[ty.cos(), 0.0, ty.sin()], [0.0, 1.0, 0.0], [-ty.sin(), 0.0, ty.cos()]];
        let rz = [[tz.cos(), -tz.sin(), 0.0], [tz.sin(), tz.cos(), 0.0], [0.0, 0.0, 1.0]];
        let r = mul4(&mul4(&rot4(rz), &rot4(ry)), &rot4(rx));
        let rel = mul4(&h.base_rel[b], &r);
        let a = if h.parents[b] < 0 { rel } else { mul4(&abs[h.parents[b] as usize], &rel) };
        transforms.push(mul4(&a, &h.inv_abs[b]));
        abs.push(a);
    }
    // Rodrigues: R = I + sin θ K + (1 − cos θ) K².
    let th = (theta[0] * theta[0] + theta[1] * theta[1] + theta[2] * theta[2]).sqrt();
    let (x, y, z) = (theta[0] / th, theta[1] / th, theta[2] / th);
    let k = [[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]];
    let mut rg = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            let k2: f64 = (0..3).map(|l| k[i][l] * k[l][j]).sum();
            rg[i][j] = if i == j { 1.0 } else { 0.0 } + th.sin() * k[i][j] + (1.0 - th.cos()) * k2;
        }
    }
    let skinned = |v: usize| -> [f64; 3] {
        let mut s = [0.0; 3];
        for b in 0..22 {
            for i in 0..3 {
                s[i] += h.weights[v][b] * (0..4).map(|l| transforms[b][i][l] * h.positions[v][l]).sum::<f64>();
            }
        }
        let mut g = [0.0; 3];
        for i in 0..3 {
            g[i] = (0..3).map(|l| rg[i][l] * s[l]).sum::<f64>() + theta[3 + i];
        }
        g
    };
    let mut err = Vec::new();
    for (i, &c) in corr.iter().enumerate() {
        let hp = if us.is_empty() {
            skinned(c)
        } else {
            let t = h.triangles[c];
            let (a, b, d) = (skinned(t[0]), skinned(t[1]), skinned(t[2]));
            let (u0, u1) = (us[2 * i], us[2 * i + 1]);
            [0, 1, 2].map(|j| u0 * a[j] + u1 * b[j] + (1.0 - u0 - u1) * d[j])
        };
        for j in 0..3 {
            err.push(points[i][j] - hp[j]);
        }
    }
    err
}

fn ht_input(h: &Hand, theta: &[f64], us: &[f64], corr: &[usize], points: &[[f64; 3]]) -> Value {
    let m = |ms: &Vec<M4>| json!(ms.iter().map(|m| m.to_vec()).collect::<Vec<_>>());
    json!({
        "theta": theta,
        "us": us.chunks(2).map(|c| c.to_vec()).collect::<Vec<_>>(),
        "data": {
            "model": {
                "bone_count": 22,
                "bone_names": (0..22).map(|b| format!("b{b}")).collect::<Vec<_>>(),
                "parents": h.parents,
                "base_relatives": m(&h.base_rel),
                "inverse_base_absolutes": m(&h.inv_abs),
                "base_positions": h.positions,
                "weights": h.weights,
                "triangles": h.triangles,
                "is_mirrored": false,
            },
            "correspondences": corr,
            "points": points,
        }
    })
}

#[test]
fn ht_objective_and_jacobian_both_variants() {
    let mut rng = Rng(19);
    let hand = random_hand(&mut rng, 12);
    let theta = rng.vec(26, -0.8, 0.8);
    let npts = 6;
    let corr: Vec<usize> = (0..npts).map(|i| (5 * i + 2) % 12).collect();
    let points: Vec<[f64; 3]> = (0..npts).map(|_| [rng.next(), rng.next(), rng.next()]).collect();
    for complicated in [false, true] {
        let us = if complicated { rng.vec(2 * npts, 0.0, 0.5) } else { vec![] };
        let input = ht_input(&hand, &theta, &us, &corr, &points);
        let out = evaluate("ht", &[("objective", input.clone()), ("jacobian", input)]);
        let err = ht_errors(&hand, &theta, &us, &corr, &points);
        let got: Vec<f64> = out[0].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(got.len(), 3 * npts);
        for k in 0..err.len() {
            assert_close(&format!("err[{k}]"), got[k], err[k], 1e-12);
        }
        // Columns: (u₀, u₁ of the row's point), then theta; by differences of the definition.
        let jac = matrix(&out[1]);
        let theta_cols = finite_differences(|t| ht_errors(&hand, t, &us, &corr, &points), &theta);
        let u_cols = finite_differences(|u| ht_errors(&hand, &theta, u, &corr, &points), &us);
        let off = if complicated { 2 } else { 0 };
        for r in 0..3 * npts {
            assert_eq!(jac[r].len(), off + 26);
            for c in 0..26 {
                assert_close(&format!("J[{r}][theta {c}] ({complicated})"), jac[r][off + c], theta_cols[c][r], 1e-8);
            }
            if complicated {
                let i = r / 3;
                assert_close(&format!("J[{r}][u0]"), jac[r][0], u_cols[2 * i][r], 1e-8);
                assert_close(&format!("J[{r}][u1]"), jac[r][1], u_cols[2 * i + 1][r], 1e-8);
            }
        }
    }
}

// ---- ba -----------------------------------------------------------------------------------------

/// One observation's weighted reprojection error, from the definition with the rotation matrix
/// `R = I + sin θ K + (1 − cos θ) K²` (the tool uses Ceres' form of the same rotation).
fn ba_err(params: &[f64], feat: &[f64]) -> Vec<f64> {
    let (cam, x, w) = (&params[..11], &params[11..14], params[14]);
    let th = (cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2]).sqrt();
    let xo = [x[0] - cam[3], x[1] - cam[4], x[2] - cam[5]];
    let mut xc = [0.0; 3];
    if th == 0.0 {
        // The eval's first-order rotation at θ = 0: X + r × X.
        let r = &cam[..3];
        xc = [
            xo[0] + r[1] * xo[2] - r[2] * xo[1],
            xo[1] + r[2] * xo[0] - r[0] * xo[2],
            xo[2] + r[0] * xo[1] - r[1] * xo[0],
        ];
    }
    let (a, b, c) = (cam[0] / th, cam[1] / th, cam[2] / th);
    let k = [[0.0, -c, b], [c, 0.0, -a], [-b, a, 0.0]];
    for i in 0..3 {
        for j in 0..3 {
            if th == 0.0 {
                continue;
            }
            let k2: f64 = (0..3).map(|l| k[i][l] * k[l][j]).sum();
            let r = if i == j { 1.0 } else { 0.0 } + th.sin() * k[i][j] + (1.0 - th.cos()) * k2;
            xc[i] += r * xo[j];
        }
    }
    let p = [xc[0] / xc[2], xc[1] / xc[2]];
    let rsq = p[0] * p[0] + p[1] * p[1];
    let l = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq;
    vec![w * (p[0] * l * cam[6] + cam[7] - feat[0]), w * (p[1] * l * cam[6] + cam[8] - feat[1])]
}

#[test]
fn ba_objective_and_sparse_jacobian() {
    let mut rng = Rng(23);
    let mut cam = rng.vec(11, -0.3, 0.3);
    cam[6] = 1.5; // focal length
    ba_case(&mut rng, &cam);
    // No rotation: the eval's first-order branch (the Jacobian still has the rotation's columns).
    cam[..3].fill(0.0);
    ba_case(&mut rng, &cam);
}

fn ba_case(rng: &mut Rng, cam: &[f64]) {
    let x = vec![rng.next(), rng.next(), 4.0 + rng.next()];
    let (w, feat) = (0.8, vec![0.2, -0.1]);
    let (n, m, p) = (2, 3, 12);
    let input = json!({"n": n, "m": m, "p": p, "cam": cam, "x": x, "w": w, "feat": feat});
    let out = evaluate("ba", &[("objective", input.clone()), ("jacobian", input)]);
    let params: Vec<f64> = cam.iter().chain(&x).copied().chain([w]).collect();
    let err = ba_err(&params, &feat);
    let reproj = &out[0]["reproj_error"];
    assert_eq!(reproj["repeated"], p);
    for k in 0..2 {
        assert_close("reproj", reproj["elements"][k].as_f64().unwrap(), err[k], 1e-12);
    }
    assert_close("w_err", out[0]["w_err"]["element"].as_f64().unwrap(), 1.0 - w * w, 1e-15);
    assert_eq!(out[0]["w_err"]["repeated"], p);
    // CSR row starts: two rows of 15 per observation, then one per weight; COO columns: camera
    // 0, point 0 (after 11n camera columns), weight 0 (after 3m point columns).
    let ints = |v: &Value| -> Vec<u64> { v.as_array().unwrap().iter().map(|e| e.as_u64().unwrap()).collect() };
    let rows = ints(&out[1]["rows"]);
    let expect_rows: Vec<u64> =
        (0..30).map(|r| if r <= 2 * p { 15 * r } else { 30 * p + (r - 2 * p) } as u64).collect();
    assert_eq!(rows[..30], expect_rows[..]);
    assert_eq!(rows[30], (31 * p) as u64);
    let cols = ints(&out[1]["cols"]);
    let block: Vec<u64> = (0..11).chain(22..25).chain([31]).map(|c| c as u64).collect();
    assert_eq!(cols[..15], block[..]);
    assert_eq!(cols[15..30], block[..]);
    assert_eq!(cols[30], (11 * n + 3 * m + p - 1) as u64);
    let vals: Vec<f64> = out[1]["vals"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let fd = finite_differences(|q| ba_err(q, &feat), &params);
    for r in 0..2 {
        for c in 0..15 {
            assert_close(&format!("J[{r}][{c}]"), vals[15 * r + c], fd[c][r], 1e-8);
        }
    }
    assert_close("d w_err / dw", vals[30], -2.0 * w, 1e-15);
}

/// The whole sparse Jacobian of an input whose cameras, points, weights and features all differ (the
/// eval's inputs are copies of one of each, so a row assembled from the wrong camera's rotation or
/// the wrong observation would pass there): every row against differences of `ba_err`.
#[test]
fn ba_jacobian_of_distinct_cameras_and_points() {
    use backprop_gradbench::evals::ba;
    let mut rng = Rng(41);
    let (n, m, p) = (3, 4, 11);
    let mut cams: Vec<f64> = (0..n)
        .flat_map(|c| {
            let mut cam = rng.vec(11, -0.3, 0.3);
            cam[6] = 1.2 + 0.2 * c as f64;
            cam
        })
        .collect();
    cams[11..14].fill(0.0); // camera 1: no rotation (the first-order branch)
    let x: Vec<f64> = (0..m).flat_map(|_| vec![rng.next(), rng.next(), 4.0 + rng.next()]).collect();
    let w: Vec<f64> = (0..p).map(|_| 0.5 + rng.next()).collect();
    let feats = rng.vec(2 * p, -0.5, 0.5);
    let obs: Vec<[usize; 2]> = (0..p).map(|i| [(2 * i + 1) % n, (3 * i) % m]).collect();
    let input =
        ba::Input { n, m, p, cams: cams.clone(), x: x.clone(), w: w.clone(), feats: feats.clone(), obs: obs.clone() };
    let (reproj, w_err) = input.objective();
    let s = input.jacobian();
    // Run twice into one buffer, as the benchmark does: the second run overwrites every entry.
    let mut again = ba::Sparse::default();
    input.jacobian_into(&mut again);
    input.jacobian_into(&mut again);
    assert_eq!((&again.rows, &again.cols, &again.vals), (&s.rows, &s.cols, &s.vals));
    assert_eq!(s.rows.len(), 3 * p + 1);
    for (i, &[c, q]) in obs.iter().enumerate() {
        let params: Vec<f64> =
            cams[11 * c..11 * c + 11].iter().chain(&x[3 * q..3 * q + 3]).copied().chain([w[i]]).collect();
        let feat = &feats[2 * i..2 * i + 2];
        let err = ba_err(&params, feat);
        let fd = finite_differences(|v| ba_err(v, feat), &params);
        let cols: Vec<u32> = (0..11)
            .map(|k| 11 * c + k)
            .chain((0..3).map(|k| 11 * n + 3 * q + k))
            .chain([11 * n + 3 * m + i])
            .map(|k| k as u32)
            .collect();
        for r in 0..2 {
            assert_close(&format!("obs {i} error {r}"), reproj[2 * i + r], err[r], 1e-12);
            let row = 2 * i + r;
            let (a, b) = (s.rows[row] as usize, s.rows[row + 1] as usize);
            assert_eq!(&s.cols[a..b], &cols[..], "obs {i} row {r} columns");
            for k in 0..15 {
                assert_close(&format!("obs {i} J[{r}][{k}]"), s.vals[a + k], fd[k][r], 1e-8);
            }
        }
    }
    for i in 0..p {
        assert_close("w_err", w_err[i], 1.0 - w[i] * w[i], 1e-15);
        let (a, b) = (s.rows[2 * p + i] as usize, s.rows[2 * p + i + 1] as usize);
        assert_eq!((b - a, s.cols[a]), (1, (11 * n + 3 * m + i) as u32));
        assert_close("d w_err / dw", s.vals[a], -2.0 * w[i], 1e-15);
    }
}

// ---- particle and saddle ------------------------------------------------------------------------

/// The reference's gradient descent (GradBench's haskell/futhark solver), written again here.
fn descend(f: &dyn Fn(&[f64]) -> f64, g: &dyn Fn(&[f64]) -> Vec<f64>, x0: &[f64]) -> Vec<f64> {
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    let (mut x, mut fx, mut gx, mut eta, mut i) = (x0.to_vec(), f(x0), g(x0), 1e-5, 0);
    loop {
        if norm(&gx) <= 1e-5 {
            return x;
        }
        if i == 10 {
            (eta, i) = (2.0 * eta, 0);
            continue;
        }
        let xn: Vec<f64> = x.iter().zip(&gx).map(|(a, b)| a - eta * b).collect();
        if norm(&x.iter().zip(&xn).map(|(a, b)| a - b).collect::<Vec<_>>()) <= 1e-5 {
            return x;
        }
        let fxn = f(&xn);
        if fxn < fx {
            (gx, x, fx, i) = (g(&xn), xn, fxn, i + 1);
        } else {
            (eta, i) = (eta / 2.0, 0);
        }
    }
}

/// The particle's squared miss distance with the force in closed form, `−∇ₓ Σ 1/‖x − q‖ = Σ (x − q)/‖x − q‖³`.
fn particle_miss(w: f64) -> f64 {
    let charges = [[10.0, 10.0 - w], [10.0, 0.0]];
    let (mut x, mut v, dt) = ([0.0, 8.0], [0.75, 0.0], 0.1);
    loop {
        let mut force = [0.0; 2];
        for q in &charges {
            let d = ((x[0] - q[0]).powi(2) + (x[1] - q[1]).powi(2)).sqrt();
            for k in 0..2 {
                force[k] += (x[k] - q[k]) / (d * d * d);
            }
        }
        let xn = [x[0] + dt * v[0], x[1] + dt * v[1]];
        if xn[1] <= 0.0 {
            break;
        }
        x = xn;
        v = [v[0] + dt * force[0], v[1] + dt * force[1]];
    }
    let xf = x[0] - x[1] / v[1] * v[0];
    xf * xf
}

#[test]
fn particle_all_four_variants_match_descent_on_finite_differences() {
    let variants = ["rr", "fr", "rf", "ff"];
    let calls: Vec<(&str, Value)> = variants.iter().map(|v| (*v, json!({"w": 0.0}))).collect();
    let out = evaluate("particle", &calls);
    let fd = |w: &[f64]| {
        let h = 1e-6;
        vec![(particle_miss(w[0] + h) - particle_miss(w[0] - h)) / (2.0 * h)]
    };
    let w = descend(&|w| particle_miss(w[0]), &fd, &[0.0])[0];
    for (variant, got) in variants.iter().zip(&out) {
        let got = got.as_f64().unwrap();
        // Descent paths on differences and on exact gradients part slightly; both land in the same place.
        assert_close(&format!("particle::{variant} w"), got, w, 1e-6);
        assert!(particle_miss(got) < 1e-6, "{variant}: the particle passes near the origin");
    }
    // The four mode pairs compute one derivative: their descents agree to rounding.
    let rr = out[0].as_f64().unwrap();
    for (variant, got) in variants.iter().zip(&out) {
        assert_close(&format!("particle::{variant} vs rr"), got.as_f64().unwrap(), rr, 1e-9);
    }
}

#[test]
fn saddle_all_four_variants_match_the_closed_form_descent() {
    // f(x, y) = |x|² − |y|²: the inner ascent's path does not depend on x, so
    // d/dx max_y f(x, y) = 2x exactly, and the ascent's gradient is −2y.
    let start = [1.0, 0.7];
    let variants = ["rr", "fr", "rf", "ff"];
    let calls: Vec<(&str, Value)> = variants.iter().map(|v| (*v, json!({"start": start}))).collect();
    let out = evaluate("saddle", &calls);
    let f = |x: &[f64], y: &[f64]| x[0] * x[0] + x[1] * x[1] - y[0] * y[0] - y[1] * y[1];
    let inner = |x: &[f64]| {
        let y = descend(&|y| -f(x, y), &|y| vec![2.0 * y[0], 2.0 * y[1]], &start);
        f(x, &y)
    };
    let r1 = descend(&inner, &|x| vec![2.0 * x[0], 2.0 * x[1]], &start);
    let r2 = descend(&|y| -f(&r1, y), &|y| vec![2.0 * y[0], 2.0 * y[1]], &start);
    let want: Vec<f64> = r1.iter().chain(&r2).copied().collect();
    for (variant, got) in variants.iter().zip(&out) {
        let got: Vec<f64> = got.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        for k in 0..4 {
            assert_close(&format!("saddle::{variant}[{k}]"), got[k], want[k], 1e-12);
        }
    }
    assert!(want.iter().all(|v| v.abs() < 1e-4), "the saddle is at the origin");
}
