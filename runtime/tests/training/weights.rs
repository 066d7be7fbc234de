//! `.safetensors` weights: bit-exact round trips of `f64` and `f32` parameters, files written by
//! hand from the format's specification (as another framework would write them), and every
//! mismatch reported by name without touching the parameters.

use backprop_runtime::params::{describe_fields, to_vec};
use backprop_runtime::{load_safetensors, save_safetensors, Error, Float, Params};

use crate::common::{scratch, Linear};

/// A two-layer network shaped like the digits example's, generic over the scalar and the
/// hidden width, with `describe` through `describe_fields` and the default `tensors`, exactly
/// as `#[backprop]`'s generated gradient structs implement `Params`.
#[derive(Debug, Clone, PartialEq)]
struct Net<F, const H: usize> {
    w1: [[F; 3]; H],
    b1: [F; H],
    w2: Vec<F>,
    scale: F,
}

impl<F: Float + Params<Scalar = F>, const H: usize> Net<F, H> {
    fn zeros() -> Self {
        let z = F::of_f64(0.0);
        Net { w1: [[z; 3]; H], b1: [z; H], w2: vec![z; H], scale: z }
    }

    /// Values that a lossy path would change: signed zeros, subnormals, extremes, and
    /// digits that need every mantissa bit.
    fn awkward() -> Self {
        let mut net = Self::zeros();
        let specials = [-0.0, 5e-324, 1e-310, f64::MAX, -1.0 / 3.0, std::f64::consts::PI, 1e-45, -2.5e38];
        let mut k = 0;
        net.visit_mut(&mut |x| {
            *x = F::of_f64(specials[k % specials.len()] * (1.0 + k as f64 * 1e-9));
            k += 1;
        });
        net
    }
}

impl<F: Float + Params<Scalar = F>, const H: usize> Params for Net<F, H> {
    type Scalar = F;
    fn num_params(&self) -> usize {
        self.w1.num_params() + self.b1.num_params() + self.w2.num_params() + 1
    }
    fn visit(&self, f: &mut dyn FnMut(F)) {
        self.w1.visit(f);
        self.b1.visit(f);
        self.w2.visit(f);
        f(self.scale);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut F)) {
        self.w1.visit_mut(f);
        self.b1.visit_mut(f);
        self.w2.visit_mut(f);
        f(&mut self.scale);
    }
    fn describe(&self, index: usize, prefix: &str) -> String {
        describe_fields(&[("w1", &self.w1), ("b1", &self.b1), ("w2", &self.w2), ("scale", &self.scale)], index, prefix)
    }
}

fn bits<P: Params>(p: &P) -> Vec<u64> {
    to_vec(p).into_iter().map(|x| x.as_f64().to_bits()).collect()
}

/// A safetensors file assembled by hand from the specification: 8-byte little-endian header
/// length, the JSON header, then the tensors' little-endian bytes.
fn handmade(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

#[test]
fn f64_and_f32_parameters_round_trip_bit_for_bit() {
    let path = scratch("net64.safetensors");
    let net = Net::<f64, 4>::awkward();
    save_safetensors(&net, &path).unwrap();
    let mut back = Net::<f64, 4>::zeros();
    load_safetensors(&mut back, &path).unwrap();
    assert_eq!(bits(&back), bits(&net));
    assert!(back.w1[0][0].is_sign_negative() && back.w1[0][0] == 0.0);

    let path = scratch("net32.safetensors");
    let net = Net::<f32, 5>::awkward();
    save_safetensors(&net, &path).unwrap();
    let mut back = Net::<f32, 5>::zeros();
    load_safetensors(&mut back, &path).unwrap();
    assert_eq!(bits(&back), bits(&net));
    // F32 is stored as 4 bytes per scalar: 8-byte length, header, then 5*3 + 5 + 5 + 1 floats.
    let len = std::fs::metadata(&path).unwrap().len();
    let bytes = std::fs::read(&path).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    assert_eq!(len, 8 + header_len + 4 * 26);
}

#[test]
fn the_file_holds_one_tensor_per_field_with_its_shape() {
    let path = scratch("layout.safetensors");
    let net = Net::<f64, 2>::awkward();
    save_safetensors(&net, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
    // The JSON header, read as text: every field with dtype and shape, and nothing else.
    for (name, shape) in [("w1", "[2,3]"), ("b1", "[2]"), ("w2", "[2]"), ("scale", "[]")] {
        let entry = header.split(&format!("\"{name}\":")).nth(1).unwrap_or_else(|| panic!("{name} in {header}"));
        let entry = &entry[..entry.find('}').unwrap()];
        assert!(entry.contains("\"dtype\":\"F64\""), "{name}: {entry}");
        assert!(entry.contains(&format!("\"shape\":{shape}")), "{name}: {entry}");
    }
    assert_eq!(header.matches("\"dtype\"").count(), 4, "{header}");
}

#[test]
fn a_file_written_by_another_framework_loads() {
    // What `safetensors.torch.save_file({"w": torch.tensor([1.5, -2.0]), "b": torch.tensor(0.25)})`
    // writes for float32 tensors, here into `f64` parameters (widening is exact).
    let mut data = Vec::new();
    for x in [0.25_f32, 1.5, -2.0] {
        data.extend_from_slice(&x.to_le_bytes());
    }
    let header = r#"{"b":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#;
    let path = scratch("foreign.safetensors");
    std::fs::write(&path, handmade(header, &data)).unwrap();
    let mut p = Linear::default();
    load_safetensors(&mut p, &path).unwrap();
    assert_eq!(p, Linear { w: [1.5, -2.0], b: 0.25 });
}

#[test]
fn a_shape_mismatch_names_the_field_and_both_shapes_and_loads_nothing() {
    let path = scratch("wide.safetensors");
    save_safetensors(&Net::<f64, 3>::awkward(), &path).unwrap();
    let mut narrow = Net::<f64, 2>::zeros();
    narrow.scale = 7.0;
    let before = narrow.clone();
    let err = load_safetensors(&mut narrow, &path).unwrap_err();
    match &err {
        Error::TensorShape { tensor, expected, found, .. } => {
            assert_eq!((tensor.as_str(), expected.as_slice(), found.as_slice()), ("w1", &[2, 3][..], &[3, 3][..]));
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "weights file {}: tensor `w1` has shape [3, 3] in the file but the parameters' `w1` has shape [2, 3]; \
             nothing was loaded",
            path.display()
        )
    );
    assert_eq!(narrow, before);
}

#[test]
fn missing_extra_and_narrowing_tensors_are_errors_that_load_nothing() {
    let mut p = Linear { w: [1.0, 2.0], b: 3.0 };
    let before = p;
    let load = |p: &mut Linear, name: &str, header: &str, data: &[u8]| {
        let path = scratch(name);
        std::fs::write(&path, handmade(header, data)).unwrap();
        load_safetensors(p, &path).unwrap_err().to_string()
    };
    let w_only = r#"{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}"#;
    let err = load(&mut p, "missing.safetensors", w_only, &[0; 16]);
    assert!(err.ends_with("tensor `b` is missing from the file"), "{err}");
    let extra = r#"{"b":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"w":{"dtype":"F64","shape":[2],"data_offsets":[8,24]},"v":{"dtype":"F64","shape":[1],"data_offsets":[24,32]}}"#;
    let err = load(&mut p, "extra.safetensors", extra, &[0; 32]);
    assert!(err.ends_with("the file holds tensors the parameters do not have: `v`"), "{err}");
    let err = load(&mut p, "garbage.safetensors", "{not json", &[]);
    assert!(err.contains("not a safetensors file"), "{err}");
    assert_eq!(p, before);

    // f64 weights into f32 parameters would round: refused, naming the tensor.
    let path = scratch("f64.safetensors");
    save_safetensors(&Net::<f64, 2>::awkward(), &path).unwrap();
    let mut small = Net::<f32, 2>::zeros();
    let err = load_safetensors(&mut small, &path).unwrap_err().to_string();
    assert!(err.contains("tensor `w1` is F64 in the file but the parameters are F32 (loading would round)"), "{err}");
    assert_eq!(small, Net::<f32, 2>::zeros());

    let err = load_safetensors(&mut p, scratch("does-not-exist.safetensors")).unwrap_err().to_string();
    assert!(err.contains("cannot read the file"), "{err}");
}

#[test]
fn a_params_impl_with_clashing_tensor_names_cannot_be_saved() {
    // Two fields described under the same name would overwrite each other in the file.
    struct Clash([f64; 2], f64);
    impl Params for Clash {
        type Scalar = f64;
        fn num_params(&self) -> usize {
            3
        }
        fn visit(&self, f: &mut dyn FnMut(f64)) {
            self.0.visit(f);
            f(self.1);
        }
        fn visit_mut(&mut self, f: &mut dyn FnMut(&mut f64)) {
            self.0.visit_mut(f);
            f(&mut self.1);
        }
        fn describe(&self, index: usize, _prefix: &str) -> String {
            if index < 2 {
                format!("x[{index}]")
            } else {
                "x".into()
            }
        }
    }
    let err = save_safetensors(&Clash([1.0, 2.0], 3.0), scratch("clash.safetensors")).unwrap_err();
    assert!(err.to_string().ends_with("two tensors of the parameters are both named `x`"), "{err}");
}
