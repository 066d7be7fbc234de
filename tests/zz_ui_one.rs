#[test]
fn ui_one() {
    let t = trybuild::TestCases::new();
    for f in std::env::var("UI_ONE").unwrap().split(',') {
        t.compile_fail(f);
    }
}
