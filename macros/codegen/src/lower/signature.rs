//! The signature: each argument becomes a parameter (a scalar, an array or a parameter struct)
//! bound in the outermost scope, `wrt(..)` is checked against them, and the return type gives the
//! function's float type.

use super::types::{array_type, returned_array, scalar_type, struct_type};
use super::{Binding, Lower};
use crate::attr::Options;
use crate::ctxt::Ctxt;
use crate::ir::{self, Array, ArrayOrigin, FloatTy, Op, Ty, ROOT};
use quote::ToTokens;
use syn::{Pat, ReturnType};

/// The float type of the function's result, or an error on the return type.
pub(super) fn return_float(cx: &Ctxt, func: &syn::ItemFn) -> FloatTy {
    match &func.sig.output {
        ReturnType::Default => {
            cx.error_spanned_by(
                &func.sig.ident,
                "a `#[backprop]` function must return the cost as `f64` or `f32`; add `-> f64`",
            );
            FloatTy::F64
        }
        ReturnType::Type(_, ty) => match (scalar_type(ty), returned_array(ty)) {
            (Some(Ty::Float(f)), _) => f,
            (_, Some(f)) => f,
            _ => {
                cx.error_spanned_by(
                    ty,
                    "a `#[backprop]` function must return the cost as `f64` or `f32` (or, to be called from other `#[backprop]` functions, a fixed-size array of floats `[f64; N]`); return a scalar float",
                );
                FloatTy::F64
            }
        },
    }
}

impl Lower<'_> {
    pub(super) fn signature(&mut self, func: &syn::ItemFn, options: &Options) {
        let sig = &func.sig;
        if let Some(a) = &sig.asyncness {
            self.cx.error_spanned_by(a, "`async fn` is not supported by `#[backprop]`; the cost must be a plain `fn`");
        }
        for param in &sig.generics.params {
            if let syn::GenericParam::Const(c) = param {
                self.f.const_generics.push(c.ident.to_string());
            }
            if !matches!(param, syn::GenericParam::Const(_)) {
                self.cx.error_spanned_by(
                    param,
                    "only const generic parameters (`<const N: usize>`) are supported by `#[backprop]`; write the function for `f64` or `f32`",
                );
            }
        }
        if let Some(v) = &sig.variadic {
            self.cx.error_spanned_by(v, "variadic arguments are not supported by `#[backprop]`");
        }
        for (index, input) in sig.inputs.iter().enumerate() {
            let typed = match input {
                syn::FnArg::Receiver(r) => {
                    match (&options.self_ty, &r.reference, &r.mutability) {
                        (Some(self_ty), Some(_), None) => {
                            let name = syn::Ident::new("self", r.self_token.span);
                            self.struct_param(index, name, quote::quote!(&#self_ty), self_ty.clone(), options);
                        }
                        (Some(_), _, _) => {
                            self.poisoned.insert("self".to_string());
                            self.cx.error_spanned_by(r, "a `#[backprop]` method reads its parameters through `&self`; `&mut self` and `self` by value are not supported");
                        }
                        (None, _, _) => {
                            self.poisoned.insert("self".to_string());
                            self.cx.error_spanned_by(
                                r,
                                "a `#[backprop]` method needs `#[backprop]` on its `impl` block too, where its gradient struct can be written: `#[backprop] impl Net { #[backprop] fn loss(&self, ..) -> f64 { .. } }`",
                            );
                        }
                    }
                    continue;
                }
                syn::FnArg::Typed(t) => t,
            };
            let name = match &*typed.pat {
                Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
                other => {
                    self.cx.error_spanned_by(
                        other,
                        "argument patterns are not supported by `#[backprop]`; name the argument, e.g. `x: f64`",
                    );
                    continue;
                }
            };
            let mutable = matches!(&*typed.pat, Pat::Ident(p) if p.mutability.is_some());
            if let Some((elem, dims, by_ref)) = array_type(&typed.ty) {
                let array = self.f.add_array(Array {
                    name: name.clone(),
                    elem,
                    dims,
                    origin: ArrayOrigin::Param { index: index as u32, by_ref },
                    mutable,
                });
                // Integer arrays are data (indices, labels): never differentiated.
                let wrt = match &options.wrt {
                    None => elem.float().is_some(),
                    Some(list) => list.contains(&name) && elem.float().is_some(),
                };
                let value = self.f.add(Op::Param(index as u32), Ty::Unit, ROOT, name.span());
                self.f.params.push(ir::Param {
                    array: Some(array),
                    name: name.clone(),
                    ty: elem,
                    ty_tokens: typed.ty.to_token_stream(),
                    wrt,
                    value,
                    strukt: None,
                });
                self.scopes[0].push((name.to_string(), Binding::Array(array)));
                continue;
            }
            if let Some(owned) = struct_type(&typed.ty) {
                self.struct_param(index, name, typed.ty.to_token_stream(), owned, options);
                continue;
            }
            let Some(ty) = scalar_type(&typed.ty) else {
                self.poison_name(&name);
                self.cx.error_spanned_by(
                    &typed.ty,
                    format!(
                        "argument `{name}` has a type `#[backprop]` does not support; arguments may be `f64`, `f32`, integers, `bool`, arrays of floats or integers (`[f64; N]`, `&[f64; N]`, `&[[f64; N]; M]`, `&[f64]`, `&Vec<f64>`, `&[usize]`, `&[[u32; 2]]`), or a `#[derive(Params)]` struct by reference (`net: &Net`)"
                    ),
                );
                continue;
            };
            let wrt = match &options.wrt {
                None => ty.float().is_some(),
                Some(list) => list.contains(&name),
            };
            let value = self.f.add(Op::Param(index as u32), ty, ROOT, name.span());
            self.f.params.push(ir::Param {
                array: None,
                name: name.clone(),
                ty,
                ty_tokens: typed.ty.to_token_stream(),
                wrt,
                value,
                strukt: None,
            });
            self.scopes[0].push((name.to_string(), Binding::Value(value)));
        }
        if let Some(list) = &options.wrt {
            for w in list {
                match self.f.params.iter().find(|p| p.name == *w) {
                    None => {
                        let names: Vec<String> =
                            self.f.params.iter().filter(|p| p.ty.float().is_some()).map(|p| format!("`{}`", p.name)).collect();
                        self.cx.error_spanned_by(
                            w,
                            format!(
                                "`wrt` names `{w}`, which is not an argument of `{}`; its float arguments are {}",
                                sig.ident,
                                names.join(", ")
                            ),
                        )
                    }
                    Some(p) if p.ty.float().is_none() && p.strukt.is_none() => self.cx.error_spanned_by(
                        w,
                        format!("`wrt` names `{w}`, which is not a float argument; only `f64` and `f32` arguments, arrays of them and parameter structs can be differentiated"),
                    ),
                    Some(_) => {}
                }
            }
        }
    }
}
