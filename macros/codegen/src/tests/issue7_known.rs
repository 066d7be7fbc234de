//! Known failures of the random loop-nest tests. The loop nests of issue 7 all pass, compiled
//! and interpreted (issue 7 fixed 396 of 520 compiled programs and 104 of 300 interpreted ones that
//! failed). A failure found later is listed here only while its fix is under way, with its class,
//! so the committed suite stays green without losing sight of it; regenerating with
//! `BACKPROP_NO_IGNORES=1` (see `random_nests.rs`) ignores the lists.

/// Compiled functions (`nest_<seed>` in `tests/random_nests_*.rs`, `tests/random_wide_*.rs`) and why
/// they fail: a class starting with `compile` excludes the function (`#[cfg(any())]`), any other
/// class marks its test `#[ignore]`.
pub const COMPILED: &[(&str, &str)] = &[];

/// Seeds whose interpreted backward sweep fails (`random_nests_match_finite_differences_interpreted`).
pub const INTERPRETED: &[u64] = &[];
