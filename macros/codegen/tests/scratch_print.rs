use quote::quote;
#[test]
fn print() {
    let out = backprop_codegen::expand(
        quote!(),
        quote!(
            pub fn cost(w1: f64, w2: f64, w3: f64, a0: f64, y: f64) -> f64 {
                let a1 = w1 * a0;
                let a2 = w2 * a1;
                let a3 = w3 * a2;
                (a3 - y).powi(2)
            }
        ),
    );
    let file: syn::File = syn::parse2(out.clone()).unwrap_or_else(|e| panic!("{e}\n{out}"));
    println!("{}", prettyplease::unparse(&file));
    let out = backprop_codegen::expand(
        quote!(wrt(x)),
        quote!(
            fn f(x: f64, k: f64, n: i32) -> f64 {
                let mut y = x.sin() * k;
                if x > 0.5 {
                    let t = x.exp();
                    y += t * t;
                } else {
                    y = sigmoid(y) * 2.0;
                }
                let z = if y > 1.0 { y.powi(n) } else { -y };
                z.max(x).ln() + std::f64::consts::PI * x.tanh()
            }
        ),
    );
    let file: syn::File = syn::parse2(out.clone()).unwrap_or_else(|e| panic!("{e}\n{out}"));
    println!("{}", prettyplease::unparse(&file));
}
