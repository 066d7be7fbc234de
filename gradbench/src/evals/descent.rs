//! The gradient descent GradBench's `particle` and `saddle` prescribe (the haskell and futhark
//! tools' solver): steps `eta` from 1e-5, doubled after 10 accepted steps in a row, halved on a
//! rejected one; stop when `|g| ≤ 1e-5` or a step moves at most 1e-5.

/// `argmin` of `f` from `x0` by the reference's gradient descent, `g` its gradient.
pub fn argmin(f: impl Fn(&[f64]) -> f64, g: impl Fn(&[f64]) -> Vec<f64>, x0: &[f64]) -> Vec<f64> {
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    let (mut x, mut fx, mut gx) = (x0.to_vec(), f(x0), g(x0));
    let (mut eta, mut i) = (1e-5, 0);
    loop {
        if norm(&gx) <= 1e-5 {
            return x;
        }
        if i == 10 {
            eta *= 2.0;
            i = 0;
            continue;
        }
        let x_new: Vec<f64> = x.iter().zip(&gx).map(|(a, b)| a - eta * b).collect();
        let step: Vec<f64> = x.iter().zip(&x_new).map(|(a, b)| a - b).collect();
        if norm(&step) <= 1e-5 {
            return x;
        }
        let f_new = f(&x_new);
        if f_new < fx {
            gx = g(&x_new);
            (x, fx) = (x_new, f_new);
            i += 1;
        } else {
            eta /= 2.0;
            i = 0;
        }
    }
}

/// `argmax` as `argmin` of `−f` with gradient `−g`.
pub fn argmax(f: impl Fn(&[f64]) -> f64, g: impl Fn(&[f64]) -> Vec<f64>, x0: &[f64]) -> Vec<f64> {
    argmin(|x| -f(x), |x| g(x).iter().map(|v| -v).collect(), x0)
}
