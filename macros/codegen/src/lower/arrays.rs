//! Lowering of arrays: array arguments and locals, element reads and writes, `.len()` and
//! `.iter().sum()`. Element reads are `Load`s tagged with the array's version, so a read after a
//! write is a new value; element writes are `Store` side effects in block order.

use super::{Binding, Lower};
use crate::ir::{Array, ArrayId, ArrayOrigin, Dim, Func, Hint, Op, Ty, ValueId};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::Expr;

impl Lower<'_> {
    /// `let mut h = [0.0; N];` or `[[0.0; N]; M]`.
    pub(super) fn local_array(&mut self, name: &syn::Ident, init: &Expr, mutable: bool) {
        let mut dims = Vec::new();
        let mut cur = init;
        // `vec![fill; n]`: a scratch buffer whose length is known on entry.
        let repeat;
        if let Expr::Macro(m) = init {
            let parsed = m.mac.parse_body_with(|input: syn::parse::ParseStream| {
                let fill: Expr = input.parse()?;
                input.parse::<syn::Token![;]>()?;
                let len: Expr = input.parse()?;
                Ok((fill, len))
            });
            let Ok((fill, len)) = parsed else {
                self.cx.error_spanned_by(
                    &m.mac,
                    "a scratch buffer is `vec![0.0; n]` (a constant fill and a length); `vec![a, b, c]` is not supported",
                );
                return;
            };
            let n = self.expr(&len);
            if self.f.ty(n) != Ty::Int {
                self.cx.error_spanned_by(&len, "the length of `vec![0.0; n]` must be an integer");
                return;
            }
            if !self.known_on_entry(n) {
                self.cx.error_spanned_by(
                    &len,
                    "the length of `vec![0.0; n]` must be computed from the arguments (integers, `.len()` of array arguments): the gradient's buffer for it is sized before the function runs",
                );
                return;
            }
            dims.push(Dim::Value(n));
            repeat = fill;
            cur = &repeat;
        }
        while let Expr::Repeat(r) = cur {
            dims.push(Dim::Const(r.len.to_token_stream()));
            cur = &r.expr;
        }
        let fill = self.expr(cur);
        let elem = match self.f.ty(fill) {
            Ty::Float(f) => Ty::Float(f),
            Ty::Unknown => Ty::Float(self.f.float),
            _ => {
                self.cx.error_spanned_by(cur, "local arrays must hold floats: `[0.0; N]`");
                return;
            }
        };
        if self.f.float_lit(fill).is_none() && !matches!(self.f.node(fill).op, Op::Const(_)) {
            let form = match init {
                Expr::Macro(_) => "`vec![0.0; n]` (or `vec![T::zero(); n]`)",
                _ => "`[0.0; N]` (or `[T::zero(); N]`)",
            };
            self.cx.error_spanned_by(
                cur,
                format!("a local array starts filled with a constant: {form}; write the elements afterwards"),
            );
            return;
        }
        let array =
            self.f.add_array(Array { name: name.clone(), elem, dims, origin: ArrayOrigin::Local { fill }, mutable });
        self.f.add_unique(Op::Declare(array), Ty::Unit, self.block, init.span());
        self.f.bump_version(array);
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.to_string(), Binding::Array(array)));
        }
    }

    /// The length of an array: its pushes so far for a `Vec::with_capacity` buffer.
    pub(super) fn array_len(&mut self, array: ArrayId, span: proc_macro2::Span) -> ValueId {
        if let Some(counter) = self.pushed.get(&array).cloned() {
            let path: syn::ExprPath = syn::parse_str(&counter).expect("an identifier");
            return self.path(&path);
        }
        self.add(Op::Len(array), Ty::Int, span)
    }

    /// `let mut v = Vec::with_capacity(n);`: a buffer of `n` floats and a count of its `push`es
    /// (`v.len()`), so the adjoint is sized before the function runs. Pushing more than `n`
    /// elements is an error at run time (an index out of bounds), where the `Vec` would grow.
    pub(super) fn with_capacity(&mut self, name: &syn::Ident, capacity: &Expr) {
        let buffer: Expr = syn::parse_quote!(vec![0.0; #capacity]);
        self.local_array(name, &buffer, true);
        let Some((si, vi)) = self.lookup(&name.to_string()) else { return };
        let Binding::Array(array) = self.scopes[si][vi].1 else { return };
        let counter = format!("{}len_{name}", crate::plan::HIDDEN);
        let ident = syn::Ident::new(&counter, name.span());
        let declare: syn::Stmt = syn::parse_quote!(let mut #ident = 0usize;);
        self.stmt(&declare, false);
        self.pushed.insert(array, counter);
    }

    /// `v.push(e);` on a `Vec::with_capacity` buffer: `v[len] = e; len += 1;`.
    pub(super) fn push(&mut self, m: &syn::ExprMethodCall) -> bool {
        let Expr::Path(p) = &*m.receiver else { return false };
        let Some(array) = p.path.get_ident().and_then(|i| self.lookup(&i.to_string())).and_then(|(si, vi)| match self
            .scopes[si][vi]
            .1
        {
            Binding::Array(a) => Some(a),
            _ => None,
        }) else {
            return false;
        };
        let Some(counter) = self.pushed.get(&array).cloned() else {
            self.cx.error_spanned_by(m, "`push` is supported on a buffer made with `Vec::with_capacity(n)`");
            return true;
        };
        let counter = syn::Ident::new(&counter, m.method.span());
        let (v, e) = (&m.receiver, &m.args[0]);
        let store: syn::Stmt = syn::parse_quote!(#v[#counter] = #e;);
        let count: syn::Stmt = syn::parse_quote!(#counter += 1;);
        self.stmt(&store, false);
        self.stmt(&count, false);
        true
    }

    /// An integer computed from the arguments only: valid before the function body runs.
    fn known_on_entry(&self, v: ValueId) -> bool {
        let node = self.f.node(v);
        match &node.op {
            Op::Param(_) | Op::IntLit(_) | Op::Const(_) => true,
            // An argument array, a field of a parameter struct (`p.w.len()`), a constant table.
            Op::Len(a) => matches!(
                self.f.array(*a).origin,
                ArrayOrigin::Param { .. } | ArrayOrigin::Field { .. } | ArrayOrigin::Const(_)
            ),
            Op::Unary(_, a) | Op::Cast(_, a) => node.ty == Ty::Int && self.known_on_entry(*a),
            Op::Binary(_, a, b) => node.ty == Ty::Int && self.known_on_entry(*a) && self.known_on_entry(*b),
            _ => false,
        }
    }

    /// `let s = x.to_vec();` of a one-dimensional float array: a scratch buffer with a copy of `x`,
    /// lowered as `let mut s = vec![0.0; x.len()];` and a loop copying the elements.
    pub(super) fn lower_to_vec(&mut self, name: &syn::Ident, m: &syn::ExprMethodCall) -> bool {
        let Expr::Path(p) = &*m.receiver else { return false };
        let Some(source) = p.path.get_ident().and_then(|i| self.lookup(&i.to_string())).and_then(|(si, vi)| match self
            .scopes[si][vi]
            .1
        {
            Binding::Array(a) => Some(a),
            _ => None,
        }) else {
            return false;
        };
        let array = self.f.array(source);
        if array.dims.len() != 1 || array.elem.float().is_none() {
            self.cx.error_spanned_by(m, "`.to_vec()` is supported on one-dimensional float arrays");
            return true;
        }
        let x = &m.receiver;
        let k = syn::Ident::new("__backprop_k", m.method.span());
        let decl: syn::Expr = syn::parse_quote!(vec![0.0; #x.len()]);
        self.local_array(name, &decl, true);
        let copy: syn::ExprForLoop = syn::parse_quote!(for #k in 0..#x.len() { #name[#k] = #x[#k]; });
        self.for_loop(&copy);
        true
    }

    /// The array and indices of `a[i][j]`, or an error.
    fn element(&mut self, index: &syn::ExprIndex) -> Option<(ArrayId, Vec<ValueId>)> {
        let mut indices = vec![&*index.index];
        let mut base = &*index.expr;
        while let Expr::Index(inner) = base {
            indices.push(&inner.index);
            base = &inner.expr;
        }
        indices.reverse();
        let base = match base {
            Expr::Paren(p) => &*p.expr,
            other => other,
        };
        let field = match base {
            Expr::Field(_) => self.array_place(base, indices.len()),
            _ => None,
        };
        let (array, path) = match (field, base) {
            (Some(a), _) => (Some(a), None),
            (None, Expr::Path(path)) => (None, Some(path)),
            _ if self.poisoned_root(base) => return None,
            _ => {
                self.cx.error_spanned_by(
                    base,
                    "only elements of named arrays can be indexed: `x[i]`, `w[j][i]`, or of a parameter struct's fields: `net.w[j][i]`",
                );
                return None;
            }
        };
        let array = match (array, path) {
            (Some(a), _) => a,
            (None, Some(path)) => self.named_array(path, indices.len(), base)?,
            (None, None) => return None,
        };
        self.indices(index, array, indices)
    }

    /// The array a name stands for in `name[i]..`: a binding, or a constant table.
    fn named_array(&mut self, path: &syn::ExprPath, rank: usize, base: &Expr) -> Option<ArrayId> {
        let array = match path.path.get_ident().and_then(|i| self.lookup(&i.to_string())) {
            Some((si, vi)) => match self.scopes[si][vi].1 {
                Binding::Array(a) => a,
                Binding::Value(_) if path.path.get_ident().is_some_and(|i| self.poisoned.contains(&i.to_string())) => {
                    return None;
                }
                Binding::Value(_) => {
                    self.cx.error_spanned_by(base, "indexing a scalar: only arrays can be indexed");
                    return None;
                }
                Binding::Tuple(_) => {
                    self.cx.error_spanned_by(base, "indexing a tuple: read its fields with `.0`, `.1`");
                    return None;
                }
                Binding::Struct(_) => {
                    self.cx
                        .error_spanned_by(base, "indexing a parameter struct: index its array fields (`net.w[j][i]`)");
                    return None;
                }
            },
            None if path.path.get_ident().is_some_and(|i| self.poisoned.contains(&i.to_string())) => return None,
            None => {
                // A constant table (`const Y: [f64; 15] = [..];`): read-only, derivative zero.
                let idx = self.f.intern_path(path.to_token_stream());
                let name = path.path.segments.last().map(|s| s.ident.clone())?;
                let existing = self.f.arrays.iter().position(|a| matches!(a.origin, ArrayOrigin::Const(i) if i == idx));
                match existing {
                    Some(a) => ArrayId(a as u32),
                    None => self.f.add_array(Array {
                        name,
                        elem: Ty::Unknown,
                        dims: vec![Dim::Dynamic; rank],
                        origin: ArrayOrigin::Const(idx),
                        mutable: false,
                    }),
                }
            }
        };
        Some(array)
    }

    /// Lowers the indices of an element of `array`, checking their number and type.
    fn indices(
        &mut self,
        index: &syn::ExprIndex,
        array: ArrayId,
        indices: Vec<&Expr>,
    ) -> Option<(ArrayId, Vec<ValueId>)> {
        let rank = self.f.array(array).dims.len();
        // A field's rank is as it is used (rustc checks it against the struct).
        let field = matches!(self.f.array(array).origin, ArrayOrigin::Field { .. } | ArrayOrigin::Returned(_));
        if indices.len() != rank && !field {
            self.cx.error_spanned_by(
                index,
                format!(
                    "`{}` has {rank} dimension(s) and must be indexed by exactly that many indices here",
                    self.f.array(array).name
                ),
            );
            return None;
        }
        let mut values = Vec::new();
        for i in indices {
            let v = self.expr(i);
            if self.f.ty(v).float().is_some() {
                let message = if self.reads_a_float_call(v, 4) {
                    "an index computed from a call's result: `#[backprop]` takes a call with no type written for a differentiable function returning a float; write the type of a plain function's index (`let j: usize = nearest(..);`), which calls it as it is, not differentiated"
                } else {
                    "an index computed from a float is not supported: indices must be integers (loop variables, integer arguments, `.len()`, and arithmetic on them)"
                };
                self.cx.error_spanned_by(i, message);
                return None;
            }
            values.push(v);
        }
        Some((array, values))
    }

    /// Whether `v` is, or is computed from (within `depth` operations), a differentiable call's
    /// float result.
    fn reads_a_float_call(&self, v: ValueId, depth: u32) -> bool {
        let op = &self.f.node(v).op;
        matches!(op, Op::Invoke(..))
            || (depth > 0 && op.operands().into_iter().any(|a| self.reads_a_float_call(a, depth - 1)))
    }

    /// `a[i][j]` as a value.
    pub(super) fn load(&mut self, index: &syn::ExprIndex) -> ValueId {
        let Some((array, indices)) = self.element(index) else { return self.poison() };
        let ty = self.f.array(array).elem;
        let version = self.f.versions[array.index()];
        self.add(Op::Load(array, version, indices), ty, index.span())
    }

    /// Why `array` may not be written, and what to write instead.
    pub(super) fn read_only_message(&self, array: ArrayId) -> String {
        let a = self.f.array(array);
        match a.origin {
            ArrayOrigin::Param { by_ref: true, .. } | ArrayOrigin::Const(_) => {
                format!("`{}` is read-only here; copy what you need into a local array `let mut h = [0.0; N];`", a.name)
            }
            ArrayOrigin::Field { param, ref path } => format!(
                "`{}` is a field of the parameter struct `{}`, read-only in a `#[backprop]` function; copy what you need into a local array `let mut h = [0.0; N];`",
                self.field_shown(param, path),
                self.f.params[param as usize].name
            ),
            ArrayOrigin::Returned(call) => format!(
                "`{name}` is the array `{callee}` returned, bound read-only; bind it with `let mut {name} = {callee}(..);` to write into a copy of it",
                name = a.name,
                callee = self.f.calls[call.index()].callee.to_string().replace(' ', "")
            ),
            _ => format!("`{}` is not mutable; declare it with `let mut` (or `mut` on the argument)", a.name),
        }
    }

    /// `a[i][j] = value`.
    pub(super) fn store(&mut self, index: &syn::ExprIndex, value: ValueId) {
        let Some((array, mut indices)) = self.element(index) else { return };
        let a = self.f.array(array);
        if !a.mutable {
            let message = self.read_only_message(array);
            self.cx.error_spanned_by(index, message);
            return;
        }
        if self.f.ty(value).float().is_none() && self.f.ty(value) != Ty::Unknown {
            self.cx.error_spanned_by(index, "only floats can be stored in an array element");
            return;
        }
        indices.push(value);
        self.f.add_unique(Op::Store(array, indices), Ty::Unit, self.block, index.span());
        self.f.bump_version(array);
    }

    /// `x.len()` and `x.iter().sum::<f64>()` on an array; `None` when `m` is not one of them.
    pub(super) fn array_method(&mut self, m: &syn::ExprMethodCall) -> Option<ValueId> {
        let name = m.method.to_string();
        let array_of = |this: &mut Self, e: &Expr| -> Option<ArrayId> { this.array_place(e, 1) };
        if name == "len" && m.args.is_empty() {
            let array = array_of(self, &m.receiver)?;
            return Some(self.array_len(array, m.span()));
        }
        if name == "sum" && m.args.is_empty() {
            let Expr::MethodCall(iter) = &*m.receiver else { return None };
            if iter.method != "iter" || !iter.args.is_empty() {
                return None;
            }
            let array = array_of(self, &iter.receiver)?;
            if self.pushed.contains_key(&array) {
                self.cx.error_spanned_by(
                    m,
                    "`.iter().sum()` of a buffer filled with `push` is not supported; sum it with a `for` loop over `0..v.len()`",
                );
                return Some(self.poison());
            }
            let a = self.f.array(array);
            if a.dims.len() != 1 {
                self.cx.error_spanned_by(
                    m,
                    "`.iter().sum()` is supported on one-dimensional arrays; sum rows with a `for` loop",
                );
                return Some(self.poison());
            }
            if a.elem.float().is_none() {
                self.cx.error_spanned_by(
                    m,
                    "`.iter().sum()` is supported on arrays of floats; sum integers with a `for` loop and a float accumulator (`s += k as f64`)",
                );
                return Some(self.poison());
            }
            let version = self.f.versions[array.index()];
            let ty = a.elem;
            // Kept as the user wrote it, so the value is the same bits as `iter().sum()`.
            let v = self.add(Op::Call(Func::SumArray(array.0, version), Vec::new()), ty, m.span());
            return Some(v);
        }
        None
    }

    /// Names a freshly loaded loop element (`xi` in `for (i, xi) in x.iter().enumerate()`).
    pub(super) fn bind_element(&mut self, name: &syn::Ident, array: ArrayId, index: ValueId) {
        let ty = self.f.array(array).elem;
        let version = self.f.versions[array.index()];
        let v = self.add(Op::Load(array, version, vec![index]), ty, name.span());
        self.f.suggest_name(v, Hint::User(name.to_string()));
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.to_string(), Binding::Value(v)));
        }
    }
}
