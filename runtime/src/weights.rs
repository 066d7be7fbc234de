//! Saving and loading any [`Params`] value as `.safetensors` (the `safetensors` feature), one
//! tensor per field with its shape, so weights trained here open in PyTorch
//! (`safetensors.torch.load_file`), JAX, candle or NumPy, and theirs load back here.
//!
//! Tensors are named and shaped by [`Params::tensors`]: a network struct with fields
//! `w1: [[f64; 64]; 32]` and `b1: [f64; 32]` is stored as `w1` of shape `[32, 64]` and `b1` of
//! shape `[32]`, in the scalar type's dtype (`F64` or `F32`), little-endian, as the format
//! requires. Loading checks the whole file against the parameters before it writes any of
//! them, so a mismatch leaves the parameters as they were.

use std::collections::HashSet;
use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use crate::params::{copy_from_slice, to_vec, Params, TensorInfo};
use crate::{Error, Float};

/// The file's dtype for scalar type `F`: the runtime's two scalars are `f32` and `f64`, told
/// apart by size (the `Float` trait has no dtype method, and adding one would break
/// implementors).
fn dtype_of<F: Float>() -> Dtype {
    if std::mem::size_of::<F>() == 4 {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

/// Little-endian bytes of `values` in dtype `dtype` (exact: `F32` values of an `f32` scalar
/// go through `f64` and back unchanged).
fn encode<F: Float>(values: &[F], dtype: Dtype) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(values.len() * dtype.bitsize() / 8);
    for v in values {
        if dtype == Dtype::F32 {
            bytes.extend_from_slice(&(v.as_f64() as f32).to_le_bytes());
        } else {
            bytes.extend_from_slice(&v.as_f64().to_le_bytes());
        }
    }
    bytes
}

/// The tensors of `params`, checked to tile the flat view in order (each scalar stored once,
/// each shape the size of its block) under distinct names. A hand-written
/// [`Params::tensors`] can break this; the generated and built-in ones do not.
fn layout<P: Params + ?Sized>(params: &P, path: &Path) -> Result<Vec<TensorInfo>, Error> {
    let fail = |message: String| Error::Weights { path: path.to_path_buf(), message };
    let tensors = params.tensors("");
    let mut seen = HashSet::new();
    let mut next = 0;
    for t in &tensors {
        if !seen.insert(t.name.as_str()) {
            return Err(fail(format!("two tensors of the parameters are both named `{}`", t.name)));
        }
        if t.range.start != next || t.range.len() != t.shape.iter().product::<usize>() {
            return Err(fail(format!(
                "`Params::tensors` gives tensor `{}` the flat range {:?} and shape {:?}, which do not \
                 continue the previous tensors at {next} with one scalar per element",
                t.name, t.range, t.shape
            )));
        }
        next = t.range.end;
    }
    if next != params.num_params() {
        return Err(fail(format!(
            "`Params::tensors` covers {next} of the parameters' {} scalars",
            params.num_params()
        )));
    }
    Ok(tensors)
}

/// Writes `params` to `path` in the safetensors format, one tensor per field.
///
/// # Errors
/// [`Error::Weights`] if two tensors would share a name or serialization fails,
/// [`Error::Io`] if the file cannot be written.
pub fn save_safetensors<P: Params + ?Sized>(params: &P, path: impl AsRef<Path>) -> Result<(), Error> {
    let path = path.as_ref();
    let fail = |message: String| Error::Weights { path: path.to_path_buf(), message };
    let tensors = layout(params, path)?;
    let flat = to_vec(params);
    let dtype = dtype_of::<P::Scalar>();
    let data: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|t| {
            let bytes = flat.get(t.range.clone()).map(|values| encode(values, dtype));
            (t.name, t.shape, bytes)
        })
        .map(|(name, shape, bytes)| match bytes {
            Some(bytes) => Ok((name, shape, bytes)),
            None => Err(fail(format!("tensor `{name}` lies outside the parameters' {} scalars", flat.len()))),
        })
        .collect::<Result<_, _>>()?;
    let views = data
        .iter()
        .map(|(name, shape, bytes)| {
            safetensors::tensor::TensorView::new(dtype, shape.clone(), bytes)
                .map(|view| (name.as_str(), view))
                .map_err(|e| fail(format!("tensor `{name}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = safetensors::serialize(views, None).map_err(|e| fail(e.to_string()))?;
    std::fs::write(path, bytes).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

/// Overwrites `params` with the tensors stored in `path`.
///
/// Every tensor of `params` must be in the file under its name, with the same shape, and the
/// file must hold no other tensors. The dtype must match, except that an `F32` file loads into
/// `f64` parameters (exactly; the other way would round, and is refused). Everything is checked
/// before anything is written: on error `params` are unchanged.
///
/// # Errors
/// [`Error::TensorShape`] naming the tensor and both shapes; [`Error::Weights`] for an
/// unreadable or malformed file, a missing or unexpected tensor, or a dtype that does not fit.
pub fn load_safetensors<P: Params + ?Sized>(params: &mut P, path: impl AsRef<Path>) -> Result<(), Error> {
    let path = path.as_ref();
    let fail = |message: String| Error::Weights { path: path.to_path_buf(), message };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| fail(format!("not a safetensors file: {e}")))?;
    let tensors = layout(params, path)?;
    let want = dtype_of::<P::Scalar>();

    let mut unexpected: Vec<&str> =
        file.names().into_iter().filter(|name| !tensors.iter().any(|t| t.name == *name)).collect();
    if !unexpected.is_empty() {
        unexpected.sort_unstable();
        return Err(fail(format!(
            "the file holds tensors the parameters do not have: {}",
            unexpected.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        )));
    }

    let mut flat = vec![P::Scalar::of_f64(0.0); params.num_params()];
    for t in &tensors {
        let view = file.tensor(&t.name).map_err(|_| fail(format!("tensor `{}` is missing from the file", t.name)))?;
        if view.shape() != t.shape.as_slice() {
            return Err(Error::TensorShape {
                path: path.to_path_buf(),
                tensor: t.name.clone(),
                expected: t.shape.clone(),
                found: view.shape().to_vec(),
            });
        }
        let Some(slots) = flat.get_mut(t.range.clone()) else {
            return Err(fail(format!("tensor `{}` lies outside the parameters' scalars", t.name)));
        };
        let data = view.data();
        match (view.dtype(), want) {
            (Dtype::F64, Dtype::F64) => {
                for (slot, chunk) in slots.iter_mut().zip(data.chunks_exact(8)) {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(chunk);
                    *slot = P::Scalar::of_f64(f64::from_le_bytes(b));
                }
            }
            (Dtype::F32, _) => {
                for (slot, chunk) in slots.iter_mut().zip(data.chunks_exact(4)) {
                    let mut b = [0u8; 4];
                    b.copy_from_slice(chunk);
                    *slot = P::Scalar::of_f64(f64::from(f32::from_le_bytes(b)));
                }
            }
            (found, want) => {
                return Err(fail(format!(
                    "tensor `{}` is {found} in the file but the parameters are {want}{}",
                    t.name,
                    if found == Dtype::F64 { " (loading would round)" } else { "" }
                )));
            }
        }
    }
    copy_from_slice(params, &flat)
}
