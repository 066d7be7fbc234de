//! `#[inline(always)]` on a `#[backprop]` function carries to its generated functions, so a caller
//! compiled for more of the CPU (`#[target_feature]`, chosen at run time) runs the derivatives
//! compiled for it: the same values, bit for bit, as the portable build.

use backprop::prelude::*;

#[inline(always)]
#[backprop(hessian)]
fn energy(x: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let t = x[i] * a - 0.5;
        s += t * t * x[i];
    }
    s
}

fn point() -> (Vec<f64>, f64) {
    ((0..37).map(|i| (i as f64 * 0.37).sin()).collect(), 1.25)
}

/// `E = Σ (a xᵢ − ½)² xᵢ`: `∂E/∂xᵢ = (a xᵢ − ½)(3 a xᵢ − ½)`, `∂E/∂a = Σ 2 (a xᵢ − ½) xᵢ²`.
#[test]
fn gradient_matches_the_closed_form() {
    let (x, a) = point();
    let (value, g) = energy_grad(&x, a);
    let expected: f64 = x.iter().map(|&xi| (a * xi - 0.5).powi(2) * xi).sum();
    assert!((value - expected).abs() < 1e-12);
    for (i, &xi) in x.iter().enumerate() {
        let d = (a * xi - 0.5) * (3.0 * a * xi - 0.5);
        assert!((g.x[i] - d).abs() < 1e-12, "x[{i}]: {} vs {d}", g.x[i]);
    }
    let da: f64 = x.iter().map(|&xi| 2.0 * (a * xi - 0.5) * xi * xi).sum();
    assert!((g.a - da).abs() < 1e-12);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn hvp_avx2(x: &[f64], a: f64, v: &EnergyGrad) -> (f64, EnergyGrad, EnergyGrad) {
    energy_hvp(x, a, v)
}

#[test]
fn a_target_feature_caller_gets_the_same_bits() {
    let (x, a) = point();
    let v = EnergyGrad { x: (0..x.len()).map(|i| 1.0 - i as f64 * 0.01).collect(), a: 0.5 };
    let portable = energy_hvp(&x, a, &v);
    // `H·v` against the closed form: ∂²E/∂xᵢ² = a (6 a xᵢ − 2), ∂²E/∂xᵢ∂a = xᵢ (6 a xᵢ − 2),
    // ∂²E/∂a² = Σ 2 xᵢ³.
    for (i, &xi) in x.iter().enumerate() {
        let hv = a * (6.0 * a * xi - 2.0) * v.x[i] + xi * (6.0 * a * xi - 2.0) * v.a;
        assert!((portable.2.x[i] - hv).abs() < 1e-12, "(H·v).x[{i}]");
    }
    let hva: f64 =
        x.iter().enumerate().map(|(i, &xi)| xi * (6.0 * a * xi - 2.0) * v.x[i] + 2.0 * xi.powi(3) * v.a).sum();
    assert!((portable.2.a - hva).abs() < 1e-12);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked above).
        let fast = unsafe { hvp_avx2(&x, a, &v) };
        assert_eq!(fast.0.to_bits(), portable.0.to_bits());
        for (p, q) in [(&fast.1, &portable.1), (&fast.2, &portable.2)] {
            assert!(p.x.iter().zip(&q.x).all(|(s, t)| s.to_bits() == t.to_bits()));
            assert_eq!(p.a.to_bits(), q.a.to_bits());
        }
    }
}
