//! Name allocation for generated bindings: the user's names where they exist (`a3`, a reassigned
//! `a3` becomes `a3_2`), `d_<name>` for adjoints, `t<k>` for unnamed temporaries; never a name that
//! appears anywhere in the user's function, so nothing generated can shadow or capture user code.

use proc_macro2::{TokenStream, TokenTree};
use std::collections::HashSet;

pub struct Names {
    /// Every identifier in the user's function.
    reserved: HashSet<String>,
    taken: HashSet<String>,
    temp_counter: usize,
}

impl Names {
    pub fn new(user_tokens: TokenStream) -> Self {
        let mut reserved = HashSet::new();
        collect_idents(user_tokens, &mut reserved);
        Names { reserved, taken: HashSet::new(), temp_counter: 0 }
    }

    /// Marks a name as used (the arguments, which keep their names).
    pub fn take(&mut self, name: &str) {
        self.taken.insert(name.to_string());
    }

    /// A user's own variable name: itself if still free, else `name_2`, `name_3`, ...
    pub fn user(&mut self, name: &str) -> String {
        if !self.taken.contains(name) {
            self.taken.insert(name.to_string());
            return name.to_string();
        }
        self.fresh_numbered(name, 2)
    }

    /// A generated name built from `base` (`d_a3`): `base` unless the user's code or an earlier
    /// binding has it, then `base_2`, ...
    pub fn generated(&mut self, base: &str) -> String {
        if self.is_free(base) {
            self.taken.insert(base.to_string());
            return base.to_string();
        }
        self.fresh_numbered(base, 2)
    }

    /// An unnamed temporary: `t0`, `t1`, ...
    pub fn temp(&mut self) -> String {
        loop {
            let name = format!("t{}", self.temp_counter);
            self.temp_counter += 1;
            if self.is_free(&name) {
                self.taken.insert(name.clone());
                return name;
            }
        }
    }

    fn is_free(&self, name: &str) -> bool {
        !self.reserved.contains(name) && !self.taken.contains(name)
    }

    fn fresh_numbered(&mut self, base: &str, start: usize) -> String {
        let mut k = start;
        loop {
            let name = format!("{base}_{k}");
            if self.is_free(&name) {
                self.taken.insert(name.clone());
                return name;
            }
            k += 1;
        }
    }
}

fn collect_idents(tokens: TokenStream, out: &mut HashSet<String>) {
    for tt in tokens {
        match tt {
            TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            TokenTree::Group(g) => collect_idents(g.stream(), out),
            _ => {}
        }
    }
}

/// `two_layer` → `TwoLayer`.
pub fn camel_case(name: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in name.trim_start_matches("r#").chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn camel_case_joins_words() {
        assert_eq!(camel_case("two_layer"), "TwoLayer");
        assert_eq!(camel_case("cost"), "Cost");
        assert_eq!(camel_case("_private_fn"), "PrivateFn");
    }

    #[test]
    fn generated_names_avoid_user_identifiers() {
        let mut names = Names::new(quote!(
            fn f(d_x: f64, x: f64, t0: f64) -> f64 {
                x * d_x + t0
            }
        ));
        names.take("x");
        assert_eq!(names.generated("d_x"), "d_x_2");
        assert_eq!(names.temp(), "t1");
        assert_eq!(names.user("a"), "a");
        assert_eq!(names.user("a"), "a_2");
    }
}
