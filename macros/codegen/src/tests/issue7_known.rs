//! Known failures of the random loop-nest tests. The loop nests of issue 7 all pass, compiled
//! and interpreted (issue 7 fixed 396 of 520 compiled programs and 104 of 300 interpreted ones that
//! failed). A failure found later is listed here only while its fix is under way, with its class,
//! so the committed suite stays green without losing sight of it; regenerating with
//! `BACKPROP_NO_IGNORES=1` (see `random_nests.rs`) ignores the lists.

/// Compiled functions (`nest_<seed>` in `tests/random_nests_*.rs`, `tests/random_wide_*.rs`) and why
/// they fail: a class starting with `compile` excludes the function (`#[cfg(any())]`), any other
/// class marks its test `#[ignore]`.
pub const COMPILED: &[(&str, &str)] = &[
    // Issue 10: a `break` of a loop is lost when an inner loop of its body has a `break` (or is a
    // `loop`) before it: the gradient function's value and gradient are those without the outer
    // `break`. Minimal: `for j in 0..4 { for k in 0..3 { s += x; if k == 1 { break; } } if m == 0 { break; } }`.
    ("nest_2025", "value: outer break lost after an inner loop with break"),
    ("nest_2042", "value: outer break lost after an inner loop with break"),
    ("nest_3027", "value: outer break lost after an inner loop with break"),
    ("nest_3031", "value: outer break lost after an inner loop with break (the gradient function never ends)"),
    ("nest_3090", "value: outer break lost after an inner loop with break"),
    ("nest_3110", "value: outer break lost after an inner loop with break"),
    ("nest_3112", "value: outer break lost after an inner loop with break"),
    ("nest_3128", "value: outer break lost after an inner loop with break"),
    ("nest_3183", "value: outer break lost after an inner loop with break"),
    // Issue 10: a `continue` in a loop two levels inside a loop that has its own `continue` makes
    // the expansion an internal error ("`skip` is used outside the scope of its binding").
    // Minimal: `for k in 0..4 { let mut q = 0.5; for j in 0..2 { for i in 0..2 { if m == 1 {
    // continue; } q += x[i]; } } if a > 0.0 { continue; } s += q; }`.
    ("nest_3008", "compile: internal error, skip flag out of scope (nested continue)"),
];

/// Seeds whose interpreted backward sweep fails (`random_nests_match_finite_differences_interpreted`).
pub const INTERPRETED: &[u64] = &[];
