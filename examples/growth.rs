//! How the generated code grows with the function: for scalar chains of N statements (default 10,
//! 100, 1,000 and 10,000) it measures the expansion time of `backprop_codegen::expand`, the number of
//! statements in the generated gradient function, the release build time of a crate containing the
//! chain, and the gradient's time per call, and prints a Markdown table with the ratio of each
//! column to the row above (10× the statements should cost about 10× everything).
//!
//! ```sh
//! cargo run --release --example growth                 # N = 10, 100, 1000, 10000
//! cargo run --release --example growth -- 10 100 1000  # chosen sizes
//! cargo run --release --example growth -- --reps 5     # repetitions per measurement (default 3)
//! cargo run --release --example growth -- --expand-only 10000  # the expansion alone, to profile it
//! ```
//!
//! The crates are written to `target/growth/<N>/` and share one target directory,
//! `target/growth/target`, so their dependencies (this workspace's `backprop` and its
//! dependencies, from the local registry cache: `--offline`) are built once, by a warm-up build of
//! a one-statement chain, before anything is timed. Each build is then timed as the wall time of
//! `cargo build --release` after rewriting `src/main.rs`, which recompiles that crate alone
//! (including `#[backprop]`'s expansion, which runs in the proc macro built by cargo's default
//! `build-override` profile, unoptimized). Each binary checks its gradient against central
//! differences before it times it, so a wrong gradient stops the run instead of being timed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use proc_macro2::TokenStream;

/// One row of the table.
struct Row {
    n: usize,
    expansion_ms: f64,
    statements: usize,
    build_s: f64,
    gradient_ns: f64,
    /// The original function alone, for scale.
    cost_ns: f64,
}

fn main() {
    let (sizes, reps, expand_only) = parse_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let growth_dir = target.join("growth");
    let shared_target = growth_dir.join("target");
    let started = Instant::now();

    // Warm-up: builds the dependencies once, so later builds time only the crate with the chain.
    let mut base_build = 0.0;
    if !expand_only {
        eprintln!("warm-up: building the dependencies in {}", shared_target.display());
        let base_dir = write_crate(root, &growth_dir, 1);
        build(&base_dir, &shared_target);
        let base_runs: Vec<f64> = (0..reps).map(|_| timed_rebuild(&base_dir, &shared_target)).collect();
        eprintln!("a crate with a 1-statement chain rebuilds in {} s", runs(&base_runs));
        base_build = median(base_runs);
    }

    let mut rows = Vec::new();
    for &n in &sizes {
        let source = chain_source(n);
        let tokens: TokenStream = source.parse().expect("the generated chain is valid Rust tokens");
        let mut expansion = TokenStream::new();
        let expansion_runs: Vec<f64> = (0..reps)
            .map(|_| {
                let t = Instant::now();
                expansion = backprop_codegen::expand(TokenStream::new(), tokens.clone());
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        let statements = gradient_statements(&expansion, "chain_grad");
        eprintln!("N = {n}: expansion {} ms, {statements} statements in chain_grad", runs(&expansion_runs));
        if expand_only {
            continue;
        }

        let dir = write_crate(root, &growth_dir, n);
        // The expansion, for reading (`#[doc]` strings included), next to the crate it was built in.
        let text = expansion.to_string();
        std::fs::write(dir.join("expansion.rs"), &text).expect("write expansion.rs");
        eprintln!("N = {n}: expansion is {} KB of tokens, {}/expansion.rs", text.len() / 1000, dir.display());
        let build_runs: Vec<f64> = (0..reps).map(|_| timed_rebuild(&dir, &shared_target)).collect();
        eprintln!("N = {n}: build {} s", runs(&build_runs));

        let call_runs: Vec<(f64, f64)> = (0..reps).map(|_| run_binary(&shared_target, n)).collect();
        let (gradient_runs, cost_runs): (Vec<f64>, Vec<f64>) = call_runs.into_iter().unzip();
        eprintln!("N = {n}: gradient {} ns/call, cost alone {} ns/call", runs(&gradient_runs), runs(&cost_runs));
        let (expansion_ms, build_s) = (median(expansion_runs), median(build_runs));
        let (gradient_ns, cost_ns) = (median(gradient_runs), median(cost_runs));
        rows.push(Row { n, expansion_ms, statements, build_s, gradient_ns, cost_ns });
    }

    if !expand_only {
        print_table(&rows, base_build, reps);
    }
    eprintln!("total time of this run: {:.0} s", started.elapsed().as_secs_f64());
}

/// Sizes (positional), `--reps K` and `--expand-only` (time the expansion, skip the crates: for
/// profiling the macro).
fn parse_args() -> (Vec<usize>, usize, bool) {
    let mut sizes = Vec::new();
    let mut reps = 3;
    let mut expand_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--expand-only" {
            expand_only = true;
        } else if arg == "--reps" {
            reps = args.next().and_then(|r| r.parse().ok()).filter(|&r| r > 0).expect("--reps takes a positive count");
        } else {
            sizes
                .push(arg.parse().unwrap_or_else(|_| {
                    panic!("not a size: {arg} (usage: growth [--reps K] [--expand-only] [N ...])")
                }));
        }
    }
    if sizes.is_empty() {
        sizes = vec![10, 100, 1_000, 10_000];
    }
    (sizes, reps, expand_only)
}

/// A scalar chain of `n` statements, cycling through five shapes so the chain has what real cost
/// functions have: products with a weight, fan-out (a value used by the next two statements, an
/// argument used by every fifth), float methods and activations. Every shape maps bounded values to
/// bounded values, so the cost and gradient stay finite at any length.
fn chain_source(n: usize) -> String {
    let mut body = String::from("let v0 = x;\n");
    for i in 1..=n {
        let (p, q) = (i - 1, i.saturating_sub(2));
        let statement = match i % 5 {
            0 => format!("let v{i} = (v{p} * w).sin() + v{p} * 0.5;"),
            1 => format!("let v{i} = sigmoid(v{p} * w + b) + v{q} * 0.25;"),
            2 => format!("let v{i} = v{p}.tanh() * 0.9 + x * 0.1;"),
            3 => format!("let v{i} = (v{p} * v{p} + 1.0).sqrt() - 0.5 * v{q};"),
            _ => format!("let v{i} = softplus(v{p} - b) * 0.5 - v{p} * 0.25;"),
        };
        body.push_str(&statement);
        body.push('\n');
    }
    format!("fn chain(x: f64, w: f64, b: f64) -> f64 {{\n{body}(v{n} - 1.0).powi(2)\n}}\n")
}

/// The statements of the generated function `name`, counted at every nesting level (the emitter
/// groups long blocks into chunks `let (..) = { ..; (..) };`, whose inner statements count too).
fn gradient_statements(expansion: &TokenStream, name: &str) -> usize {
    use syn::visit::Visit;
    struct Count(usize);
    impl<'a> Visit<'a> for Count {
        fn visit_stmt(&mut self, stmt: &'a syn::Stmt) {
            self.0 += 1;
            syn::visit::visit_stmt(self, stmt);
        }
    }
    let file: syn::File = syn::parse2(expansion.clone()).expect("the expansion parses as Rust items");
    assert!(!expansion.to_string().contains("compile_error"), "the chain did not expand: {expansion}");
    let grad = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Fn(f) if f.sig.ident == name => Some(f),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no function {name} in the expansion"));
    let mut count = Count(0);
    count.visit_block(&grad.block);
    count.0
}

/// Writes the crate for a chain of `n` statements into `growth_dir/<n>` and returns its directory.
fn write_crate(root: &Path, growth_dir: &Path, n: usize) -> PathBuf {
    let dir = growth_dir.join(n.to_string());
    std::fs::create_dir_all(dir.join("src")).expect("create the crate directory");
    // `[workspace]` makes the crate its own workspace root (it lies inside this workspace's tree);
    // the copied lock file pins the versions this workspace uses, so nothing is resolved afresh.
    let manifest = format!(
        "[package]\nname = \"growth-chain-{n}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nbackprop = {{ path = {root:?} }}\n\n[workspace]\n",
        root = root.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("write Cargo.toml");
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("copy Cargo.lock");
    std::fs::write(dir.join("src/main.rs"), main_source(n)).expect("write main.rs");
    dir
}

/// The crate's `main.rs`: the chain under `#[backprop]` and a `main` that checks the gradient
/// against central differences, then prints the median ns per call of `chain_grad` and of `chain`.
fn main_source(n: usize) -> String {
    format!(
        r#"//! Generated by `cargo run --release --example growth`: a chain of {n} statements.
#![allow(clippy::all)]
use backprop::prelude::*;
use std::hint::black_box;
use std::time::Instant;

#[backprop]
{chain}
fn main() {{
    let p = [0.7, 1.3, 0.1];
    let (c, g) = chain_grad(p[0], p[1], p[2]);
    assert_eq!(c.to_bits(), chain(p[0], p[1], p[2]).to_bits(), "chain_grad's cost is chain's");
    let f = |q: [f64; 3]| chain(q[0], q[1], q[2]);
    for (i, gi) in [g.x, g.w, g.b].into_iter().enumerate() {{
        let (mut hi, mut lo) = (p, p);
        hi[i] += 1e-6;
        lo[i] -= 1e-6;
        let fd = (f(hi) - f(lo)) / (hi[i] - lo[i]);
        assert!((gi - fd).abs() <= 1e-5 * (1.0 + fd.abs()), "gradient {{i}}: {{gi}} vs central differences {{fd}}");
    }}
    println!("{{}} {{}}", ns_per_call(|| chain_grad(black_box(p[0]), black_box(p[1]), black_box(p[2]))), ns_per_call(|| chain(black_box(p[0]), black_box(p[1]), black_box(p[2]))));
}}

/// Median over 9 batches of the time per call of `f`, in ns; a batch lasts about 20 ms, so the
/// timer's resolution does not matter.
fn ns_per_call<T>(f: impl Fn() -> T) -> f64 {{
    let mut calls = 1u64;
    loop {{
        let t = Instant::now();
        for _ in 0..calls {{
            black_box(f());
        }}
        if t.elapsed().as_secs_f64() > 0.02 {{
            break;
        }}
        calls *= 2;
    }}
    let mut batches: Vec<f64> = (0..9)
        .map(|_| {{
            let t = Instant::now();
            for _ in 0..calls {{
                black_box(f());
            }}
            t.elapsed().as_secs_f64() * 1e9 / calls as f64
        }})
        .collect();
    batches.sort_by(f64::total_cmp);
    batches[batches.len() / 2]
}}
"#,
        chain = chain_source(n)
    )
}

/// `cargo build --release` of the crate in `dir`; panics with cargo's output if it fails.
fn build(dir: &Path, target: &Path) -> Duration {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let t = Instant::now();
    let out = Command::new(cargo)
        .args(["build", "--release", "--offline", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("run cargo");
    let elapsed = t.elapsed();
    assert!(out.status.success(), "cargo build in {} failed:\n{}", dir.display(), String::from_utf8_lossy(&out.stderr));
    elapsed
}

/// Rewrites `src/main.rs` (a new modification time) and times the rebuild, in seconds.
fn timed_rebuild(dir: &Path, target: &Path) -> f64 {
    let main = dir.join("src/main.rs");
    let text = std::fs::read(&main).expect("read main.rs");
    std::fs::write(&main, text).expect("rewrite main.rs");
    build(dir, target).as_secs_f64()
}

/// Runs the built binary of the chain of `n` statements; returns its median ns per call of
/// `chain_grad` and of `chain`.
fn run_binary(target: &Path, n: usize) -> (f64, f64) {
    let exe = target.join("release").join(format!("growth-chain-{n}{}", std::env::consts::EXE_SUFFIX));
    let out = Command::new(&exe).output().expect("run the chain binary");
    assert!(out.status.success(), "{} failed:\n{}", exe.display(), String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let times: Vec<f64> = stdout.split_whitespace().filter_map(|t| t.parse().ok()).collect();
    let &[gradient, cost] = times.as_slice() else {
        panic!("{} printed {stdout:?}, not two times per call", exe.display())
    };
    (gradient, cost)
}

/// Every run, for the log: `[1.20, 1.31, 1.18]`.
fn runs(xs: &[f64]) -> String {
    let parts: Vec<String> = xs.iter().map(|x| format!("{x:.2}")).collect();
    format!("[{}]", parts.join(", "))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2.0
    }
}

/// `value (×ratio to the previous row)`.
fn cell(value: f64, previous: Option<f64>) -> String {
    match previous {
        Some(p) if p > 0.0 => format!("{} (×{:.1})", number(value), value / p),
        _ => number(value),
    }
}

/// Three significant digits or more: `1,234`, `56.7`, `8.90`, `0.12`; counts as integers: `46`.
fn number(x: f64) -> String {
    if x.abs() >= 100.0 || x.fract() == 0.0 {
        thousands(x.round() as i64)
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn print_table(rows: &[Row], base_build: f64, reps: usize) {
    println!(
        "| N | expansion (ms) | generated statements | build (s) | build − 1-statement crate (s) | gradient (ns/call) | gradient / cost |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut previous: Option<&Row> = None;
    for row in rows {
        let p = |f: fn(&Row) -> f64| previous.map(f);
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1} |",
            thousands(row.n as i64),
            cell(row.expansion_ms, p(|r| r.expansion_ms)),
            cell(row.statements as f64, p(|r| r.statements as f64)),
            cell(row.build_s, p(|r| r.build_s)),
            cell(row.build_s - base_build, p(|r| r.build_s).map(|b| b - base_build)),
            cell(row.gradient_ns, p(|r| r.gradient_ns)),
            row.gradient_ns / row.cost_ns,
        );
        previous = Some(row);
    }
    println!();
    println!(
        "(×k: ratio to the row above. Medians of {reps} runs; a crate with a 1-statement chain rebuilds in \
         {base_build:.2} s; gradient / cost: time of `chain_grad` over time of `chain`. {}, {} cores \
         available, possibly shared with other work.)",
        std::env::consts::ARCH,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}

/// `10000` → `10,000`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}
