//! Random programs of issue 18's composition shapes, compiled into `tests/random_array_calls.rs`
//! (and `random_wide_array_calls.rs` behind `wide-tests`) by `random_nests::compiled_file`, so each
//! is checked against central differences and its pullback against seed × gradient like the other
//! families: array-returning calls in loops (one and two deep) and branches, the recurrent shape
//! `h = cell(w, &h, ..)` on a loop-carried array, calls as arguments of calls, a local array
//! written between calls that read it, arrays returned at the top level and read in branches,
//! a call's array bound to a written copy (`let mut q = f(..)`, `let mut q: [f64; 3] = f(..)`, at
//! the top level and in loops), a reassigned tuple carried through a loop of calls, and an array
//! chosen between two calls by an `if` (`let d: [f64; 3] = if .. { f(..) } else { g(..) }`, or declared
//! and then assigned in each branch).
//! Every helper returns bounded values (`tanh`, `sin`, products of those), so no program leaves a
//! smooth domain.

use super::random_nests::{Program, SIGNATURE};
use std::collections::BTreeSet;

/// Differentiable helpers of the array-call programs (besides `random_nests::CALL_HELPERS`).
pub const ARRAY_CALL_HELPERS: &str = "\
/// A recurrent cell over three states (issue 18).
#[backprop]
pub fn cell3(w: &[f64; 4], h: &[f64; 3], t: f64) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = (w[0] * h[i] + w[1] * h[(i + 1) % 3] + w[2] * t + 0.5 * w[3]).tanh();
    }
    out
}

#[backprop]
pub fn sq3(h: &[f64; 3]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = 0.5 * h[i] * h[i] + 0.25 * h[(i + 2) % 3];
    }
    out
}

#[backprop]
pub fn dot3(h: &[f64; 3], g: &[f64; 3]) -> f64 {
    h[0] * g[0] + h[1] * g[1] + h[2] * g[2]
}

#[backprop]
pub fn lift3(x: &[f64], k: usize, t: f64) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = (x[(k + i) % x.len()] * t).sin();
    }
    out
}
";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

struct Gen {
    rng: Rng,
    out: String,
    features: BTreeSet<&'static str>,
    /// Local array names `q0`, `q1`, ..
    fresh: usize,
}

impl Gen {
    fn line(&mut self, depth: usize, s: &str) {
        self.out.push_str(&"    ".repeat(depth));
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn fresh(&mut self) -> String {
        self.fresh += 1;
        format!("q{}", self.fresh)
    }

    /// A float the current scope has: an argument, an element of `x` at a loop index, or `acc`.
    fn scalar(&mut self, t: Option<&str>) -> String {
        let mut options = vec!["a".to_string(), "b".to_string(), "(0.5 * acc).tanh()".to_string()];
        if let Some(t) = t {
            options.push(format!("x[{t} % x.len()]"));
            options.push(format!("(0.3 * {t} as f64 - b)"));
        }
        options[self.rng.below(options.len())].clone()
    }

    /// One statement of a loop body (`t` its index) or of the top level (`None`).
    fn item(&mut self, depth: usize, t: Option<&str>, in_branch: bool) {
        let s = self.scalar(t);
        let index = t.map(|t| format!("{t} % 3")).unwrap_or_else(|| "m % 3".into());
        match self.rng.below(if in_branch { 6 } else { 8 }) {
            0 => {
                self.line(depth, &format!("h = cell3(w, &h, {s});"));
                self.features.insert("h = cell(w, &h, ..) on a carried array");
            }
            1 => {
                let q = self.fresh();
                self.line(depth, &format!("let {q} = sq3(&h);"));
                self.line(depth, &format!("acc += dot3(&{q}, &h);"));
                self.features.insert("an array call's result passed to a call");
            }
            2 => {
                self.line(depth, &format!("h = sq3(&cell3(w, &h, {s}));"));
                self.features.insert("a call as the argument of a call");
            }
            3 => {
                let k = t.unwrap_or("m");
                self.line(depth, &format!("acc += 0.5 * dot3(&h, &lift3(x, {k}, {s}));"));
                self.features.insert("a call as the argument of a float call");
            }
            4 => {
                let q = self.fresh();
                self.line(depth, &format!("let {q} = cell3(w, &h, {s});"));
                let i = self.rng.below(3);
                self.line(depth, &format!("acc += {q}[{i}] * {q}[{}];", (i + 1) % 3));
                self.features.insert("an array call read by element");
            }
            5 => {
                self.line(depth, &format!("h[{index}] = 0.5 * h[{index}] + 0.25 * (acc * 0.1).sin();"));
                self.features.insert("a carried array written between calls");
            }
            6 => {
                let cond = match t {
                    Some(t) => format!("x[{t} % x.len()] > 0.0"),
                    None => self.rng.pick(&["flag", "a > b", "m == 1"]).to_string(),
                };
                self.line(depth, &format!("if {cond} {{"));
                self.item(depth + 1, t, true);
                if self.rng.chance(0.5) {
                    self.line(depth, "} else {");
                    self.item(depth + 1, t, true);
                }
                self.line(depth, "}");
                self.features.insert("array calls in a branch");
            }
            _ => {
                let u = if t == Some("t") { "s" } else { "t" };
                let hi = self.rng.pick(&["n", "2", "x.len() / 2"]).to_string();
                self.line(depth, &format!("for {u} in 0..{hi} {{"));
                for _ in 0..1 + self.rng.below(2) {
                    self.item(depth + 1, Some(u), false);
                }
                self.line(depth, "}");
                self.features.insert("array calls in a loop");
            }
        }
    }
}

/// The program of seed `seed`.
pub fn program(seed: u64) -> Program {
    let mut g = Gen {
        rng: Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x18),
        out: String::new(),
        features: BTreeSet::new(),
        fresh: 0,
    };
    g.line(1, "let mut acc = 0.0_f64;");
    if g.rng.chance(0.5) {
        // (`let mut h = lift3(..)` binds the returned array, read-only: declare, then assign.)
        g.line(1, "let mut h = [0.0_f64; 3];");
        g.line(1, "h = lift3(x, m, a);");
        g.features.insert("an array call at the top level, then carried");
    } else {
        g.line(1, "let mut h = [0.0_f64; 3];");
        g.line(1, "for i in 0..3 {");
        g.line(2, "h[i] = (x[i] * b).tanh();");
        g.line(1, "}");
    }
    // At least one loop over time steps with the recurrent cell.
    g.line(1, "for t in 0..n {");
    g.line(2, "h = cell3(w, &h, x[t % x.len()] * a);");
    for _ in 0..1 + g.rng.below(3) {
        g.item(2, Some("t"), false);
    }
    g.line(1, "}");
    g.features.insert("the recurrent cell in a loop");
    for _ in 0..g.rng.below(3) {
        g.item(1, None, false);
    }
    if g.rng.chance(0.5) {
        // An array computed before a branch, a call on it inside.
        g.line(1, "let top = cell3(w, &h, b);");
        g.line(1, "if flag {");
        g.line(2, "let inner = sq3(&top);");
        g.line(2, "acc += inner[0] - inner[2];");
        g.line(1, "} else {");
        g.line(2, "acc += dot3(&top, &h);");
        g.line(1, "}");
        g.features.insert("a call in a branch on an array computed before it");
    }
    // Drawn last, so that the programs above stay what they were before these shapes existed.
    if g.rng.chance(0.5) {
        // A call's array bound to a written copy, at the top level or in a loop.
        let callee = g.rng.pick(&["cell3(w, &h, a)", "sq3(&h)", "lift3(x, m, b)"]).to_string();
        let ty = if g.rng.chance(0.5) { ": [f64; 3]" } else { "" };
        if g.rng.chance(0.5) {
            g.line(1, &format!("let mut q{ty} = {callee};"));
            g.line(1, "q[m % 3] = 0.5 * q[m % 3] + 0.1 * (acc * 0.1).sin();");
            g.line(1, "q[1] += q[0] * b;");
            g.line(1, "acc += dot3(&q, &h);");
        } else {
            g.line(1, "for t in 0..n {");
            g.line(2, &format!("let mut q{ty} = {callee};"));
            g.line(2, "q[t % 3] *= 0.5;");
            g.line(2, "h[(t + 1) % 3] = q[t % 3] + 0.25 * q[(t + 2) % 3];");
            g.line(1, "}");
        }
        g.features
            .insert("a call's array bound to a written copy (`let mut q = f(..)`, `let mut q: [f64; 3] = f(..)`)");
    }
    if g.rng.chance(0.5) {
        // A reassigned tuple carried through a loop of calls.
        g.line(1, "let mut tp = (a, b);");
        g.line(1, "for t in 0..n {");
        g.line(2, "tp = (0.5 * tp.1 + 0.1 * dot3(&h, &sq3(&h)), (tp.0 * 0.7).sin());");
        g.line(2, "h = cell3(w, &h, tp.0);");
        g.line(1, "}");
        g.line(1, "acc += tp.0 - 0.5 * tp.1;");
        g.features.insert("a reassigned tuple carried through a loop of calls");
    }
    if g.rng.chance(0.5) {
        // An array declared, then assigned a different call in each branch, at the top level or
        // in a loop (drawn after the shapes above, so their programs stay as they were).
        let cond = g.rng.pick(&["flag", "a > b", "m == 1", "acc > 0.0"]).to_string();
        let (depth, k) = if g.rng.chance(0.5) {
            g.line(1, "for t in 0..n {");
            (2, "t % 3")
        } else {
            (1, "m % 3")
        };
        if g.rng.chance(0.5) {
            g.line(depth, "let d: [f64; 3];");
            g.line(depth, &format!("if {cond} {{"));
            g.line(depth + 1, "d = cell3(w, &h, b);");
            g.line(depth, "} else {");
            g.line(depth + 1, "d = sq3(&h);");
            g.line(depth, "}");
        } else {
            g.line(depth, &format!("let d: [f64; 3] = if {cond} {{ cell3(w, &h, b) }} else {{ sq3(&h) }};"));
        }
        g.line(depth, &format!("acc += dot3(&d, &h) + 0.5 * d[{k}];"));
        if depth == 2 {
            g.line(depth, "h = sq3(&d);");
            g.line(1, "}");
        }
        g.features
            .insert("an array declared, then assigned a call in each branch (`let d: [f64; 3]; if .. { d = f(..) }`)");
    }
    g.line(1, "acc + 0.5 * h[0] + h[1] - 0.25 * h[2]");
    let body = g.out;
    Program { source: format!("fn f{SIGNATURE} {{\n{body}}}\n"), features: g.features, attr: String::new() }
}
