//! `tanh` of `f32` arrays, vectorised and correctly rounded in all but a few cases in 10⁵.
//!
//! ```text
//! tanh x = sign(x) · t / (t + 2),        t = e^{2|x|} − 1,
//! e^z − 1 = 2^k (1 + p(r)) − 1 = 2^k p(r) + (2^k − 1),   z = k ln 2 + r,  |r| ≤ ½ ln 2,
//! p(r) = r + r²/2! + … + r¹⁰/10!         (= eʳ − 1 to within 6·10⁻¹³ relative)
//! ```
//!
//! Evaluated in `f64` and rounded once to `f32`: the error before that rounding is about
//! 10⁻¹², far below half an `f32` ulp (3·10⁻⁸), so the result is the correctly rounded
//! `tanh` except when the exact value lies within 10⁻¹² of a rounding boundary. Writing
//! `e^z − 1` as `2^k p(r) + (2^k − 1)` keeps full relative accuracy near `x = 0` (no
//! cancellation), and `|x|` is capped at 10, where `tanh` already rounds to 1 in `f32`.
//!
//! Why not `f32::tanh`: glibc's `tanhf` is a scalar call into `expm1f`, about 11 ns an element,
//! and was 40–50 % of the time of training a tanh network. This kernel has no branches and no
//! calls, so the compiler vectorises it. On x86-64 with AVX2 and FMA (detected at run time) it
//! runs four lanes at a time with fused multiply-adds; elsewhere each `a b + c` is two roundings,
//! which changes a result by an ulp in rare cases (both paths meet the same accuracy test).

/// `tanh` of every element of `x`.
pub(crate) fn tanh_f32(x: &[f32]) -> Vec<f32> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { tanh_f32_avx2_fma(x) };
    }
    tanh_f32_portable::<false>(x)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tanh_f32_avx2_fma(x: &[f32]) -> Vec<f32> {
    tanh_f32_portable::<true>(x)
}

#[inline(always)]
fn tanh_f32_portable<const FMA: bool>(x: &[f32]) -> Vec<f32> {
    // A plain loop rather than `collect`, so that it is compiled inside the AVX2 function.
    let mut y = vec![0.0; x.len()];
    for (y, &x) in y.iter_mut().zip(x) {
        *y = tanh_one::<FMA>(x);
    }
    y
}

/// `a b + c`: one fused instruction where the CPU has FMA (and more accurate), else two.
/// (`mul_add` without the hardware instruction is a slow library call, hence the switch.)
#[inline(always)]
fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// One element, branch-free (see the module doc for the method).
#[inline(always)]
fn tanh_one<const FMA: bool>(x: f32) -> f32 {
    const LN_2: f64 = std::f64::consts::LN_2;
    // Adding 1.5·2⁵² rounds to the nearest integer k, which then sits in the low mantissa bits.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    // 1/n! for n = 10, 9, …, 2: the Taylor coefficients of p, highest first (Horner).
    const C: [f64; 9] = [
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        1.0 / 2.0,
    ];
    let x = x as f64;
    let magnitude = x.abs();
    // NaN fails the comparison and passes through.
    let magnitude = if magnitude > 10.0 { 10.0 } else { magnitude };
    let z = 2.0 * magnitude;
    let shifted = madd::<FMA>(z, 1.0 / LN_2, ROUND);
    let k = shifted - ROUND;
    let r = madd::<FMA>(-k, LN_2, z);
    let k_int = shifted.to_bits().wrapping_sub(ROUND.to_bits()) as i64;
    let two_k = f64::from_bits(((k_int + 1023) as u64) << 52);
    let mut q = C[0];
    for c in &C[1..] {
        q = madd::<FMA>(q, r, *c);
    }
    // p = r + r² q
    let p = madd::<FMA>(r * r, q, r);
    let t = madd::<FMA>(two_k, p, two_k - 1.0);
    (t / (t + 2.0)).copysign(x) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The distance in units of the last place between two finite `f32` of the same sign.
    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    /// The reference: `tanh` in `f64` (glibc, within an `f64` ulp), rounded to `f32`.
    fn reference(x: f32) -> f32 {
        (x as f64).tanh() as f32
    }

    #[test]
    fn agrees_with_f64_tanh_rounded_to_f32() {
        // Every 97th f32 bit pattern in [0, 12] (about 11 million values), both signs.
        let top = 12.0f32.to_bits();
        let x: Vec<f32> = (0..=top)
            .step_by(97)
            .map(f32::from_bits)
            .flat_map(|v| [v, -v])
            .collect();
        let y = tanh_f32(&x);
        let mut off_by_one = 0usize;
        for (&x, &y) in x.iter().zip(&y) {
            let expected = reference(x);
            let distance = ulps(y, expected);
            assert!(distance <= 1, "tanh({x:e}) = {y:e}, expected {expected:e}");
            off_by_one += distance as usize;
        }
        // Ties within 10⁻¹² of a rounding boundary are rare: allow 1 in 10⁵.
        assert!(
            off_by_one * 100_000 <= x.len(),
            "{off_by_one} of {} values differ by an ulp",
            x.len()
        );
    }

    #[test]
    fn special_values() {
        let x = [
            0.0,
            -0.0,
            f32::MIN_POSITIVE,
            1e-30,
            -1e-30,
            f32::from_bits(1),
            9.5,
            10.0,
            1e30,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        let y = tanh_f32(&x);
        for (&x, &y) in x.iter().zip(&y) {
            assert_eq!(y.to_bits(), reference(x).to_bits(), "tanh({x:e})");
        }
        assert!(tanh_f32(&[f32::NAN])[0].is_nan());
    }

    #[test]
    fn vector_and_scalar_paths_agree() {
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.0173).collect();
        let fused: Vec<f32> = x.iter().map(|&v| tanh_one::<true>(v)).collect();
        let separate: Vec<f32> = x.iter().map(|&v| tanh_one::<false>(v)).collect();
        let y = tanh_f32(&x);
        assert!(
            y == fused || y == separate,
            "the kernel matches neither scalar path"
        );
        // The two roundings differ by at most an ulp, and rarely.
        let differing = fused.iter().zip(&separate).filter(|(a, b)| a != b).count();
        assert!(
            differing <= 1,
            "{differing} of 1000 values differ between FMA and not"
        );
    }
}
