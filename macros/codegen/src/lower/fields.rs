//! Parameter structs: an argument `net: &Net` (or the receiver `&self` of a method) whose fields
//! are read at any depth (`net.l1.w[j][i]`, `net.bias`, `net.v[i]`). Each field path read is a
//! read-only array place (`ArrayOrigin::Field`) with as many dimensions as it is indexed by (a
//! scalar field has none), so reads are ordinary `Load`s and the backward sweep accumulates into
//! the same place of the gradient (`grad.net.l1.w[j][i] += ..`): no copy of the struct, no local
//! adjoint.

use super::{Binding, Lower};
use crate::attr::Options;
use crate::ir::{self, Array, ArrayId, ArrayOrigin, Dim, Op, Ty, ROOT};
use proc_macro2::TokenStream;
use quote::quote;
use syn::Expr;

impl Lower<'_> {
    /// Declares argument `index`, a parameter struct taken by reference.
    pub(super) fn struct_param(
        &mut self,
        index: usize,
        name: syn::Ident,
        ty_tokens: TokenStream,
        owned: TokenStream,
        options: &Options,
    ) {
        let wrt = match &options.wrt {
            None => true,
            Some(list) => list.contains(&name),
        };
        let value = self.f.add(Op::Param(index as u32), Ty::Unit, ROOT, name.span());
        let param = self.f.params.len() as u32;
        self.f.params.push(ir::Param {
            array: None,
            name: name.clone(),
            ty: Ty::Unit,
            ty_tokens,
            wrt,
            value,
            strukt: Some(owned),
        });
        self.scopes[0].push((name.to_string(), Binding::Struct(param)));
    }

    /// The parameter struct and field path of `net.l1.w` (`None` when `e` is not a field path of a
    /// parameter struct). `net` alone is the whole struct, with an empty path.
    pub(super) fn field_path(&self, e: &Expr) -> Option<(u32, TokenStream)> {
        let mut members = Vec::new();
        let mut cur = e;
        loop {
            match cur {
                Expr::Field(f) => {
                    let syn::Member::Named(m) = &f.member else { return None };
                    members.push(m.clone());
                    cur = &f.base;
                }
                Expr::Paren(p) => cur = &p.expr,
                Expr::Path(p) => {
                    let ident = p.path.get_ident()?;
                    let (si, vi) = self.lookup(&ident.to_string())?;
                    let Binding::Struct(param) = self.scopes[si][vi].1 else { return None };
                    members.reverse();
                    return Some((param, quote!(#(.#members)*)));
                }
                _ => return None,
            }
        }
    }

    /// `net.l1.w` as the user wrote it, for messages.
    pub(super) fn field_shown(&self, param: u32, path: &TokenStream) -> String {
        format!("{}{}", self.f.params[param as usize].name, path.to_string().replace(' ', ""))
    }

    /// The array place of a field path, made on first use with `rank` dimensions.
    pub(super) fn field_array(&mut self, param: u32, path: TokenStream, rank: usize) -> ArrayId {
        let key = path.to_string();
        let existing = self.f.arrays.iter().position(
            |a| matches!(&a.origin, ArrayOrigin::Field { param: p, path: q } if *p == param && q.to_string() == key),
        );
        if let Some(a) = existing {
            let a = ArrayId(a as u32);
            if self.f.array(a).dims.len() < rank {
                self.f.arrays[a.index()].dims = vec![Dim::Dynamic; rank];
            }
            return a;
        }
        let p = &self.f.params[param as usize];
        let mut name = p.name.to_string();
        for token in path.clone() {
            if let proc_macro2::TokenTree::Ident(i) = token {
                name.push('_');
                name.push_str(&i.to_string());
            }
        }
        let name = syn::Ident::new(name.trim_start_matches("r#"), p.name.span());
        self.f.add_array(Array {
            name,
            elem: Ty::Float(self.f.float),
            dims: vec![Dim::Dynamic; rank],
            origin: ArrayOrigin::Field { param, path },
            mutable: false,
        })
    }

    /// A field read without an index: `net.bias`, a float.
    pub(super) fn field_value(&mut self, e: &syn::ExprField) -> Option<crate::ir::ValueId> {
        let (param, path) = self.field_path(&Expr::Field(e.clone()))?;
        if path.is_empty() {
            return None;
        }
        let array = self.field_array(param, path, 0);
        let version = self.f.versions[array.index()];
        let ty = self.f.array(array).elem;
        Some(self.add(Op::Load(array, version, Vec::new()), ty, syn::spanned::Spanned::span(e)))
    }

    /// The array an expression names: a local or argument array (`x`), or a field of a parameter
    /// struct (`net.l1.w`, given the number of indices it is read with).
    pub(super) fn array_place(&mut self, e: &Expr, rank: usize) -> Option<ArrayId> {
        if let Expr::Path(p) = e {
            let (si, vi) = self.lookup(&p.path.get_ident()?.to_string())?;
            return match self.scopes[si][vi].1 {
                Binding::Array(a) => Some(a),
                _ => None,
            };
        }
        let (param, path) = self.field_path(e)?;
        if path.is_empty() {
            return None;
        }
        Some(self.field_array(param, path, rank))
    }
}
