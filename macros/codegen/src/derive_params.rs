//! `#[derive(Params)]`: the runtime's flat view (`Params`) and a zero of the same shape
//! (`ZerosLike`) for a struct of parameters, field by field in declaration order.
//!
//! Each field must itself be `Params` with the first field's scalar type. The generated bodies
//! reach every field through one cast to the struct's `dyn Params`, spanned on the field's type, so
//! a field the runtime cannot view (or an `f32` field in an `f64` struct) is reported by rustc on
//! that field; fields that depend on a type parameter get where-clauses instead. The few field types
//! that can never be parameters (integers, `bool`, references, ...) are rejected here first, all
//! together, with a message saying what is supported. Names compose through the runtime's
//! `describe_fields`/`tensors_fields`, so `Net { l1: Dense }` names a scalar `l1.w[3][17]`, and
//! `net.l1.w[3][17]` when `Net` is itself the field `net` of a gradient struct.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit::Visit;

/// What every error message repeats: the field types the derive supports.
const SUPPORTED: &str = "floats (`f64`, `f32`), arrays of any depth, `Vec<f64>`/`Vec<f32>`, or other \
                         `#[derive(Params)]` structs";

/// Expands `#[derive(Params)]` on `input` (the struct's tokens). Never panics: every problem is a
/// `compile_error!` spanned on the user's code.
pub fn derive(input: TokenStream) -> TokenStream {
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match syn::parse2::<syn::DeriveInput>(input) {
            Ok(input) => expand(&input).unwrap_or_else(|e| e.to_compile_error()),
            Err(e) => e.to_compile_error(),
        }));
    outcome.unwrap_or_else(|_| {
        let message = "internal error in `#[derive(Params)]`; please report this struct as a bug";
        quote!(::core::compile_error!(#message);)
    })
}

/// One field: how generated code reaches it (`self.w`, `self.0`), the label `describe` gives it
/// (`w`, `0`), and its type.
struct Field<'a> {
    member: syn::Member,
    label: String,
    ty: &'a syn::Type,
}

fn expand(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let fields = fields(input)?;
    let krate = quote!(::backprop::__private);
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let first = fields[0].ty;
    let scalar = quote_spanned!(end_span(first)=> <#first as #krate::Params>::Scalar);

    // Bounds only for fields that depend on a type parameter, which need them to type-check at
    // all. A concrete field is checked by the bodies below: as a where-clause, `f64: Params<Scalar
    // = <Dense<4, 3> as Params>::Scalar>` would shadow `f64`'s own impl while rustc normalizes, and
    // overflow; and a false bound on a non-generic impl is reported with nightly-feature noise.
    let type_params: Vec<&syn::Ident> = input.generics.type_params().map(|p| &p.ident).collect();
    let mut params_where = where_clause.cloned().unwrap_or_else(|| syn::parse_quote!(where));
    let mut zeros_where = params_where.clone();
    for (i, field) in fields.iter().enumerate().filter(|(_, f)| mentions_any(f.ty, &type_params)) {
        let ty = field.ty;
        // Spanned on the type's last token: with the type's own tokens first, rustc underlines the
        // whole type when the bound fails.
        let span = end_span(ty);
        let bound = if i == 0 {
            quote_spanned!(span=> #ty: #krate::Params)
        } else {
            quote_spanned!(span=> #ty: #krate::Params<Scalar = #scalar>)
        };
        params_where.predicates.push(syn::parse_quote!(#bound));
        zeros_where.predicates.push(syn::parse_quote_spanned!(span=> #ty: #krate::ZerosLike));
    }

    // Every use of a field goes through one cast to the struct's `dyn Params` (`&` or `&mut`),
    // spanned on the field's type: a field that is not `Params`, or has another scalar type, is
    // then reported there, once per kind of cast (rustc folds identical reports), and the bodies
    // around the cast still type-check. The calls through it are on a known type, so they
    // devirtualise.
    let each = |use_field: &dyn Fn(&syn::Member) -> TokenStream| -> Vec<TokenStream> {
        fields.iter().map(|f| over(f.ty, use_field(&f.member))).collect()
    };
    let field = each(&|m| quote!((&self.#m as &dyn #krate::Params<Scalar = Self::Scalar>)));
    let field_mut = each(&|m| quote!((&mut self.#m as &mut dyn #krate::Params<Scalar = Self::Scalar>)));
    let zeros = each(&|m| quote!(#m: #krate::ZerosLike::zeros_like(&self.#m)));
    let labels: Vec<&str> = fields.iter().map(|f| f.label.as_str()).collect();
    let members: Vec<(syn::Member, &syn::Type)> = fields.iter().map(|f| (f.member.clone(), f.ty)).collect();
    let twin = crate::second_order::twin::derive_twin(input, &members);
    Ok(quote! {
        #twin

        #[automatically_derived]
        impl #impl_generics #krate::Params for #name #ty_generics #params_where {
            type Scalar = #scalar;
            fn num_params(&self) -> usize {
                #(#field.num_params())+*
            }
            fn visit(&self, f: &mut dyn FnMut(Self::Scalar)) {
                #(#field.visit(f);)*
            }
            fn visit_mut(&mut self, f: &mut dyn FnMut(&mut Self::Scalar)) {
                #(#field_mut.visit_mut(f);)*
            }
            fn describe(&self, index: usize, prefix: &str) -> ::std::string::String {
                #krate::describe_fields(&[#((#labels, #field)),*], index, prefix)
            }
            fn tensors(&self, prefix: &str) -> ::std::vec::Vec<#krate::TensorInfo> {
                #krate::tensors_fields(&[#((#labels, #field)),*], prefix)
            }
        }

        #[automatically_derived]
        impl #impl_generics #krate::ZerosLike for #name #ty_generics #zeros_where {
            fn zeros_like(&self) -> Self {
                #name { #(#zeros),* }
            }
        }
    })
}

/// The struct's fields, or every reason the derive does not apply, combined.
fn fields(input: &syn::DeriveInput) -> syn::Result<Vec<Field<'_>>> {
    let name = &input.ident;
    let data = match &input.data {
        syn::Data::Struct(data) => data,
        syn::Data::Enum(e) => return Err(not_a_struct(e.enum_token, name, "an enum")),
        syn::Data::Union(u) => return Err(not_a_struct(u.union_token, name, "a union")),
    };
    if data.fields.is_empty() {
        let message = format!(
            "`#[derive(Params)]` needs at least one field: the struct's scalar type is its first field's; \
             fields can be {SUPPORTED}"
        );
        let keyword = data.struct_token;
        return Err(syn::Error::new_spanned(quote!(#keyword #name), message));
    }
    let fields: Vec<Field> = data
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| match &f.ident {
            Some(ident) => {
                Field { member: syn::Member::Named(ident.clone()), label: ident.unraw().to_string(), ty: &f.ty }
            }
            None => Field {
                member: syn::Member::Unnamed(syn::Index { index: i as u32, span: f.ty.span() }),
                label: i.to_string(),
                ty: &f.ty,
            },
        })
        .collect();
    let mut errors: Option<syn::Error> = None;
    for field in &fields {
        if let Some(e) = never_params(field.ty) {
            match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            }
        }
    }
    errors.map_or(Ok(fields), Err)
}

/// The error for an enum or a union, underlining `enum Name`.
fn not_a_struct(keyword: impl ToTokens, name: &syn::Ident, what: &str) -> syn::Error {
    let message = format!(
        "`#[derive(Params)]` supports structs (with named fields, or tuple structs), not {what}, whose \
         parameters would depend on the value; write a struct whose fields are {SUPPORTED}"
    );
    syn::Error::new_spanned(quote!(#keyword #name), message)
}

/// An error when `ty` can never be a parameter (an integer, `bool`, a reference, ...), looking
/// inside arrays, `Vec`s, `Box`es and tuples; `None` when it may be, which rustc then checks.
fn never_params(ty: &syn::Type) -> Option<syn::Error> {
    let what = match ty {
        syn::Type::Array(a) => return never_params(&a.elem),
        syn::Type::Paren(p) => return never_params(&p.elem),
        syn::Type::Group(g) => return never_params(&g.elem),
        syn::Type::Tuple(t) => return t.elems.iter().find_map(never_params),
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let inner = match &last.arguments {
                syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
                    syn::GenericArgument::Type(inner) => Some(inner),
                    _ => None,
                },
                _ => None,
            };
            match (last.ident.to_string().as_str(), inner) {
                ("Vec" | "Box", Some(inner)) => return never_params(inner),
                (
                    "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128" | "isize",
                    None,
                ) if p.path.segments.len() == 1 => "an integer",
                ("bool", None) if p.path.segments.len() == 1 => "a `bool`",
                ("char" | "str" | "String", None) => "text",
                _ => return None,
            }
        }
        syn::Type::Reference(_) => "a reference (a parameter struct owns its parameters)",
        syn::Type::Ptr(_) => "a pointer",
        syn::Type::BareFn(_) => "a function pointer",
        syn::Type::TraitObject(_) | syn::Type::ImplTrait(_) => "a trait object",
        syn::Type::Slice(_) => "an unsized slice (use an array or a `Vec`)",
        syn::Type::Never(_) => "`!`",
        _ => return None,
    };
    Some(syn::Error::new_spanned(
        ty,
        format!(
            "this field is {what}, which cannot be a parameter: every field of a `#[derive(Params)]` struct \
             is one; fields can be {SUPPORTED}"
        ),
    ))
}

/// `tokens` placed over `ty`: the first token at the type's first token, every other one (inside
/// groups too) at its last, so that rustc, which spans an expression from its first token to its
/// last, underlines the whole type when the expression fails to type-check.
fn over(ty: &syn::Type, tokens: TokenStream) -> TokenStream {
    let mut spans = ty.to_token_stream().into_iter().map(|t| t.span());
    let start = spans.next().unwrap_or_else(Span::call_site);
    let end = spans.last().unwrap_or(start);
    respan(tokens, &mut Some(start), end)
}

/// `tokens` at `end`, except the very first leaf, which takes `start` (consumed).
fn respan(tokens: TokenStream, start: &mut Option<Span>, end: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), start, end));
                group.set_span(end);
                tt = group.into();
            } else {
                tt.set_span(start.take().unwrap_or(end));
            }
            tt
        })
        .collect()
}

/// The span of `ty`'s last token, so that tokens spanned with it end where the type ends.
fn end_span(ty: &syn::Type) -> Span {
    ty.to_token_stream().into_iter().last().map_or_else(|| ty.span(), |t| t.span())
}

/// Whether `ty` names one of `params` (a struct's type parameters) anywhere inside.
fn mentions_any(ty: &syn::Type, params: &[&syn::Ident]) -> bool {
    struct Finder<'a> {
        params: &'a [&'a syn::Ident],
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_path(&mut self, path: &'ast syn::Path) {
            if let Some(first) = path.segments.first() {
                self.found |= self.params.iter().any(|p| first.ident == **p);
            }
            syn::visit::visit_path(self, path);
        }
    }
    let mut finder = Finder { params, found: false };
    finder.visit_type(ty);
    finder.found
}

#[cfg(test)]
mod tests {
    use super::derive;
    use quote::quote;

    fn expand(input: proc_macro2::TokenStream) -> String {
        derive(input).to_string()
    }

    /// The messages of the `compile_error!`s in an expansion, in order.
    fn errors(out: &str) -> Vec<String> {
        out.split("compile_error !").skip(1).filter_map(|rest| rest.split('"').nth(1).map(str::to_string)).collect()
    }

    #[test]
    fn named_fields_are_visited_and_named_in_declaration_order() {
        let out = expand(quote!(
            struct Net {
                l1: Dense<4, 3>,
                scale: f64,
                v: Vec<f64>,
            }
        ));
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.contains("impl :: backprop :: __private :: Params for Net"), "{out}");
        assert!(
            out.contains("type Scalar = < Dense < 4 , 3 > as :: backprop :: __private :: Params > :: Scalar"),
            "{out}"
        );
        let field = |name: &str| {
            format!("(& self . {name} as & dyn :: backprop :: __private :: Params < Scalar = Self :: Scalar >)")
        };
        let visit = &out[out.find("fn visit (").unwrap_or(0)..out.find("fn visit_mut").unwrap_or(0)];
        let visits = format!(
            "{{ {} . visit (f) ; {} . visit (f) ; {} . visit (f) ; }}",
            field("l1"),
            field("scale"),
            field("v")
        );
        assert!(visit.contains(&visits), "{out}");
        assert!(out.contains(&format!("(\"l1\" , {})", field("l1"))), "{out}");
        assert!(out.contains("describe_fields"), "{out}");
        assert!(out.contains("tensors_fields"), "{out}");
        // Concrete fields are checked by the bodies, not by where-clauses (which would overflow).
        // (Only the dual twin's impls have where-clauses: higher-ranked, checked where used.)
        assert!(out.contains("impl :: backprop :: __private :: Params for Net {"), "{out}");
        assert!(out.contains("impl :: backprop :: __private :: ZerosLike for Net {"), "{out}");
        assert!(out.contains("impl :: backprop :: __private :: DualTwin for Net where for < '__twin > Dense < 4 , 3 > : :: backprop :: __private :: DualTwin"), "{out}");
        assert!(out.contains("Net { l1 : :: backprop :: __private :: ZerosLike :: zeros_like (& self . l1)"), "{out}");
    }

    #[test]
    fn generics_are_kept_and_type_parameters_bound() {
        let out = expand(quote!(
            struct Dense<T, const I: usize, const O: usize>
            where
                T: Copy,
            {
                w: [[T; I]; O],
                b: [T; O],
                s: f64,
            }
        ));
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.contains("impl < T , const I : usize , const O : usize > :: backprop :: __private :: Params for Dense < T , I , O >"), "{out}");
        // Bounds for the fields that mention `T`, the later ones with the first one's scalar type;
        // `s: f64` is checked by the bodies.
        let scalar = "< [[T ; I] ; O] as :: backprop :: __private :: Params > :: Scalar";
        let bounds = format!(
            "where T : Copy , [[T ; I] ; O] : :: backprop :: __private :: Params , \
             [T ; O] : :: backprop :: __private :: Params < Scalar = {scalar} > {{"
        );
        assert!(out.contains(&bounds), "{out}");
        let zeros = &out[out.find("ZerosLike for").unwrap_or(0)..];
        assert!(zeros.contains("[T ; O] : :: backprop :: __private :: ZerosLike {"), "{out}");
        assert!(!out.contains("f64 : :: backprop"), "{out}");
    }

    #[test]
    fn tuple_structs_and_raw_names() {
        let out = expand(quote!(
            struct Pair(f32, [f32; 2]);
        ));
        assert!(out.contains("(& mut self . 1 as & mut dyn :: backprop :: __private :: Params < Scalar = Self :: Scalar >) . visit_mut (f)"), "{out}");
        assert!(out.contains("(\"1\" , (& self . 1 as"), "{out}");
        assert!(out.contains("Pair { 0 : :: backprop :: __private :: ZerosLike :: zeros_like (& self . 0)"), "{out}");
        let out = expand(quote!(
            struct Raw {
                r#type: f64,
            }
        ));
        assert!(out.contains("(\"type\" , (& self . r#type as"), "{out}");
    }

    #[test]
    fn enums_unions_and_fieldless_structs_are_errors_saying_what_is_supported() {
        for (input, what) in [
            (
                quote!(
                    enum E {
                        A(f64),
                        B,
                    }
                ),
                "not an enum",
            ),
            (quote!(union U { a: f64, b: f32 }), "not a union"),
        ] {
            let out = expand(input);
            let messages = errors(&out);
            assert_eq!(messages.len(), 1, "{out}");
            assert!(messages[0].contains(what) && messages[0].contains("`Vec<f64>`/`Vec<f32>`"), "{out}");
            assert!(!out.contains("impl"), "{out}");
        }
        for input in [
            quote!(
                struct Unit;
            ),
            quote!(
                struct Empty {}
            ),
            quote!(
                struct Empty();
            ),
        ] {
            let out = expand(input);
            let messages = errors(&out);
            assert_eq!(messages.len(), 1, "{out}");
            assert!(messages[0].starts_with("`#[derive(Params)]` needs at least one field"), "{out}");
        }
    }

    #[test]
    fn fields_that_can_never_be_parameters_are_all_reported() {
        let out = expand(quote!(
            struct Net<'a> {
                w: [f64; 3],
                steps: usize,
                x: &'a [f64],
                labels: Vec<[u8; 2]>,
                name: String,
                alive: bool,
                // Not an integer: a type of the user's that happens to end in `u32`.
                other: my::u32,
            }
        ));
        let messages = errors(&out);
        assert_eq!(messages.len(), 5, "{out}");
        assert!(messages[0].starts_with("this field is an integer"), "{out}");
        assert!(messages[1].starts_with("this field is a reference"), "{out}");
        assert!(messages[2].starts_with("this field is an integer"), "{out}");
        assert!(messages[3].starts_with("this field is text"), "{out}");
        assert!(messages[4].starts_with("this field is a `bool`"), "{out}");
        assert!(messages.iter().all(|m| m.contains("`#[derive(Params)]` structs")), "{out}");
        assert!(!out.contains("impl"), "{out}");
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let messages = errors(&expand(quote!(struct)));
        assert_eq!(messages.len(), 1);
        assert!(
            errors(&expand(quote!(
                fn f() {}
            )))
            .len()
                == 1
        );
    }
}
