//! `.safetensors` with `#[backprop]`'s generated gradient structs: one tensor per argument with
//! the argument's shape, read off the generated `Params` impl, and a bit-exact round trip.

use backprop::params::{to_vec, TensorInfo};
use backprop::prelude::*;
use backprop::{load_safetensors, save_safetensors, Error};

#[backprop(wrt(w, b, s))]
fn layer(w: &[[f64; 3]; 2], b: &[f64; 2], s: f64, x: &[f64; 3]) -> f64 {
    let mut total = 0.0;
    for j in 0..2 {
        let mut z = b[j];
        for i in 0..3 {
            z += w[j][i] * x[i];
        }
        total += s * z.tanh();
    }
    total
}

/// A fresh path in the system temp dir, unique per test name and process; the file is removed when
/// the returned guard drops, so test runs leave nothing behind.
fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join("backprop-tests");
    // Creation failing shows up as a clear write error in the test that uses the path.
    let _ = std::fs::create_dir_all(&dir);
    Scratch(dir.join(format!("weights-{}-{name}", std::process::id())))
}

/// A scratch file's path, deleted on drop.
struct Scratch(std::path::PathBuf);

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

#[test]
fn a_generated_gradient_struct_is_one_tensor_per_argument() {
    let (_, g) = layer_grad(&[[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], &[0.01, -0.02], 1.5, &[1.0, 2.0, 3.0]);
    let tensor = |name: &str, shape: &[usize], range: std::ops::Range<usize>| TensorInfo {
        name: name.into(),
        shape: shape.to_vec(),
        range,
    };
    assert_eq!(g.tensors(""), vec![tensor("w", &[2, 3], 0..6), tensor("b", &[2], 6..8), tensor("s", &[], 8..9)]);

    let path = scratch("layer.safetensors");
    save_safetensors(&g, &path).unwrap();
    let (_, mut back) = layer_grad(&[[0.0; 3]; 2], &[0.0; 2], 0.0, &[0.0; 3]);
    load_safetensors(&mut back, &path).unwrap();
    let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
    assert_eq!(bits(to_vec(&back)), bits(to_vec(&g)));
    assert_ne!(to_vec(&g), vec![0.0; 9]);
}

#[test]
fn weights_of_another_shape_are_refused_by_field() {
    #[backprop]
    fn wide(w: &[[f64; 4]; 2], b: &[f64; 2]) -> f64 {
        w[0][0] * b[0] + w[1][3] * b[1]
    }
    let (_, g) = wide_grad(&[[1.0; 4]; 2], &[2.0; 2]);
    let path = scratch("wide.safetensors");
    save_safetensors(&g, &path).unwrap();
    let (_, mut narrow) = layer_grad(&[[0.0; 3]; 2], &[0.0; 2], 0.0, &[0.0; 3]);
    let before = to_vec(&narrow);
    match load_safetensors(&mut narrow, &path) {
        Err(Error::TensorShape { tensor, expected, found, .. }) => {
            assert_eq!((tensor.as_str(), expected, found), ("w", vec![2, 3], vec![2, 4]));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(to_vec(&narrow), before);
}
