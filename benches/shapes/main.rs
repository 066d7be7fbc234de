//! Argument-shape benchmarks (issue 7): the same objectives written over fixed arrays, `&[f64]`,
//! `&Vec<f64>` and nested arrays, each `#[backprop]` gradient against a hand-written gradient of the
//! same shape and return convention, so a slowdown that only one shape has shows up.
//!
//! | objective | shapes | forms |
//! | --- | --- | --- |
//! | extended Rosenbrock, n = 1000 | `&[f64; N]`, `&[f64]`, `&Vec<f64>` | `_grad`, `_grad_acc` |
//! | depth-100 sigmoid chain `a = σ(w[l] a + b[l])`, cost `(a − y)²` | `&[f64; 100]`, `&[f64]`, `&Vec<f64>` | `_grad`, `_grad_acc` |
//! | 64-32-10 sigmoid network, one sample | nested arrays, flat `&[f64]` (`w1[j * 64 + i]`), flat `&Vec<f64>` | `_grad`, `_grad_acc` |
//! | the same network, batch of 256 | nested arrays, flat `&[f64]`: a loop over samples in the cost (`_grad`), and a sum of per-sample `_grad_acc` calls | |
//!
//! `hand` is a competent hand-written reverse sweep in plain indexed loops. Its `_grad` form
//! allocates and returns its gradient as the generated `_grad` does (an array by value, or `Vec`s
//! for slice arguments); its accumulating form adds into a caller's buffer as `_grad_acc` does.
//! Every benchmarked function is called through an `#[inline(never)]` wrapper (`hand_*`, `gen_*`),
//! so the instruction counts and the disassembly of each are easy to find.
//!
//! Before anything is timed, [`verify`] checks every gradient, hand-written and generated, against
//! central finite differences of its cost at a few coordinates, and every accumulating form
//! against its `_grad`.
//!
//! ```text
//! cargo bench --bench shapes                                                # criterion, then the ratio table
//! cargo bench --bench shapes -- --warm-up-time 1 --measurement-time 2       # quick mode (≈ 7 min on 2 busy cores)
//! SHAPES_TABLE_ONLY=1 cargo bench --bench shapes                            # only the ratio table (≈ 20 s)
//! bash benches/shapes_callgrind.sh                                          # instructions per call (valgrind)
//! ```
//!
//! The ratio table times hand-written and generated in alternating short rounds (the order flipping
//! every round) and reports the median of the per-round ratios, so load from other processes on a
//! shared machine cancels out. `SHAPES_CALLGRIND=<case>/<hand|generated>` runs one case a fixed number
//! of times inside `measure`, for `valgrind --tool=callgrind --toggle-collect='*shapes::measure*'`
//! (what `shapes_callgrind.sh` does); `SHAPES_LIST=1` prints the case names.

// The costs are written with indexed loops, the form `#[backprop]` differentiates, and the
// hand-written gradients mirror them; `&Vec<f64>` arguments are one of the shapes under test.
#![allow(clippy::needless_range_loop, clippy::ptr_arg, clippy::type_complexity)]

use std::hint::black_box;

use backprop::prelude::*;
use criterion::Criterion;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

#[macro_use]
#[path = "../common/timing.rs"]
mod timing;
mod cases;
mod chain;
mod network;
mod rosenbrock;
mod verify;

use cases::*;
use chain::*;
use network::*;
use rosenbrock::*;
use timing::*;
use verify::*;

fn bench_criterion(c: &mut Criterion, cases: &mut [Case]) {
    for case in cases.iter_mut() {
        let mut group = c.benchmark_group(case.objective);
        group.bench_function(format!("{}/hand", case.shape), |b| b.iter(&mut case.hand));
        group.bench_function(format!("{}/generated", case.shape), |b| b.iter(&mut case.generated));
        group.finish();
    }
}

/// Every case through [`timing::interleaved`]: medians of per-round ratios, the ratio of each
/// side's fastest round, and the on-CPU ratio.
fn ratio_table(cases: &mut [Case]) {
    println!("\nInterleaved ratio table ({ROUNDS} rounds of ~10 ms each side; medians):\n");
    println!("| objective | shape | hand-written | generated | generated / hand | best / best | on-CPU ratio |");
    println!("|---|---|---|---|---|---|---|");
    for case in cases.iter_mut() {
        let c = interleaved(&mut case.hand, &mut case.generated);
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.2} | {:.2} |",
            case.objective,
            case.shape,
            format_time(c.hand),
            format_time(c.generated),
            c.ratio,
            c.best_ratio,
            c.cpu_ratio
        );
    }
}

/// The loop callgrind counts (`--toggle-collect='*shapes::measure*'`).
#[inline(never)]
fn measure(f: &mut dyn FnMut(), reps: usize) {
    for _ in 0..reps {
        f();
    }
}

fn main() {
    let d: &'static Data = Box::leak(Box::new(data()));
    let mut cases = cases(d);
    if std::env::var_os("SHAPES_LIST").is_some() {
        for case in &cases {
            println!("{} {}", case.name(), case.callgrind_reps);
        }
        return;
    }
    verify(d);
    if let Ok(which) = std::env::var("SHAPES_CALLGRIND") {
        let (name, side) = which.rsplit_once('/').expect("SHAPES_CALLGRIND=<objective>/<shape>/<hand|generated>");
        let case = cases.iter_mut().find(|c| c.name() == name).unwrap_or_else(|| panic!("no case {name}"));
        let reps = case.callgrind_reps;
        let f = match side {
            "hand" => &mut case.hand,
            "generated" => &mut case.generated,
            _ => panic!("{side}: expected hand or generated"),
        };
        f();
        measure(f, reps);
        println!("{which}: {reps} calls measured");
        return;
    }
    println!("verified: every hand-written and generated gradient matches finite differences");
    if std::env::var_os("SHAPES_TABLE_ONLY").is_none() {
        let mut c = Criterion::default().configure_from_args();
        bench_criterion(&mut c, &mut cases);
        c.final_summary();
    }
    ratio_table(&mut cases);
}
