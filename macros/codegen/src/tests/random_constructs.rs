//! The constructs of issue 10 in the random loop-nest programs: integer arrays read as indices
//! (`obs[k][0]`, `par[j]`, `labels[k] as usize`, `idx[k] as usize`), tuples, deferred `let`,
//! `match` on integers and `bool` (literals, `1 | 2`, ranges, guards, bindings), `while` loops on
//! float state (Newton steps, contractive fixed points with a tolerance, halving, sums until a
//! limit), `loop` with `break`, `break`/`continue` in `for` and `while` bodies, iterator idioms
//! (`zip`/`map`/`sum`, `product`, `fold`, `copied().fold(f64::MIN, f64::max)`, zipped `for` loops)
//! and scratch buffers (`vec![0.0; n]`, `x.to_vec()`), mixed with the loop-nest shapes of
//! `random_nests.rs`: the same generator with `ext` on, drawing from its random stream only when on,
//! so the programs of `program` are unchanged.
//!
//! Every `while` has a bounded trip count and a condition away from its switching point at the test
//! points (a converged Newton step or contraction, a sum of steps in [0.5, 1.5] against a limit, a
//! halving of a value ≥ 1), so central differences are meaningful.

use super::{e, Array, Float, Gen, Int, Kind, Program, E, LW, LX, MAX_TRIPS, NMAX};
use crate::eval::{self, Input};

/// The signature of every generated function with the constructs.
pub const SIGNATURE: &str = "(x: &[f64], w: &[f64; 4], a: f64, b: f64, n: usize, m: usize, flag: bool, \
     obs: &[[usize; 2]], par: &[usize; 4], labels: &[u8], idx: &Vec<i32>) -> f64";

/// `obs` has 2 or 3 rows (`obs[k][0] < LX`, `obs[k][1] < LW`), `labels` 3 or 4 entries (`< LW`),
/// `idx` has `LX` entries (`< LX`), `par` entries are `< 4`.
const OBS: (usize, usize) = (2, 3);
const LABELS: (usize, usize) = (3, 4);

/// The program of seed `seed` with the constructs: `fn f` with this module's `SIGNATURE`.
pub fn program_constructs(seed: u64) -> Program {
    super::generate(seed, true, false)
}

/// The integer arrays at point `k` of program `seed`.
#[derive(Clone, Debug)]
pub struct IntArrays {
    pub obs: Vec<[usize; 2]>,
    pub par: [usize; 4],
    pub labels: Vec<u8>,
    pub idx: Vec<i32>,
}

pub fn int_arrays(seed: u64, k: usize) -> IntArrays {
    let mut rng = super::Rng::new(seed ^ 0x1D_A7A5 ^ (k as u64) << 32);
    let rows = OBS.0 + rng.below(OBS.1 - OBS.0 + 1);
    let obs = (0..rows).map(|_| [rng.below(LX), rng.below(LW)]).collect();
    let par = [0, rng.below(4), rng.below(4), rng.below(4)];
    let labels = (0..LABELS.0 + rng.below(LABELS.1 - LABELS.0 + 1)).map(|_| rng.below(LW) as u8).collect();
    let idx = (0..LX).map(|_| rng.below(LX) as i32).collect();
    IntArrays { obs, par, labels, idx }
}

/// A loop header candidate: text, trip count, index, elements, feature.
type Candidate = (String, usize, Option<Int>, Vec<(String, f64)>, &'static str);

impl Gen {
    /// Loop headers over integer arrays' lengths and zipped float arrays.
    pub(super) fn ext_headers(&mut self, i: &str, xi: &str, cands: &mut Vec<Candidate>) {
        cands.push((
            format!("{i} in 0..obs.len()"),
            OBS.1,
            Some(Int { name: i.to_string(), max: OBS.1 - 1 }),
            vec![],
            "loop over an integer array's length",
        ));
        cands.push((
            format!("{i} in 0..labels.len()"),
            LABELS.1,
            Some(Int { name: i.to_string(), max: LABELS.1 - 1 }),
            vec![],
            "loop over an integer array's length",
        ));
        let yi = self.name("yi");
        let (first, second) = if self.rng.chance(0.5) { ("x", "w") } else { ("w", "x") };
        let zip = if self.rng.chance(0.5) { format!("{second}.iter()") } else { second.to_string() };
        cands.push((
            format!("({xi}, {yi}) in {first}.iter().zip({zip})"),
            LW,
            None,
            vec![(format!("(*{xi})"), 1.5), (format!("(*{yi})"), 1.5)],
            "for (x, y) in a.iter().zip(b) loop",
        ));
        for arr in self.arrays() {
            if arr.writable {
                cands.push((
                    format!("({xi}, {yi}) in x.iter().zip({}.iter())", arr.name),
                    arr.maxlen.min(LX),
                    None,
                    vec![(format!("(*{xi})"), 1.5), (format!("(*{yi})"), arr.mag.max(1.0))],
                    "for (x, y) in a.iter().zip(b) loop",
                ));
            }
        }
    }

    /// Whether a `break` or `continue` here would belong to a loop whose body accepts one.
    pub(super) fn can_exit(&self) -> bool {
        self.frames.iter().rev().find(|f| f.lp > 0).is_some_and(|f| f.lp == 2)
    }

    /// `if c { continue; }`, `if c { break; }` or `if c { ..; break; }` in the innermost loop.
    pub(super) fn exit(&mut self) {
        if !self.can_exit() {
            return;
        }
        let c = self.cond();
        match self.rng.below(3) {
            0 => {
                self.features.insert("continue");
                self.line(&format!("if {c} {{ continue; }}"));
            }
            1 => {
                self.features.insert("break");
                self.line(&format!("if {c} {{ break; }}"));
            }
            _ => {
                self.features.insert("break");
                self.line(&format!("if {c} {{"));
                self.push(1);
                let muts = self.mutables();
                if !muts.is_empty() && self.rng.chance(0.6) {
                    let at = *self.rng.pick(&muts);
                    self.update(at, None);
                } else {
                    self.write(None);
                }
                self.line("break;");
                self.frames.pop();
                self.line("}");
            }
        }
    }

    /// One of the constructs.
    pub(super) fn ext_statement(&mut self, can_loop: bool) {
        loop {
            let room = MAX_TRIPS / self.trips();
            match self.rng.below(11) {
                0 => return self.int_from_array(),
                1 => return self.tuple(),
                2 => return self.deferred(),
                3 => return self.match_value(),
                4 => return self.match_statement(),
                5 | 6 if can_loop => return self.while_construct(room),
                7 if can_loop && room >= 3 => return self.loop_break(),
                8 => return self.scratch(),
                9 if self.can_exit() => return self.exit(),
                10 => return self.let_expr(),
                _ => continue,
            }
        }
    }

    /// `let p = obs[k][0];`, `par[j]`, `labels[k] as usize`, `idx[k] as usize`: an index read from an
    /// integer array.
    fn int_from_array(&mut self) {
        self.features.insert("integer array read as an index");
        let p = self.name("p");
        let (text, max) = match self.rng.below(5) {
            0 => (format!("obs[{}][0]", self.index(OBS.0)), LX - 1),
            1 => (format!("obs[{}][1]", self.index(OBS.0)), LW - 1),
            2 => (format!("par[{}]", self.index(4)), 3),
            3 => (format!("labels[{}] as usize", self.index(LABELS.0)), LW - 1),
            _ => (format!("idx[{}] as usize", self.index(LX)), LX - 1),
        };
        self.line(&format!("let {p} = {text};"));
        self.top().ints.push(Int { name: p, max });
    }

    /// `let (a, b, _) = (e1, e2, e3);` or `let t = (e1, e2);` read as `t.0`, `t.1`.
    fn tuple(&mut self) {
        self.features.insert("tuple");
        let x = self.expr(2);
        let y = self.expr(2);
        if self.rng.chance(0.5) {
            let (ta, tb) = (self.name("ta"), self.name("tb"));
            let z = self.expr(1);
            let (pat, vals) = match self.rng.below(3) {
                0 => (format!("({ta}, {tb}, _)"), format!("({}, {}, {})", x.s, y.s, z.s)),
                1 => (format!("({ta}, _, {tb})"), format!("({}, {}, {})", x.s, z.s, y.s)),
                _ => (format!("({ta}, {tb})"), format!("({}, {})", x.s, y.s)),
            };
            self.line(&format!("let {pat} = {vals};"));
            self.top().floats.push(Float { name: ta, mag: x.mag, lb: 0.0, kind: Kind::Plain });
            self.top().floats.push(Float { name: tb, mag: y.mag, lb: 0.0, kind: Kind::Plain });
        } else {
            let tp = self.name("tp");
            self.line(&format!("let {tp} = ({}, {});", x.s, y.s));
            if self.rng.chance(0.4) {
                let (ta, tb) = (self.name("ta"), self.name("tb"));
                self.line(&format!("let ({ta}, {tb}) = {tp};"));
                self.top().floats.push(Float { name: ta, mag: x.mag, lb: 0.0, kind: Kind::Plain });
                self.top().floats.push(Float { name: tb, mag: y.mag, lb: 0.0, kind: Kind::Plain });
            }
            self.top().floats.push(Float { name: format!("{tp}.0"), mag: x.mag, lb: 0.0, kind: Kind::Plain });
            self.top().floats.push(Float { name: format!("{tp}.1"), mag: y.mag, lb: 0.0, kind: Kind::Plain });
        }
    }

    /// `let r; if c { ..; r = e1; } else { r = e2; }` (also `let r: f64;`, `else if`).
    fn deferred(&mut self) {
        self.features.insert("deferred let assigned in every branch");
        let r = self.name("r");
        if self.rng.chance(0.5) {
            self.line(&format!("let {r};"));
        } else {
            self.line(&format!("let {r}: f64;"));
        }
        let arms = if self.rng.chance(0.3) { 3 } else { 2 };
        let mut mag: f64 = 0.0;
        for k in 0..arms {
            let head = if k == 0 {
                format!("if {} {{", self.cond())
            } else if k + 1 < arms {
                format!("}} else if {} {{", self.cond())
            } else {
                "} else {".to_string()
            };
            self.line(&head);
            self.push(1);
            if self.rng.chance(0.4) {
                self.branch_statement();
            }
            let v = self.expr(2);
            self.line(&format!("{r} = {};", v.s));
            mag = mag.max(v.mag);
            self.frames.pop();
        }
        self.line("}");
        self.top().floats.push(Float { name: r, mag, lb: 0.0, kind: Kind::Plain });
    }

    /// A statement in a branch: an array write, an update of a carried scalar, a guard or a `let`.
    fn branch_statement(&mut self) {
        let muts = self.mutables();
        match self.rng.below(4) {
            0 if !self.writable().is_empty() => self.write(None),
            1 if !muts.is_empty() => {
                let at = *self.rng.pick(&muts);
                self.update(at, None);
            }
            2 => self.guard(None),
            _ => self.let_expr(),
        }
    }

    /// A scrutinee for `match`: its text and largest value (`None` for `bool`).
    fn scrutinee(&mut self) -> (String, Option<usize>) {
        let ints = self.ints();
        match self.rng.below(6) {
            0 => ("flag".into(), None),
            1 => (format!("labels[{}]", self.index(LABELS.0)), Some(LW - 1)),
            2 => (format!("idx[{}]", self.index(LX)), Some(LX - 1)),
            3 if !ints.is_empty() => {
                let v = self.rng.pick(&ints).clone();
                (format!("{} % 3", v.name), Some(2.min(v.max)))
            }
            _ if !ints.is_empty() => {
                let v = self.rng.pick(&ints).clone();
                (v.name, Some(v.max))
            }
            _ => ("n".into(), Some(NMAX)),
        }
    }

    /// Disjoint arm patterns over `0..=max` (literals, `a | b`, `a..=b`), then a guard and a
    /// catch-all (`_` or a name); each arm with the integer it binds, if any.
    fn arms(&mut self, max: Option<usize>) -> Vec<(String, Option<Int>)> {
        let Some(max) = max else {
            return if self.rng.chance(0.5) {
                vec![("true".into(), None), ("false".into(), None)]
            } else {
                vec![("false".into(), None), ("_".into(), None)]
            };
        };
        let mut arms = Vec::new();
        let mut v = self.rng.below(2);
        while v <= max + 1 && arms.len() < 3 {
            match self.rng.below(3) {
                0 => {
                    arms.push((format!("{v}"), None));
                    v += 1;
                }
                1 => {
                    arms.push((format!("{v} | {}", v + 2), None));
                    v += 3;
                }
                _ => {
                    arms.push((format!("{v}..={}", v + 1), None));
                    v += 2;
                }
            }
            v += self.rng.below(2);
        }
        let k = self.name("k");
        if self.rng.chance(0.4) {
            let lim = 1 + self.rng.below(4);
            arms.push((format!("{k} if {k} < {lim}"), Some(Int { name: format!("({k} as usize)"), max: lim - 1 })));
        }
        if self.rng.chance(0.5) {
            let k2 = self.name("k");
            arms.push((k2.clone(), Some(Int { name: format!("({k2} as usize)"), max })));
        } else {
            arms.push(("_".into(), None));
        }
        arms
    }

    /// `let v = match s { 0 => e1, 1 | 2 => e2, 3..=4 => e3, k if k < 2 => e4, _ => e5 };` (or
    /// `acc += match ..;`).
    fn match_value(&mut self) {
        self.features.insert("match as a value");
        let (s, max) = self.scrutinee();
        let arms = self.arms(max);
        let sums: Vec<(usize, usize)> =
            self.mutables().into_iter().filter(|at| self.float(*at).kind == Kind::Sum).collect();
        let target = if !sums.is_empty() && self.rng.chance(0.4) { Some(*self.rng.pick(&sums)) } else { None };
        let v = self.name("t");
        match target {
            Some(at) => {
                let name = self.float(at).name.clone();
                self.line(&format!("{name} += match {s} {{"));
            }
            None => self.line(&format!("let {v} = match {s} {{")),
        }
        let mut mag: f64 = 0.0;
        self.push(1);
        for (pat, bound) in arms {
            self.push(1);
            if let Some(b) = bound {
                self.top().ints.push(b);
            }
            let x = self.expr(2);
            self.frames.pop();
            mag = mag.max(x.mag);
            self.line(&format!("{pat} => {},", x.s));
        }
        self.frames.pop();
        self.line("};");
        match target {
            Some(at) => {
                let mult = self.mult_from(at.0) as f64;
                self.frames[at.0].floats[at.1].mag += mult * mag;
            }
            None => self.top().floats.push(Float { name: v, mag, lb: 0.0, kind: Kind::Plain }),
        }
    }

    /// `match s { 0 => { .. } 1 | 2 => { .. } _ => {} }` whose arms write arrays or update scalars.
    fn match_statement(&mut self) {
        self.features.insert("match as a statement");
        let (s, max) = self.scrutinee();
        let arms = self.arms(max);
        self.line(&format!("match {s} {{"));
        self.push(1);
        let last = arms.len() - 1;
        for (k, (pat, bound)) in arms.into_iter().enumerate() {
            if k == last && self.rng.chance(0.4) {
                self.line(&format!("{pat} => {{}}"));
                continue;
            }
            self.line(&format!("{pat} => {{"));
            self.push(1);
            if let Some(b) = bound {
                self.top().ints.push(b);
            }
            for _ in 0..1 + self.rng.below(2) {
                self.branch_statement();
            }
            self.frames.pop();
            self.line("}");
        }
        self.frames.pop();
        self.line("}");
    }

    /// A `while` loop on float state.
    fn while_construct(&mut self, room: usize) {
        self.whiles = true;
        match self.rng.below(4) {
            0 => self.newton(),
            1 => self.fixed_point(),
            2 => self.halving(),
            _ if room >= 6 => self.sum_until(),
            _ => self.newton(),
        }
    }

    /// A positive value (a positive carried scalar, or `e * e + 0.5`) and its magnitude.
    fn positive(&mut self) -> (String, f64) {
        let pos: Vec<Float> =
            self.floats().into_iter().map(|at| self.float(at).clone()).filter(|f| f.lb >= 0.05).collect();
        if !pos.is_empty() && self.rng.chance(0.5) {
            let f = self.rng.pick(&pos).clone();
            return (f.name, f.mag);
        }
        let x = self.expr(2);
        let x = if x.mag > 5.0 { e(format!("({}).tanh()", x.s), 1.0) } else { x };
        let pv = self.name("pv");
        self.line(&format!("let {pv} = {} * {} + 0.5;", x.s, x.s));
        (pv, x.mag * x.mag + 0.5)
    }

    /// Newton's method for a square root, as `while` or as `loop` with `break`.
    fn newton(&mut self) {
        let (pv, mag) = self.positive();
        let z = self.name("z");
        self.line(&format!("let mut {z} = {pv} + 1.0;"));
        if self.rng.chance(0.5) {
            self.features.insert("while: Newton steps to a tolerance");
            let zp = self.name("zp");
            self.line(&format!("let mut {zp}: f64 = 0.0;"));
            self.line(&format!("while ({z} - {zp}).abs() > 1e-12 * {z} {{"));
            self.push(1);
            self.top().lp = 1;
            self.line(&format!("{zp} = {z};"));
            self.line(&format!("{z} = 0.5 * ({z} + {pv} / {z});"));
        } else {
            self.features.insert("loop with break: Newton steps to a tolerance");
            let zn = self.name("zn");
            self.line("loop {");
            self.push(1);
            self.top().lp = 1;
            self.line(&format!("let {zn} = 0.5 * ({z} + {pv} / {z});"));
            self.line(&format!("if ({zn} - {z}).abs() < 1e-12 * {zn} {{"));
            self.line(&format!("    {z} = {zn};"));
            self.line("    break;");
            self.line("}");
            self.line(&format!("{z} = {zn};"));
        }
        self.frames.pop();
        self.line("}");
        self.top().floats.push(Float { name: z, mag: mag.sqrt() + 1.0, lb: 0.5, kind: Kind::Plain });
    }

    /// A contraction `v = cos(c v + e)` with |c| ≤ 0.5, iterated until a step is below 1e-13.
    fn fixed_point(&mut self) {
        self.features.insert("while: fixed point to a tolerance");
        let c = self.expr(1);
        let cf = self.name("cf");
        self.line(&format!("let {cf} = 0.5 * ({}).tanh();", c.s));
        let fx = self.name("fx");
        let st = self.name("st");
        let init = if self.rng.chance(0.5) { "0.0".to_string() } else { format!("({}).tanh()", self.expr(1).s) };
        self.line(&format!("let mut {fx}: f64 = {init};"));
        self.line(&format!("let mut {st} = 1.0_f64;"));
        self.line(&format!("while {st} > 1e-13 {{"));
        self.push(1);
        self.top().lp = 1;
        let shift = self.expr(1);
        let nx = self.name("nx");
        self.line(&format!("let {nx} = ({cf} * {fx} + {}).cos();", shift.s));
        self.line(&format!("{st} = ({nx} - {fx}).abs();"));
        self.line(&format!("{fx} = {nx};"));
        self.frames.pop();
        self.line("}");
        self.top().floats.push(Float { name: fx, mag: 1.0, lb: 0.0, kind: Kind::Plain });
    }

    /// `let mut hv = |e| + 1; while hv > 0.25 { hv *= 0.5; }` (with a float step count).
    fn halving(&mut self) {
        self.features.insert("while: halving until small");
        let x = self.expr(2);
        let hv = self.name("hv");
        self.line(&format!("let mut {hv} = ({}).abs() + 1.0;", x.s));
        let count = self.rng.chance(0.5).then(|| self.name("cnt"));
        if let Some(c) = &count {
            self.line(&format!("let mut {c} = 0.0_f64;"));
        }
        self.line(&format!("while {hv} > 0.25 {{"));
        self.push(1);
        self.top().lp = 1;
        self.line(&format!("{hv} *= 0.5;"));
        if let Some(c) = &count {
            self.line(&format!("{c} += 1.0;"));
        }
        self.frames.pop();
        self.line("}");
        self.top().floats.push(Float { name: hv, mag: 0.25, lb: 0.1, kind: Kind::Plain });
        if let Some(c) = count {
            self.top().floats.push(Float { name: c, mag: 10.0, lb: 0.0, kind: Kind::Plain });
        }
    }

    /// `while tw < lim { tw += 0.5 + sigmoid(e); .. }`: at most `2 lim` iterations whose body is
    /// random statements (loops, branches, exits), with a scalar carried through it.
    fn sum_until(&mut self) {
        self.features.insert("while: sum of steps until a limit");
        let lim = *self.rng.pick(&[1.5, 2.5, 3.0]);
        let trips = (lim * 2.0) as usize;
        let tw = self.name("tw");
        self.line(&format!("let mut {tw} = 0.0_f64;"));
        let carried = self.declare_carried();
        self.top().floats.push(Float { name: tw.clone(), mag: lim + 1.5, lb: 0.0, kind: Kind::Plain });
        self.line(&format!("while {tw} < {lim:?} {{"));
        self.push(trips);
        self.top().lp = 2;
        let step = self.expr(2);
        self.line(&format!("{tw} += 0.5 + sigmoid({});", step.s));
        let mut slots = vec![true];
        slots.resize(2 + self.rng.below(2), false);
        let j = self.rng.below(slots.len());
        slots.swap(0, j);
        for s in slots {
            if s {
                self.update(carried, None);
            } else {
                self.statement();
            }
        }
        self.frames.pop();
        self.line("}");
        if self.rng.chance(0.85) {
            self.read_after(carried);
        }
    }

    /// `loop { ..; c += 1.0; if c > 2.5 { ..; break; } .. }`: three iterations counted in a float.
    fn loop_break(&mut self) {
        self.whiles = true;
        self.features.insert("loop with break after a count");
        let lc = self.name("lc");
        self.line(&format!("let mut {lc}: f64 = 0.0;"));
        let carried = self.declare_carried();
        self.line("loop {");
        self.push(3);
        self.top().lp = 1;
        if self.rng.chance(0.5) {
            self.statement();
        }
        self.update(carried, None);
        self.line(&format!("{lc} += 1.0;"));
        self.line(&format!("if {lc} > 2.5 {{"));
        self.push(1);
        if self.rng.chance(0.5) {
            self.branch_statement();
        }
        self.line("break;");
        self.frames.pop();
        self.line("}");
        if self.rng.chance(0.5) {
            self.statement();
        }
        self.frames.pop();
        self.line("}");
        if self.rng.chance(0.85) {
            self.read_after(carried);
        }
    }

    /// `let mut buf = vec![0.0; len];` (len from `n`, `m`, `x.len()`) or `x.to_vec()`, filled by a
    /// loop over `buf.len()`, then read.
    fn scratch(&mut self) {
        let name = self.name("buf");
        let (text, len, maxlen, mag) = match self.rng.below(7) {
            0 => ("vec![0.0_f64; n]".to_string(), 2, 3, 0.0),
            1 => ("vec![0.0_f64; x.len()]".to_string(), LX, LX, 0.0),
            2 => ("vec![0.0_f64; n + 1]".to_string(), 3, 4, 0.0),
            3 => ("vec![0.0_f64; 2 * n]".to_string(), 4, 6, 0.0),
            4 => ("vec![0.0_f64; x.len() - n]".to_string(), 3, 4, 0.0),
            5 => ("vec![0.0_f64; m + 1]".to_string(), 1, 3, 0.0),
            _ => {
                let src = if self.rng.chance(0.7) { "x" } else { "w" };
                (format!("{src}.to_vec()"), if src == "x" { LX } else { LW }, if src == "x" { LX } else { LW }, 1.5)
            }
        };
        self.features.insert(if text.starts_with("vec!") {
            "scratch buffer vec![0.0; n]"
        } else {
            "x.to_vec() buffer"
        });
        self.line(&format!("let mut {name} = {text};"));
        self.top().arrays.push(Array { name: name.clone(), len, maxlen, writable: true, mag });
        if self.trips() * maxlen <= MAX_TRIPS && (mag == 0.0 || self.rng.chance(0.5)) {
            let q = self.name("i");
            self.line(&format!("for {q} in 0..{name}.len() {{"));
            self.push(maxlen);
            self.top().lp = 1;
            self.top().ints.push(Int { name: q.clone(), max: maxlen - 1 });
            let v = self.expr(2);
            let op = if mag > 0.0 && self.rng.chance(0.5) { "*=" } else { "=" };
            let v = if op == "*=" { e(format!("({}).tanh()", v.s), 1.0) } else { v };
            self.line(&format!("{name}[{q}] {op} {};", v.s));
            self.frames.pop();
            self.line("}");
            let level = self.frames.len() - 1;
            let k = self.frames[level].arrays.len() - 1;
            self.frames[level].arrays[k].mag = if op == "*=" { mag } else { v.mag };
        }
        let i = self.index(len);
        let m = self.top().arrays.last().unwrap().mag;
        let r = e(format!("{name}[{i}]"), m);
        let muts = self.mutables();
        if muts.is_empty() || self.rng.chance(0.3) {
            let t = self.name("t");
            self.line(&format!("let {t} = {};", r.s));
            self.top().floats.push(Float { name: t, mag: m, lb: 0.0, kind: Kind::Plain });
        } else {
            let at = *self.rng.pick(&muts);
            self.update(at, Some(r));
        }
    }

    /// An iterator idiom over float arrays, or a float array read at an index from an integer array.
    pub(super) fn ext_leaf(&mut self) -> Option<E> {
        if self.rng.chance(0.35) {
            self.features.insert("float array indexed by an integer array");
            let s = match self.rng.below(5) {
                0 => format!("x[idx[{}] as usize]", self.index(LX)),
                1 => format!("w[labels[{}] as usize]", self.index(LABELS.0)),
                2 => format!("w[par[{}]]", self.index(4)),
                3 => format!("x[obs[{}][0]]", self.index(OBS.0)),
                _ => format!("w[obs[{}][1]]", self.index(OBS.0)),
            };
            return Some(e(s, 1.5));
        }
        if self.in_closure {
            return None;
        }
        // Sources: the arguments and the float arrays in scope.
        let mut arrays: Vec<(String, String, usize, f64)> =
            vec![("x".into(), "x".into(), LX, 1.5), ("w".into(), "w".into(), LW, 1.5)];
        for a in self.arrays() {
            if a.name != "x" && a.name != "w" {
                arrays.push((a.name.clone(), format!("{}.iter()", a.name), a.maxlen, a.mag.max(0.1)));
            }
        }
        let (src, _, len, amag) = self.rng.pick(&arrays).clone();
        let closure = |g: &mut Gen, elems: Vec<(String, f64)>, depth: u32| -> E {
            g.in_closure = true;
            g.push(1);
            g.top().elems = elems;
            let body = g.expr(depth);
            g.frames.pop();
            g.in_closure = false;
            body
        };
        let r = match self.rng.below(6) {
            0 | 1 => {
                self.features.insert("zip/map/sum iterator");
                let (other, _, olen, omag) = self.rng.pick(&arrays).clone();
                let zip = if other == "x" || other == "w" {
                    if self.rng.chance(0.5) {
                        other.clone()
                    } else {
                        format!("{other}.iter()")
                    }
                } else if self.rng.chance(0.5) {
                    format!("&{other}")
                } else {
                    format!("{other}.iter()")
                };
                let n = len.min(olen) as f64;
                if self.rng.chance(0.4) {
                    e(format!("{src}.iter().zip({zip}).map(|(p, q)| p * q).sum::<f64>()"), n * amag * omag)
                } else {
                    let body = closure(self, vec![("p".into(), amag), ("q".into(), omag)], 2);
                    e(format!("{src}.iter().zip({zip}).map(|(&p, &q)| {}).sum::<f64>()", body.s), n * body.mag)
                }
            }
            2 => {
                self.features.insert("map/sum iterator");
                if self.rng.chance(0.3) {
                    e(format!("{src}.iter().map(|v| v * v).sum::<f64>()"), len as f64 * amag * amag)
                } else {
                    let body = closure(self, vec![("v".into(), amag)], 2);
                    e(format!("{src}.iter().map(|&v| {}).sum::<f64>()", body.s), len as f64 * body.mag)
                }
            }
            3 => {
                self.features.insert("map/product iterator");
                let body = closure(self, vec![("v".into(), amag)], 1);
                e(
                    format!("{src}.iter().map(|&v| 0.75 + 0.5 * sigmoid({})).product::<f64>()", body.s),
                    1.25f64.powi(len as i32),
                )
            }
            4 => {
                self.features.insert("fold iterator");
                let c = *self.rng.pick(&["0.5", "-0.5", "0.25"]);
                let body = closure(self, vec![("v".into(), amag)], 1);
                e(format!("{src}.iter().fold(0.0, |acc, &v| acc * {c} + {})", body.s), 2.0 * body.mag)
            }
            _ => {
                self.features.insert("copied().fold(f64::MIN, f64::max)");
                e(format!("{src}.iter().copied().fold(f64::MIN, f64::max)"), amag)
            }
        };
        Some(if r.mag > 30.0 { e(format!("({}).tanh()", r.s), 1.0) } else { r })
    }
}

/// One argument point of a program with the constructs: the floats and scalars of `super::points`
/// and the integer arrays.
pub fn inputs(p: &super::Point, ints: &IntArrays, floats: &[f64]) -> Vec<Input> {
    let mut v = super::inputs(p, floats);
    let f = |xs: &[usize]| xs.iter().map(|x| *x as f64).collect::<Vec<f64>>();
    let obs: Vec<usize> = ints.obs.iter().flatten().copied().collect();
    v.push(Input::A(f(&obs), vec![ints.obs.len(), 2]));
    v.push(Input::A(f(&ints.par), vec![4]));
    v.push(Input::A(ints.labels.iter().map(|x| *x as f64).collect(), vec![ints.labels.len()]));
    v.push(Input::A(ints.idx.iter().map(|x| *x as f64).collect(), vec![LX]));
    v
}

/// Why the interpreter cannot run a program (the compiled tests still cover it), or `None`.
pub fn interpreter_limit(error: &str, source: &str) -> Option<&'static str> {
    if error.contains("dynamic local") {
        Some("scratch buffer sized at run time")
    } else if error.contains("index Some(F(") {
        Some("integer array read as an index")
    } else if error.contains("does not know the constant `MIN`") {
        Some("f64::MIN")
    } else if error.contains("expected a number, found a bool") && source.contains("match flag") {
        Some("match on a bool (`==` on bools)")
    } else {
        None
    }
}

/// Interprets program `seed` with the constructs at its points, as `check_interpreted` does.
pub fn check_interpreted(seed: u64) -> Result<(usize, usize), String> {
    let prog = program_constructs(seed);
    let tokens: proc_macro2::TokenStream = prog.source.parse().map_err(|e| format!("{e:?}"))?;
    let attr: proc_macro2::TokenStream = prog.attr.trim_start_matches('(').trim_end_matches(')').parse().unwrap();
    let (f, d) = super::pipeline(attr, tokens).map_err(|e| format!("lowering: {e}"))?;
    let (mut compared, mut skipped) = (0, 0);
    for (k, p) in super::points(seed).into_iter().enumerate() {
        let ints = int_arrays(seed, k);
        let at = |floats: &[f64]| inputs(&p, &ints, floats);
        let (value, grads) = eval::value_and_gradients(&f, &d, &at(&p.floats))?;
        let forward = eval::value_of(&f, &at(&p.floats))?;
        if value.to_bits() != forward.to_bits() {
            return Err(format!("value {value} differs from the forward sweep's {forward}"));
        }
        if !value.is_finite() || value.abs() > 1e4 {
            skipped += p.floats.len();
            continue;
        }
        let flat: Vec<f64> = grads[..4].concat();
        if flat.len() != p.floats.len() {
            return Err(format!("{} gradient components for {} floats", flat.len(), p.floats.len()));
        }
        for i in 0..p.floats.len() {
            let fd = |h: f64| -> Result<f64, String> {
                let (mut up, mut down) = (p.floats.clone(), p.floats.clone());
                up[i] += h;
                down[i] -= h;
                Ok((eval::value_of(&f, &at(&up))? - eval::value_of(&f, &at(&down))?) / (2.0 * h))
            };
            let h = 1e-5 * (1.0 + p.floats[i].abs());
            let (full, half) = (fd(h)?, fd(h / 2.0)?);
            if !full.is_finite() || (full - half).abs() > 1e-4 * (1.0 + full.abs()) {
                skipped += 1;
                continue;
            }
            compared += 1;
            let r = (4.0 * half - full) / 3.0;
            if (flat[i] - r).abs() > 1e-5 * (1.0 + r.abs()) {
                return Err(format!("component {i} at {p:?}: backward sweep {} vs finite difference {r}", flat[i]));
            }
        }
    }
    Ok((compared, skipped))
}

/// Interpreted: the programs with the constructs of the compiled files' seeds
/// (`BACKPROP_CONSTRUCT_CASES` more from seed 2000). Programs the interpreter cannot run (scratch
/// buffers sized at run time, integer arrays read as indices) are counted and skipped: the compiled
/// tests cover them.
#[test]
fn random_constructs_match_finite_differences_interpreted() {
    let cases = std::env::var("BACKPROP_CONSTRUCT_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(100u64);
    let (mut compared, mut skipped, mut ran) = (0, 0, 0);
    let mut limits: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut failures = Vec::new();
    for seed in 2000..2000 + cases {
        match check_interpreted(seed) {
            Ok((c, s)) => {
                ran += 1;
                compared += c;
                skipped += s;
            }
            Err(e) => match interpreter_limit(&e, &program_constructs(seed).source) {
                Some(why) => *limits.entry(why).or_default() += 1,
                None => failures.push(format!("seed {seed}: {e}\n{}", program_constructs(seed).source)),
            },
        }
    }
    let skipped_programs: usize = limits.values().sum();
    println!(
        "{ran} of {cases} programs interpreted, {skipped_programs} skipped (the interpreter cannot run them: {limits:?}); \
         {compared} derivatives compared, {skipped} skipped"
    );
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(ran >= cases as usize / 5, "only {ran} of {cases} programs interpreted");
    assert!(compared > 9 * (compared + skipped) / 10, "only {compared} of {} derivatives compared", compared + skipped);
}

/// Lists every program with the constructs the interpreter fails on, with its source:
/// `BACKPROP_CONSTRUCT_CASES=300 cargo test -p backprop-codegen list_interpreted_construct_failures -- --ignored --nocapture`.
#[test]
#[ignore]
fn list_interpreted_construct_failures() {
    let cases = std::env::var("BACKPROP_CONSTRUCT_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(100u64);
    for seed in 2000..2000 + cases {
        if let Err(e) = check_interpreted(seed) {
            let source = program_constructs(seed).source;
            println!("=== seed {seed} ({:?}): {e}\n{source}", interpreter_limit(&e, &source));
        }
    }
}

/// Prints one program with the constructs: `BACKPROP_SEED=2003 cargo test -p backprop-codegen
/// print_construct_program -- --ignored --nocapture`.
#[test]
#[ignore]
fn print_construct_program() {
    let seed = std::env::var("BACKPROP_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(2000u64);
    let p = program_constructs(seed);
    println!("#[backprop{}]\n{}", p.attr, p.source);
}

#[test]
fn constructs_leave_the_loop_nest_programs_unchanged_and_appear() {
    // The generator draws for the constructs only with `ext` on: `program` is what it was.
    let p = super::program(0);
    for word in ["match", "while", "loop", "obs", "vec!", "zip"] {
        assert!(!p.source.contains(word), "{word} in program 0:\n{}", p.source);
    }
    let mut seen = std::collections::BTreeSet::new();
    for seed in 2000..2060 {
        seen.extend(program_constructs(seed).features);
    }
    for f in [
        "integer array read as an index",
        "float array indexed by an integer array",
        "tuple",
        "deferred let assigned in every branch",
        "match as a value",
        "match as a statement",
        "while: Newton steps to a tolerance",
        "while: fixed point to a tolerance",
        "while: halving until small",
        "while: sum of steps until a limit",
        "loop with break after a count",
        "break",
        "continue",
        "zip/map/sum iterator",
        "map/sum iterator",
        "map/product iterator",
        "fold iterator",
        "copied().fold(f64::MIN, f64::max)",
        "for (x, y) in a.iter().zip(b) loop",
        "scratch buffer vec![0.0; n]",
        "x.to_vec() buffer",
    ] {
        assert!(seen.contains(f), "no program of seeds 2000..2060 has `{f}`");
    }
}
