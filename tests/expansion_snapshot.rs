//! The generated code of the lesson's example, pinned: a change to the emitter shows up as a diff of
//! `tests/expand/lesson.expanded.rs`. Regenerate with `BACKPROP_BLESS=1 cargo test --test expansion_snapshot`.

use std::path::Path;

const LESSON: &str = "
pub fn cost(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
    let a1 = w1 * a0;
    let a2 = w2 * a1;
    let a3 = w3 * a2;
    (a3 - y).powi(2)
}";

fn expanded(source: &str) -> String {
    let item = source.parse().expect("the example tokenizes");
    let tokens = backprop_codegen::expand(proc_macro2::TokenStream::new(), item);
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as Rust");
    prettyplease::unparse(&file)
}

#[test]
fn lesson_expansion_matches_snapshot() {
    let actual = expanded(LESSON);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand/lesson.expanded.rs");
    if std::env::var_os("BACKPROP_BLESS").is_some() {
        std::fs::write(&path, &actual).expect("write snapshot");
    }
    let expected = std::fs::read_to_string(&path).expect("snapshot exists; run with BACKPROP_BLESS=1 to create it");
    assert_eq!(actual, expected, "expansion changed; review and bless with BACKPROP_BLESS=1");
}
