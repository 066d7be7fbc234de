//! Prints what `#[backprop]` generates for the functions in a file, pretty-printed: a developer's
//! `cargo expand` for one function without a compiler round trip.
//!
//! `cargo run -p backprop-codegen --example expand -- path/to/file.rs`
//! Each `fn` in the file is expanded as if it carried `#[backprop]`; an attribute
//! `#[backprop(wrt(a, b))]` on it is honoured. An `impl` block is expanded as with `#[backprop]`
//! on it (its methods marked `#[backprop]`).

use quote::ToTokens;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: expand <file.rs>");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2);
    });
    let file: syn::File = syn::parse_str(&text).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2);
    });
    for item in file.items {
        // An `impl` block is expanded whole (its `#[backprop]` methods).
        if let syn::Item::Impl(mut block) = item {
            block.attrs.retain(|a| !a.path().is_ident("backprop"));
            let out = backprop_codegen::expand(proc_macro2::TokenStream::new(), block.to_token_stream());
            match syn::parse2::<syn::File>(out.clone()) {
                Ok(f) => println!("{}", prettyplease::unparse(&f)),
                Err(_) => println!("{out}"),
            }
            continue;
        }
        let syn::Item::Fn(mut func) = item else { continue };
        let mut attr = proc_macro2::TokenStream::new();
        func.attrs.retain(|a| {
            if a.path().is_ident("backprop") {
                if let syn::Meta::List(list) = &a.meta {
                    attr = list.tokens.clone();
                }
                false
            } else {
                true
            }
        });
        let out = backprop_codegen::expand(attr, func.to_token_stream());
        match syn::parse2::<syn::File>(out.clone()) {
            Ok(f) => println!("{}", prettyplease::unparse(&f)),
            Err(_) => println!("{out}"),
        }
    }
}
