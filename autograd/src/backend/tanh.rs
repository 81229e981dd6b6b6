//! `tanh` of `f32` arrays, vectorised, computed in `f32` eight lanes at a time, and within one
//! ulp of the exact value for every `f32` (correctly rounded for 99.75 % of them).
//!
//! ```text
//! a = |x|,   tanh x = sign(x) · y(a)
//! y(a) = a + a³ q(a²)                              a < 0.625
//! y(a) = t / (t + 2),   t = e^{2a} − 1             0.625 ≤ a  (2a capped at 19: y rounds to 1)
//! e^z − 1 = 2^k (1 + p(r)) − 1 = 2^k p(r) + (2^k − 1),   z = k ln 2 + r,  |r| ≤ ½ ln 2
//! p(r) = r + r² c(r)
//! ```
//!
//! `q` (degree 5 in `a²`) and `c` (degree 5) are near-minimax fits made by
//! `autograd/tools/tanh_coefficients.py`; `ln 2` is split in two so that `k ln 2` is exact.
//! Below 0.625 the polynomial's correction `a³ q` is at most a tenth of `a`, so its rounding
//! errors shrink tenfold in the sum; above it `t/(t + 2)` damps the relative error of `t` by
//! `2/(t + 2) < ½`, and `e^z − 1` written as `2^k p + (2^k − 1)` has no cancellation. The
//! ignored test `every_f32_is_within_one_ulp` checks all 1.09 · 10⁹ non-negative `f32` below
//! 9.6 (the rest round to 1) against `f64` `tanh` rounded to `f32`: at most 1 ulp off, and
//! 0.25 % of them 1 ulp off. The suite checks every 97th `f32` in `[−12, 12]`.
//!
//! Why not `f32::tanh`: glibc's `tanhf` is a scalar call into `expm1f`, about 11 ns an element,
//! and was 40–50 % of the time of training a tanh network. This kernel has no branches and no
//! calls, so the compiler vectorises it. On x86-64 with AVX2 and FMA (detected at run time) it
//! runs eight lanes at a time with fused multiply-adds (sixteen with AVX-512F, the same values
//! bit for bit); elsewhere each `a b + c` is two roundings, held to the same one-ulp test.

use std::mem::MaybeUninit;

#[cfg(target_arch = "x86_64")]
mod cells;

/// `tanh` of every element of `x`.
pub(crate) fn tanh_f32(x: &[f32]) -> Vec<f32> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F (which implies AVX2 and FMA), checked just above.
        return unsafe { tanh_f32_avx512(x) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { tanh_f32_avx2_fma(x) };
    }
    tanh_f32_portable::<false>(x)
}

/// [`tanh_f32_portable`] compiled for AVX2 and FMA (eight lanes, fused multiply-adds).
///
/// # Safety
/// The CPU supports AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tanh_f32_avx2_fma(x: &[f32]) -> Vec<f32> {
    tanh_f32_portable::<true>(x)
}

/// [`tanh_f32_portable`] compiled for AVX-512: sixteen lanes, the same fused operations as
/// [`tanh_f32_avx2_fma`] in each, so the same values bit for bit.
///
/// # Safety
/// The CPU supports AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn tanh_f32_avx512(x: &[f32]) -> Vec<f32> {
    tanh_f32_portable::<true>(x)
}

/// Elements at a time in [`tanh_f32_portable`]'s two passes: 8 KiB in and out, in L1.
const CHUNK: usize = 1024;

#[inline(always)]
fn tanh_f32_portable<const FMA: bool>(x: &[f32]) -> Vec<f32> {
    // Two passes over each chunk, `t = e^{2|x|} − 1` and then the rest: the same operations as
    // [`tanh_one`], in two shorter dependency chains that the CPU overlaps better across
    // elements (0.85 against 1.05 ns an element in one pass). Plain loops rather than
    // `collect`, so that they are compiled inside the AVX2 function.
    let mut y = Vec::with_capacity(x.len());
    for (y, x) in y
        .spare_capacity_mut()
        .chunks_mut(CHUNK)
        .zip(x.chunks(CHUNK))
    {
        for (y, &x) in y.iter_mut().zip(x) {
            y.write(expm1_twice_abs::<FMA>(x));
        }
        for (y, &x) in y.iter_mut().zip(x) {
            // SAFETY: the first pass wrote every element of this chunk.
            let t = unsafe { y.assume_init() };
            y.write(tanh_from::<FMA>(x, t));
        }
    }
    // SAFETY: the chunks cover all `x.len()` elements, each written above.
    unsafe { y.set_len(x.len()) };
    y
}

/// `tanh` of every element of `x`, in place: the same values as [`tanh_f32`], without the
/// allocation (the fused LSTM kernel applies it to each step's gates).
pub(crate) fn tanh_f32_in_place(x: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F, checked just above.
        return unsafe { tanh_f32_in_place_avx512(x) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { tanh_f32_in_place_avx2_fma(x) };
    }
    tanh_f32_in_place_portable::<false>(x)
}

/// [`tanh_f32_in_place_portable`] compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU supports AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tanh_f32_in_place_avx2_fma(x: &mut [f32]) {
    tanh_f32_in_place_portable::<true>(x)
}

/// [`tanh_f32_in_place_portable`] compiled for AVX-512 (the same values as with AVX2).
///
/// # Safety
/// The CPU supports AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn tanh_f32_in_place_avx512(x: &mut [f32]) {
    tanh_f32_in_place_portable::<true>(x)
}

#[inline(always)]
fn tanh_f32_in_place_portable<const FMA: bool>(x: &mut [f32]) {
    let mut t = [0.0f32; CHUNK];
    for x in x.chunks_mut(CHUNK) {
        for (t, &x) in t.iter_mut().zip(x.iter()) {
            *t = expm1_twice_abs::<FMA>(x);
        }
        for (x, &t) in x.iter_mut().zip(&t) {
            *x = tanh_from::<FMA>(*x, t);
        }
    }
}

/// The logistic function `σ(x) = 1 / (1 + e^{−x})` of every element of `x`, in place,
/// vectorised like `tanh`:
///
/// ```text
/// e = e^{−|x|} = 2^k (1 + p(r)),   −|x| = k ln 2 + r,  |r| ≤ ½ ln 2   (|x| capped at 87.3)
/// σ(x) = 1 / (1 + e)        x ≥ 0
/// σ(x) = e / (1 + e)        x < 0
/// ```
///
/// with the same `p(r) = r + r² c(r)` as `tanh`'s `e^z − 1`. Neither branch cancels, so the
/// result is within 4 ulp (3 measured) of the exact value wherever it is a normal `f32`
/// (`x ≥ −87.3`); below that it is 0 (the exact value is subnormal or rounds to 0).
pub(crate) fn sigmoid_f32_in_place(x: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F, checked just above.
        return unsafe { sigmoid_f32_in_place_avx512(x) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { sigmoid_f32_in_place_avx2_fma(x) };
    }
    sigmoid_f32_in_place_portable::<false>(x)
}

/// [`sigmoid_f32_in_place_portable`] compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU supports AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sigmoid_f32_in_place_avx2_fma(x: &mut [f32]) {
    sigmoid_f32_in_place_portable::<true>(x)
}

/// [`sigmoid_f32_in_place_portable`] compiled for AVX-512 (the same values as with AVX2).
///
/// # Safety
/// The CPU supports AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn sigmoid_f32_in_place_avx512(x: &mut [f32]) {
    sigmoid_f32_in_place_portable::<true>(x)
}

#[inline(always)]
fn sigmoid_f32_in_place_portable<const FMA: bool>(x: &mut [f32]) {
    for x in x.iter_mut() {
        *x = sigmoid_one::<FMA>(*x);
    }
}

/// One LSTM step's elementwise part, for `N` rows at once: each row of `gates` holds the
/// pre-activations `a_i, a_f, a_g, a_o` (`4H`), which become `i = σ(a_i)`, `f = σ(a_f)`,
/// `g = tanh a_g`, `o = σ(a_o)`; `c` (`N × H`) receives `c_t = f ⊙ c_{t−1} + i ⊙ g` from `c_prev`
/// (`c_{t−1}`); `tanh_c` and `h` (`N × H`) receive `tanh c_t` and `h_t = o ⊙ tanh c_t`.
///
/// One pass over each row, every value in registers between the activations and `h_t`: the
/// values of [`sigmoid_f32_in_place`] and [`tanh_f32_in_place`] on the same CPU, and
/// `f c + i g`, `o tanh c` as two roundings each, bit for bit what the separate passes give.
/// Every element of `c`, `tanh_c` and `h` is written, none read (they may be new memory).
///
/// # Panics
/// If the slices do not hold the same whole rows of `hidden` units (`gates` `4H` a row).
pub(crate) fn lstm_cells_f32(
    hidden: usize,
    gates: &mut [f32],
    c_prev: &[f32],
    c: &mut [MaybeUninit<f32>],
    tanh_c: &mut [MaybeUninit<f32>],
    h: &mut [MaybeUninit<f32>],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        if hidden > 0 && hidden.is_multiple_of(16) {
            crate::float::assert_whole_cell_rows(hidden, gates, c_prev, c, tanh_c, h);
            // SAFETY: the CPU supports AVX-512F (which implies AVX2 and FMA), checked just
            // above; `hidden` is a multiple of 16 and the slices hold whole rows (asserted).
            return unsafe { cells::rows(hidden, gates, c_prev, c, tanh_c, h) };
        }
        // SAFETY: the CPU supports AVX-512F, checked just above.
        return unsafe { lstm_cells_f32_avx512(hidden, gates, c_prev, c, tanh_c, h) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { lstm_cells_f32_avx2_fma(hidden, gates, c_prev, c, tanh_c, h) };
    }
    lstm_cells_f32_portable::<false>(hidden, gates, c_prev, c, tanh_c, h)
}

/// [`lstm_cells_f32_portable`] compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU supports AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn lstm_cells_f32_avx2_fma(
    hidden: usize,
    gates: &mut [f32],
    c_prev: &[f32],
    c: &mut [MaybeUninit<f32>],
    tanh_c: &mut [MaybeUninit<f32>],
    h: &mut [MaybeUninit<f32>],
) {
    lstm_cells_f32_portable::<true>(hidden, gates, c_prev, c, tanh_c, h)
}

/// [`lstm_cells_f32_portable`] compiled for AVX-512 (the same values as with AVX2).
///
/// # Safety
/// The CPU supports AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn lstm_cells_f32_avx512(
    hidden: usize,
    gates: &mut [f32],
    c_prev: &[f32],
    c: &mut [MaybeUninit<f32>],
    tanh_c: &mut [MaybeUninit<f32>],
    h: &mut [MaybeUninit<f32>],
) {
    lstm_cells_f32_portable::<true>(hidden, gates, c_prev, c, tanh_c, h)
}

#[inline(always)]
fn lstm_cells_f32_portable<const FMA: bool>(
    hidden: usize,
    gates: &mut [f32],
    c_prev: &[f32],
    c: &mut [MaybeUninit<f32>],
    tanh_c: &mut [MaybeUninit<f32>],
    h: &mut [MaybeUninit<f32>],
) {
    // Whole rows only, so that every element of `c`, `tanh_c` and `h` is written.
    crate::float::assert_whole_cell_rows(hidden, gates, c_prev, c, tanh_c, h);
    if hidden == 0 {
        return;
    }
    for ((((row, c_prev), c), tanh_c), h) in gates
        .chunks_exact_mut(4 * hidden)
        .zip(c_prev.chunks_exact(hidden))
        .zip(c.chunks_exact_mut(hidden))
        .zip(tanh_c.chunks_exact_mut(hidden))
        .zip(h.chunks_exact_mut(hidden))
    {
        let (i, rest) = row.split_at_mut(hidden);
        let (f, rest) = rest.split_at_mut(hidden);
        let (g, o) = rest.split_at_mut(hidden);
        lstm_cell_row::<FMA>(i, f, g, o, c_prev, c, tanh_c, h);
    }
}

/// One row of [`lstm_cells_f32`]. Each slice is a parameter of its own, so that the compiler
/// knows they do not overlap and vectorises the loops.
///
/// `tanh` takes its polynomial branch below [`SMALL`] and `t / (t + 2)` (an `e^{2a} − 1` and a
/// division) above it, and a vector computes both. Where a whole row's `a_g`, or its `c_t`,
/// lies below `SMALL` (tested before its loop), that loop computes the polynomial alone: the
/// value the branch-free `tanh` selects, so the same bits, with two of the five divisions of
/// a cell gone. (The three `σ` divisions left cost little: with them replaced by a
/// multiplication the pass was 6 % faster, so it is bound by its multiply-adds, not the
/// divider.)
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lstm_cell_row<const FMA: bool>(
    i: &mut [f32],
    f: &mut [f32],
    g: &mut [f32],
    o: &mut [f32],
    c_prev: &[f32],
    c: &mut [MaybeUninit<f32>],
    tanh_c: &mut [MaybeUninit<f32>],
    h: &mut [MaybeUninit<f32>],
) {
    let hidden = c.len();
    // Every slice re-cut to `hidden` elements, so that the loops index without bounds checks.
    let (i, f, g, o) = (
        &mut i[..hidden],
        &mut f[..hidden],
        &mut g[..hidden],
        &mut o[..hidden],
    );
    let (c_prev, tanh_c, h) = (&c_prev[..hidden], &mut tanh_c[..hidden], &mut h[..hidden]);
    let c_small = match below_small(g) {
        true => cell_state::<FMA, true>(i, f, g, o, c_prev, c),
        false => cell_state::<FMA, false>(i, f, g, o, c_prev, c),
    };
    // SAFETY: `cell_state` wrote every element of `c` (`MaybeUninit<f32>` and `f32` have the
    // same layout).
    let c = unsafe { &*(c as *const [MaybeUninit<f32>] as *const [f32]) };
    match c_small {
        true => cell_output::<FMA, true>(o, c, tanh_c, h),
        false => cell_output::<FMA, false>(o, c, tanh_c, h),
    }
}

/// The gates' activations in place and `c_t = f ⊙ c_{t−1} + i ⊙ g` for one row (`tanh a_g` by
/// the polynomial alone if `G_SMALL`, every `|a_g|` being below [`SMALL`]); whether every
/// `|c_t|` is below `SMALL`. All slices hold `c.len()` elements.
#[inline(always)]
fn cell_state<const FMA: bool, const G_SMALL: bool>(
    i: &mut [f32],
    f: &mut [f32],
    g: &mut [f32],
    o: &mut [f32],
    c_prev: &[f32],
    c: &mut [MaybeUninit<f32>],
) -> bool {
    let hidden = c.len();
    let (i, f, g, o, c_prev) = (
        &mut i[..hidden],
        &mut f[..hidden],
        &mut g[..hidden],
        &mut o[..hidden],
        &c_prev[..hidden],
    );
    let mut small = 0;
    for j in 0..hidden {
        let (i_j, f_j) = (sigmoid_one::<FMA>(i[j]), sigmoid_one::<FMA>(f[j]));
        let g_j = match G_SMALL {
            true => tanh_small::<FMA>(g[j]),
            false => tanh_one::<FMA>(g[j]),
        };
        let o_j = sigmoid_one::<FMA>(o[j]);
        (i[j], f[j], g[j], o[j]) = (i_j, f_j, g_j, o_j);
        let c_j = f_j * c_prev[j] + i_j * g_j;
        c[j].write(c_j);
        small += u32::from(c_j.abs() < SMALL);
    }
    small as usize == hidden
}

/// `tanh c_t` and `h_t = o ⊙ tanh c_t` for one row (by the polynomial alone if `C_SMALL`).
#[inline(always)]
fn cell_output<const FMA: bool, const C_SMALL: bool>(
    o: &[f32],
    c: &[f32],
    tanh_c: &mut [MaybeUninit<f32>],
    h: &mut [MaybeUninit<f32>],
) {
    let hidden = c.len();
    let (o, tanh_c, h) = (&o[..hidden], &mut tanh_c[..hidden], &mut h[..hidden]);
    for j in 0..hidden {
        let tanh_c_j = match C_SMALL {
            true => tanh_small::<FMA>(c[j]),
            false => tanh_one::<FMA>(c[j]),
        };
        tanh_c[j].write(tanh_c_j);
        h[j].write(o[j] * tanh_c_j);
    }
}

/// Whether every `|x|` is below [`SMALL`] (a NaN is not).
#[inline(always)]
fn below_small(x: &[f32]) -> bool {
    magnitude_bits(x) < SMALL.to_bits()
}

/// The bits of `|x|`: all but the sign bit.
const MAGNITUDE: u32 = 0x7fff_ffff;

/// The largest of the bit patterns of `|x|` over `x`, as unsigned integers: they order as the
/// magnitudes do, and a NaN's lies above every number's, so `largest < a.to_bits()` says that
/// every `|x|` is below `a` and none is NaN. (An integer maximum rather than a comparison: a
/// comparison into a mask register takes a slot of the multiply-add units.)
#[inline(always)]
fn magnitude_bits(x: &[f32]) -> u32 {
    x.iter()
        .fold(0, |largest, &v| largest.max(v.to_bits() & MAGNITUDE))
}

/// The largest `|x|` whose `e^{−|x|}` is a normal `f32` (`2^k` with `k ≥ −126`).
const SIGMOID_CAP: f32 = 87.3;

/// `e^z` for `−87.3 ≤ z ≤ 0`, within an ulp or two: `2^k (1 + p(r))`.
#[inline(always)]
fn exp_non_positive<const FMA: bool>(z: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0;
    const LN_2_HIGH: f32 = 0.693_145_75;
    const LN_2_LOW: f32 = 1.428_606_8e-6;
    let shifted = madd::<FMA>(z, std::f32::consts::LOG2_E, ROUND);
    let k = shifted - ROUND;
    let r = madd::<FMA>(-k, LN_2_HIGH, z);
    let r = madd::<FMA>(-k, LN_2_LOW, r);
    let k_int = shifted.to_bits().wrapping_sub(ROUND.to_bits()) as i32;
    let two_k = f32::from_bits(((k_int + 127) as u32) << 23);
    let p = madd::<FMA>(r * r, horner::<FMA>(&C, r), r);
    madd::<FMA>(two_k, p, two_k)
}

/// One element of [`sigmoid_f32_in_place`], branch-free (NaN passes through).
#[inline(always)]
fn sigmoid_one<const FMA: bool>(x: f32) -> f32 {
    let a = x.abs();
    let capped = if a > SIGMOID_CAP { SIGMOID_CAP } else { a };
    let e = exp_non_positive::<FMA>(-capped);
    let s = 1.0 / (1.0 + e);
    let y = if x >= 0.0 { s } else { e * s };
    let y = if x < -SIGMOID_CAP { 0.0 } else { y };
    if x.is_nan() { x } else { y }
}

/// `a b + c`: one fused instruction where the CPU has FMA (and more accurate), else two.
/// (`mul_add` without the hardware instruction is a slow library call, hence the switch.)
#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// `Σ_i coefficients[i] vⁱ` by Horner's rule.
#[inline(always)]
fn horner<const FMA: bool>(coefficients: &[f32; 6], v: f32) -> f32 {
    let mut sum = coefficients[5];
    for &c in coefficients[..5].iter().rev() {
        sum = madd::<FMA>(sum, v, c);
    }
    sum
}

/// Where the polynomial `a + a³ q(a²)` hands over to `t / (t + 2)`.
const SMALL: f32 = 0.625;

/// `q(s)`, lowest degree first: `tanh a = a + a³ q(a²)` for `a < SMALL`.
const Q: [f32; 6] = [
    -0.333_333_3,
    0.133_332_1,
    -0.053_947_203,
    0.021_702_968,
    -0.008_182_674,
    0.002_147_537,
];

/// `c(r)`, lowest degree first: `eʳ − 1 = r + r² c(r)` for `|r| ≤ ½ ln 2`.
const C: [f32; 6] = [
    0.5,
    0.166_666_67,
    0.041_666_355,
    0.008_333_274,
    0.001_394_101_2,
    0.000_199_135_6,
];

/// One element, branch-free (see the module doc for the method): what the kernel's two passes
/// compute, which the tests check it against, and what the LSTM cells compute in one.
#[inline(always)]
fn tanh_one<const FMA: bool>(x: f32) -> f32 {
    tanh_from::<FMA>(x, expm1_twice_abs::<FMA>(x))
}

/// `tanh x` for `|x| <` [`SMALL`]: the polynomial branch of [`tanh_from`] alone, its value.
#[inline(always)]
fn tanh_small<const FMA: bool>(x: f32) -> f32 {
    tanh_polynomial::<FMA>(x.abs()).copysign(x)
}

/// `a + a³ q(a²)`, `tanh a` for `0 ≤ a <` [`SMALL`].
#[inline(always)]
fn tanh_polynomial<const FMA: bool>(a: f32) -> f32 {
    let s = a * a;
    madd::<FMA>(a * s, horner::<FMA>(&Q, s), a)
}

/// `t = e^{2a} − 1` for `a = |x|`, with `2a` capped at 19.
#[inline(always)]
fn expm1_twice_abs<const FMA: bool>(x: f32) -> f32 {
    // Adding 1.5·2²³ rounds to the nearest integer k, which then sits in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    // ln 2 = LN_2_HIGH + LN_2_LOW, LN_2_HIGH with 12 significant bits: k LN_2_HIGH is exact.
    const LN_2_HIGH: f32 = 0.693_145_75;
    const LN_2_LOW: f32 = 1.428_606_8e-6;
    // NaN fails the comparison and passes through.
    let z = 2.0 * x.abs();
    let z = if z > 19.0 { 19.0 } else { z };
    let shifted = madd::<FMA>(z, std::f32::consts::LOG2_E, ROUND);
    let k = shifted - ROUND;
    let r = madd::<FMA>(-k, LN_2_HIGH, z);
    let r = madd::<FMA>(-k, LN_2_LOW, r);
    let k_int = shifted.to_bits().wrapping_sub(ROUND.to_bits()) as i32;
    let two_k = f32::from_bits(((k_int + 127) as u32) << 23);
    let p = madd::<FMA>(r * r, horner::<FMA>(&C, r), r);
    madd::<FMA>(two_k, p, two_k - 1.0)
}

/// `tanh x` given `t = e^{2|x|} − 1`: the polynomial below [`SMALL`], `t / (t + 2)` above.
#[inline(always)]
fn tanh_from<const FMA: bool>(x: f32, t: f32) -> f32 {
    let a = x.abs();
    let small = tanh_polynomial::<FMA>(a);
    let large = t / (t + 2.0);
    let y = if a < SMALL { small } else { large };
    y.copysign(x)
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

    /// The largest distance from the reference over `x`, and how many are off at all.
    fn errors(x: &[f32], y: &[f32]) -> (u32, usize) {
        let mut worst = 0;
        let mut off = 0;
        for (&x, &y) in x.iter().zip(y) {
            let distance = ulps(y, reference(x));
            worst = worst.max(distance);
            off += (distance > 0) as usize;
        }
        (worst, off)
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
        for (path, y) in [
            ("dispatched", tanh_f32(&x)),
            ("without FMA", tanh_f32_portable::<false>(&x)),
        ] {
            let (worst, off) = errors(&x, &y);
            assert!(worst <= 1, "{path}: {worst} ulps off");
            // Over every f32 the kernel is 1 ulp off for 0.25 % of them.
            assert!(
                off * 200 <= x.len(),
                "{path}: {off} of {} values differ by an ulp",
                x.len()
            );
        }
    }

    /// Every non-negative `f32` below 9.6 (above it `tanh` rounds to 1, checked in
    /// [`special_values`]); by symmetry that covers the negative ones. About 20 s:
    /// `cargo test --release -p wengert-autograd every_f32 -- --ignored`.
    #[test]
    #[ignore = "exhaustive: 1.09 · 10⁹ values, about 20 s"]
    fn every_f32_is_within_one_ulp() {
        let top = 9.6f32.to_bits();
        let mut worst = 0;
        let mut off = 0;
        let chunk = 1 << 20;
        for start in (0..=top).step_by(chunk) {
            let end = (start as u64 + chunk as u64).min(top as u64 + 1) as u32;
            let x: Vec<f32> = (start..end).map(f32::from_bits).collect();
            let (w, o) = errors(&x, &tanh_f32(&x));
            worst = worst.max(w);
            off += o;
        }
        let total = top as usize + 1;
        eprintln!("max {worst} ulp; {off} of {total} values 1 ulp off");
        assert!(worst <= 1, "{worst} ulps off");
        assert!(off * 200 <= total, "{off} of {total} values off by an ulp");
    }

    /// `σ` in `f64`, rounded to `f32`.
    fn sigmoid_reference(x: f32) -> f32 {
        (1.0 / (1.0 + (-(x as f64)).exp())) as f32
    }

    #[test]
    fn sigmoid_is_within_four_ulp_of_the_exact_value() {
        // Every 31st f32 bit pattern in [0, 87.3], both signs, and the values around 0.
        let top = SIGMOID_CAP.to_bits();
        let x: Vec<f32> = (0..=top)
            .step_by(31)
            .map(f32::from_bits)
            .flat_map(|v| [v, -v])
            .collect();
        for fma in [true, false] {
            let mut y = x.clone();
            if fma {
                sigmoid_f32_in_place(&mut y);
            } else {
                sigmoid_f32_in_place_portable::<false>(&mut y);
            }
            let worst = x
                .iter()
                .zip(&y)
                .map(|(&x, &y)| ulps(y, sigmoid_reference(x)))
                .max()
                .unwrap();
            assert!(worst <= 4, "fma {fma}: {worst} ulps off");
        }
        let mut special = [
            f32::INFINITY,
            f32::NEG_INFINITY,
            -100.0,
            100.0,
            0.0,
            f32::NAN,
        ];
        sigmoid_f32_in_place(&mut special);
        assert_eq!(&special[..5], &[1.0, 0.0, 0.0, 1.0, 0.5]);
        assert!(special[5].is_nan());
    }

    #[test]
    fn exp_is_within_one_ulp_of_std() {
        let top = SIGMOID_CAP.to_bits();
        let worst = (0..=top)
            .step_by(101)
            .map(|b| -f32::from_bits(b))
            .map(|z| ulps(exp_non_positive::<true>(z), (z as f64).exp() as f32))
            .max()
            .unwrap();
        assert!(worst <= 1, "{worst} ulps off");
    }

    #[test]
    fn tanh_in_place_equals_tanh() {
        let x: Vec<f32> = (0..5000).map(|i| (i as f32 - 2500.0) * 0.0071).collect();
        let mut y = x.clone();
        tanh_f32_in_place(&mut y);
        assert_eq!(y, tanh_f32(&x));
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
            9.6,
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

    /// The AVX-512 builds give the AVX2 builds' values bit for bit (the same fused operations
    /// in each lane), for `tanh`, `tanh` in place and `σ`, across lengths with a partial last
    /// vector.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx512_and_avx2_paths_agree_bit_for_bit() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            return;
        }
        let x: Vec<f32> = (0..5003).map(|i| (i as f32 - 2500.0) * 0.0071).collect();
        let bits = |v: &[f32]| v.iter().map(|y| y.to_bits()).collect::<Vec<_>>();
        // SAFETY: the CPU has AVX-512F (checked above), so also AVX2 and FMA.
        unsafe {
            assert_eq!(bits(&tanh_f32_avx512(&x)), bits(&tanh_f32_avx2_fma(&x)));
            let (mut wide, mut narrow) = (x.clone(), x.clone());
            tanh_f32_in_place_avx512(&mut wide);
            tanh_f32_in_place_avx2_fma(&mut narrow);
            assert_eq!(bits(&wide), bits(&narrow));
            let (mut wide, mut narrow) = (x.clone(), x.clone());
            sigmoid_f32_in_place_avx512(&mut wide);
            sigmoid_f32_in_place_avx2_fma(&mut narrow);
            assert_eq!(bits(&wide), bits(&narrow));
        }
    }

    /// A kernel that works in place.
    type InPlace = fn(&mut [f32]);

    /// Outputs the cells write.
    type Out<'a> = &'a mut [MaybeUninit<f32>];

    /// A way to compute the LSTM cells: `(gates, c_prev, c, tanh_c, h)`.
    type Cells<'a> = &'a dyn Fn(&mut [f32], &[f32], Out<'_>, Out<'_>, Out<'_>);

    /// The LSTM cells the separate passes compute: `σ` and `tanh` over the gates by the
    /// kernels (`FMA` as the dispatched kernels, or the plain build), then `c`, `tanh c`, `h`.
    fn separate_cells(
        fma: bool,
        hidden: usize,
        gates: &mut [f32],
        c: &mut [f32],
        tanh_c: &mut [f32],
        h: &mut [f32],
    ) {
        let (sigmoid, tanh): (InPlace, InPlace) = match fma {
            true => (sigmoid_f32_in_place, tanh_f32_in_place),
            false => (
                sigmoid_f32_in_place_portable::<false>,
                tanh_f32_in_place_portable::<false>,
            ),
        };
        for ((row, c), (tanh_c, h)) in gates
            .chunks_exact_mut(4 * hidden)
            .zip(c.chunks_exact_mut(hidden))
            .zip(
                tanh_c
                    .chunks_exact_mut(hidden)
                    .zip(h.chunks_exact_mut(hidden)),
            )
        {
            let (ifg, o) = row.split_at_mut(3 * hidden);
            let (i_f, g) = ifg.split_at_mut(2 * hidden);
            sigmoid(i_f);
            tanh(g);
            sigmoid(o);
            for j in 0..hidden {
                c[j] = row[hidden + j] * c[j] + row[j] * row[2 * hidden + j];
            }
            tanh_c.copy_from_slice(c);
            tanh(tanh_c);
            for j in 0..hidden {
                h[j] = row[3 * hidden + j] * tanh_c[j];
            }
        }
    }

    /// The fused LSTM cells give the separate passes' values bit for bit: dispatched (AVX-512
    /// or AVX2 with FMA here) and in the plain build, with a hidden size that leaves partial
    /// vectors and two that the AVX-512 kernel of `cells.rs` takes (three and four blocks of
    /// 16 units), pre-activations past both `tanh` branches and `σ`'s cap, and a NaN; rows
    /// whose `a_g` and `c_t` all lie below `tanh`'s [`SMALL`] (which skip its second branch, and
    /// which the kernel takes: with `±0` and `−87.3`, `σ`'s cap, among their `a_i, a_o`), a row
    /// with one `c_t` above it and one with one `a_g` above it; and the AVX-512 build gives the
    /// AVX2 build's bits.
    #[test]
    fn lstm_cells_give_the_separate_passes_bits() {
        for hidden in [19, 48, 64] {
            cells_against_separate_passes(hidden);
        }
    }

    fn cells_against_separate_passes(hidden: usize) {
        let rows = 8;
        let mut gates: Vec<f32> = (0..rows * 4 * hidden)
            .map(|k| ((k * 37 % 101) as f32 - 50.0) * 0.09)
            .collect();
        gates[7] = 95.0;
        gates[8] = -95.0;
        gates[hidden * 2 + 3] = f32::NAN;
        let mut c: Vec<f32> = (0..rows * hidden)
            .map(|k| ((k * 13 % 29) as f32 - 14.0) * 0.3)
            .collect();
        // Rows 5‥7 small: |a| ≤ 0.23, |c_{t−1}| ≤ 0.21, so |c_t| < 0.44.
        gates[5 * 4 * hidden..].iter_mut().for_each(|a| *a *= 0.05);
        c[5 * hidden..].iter_mut().for_each(|c| *c *= 0.05);
        c[6 * hidden + 2] = 3.0; // one c_t ≈ 1.5 in row 6
        gates[7 * 4 * hidden + 2 * hidden + 4] = 0.7; // one a_g past SMALL in row 7
        // In row 5: a_i = −0 and +0, a_o = −87.3 (σ's cap) and +87.3.
        gates[5 * 4 * hidden + 2] = -0.0;
        gates[5 * 4 * hidden + 3] = 0.0;
        gates[5 * 4 * hidden + 3 * hidden + 1] = -SIGMOID_CAP;
        gates[5 * 4 * hidden + 3 * hidden + 17] = SIGMOID_CAP;
        let bits = |v: &[f32]| v.iter().map(|y| y.to_bits()).collect::<Vec<_>>();
        // The outputs start as NaN with a payload no kernel makes: one left unwritten shows.
        let unwritten = f32::from_bits(0x7fc0_1234);
        let run = |cells: Cells<'_>| {
            let mut gates = gates.clone();
            let mut out = [0; 3].map(|_| vec![MaybeUninit::new(unwritten); c.len()]);
            let [c_t, tanh_c, h] = &mut out;
            cells(&mut gates, &c, c_t, tanh_c, h);
            // SAFETY: every element was initialised (to `unwritten`) before the call.
            let [c_t, tanh_c, h] = out.map(|v| {
                v.iter()
                    .map(|x| unsafe { x.assume_init() })
                    .collect::<Vec<_>>()
            });
            [bits(&gates), bits(&c_t), bits(&tanh_c), bits(&h)]
        };
        // The separate passes update `c` in place.
        let separate = |fma: bool| {
            move |g: &mut [f32], c_prev: &[f32], c: Out<'_>, t: Out<'_>, h: Out<'_>| {
                let mut state = [c_prev.to_vec(), c_prev.to_vec(), c_prev.to_vec()];
                let [c_t, tanh_c, h_t] = &mut state;
                separate_cells(fma, hidden, g, c_t, tanh_c, h_t);
                for (out, values) in [c, t, h].into_iter().zip(&state) {
                    out.iter_mut()
                        .zip(values)
                        .for_each(|(o, &v)| _ = o.write(v));
                }
            }
        };
        let dispatched = run(&|g, p, c, t, h| lstm_cells_f32(hidden, g, p, c, t, h));
        assert_eq!(
            dispatched,
            run(&separate(true)),
            "dispatched, {hidden} units"
        );
        let plain = run(&|g, p, c, t, h| lstm_cells_f32_portable::<false>(hidden, g, p, c, t, h));
        assert_eq!(plain, run(&separate(false)), "plain, {hidden} units");
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above), so also AVX2 and FMA.
            let wide =
                run(&|g, p, c, t, h| unsafe { lstm_cells_f32_avx512(hidden, g, p, c, t, h) });
            let narrow =
                run(&|g, p, c, t, h| unsafe { lstm_cells_f32_avx2_fma(hidden, g, p, c, t, h) });
            assert_eq!(wide, narrow, "AVX-512 against AVX2, {hidden} units");
        }
    }

    /// `lstm_cells` refuses what is not whole rows (the caller's `set_len` relies on every
    /// output element being written): the `f32` kernel and the plain `f64` path alike.
    #[test]
    fn lstm_cells_refuse_a_partial_row() {
        fn refused<T: crate::Float>(hidden: usize, state: usize, gates: usize) -> bool {
            let mut g = vec![T::zero(); gates];
            let c_prev = vec![T::zero(); state];
            let mut out = [0; 3].map(|_| vec![MaybeUninit::new(T::zero()); state]);
            let [c, tanh_c, h] = &mut out;
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                T::lstm_cells(hidden, &mut g, &c_prev, c, tanh_c, h)
            }))
            .is_err()
        }
        // two rows of 4 units: accepted; a partial row, gates not 4 a unit, no units: refused
        assert!(!refused::<f32>(4, 8, 32) && !refused::<f64>(4, 8, 32));
        for (hidden, state, gates) in [(4, 7, 28), (4, 8, 28), (0, 4, 16)] {
            assert!(
                refused::<f32>(hidden, state, gates),
                "f32 {hidden} {state} {gates}"
            );
            assert!(
                refused::<f64>(hidden, state, gates),
                "f64 {hidden} {state} {gates}"
            );
        }
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
        // Both are within an ulp of the exact value, so of each other by at most two.
        let apart = fused.iter().zip(&separate).map(|(&a, &b)| ulps(a, b)).max();
        assert!(apart <= Some(2), "the paths are {apart:?} ulps apart");
    }
}
