//! Shared fixtures: a parameter struct shaped like the ones `#[backprop]` generates, a small
//! regression data set, and scratch files.

use backprop_runtime::Params;

/// `y = w0 x0 + w1 x1 + b` with a hand-written `Params` impl, field by field, as the macro
/// generates for its gradient structs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Linear {
    pub w: [f64; 2],
    pub b: f64,
}

impl Params for Linear {
    type Scalar = f64;
    fn num_params(&self) -> usize {
        self.w.num_params() + self.b.num_params()
    }
    fn visit(&self, f: &mut dyn FnMut(f64)) {
        self.w.visit(f);
        self.b.visit(f);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut f64)) {
        self.w.visit_mut(f);
        self.b.visit_mut(f);
    }
    fn describe(&self, index: usize, prefix: &str) -> String {
        let field = |name: &str| {
            if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}.{name}")
            }
        };
        if index < 2 {
            self.w.describe(index, &field("w"))
        } else {
            self.b.describe(index - 2, &field("b"))
        }
    }
}

/// One sample: inputs and target.
pub type Sample = ([f64; 2], f64);

/// Squared error of one sample and its gradient.
pub fn squared_error(p: &Linear, (x, y): &Sample) -> (f64, Linear) {
    let r = p.w[0] * x[0] + p.w[1] * x[1] + p.b - y;
    (r * r, Linear { w: [2.0 * r * x[0], 2.0 * r * x[1]], b: 2.0 * r })
}

/// `n` noisy samples of `y = 2 x0 - 3 x1 + 0.5`, from a fixed arithmetic sequence (no RNG, so
/// the data never changes under the tests).
pub fn data(n: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let x0 = ((i * 37) % 101) as f64 / 50.0 - 1.0;
            let x1 = ((i * 53) % 97) as f64 / 48.0 - 1.0;
            let noise = (((i * 71) % 13) as f64 - 6.0) * 1e-3;
            ([x0, x1], 2.0 * x0 - 3.0 * x1 + 0.5 + noise)
        })
        .collect()
}

/// A fresh path in the system temp dir, unique per test name and process; the file is removed when
/// the returned guard drops, so test runs leave nothing behind.
pub fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join("backprop-tests");
    // Creation failing shows up as a clear write error in the test that uses the path.
    let _ = std::fs::create_dir_all(&dir);
    Scratch(dir.join(format!("runtime-{}-{name}", std::process::id())))
}

/// A scratch file's path, deleted on drop.
pub struct Scratch(std::path::PathBuf);

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for Scratch {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
