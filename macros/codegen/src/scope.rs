//! The printer's scope check, in the spirit of cranelift's verifier between passes: every name the
//! printed code uses must be bound, by the value the plan means, in a scope that encloses the use.
//!
//! The printer reports each binding (`let`, loop variables, carried variables, tape pops, `if`
//! outputs, arrays) and each use as it prints, and opens and closes a scope per Rust block. A use of
//! a name bound nowhere in reach (`dist` after the inner loop that bound it ended) or bound to
//! another value (a carried variable's name after its loop, which now holds the final value) is a
//! problem: the expansion is then an internal error, reported as a `compile_error!` that says so,
//! never code that rustc rejects with a confusing message or, worse, accepts with the wrong value.

use crate::ir::{ArrayId, ValueId};

/// What a name stands for in the generated code.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Bound {
    Value(ValueId),
    Array(ArrayId),
}

/// Scopes of the code being printed, innermost last, and the problems found. Each name keeps a
/// stack of its bindings, so a lookup is one map access (a linear scan of every binding in scope
/// made a 10,000-statement function's expansion quadratic).
#[derive(Default, Debug)]
pub struct ScopeCheck {
    /// Per scope, the names it bound (to pop them when it closes).
    scopes: Vec<Vec<String>>,
    /// Per name, its bindings, innermost last.
    bindings: std::collections::HashMap<String, Vec<Bound>>,
    problems: Vec<String>,
    active: bool,
}

/// More problems than this say nothing new.
const MAX_PROBLEMS: usize = 4;

impl ScopeCheck {
    /// Starts checking a function body (its arguments are bound next).
    pub fn start(&mut self) {
        *self = ScopeCheck { scopes: vec![Vec::new()], active: true, ..ScopeCheck::default() };
    }

    /// Stops checking; returns what was found.
    pub fn finish(&mut self) -> Vec<String> {
        self.active = false;
        self.scopes.clear();
        self.bindings.clear();
        std::mem::take(&mut self.problems)
    }

    pub fn open(&mut self) {
        if self.active {
            self.scopes.push(Vec::new());
        }
    }

    pub fn close(&mut self) {
        if self.active && self.scopes.len() > 1 {
            for name in self.scopes.pop().unwrap_or_default() {
                if let Some(stack) = self.bindings.get_mut(&name) {
                    stack.pop();
                }
            }
        }
    }

    pub fn bind(&mut self, name: &str, what: Bound) {
        if let (true, Some(scope)) = (self.active, self.scopes.last_mut()) {
            scope.push(name.to_string());
            self.bindings.entry(name.to_string()).or_default().push(what);
        }
    }

    /// A use of `name`, meant as `what`.
    pub fn use_name(&mut self, name: &str, what: Bound) {
        if !self.active || self.problems.len() >= MAX_PROBLEMS {
            return;
        }
        let found = self.bindings.get(name).and_then(|stack| stack.last()).copied();
        match found {
            Some(b) if b == what => {}
            Some(_) => self.problems.push(format!("`{name}` is used where that name holds another value")),
            None => self.problems.push(format!("`{name}` is used outside the scope of its binding")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_use_after_its_scope_closed_is_a_problem() {
        let mut s = ScopeCheck::default();
        s.start();
        s.open();
        s.bind("dist", Bound::Value(ValueId(3)));
        s.use_name("dist", Bound::Value(ValueId(3)));
        s.close();
        s.use_name("dist", Bound::Value(ValueId(3)));
        assert_eq!(s.finish(), vec!["`dist` is used outside the scope of its binding".to_string()]);
    }

    #[test]
    fn a_name_that_holds_another_value_is_a_problem() {
        let mut s = ScopeCheck::default();
        s.start();
        s.bind("best", Bound::Value(ValueId(1)));
        s.open();
        s.bind("best", Bound::Value(ValueId(2)));
        s.use_name("best", Bound::Value(ValueId(2)));
        s.use_name("best", Bound::Value(ValueId(1)));
        s.close();
        s.use_name("best", Bound::Value(ValueId(1)));
        assert_eq!(s.finish(), vec!["`best` is used where that name holds another value".to_string()]);
    }
}
