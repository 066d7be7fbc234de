//! `#[backprop(explain)]`: the generated `<name>_explain` gives each partial derivative as chains of
//! factors with their values. The factors are checked as data: against the lesson's numbers, against
//! the generated gradient (each chain product, summed), and against formulas of the forward values.

use backprop::explain::{Derivation, Explanation};
use backprop::prelude::*;

/// The lesson, differentiated with respect to the weights.
#[backprop(wrt(w1, w2, w3), explain)]
fn cost(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
    let a1 = w1 * a0;
    let a2 = w2 * a1;
    let a3 = w3 * a2;
    (a3 - y).powi(2)
}

/// The lesson with every argument differentiated: `∂C/∂y` goes through `a3 - y`, a symbol.
#[backprop(explain)]
fn cost_all(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
    let a1 = w1 * a0;
    let a2 = w2 * a1;
    let a3 = w3 * a2;
    (a3 - y).powi(2)
}

fn chain_of<'e>(e: &'e Explanation, name: &str) -> &'e [backprop::explain::Chain] {
    match &e.argument(name).unwrap_or_else(|| panic!("no argument {name}")).derivation {
        Derivation::Chains(c) => c,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn the_lesson_s_factors_are_its_numbers() {
    let e = cost_explain(2.0, 3.0, 0.5, 1.0, 2.0);
    let w1 = chain_of(&e, "w1");
    assert_eq!(w1.len(), 1);
    assert_eq!(w1[0].symbols(), ["∂C/∂a3", "∂a3/∂a2", "∂a2/∂a1", "∂a1/∂w1"]);
    assert_eq!(w1[0].values(), [2.0, 0.5, 3.0, 1.0]);
    assert_eq!(chain_of(&e, "w2")[0].symbols(), ["∂C/∂a3", "∂a3/∂a2", "∂a2/∂w2"]);
    assert_eq!(chain_of(&e, "w2")[0].values(), [2.0, 0.5, 2.0]);
    assert_eq!(chain_of(&e, "w3")[0].symbols(), ["∂C/∂a3", "∂a3/∂w3"]);
    assert_eq!(chain_of(&e, "w3")[0].values(), [2.0, 6.0]);
    // The products are the generated gradient.
    let (c, g) = cost_grad(2.0, 3.0, 0.5, 1.0, 2.0);
    for (name, gradient) in [("w1", g.w1), ("w2", g.w2), ("w3", g.w3)] {
        let a = e.argument(name).expect("argument");
        assert_eq!(a.gradient, gradient);
        assert_eq!(a.derivation.sum(), Some(gradient), "{name}");
    }
    assert_eq!((e.cost, e.value("C")), (c, Some(c)));
    assert_eq!(e.values, [("a1".into(), 2.0), ("a2".into(), 6.0), ("a3".into(), 3.0), ("C".into(), 1.0)]);
    assert_eq!(e.inputs.iter().map(|(_, v)| *v).collect::<Vec<_>>(), [2.0, 3.0, 0.5, 1.0, 2.0]);
    // ∂C/∂a3 starts all three chains, ∂C/∂a2 two: the reverse sweep computes each once.
    let a3 = e.shared("∂C/∂a3").expect("∂C/∂a3 is shared");
    assert_eq!((a3.value, a3.chains), (2.0, 3));
    let a2 = e.shared("∂C/∂a2").expect("∂C/∂a2 is shared");
    assert_eq!((a2.value, a2.chains), (1.0, 2));
    assert_eq!(e.shared.len(), 2);
    // Chain by chain, the shared factors would be computed again.
    let separately = e.ops.separately.expect("every derivative is given by chains");
    assert!(separately > e.ops.backward, "{:?}", e.ops);
    assert!(e.ops.forward > 0);
}

#[test]
fn the_lesson_prints_as_the_lesson_writes_it() {
    let text = cost_explain(2.0, 3.0, 0.5, 1.0, 2.0).to_string();
    for line in [
        "∂C/∂w1 = ∂C/∂a3 · ∂a3/∂a2 · ∂a2/∂a1 · ∂a1/∂w1 = 2 · 0.5 · 3 · 1 = 3\n",
        "∂C/∂w2 = ∂C/∂a3 · ∂a3/∂a2 · ∂a2/∂w2 = 2 · 0.5 · 2 = 2\n",
        "∂C/∂w3 = ∂C/∂a3 · ∂a3/∂w3 = 2 · 6 = 12\n",
        "forward: a1 = 2, a2 = 6, a3 = 3, C = 1\n",
        "∂C/∂a3 = 2: computed once, used by 3 chains\n",
        "∂C/∂a2 = 1: computed once, used by 2 chains\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[test]
fn every_argument_of_the_lesson_has_its_chain() {
    let e = cost_all_explain(2.0, 3.0, 0.5, 1.0, 2.0);
    let (_, g) = cost_all_grad(2.0, 3.0, 0.5, 1.0, 2.0);
    assert_eq!(chain_of(&e, "a0")[0].values(), [2.0, 0.5, 3.0, 2.0]);
    assert_eq!(e.argument("a0").and_then(|a| a.derivation.sum()), Some(g.a0));
    // ∂C/∂y = ∂C/∂u₁ · ∂u₁/∂y with u₁ = a3 - y.
    let y = chain_of(&e, "y");
    assert_eq!(y[0].symbols(), ["∂C/∂u₁", "∂u₁/∂y"]);
    assert_eq!(y[0].values(), [2.0, -1.0]);
    assert_eq!(y[0].product(), g.y);
    assert_eq!(e.symbols.len(), 1);
    assert_eq!((e.symbols[0].name.as_str(), e.symbols[0].expr.as_str(), e.symbols[0].value), ("u₁", "a3 - y", 1.0));
    assert_eq!(e.shared("∂C/∂a3").map(|s| s.chains), Some(4));
    let text = e.to_string();
    assert!(text.contains("∂C/∂y = ∂C/∂u₁ · ∂u₁/∂y = 2 · (-1) = -2\n"), "{text}");
    assert!(text.contains("where u₁ = a3 - y = 1\n"), "{text}");
}

/// Three sigmoid layers sharing one bias: three paths from C to `b`.
#[backprop(explain)]
fn deep(w1: f64, w2: f64, w3: f64, b: f64, a0: f64, y: f64) -> f64 {
    let a1 = sigmoid(w1 * a0 + b);
    let a2 = sigmoid(w2 * a1 + b);
    let a3 = sigmoid(w3 * a2 + b);
    (a3 - y).powi(2)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn fan_out_is_the_sum_of_the_chains() {
    let x = (0.3, -1.2, 0.8, 0.1, 0.7, 0.25);
    let e = deep_explain(x.0, x.1, x.2, x.3, x.4, x.5);
    let (_, g) = deep_grad(x.0, x.1, x.2, x.3, x.4, x.5);
    let b = chain_of(&e, "b");
    assert_eq!(b.len(), 3);
    assert_eq!(b[0].symbols(), ["∂C/∂a3", "∂a3/∂u₃", "∂u₃/∂b"]);
    let sum: f64 = b.iter().map(|c| c.product()).sum();
    assert!(close(sum, g.b), "{sum} vs {}", g.b);
    // Each factor is what the chain rule says, from the forward values.
    let (a1, a2, a3) = (e.value("a1").unwrap(), e.value("a2").unwrap(), e.value("a3").unwrap());
    assert_eq!(b[0].values(), [2.0 * (a3 - x.5), a3 * (1.0 - a3), 1.0]);
    assert_eq!(b[2].values()[5], a1 * (1.0 - a1));
    assert_eq!(b[1].values()[2], x.2);
    assert_eq!(b[1].values()[3], a2 * (1.0 - a2));
    for (name, gradient) in [("w1", g.w1), ("w2", g.w2), ("w3", g.w3), ("a0", g.a0), ("y", g.y)] {
        let sum = e.argument(name).and_then(|a| a.derivation.sum()).expect("shown");
        assert!(close(sum, gradient), "{name}: {sum} vs {gradient}");
    }
    let text = e.to_string();
    assert!(text.contains("∂C/∂b = ∂C/∂a3 · ∂a3/∂u₃ · ∂u₃/∂b\n      + ∂C/∂a3 · ∂a3/∂u₃ · ∂u₃/∂a2"), "{text}");
    // ∂C/∂a3 starts every chain but y's: one each for w1, w2, w3, a0, three for b.
    assert_eq!(e.shared("∂C/∂a3").map(|s| s.chains), Some(7));
}

/// Ten layers sharing a bias: more paths than chains are listed for, so `b` is given by its uses.
#[backprop(wrt(w, b), explain)]
fn ten(w: f64, b: f64, a0: f64, y: f64) -> f64 {
    let a1 = sigmoid(w * a0 + b);
    let a2 = sigmoid(w * a1 + b);
    let a3 = sigmoid(w * a2 + b);
    let a4 = sigmoid(w * a3 + b);
    let a5 = sigmoid(w * a4 + b);
    let a6 = sigmoid(w * a5 + b);
    let a7 = sigmoid(w * a6 + b);
    let a8 = sigmoid(w * a7 + b);
    let a9 = sigmoid(w * a8 + b);
    let a10 = sigmoid(w * a9 + b);
    (a10 - y).powi(2)
}

#[test]
fn many_paths_are_summed_over_the_uses() {
    let e = ten_explain(0.9, -0.3, 0.5, 0.2);
    let (_, g) = ten_grad(0.9, -0.3, 0.5, 0.2);
    for (name, gradient) in [("w", g.w), ("b", g.b)] {
        let a = e.argument(name).expect("argument");
        assert!(matches!(a.derivation, Derivation::Uses(_)), "{name}: {:?}", a.derivation);
        assert_eq!(a.derivation.chains().len(), 10);
        let sum = a.derivation.sum().expect("shown");
        assert!(close(sum, gradient), "{name}: {sum} vs {gradient}");
    }
    assert_eq!(e.ops.separately, None);
    assert!(e.to_string().contains("(one term per use of b;"), "{e}");
}

#[backprop(explain)]
fn branch(x: f64, w: f64, z: f64) -> f64 {
    let a = if x > 0.0 { x * w } else { w };
    a + z.sin() * w
}

#[test]
fn a_path_through_an_if_is_not_shown_but_its_gradient_is() {
    let e = branch_explain(0.5, 1.5, -0.3);
    let (_, g) = branch_grad(0.5, 1.5, -0.3);
    for (name, gradient) in [("x", g.x), ("w", g.w)] {
        let a = e.argument(name).expect("argument");
        assert!(matches!(&a.derivation, Derivation::NotShown(why) if why.contains("`if`")), "{:?}", a.derivation);
        assert_eq!(a.gradient, gradient);
    }
    let z = chain_of(&e, "z");
    assert_eq!(z[0].product(), g.z);
    assert_eq!(z[0].symbols(), ["∂C/∂u₁", "∂u₁/∂z"]);
    assert_eq!(z[0].values(), [1.5, (-0.3f64).cos()]);
    let text = e.to_string();
    assert!(text.contains(&format!("∂C/∂x = {}   (chain not shown: a path runs through an `if`", g.x)), "{text}");
}

/// A 30-layer sigmoid chain written as a loop: one weight per layer.
#[backprop(wrt(w), explain)]
fn layers(w: &[f64; 30], a0: f64, y: f64) -> f64 {
    let mut a = a0;
    for l in 0..30 {
        a = sigmoid(w[l] * a);
    }
    (a - y).powi(2)
}

#[test]
fn loops_give_the_gradient_s_magnitude_per_layer() {
    let w = [1.0; 30];
    let e = layers_explain(&w, 0.5, 0.0);
    let (_, g) = layers_grad(&w, 0.5, 0.0);
    let m = e.array("w").expect("w is summarised");
    assert!(!m.rows);
    assert_eq!(m.levels.len(), 30);
    for l in 0..30 {
        assert_eq!(m.levels[l], g.w[l].abs(), "layer {l}");
    }
    let norm = g.w.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!(close(m.norm, norm));
    // The vanishing gradient: σ' ≤ 1/4, so every layer further from the output shrinks it.
    for l in 0..29 {
        assert!(m.levels[l] < m.levels[l + 1], "layer {l}");
    }
    assert!(m.levels[0] < 1e-12 * m.levels[29], "{:e} vs {:e}", m.levels[0], m.levels[29]);
    assert!(e.arguments.is_empty() && e.values.is_empty());
    assert!(e.to_string().contains("|∂C/∂w[i]|"), "{e}");
}

#[backprop(explain)]
fn rows(w: &[[f64; 3]; 2], x: &[f64; 3], s: f64) -> f64 {
    let mut c = 0.0;
    for j in 0..2 {
        let mut z = 0.0;
        for i in 0..3 {
            z += w[j][i] * x[i];
        }
        c += (z * s).tanh();
    }
    c
}

#[test]
fn nested_arrays_give_a_norm_per_row_and_scalars_their_gradient() {
    let (w, x) = ([[0.1, -0.2, 0.3], [0.5, 0.4, -0.6]], [1.0, 2.0, -0.5]);
    let e = rows_explain(&w, &x, 0.7);
    let (_, g) = rows_grad(&w, &x, 0.7);
    let m = e.array("w").expect("w");
    assert!(m.rows);
    for j in 0..2 {
        let norm = g.w[j].iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(close(m.levels[j], norm), "row {j}");
    }
    assert_eq!(e.array("x").map(|a| a.levels.len()), Some(3));
    let s = e.argument("s").expect("s");
    assert_eq!(s.gradient, g.s);
    assert!(matches!(&s.derivation, Derivation::NotShown(why) if why.contains("loops")));
}

#[backprop(explain)]
fn single(w: f32, x: f32) -> f32 {
    let h = (w * x).tanh();
    h * 0.1
}

#[test]
fn f32_numbers_print_at_f32_precision() {
    let e = single_explain(0.3, 0.7);
    let (c, g) = single_grad(0.3, 0.7);
    assert!(e.single_precision);
    assert_eq!(e.cost, c as f64);
    let w = chain_of(&e, "w");
    assert_eq!(w[0].product() as f32, g.w);
    assert!(e.to_string().contains("x = 0.7)"), "{e}");
}

/// Names the generated explain function might use are the user's here.
#[backprop(explain)]
fn collide(explain_grad: f64, explain_values: f64, n: usize) -> f64 {
    let t0 = explain_grad * explain_values;
    t0 * n as f64
}

#[test]
fn generated_names_never_capture_the_user_s() {
    let e = collide_explain(2.0, 3.0, 4);
    let (_, g) = collide_grad(2.0, 3.0, 4);
    assert_eq!(e.argument("explain_grad").map(|a| a.gradient), Some(g.explain_grad));
    assert_eq!(chain_of(&e, "explain_grad")[0].product(), 12.0);
    assert_eq!(e.value("t0"), Some(6.0));
}

#[backprop(explain)]
fn acts(x: f64, w: f64, b: f64) -> f64 {
    let h = relu(w * x + b) + softplus(x - b) * w.tanh();
    let g = (h * w).tanh() + silu(h).exp() / (1.0 + x * x);
    g * g.sin() + (w * b).ln_1p().sqrt()
}

#[backprop(explain)]
fn shadow(x: f64, w: f64) -> f64 {
    let h = x * w;
    let h = h.tanh();
    let mut h = h * w;
    h += x;
    h = h * h - w;
    h
}

#[backprop(explain)]
fn twice(x: f64, y: f64) -> f64 {
    let a = x.mul_add(x, y);
    (a - y) / (a + 2.0) + a.hypot(a) - x.atan2(y)
}

#[backprop(explain)]
fn with_alpha(x: f64, alpha: f64) -> f64 {
    leaky_relu(x, alpha) * elu(x - 1.0, alpha) + gelu(alpha * x)
}

/// Every shown derivative of `e` sums its chains to the generated gradient; returns how many.
fn check_sums(e: &Explanation, gradients: &[(&str, f64)]) -> usize {
    let mut shown = 0;
    for &(name, gradient) in gradients {
        let a = e.argument(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(a.gradient, gradient, "{name}");
        if let Some(sum) = a.derivation.sum() {
            assert!(close(sum, gradient), "{}::{name}: {sum} vs {gradient}\n{e}", e.function);
            shown += 1;
        }
    }
    shown
}

#[test]
fn activations_shadowing_and_double_uses_sum_to_the_gradient() {
    let mut shown = 0;
    let (_, g) = acts_grad(0.7, 1.3, 0.4);
    shown += check_sums(&acts_explain(0.7, 1.3, 0.4), &[("x", g.x), ("w", g.w), ("b", g.b)]);
    let (_, g) = shadow_grad(0.6, -0.8);
    shown += check_sums(&shadow_explain(0.6, -0.8), &[("x", g.x), ("w", g.w)]);
    let (_, g) = twice_grad(0.4, 1.1);
    shown += check_sums(&twice_explain(0.4, 1.1), &[("x", g.x), ("y", g.y)]);
    let (_, g) = with_alpha_grad(-0.5, 0.2);
    shown += check_sums(&with_alpha_explain(-0.5, 0.2), &[("x", g.x), ("alpha", g.alpha)]);
    assert_eq!(shown, 9, "every derivative of these straight-line functions is shown");
}

#[backprop(explain)]
fn dot<const N: usize>(w: &[f64; N], x: &[f64], b: f64) -> f64 {
    let mut s = b;
    for i in 0..N {
        s += w[i] * x[i];
    }
    s * s
}

#[test]
fn const_generics_and_slices() {
    let (w, x) = ([0.5, -1.0, 2.0], [1.0, 0.25, -0.5]);
    let e = dot_explain(&w, &x, 0.3);
    let (_, g) = dot_grad(&w, &x, 0.3);
    assert_eq!(e.array("w").map(|a| a.levels.clone()), Some(g.w.iter().map(|v| v.abs()).collect()));
    assert_eq!(e.array("x").map(|a| a.levels.clone()), Some(g.x.iter().map(|v| v.abs()).collect()));
    assert_eq!(e.argument("b").map(|a| a.gradient), Some(g.b));
}
