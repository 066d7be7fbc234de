//! Compile-fail cases: every construct `#[backprop]` rejects gets a spanned error saying what is
//! supported instead. The expected compiler output is committed next to each case
//! (`tests/ui/*.stderr`); regenerate with `TRYBUILD=overwrite cargo test --test compile_fail`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
