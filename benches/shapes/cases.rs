//! The cases: one hand-written and one generated closure per objective × shape × form.

use super::*;

/// One row of the table: the same work done by hand and by the generated code.
pub struct Case {
    pub objective: &'static str,
    pub shape: &'static str,
    pub hand: Run,
    pub generated: Run,
    /// Calls per `measure` under callgrind (about 10–20 M instructions).
    pub callgrind_reps: usize,
}

impl Case {
    pub fn name(&self) -> String {
        format!("{}/{}", self.objective, self.shape)
    }
}

pub fn cases(d: &'static Data) -> Vec<Case> {
    let (ra, rv) = (&*d.rosen_arr, &d.rosen_vec);
    let (cwa, cba, cw, cb, cx, cy) = (&d.chain_w_arr, &d.chain_b_arr, &d.chain_w, &d.chain_b, d.chain_x, d.chain_y);
    let (n, p, x, y, xa, ya) = (&*d.nested, &d.flat, &d.x0, &d.y0, &d.xs[0], &d.ys[0]);
    let (xs, ys, xsn, ysn) = (&d.xs_flat, &d.ys_flat, &*d.xs, &*d.ys);
    let case =
        |objective, shape, hand, generated, callgrind_reps| Case { objective, shape, hand, generated, callgrind_reps };
    vec![
        case("rosenbrock_1000", "array", run!(hand_rosen_arr(black_box(ra))), run!(gen_rosen_arr(black_box(ra))), 2000),
        case(
            "rosenbrock_1000",
            "slice",
            run!(hand_rosen_slice(black_box(rv))),
            run!(gen_rosen_slice(black_box(rv))),
            2000,
        ),
        case("rosenbrock_1000", "vec", run!(hand_rosen_vec(black_box(rv))), run!(gen_rosen_vec(black_box(rv))), 2000),
        case(
            "rosenbrock_1000",
            "array_acc",
            {
                let mut g = [0.0; N];
                run!(hand_rosen_arr_acc_ni(black_box(ra), black_box(&mut g)))
            },
            {
                let mut g = RosenArrGrad::<N>::zeros_like();
                run!(gen_rosen_arr_acc(black_box(ra), black_box(&mut g)))
            },
            2000,
        ),
        case(
            "rosenbrock_1000",
            "slice_acc",
            {
                let mut g = vec![0.0; N];
                run!(hand_rosen_slice_acc_ni(black_box(rv), black_box(&mut g)))
            },
            {
                let mut g = RosenSliceGrad::zeros_like(rv);
                run!(gen_rosen_slice_acc(black_box(rv), black_box(&mut g)))
            },
            2000,
        ),
        case(
            "rosenbrock_1000",
            "vec_acc",
            {
                let mut g = vec![0.0; N];
                run!(hand_rosen_vec_acc(black_box(rv), black_box(&mut g)))
            },
            {
                let mut g = RosenVecGrad::zeros_like(rv);
                run!(gen_rosen_vec_acc(black_box(rv), black_box(&mut g)))
            },
            2000,
        ),
        case(
            "sigmoid_chain_100",
            "array",
            run!(hand_chain_arr(black_box(cwa), black_box(cba), black_box(cx), black_box(cy))),
            run!(gen_chain_arr(black_box(cwa), black_box(cba), black_box(cx), black_box(cy))),
            5000,
        ),
        case(
            "sigmoid_chain_100",
            "slice",
            run!(hand_chain_slice(black_box(cw), black_box(cb), black_box(cx), black_box(cy))),
            run!(gen_chain_slice(black_box(cw), black_box(cb), black_box(cx), black_box(cy))),
            5000,
        ),
        case(
            "sigmoid_chain_100",
            "vec",
            run!(hand_chain_vec(black_box(cw), black_box(cb), black_box(cx), black_box(cy))),
            run!(gen_chain_vec(black_box(cw), black_box(cb), black_box(cx), black_box(cy))),
            5000,
        ),
        case(
            "sigmoid_chain_100",
            "array_acc",
            {
                let mut g = [[0.0; DEPTH]; 2];
                run!(hand_chain_arr_acc_ni(
                    black_box(cwa),
                    black_box(cba),
                    black_box(cx),
                    black_box(cy),
                    black_box(&mut g)
                ))
            },
            {
                let mut g = ChainArrGrad::zeros_like();
                run!(gen_chain_arr_acc(black_box(cwa), black_box(cba), black_box(cx), black_box(cy), black_box(&mut g)))
            },
            5000,
        ),
        case(
            "sigmoid_chain_100",
            "slice_acc",
            {
                let mut g = HandChainGrad { w: vec![0.0; DEPTH], b: vec![0.0; DEPTH] };
                run!(hand_chain_slice_acc_ni(
                    black_box(cw),
                    black_box(cb),
                    black_box(cx),
                    black_box(cy),
                    black_box(&mut g)
                ))
            },
            {
                let mut g = ChainSliceGrad::zeros_like(cw, cb);
                run!(gen_chain_slice_acc(black_box(cw), black_box(cb), black_box(cx), black_box(cy), black_box(&mut g)))
            },
            5000,
        ),
        case(
            "sigmoid_chain_100",
            "vec_acc",
            {
                let mut g = HandChainGrad { w: vec![0.0; DEPTH], b: vec![0.0; DEPTH] };
                run!(hand_chain_vec_acc(black_box(cw), black_box(cb), black_box(cx), black_box(cy), black_box(&mut g)))
            },
            {
                let mut g = ChainVecGrad::zeros_like(cw, cb);
                run!(gen_chain_vec_acc(black_box(cw), black_box(cb), black_box(cx), black_box(cy), black_box(&mut g)))
            },
            5000,
        ),
        case(
            "net_sample",
            "nested",
            run!(hand_net_nested(black_box(n), black_box(xa), black_box(ya))),
            run!(gen_net_nested(black_box(n), black_box(xa), black_box(ya))),
            1000,
        ),
        case(
            "net_sample",
            "slice",
            run!(hand_net_flat(black_box(p), black_box(x), black_box(y))),
            run!(gen_net_flat(black_box(p), black_box(x), black_box(y))),
            1000,
        ),
        case(
            "net_sample",
            "vec",
            run!(hand_net_vec(black_box(p), black_box(x), black_box(y))),
            run!(gen_net_vec(black_box(p), black_box(x), black_box(y))),
            1000,
        ),
        case(
            "net_sample",
            "nested_acc",
            {
                let mut g = NestedNet::zeros();
                run!(hand_net_nested_acc_ni(black_box(n), black_box(xa), black_box(ya), black_box(&mut g)))
            },
            {
                let mut g = NetNestedGrad::zeros_like();
                run!(gen_net_nested_acc(black_box(n), black_box(xa), black_box(ya), black_box(&mut g)))
            },
            1000,
        ),
        case(
            "net_sample",
            "slice_acc",
            {
                let mut g = FlatNet::zeros();
                run!(hand_net_flat_acc_ni(black_box(p), black_box(x), black_box(y), black_box(&mut g)))
            },
            {
                let mut g = NetFlatGrad::zeros_like(&p.w1, &p.b1, &p.w2, &p.b2);
                run!(gen_net_flat_acc(black_box(p), black_box(x), black_box(y), black_box(&mut g)))
            },
            1000,
        ),
        case(
            "net_sample",
            "vec_acc",
            {
                let mut g = FlatNet::zeros();
                run!(hand_net_vec_acc(black_box(p), black_box(x), black_box(y), black_box(&mut g)))
            },
            {
                let mut g = NetVecGrad::zeros_like(&p.w1, &p.b1, &p.w2, &p.b2);
                run!(gen_net_vec_acc(black_box(p), black_box(x), black_box(y), black_box(&mut g)))
            },
            1000,
        ),
        case(
            "net_batch_256",
            "nested",
            run!(hand_batch_nested(black_box(n), black_box(xsn), black_box(ysn))),
            run!(gen_batch_nested(black_box(n), black_box(xsn), black_box(ysn))),
            5,
        ),
        case(
            "net_batch_256",
            "slice",
            run!(hand_batch_flat(black_box(p), black_box(xs), black_box(ys))),
            run!(gen_batch_flat(black_box(p), black_box(xs), black_box(ys))),
            5,
        ),
        case(
            "net_batch_256",
            "nested_acc_sum",
            run!(hand_batch_nested(black_box(n), black_box(xsn), black_box(ysn))),
            run!(gen_batch_nested_acc(black_box(n), black_box(xsn), black_box(ysn))),
            5,
        ),
        case(
            "net_batch_256",
            "slice_acc_sum",
            run!(hand_batch_flat(black_box(p), black_box(xs), black_box(ys))),
            run!(gen_batch_flat_acc(black_box(p), black_box(xs), black_box(ys))),
            5,
        ),
    ]
}
