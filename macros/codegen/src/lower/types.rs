//! The types `#[backprop]` reads where they are written (a signature, a cast, a `let`
//! annotation): scalars (floats, integers, `bool`), arrays of them, parameter structs by reference;
//! and how the pullback convention (`docs/CALLS.md`) classifies a parameter and a result.

use crate::ir::{Dim, FloatTy, Ty};
use proc_macro2::TokenStream as TokenStream2;
use quote::ToTokens;
use syn::Type;

const INT_TYPES: &[&str] = &["i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize"];

/// Classifies a type written in a signature or a cast.
pub(crate) fn scalar_type(ty: &Type) -> Option<Ty> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() || p.path.segments.len() != 1 {
        return None;
    }
    let name = p.path.segments[0].ident.to_string();
    if let Some(f) = FloatTy::from_name(&name) {
        Some(Ty::Float(f))
    } else if INT_TYPES.contains(&name.as_str()) {
        Some(Ty::Int)
    } else if name == "bool" {
        Some(Ty::Bool)
    } else {
        None
    }
}

/// An array argument's element type, dimensions (outermost first) and whether it is a reference:
/// `[f64; N]`, `&[f64; N]`, `&[[f64; N]; M]`, `&[f64]`, `&Vec<f64>`, `&[[f32; 3]]`, and the same
/// shapes of integers (`&[[usize; 2]]`, `&[u8]`, `&Vec<i32>`), which carry a data set's structure
/// (which camera sees which point, a skeleton's parents, labels) and are read as indices.
pub(super) fn array_type(ty: &Type) -> Option<(Ty, Vec<Dim>, bool)> {
    let (inner, by_ref) = match ty {
        Type::Reference(r) if r.mutability.is_none() => (&*r.elem, true),
        other => (other, false),
    };
    let mut dims = Vec::new();
    let mut cur = inner;
    loop {
        match cur {
            Type::Array(a) => {
                dims.push(Dim::Const(a.len.to_token_stream()));
                cur = &a.elem;
            }
            // Slices and `Vec`s only behind a reference, and only as the outermost dimension.
            Type::Slice(sl) if by_ref && dims.is_empty() => {
                dims.push(Dim::Dynamic);
                cur = &sl.elem;
            }
            Type::Path(p)
                if by_ref && dims.is_empty() && p.path.segments.len() == 1 && p.path.segments[0].ident == "Vec" =>
            {
                let syn::PathArguments::AngleBracketed(args) = &p.path.segments[0].arguments else { return None };
                let Some(syn::GenericArgument::Type(elem)) = args.args.first() else { return None };
                dims.push(Dim::Dynamic);
                cur = elem;
            }
            other => {
                return match (scalar_type(other), dims.is_empty()) {
                    (Some(t @ (Ty::Float(_) | Ty::Int)), false) => Some((t, dims, by_ref)),
                    _ => None,
                };
            }
        }
    }
}

/// The owned type of a parameter struct taken by reference: `&Net<H>` gives `Net<H>`. Any path
/// type that is not a float, an integer, `bool` or `Vec` (those are scalars and arrays).
pub(super) fn struct_type(ty: &Type) -> Option<TokenStream2> {
    let Type::Reference(r) = ty else { return None };
    if r.mutability.is_some() {
        return None;
    }
    let Type::Path(p) = &*r.elem else { return None };
    if p.qself.is_some() || scalar_type(&r.elem).is_some() {
        return None;
    }
    let last = p.path.segments.last()?;
    if last.ident == "Vec" || last.ident == "str" || last.ident == "String" {
        return None;
    }
    Some(r.elem.to_token_stream())
}

/// How the pullback convention (`docs/CALLS.md`) treats a parameter of this type.
pub enum ParamClass {
    /// A float: its adjoint is returned.
    Float(FloatTy),
    /// An array of floats or a parameter struct: a sink `Option<&mut T>` of this `T`.
    Sink(TokenStream2),
    /// Anything else (integers, bools, integer arrays, enums): no adjoint.
    Passive,
}

/// The `U` of a sink `Option<&mut U>` for a parameter of this type: the type without its
/// reference, and a slice for `&Vec<F>` (so any caller's adjoint buffer fits: a `Vec`, a slice of
/// one, or the caller's own `&mut [F]`).
pub fn sink_target(ty: &Type) -> TokenStream2 {
    let Type::Reference(r) = ty else { return ty.to_token_stream() };
    if let Type::Path(p) = &*r.elem {
        if let Some(last) = p.path.segments.last().filter(|s| s.ident == "Vec") {
            if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
                if let Some(syn::GenericArgument::Type(elem)) = args.args.first() {
                    return quote::quote!([#elem]);
                }
            }
        }
    }
    r.elem.to_token_stream()
}

pub fn classify_param(ty: &Type) -> ParamClass {
    if let Some(Ty::Float(f)) = scalar_type(ty) {
        return ParamClass::Float(f);
    }
    let target = sink_target;
    if let Some((elem, _, _)) = array_type(ty) {
        return if elem.float().is_some() { ParamClass::Sink(target(ty)) } else { ParamClass::Passive };
    }
    if struct_type(ty).is_some() {
        return ParamClass::Sink(target(ty));
    }
    ParamClass::Passive
}

/// A function's result as the convention passes it: `(true, f)` for a float, `(false, f)` for a
/// fixed-size array of floats (passed by reference).
pub fn result_class(ty: &Type) -> Option<(bool, FloatTy)> {
    match scalar_type(ty) {
        Some(Ty::Float(f)) => Some((true, f)),
        _ => returned_array(ty).map(|f| (false, f)),
    }
}

/// The element type of a fixed-size float array returned by value (`[f64; O]`, `[[f32; 3]; 2]`):
/// a function other `#[backprop]` functions call, a layer.
pub(super) fn returned_array(ty: &Type) -> Option<FloatTy> {
    match array_type(ty) {
        Some((Ty::Float(f), dims, false)) if dims.iter().all(|d| matches!(d, Dim::Const(_))) => Some(f),
        _ => None,
    }
}
