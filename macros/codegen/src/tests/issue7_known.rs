//! Known failures of the random loop-nest tests on this branch (issue 7), so the committed suite
//! stays green while the emitter is being fixed. Once fixed, empty these lists (or regenerate with
//! `BACKPROP_NO_IGNORES=1`, see `random_nests.rs`) and the tests cover these programs again.

/// Compiled functions (`nest_<seed>` in `tests/random_nests_*.rs`, `tests/random_wide_*.rs`) and why
/// they fail: a class starting with `compile` excludes the function (`#[cfg(any())]`), any other
/// class marks its test `#[ignore]`.
pub const COMPILED: &[(&str, &str)] = &[];

/// Seeds whose interpreted backward sweep fails (`random_nests_match_finite_differences_interpreted`).
pub const INTERPRETED: &[u64] = &[];
