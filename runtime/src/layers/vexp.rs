//! A branch-free sigmoid over a slice of `f32` or `f64` that LLVM vectorises (issue 17).
//!
//! `f32::exp` is a call into libm per element, which no loop around it can vectorise; over a
//! batch the sigmoid's exponentials cost as much as the GEMMs. Here `e^x` for `x ≤ 0` is Cephes'
//! `expf` (Cody–Waite reduction by ln 2, a degree-5 minimax polynomial, the power of two put into
//! the exponent bits), written without calls or branches: within 2 ulp of `f32::exp`, and the
//! loop runs four or eight lanes at a time. `f64` the same way with a longer polynomial.

/// `e^x` for `x ≤ 0` (NaN stays NaN; below −87, where `e^x` leaves the normal range, 0).
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 · 2^23: adding it rounds to an integer (to nearest even) and leaves that integer in the
    // low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    // A comparison, not `max`, so that NaN goes on into the arithmetic and comes out NaN.
    let xc = if x < -87.0 { -87.0 } else { x };
    let shifted = xc * LOG2E + MAGIC;
    let n = shifted - MAGIC;
    let k = shifted.to_bits().wrapping_sub(MAGIC.to_bits()) as i32;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let z = r * r;
    let p = (((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1)
        * r
        + 0.5)
        * z
        + r
        + 1.0;
    let scale = f32::from_bits(((k + 127) << 23) as u32);
    let e = p * scale;
    if x < -87.0 {
        0.0
    } else {
        e
    }
}

/// `e^x` for `x ≤ 0` in `f64` (NaN stays NaN; below −708, where `e^x` leaves the normal range,
/// 0): fdlibm's two-part ln 2 for the reduction, then the Taylor polynomial of degree 13 on
/// `|r| ≤ ln 2 / 2` (truncation below 1e-17), within 2 ulp of `f64::exp`.
#[inline(always)]
fn exp_nonpositive_f64(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // 1.5 · 2^52, as for f32.
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    let xc = if x < -708.0 { -708.0 } else { x };
    let shifted = xc * LOG2E + MAGIC;
    let n = shifted - MAGIC;
    let k = shifted.to_bits().wrapping_sub(MAGIC.to_bits()) as i64;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    // 1/j! for j = 13 down to 2.
    const C: [f64; 12] = [
        1.0 / 6_227_020_800.0,
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
    ];
    let mut p = C[0];
    for c in &C[1..] {
        p = p * r + c;
    }
    let p = (p * r * r + r) + 1.0;
    let scale = f64::from_bits(((k + 1023) << 52) as u64);
    let e = p * scale;
    if x < -708.0 {
        0.0
    } else {
        e
    }
}

macro_rules! sigmoid_slice {
    ($t:ty, $name:ident, $avx2:ident, $loop:ident, $exp:ident) => {
        /// `v ← sigmoid(v)` element-wise, `e = e^−|v|` and `1/(1 + e)` or `e/(1 + e)` by the sign
        /// (so no overflow at either end); agrees with [`sigmoid`](crate::activation::sigmoid) to
        /// 3 ulp. On x86-64 with AVX2 and FMA (detected at run time) the loop runs in 256-bit
        /// registers.
        pub(super) fn $name(v: &mut [$t]) {
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has the features the function is compiled for (checked above).
                return unsafe { $avx2(v) };
            }
            $loop(v)
        }

        /// The loop compiled for AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $avx2(v: &mut [$t]) {
            $loop(v)
        }

        #[inline(always)]
        fn $loop(v: &mut [$t]) {
            for v in v.iter_mut() {
                let x = *v;
                let e = $exp(-x.abs());
                let d = 1.0 / (1.0 + e);
                *v = if x < 0.0 { e * d } else { d };
            }
        }
    };
}
sigmoid_slice!(f32, sigmoid_f32_in_place, sigmoid_f32_avx2, sigmoid_f32_loop, exp_nonpositive);
sigmoid_slice!(f64, sigmoid_f64_in_place, sigmoid_f64_avx2, sigmoid_f64_loop, exp_nonpositive_f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_within_two_ulp_of_libm() {
        let mut x = 0.0_f32;
        while x > -87.0 {
            let (ours, libm) = (exp_nonpositive(x), x.exp());
            assert!((ours - libm).abs() <= 2.0 * f32::EPSILON * libm, "exp({x}): {ours} vs {libm}");
            x -= 0.001_7;
        }
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-100.0), 0.0);
        assert_eq!(exp_nonpositive(f32::NEG_INFINITY), 0.0);
        assert!(exp_nonpositive(f32::NAN).is_nan());
    }

    #[test]
    fn sigmoid_agrees_with_the_scalar_one() {
        let xs: Vec<f32> = (-2000..=2000).map(|i| i as f32 * 0.05).chain([f32::INFINITY, f32::NEG_INFINITY]).collect();
        let mut ys = xs.clone();
        sigmoid_f32_in_place(&mut ys);
        for (&x, &y) in xs.iter().zip(&ys) {
            let want = crate::activation::sigmoid(x);
            // Below −87 the result is 0 where `sigmoid` returns 1.6e-38 or less.
            assert!(
                (y - want).abs() <= 3.0 * f32::EPSILON * want + 2.0 * f32::MIN_POSITIVE,
                "sigmoid({x}): {y} vs {want}"
            );
        }
        let mut nan = [f32::NAN];
        sigmoid_f32_in_place(&mut nan);
        assert!(nan[0].is_nan());
    }

    #[test]
    fn f64_exp_and_sigmoid_within_a_few_ulp_of_libm() {
        let mut x = 0.0_f64;
        while x > -708.0 {
            let (ours, libm) = (exp_nonpositive_f64(x), x.exp());
            assert!((ours - libm).abs() <= 2.0 * f64::EPSILON * libm, "exp({x}): {ours} vs {libm}");
            x -= 0.000_71;
        }
        assert_eq!(exp_nonpositive_f64(0.0), 1.0);
        assert_eq!(exp_nonpositive_f64(-800.0), 0.0);
        assert_eq!(exp_nonpositive_f64(f64::NEG_INFINITY), 0.0);
        assert!(exp_nonpositive_f64(f64::NAN).is_nan());
        let xs: Vec<f64> =
            (-20000..=20000).map(|i| i as f64 * 0.037).chain([f64::INFINITY, f64::NEG_INFINITY, f64::NAN]).collect();
        let mut ys = xs.clone();
        sigmoid_f64_in_place(&mut ys);
        for (&x, &y) in xs.iter().zip(&ys) {
            let want = crate::activation::sigmoid(x);
            if x.is_nan() {
                assert!(y.is_nan());
                continue;
            }
            assert!(
                (y - want).abs() <= 3.0 * f64::EPSILON * want + 2.0 * f64::MIN_POSITIVE,
                "sigmoid({x}): {y} vs {want}"
            );
        }
    }
}
