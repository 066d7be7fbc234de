//! Tests of the derivation: its text for the lesson, fan-out, activations and shadowing, and its
//! factors evaluated by the IR interpreter, multiplied along each chain and summed, against the
//! interpreter's backward sweep.

use super::chains::{self, Derivations, Form, Omission, Target};
use super::DocWriter;
use crate::eval::{self, Val};
use crate::ir::{Function, Op, ValueId};
use crate::rules::Factor;
use crate::tests::pipeline;
use proc_macro2::TokenStream;
use quote::quote;

/// The `text` block of the "Derivation" section, without the leading space of each doc line.
fn derivation_text(item: TokenStream) -> String {
    let (f, d) = pipeline(quote!(), item.clone()).expect("the function differentiates");
    let emitter = crate::emit::Emitter::new(&f, &d, item);
    let doc = DocWriter { emitter: &emitter, derivation: &d, result_name: "f".into() }.write("");
    let start = doc.find("```text").expect("a derivation block") + "```text\n".len();
    let end = start + doc[start..].find("```").expect("the block ends");
    doc[start..end].lines().map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end()).collect::<Vec<_>>().join("\n")
}

fn lesson() -> TokenStream {
    quote!(
        fn cost(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
            let a1 = w1 * a0;
            let a2 = w2 * a1;
            let a3 = w3 * a2;
            (a3 - y).powi(2)
        }
    )
}

fn deep() -> TokenStream {
    quote!(
        pub fn deep(w1: f64, w2: f64, w3: f64, b: f64, a0: f64, y: f64) -> f64 {
            let a1 = sigmoid(w1 * a0 + b);
            let a2 = sigmoid(w2 * a1 + b);
            let a3 = sigmoid(w3 * a2 + b);
            (a3 - y).powi(2)
        }
    )
}

/// `layers` sigmoid layers sharing one bias: `layers` paths from C to `b`.
fn deeper(layers: usize) -> TokenStream {
    let mut body = String::new();
    for k in 1..=layers {
        body.push_str(&format!("let a{k} = sigmoid(w * a{} + b);\n", k - 1));
    }
    format!("fn deeper(w: f64, b: f64, a0: f64, y: f64) -> f64 {{ {body} (a{layers} - y).powi(2) }}")
        .parse()
        .expect("tokens")
}

#[test]
fn the_lesson_reads_as_the_readme_quotes_it() {
    let text = derivation_text(lesson());
    assert!(
        text.contains("∂C/∂w1 = ∂C/∂a3 · ∂a3/∂a2 · ∂a2/∂a1 · ∂a1/∂w1\n       = (2.0 * (a3 - y)) · w3 · w2 · a0\n"),
        "{text}"
    );
    assert!(text.contains("∂C/∂w3 = ∂C/∂a3 · ∂a3/∂w3\n       = (2.0 * (a3 - y)) · a2\n"), "{text}");
    // `a3 - y` is a symbol only where its own factor, -1, needs one.
    assert!(text.contains("∂C/∂y = ∂C/∂u₁ · ∂u₁/∂y\n      = (2.0 * (a3 - y)) · (-1)\n"), "{text}");
    assert!(text.contains("\nwhere u₁ = a3 - y\n"), "{text}");
}

#[test]
fn fan_out_is_a_sum_with_one_product_per_use() {
    let text = derivation_text(deep());
    let expected_b = "\
∂C/∂b = ∂C/∂a3 · ∂a3/∂u₃ · ∂u₃/∂b
      + ∂C/∂a3 · ∂a3/∂u₃ · ∂u₃/∂a2 · ∂a2/∂u₂ · ∂u₂/∂b
      + ∂C/∂a3 · ∂a3/∂u₃ · ∂u₃/∂a2 · ∂a2/∂u₂ · ∂u₂/∂a1 · ∂a1/∂b
      = (2.0 * (a3 - y)) · (a3 * (1.0 - a3)) · 1
      + (2.0 * (a3 - y)) · (a3 * (1.0 - a3)) · w3 · (a2 * (1.0 - a2)) · 1
      + (2.0 * (a3 - y)) · (a3 * (1.0 - a3)) · w3 · (a2 * (1.0 - a2)) · w2 · (a1 * (1.0 - a1))
";
    assert!(text.contains(expected_b), "{text}");
    assert!(text.contains("where u₁ = w1 * a0 + b\n      u₂ = w2 * a1 + b\n      u₃ = w3 * a2 + b"), "{text}");
}

#[test]
fn every_factor_of_an_activation_chain_has_its_symbol() {
    let text = derivation_text(deep());
    let expected = "\
∂C/∂w1 = ∂C/∂a3 · ∂a3/∂u₃ · ∂u₃/∂a2 · ∂a2/∂u₂ · ∂u₂/∂a1 · ∂a1/∂u₁ · ∂u₁/∂w1
       = (2.0 * (a3 - y)) · (a3 * (1.0 - a3)) · w3 · (a2 * (1.0 - a2)) · w2 · (a1 * (1.0 - a1)) · a0
";
    assert!(text.contains(expected), "{text}");
    // The same count of symbols and factors on every single-product line.
    let lines: Vec<&str> = text.lines().collect();
    for pair in lines.windows(2) {
        if pair[0].starts_with("∂C/∂") && pair[1].trim_start().starts_with("= ") && !pair[0].contains('+') {
            let symbols = pair[0].matches("∂").count() - 1;
            let factors = pair[1].split(" · ").count();
            assert_eq!(symbols / 2, factors, "{}\n{}", pair[0], pair[1]);
        }
    }
}

#[test]
fn shadowed_names_are_the_generated_code_s_names() {
    let text = derivation_text(quote!(
        fn f(x: f64, w: f64) -> f64 {
            let h = x * w;
            let h = h.tanh();
            let h = h * w;
            h
        }
    ));
    // `w` is used twice: two products; each `h` is its own link, named as in the generated code.
    let expected = "\
∂C/∂w = ∂C/∂w (direct use)
      + ∂C/∂h_2 · ∂h_2/∂h · ∂h/∂w
      = h_2
      + w · (1.0 - h_2 * h_2) · x
";
    assert!(text.contains(expected), "{text}");
}

#[test]
fn a_value_used_directly_and_through_a_subexpression_gets_a_symbol() {
    // `x` reaches `a * a.sin()` directly and through `a.sin()`: `∂C/∂a` alone would be wrong.
    let text = derivation_text(quote!(
        fn f(x: f64) -> f64 {
            let a = x * 3.0;
            a * a.sin()
        }
    ));
    assert!(text.contains("∂C/∂x = ∂C/∂a · ∂a/∂x\n      + ∂C/∂u₁ · ∂u₁/∂a · ∂a/∂x\n"), "{text}");
    assert!(text.contains("where u₁ = a.sin()"), "{text}");
}

#[test]
fn many_paths_go_through_the_adjoints_of_the_uses() {
    let text = derivation_text(deeper(10));
    assert!(text.contains("∂C/∂b = ∂C/∂u₁₀ · 1\n      + ∂C/∂u₉ · 1\n"), "{text}");
    assert!(text.contains("\n∂C/∂u₁ = ∂C/∂a10 · "), "{text}");
}

#[test]
fn branches_loops_and_arrays_say_what_is_left_out() {
    let text = derivation_text(quote!(
        fn f(x: f64, w: f64) -> f64 {
            let a = if x > 0.0 { x * w } else { w };
            a * a + w
        }
    ));
    assert!(text.contains("∂C/∂x = not shown: a path runs through an `if`"), "{text}");
    let (f, d) = pipeline(
        quote!(),
        quote!(
            fn f(x: [f64; 3]) -> f64 {
                x[0] * x[2]
            }
        ),
    )
    .expect("differentiates");
    assert_eq!(chains::derive(&f, &d).omitted, Some(Omission::Arrays));
    let looped = quote!(
        fn f(x: f64) -> f64 {
            let mut s = 0.0;
            for i in 0..3 {
                s += x * i as f64;
            }
            s
        }
    );
    let (f, d) = pipeline(quote!(), looped).expect("differentiates");
    assert_eq!(chains::derive(&f, &d).omitted, Some(Omission::Loops));
}

// ---- the factors, evaluated, against the backward sweep ------------------------------------------

struct Point<'a> {
    f: &'a Function,
    values: Vec<Option<Val>>,
}

impl Point<'_> {
    fn value(&self, v: ValueId) -> f64 {
        let x = self.values[v.index()].or(match self.f.node(v).op {
            Op::FloatLit(bits) => Some(Val::F(f64::from_bits(bits))),
            Op::IntLit(i) => Some(Val::I(i)),
            _ => None,
        });
        match x {
            Some(Val::F(x)) => x,
            Some(Val::I(i)) => i as f64,
            other => panic!("factor value {} is {other:?}", v.index()),
        }
    }

    fn factor(&self, factor: Factor) -> f64 {
        match factor {
            Factor::One | Factor::Cast(_) => 1.0,
            Factor::MinusOne => -1.0,
            Factor::Times(v) => self.value(v),
            Factor::Over(v) => 1.0 / self.value(v),
            Factor::MinusOver(v) => -1.0 / self.value(v),
        }
    }

    /// `∂C/∂target` from the derivation's data alone.
    fn derivative(&self, t: &Target, all: &Derivations) -> Option<f64> {
        match &t.form {
            Form::Zero => Some(0.0),
            Form::Omitted(_) => None,
            Form::Chains(chains) => {
                Some(chains.iter().map(|c| c.links.iter().map(|l| self.factor(l.factor)).product::<f64>()).sum())
            }
            Form::Uses(uses) => uses
                .iter()
                .map(|u| {
                    let above = if Some(u.consumer) == self.f.output {
                        Some(1.0)
                    } else {
                        self.derivative(all.total(u.consumer)?, all)
                    };
                    Some(above? * self.factor(u.factor))
                })
                .sum(),
        }
    }
}

/// Checks every shown derivative of `item` at `inputs` against the backward sweep; returns how many
/// arguments it checked.
fn check(item: TokenStream, inputs: &[f64]) -> usize {
    let (f, d) = pipeline(quote!(), item.clone()).expect("the function differentiates");
    let derivations = chains::derive(&f, &d);
    let args: Vec<Val> = inputs.iter().map(|x| Val::F(*x)).collect();
    let (_, gradient) = eval::value_and_gradient(&f, &d, &args).expect("the interpreter runs");
    let point = Point { f: &f, values: eval::all_values(&f, &d, &args).expect("the interpreter runs") };
    let mut checked = 0;
    for t in &derivations.arguments {
        let Some(derivative) = point.derivative(t, &derivations) else { continue };
        let expected = gradient[t.param.expect("an argument")];
        let tolerance = 1e-12 * (1.0 + expected.abs());
        assert!(
            (derivative - expected).abs() <= tolerance,
            "{item}\n∂C/∂#{:?}: derivation {derivative}, sweep {expected}",
            t.param
        );
        checked += 1;
    }
    checked
}

#[test]
fn the_factors_multiply_and_sum_to_the_gradient() {
    let mut checked = 0;
    checked += check(lesson(), &[2.0, 3.0, 0.5, 1.0, 2.0]);
    checked += check(deep(), &[0.3, -1.2, 0.8, 0.1, 0.7, 0.25]);
    checked += check(deeper(10), &[0.9, -0.3, 0.5, 0.2]);
    // Activations and functions, fan-out inside one expression.
    checked += check(
        quote!(
            fn acts(x: f64, w: f64, b: f64) -> f64 {
                let h = relu(w * x + b) + softplus(x - b) * w.tanh();
                let g = (h * w).tanh() + silu(h).exp() / (1.0 + x * x);
                g * g.sin() + (w * b).ln_1p().sqrt()
            }
        ),
        &[0.7, 1.3, 0.4],
    );
    // Shadowing and reassignment.
    checked += check(
        quote!(
            fn shadow(x: f64, w: f64) -> f64 {
                let h = x * w;
                let h = h.tanh();
                let mut h = h * w;
                h += x;
                h = h * h - w;
                h
            }
        ),
        &[0.6, -0.8],
    );
    // A use twice over in one call, subtraction and division.
    checked += check(
        quote!(
            fn twice(x: f64, y: f64) -> f64 {
                let a = x.mul_add(x, y);
                (a - y) / (a + 2.0) + a.hypot(a) - x.atan2(y)
            }
        ),
        &[0.4, 1.1],
    );
    // Leaky ReLU and ELU take a differentiated alpha.
    checked += check(
        quote!(
            fn alpha(x: f64, alpha: f64) -> f64 {
                leaky_relu(x, alpha) * elu(x - 1.0, alpha) + gelu(alpha * x)
            }
        ),
        &[-0.5, 0.2],
    );
    // Through an `if` the derivation says it is omitted (`x`, `w`); `z` avoids the branch.
    checked += check(
        quote!(
            fn branch(x: f64, w: f64, z: f64) -> f64 {
                let a = if x > 0.0 { x * w } else { w };
                a + z.sin() * w
            }
        ),
        &[0.5, 1.5, -0.3],
    );
    assert_eq!(checked, 5 + 6 + 4 + 3 + 2 + 2 + 2 + 1, "every argument of these functions has a derivation");
}
