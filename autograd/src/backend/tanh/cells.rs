//! The LSTM cell pass ([`super::lstm_cells_f32`]) for AVX-512F, sixteen units at a time, for
//! the rows where it is simplest: every `|a_i|, |a_f|, |a_o|` at most [`SIGMOID_CAP`] (none
//! NaN) and every `|a_g|` below [`SMALL`]. There `σ`'s cap and its last two selections change
//! nothing and `tanh a_g` is its polynomial alone, so each unit is
//!
//! ```text
//! e = e^{−|a|},  σ(a) = 1/(1 + e) if a ≥ 0, else e · 1/(1 + e)       (a = a_i, a_f, a_o)
//! g = tanh a_g = a + a³ q(a²) with its sign,   c_t = f c_{t−1} + i g,   h_t = o tanh c_t
//! ```
//!
//! with `tanh c_t` by the polynomial too, taken for granted and checked after the row: where a
//! `|c_t|` reaches `SMALL` the row's `tanh c_t` and `h_t` are computed again the general way.
//! Every other row goes to the portable row ([`super::lstm_cell_row`]).
//!
//! Why a kernel of its own: the pass is bound by its chains' latency (an `e^x` polynomial, a
//! division and a `tanh` polynomial in a row), and the compiled row loop runs one chain of
//! 16 units at a time with comparisons into mask registers, which take slots of the
//! multiply-add units. Here each step of the computation is written for two blocks of 16 units
//! and the three gates at once (six independent chains side by side), `σ`'s sign selects with
//! bit operations, and the range checks are integer maxima. Each unit sees the same operations
//! in the same order as in [`super::sigmoid_one`], [`super::tanh_small`] and the row loop (the
//! same fused multiply-adds), so the results are the same bits (tested against the portable
//! pass).

use std::arch::x86_64::{
    __m512, __m512i, _mm512_add_epi32, _mm512_add_ps, _mm512_and_si512, _mm512_castps_si512,
    _mm512_castsi512_ps, _mm512_div_ps, _mm512_fmadd_ps, _mm512_fnmadd_ps, _mm512_loadu_ps,
    _mm512_max_epu32, _mm512_mul_ps, _mm512_or_si512, _mm512_reduce_max_epu32, _mm512_set1_epi32,
    _mm512_set1_ps, _mm512_setzero_si512, _mm512_slli_epi32, _mm512_srai_epi32, _mm512_storeu_ps,
    _mm512_sub_epi32, _mm512_sub_ps, _mm512_ternarylogic_epi32,
};
use std::mem::MaybeUninit;

use super::{C, MAGNITUDE, Q, SIGMOID_CAP, SMALL, below_small, magnitude_bits};

/// Lanes of a vector.
const LANES: usize = 16;

/// [`super::lstm_cells_f32`] for whole rows of `hidden` units, `hidden` a multiple of 16.
///
/// # Safety
/// The CPU has AVX-512F, AVX2 and FMA; `hidden` is a multiple of 16 and the slices hold the
/// same whole rows (`gates` `4 · hidden` a row), as `assert_whole_cell_rows` checks.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn rows(
    hidden: usize,
    gates: &mut [f32],
    c_prev: &[f32],
    c: &mut [MaybeUninit<f32>],
    tanh_c: &mut [MaybeUninit<f32>],
    h: &mut [MaybeUninit<f32>],
) {
    for ((((row, c_prev), c), tanh_c), h) in gates
        .chunks_exact_mut(4 * hidden)
        .zip(c_prev.chunks_exact(hidden))
        .zip(c.chunks_exact_mut(hidden))
        .zip(tanh_c.chunks_exact_mut(hidden))
        .zip(h.chunks_exact_mut(hidden))
    {
        let simple = {
            let (i_f, g_o) = row.split_at(2 * hidden);
            let (g, o) = g_o.split_at(hidden);
            below_small(g) && magnitude_bits(i_f).max(magnitude_bits(o)) <= SIGMOID_CAP.to_bits()
        };
        if !simple {
            let (i, rest) = row.split_at_mut(hidden);
            let (f, rest) = rest.split_at_mut(hidden);
            let (g, o) = rest.split_at_mut(hidden);
            super::lstm_cell_row::<true>(i, f, g, o, c_prev, c, tanh_c, h);
            continue;
        }
        // SAFETY: the CPU features are this function's contract; `row` holds 4 · hidden
        // elements and the others `hidden`, a multiple of 16, and the outputs are borrowed
        // mutably apart from the inputs.
        let largest = unsafe {
            simple_row(
                hidden,
                row.as_mut_ptr(),
                c_prev.as_ptr(),
                c.as_mut_ptr().cast(),
                tanh_c.as_mut_ptr().cast(),
                h.as_mut_ptr().cast(),
            )
        };
        if largest >= SMALL.to_bits() {
            // SAFETY: `simple_row` wrote every element of `c`.
            let c = unsafe { &*(c as *const [MaybeUninit<f32>] as *const [f32]) };
            super::cell_output::<true, false>(&row[3 * hidden..], c, tanh_c, h);
        }
    }
}

/// One simple row (module doc): the gates in place, `c_t`, and `tanh c_t` and `h_t` by the
/// polynomial; returns the largest bit pattern of `|c_t|` (see [`magnitude_bits`]).
///
/// # Safety
/// As [`rows`], with `row` pointing at `4 · hidden` elements and the others at `hidden`.
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn simple_row(
    hidden: usize,
    row: *mut f32,
    c_prev: *const f32,
    c: *mut f32,
    tanh_c: *mut f32,
    h: *mut f32,
) -> u32 {
    let mut largest = _mm512_setzero_si512();
    let mut j = 0;
    // SAFETY (both): units `j..j + 32` (`j..j + 16`) lie inside the row.
    unsafe {
        while j + 2 * LANES <= hidden {
            largest = units([j, j + LANES], hidden, row, c_prev, c, tanh_c, h, largest);
            j += 2 * LANES;
        }
        if j < hidden {
            largest = units([j], hidden, row, c_prev, c, tanh_c, h, largest);
        }
    }
    _mm512_reduce_max_epu32(largest)
}

/// The blocks of 16 units starting at `at`, each step for all of them and all three `σ` gates
/// at once; returns `largest` raised by their `|c_t|` bits.
///
/// # Safety
/// As [`simple_row`], every block inside the row.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn units<const V: usize>(
    at: [usize; V],
    hidden: usize,
    row: *mut f32,
    c_prev: *const f32,
    c: *mut f32,
    tanh_c: *mut f32,
    h: *mut f32,
    largest: __m512i,
) -> __m512i {
    // SAFETY: every pointer below is `row + q·hidden + at[v]` (`q < 4`) or the state's
    // `+ at[v]`, with 16 elements inside, by this function's contract.
    unsafe {
        let gate = |q: usize| -> [__m512; V] {
            std::array::from_fn(|v| _mm512_loadu_ps(row.add(q * hidden + at[v])))
        };
        let [i, f, o] = sigmoids([gate(0), gate(1), gate(3)]);
        let [g] = tanh_small([gate(2)]);
        let c_t: [__m512; V] = std::array::from_fn(|v| {
            let c_prev = _mm512_loadu_ps(c_prev.add(at[v]));
            _mm512_add_ps(_mm512_mul_ps(f[v], c_prev), _mm512_mul_ps(i[v], g[v]))
        });
        let [tanh_c_t] = tanh_small([c_t]);
        let mut largest = largest;
        for v in 0..V {
            for (q, value) in [i[v], f[v], g[v], o[v]].into_iter().enumerate() {
                _mm512_storeu_ps(row.add(q * hidden + at[v]), value);
            }
            _mm512_storeu_ps(c.add(at[v]), c_t[v]);
            _mm512_storeu_ps(tanh_c.add(at[v]), tanh_c_t[v]);
            _mm512_storeu_ps(h.add(at[v]), _mm512_mul_ps(o[v], tanh_c_t[v]));
            let magnitude = _mm512_and_si512(_mm512_castps_si512(c_t[v]), splat_bits(MAGNITUDE));
            largest = _mm512_max_epu32(largest, magnitude);
        }
        largest
    }
}

/// `u32` bits in every lane.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn splat_bits(bits: u32) -> __m512i {
    _mm512_set1_epi32(bits as i32)
}

/// `f(q, v)` for every gate `q` and block `v`: one step of the computation for all of them,
/// written side by side.
#[inline(always)]
fn each<const G: usize, const V: usize>(f: impl Fn(usize, usize) -> __m512) -> [[__m512; V]; G] {
    std::array::from_fn(|q| std::array::from_fn(|v| f(q, v)))
}

/// `σ` of every vector (`|x| ≤ SIGMOID_CAP`, no NaN): `e = e^{−|x|}` as
/// [`super::exp_non_positive`], `s = 1/(1 + e)`, and `s` or `e s` by the sign bit of `x` (for
/// `x = −0`, `e s = 1 · ½ = s`).
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn sigmoids<const G: usize, const V: usize>(x: [[__m512; V]; G]) -> [[__m512; V]; G] {
    const ROUND: f32 = 12_582_912.0;
    const LN_2_HIGH: f32 = 0.693_145_75;
    const LN_2_LOW: f32 = 1.428_606_8e-6;
    // z = −|x|: the sign bit set.
    let z = each::<G, V>(|q, v| {
        _mm512_castsi512_ps(_mm512_or_si512(
            _mm512_castps_si512(x[q][v]),
            splat_bits(0x8000_0000),
        ))
    });
    let shifted = each::<G, V>(|q, v| {
        _mm512_fmadd_ps(
            z[q][v],
            _mm512_set1_ps(std::f32::consts::LOG2_E),
            _mm512_set1_ps(ROUND),
        )
    });
    let k = each::<G, V>(|q, v| _mm512_sub_ps(shifted[q][v], _mm512_set1_ps(ROUND)));
    let r = each::<G, V>(|q, v| _mm512_fnmadd_ps(k[q][v], _mm512_set1_ps(LN_2_HIGH), z[q][v]));
    let r = each::<G, V>(|q, v| _mm512_fnmadd_ps(k[q][v], _mm512_set1_ps(LN_2_LOW), r[q][v]));
    let two_k = each::<G, V>(|q, v| {
        let k_int = _mm512_sub_epi32(
            _mm512_castps_si512(shifted[q][v]),
            splat_bits(ROUND.to_bits()),
        );
        _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_add_epi32(
            k_int,
            _mm512_set1_epi32(127),
        )))
    });
    let mut sum = each::<G, V>(|_, _| _mm512_set1_ps(C[5]));
    for &coefficient in C[..5].iter().rev() {
        sum = each::<G, V>(|q, v| _mm512_fmadd_ps(sum[q][v], r[q][v], _mm512_set1_ps(coefficient)));
    }
    let p =
        each::<G, V>(|q, v| _mm512_fmadd_ps(_mm512_mul_ps(r[q][v], r[q][v]), sum[q][v], r[q][v]));
    let e = each::<G, V>(|q, v| _mm512_fmadd_ps(two_k[q][v], p[q][v], two_k[q][v]));
    let s = each::<G, V>(|q, v| {
        _mm512_div_ps(
            _mm512_set1_ps(1.0),
            _mm512_add_ps(_mm512_set1_ps(1.0), e[q][v]),
        )
    });
    let e_s = each::<G, V>(|q, v| _mm512_mul_ps(e[q][v], s[q][v]));
    each::<G, V>(|q, v| {
        // All ones where x is negative: there `e s`, else `s` (bitwise select).
        let negative = _mm512_srai_epi32::<31>(_mm512_castps_si512(x[q][v]));
        _mm512_castsi512_ps(_mm512_ternarylogic_epi32::<0xCA>(
            negative,
            _mm512_castps_si512(e_s[q][v]),
            _mm512_castps_si512(s[q][v]),
        ))
    })
}

/// `tanh x` of every vector by the polynomial alone (`|x| < SMALL`), as [`super::tanh_small`]:
/// `a + a³ q(a²)` for `a = |x|`, with the sign of `x`.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn tanh_small<const G: usize, const V: usize>(x: [[__m512; V]; G]) -> [[__m512; V]; G] {
    let magnitude = splat_bits(MAGNITUDE);
    let a = each::<G, V>(|q, v| {
        _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x[q][v]), magnitude))
    });
    let s = each::<G, V>(|q, v| _mm512_mul_ps(a[q][v], a[q][v]));
    let mut sum = each::<G, V>(|_, _| _mm512_set1_ps(Q[5]));
    for &coefficient in Q[..5].iter().rev() {
        sum = each::<G, V>(|q, v| _mm512_fmadd_ps(sum[q][v], s[q][v], _mm512_set1_ps(coefficient)));
    }
    let y =
        each::<G, V>(|q, v| _mm512_fmadd_ps(_mm512_mul_ps(a[q][v], s[q][v]), sum[q][v], a[q][v]));
    // copysign: the magnitude of y, the sign of x.
    each::<G, V>(|q, v| {
        _mm512_castsi512_ps(_mm512_ternarylogic_epi32::<0xCA>(
            magnitude,
            _mm512_castps_si512(y[q][v]),
            _mm512_castps_si512(x[q][v]),
        ))
    })
}
