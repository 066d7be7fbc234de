//! The inputs (built once) and the check that runs before anything is timed: every gradient,
//! hand-written and generated, against central finite differences, and every accumulating form
//! against its `_grad`.

use super::*;

/// Every input, built once (leaked, so the benchmark closures can borrow it for `'static`).
pub struct Data {
    pub rosen_arr: Box<[f64; N]>,
    pub rosen_vec: Vec<f64>,
    pub chain_w_arr: [f64; DEPTH],
    pub chain_b_arr: [f64; DEPTH],
    pub chain_w: Vec<f64>,
    pub chain_b: Vec<f64>,
    pub chain_x: f64,
    pub chain_y: f64,
    pub nested: Box<NestedNet>,
    pub flat: FlatNet,
    pub xs: Box<[[f64; IN]; BATCH]>,
    pub ys: Box<[[f64; OUT]; BATCH]>,
    pub xs_flat: Vec<f64>,
    pub ys_flat: Vec<f64>,
    pub x0: Vec<f64>,
    pub y0: Vec<f64>,
}

pub fn uniform(rng: &mut StdRng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

pub fn data() -> Data {
    let mut rng = StdRng::seed_from_u64(1);
    let rosen_vec = uniform(&mut rng, N, -1.5, 1.5);
    // Weights near 4 and biases near −w/2 keep every layer near σ's steep middle, so the gradient
    // neither vanishes nor explodes over 100 layers and finite differences check something.
    let chain_w = uniform(&mut rng, DEPTH, 3.5, 4.5);
    let chain_b: Vec<f64> = chain_w.iter().map(|w| -0.5 * w + rng.random_range(-0.1..0.1)).collect();
    let (a1, a2) = ((6.0 / (IN + HID) as f64).sqrt(), (6.0 / (HID + OUT) as f64).sqrt());
    let flat = FlatNet {
        w1: uniform(&mut rng, IN * HID, -a1, a1),
        b1: uniform(&mut rng, HID, -0.1, 0.1),
        w2: uniform(&mut rng, HID * OUT, -a2, a2),
        b2: uniform(&mut rng, OUT, -0.1, 0.1),
    };
    let xs_flat = uniform(&mut rng, BATCH * IN, 0.0, 1.0);
    let mut ys_flat = vec![0.0; BATCH * OUT];
    for s in 0..BATCH {
        ys_flat[s * OUT + rng.random_range(0..OUT)] = 1.0;
    }
    let mut nested = Box::new(NestedNet::zeros());
    nested_from_flat(&flat, &mut nested);
    let mut xs = Box::new([[0.0; IN]; BATCH]);
    let mut ys = Box::new([[0.0; OUT]; BATCH]);
    for s in 0..BATCH {
        xs[s].copy_from_slice(&xs_flat[s * IN..][..IN]);
        ys[s].copy_from_slice(&ys_flat[s * OUT..][..OUT]);
    }
    Data {
        rosen_arr: Box::new(rosen_vec.clone().try_into().unwrap()),
        rosen_vec,
        chain_w_arr: chain_w.clone().try_into().unwrap(),
        chain_b_arr: chain_b.clone().try_into().unwrap(),
        chain_w,
        chain_b,
        chain_x: 0.3,
        chain_y: 0.9,
        x0: xs_flat[..IN].to_vec(),
        y0: ys_flat[..OUT].to_vec(),
        nested,
        flat,
        xs,
        ys,
        xs_flat,
        ys_flat,
    }
}

pub fn nested_from_flat(f: &FlatNet, n: &mut NestedNet) {
    for j in 0..HID {
        n.w1[j].copy_from_slice(&f.w1[j * IN..][..IN]);
    }
    n.b1.copy_from_slice(&f.b1);
    for k in 0..OUT {
        n.w2[k].copy_from_slice(&f.w2[k * HID..][..HID]);
    }
    n.b2.copy_from_slice(&f.b2);
}

/// All network parameters (or gradients) in one vector: `w1, b1, w2, b2`, row-major.
pub fn flatten(w1: &[f64], b1: &[f64], w2: &[f64], b2: &[f64]) -> Vec<f64> {
    [w1, b1, w2, b2].concat()
}

pub fn flatten_nested(w1: &[[f64; IN]; HID], b1: &[f64; HID], w2: &[[f64; HID]; OUT], b2: &[f64; OUT]) -> Vec<f64> {
    flatten(w1.as_flattened(), b1, w2.as_flattened(), b2)
}

pub fn unflatten(v: &[f64]) -> FlatNet {
    let (w1, rest) = v.split_at(IN * HID);
    let (b1, rest) = rest.split_at(HID);
    let (w2, b2) = rest.split_at(HID * OUT);
    FlatNet { w1: w1.to_vec(), b1: b1.to_vec(), w2: w2.to_vec(), b2: b2.to_vec() }
}

/// Panics unless `grad` matches central differences of `cost` at the coordinates `probe`
/// (relative error 1e-5, or absolute 1e-7 near zero).
pub fn check_fd(what: &str, x: &[f64], grad: &[f64], probe: &[usize], cost: impl Fn(&[f64]) -> f64) {
    assert_eq!(x.len(), grad.len(), "{what}: gradient length");
    let mut xp = x.to_vec();
    for &i in probe {
        let eps = 1e-6 * x[i].abs().max(1.0);
        xp[i] = x[i] + eps;
        let plus = cost(&xp);
        xp[i] = x[i] - eps;
        let minus = cost(&xp);
        xp[i] = x[i];
        let numeric = (plus - minus) / (2.0 * eps);
        let err = (grad[i] - numeric).abs();
        assert!(
            err <= 1e-7 || err <= 1e-5 * numeric.abs().max(grad[i].abs()),
            "{what}: d/dx[{i}] = {} but finite differences give {numeric}",
            grad[i]
        );
    }
}

/// Panics unless `a` and `b` agree to `tol` relative to their size.
pub fn check_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * x.abs().max(y.abs()).max(1.0), "{what}[{i}]: {x} vs {y}");
    }
}

/// Checks every benchmarked gradient, hand-written and generated, before anything is timed.
pub fn verify(d: &Data) {
    // Rosenbrock: every shape against finite differences, and the accumulating forms against `_grad`.
    let probe = [0, 1, 500, N - 2, N - 1];
    let x = &d.rosen_vec;
    let cost = |v: &[f64]| rosen_slice(v);
    let f0 = rosen_slice(x);
    assert_eq!(rosen_arr(&d.rosen_arr), f0);
    assert_eq!(rosen_vec(x), f0);
    let candidates: [(&str, f64, Vec<f64>); 6] = [
        ("hand_rosen_arr", hand_rosen_arr(&d.rosen_arr).0, hand_rosen_arr(&d.rosen_arr).1.to_vec()),
        ("gen_rosen_arr", gen_rosen_arr(&d.rosen_arr).0, gen_rosen_arr(&d.rosen_arr).1.x.to_vec()),
        ("hand_rosen_slice", hand_rosen_slice(x).0, hand_rosen_slice(x).1),
        ("gen_rosen_slice", gen_rosen_slice(x).0, gen_rosen_slice(x).1.x),
        ("hand_rosen_vec", hand_rosen_vec(x).0, hand_rosen_vec(x).1),
        ("gen_rosen_vec", gen_rosen_vec(x).0, gen_rosen_vec(x).1.x),
    ];
    for (what, f, g) in &candidates {
        assert!((f - f0).abs() <= 1e-12 * f0.abs(), "{what}: value {f} vs {f0}");
        check_fd(what, x, g, &probe, cost);
    }
    let mut h = [0.0; N];
    hand_rosen_arr_acc_ni(&d.rosen_arr, &mut h);
    check_close("hand_rosen_arr_acc", &h, &candidates[0].2, 0.0);
    let mut g = RosenArrGrad::<N>::zeros_like();
    gen_rosen_arr_acc(&d.rosen_arr, &mut g);
    check_close("gen_rosen_arr_acc", &g.x, &candidates[1].2, 0.0);
    let mut h = vec![0.0; N];
    hand_rosen_slice_acc_ni(x, &mut h);
    check_close("hand_rosen_slice_acc", &h, &candidates[2].2, 0.0);
    let mut g = RosenSliceGrad::zeros_like(x);
    gen_rosen_slice_acc(x, &mut g);
    check_close("gen_rosen_slice_acc", &g.x, &candidates[3].2, 0.0);
    let mut h = vec![0.0; N];
    hand_rosen_vec_acc(x, &mut h);
    check_close("hand_rosen_vec_acc", &h, &candidates[4].2, 0.0);
    let mut g = RosenVecGrad::zeros_like(x);
    gen_rosen_vec_acc(x, &mut g);
    check_close("gen_rosen_vec_acc", &g.x, &candidates[5].2, 0.0);

    // The sigmoid chain: parameters `w ++ b`.
    let (cx, cy) = (d.chain_x, d.chain_y);
    let wb = [&d.chain_w[..], &d.chain_b[..]].concat();
    let cost = |v: &[f64]| chain_slice(&v[..DEPTH], &v[DEPTH..], cx, cy);
    let probe = [0, 50, DEPTH - 1, DEPTH, DEPTH + 70, 2 * DEPTH - 1];
    let f0 = chain_slice(&d.chain_w, &d.chain_b, cx, cy);
    assert_eq!(chain_arr(&d.chain_w_arr, &d.chain_b_arr, cx, cy), f0);
    assert_eq!(chain_vec(&d.chain_w, &d.chain_b, cx, cy), f0);
    let (fa, ga) = hand_chain_arr(&d.chain_w_arr, &d.chain_b_arr, cx, cy);
    let (fb, gb) = gen_chain_arr(&d.chain_w_arr, &d.chain_b_arr, cx, cy);
    let (fc, gc) = hand_chain_slice(&d.chain_w, &d.chain_b, cx, cy);
    let (fd, gd) = gen_chain_slice(&d.chain_w, &d.chain_b, cx, cy);
    let (fe, ge) = hand_chain_vec(&d.chain_w, &d.chain_b, cx, cy);
    let (ff, gf) = gen_chain_vec(&d.chain_w, &d.chain_b, cx, cy);
    let candidates: [(&str, f64, Vec<f64>); 6] = [
        ("hand_chain_arr", fa, ga.concat()),
        ("gen_chain_arr", fb, [gb.w, gb.b].concat()),
        ("hand_chain_slice", fc, [gc.w, gc.b].concat()),
        ("gen_chain_slice", fd, [gd.w, gd.b].concat()),
        ("hand_chain_vec", fe, [ge.w, ge.b].concat()),
        ("gen_chain_vec", ff, [gf.w, gf.b].concat()),
    ];
    for (what, f, g) in &candidates {
        assert!((f - f0).abs() <= 1e-12 * f0.abs(), "{what}: value {f} vs {f0}");
        check_fd(what, &wb, g, &probe, cost);
    }
    // The gradient must not have vanished, or the check above would be empty.
    assert!(candidates[0].2[0].abs() > 1e-6, "chain gradient vanished: {}", candidates[0].2[0]);
    let mut h = [[0.0; DEPTH]; 2];
    hand_chain_arr_acc_ni(&d.chain_w_arr, &d.chain_b_arr, cx, cy, &mut h);
    check_close("hand_chain_arr_acc", &h.concat(), &candidates[0].2, 0.0);
    let mut g = ChainArrGrad::zeros_like();
    gen_chain_arr_acc(&d.chain_w_arr, &d.chain_b_arr, cx, cy, &mut g);
    check_close("gen_chain_arr_acc", &[g.w, g.b].concat(), &candidates[1].2, 0.0);
    let mut h = HandChainGrad { w: vec![0.0; DEPTH], b: vec![0.0; DEPTH] };
    hand_chain_slice_acc_ni(&d.chain_w, &d.chain_b, cx, cy, &mut h);
    check_close("hand_chain_slice_acc", &[h.w, h.b].concat(), &candidates[2].2, 0.0);
    let mut g = ChainSliceGrad::zeros_like(&d.chain_w, &d.chain_b);
    gen_chain_slice_acc(&d.chain_w, &d.chain_b, cx, cy, &mut g);
    check_close("gen_chain_slice_acc", &[g.w, g.b].concat(), &candidates[3].2, 0.0);
    let mut h = HandChainGrad { w: vec![0.0; DEPTH], b: vec![0.0; DEPTH] };
    hand_chain_vec_acc(&d.chain_w, &d.chain_b, cx, cy, &mut h);
    check_close("hand_chain_vec_acc", &[h.w, h.b].concat(), &candidates[4].2, 0.0);
    let mut g = ChainVecGrad::zeros_like(&d.chain_w, &d.chain_b);
    gen_chain_vec_acc(&d.chain_w, &d.chain_b, cx, cy, &mut g);
    check_close("gen_chain_vec_acc", &[g.w, g.b].concat(), &candidates[5].2, 0.0);

    // The network, one sample: parameters flattened `w1, b1, w2, b2`.
    let (p, n) = (&d.flat, &*d.nested);
    let params = flatten(&p.w1, &p.b1, &p.w2, &p.b2);
    let (x, y) = (&d.x0, &d.y0);
    let (xa, ya) = (&d.xs[0], &d.ys[0]);
    let cost = |v: &[f64]| {
        let q = unflatten(v);
        net_flat(&q.w1, &q.b1, &q.w2, &q.b2, x, y)
    };
    let probe = [0, 5, IN * HID - 1, IN * HID + 3, IN * HID + HID + 7, params.len() - 1];
    let f0 = net_flat(&p.w1, &p.b1, &p.w2, &p.b2, x, y);
    assert_eq!(net_nested(&n.w1, &n.b1, &n.w2, &n.b2, xa, ya), f0);
    assert_eq!(net_vec(&p.w1, &p.b1, &p.w2, &p.b2, x, y), f0);
    let (fa, ga) = hand_net_nested(n, xa, ya);
    let (fb, gb) = gen_net_nested(n, xa, ya);
    let (fc, gc) = hand_net_flat(p, x, y);
    let (fd, gd) = gen_net_flat(p, x, y);
    let (fe, ge) = hand_net_vec(p, x, y);
    let (ff, gf) = gen_net_vec(p, x, y);
    let candidates: [(&str, f64, Vec<f64>); 6] = [
        ("hand_net_nested", fa, flatten_nested(&ga.w1, &ga.b1, &ga.w2, &ga.b2)),
        ("gen_net_nested", fb, flatten_nested(&gb.w1, &gb.b1, &gb.w2, &gb.b2)),
        ("hand_net_flat", fc, flatten(&gc.w1, &gc.b1, &gc.w2, &gc.b2)),
        ("gen_net_flat", fd, flatten(&gd.w1, &gd.b1, &gd.w2, &gd.b2)),
        ("hand_net_vec", fe, flatten(&ge.w1, &ge.b1, &ge.w2, &ge.b2)),
        ("gen_net_vec", ff, flatten(&gf.w1, &gf.b1, &gf.w2, &gf.b2)),
    ];
    for (what, f, g) in &candidates {
        assert!((f - f0).abs() <= 1e-12 * f0.abs(), "{what}: value {f} vs {f0}");
        check_fd(what, &params, g, &probe, cost);
        check_close(what, g, &candidates[0].2, 1e-12);
    }
    let mut h = NestedNet::zeros();
    hand_net_nested_acc_ni(n, xa, ya, &mut h);
    check_close("hand_net_nested_acc", &flatten_nested(&h.w1, &h.b1, &h.w2, &h.b2), &candidates[0].2, 0.0);
    let mut g = NetNestedGrad::zeros_like();
    gen_net_nested_acc(n, xa, ya, &mut g);
    check_close("gen_net_nested_acc", &flatten_nested(&g.w1, &g.b1, &g.w2, &g.b2), &candidates[1].2, 0.0);
    let mut h = FlatNet::zeros();
    hand_net_flat_acc_ni(p, x, y, &mut h);
    check_close("hand_net_flat_acc", &flatten(&h.w1, &h.b1, &h.w2, &h.b2), &candidates[2].2, 0.0);
    let mut g = NetFlatGrad::zeros_like(&p.w1, &p.b1, &p.w2, &p.b2);
    gen_net_flat_acc(p, x, y, &mut g);
    check_close("gen_net_flat_acc", &flatten(&g.w1, &g.b1, &g.w2, &g.b2), &candidates[3].2, 0.0);
    let mut h = FlatNet::zeros();
    hand_net_vec_acc(p, x, y, &mut h);
    check_close("hand_net_vec_acc", &flatten(&h.w1, &h.b1, &h.w2, &h.b2), &candidates[4].2, 0.0);
    let mut g = NetVecGrad::zeros_like(&p.w1, &p.b1, &p.w2, &p.b2);
    gen_net_vec_acc(p, x, y, &mut g);
    check_close("gen_net_vec_acc", &flatten(&g.w1, &g.b1, &g.w2, &g.b2), &candidates[5].2, 0.0);

    // The batch: every form against finite differences of the flat batch cost.
    let (xs, ys) = (&d.xs_flat, &d.ys_flat);
    let cost = |v: &[f64]| {
        let q = unflatten(v);
        batch_flat(&q.w1, &q.b1, &q.w2, &q.b2, xs, ys)
    };
    let f0 = batch_flat(&p.w1, &p.b1, &p.w2, &p.b2, xs, ys);
    assert_eq!(batch_nested(&n.w1, &n.b1, &n.w2, &n.b2, &d.xs, &d.ys), f0);
    let (fa, ga) = hand_batch_nested(n, &d.xs, &d.ys);
    let (fb, gb) = gen_batch_nested(n, &d.xs, &d.ys);
    let (fc, gc) = gen_batch_nested_acc(n, &d.xs, &d.ys);
    let (fd, gd) = hand_batch_flat(p, xs, ys);
    let (fe, ge) = gen_batch_flat(p, xs, ys);
    let (ff, gf) = gen_batch_flat_acc(p, xs, ys);
    let candidates: [(&str, f64, Vec<f64>); 6] = [
        ("hand_batch_nested", fa, flatten_nested(&ga.w1, &ga.b1, &ga.w2, &ga.b2)),
        ("gen_batch_nested", fb, flatten_nested(&gb.w1, &gb.b1, &gb.w2, &gb.b2)),
        ("gen_batch_nested_acc", fc, flatten_nested(&gc.w1, &gc.b1, &gc.w2, &gc.b2)),
        ("hand_batch_flat", fd, flatten(&gd.w1, &gd.b1, &gd.w2, &gd.b2)),
        ("gen_batch_flat", fe, flatten(&ge.w1, &ge.b1, &ge.w2, &ge.b2)),
        ("gen_batch_flat_acc", ff, flatten(&gf.w1, &gf.b1, &gf.w2, &gf.b2)),
    ];
    for (what, f, g) in &candidates {
        assert!((f - f0).abs() <= 1e-12 * f0.abs(), "{what}: value {f} vs {f0}");
        check_fd(what, &params, g, &probe, cost);
        check_close(what, g, &candidates[0].2, 1e-10);
    }
}
