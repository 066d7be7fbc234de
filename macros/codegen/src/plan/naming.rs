//! Names: every binding, array, loop variable, tape and generated binding of the plan gets one,
//! from `names.rs`, so that nothing collides with the user's code.

use super::{Plan, HIDDEN, STACK_TAPE_LIMIT};
use crate::ir::{ArrayOrigin, Hint, Op, ValueId};
use crate::names::Names;
use proc_macro2::{Ident, Span, TokenStream};
use quote::ToTokens;

impl Plan<'_> {
    pub(super) fn allocate_names(&mut self, user_tokens: TokenStream) {
        let mut names = Names::new(user_tokens);
        self.grad_name = make_ident(&names.generated("grad"));
        self.value_name = make_ident(&names.generated("value"));
        self.result_name = make_ident(&names.generated("result"));
        self.seed_name = make_ident(&names.generated("d_result"));
        for p in &self.f.params {
            let base = p.name.to_string().trim_start_matches("r#").to_string();
            let base = if base == "self" { "self_".to_string() } else { base };
            let upper = base.to_uppercase();
            self.want_names.push(make_ident(&names.generated(&format!("WANT_D_{upper}"))));
            let sink = if p.strukt.is_some() { format!("d_{base}") } else { format!("d_{base}_sink") };
            self.sink_names.push(make_ident(&names.generated(&sink)));
        }
        for p in &self.f.params {
            names.take(&p.name.to_string());
            self.names[p.value.index()] = Some(p.name.clone());
        }
        for (i, a) in self.f.arrays.iter().enumerate() {
            let name = match &a.origin {
                ArrayOrigin::Param { .. } => a.name.to_string(),
                ArrayOrigin::Local { .. } | ArrayOrigin::Returned(_) => {
                    let name = a.name.to_string();
                    match name.strip_prefix(HIDDEN) {
                        Some(base) => names.generated(base),
                        None => names.user(&name),
                    }
                }
                ArrayOrigin::Adjoint(of) => {
                    let base = self.array_names[of.index()].as_ref().map(|n| n.to_string()).unwrap_or_default();
                    names.generated(&format!("d_{base}"))
                }
                ArrayOrigin::Const(_) | ArrayOrigin::Field { .. } | ArrayOrigin::Result => a.name.to_string(),
            };
            self.array_names[i] = Some(make_ident(&name));
        }
        for (l, node) in self.f.loops.iter().enumerate() {
            if !self.live_loops[l] || self.names[node.var.index()].is_some() {
                continue;
            }
            // `for xi in x.iter()` has no index in the source; the generated code indexes with one.
            let var = node.var_name.to_string();
            let name = if var == "_" {
                make_ident(&names.generated("i"))
            } else if let Some(base) = var.strip_prefix(HIDDEN) {
                make_ident(&names.generated(base))
            } else {
                node.var_name.clone()
            };
            self.names[node.var.index()] = Some(name);
        }
        for i in 0..self.f.nodes.len() {
            if !self.bound[i] || self.names[i].is_some() {
                continue;
            }
            let v = ValueId(i as u32);
            // A carried variable has one name inside and after its loop.
            let partner = match self.f.nodes[i].op {
                Op::LoopPhi(l, k) | Op::LoopOut(l, k) => {
                    self.f.loop_node(l).carried.get(k as usize).map(|c| if c.inner == v { c.out } else { c.inner })
                }
                _ => None,
            };
            let hint = self.f.nodes[i].hint.clone().or_else(|| partner.and_then(|p| self.f.node(p).hint.clone()));
            let name = match hint {
                // Names the lowering made up (an iterator's accumulator) read as generated ones.
                Some(Hint::User(n)) if n.starts_with(HIDDEN) => names.generated(&n[HIDDEN.len()..]),
                Some(Hint::User(n)) | Some(Hint::Output(n)) => names.user(n.trim_start_matches("r#")),
                Some(Hint::Adjoint(of)) => match (&self.names[of.index()], &self.f.node(of).hint) {
                    (Some(base), _) => names.generated(&format!("d_{}", base.to_string().trim_start_matches("r#"))),
                    // A value no longer computed (a pullback reads it from its result) still
                    // names its adjoint.
                    (None, Some(Hint::User(n))) if !n.starts_with(HIDDEN) => {
                        names.generated(&format!("d_{}", n.trim_start_matches("r#")))
                    }
                    (None, _) => names.temp(),
                },
                None => names.temp(),
            };
            let ident = make_ident(&name);
            if let Some(p) = partner {
                self.names[p.index()] = Some(ident.clone());
            }
            self.names[i] = Some(ident);
        }
        for d in &mut self.derived {
            let base = self.names[d.next.index()].as_ref().map(|n| n.to_string()).unwrap_or_default();
            d.shadow = Some(make_ident(&names.generated(&format!("{base}_later"))));
        }
        let capacities: Vec<Option<TokenStream>> = self
            .tapes
            .iter()
            .map(|t| {
                let literal = self.literal_capacity(t.body).filter(|k| (1..=STACK_TAPE_LIMIT).contains(k));
                literal
                    .map(|k| proc_macro2::Literal::usize_unsuffixed(k).into_token_stream())
                    .or_else(|| self.generic_capacity(t.body))
            })
            .collect();
        let sized: Vec<bool> = self.tapes.iter().map(|t| self.trip_loops(t.body).is_some()).collect();
        for (k, (t, capacity)) in self.tapes.iter_mut().zip(capacities).enumerate() {
            let base = self.names[t.value.index()].as_ref().map(|n| n.to_string()).unwrap_or_default();
            let name = names.generated(&format!("tape_{base}"));
            let len = Ident::new(&names.generated(&format!("{name}_len")), Span::call_site());
            if let Some(k) = capacity {
                t.stack = Some((k, len.clone()));
            }
            // Indexed by a fill count when its size is known on entry (a stack array or a buffer
            // sized once per call); pushed and popped otherwise (a `while` loop's).
            if t.stack.is_some() || sized[k] {
                t.len = Some(len);
            }
            t.name = Some(Ident::new(&name, Span::call_site()));
        }
    }
}

/// An identifier for `name`, raw (`r#match`) when `name` is a keyword.
pub(crate) fn make_ident(name: &str) -> Ident {
    // Path keywords cannot be raw; `self` is the receiver.
    if matches!(name, "self" | "Self" | "super" | "crate") {
        return Ident::new(name, Span::call_site());
    }
    match syn::parse_str::<Ident>(name) {
        Ok(_) => Ident::new(name, Span::call_site()),
        Err(_) => Ident::new_raw(name, Span::call_site()),
    }
}
