//! The generated code of the lesson's example and of one function per construct, pinned: a change to
//! the emitter shows up as a diff of `tests/expand/<name>.expanded.rs`. Regenerate with
//! `BACKPROP_BLESS=1 cargo test --test expansion_snapshot`. The values of these functions (the same
//! shapes) are checked in `tests/numerical_rust.rs`, `tests/loop_nests.rs` and `tests/accumulate.rs`.

use std::path::Path;

/// (snapshot name, attribute arguments, function).
const CASES: &[(&str, &str, &str)] = &[
    (
        "lesson",
        "",
        "
pub fn cost(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
    let a1 = w1 * a0;
    let a2 = w2 * a1;
    let a3 = w3 * a2;
    (a3 - y).powi(2)
}",
    ),
    (
        "accumulate",
        "",
        "
fn rosen(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        s += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
    }
    s
}",
    ),
    (
        "guard",
        "",
        "
fn guarded_sqrt(x: f64) -> f64 {
    let n = x.sqrt();
    if n > 0.0 { n } else { 0.0 }
}",
    ),
    (
        "loop_nest",
        "wrt(c)",
        "
pub fn nearest(p: f64, c: &[f64; 6]) -> f64 {
    let mut best = (p - c[0]) * (p - c[0]);
    for k in 1..3 {
        let mut dist = 0.0;
        for j in 0..2 {
            let diff = c[k * 2 + j] - p;
            dist += diff * diff;
        }
        if dist < best {
            best = dist;
        }
    }
    best
}",
    ),
    (
        "integer_arrays",
        "wrt(angles)",
        "
fn skeleton(angles: &[f64; 5], parents: &[usize; 5]) -> f64 {
    let mut world = [0.0; 5];
    world[0] = angles[0];
    for b in 1..5 {
        world[b] = world[parents[b]] + angles[b];
    }
    let mut c = 0.0;
    for b in 0..5 {
        c += world[b].sin();
    }
    c
}",
    ),
    (
        "tuples_and_deferred_let",
        "",
        "
fn tuples(x: f64, y: f64) -> f64 {
    let (a, b) = (x * y, x + y);
    let t = (a.sin(), b * b);
    let r;
    if x > y {
        r = t.0;
    } else {
        r = t.1;
    }
    r * a
}",
    ),
    (
        "match",
        "wrt(x)",
        "
fn piecewise(x: f64, n: i32) -> f64 {
    match n {
        0 => x,
        1 | 2 => x * x,
        3..=5 => x.sin(),
        _ => -x,
    }
}",
    ),
    (
        "while",
        "max_iterations = 100",
        "
fn newton_sqrt(a: f64) -> f64 {
    let mut x = a;
    let mut prev = 0.0;
    while (x - prev).abs() > 1e-12 * x {
        prev = x;
        x = 0.5 * (x + a / x);
    }
    x
}",
    ),
    (
        "loop_break_continue",
        "",
        "
fn first_above(x: &[f64; 5], t: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..5 {
        if x[i] > t {
            s += x[i] * x[i];
            break;
        }
        if x[i] < 0.0 {
            continue;
        }
        s += x[i];
    }
    s
}",
    ),
    (
        "early_return",
        "",
        "
fn early_guard(x: f64, w: f64) -> f64 {
    if x <= 0.0 {
        return w * 0.5;
    }
    let r = x.sqrt();
    r * w
}",
    ),
    (
        "iterators",
        "",
        "
fn dot_zip(a: &[f64], b: &[f64; 3]) -> f64 {
    let m = a.iter().copied().fold(f64::MIN, f64::max);
    a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() + m
}",
    ),
    (
        "scratch_buffers",
        "wrt(x)",
        "
fn scaled(x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.0; n];
    let s = x.to_vec();
    for i in 0..n {
        h[i] = s[i] * s[(i + 1) % n];
    }
    let mut c = 0.0;
    for i in 0..h.len() {
        c += h[i];
    }
    c
}",
    ),
    (
        "two_layer_network",
        "wrt(net)",
        "
pub fn loss(net: &Net, x: &[f64; 64], label: usize) -> f64 {
    let h = dense(&net.l1, x, Activation::Tanh);
    let logits = dense(&net.l2, &h, Activation::Identity);
    softmax_cross_entropy(&logits, label)
}",
    ),
    (
        "layer",
        "",
        "
pub fn layer<const I: usize, const O: usize>(p: &Dense<I, O>, x: &[f64; I]) -> [f64; O] {
    let mut out = [0.0; O];
    for j in 0..O {
        let mut z = p.b[j];
        for i in 0..I {
            z += p.w[j][i] * x[i];
        }
        out[j] = z.tanh();
    }
    out
}",
    ),
    (
        "method",
        "",
        "
impl Model {
    #[backprop(wrt(self))]
    pub fn loss(&self, x: &[f64; 3], y: f64) -> f64 {
        let p = self.predict(x);
        (p - y) * (p - y)
    }
}",
    ),
    (
        "custom_pullback",
        "pullback = erf_rule",
        "
pub fn erf(x: f64) -> f64 {
    libm::erf(x)
}",
    ),
];

/// The expanded code of a network built from layers names each layer's pullback where its
/// backward sweep calls it, in reverse order of the forward calls.
#[test]
fn a_two_layer_network_calls_the_pullbacks_by_name() {
    let (_, attr, source) = CASES.iter().find(|c| c.0 == "two_layer_network").unwrap();
    let code = expanded(attr, source);
    let sweep = &code[code.rfind("fn loss_grad_acc").unwrap()..];
    let sweep = &sweep[..sweep.find("\n}\n").unwrap()];
    // Each call at the top level is made through its `_vjp`, once; the backward sweep calls the
    // closures it returned, in reverse.
    for call in ["let (h, h_back) = dense_vjp(&net.l1", "let (logits, logits_back) = dense_vjp(&net.l2"] {
        assert!(sweep.contains(call), "{call} not in:\n{sweep}");
    }
    assert!(!sweep.contains("dense(") && !sweep.contains("_pullback("), "{sweep}");
    let order: Vec<usize> = ["loss_back(1.0", "logits_back(\n        &d_logits", "h_back(\n        &d_h"]
        .iter()
        .map(|call| sweep.find(call).unwrap_or_else(|| panic!("{call} not in:\n{sweep}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "pullbacks out of order: {order:?}");
    // The data's adjoint is not wanted: the first layer's pullback gets `None` for `x`.
    assert!(sweep.contains("::core::option::Option::None"), "{sweep}");
}

fn expanded(attr: &str, source: &str) -> String {
    let item = source.parse().expect("the example tokenizes");
    let attr = attr.parse().expect("the attribute tokenizes");
    let tokens = backprop_codegen::expand(attr, item);
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as Rust");
    prettyplease::unparse(&file)
}

#[test]
fn expansions_match_their_snapshots() {
    let bless = std::env::var_os("BACKPROP_BLESS").is_some();
    let mut changed = Vec::new();
    for (name, attr, source) in CASES {
        let actual = expanded(attr, source);
        assert!(!actual.contains("compile_error"), "{name} does not expand:\n{actual}");
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/expand/{name}.expanded.rs"));
        if bless {
            std::fs::write(&path, &actual).expect("write snapshot");
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if actual != expected {
            changed.push(*name);
        }
    }
    assert!(changed.is_empty(), "expansions changed: {changed:?}; review and bless with BACKPROP_BLESS=1");
}
