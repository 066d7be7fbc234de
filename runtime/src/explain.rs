//! A gradient explained with its numbers: what `#[backprop(explain)]`'s generated `<name>_explain`
//! returns.
//!
//! For a straight-line function, every differentiated argument's derivative is a sum of chains
//! (one per path from the result `C` down to the argument), each a product of local factors
//! `∂x/∂y`, output side first, with the value of every factor at the point where it was evaluated.
//! The output-side factors that several chains start with are what the reverse sweep computes once
//! (`shared`). For functions with loops or arrays, where a chain per element would be unreadable,
//! each array argument's gradient is summarised by its magnitude per outer index (per layer of a
//! layered loop), which is where a vanishing gradient shows.
//!
//! Everything is plain data (numbers widened to `f64`; `single_precision` says they came from `f32`,
//! and are then printed as `f32`), so tests and tools read the factors directly; `Display` prints
//! them as the lesson writes them, numbers in the shortest form that reads back to the same value.

use crate::{Float, Params};
use std::fmt;

/// The function, its gradient and the derivation of each partial derivative, at one point.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The explained function's name.
    pub function: String,
    /// The function computes in `f32` (numbers are printed at that precision).
    pub single_precision: bool,
    /// `C`, the function's value.
    pub cost: f64,
    /// The scalar float arguments and their values, in signature order.
    pub inputs: Vec<(String, f64)>,
    /// The forward values of the function's named variables, in order of computation, `C` last.
    /// Empty for functions with loops or arrays.
    pub values: Vec<(String, f64)>,
    /// Unnamed intermediate values that the chains name `u₁`, `u₂`, ...
    pub symbols: Vec<Symbol>,
    /// One entry per differentiated scalar argument, in signature order.
    pub arguments: Vec<Argument>,
    /// Output-side adjoints `∂C/∂x` that more than one chain starts with, each computed once by the
    /// reverse sweep; the nearest to the output first.
    pub shared: Vec<Shared>,
    /// Operation counts of the generated code, and of forming every chain on its own.
    pub ops: Ops,
    /// One entry per differentiated array argument: the gradient's magnitudes.
    pub arrays: Vec<ArrayGradient>,
}

/// An unnamed intermediate value shown in the chains as a symbol.
#[derive(Clone, Debug, PartialEq)]
pub struct Symbol {
    /// `u₁`, `u₂`, ...
    pub name: String,
    /// The value's expression (`a3 - y`).
    pub expr: String,
    /// Its value at the point.
    pub value: f64,
}

/// `∂C/∂argument`: its derivation and the value the generated gradient function returned.
#[derive(Clone, Debug, PartialEq)]
pub struct Argument {
    /// The argument's name.
    pub name: String,
    /// The generated gradient's `∂C/∂argument` (what `<name>_grad` returns).
    pub gradient: f64,
    /// How it is made of factors.
    pub derivation: Derivation,
}

/// How a partial derivative is made of local factors.
#[derive(Clone, Debug, PartialEq)]
pub enum Derivation {
    /// `C` does not depend on the argument.
    Zero,
    /// The sum of the chains' products: one chain per path from `C` to the argument.
    Chains(Vec<Chain>),
    /// Too many paths for one chain each: the sum over the values `x` using the argument of
    /// `∂C/∂x · ∂x/∂argument`, where `∂C/∂x` is the adjoint the reverse sweep computed (each term
    /// is a two-factor chain, or one factor when `x` is `C`).
    Uses(Vec<Chain>),
    /// No derivation is shown, and why (the gradient is still given).
    NotShown(String),
}

/// One path from `C` down to an argument: its local factors, output side first.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    /// The factors, `∂C/∂a3` first.
    pub factors: Vec<Factor>,
}

/// One local factor `∂x/∂y` and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    /// `∂a3/∂a2`.
    pub symbol: String,
    /// Its value at the point.
    pub value: f64,
}

/// An output-side adjoint `∂C/∂x` that several chains share.
#[derive(Clone, Debug, PartialEq)]
pub struct Shared {
    /// `∂C/∂a3`.
    pub symbol: String,
    /// Its value (the adjoint of `x` in the reverse sweep).
    pub value: f64,
    /// How many chains (over all arguments) start with it.
    pub chains: usize,
}

/// Operation counts (arithmetic, calls, element reads and writes, as they appear in the code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ops {
    /// The forward sweep: the function itself.
    pub forward: usize,
    /// The reverse sweep: every partial derivative at once, shared factors computed once.
    pub backward: usize,
    /// The backward work of computing each chain on its own: every factor that is not a value of
    /// the forward sweep computed again per chain, the products multiplied out, the chains of an
    /// argument added. `None` when some derivation is not given by chains.
    pub separately: Option<usize>,
}

/// The gradient of an array argument, summarised.
#[derive(Clone, Debug, PartialEq)]
pub struct ArrayGradient {
    /// The argument's name.
    pub name: String,
    /// The Euclidean norm of the whole gradient.
    pub norm: f64,
    /// Per outer index `i`: `|∂C/∂name[i]|` for a one-dimensional array, the norm of row `i`
    /// otherwise. For a layered loop (`for l in 0..L { a = sigmoid(w[l] * a) }`) this is the
    /// gradient per layer.
    pub levels: Vec<f64>,
    /// `levels` are norms of rows (the array has more than one dimension).
    pub rows: bool,
}

impl Chain {
    /// The product of the factors (1 for no factors).
    pub fn product(&self) -> f64 {
        self.factors.iter().map(|f| f.value).product()
    }

    /// The factors' symbols (`["∂C/∂a3", "∂a3/∂w3"]`).
    pub fn symbols(&self) -> Vec<&str> {
        self.factors.iter().map(|f| f.symbol.as_str()).collect()
    }

    /// The factors' values.
    pub fn values(&self) -> Vec<f64> {
        self.factors.iter().map(|f| f.value).collect()
    }
}

impl Derivation {
    /// The chains (or use terms), empty when there are none.
    pub fn chains(&self) -> &[Chain] {
        match self {
            Derivation::Chains(c) | Derivation::Uses(c) => c,
            Derivation::Zero | Derivation::NotShown(_) => &[],
        }
    }

    /// The value the factors give: the sum of the chains' products; `None` when not shown.
    pub fn sum(&self) -> Option<f64> {
        match self {
            Derivation::Zero => Some(0.0),
            Derivation::Chains(c) | Derivation::Uses(c) => Some(c.iter().map(Chain::product).sum()),
            Derivation::NotShown(_) => None,
        }
    }
}

impl Explanation {
    /// The differentiated scalar argument `name`.
    pub fn argument(&self, name: &str) -> Option<&Argument> {
        self.arguments.iter().find(|a| a.name == name)
    }

    /// The forward value of the named variable `name` (`"C"` is the result).
    pub fn value(&self, name: &str) -> Option<f64> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// The shared adjoint with this symbol (`"∂C/∂a3"`).
    pub fn shared(&self, symbol: &str) -> Option<&Shared> {
        self.shared.iter().find(|s| s.symbol == symbol)
    }

    /// The summary of the array argument `name`'s gradient.
    pub fn array(&self, name: &str) -> Option<&ArrayGradient> {
        self.arrays.iter().find(|a| a.name == name)
    }

    /// A number as printed: the shortest text that reads back to the same value (as `f32` when the
    /// function computes in `f32`).
    pub fn number(&self, x: f64) -> String {
        if self.single_precision {
            format!("{}", x as f32)
        } else {
            format!("{x}")
        }
    }

    /// A number as a factor of a product: negative ones in parentheses (`2 · (-1)`).
    fn factor_number(&self, x: f64) -> String {
        let text = self.number(x);
        if text.starts_with('-') {
            format!("({text})")
        } else {
            text
        }
    }

    /// Whether two computations of the same derivative agree up to rounding.
    fn agrees(&self, a: f64, b: f64) -> bool {
        let eps = if self.single_precision { 1e-5 } else { 1e-12 };
        a == b || (a - b).abs() <= eps * a.abs().max(b.abs()).max(1e-300)
    }

    fn write_derivation(&self, out: &mut fmt::Formatter<'_>, a: &Argument) -> fmt::Result {
        let head = format!("∂C/∂{}", a.name);
        let pad = " ".repeat(head.chars().count());
        let (chains, uses) = match &a.derivation {
            Derivation::Zero => return writeln!(out, "{head} = 0   (C does not depend on {})", a.name),
            Derivation::NotShown(why) => {
                return writeln!(out, "{head} = {}   (chain not shown: {why})", self.number(a.gradient))
            }
            Derivation::Chains(c) => (c, false),
            Derivation::Uses(c) => (c, true),
        };
        let symbols = |c: &Chain| {
            if c.factors.is_empty() {
                "1".to_string()
            } else {
                c.symbols().join(" · ")
            }
        };
        let values = |c: &Chain| {
            if c.factors.is_empty() {
                "1".to_string()
            } else {
                c.factors.iter().map(|f| self.factor_number(f.value)).collect::<Vec<_>>().join(" · ")
            }
        };
        let sum = a.derivation.sum().unwrap_or(a.gradient);
        let mut total = self.number(sum);
        if !self.agrees(sum, a.gradient) {
            total.push_str(&format!("   (the generated gradient: {})", self.number(a.gradient)));
        }
        if chains.len() == 1 && !uses {
            let c = &chains[0];
            return writeln!(out, "{head} = {} = {} = {total}", symbols(c), values(c));
        }
        // A sum: one product per line, symbols first, then the same products with their values.
        let mut lines: Vec<String> = chains.iter().map(symbols).collect();
        lines.extend(chains.iter().map(values));
        for (k, line) in lines.iter().enumerate() {
            let lead = if k == 0 { head.as_str() } else { pad.as_str() };
            let op = if k % chains.len() == 0 { "=" } else { "+" };
            writeln!(out, "{lead} {op} {line}")?;
        }
        writeln!(out, "{pad} = {total}")?;
        if uses {
            writeln!(out, "{pad}   (one term per use of {}; each ∂C/∂x is that value's adjoint)", a.name)?;
        }
        Ok(())
    }

    fn write_array(&self, out: &mut fmt::Formatter<'_>, a: &ArrayGradient) -> fmt::Result {
        // Magnitudes span many orders in a deep chain: three significant digits say enough.
        let what = if a.rows {
            format!("‖∂C/∂{}[i]‖ (norm of row i)", a.name)
        } else {
            format!("|∂C/∂{}[i]|", a.name)
        };
        writeln!(out, "∂C/∂{}: norm {:.3e}; {what} per index i, and × its ratio to index i + 1:", a.name, a.norm)?;
        let width = a.levels.len().saturating_sub(1).to_string().len();
        for (i, m) in a.levels.iter().enumerate() {
            match a.levels.get(i + 1) {
                Some(next) if *next != 0.0 => writeln!(out, "  [{i:>width$}] {m:.3e}   ×{:.3}", m / next)?,
                _ => writeln!(out, "  [{i:>width$}] {m:.3e}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inputs: Vec<String> = self.inputs.iter().map(|(n, v)| format!("{n} = {}", self.number(*v))).collect();
        writeln!(out, "{}({}): C = {}", self.function, inputs.join(", "), self.number(self.cost))?;
        if !self.values.is_empty() {
            let values: Vec<String> = self.values.iter().map(|(n, v)| format!("{n} = {}", self.number(*v))).collect();
            writeln!(out, "forward: {}", values.join(", "))?;
        }
        for (k, s) in self.symbols.iter().enumerate() {
            let lead = if k == 0 { "where" } else { "     " };
            writeln!(out, "{lead} {} = {} = {}", s.name, s.expr, self.number(s.value))?;
        }
        for a in &self.arguments {
            self.write_derivation(out, a)?;
        }
        for a in &self.arrays {
            self.write_array(out, a)?;
        }
        for s in &self.shared {
            writeln!(out, "{} = {}: computed once, used by {} chains", s.symbol, self.number(s.value), s.chains)?;
        }
        let n = self.arguments.len() + self.arrays.len();
        let all = if n == 1 { "its one derivative".to_string() } else { format!("all {n} derivatives") };
        write!(
            out,
            "operations: {} in the function; the reverse sweep adds {} for {all}",
            self.ops.forward, self.ops.backward
        )?;
        match self.ops.separately {
            Some(s) => writeln!(out, ", where forming each chain on its own would take {s}"),
            None => writeln!(out),
        }
    }
}

// ---- what the generated `<name>_explain` calls -------------------------------------------------

/// A number of a generated explanation, widened to `f64` (exact for `f32` and `f64`).
#[doc(hidden)]
pub fn wide<F: Float>(x: F) -> f64 {
    x.as_f64()
}

/// `|x[i]|` per element of a one-dimensional gradient.
#[doc(hidden)]
pub fn magnitudes<'a, F: Float>(values: impl IntoIterator<Item = &'a F>) -> Vec<f64> {
    values.into_iter().map(|x| x.as_f64().abs()).collect()
}

/// The Euclidean norm of each row of a nested gradient.
#[doc(hidden)]
pub fn row_norms<'a, P: Params + 'a>(rows: impl IntoIterator<Item = &'a P>) -> Vec<f64> {
    rows.into_iter().map(norm).collect()
}

/// The Euclidean norm of a whole gradient, in `f64`.
#[doc(hidden)]
pub fn norm<P: Params + ?Sized>(params: &P) -> f64 {
    let mut sum = 0.0;
    params.visit(&mut |x| sum += x.as_f64() * x.as_f64());
    sum.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factor(symbol: &str, value: f64) -> Factor {
        Factor { symbol: symbol.into(), value }
    }

    fn explanation(arguments: Vec<Argument>) -> Explanation {
        Explanation {
            function: "f".into(),
            single_precision: false,
            cost: 1.0,
            inputs: vec![("x".into(), 0.5)],
            values: vec![("C".into(), 1.0)],
            symbols: vec![],
            arguments,
            shared: vec![],
            ops: Ops { forward: 1, backward: 2, separately: Some(3) },
            arrays: vec![],
        }
    }

    #[test]
    fn numbers_are_shortest_round_trip_and_negative_ones_parenthesised() {
        let e = explanation(vec![]);
        assert_eq!(e.number(3.0), "3");
        assert_eq!(e.number(0.1), "0.1");
        assert_eq!(e.number(-2.0), "-2");
        assert_eq!(e.factor_number(-2.0), "(-2)");
        let single = Explanation { single_precision: true, ..e };
        assert_eq!(single.number(0.1_f32 as f64), "0.1");
    }

    #[test]
    fn one_chain_is_one_line_and_a_sum_lists_its_products() {
        let one = Chain { factors: vec![factor("∂C/∂a", 2.0), factor("∂a/∂x", -1.5)] };
        let two = Chain { factors: vec![factor("∂C/∂x", 0.25)] };
        let e = explanation(vec![
            Argument { name: "x".into(), gradient: -3.0, derivation: Derivation::Chains(vec![one.clone()]) },
            Argument { name: "y".into(), gradient: -2.75, derivation: Derivation::Chains(vec![two, one]) },
            Argument { name: "z".into(), gradient: 4.0, derivation: Derivation::NotShown("a branch".into()) },
        ]);
        let text = e.to_string();
        assert!(text.contains("∂C/∂x = ∂C/∂a · ∂a/∂x = 2 · (-1.5) = -3\n"), "{text}");
        assert!(
            text.contains("∂C/∂y = ∂C/∂x\n      + ∂C/∂a · ∂a/∂x\n      = 0.25\n      + 2 · (-1.5)\n      = -2.75\n"),
            "{text}"
        );
        assert!(text.contains("∂C/∂z = 4   (chain not shown: a branch)"), "{text}");
        assert_eq!(e.argument("y").and_then(|a| a.derivation.sum()), Some(-2.75));
    }

    #[test]
    fn a_disagreeing_gradient_is_shown_next_to_the_product() {
        let chain = Chain { factors: vec![factor("∂C/∂x", 2.0)] };
        let e = explanation(vec![Argument {
            name: "x".into(),
            gradient: 2.5,
            derivation: Derivation::Chains(vec![chain.clone(), chain]),
        }]);
        assert!(e.to_string().contains("= 4   (the generated gradient: 2.5)"), "{e}");
    }

    #[test]
    fn norms_of_rows_and_magnitudes() {
        let rows = [[3.0, 4.0], [0.0, 1.0]];
        assert_eq!(row_norms(&rows), vec![5.0, 1.0]);
        assert_eq!(magnitudes(&[-2.0_f32, 0.5]), vec![2.0, 0.5]);
        assert!((norm(&rows) - 26f64.sqrt()).abs() < 1e-15);
    }
}
