//! Products with literals in the dual re-print: `Dual64::c(2.0) * t` (what `retype.rs` makes of
//! the gradient's `2.0 * t`) becomes `dual::scale(t, 2.0)`, the same value bit for bit without the
//! `0 · re` term of the constant's zero tangent (`runtime/src/dual.rs`, `ScaleBy`), and
//! `DualDual64::c(2.0) * t` of the re-print over `DualDual64` becomes `dual2::scale(t, 2.0)`
//! (`runtime/src/dual2.rs`, forward over forward), and `Dual64x4::c(2.0) * t` of `_jacobian`'s
//! four-lane re-print `dual_lanes::scale(t, 2.0)`. Reverse sweeps
//! are full of these (`2.0 * t` from `t * t`, halves, signs). Done on the parsed body, so operator
//! precedence is syn's; `scale` is generic over `Dual64` and `f64`, so an operand that is still an
//! `f64` (a `std` constant) gives the same type as before.

use syn::visit_mut::VisitMut;

/// Rewrites every `Dual64::c(<float literal>) * e` and `e * Dual64::c(<float literal>)` in `block`.
pub fn scale_literal_products(block: &mut syn::Block) {
    Scale.visit_block_mut(block);
}

struct Scale;

/// The literal of `::backprop::__private::Dual64::c(<float literal>)`, `DualDual64::c(..)` (the
/// re-print over `DualDual64`, forward over forward) or `Dual64x4::c(..)` (four lanes), with the
/// runtime module whose `scale` takes it.
fn dual_literal(e: &syn::Expr) -> Option<(syn::LitFloat, &'static str)> {
    let syn::Expr::Call(call) = e else { return None };
    let syn::Expr::Path(path) = &*call.func else { return None };
    let names: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
    let module = match names.as_slice() {
        [.., ty, c] if c == "c" && ty == "Dual64" => "dual",
        [.., ty, c] if c == "c" && ty == "DualDual64" => "dual2",
        [.., ty, c] if c == "c" && ty == "Dual64x4" => "dual_lanes",
        _ => return None,
    };
    if call.args.len() != 1 {
        return None;
    }
    match call.args.first() {
        Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(f), .. })) => Some((f.clone(), module)),
        _ => None,
    }
}

impl VisitMut for Scale {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        let syn::Expr::Binary(b) = e else { return };
        if !matches!(b.op, syn::BinOp::Mul(_)) {
            return;
        }
        let ((lit, module), other) = match (dual_literal(&b.left), dual_literal(&b.right)) {
            (Some(lit), _) => (lit, &b.right),
            (None, Some(lit)) => (lit, &b.left),
            (None, None) => return,
        };
        let (other, module) = (other.clone(), syn::Ident::new(module, proc_macro2::Span::call_site()));
        *e = syn::parse_quote!(::backprop::__private::#module::scale(#other, #lit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    #[test]
    fn literal_products_become_scales() {
        let mut block: syn::Block = syn::parse_quote!({
            let a = ::backprop::__private::Dual64::c(2.0) * t;
            let b = d * (x * ::backprop::__private::Dual64::c(0.5));
            let c = y / ::backprop::__private::Dual64::c(2.0) * z;
            let e = ::backprop::__private::Dual64::c(2.0) * ::backprop::__private::Dual64::c(3.0);
        });
        scale_literal_products(&mut block);
        let out = block.to_token_stream().to_string();
        assert!(out.contains("let a = :: backprop :: __private :: dual :: scale (t , 2.0)"), "{out}");
        assert!(out.contains("d * (:: backprop :: __private :: dual :: scale (x , 0.5))"), "{out}");
        // `y / c(2) * z` is `(y / c(2)) * z`: a division, left alone, then a product without a literal.
        assert!(out.contains("let c = y / :: backprop :: __private :: Dual64 :: c (2.0) * z"), "{out}");
        assert!(out.contains("scale (:: backprop :: __private :: Dual64 :: c (3.0) , 2.0)"), "{out}");
    }

    #[test]
    fn literal_products_over_dual_duals_scale_one_level_up() {
        let mut block: syn::Block = syn::parse_quote!({
            let a = ::backprop::__private::DualDual64::c(100.0) * t;
        });
        scale_literal_products(&mut block);
        let out = block.to_token_stream().to_string();
        assert!(out.contains("let a = :: backprop :: __private :: dual2 :: scale (t , 100.0)"), "{out}");
    }

    #[test]
    fn literal_products_over_four_lanes_scale_every_lane() {
        let mut block: syn::Block = syn::parse_quote!({
            let a = t * ::backprop::__private::Dual64x4::c(0.5);
        });
        scale_literal_products(&mut block);
        let out = block.to_token_stream().to_string();
        assert!(out.contains("let a = :: backprop :: __private :: dual_lanes :: scale (t , 0.5)"), "{out}");
    }
}
