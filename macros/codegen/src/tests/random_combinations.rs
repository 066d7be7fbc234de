//! Random programs of constructs inside constructs (issue 15), written to `tests/random_combinations.rs`
//! and checked there against central differences: `break`/`continue`/`return` inside `match` arms,
//! float methods on struct fields, integer tables passed to calls, aliased call arguments
//! (`dotf(x, x)`, `qdot(&p.q, &p.q.v)`, `dot2(&p.w, &p.w)`), calls after one or two early `return`s
//! (scalar calls, array-returning calls `lin4(x)` / `layer2(p, &p.q.v)`, local arrays passed to calls,
//! in the loop body after a return in a `for`, `while` or `match` arm), scratch
//! buffers sized by a field (`vec![0.0; p.w.len()]`), integer counters and bool flags carried by
//! `while` and `for` loops; and generic programs (`T: Float`) with `vec![T::zero(); n]` scratch
//! buffers, counted `while` loops and exits in `match` arms. Each fragment is placed in a random context (the top level, a `for`
//! body, an `if` branch, a `match` arm), so the constructs meet each other as a user's code would.
//!
//! Every float condition compares against a threshold the test points stay away from (`t` is 0.4 or
//! 1.6 against 1.0; the others compare `x`'s entries, drawn away from the thresholds), and the checker
//! skips components where central differences with steps h and h/2 disagree (a kink within reach).

use super::random_nests::rust_f64;

/// SplitMix64, as in `random_nests.rs` (whose methods are private to it).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x9E37_79B9_7F4A_7C15)
    }
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
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Generated functions' signature.
const SIGNATURE: &str = "(p: &Pc, x: &[f64; 4], t: f64, idx: &[usize]) -> f64";

/// Scalar fields of `Pc` (float methods are called on these) and indexed ones.
const SCALARS: &[&str] = &["p.a", "p.b", "p.q.c"];
const INDEXED: &[&str] = &["p.w[0]", "p.w[1]", "p.w[2]", "p.q.v[0]", "p.q.v[1]", "x[0]", "x[1]", "x[2]", "x[3]"];

struct Gen {
    rng: Rng,
    out: Vec<String>,
    indent: usize,
    fresh: usize,
    /// How many early `return`s were written (the rest of the body runs under a flag).
    returned: usize,
    /// Loop variables in scope (integers below 4), for indices.
    loop_vars: Vec<String>,
}

impl Gen {
    fn line(&mut self, s: &str) {
        self.out.push(format!("{}{s}", "    ".repeat(self.indent)));
    }

    fn name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}_{}", self.fresh)
    }

    /// An index below 4: a loop variable, or a literal.
    fn index(&mut self) -> String {
        if !self.loop_vars.is_empty() && self.rng.chance(0.6) {
            let v = self.rng.pick(&self.loop_vars).clone();
            return format!("{v} % 4");
        }
        self.rng.below(4).to_string()
    }

    /// A bounded float leaf.
    fn leaf(&mut self) -> String {
        match self.rng.below(5) {
            0 => self.rng.pick(SCALARS).to_string(),
            1 => {
                let i = self.index();
                format!("x[{i}]")
            }
            2 => self.rng.pick(INDEXED).to_string(),
            3 => "t".to_string(),
            _ => format!("{:.2}", 0.25 + self.rng.unit()),
        }
    }

    /// A float method on a struct field (issue 15, class 2) or another bounded term.
    fn field_method(&mut self) -> String {
        let f = self.rng.pick(SCALARS).to_string();
        let g = self.rng.pick(SCALARS).to_string();
        let l = self.leaf();
        match self.rng.below(13) {
            0 => format!("{f}.exp()"),
            1 => format!("{f}.tanh()"),
            2 => format!("{f}.sin()"),
            3 => format!("{f}.cos()"),
            4 => format!("{f}.atan()"),
            5 => format!("{f}.powi({})", 2 + self.rng.below(2)),
            6 => format!("{f}.abs()"),
            7 => format!("{f}.min({g})"),
            8 => format!("{f}.max({l})"),
            9 => format!("{f}.mul_add({g}, {l})"),
            10 => format!("{f}.hypot({g})"),
            11 => format!("{f}.abs().sqrt()"),
            _ => format!("({f} * {l}).sin()"),
        }
    }

    /// A bounded expression.
    fn expr(&mut self) -> String {
        match self.rng.below(4) {
            0 => self.field_method(),
            1 => {
                let (a, b) = (self.leaf(), self.leaf());
                format!("{a} * {b}")
            }
            2 => {
                let (a, b) = (self.leaf(), self.field_method());
                format!("({a} - {b}).tanh()")
            }
            _ => self.leaf(),
        }
    }

    /// A call: an integer table passed along (class 3), aliased arguments (class 4), or plain.
    fn call(&mut self) -> String {
        match self.rng.below(7) {
            0 => "gather(x, idx)".to_string(),
            1 => "dotf(x, x)".to_string(),
            2 => "qdot(&p.q, &p.q.v)".to_string(),
            3 => "dot2(&p.w, &p.w)".to_string(),
            4 => "hs(p, &p.q.v)".to_string(),
            5 => "dot2(&p.w, &p.q.v)".to_string(),
            _ => "gather(&p.w, idx)".to_string(),
        }
    }

    /// `s += term;` with a term that may be a call.
    fn accumulate(&mut self) {
        let term = if self.rng.chance(0.5) {
            let (c, e) = (self.call(), self.expr());
            format!("0.25 * {c} * {e}")
        } else {
            self.expr()
        };
        self.line(&format!("s += {term};"));
    }

    /// Writes `body` in a random context: as it is, in a `for` loop, in an `if`/`else`, in a
    /// `match` arm inside a loop, in a counted `while`, in a `loop` left from a `match` arm.
    fn in_context(&mut self, body: &mut dyn FnMut(&mut Gen)) {
        match self.rng.below(6) {
            0 => body(self),
            1 => {
                let j = self.name("j");
                let n = 2 + self.rng.below(2);
                self.line(&format!("for {j} in 0..{} {{", n));
                self.indent += 1;
                self.loop_vars.push(j);
                body(self);
                self.loop_vars.pop();
                self.indent -= 1;
                self.line("}");
            }
            2 => {
                let (l, k) = (self.leaf(), self.rng.below(2) as f64 - 0.5);
                self.line(&format!("if {l} > {k:.1} {{"));
                self.indent += 1;
                body(self);
                self.indent -= 1;
                self.line("} else {");
                self.indent += 1;
                self.accumulate();
                self.indent -= 1;
                self.line("}");
            }
            4 => {
                // A counted `while` whose counter also indexes.
                let j = self.name("j");
                let n = 2 + self.rng.below(2);
                self.line(&format!("let mut {j} = 0;"));
                self.line(&format!("while {j} < {n} {{"));
                self.indent += 1;
                self.loop_vars.push(j.clone());
                body(self);
                self.loop_vars.pop();
                self.line(&format!("{j} += 1;"));
                self.indent -= 1;
                self.line("}");
            }
            5 => {
                // `loop` left by a `break` in a `match` arm.
                let j = self.name("j");
                let n = 1 + self.rng.below(3);
                self.line(&format!("let mut {j} = 0;"));
                self.line("loop {");
                self.indent += 1;
                self.loop_vars.push(j.clone());
                body(self);
                self.loop_vars.pop();
                self.line(&format!("{j} += 1;"));
                self.line(&format!("match {j} {{ {n} => break, _ => {{}} }}"));
                self.indent -= 1;
                self.line("}");
            }
            _ => {
                let j = self.name("j");
                self.line(&format!("for {j} in 0..3 {{"));
                self.indent += 1;
                self.loop_vars.push(j.clone());
                self.line(&format!("match {j} {{"));
                self.indent += 1;
                let n = self.rng.below(3);
                self.line(&format!("{} => {{", n));
                self.indent += 1;
                body(self);
                self.indent -= 1;
                self.line("}");
                let e = self.expr();
                self.line(&format!("_ => s += 0.5 * {e},"));
                self.indent -= 1;
                self.line("}");
                self.loop_vars.pop();
                self.indent -= 1;
                self.line("}");
            }
        }
    }

    /// `break`/`continue` inside `match` arms of a `for` or a counted `while` (class 1, class 8).
    fn exits_in_match(&mut self) {
        let counted = self.rng.chance(0.4);
        let i = self.name("i");
        if counted {
            self.line(&format!("let mut {i} = 0;"));
            let n = 3 + self.rng.below(3);
            self.line(&format!("while {i} < {} {{", n));
            self.indent += 1;
            self.line(&format!("{i} += 1;"));
        } else {
            let n = 3 + self.rng.below(3);
            self.line(&format!("for {i} in 0..{} {{", n));
            self.indent += 1;
        }
        self.loop_vars.push(i.clone());
        self.line(&format!("match {i} % 4 {{"));
        self.indent += 1;
        let exit = if self.rng.chance(0.5) { "continue" } else { "break" };
        let k = 1 + self.rng.below(3);
        if self.rng.chance(0.5) {
            self.line(&format!("{k} => {exit},"));
        } else {
            self.line(&format!("{k} => {{"));
            self.indent += 1;
            // What runs before the exit in the arm: a term, or calls (taped per iteration).
            match self.rng.below(4) {
                0 => self.array_call(),
                1 => self.local_array_call(),
                _ => self.accumulate(),
            }
            let c = self.leaf();
            self.line(&format!("if {c} < 5.0 {{"));
            self.indent += 1;
            self.line(&format!("{exit};"));
            self.indent -= 1;
            self.line("}");
            self.indent -= 1;
            self.line("}");
        }
        let other = (k + 1 + self.rng.below(2)) % 4;
        let e = self.expr();
        self.line(&format!("{other} => s = s * 0.75 + {e},"));
        if self.rng.chance(0.3) {
            self.line("_ => {");
            self.indent += 1;
            self.array_call();
            self.indent -= 1;
            self.line("}");
        } else {
            self.line("_ => {}");
        }
        self.indent -= 1;
        self.line("}");
        let xi = format!("x[{i} % 4]");
        let e = self.expr();
        self.line(&format!("s += 0.5 * {xi} * {e};"));
        self.loop_vars.pop();
        self.indent -= 1;
        self.line("}");
    }

    /// The condition of an early `return`: `t > 1.0`, the test points' `t` being 0.4 or 1.6, or with
    /// a sign test on `x` so that of several returns a later one is the one taken at some points.
    fn return_condition(&mut self) -> String {
        if self.rng.chance(0.5) {
            "t > 1.0".to_string()
        } else {
            let k = self.rng.below(4);
            let op = if self.rng.chance(0.5) { ">" } else { "<" };
            format!("t > 1.0 && x[{k}] {op} 0.0")
        }
    }

    /// An early `return` (class 5): at the top level, in a `for` loop, in a `match` arm or in a
    /// counted `while`; what follows runs under the macro's flag, calls included.
    fn early_return(&mut self) {
        let e = self.expr();
        let c = self.return_condition();
        match self.rng.below(4) {
            0 => self.line(&format!("if {c} {{ return s * 0.5 + {e}; }}")),
            1 => {
                let i = self.name("i");
                let k = self.rng.below(3);
                self.line(&format!("for {i} in 0..3 {{"));
                self.indent += 1;
                self.line(&format!("if {c} && {i} == {k} {{ return s + x[{i}] * {e}; }}"));
                let x = format!("x[{i} + 1]");
                self.line(&format!("s += 0.25 * {x};"));
                // A call in the loop body after the return (it runs under the flag each iteration).
                if self.rng.chance(0.5) {
                    self.loop_vars.push(i.clone());
                    self.after_return();
                    self.loop_vars.pop();
                }
                self.indent -= 1;
                self.line("}");
            }
            2 => {
                let i = self.name("i");
                self.line(&format!("for {i} in 0..3 {{"));
                self.indent += 1;
                self.line(&format!("match {i} {{"));
                self.indent += 1;
                let n = self.rng.below(3);
                self.line(&format!("{} => {{", n));
                self.indent += 1;
                self.line(&format!("if {c} {{ return s - {e}; }}"));
                self.indent -= 1;
                self.line("}");
                self.line("_ => s += 0.1 * t,");
                self.indent -= 1;
                self.line("}");
                self.indent -= 1;
                self.line("}");
            }
            _ => {
                let i = self.name("i");
                let k = 1 + self.rng.below(3);
                self.line(&format!("let mut {i} = 0;"));
                self.line(&format!("while {i} < 4 {{"));
                self.indent += 1;
                self.line(&format!("{i} += 1;"));
                self.line(&format!("if {c} && {i} == {k} {{ return s * x[{i} % 4] + {e}; }}"));
                self.loop_vars.push(i.clone());
                self.accumulate();
                self.loop_vars.pop();
                self.indent -= 1;
                self.line("}");
            }
        }
        self.returned += 1;
        // A call right after the return: what the issue found refused.
        self.after_return();
    }

    /// What follows an early `return`: a scalar call, an array-returning call, or a local array
    /// passed to a call.
    fn after_return(&mut self) {
        match self.rng.below(3) {
            0 => {
                let c = self.call();
                self.line(&format!("s += 0.5 * {c};"));
            }
            1 => self.array_call(),
            _ => self.local_array_call(),
        }
    }

    /// A call returning an array (`lin4`, `layer2`, `clip4` which returns early), its result read and passed on: to another
    /// array-returning call, to a scalar call, aliased with a part of the struct it came from.
    fn array_call(&mut self) {
        let h = self.name("h");
        let (k, e) = (self.index(), self.expr());
        match self.rng.below(6) {
            5 => {
                // A callee returning an array that itself returns early (at `t` 0.4 and 1.6; not at 1.1).
                let arg = if self.rng.chance(0.5) { "t" } else { "0.5 * t + 0.3" };
                self.line(&format!("let {h} = clip4(x, {arg});"));
                self.line(&format!("s += {h}[{k}] * {e} + 0.25 * dotf(&{h}, x);"));
            }
            0 => {
                let m = self.rng.pick(&["tanh()", "sin()", "exp()", "powi(2)", "abs()", "atan()"]).to_string();
                self.line(&format!("let {h} = lin4(x);"));
                self.line(&format!("s += 0.5 * {h}[{k}].{m} * {e};"));
            }
            1 => {
                let g = self.name("g");
                self.line(&format!("let {h} = lin4(x);"));
                self.line(&format!("let {g} = lin4(&{h});"));
                self.line(&format!("s += 0.5 * dotf(&{g}, &{h}) + {g}[{k}] * {e};"));
            }
            2 => {
                self.line(&format!("let {h} = layer2(p, &p.q.v);"));
                let j = self.rng.below(2);
                self.line(&format!("s += {h}[{j}] * {e} + 0.25 * {h}[{}];", 1 - j));
            }
            3 => {
                let v = self.name("v");
                let l = self.leaf();
                self.line(&format!("let mut {v} = [0.0; 2];"));
                self.line(&format!("{v}[0] = {e};"));
                self.line(&format!("{v}[1] = {l} * 0.5;"));
                self.line(&format!("let {h} = layer2(p, &{v});"));
                self.line(&format!("s += {h}[0] * {h}[1] + hs(p, &{h}) * 0.25;"));
            }
            _ => {
                self.line(&format!("s += 0.25 * dotf(&lin4(x), x) * {e};"));
            }
        }
    }

    /// A local array filled in a loop, then passed to calls (scalar and array-returning).
    fn local_array_call(&mut self) {
        let b = self.name("b");
        self.line(&format!("let mut {b} = [0.0; 4];"));
        let i = self.name("i");
        self.line(&format!("for {i} in 0..4 {{"));
        self.indent += 1;
        self.loop_vars.push(i.clone());
        let e = self.expr();
        self.line(&format!("{b}[{i}] = ({e} + x[{i}]).tanh();"));
        self.loop_vars.pop();
        self.indent -= 1;
        self.line("}");
        let e = self.expr();
        match self.rng.below(5) {
            0 => self.line(&format!("s += 0.25 * dotf(&{b}, x) * {e};")),
            1 => self.line(&format!("s += 0.25 * dotf(&{b}, &{b}) + gather(&{b}, idx) * {e};")),
            2 => self.line(&format!("s += dot2(&{b}, &p.w) * {e};")),
            3 => {
                let h = self.name("h");
                self.line(&format!("let {h} = lin4(&{b});"));
                self.line(&format!("s += dotf(&{h}, &{b}) * {e};"));
            }
            _ => self.line(&format!("s += hs(p, &{b}) * 0.5 + {b}[1] * {e};")),
        }
    }

    /// A scratch buffer sized by a field (class 6), filled in a loop and read back.
    fn scratch(&mut self) {
        let h = self.name("h");
        let len = if self.rng.chance(0.5) { "p.w.len()" } else { "p.q.v.len() + 1" };
        self.line(&format!("let mut {h} = vec![0.0; {len}];"));
        let i = self.name("i");
        self.line(&format!("for {i} in 0..{h}.len() {{"));
        self.indent += 1;
        self.loop_vars.push(i.clone());
        let e = self.expr();
        self.line(&format!("{h}[{i}] = ({e} + p.w[{i} % 3]).tanh();"));
        self.loop_vars.pop();
        self.indent -= 1;
        self.line("}");
        let (k, e) = (self.rng.below(3), self.expr());
        self.line(&format!("s += {h}[{k}] * {e} + {h}.iter().sum::<f64>() * 0.25;"));
    }

    /// Integer counters and a bool flag carried by loops (class 8).
    fn counters(&mut self) {
        let (k, found) = (self.name("k"), self.name("found"));
        self.line(&format!("let mut {k} = 0;"));
        self.line(&format!("let mut {found} = false;"));
        let stride = 1 + self.rng.below(2);
        let n = 3 + self.rng.below(4);
        self.line(&format!("while {k} < {} {{", n));
        self.indent += 1;
        self.loop_vars.push(k.clone());
        let e = self.expr();
        self.line(&format!("s += x[{k} % 4] * {e};"));
        let c = self.rng.below(2) as f64 - 0.5;
        self.line(&format!("if x[{k} % 4] > {c:.1} && !{found} {{"));
        self.indent += 1;
        self.line(&format!("{found} = true;"));
        self.accumulate();
        self.indent -= 1;
        self.line("}");
        self.line(&format!("{k} += {stride};"));
        self.loop_vars.pop();
        self.indent -= 1;
        self.line("}");
        self.line(&format!("if {found} {{ s *= 0.9; }}"));
        self.line(&format!("s += 0.1 * ({k} as f64) * t;"));
    }

    /// One fragment in a random context (the loops carry their own).
    fn fragment(&mut self) {
        match self.rng.below(9) {
            0 => self.exits_in_match(),
            1 | 8 if self.returned < 2 => self.early_return(),
            4 => self.in_context(&mut |g| g.array_call()),
            5 => self.in_context(&mut |g| g.local_array_call()),
            2 => self.scratch(),
            3 => self.counters(),
            _ => self.in_context(&mut |g| g.accumulate()),
        }
    }
}

/// The body of program `seed`: `let mut s = ..;`, fragments, `s`.
pub fn program(seed: u64) -> String {
    let mut g =
        Gen { rng: Rng::new(seed ^ 0x15_C0_4B), out: Vec::new(), indent: 1, fresh: 0, returned: 0, loop_vars: vec![] };
    let first = g.expr();
    g.line(&format!("let mut s = {first};"));
    for _ in 0..3 + g.rng.below(3) {
        g.fragment();
    }
    g.line("s");
    g.out.join("\n")
}

/// The test point `k` of program `seed`: `Pc`'s eight scalars, `x`, `t`.
fn point(seed: u64, k: usize) -> (Vec<f64>, [f64; 4], f64) {
    let mut rng = Rng::new(seed.wrapping_mul(31) ^ (k as u64 + 7));
    // Magnitudes in [0.2, 1.2] with either sign: away from 0 (abs, the thresholds ±0.5 and 0.0).
    let away = |rng: &mut Rng| {
        let m = 0.2 + rng.unit();
        let m = if (m - 0.5).abs() < 0.05 { m + 0.1 } else { m };
        if rng.chance(0.5) {
            m
        } else {
            -m
        }
    };
    let p: Vec<f64> = (0..8).map(|_| away(&mut rng)).collect();
    let x = [away(&mut rng), away(&mut rng), away(&mut rng), away(&mut rng)];
    (p, x, if k == 0 { 0.4 } else { 1.6 })
}

const HEADER: &str = r#"//! Random programs of constructs inside constructs (issue 15) from
//! macros/codegen/src/tests/random_combinations.rs: exits and returns inside `match` arms, float
//! methods on struct fields, integer tables passed to calls, aliased call arguments, calls after
//! early `return`s (scalar and array-returning calls, local arrays passed along), scratch buffers
//! sized by a field, integer counters and flags in loops. Each is compiled through `#[backprop]` and
//! checked against central differences at three points (`t` on either side of the early returns,
//! `x`'s signs choosing which of several returns is taken). Generated by
//! `BACKPROP_WRITE_RANDOM=1 cargo test -p backprop-codegen write_random_combination_tests -- --ignored`;
//! do not edit by hand.

#![allow(clippy::all, unused_parens, unused_mut, unused_variables, unused_assignments)]
use backprop::prelude::*;

#[derive(Params, Clone, Debug, PartialEq)]
pub struct Pc {
    pub a: f64,
    pub b: f64,
    pub w: Vec<f64>,
    pub q: Qc,
}

#[derive(Params, Clone, Debug, PartialEq)]
pub struct Qc {
    pub c: f64,
    pub v: [f64; 2],
}

impl Pc {
    fn flat(&self) -> Vec<f64> {
        vec![self.a, self.b, self.w[0], self.w[1], self.w[2], self.q.c, self.q.v[0], self.q.v[1]]
    }
    fn from_flat(v: &[f64]) -> Pc {
        Pc { a: v[0], b: v[1], w: vec![v[2], v[3], v[4]], q: Qc { c: v[5], v: [v[6], v[7]] } }
    }
}

#[backprop]
fn qdot(q: &Qc, v: &[f64; 2]) -> f64 {
    q.c * (q.v[0] * v[0] - q.v[1] * v[1]).tanh()
}

#[backprop]
fn dot2(a: &[f64], b: &[f64]) -> f64 {
    a[0] * b[1] + (a[1] * b[0]).sin()
}

#[backprop]
fn dotf(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        s += a[i] * b[(i + 1) % 4];
    }
    s.tanh()
}

#[backprop]
fn gather(x: &[f64], idx: &[usize]) -> f64 {
    let mut s = 0.0;
    for k in 0..idx.len() {
        s += x[idx[k] % x.len()] * (k as f64 + 1.0);
    }
    s.sin()
}

#[backprop]
fn hs(p: &Pc, v: &[f64]) -> f64 {
    p.a * v[0] + (p.q.v[1] * v[1]).tanh() * p.b
}

#[backprop]
fn lin4(v: &[f64; 4]) -> [f64; 4] {
    let mut out = [0.0; 4];
    for i in 0..4 {
        out[i] = (0.6 * v[i] - 0.3 * v[(i + 1) % 4] + 0.1).tanh();
    }
    out
}

#[backprop]
fn clip4(v: &[f64; 4], t: f64) -> [f64; 4] {
    let mut out = [0.0; 4];
    for i in 0..4 {
        out[i] = (v[i] * t + 0.1).tanh();
        if t > 1.0 && i == 2 {
            return out;
        }
    }
    if t < 0.5 {
        return lin4(&out);
    }
    out
}

#[backprop]
fn layer2(p: &Pc, v: &[f64; 2]) -> [f64; 2] {
    let mut out = [0.0; 2];
    for j in 0..2 {
        out[j] = (p.w[j] * v[0] + p.q.v[j] * v[1] + p.a).tanh();
    }
    out
}

#[backprop]
fn gdot<T: Float>(a: &[T], b: &[T]) -> T {
    let mut s = T::zero();
    for i in 0..a.len() {
        s = s + a[i] * b[i % b.len()];
    }
    s
}

#[backprop]
fn glin<T: Float>(v: &[T; 4]) -> [T; 4] {
    let mut out = [T::zero(); 4];
    for i in 0..4 {
        out[i] = (T::of_f64(0.6) * v[i] - T::of_f64(0.3) * v[(i + 1) % 4]).tanh();
    }
    out
}

const IDX: [usize; 5] = [2, 0, 3, 1, 2];

/// Compares `grad` with Richardson-extrapolated central differences of `f` at `p`, skipping
/// components where steps h and h/2 disagree (a branch switch or kink within reach).
fn check(name: &str, f: impl Fn(&[f64]) -> f64, grad: &[f64], p: &[f64]) {
    assert_eq!(grad.len(), p.len(), "{name}: gradient length");
    for i in 0..p.len() {
        let d = |h: f64| {
            let (mut a, mut b) = (p.to_vec(), p.to_vec());
            a[i] += h;
            b[i] -= h;
            (f(&a) - f(&b)) / (2.0 * h)
        };
        let h = 1e-5 * (1.0 + p[i].abs());
        let (full, half) = (d(h), d(h / 2.0));
        if !full.is_finite() || (full - half).abs() > 1e-4 * (1.0 + full.abs()) {
            continue;
        }
        let r = (4.0 * half - full) / 3.0;
        assert!((grad[i] - r).abs() <= 1e-5 * (1.0 + r.abs()), "{name}[{i}] at {p:?}: {} vs {r}", grad[i]);
    }
}

/// `name`'s gradient at `(p, x, t)` against its value and central differences over all 13 floats.
fn run(
    name: &str,
    f: fn(&Pc, &[f64; 4], f64, &[usize]) -> f64,
    g: fn(&Pc, &[f64; 4], f64, &[usize]) -> (f64, Pc, [f64; 4], f64),
    p: &[f64],
    x: [f64; 4],
    t: f64,
) {
    let pc = Pc::from_flat(p);
    let (v, gp, gx, gt) = g(&pc, &x, t, &IDX);
    assert_eq!(v.to_bits(), f(&pc, &x, t, &IDX).to_bits(), "{name}: value");
    let mut flat = p.to_vec();
    flat.extend(x);
    flat.push(t);
    let mut grad = gp.flat();
    grad.extend(gx);
    grad.push(gt);
    let at = |v: &[f64]| f(&Pc::from_flat(&v[..8]), &[v[8], v[9], v[10], v[11]], v[12], &IDX);
    check(name, at, &grad, &flat);
}
"#;

/// The test file: the header, then per seed the function and its test.
pub fn compiled_file(first: u64, count: u64) -> String {
    let mut out = HEADER.to_string();
    for seed in first..first + count {
        let name = format!("comb_{seed}");
        out.push_str(&format!("\n#[backprop]\nfn {name}{SIGNATURE} {{\n{}\n}}\n", program(seed)));
        out.push_str(&format!(
            "\n#[test]\nfn {name}_matches_finite_differences() {{\n    let g = |p: &Pc, x: &[f64; 4], t: f64, idx: &[usize]| {{\n        let (v, g) = {name}_grad(p, x, t, idx);\n        (v, g.p, g.x, g.t)\n    }};\n"
        ));
        for k in 0..3 {
            let (p, x, t) = point(seed, k);
            let p: Vec<String> = p.iter().map(|v| rust_f64(*v)).collect();
            let x: Vec<String> = x.iter().map(|v| rust_f64(*v)).collect();
            out.push_str(&format!(
                "    run(\"{name}\", {name}, g, &[{}], [{}], {});\n",
                p.join(", "),
                x.join(", "),
                rust_f64(t)
            ));
        }
        out.push_str("}\n");
    }
    out
}

/// A generic program (`T: Float`): a `vec![T::zero(); x.len()]` scratch buffer filled by a counted
/// `while` whose `match` arm exits, an early `return`, generic calls after it (the scratch `Vec` to
/// `gdot`, a local array through `glin`), float methods; checked at `f64` against
/// central differences and at `f32` for its value.
pub fn generic_program(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x7_15_6E);
    let methods = ["sin()", "tanh()", "cos()", "atan()", "exp()", "powi(2)", "abs()"];
    let mut lines = vec!["    let mut h = vec![T::zero(); x.len()];".to_string(), "    let mut k = 0;".to_string()];
    lines.push("    while k < x.len() {".to_string());
    let arm = rng.below(3);
    match rng.below(3) {
        0 => lines.push(format!("        match k % 3 {{ {arm} => {{ k += 1; continue; }} _ => {{}} }}")),
        1 => lines.push(format!("        match k % 3 {{ {arm} if k > 2 => break, _ => {{}} }}")),
        _ => lines.push(format!("        match k % 3 {{ {arm} => h[k] = t * T::of_f64(0.5), _ => {{}} }}")),
    }
    let (m, c) = (rng.pick(&methods), 0.1 + rng.unit());
    lines.push(format!("        h[k] = h[k] + (x[k] * t + T::of_f64({c:.2})).{m};"));
    lines.push("        k += 1;".to_string());
    lines.push("    }".to_string());
    lines.push("    let mut s = T::zero();".to_string());
    if rng.chance(0.6) {
        let m = rng.pick(&methods);
        lines.push(format!("    if t > T::one() {{ return h[0] * t.{m}; }}"));
    }
    // Calls after the return: the scratch `Vec` passed to a generic callee, a local array through a
    // generic array-returning one.
    match rng.below(3) {
        0 => lines.push("    s = s + gdot(&h, x) * t;".to_string()),
        1 => {
            let m = rng.pick(&methods);
            lines.push("    let mut b = [T::zero(); 4];".to_string());
            lines.push("    for i in 0..4 {".to_string());
            lines.push(format!("        b[i] = h[i % h.len()] * t + x[i % x.len()].{m};"));
            lines.push("    }".to_string());
            lines.push("    let g = glin(&b);".to_string());
            lines.push("    s = s + g[k % 4] * gdot(&g, &b);".to_string());
        }
        _ => {}
    }
    let m = rng.pick(&methods);
    lines.push("    for i in 0..h.len() {".to_string());
    lines.push(format!("        s = s + h[i] * x[(i + 1) % x.len()].{m};"));
    lines.push("    }".to_string());
    lines.push(format!("    s + T::of_f64(0.1) * T::of_f64(k as f64) * t.{}", rng.pick(&methods)));
    lines.join("\n")
}

/// The generic programs' part of the test file.
fn generic_tests(first: u64, count: u64) -> String {
    let mut out = String::new();
    for seed in first..first + count {
        let name = format!("generic_{seed}");
        out.push_str(&format!(
            "\n#[backprop]\nfn {name}<T: Float>(x: &[T], t: T) -> T {{\n{}\n}}\n",
            generic_program(seed)
        ));
        out.push_str(&format!("\n#[test]\nfn {name}_matches_finite_differences() {{\n"));
        for k in 0..2 {
            let (_, x, t) = point(seed, k);
            let x: Vec<String> = x.iter().map(|v| rust_f64(*v)).collect();
            let t = rust_f64(t);
            out.push_str(&format!(
                "    let (x, t): ([f64; 4], f64) = ([{x}], {t});\n    let (v, g) = {name}_grad(&x[..], t);\n    assert_eq!(v.to_bits(), {name}(&x[..], t).to_bits());\n    let mut grad = g.x.clone();\n    grad.push(g.t);\n    check(\"{name}\", |v: &[f64]| {name}(&v[..4], v[4]), &grad, &[x[0], x[1], x[2], x[3], t]);\n    let x32 = x.map(|v| v as f32);\n    let (v32, _) = {name}_grad(&x32[..], t as f32);\n    assert_eq!(v32.to_bits(), {name}(&x32[..], t as f32).to_bits());\n",
                x = x.join(", ")
            ));
        }
        out.push_str("}\n");
    }
    out
}

/// Seeds of `tests/random_combinations.rs`.
const SEEDS: (u64, u64) = (15_000, 48);
/// Seeds of its generic programs.
const GENERIC_SEEDS: (u64, u64) = (15_500, 12);
/// Seeds of `tests/random_wide_combinations.rs` (feature `wide-tests`): 250 programs, the size of
/// the mix issue 15 was found with.
const WIDE_SEEDS: (u64, u64) = (16_000, 200);
const WIDE_GENERIC_SEEDS: (u64, u64) = (16_500, 50);

/// Writes `tests/random_combinations.rs` and `tests/random_wide_combinations.rs`. Regenerate with
/// `BACKPROP_WRITE_RANDOM=1 cargo test -p backprop-codegen write_random_combination_tests -- --ignored`.
#[test]
#[ignore]
fn write_random_combination_tests() {
    if std::env::var_os("BACKPROP_WRITE_RANDOM").is_none() {
        return;
    }
    let wide_note = "//! do not edit by hand. The wide set (250 programs) runs with\n//! `cargo test --features wide-tests --test random_wide_combinations`.";
    let files = [
        ("random_combinations", SEEDS, GENERIC_SEEDS, None),
        ("random_wide_combinations", WIDE_SEEDS, WIDE_GENERIC_SEEDS, Some(wide_note)),
    ];
    for (stem, seeds, generic, note) in files {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../tests/{stem}.rs"));
        let mut file = compiled_file(seeds.0, seeds.1) + &generic_tests(generic.0, generic.1);
        if let Some(note) = note {
            file = file.replacen("//! do not edit by hand.", note, 1);
        }
        std::fs::write(&path, file).unwrap();
        let status = std::process::Command::new("rustfmt").arg("--edition=2021").arg(&path).status().unwrap();
        assert!(status.success(), "rustfmt failed on {}", path.display());
    }
}

/// Every generated program lowers and differentiates (the pipeline, without rustc).
#[test]
fn random_combinations_lower() {
    for seed in (SEEDS.0..SEEDS.0 + SEEDS.1).chain(WIDE_SEEDS.0..WIDE_SEEDS.0 + WIDE_SEEDS.1) {
        let source = format!("fn comb{SIGNATURE} {{\n{}\n}}", program(seed));
        let item: proc_macro2::TokenStream = source.parse().expect("tokenizes");
        if let Err(e) = super::pipeline(proc_macro2::TokenStream::new(), item) {
            panic!("seed {seed}: {e}\n{source}");
        }
    }
    for seed in (GENERIC_SEEDS.0..GENERIC_SEEDS.0 + GENERIC_SEEDS.1)
        .chain(WIDE_GENERIC_SEEDS.0..WIDE_GENERIC_SEEDS.0 + WIDE_GENERIC_SEEDS.1)
    {
        let source = format!("fn generic(x: &[f64], t: f64) -> f64 {{\n{}\n}}", generic_program(seed))
            .replace("T::zero()", "0.0")
            .replace("T::one()", "1.0")
            .replace("T::of_f64", "");
        let item: proc_macro2::TokenStream = source.parse().expect("tokenizes");
        if let Err(e) = super::pipeline(proc_macro2::TokenStream::new(), item) {
            panic!("generic seed {seed}: {e}\n{source}");
        }
    }
}
