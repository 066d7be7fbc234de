//! `#[derive(Params)]` through the real macro: a network of layers with const generics, a scalar
//! and a `Vec` field is one flat parameter view (order, names, tensors), has a zero of its shape,
//! and is stepped by the optimizers, the trainer and the initialisers like any other `Params`.

use backprop::params::{to_vec, TensorInfo};
use backprop::prelude::*;
use backprop::{init, Adam, Error, GradientDescent, Optimizer, Trainer};

/// A dense layer: `w[j][i]` connects input `i` to output `j`.
#[derive(Params, Debug, Clone, PartialEq)]
struct Dense<const I: usize, const O: usize> {
    w: [[f64; I]; O],
    b: [f64; O],
}

#[derive(Params, Debug, Clone, PartialEq)]
struct Net {
    l1: Dense<4, 3>,
    l2: Dense<3, 2>,
    scale: f64,
    v: Vec<f64>,
}

/// Shaped like a gradient struct `#[backprop]` generates for `fn loss(net: &Net, x: f64)`.
#[derive(Params, Debug, Clone, PartialEq)]
struct LossGrad {
    net: Net,
    x: f64,
}

/// A `Net` whose scalars hold their own flat index: 0, 1, 2, ... in visit order.
fn numbered() -> Net {
    let mut net = Net {
        l1: Dense { w: [[0.0; 4]; 3], b: [0.0; 3] },
        l2: Dense { w: [[0.0; 3]; 2], b: [0.0; 2] },
        scale: 0.0,
        v: vec![0.0; 2],
    };
    let mut k = 0.0;
    net.visit_mut(&mut |x| {
        *x = k;
        k += 1.0;
    });
    net
}

#[test]
fn fields_are_visited_in_declaration_order_arrays_row_major() {
    let net = numbered();
    // 4·3 + 3 + 3·2 + 2 + 1 + 2.
    assert_eq!(net.num_params(), 26);
    assert_eq!(net.l1.w[2][1], 9.0);
    assert_eq!(net.l1.b, [12.0, 13.0, 14.0]);
    assert_eq!(net.l2.w, [[15.0, 16.0, 17.0], [18.0, 19.0, 20.0]]);
    assert_eq!(net.l2.b, [21.0, 22.0]);
    assert_eq!(net.scale, 23.0);
    assert_eq!(net.v, vec![24.0, 25.0]);
    assert_eq!(to_vec(&net), (0..26).map(f64::from).collect::<Vec<_>>());
}

#[test]
fn names_compose_through_nested_structs() {
    let net = numbered();
    let names: Vec<String> = [0, 9, 12, 15, 22, 23, 24, 25].iter().map(|&i| net.describe(i, "")).collect();
    assert_eq!(names, ["l1.w[0][0]", "l1.w[2][1]", "l1.b[0]", "l2.w[0][0]", "l2.b[1]", "scale", "v[0]", "v[1]"]);
    assert_eq!(net.describe(9, "net"), "net.l1.w[2][1]");
    assert_eq!(net.describe(26, ""), "param[<index 26 out of range>]");
    // As the field `net` of a gradient struct.
    let g = LossGrad { net, x: 1.0 };
    assert_eq!(g.describe(9, ""), "net.l1.w[2][1]");
    assert_eq!(g.describe(26, ""), "x");
}

fn tensor(name: &str, shape: &[usize], range: std::ops::Range<usize>) -> TensorInfo {
    TensorInfo { name: name.into(), shape: shape.to_vec(), range }
}

#[test]
fn tensors_are_the_fields_with_their_shapes() {
    let net = numbered();
    assert_eq!(
        net.tensors(""),
        vec![
            tensor("l1.w", &[3, 4], 0..12),
            tensor("l1.b", &[3], 12..15),
            tensor("l2.w", &[2, 3], 15..21),
            tensor("l2.b", &[2], 21..23),
            tensor("scale", &[], 23..24),
            tensor("v", &[2], 24..26),
        ]
    );
    let g = LossGrad { net, x: 1.0 };
    let tensors = g.tensors("");
    assert_eq!(tensors[2], tensor("net.l2.w", &[2, 3], 15..21));
    assert_eq!(tensors[6], tensor("x", &[], 26..27));
    // The same as the names-based default would read off `describe`.
    assert_eq!(tensors, backprop::params::tensors_from_names(&g, ""));
}

#[test]
fn safetensors_round_trip_under_the_nested_names() {
    let net = numbered();
    let dir = std::env::temp_dir().join(format!("backprop-derive-params-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("net.safetensors");
    backprop::save_safetensors(&net, &path).unwrap();
    let mut back = net.zeros_like();
    backprop::load_safetensors(&mut back, &path).unwrap();
    assert_eq!(back, net);
    // A file of another struct's shape is refused by tensor name, and nothing is loaded.
    let mut other = LossGrad { net: net.zeros_like(), x: 0.0 };
    let err = backprop::load_safetensors(&mut other, &path).unwrap_err().to_string();
    assert!(err.contains("`l1.w`"), "{err}");
    assert_eq!(to_vec(&other), vec![0.0; 27]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn zeros_like_keeps_the_shape_and_the_vec_length() {
    let mut net = numbered();
    net.v = vec![1.0; 5];
    let z = net.zeros_like();
    assert_eq!(z.num_params(), net.num_params());
    assert_eq!(z.v, vec![0.0; 5]);
    assert_eq!(z.l1, Dense { w: [[0.0; 4]; 3], b: [0.0; 3] });
    assert!(to_vec(&z).iter().all(|&x| x == 0.0));
    // Through the path generated gradient code uses.
    let g = LossGrad { net, x: 2.0 };
    let zero: LossGrad = backprop::__private::ZerosLike::zeros_like(&g);
    assert_eq!((zero.x, zero.net.v.len()), (0.0, 5));
}

#[test]
fn optimizers_step_a_derived_struct() {
    let mut net = numbered();
    let mut grad = net.zeros_like();
    backprop::params::fill(&mut grad, 1.0);
    grad.l2.b[1] = -2.0;
    GradientDescent::new(0.5).unwrap().step_params(&mut net, &grad).unwrap();
    assert_eq!(net.l1.w[2][1], 8.5);
    assert_eq!(net.l2.b, [20.5, 23.0]);
    assert_eq!(net.v, vec![23.5, 24.5]);
    // Adam's first step moves every parameter by the learning rate against its gradient's sign.
    let before = net.clone();
    Adam::new(0.1).unwrap().step_params(&mut net, &grad).unwrap();
    assert!((net.scale - (before.scale - 0.1)).abs() < 1e-6);
    assert!((net.l2.b[1] - (before.l2.b[1] + 0.1)).abs() < 1e-6);
}

#[test]
fn the_trainer_minimises_over_a_derived_struct_and_names_bad_parameters() {
    // Cost Σ (p − 1)², gradient 2 (p − 1): every parameter converges to 1.
    let cost_grad = |p: &Net| {
        let mut g = p.zeros_like();
        let values = to_vec(p);
        let mut it = values.iter();
        g.visit_mut(&mut |gi| *gi = 2.0 * (it.next().copied().unwrap_or(0.0) - 1.0));
        (values.iter().map(|x| (x - 1.0).powi(2)).sum::<f64>(), g)
    };
    let mut net = numbered();
    Trainer::new(GradientDescent::new(0.25).unwrap()).epochs(60).minimize(&mut net, cost_grad).unwrap();
    assert!(to_vec(&net).iter().all(|x| (x - 1.0).abs() < 1e-9), "{net:?}");
    // A NaN in one gradient entry is reported by its name.
    let err = Trainer::new(GradientDescent::new(0.25).unwrap())
        .epochs(1)
        .minimize(&mut net, |p: &Net| {
            let mut g = p.zeros_like();
            g.l2.b[1] = f64::NAN;
            (0.0, g)
        })
        .unwrap_err();
    assert!(matches!(&err, Error::NonFinite { parameter: Some(name), .. } if name == "l2.b[1]"), "{err}");
}

#[test]
fn initialisers_scale_each_layer_by_its_own_fans() {
    let mut net = numbered();
    init::glorot_uniform(&mut net, 3);
    // l1: fan_in 4, fan_out 3; l2: fan_in 3, fan_out 2.
    let (b1, b2) = ((6.0_f64 / 7.0).sqrt(), (6.0_f64 / 5.0).sqrt());
    assert!(net.l1.w.iter().flatten().all(|w| *w != 0.0 && w.abs() < b1));
    assert!(net.l2.w.iter().flatten().all(|w| *w != 0.0 && w.abs() < b2));
    // Weights are `bound · (2u − 1)` for one uniform stream over the weights in flat order (biases
    // draw nothing): the stream `uniform` gives on 18 scalars in [-1, 1), scaled per layer.
    let mut unit = [0.0; 18];
    init::uniform(&mut unit, -1.0, 1.0, 3);
    let w: Vec<f64> = net.l1.w.iter().flatten().chain(net.l2.w.iter().flatten()).copied().collect();
    for (k, (w, u)) in w.iter().zip(unit).enumerate() {
        let bound = if k < 12 { b1 } else { b2 };
        assert!((w - bound * u).abs() < 1e-15, "weight {k}: {w} vs {bound} · {u}");
    }
    // Biases, the scalar and the 1-D `Vec` start at zero.
    assert_eq!((net.l1.b, net.l2.b, net.scale, net.v.clone()), ([0.0; 3], [0.0; 2], 0.0, vec![0.0; 2]));
    let mut again = numbered();
    init::glorot_uniform(&mut again, 3);
    assert_eq!(again, net);
    init::he_normal(&mut again, 4);
    assert_ne!(again.l1.w, net.l1.w);
    init::uniform(&mut again, -0.5, 0.5, 5);
    assert!(to_vec(&again).iter().all(|x| (-0.5..0.5).contains(x) && *x != 0.0));
}

/// Type parameters: the fields' bounds become the impl's.
#[derive(Params, Debug, PartialEq)]
struct Affine<T> {
    a: T,
    b: Vec<T>,
}

/// A tuple struct of `f32`s.
#[derive(Params, Debug, PartialEq)]
struct Pair(f32, [f32; 2]);

fn scalar_of<P: Params>(_: &P) -> &'static str {
    std::any::type_name::<P::Scalar>()
}

#[test]
fn f32_generic_and_tuple_structs() {
    let pair = Pair(1.0, [2.0, 3.0]);
    assert_eq!(scalar_of(&pair), "f32");
    assert_eq!(to_vec(&pair), vec![1.0_f32, 2.0, 3.0]);
    assert_eq!(pair.describe(2, ""), "1[1]");
    assert_eq!(pair.describe(0, "p"), "p.0");
    assert_eq!(pair.zeros_like(), Pair(0.0, [0.0; 2]));
    let affine = Affine { a: 1.0_f32, b: vec![2.0, 3.0] };
    assert_eq!(scalar_of(&affine), "f32");
    assert_eq!(affine.describe(2, ""), "b[1]");
    assert_eq!(affine.zeros_like(), Affine { a: 0.0, b: vec![0.0, 0.0] });
    let nested = Affine { a: [1.0_f64; 2], b: vec![[2.0; 2]] };
    assert_eq!(scalar_of(&nested), "f64");
    assert_eq!(nested.tensors("")[1], tensor("b", &[1, 2], 2..4));
}

/// The README's "Parameter structs" example, kept compiling and true.
#[test]
fn readme_example() {
    #[derive(Params, Clone)]
    struct Dense<const I: usize, const O: usize> {
        w: [[f64; I]; O], // row j: the weights into output j
        b: [f64; O],
    }

    #[derive(Params, Clone)]
    struct Net {
        l1: Dense<64, 32>,
        l2: Dense<32, 10>,
    }

    let mut net =
        Net { l1: Dense { w: [[0.0; 64]; 32], b: [0.0; 32] }, l2: Dense { w: [[0.0; 32]; 10], b: [0.0; 10] } };
    backprop::init::glorot_uniform(&mut net, 7); // each layer scaled by its own fans, biases 0
    let grad = net.zeros_like(); // same shape, every scalar 0
    assert_eq!(net.describe(100, ""), "l1.w[1][36]");
    assert_eq!(to_vec(&grad), vec![0.0; 64 * 32 + 32 + 32 * 10 + 10]);
    let tensors = net.tensors("");
    assert_eq!((tensors[0].name.as_str(), tensors[0].shape.as_slice()), ("l1.w", &[32, 64][..]));
    assert_eq!((tensors[1].name.as_str(), tensors[1].shape.as_slice()), ("l1.b", &[32][..]));
    assert!(net.l1.b.iter().chain(&net.l2.b).all(|&b| b == 0.0));
}
