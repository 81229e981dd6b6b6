//! One LSTM step's gate pre-activations, both products in one pass over the gates, sixteen
//! lanes wide (AVX-512F, detected at run time by the caller):
//!
//! ```text
//! a_t[i..i+8, j..j+32] = ((Σ_p x_t[i..i+8, p] W_ihᵀ[p, j..j+32]) + 0 + b[j..j+32])
//!                        + Σ_q h_{t−1}[i..i+8, q] W_hhᵀ[q, j..j+32]
//! ```
//!
//! A tile runs the input chains (depth `I`) in its registers, adds `+ 0` and the bias, sets
//! them aside, runs the recurrent chains (depth `H`) from zero and stores their sum with what it
//! set aside: each gate element is written once. Separately, the same sums took three passes
//! over the step's `N × 4H` gates (`x_t W_ihᵀ` stored with `β = 0`, `+ b`, `h W_hhᵀ` added with
//! `β = 1`), each storing all of them.
//!
//! The order of operations is theirs, so the bits are: each chain is the parent module's (one
//! fused multiply-add per term in the order `p = 0, 1, …` from zero; both depths are at most
//! [`KC`], so one block), `+ 0` is the `β = 0` store's, `+ b` the bias pass's, and the last
//! addition the `β = 1` store's `chain + C`.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m512, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps,
    _mm512_storeu_ps,
};

use super::KC;

/// Rows of the gates in a tile.
const MR: usize = 8;

/// Lanes of a vector.
const LANES: usize = 16;

/// The operands of one step, all row-major: `x_t` (`m × input`), `W_ihᵀ` (`input × n`), the
/// bias `b` (`n`, or null), `h_{t−1}` (`m × hidden`), `W_hhᵀ` (`hidden × n`) and the gates
/// (`m × n`, written, never read).
#[derive(Clone, Copy)]
pub(super) struct Step {
    pub m: usize,
    pub n: usize,
    pub input: usize,
    pub hidden: usize,
    pub x: *const f32,
    pub w_ih_t: *const f32,
    pub bias: *const f32,
    pub h: *const f32,
    pub w_hh_t: *const f32,
    pub gates: *mut f32,
}

/// `a_t = (x_t W_ihᵀ + 0 + b) + h_{t−1} W_hhᵀ` (without `+ b` if `bias` is null), in column
/// panels of 32 and then 16 gates, each in tiles of [`MR`] rows and the rows left.
///
/// # Safety
/// The CPU has AVX-512F; the pointers hold the matrices [`Step`] describes, the gates alias
/// none of them; `n` is a multiple of 16; `1 ≤ input ≤ KC`, `hidden ≤ KC` (with `hidden = 0`
/// the recurrent chains are `+0`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn product(s: Step) {
    debug_assert!(s.n.is_multiple_of(LANES) && s.input <= KC && s.hidden <= KC);
    let mut j = 0;
    // SAFETY (all): forwarded; each panel covers columns j..j + 16·NV of the gates, of both
    // weights and of the bias.
    while j + 2 * LANES <= s.n {
        unsafe { panel::<2>(s, j) };
        j += 2 * LANES;
    }
    while j + LANES <= s.n {
        unsafe { panel::<1>(s, j) };
        j += LANES;
    }
}

/// Columns `j..j + 16·NV` of the gates, in tiles of [`MR`] rows and the rows left: the panels
/// of both weights stay in L1 while they meet every row.
///
/// # Safety
/// As [`product`], with columns `j..j + 16·NV` inside the gates.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn panel<const NV: usize>(s: Step, j: usize) {
    let mut i = 0;
    // SAFETY (all): forwarded; each tile covers rows i..i + R.
    while i + MR <= s.m {
        unsafe { tile::<MR, NV>(s, i, j) };
        i += MR;
    }
    match s.m - i {
        0 => {}
        1 => unsafe { tile::<1, NV>(s, i, j) },
        2 => unsafe { tile::<2, NV>(s, i, j) },
        3 => unsafe { tile::<3, NV>(s, i, j) },
        4 => unsafe { tile::<4, NV>(s, i, j) },
        5 => unsafe { tile::<5, NV>(s, i, j) },
        6 => unsafe { tile::<6, NV>(s, i, j) },
        _ => unsafe { tile::<7, NV>(s, i, j) },
    }
}

/// `R × NV` vectors of `Σ_p A[i + r, p] B[p, j..]` from zero, `A` `m × depth` and `B`
/// `depth × n`, both row-major.
///
/// # Safety
/// As [`product`], with rows `i..i + R` inside `A` and columns `j..j + 16·NV` inside `B`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn chains<const R: usize, const NV: usize>(
    depth: usize,
    n: usize,
    a: *const f32,
    b: *const f32,
    i: usize,
    j: usize,
) -> [[__m512; NV]; R] {
    // SAFETY: the elements read are inside A and B by this function's contract.
    unsafe {
        let mut sum = [[_mm512_setzero_ps(); NV]; R];
        let mut a_p = a.add(i * depth);
        let mut b_p = b.add(j);
        for _ in 0..depth {
            let b_pv: [__m512; NV] = std::array::from_fn(|v| _mm512_loadu_ps(b_p.add(LANES * v)));
            for (r, sum) in sum.iter_mut().enumerate() {
                let a_rp = _mm512_set1_ps(*a_p.add(r * depth));
                for v in 0..NV {
                    sum[v] = _mm512_fmadd_ps(a_rp, b_pv[v], sum[v]);
                }
            }
            a_p = a_p.add(1);
            b_p = b_p.add(n);
        }
        sum
    }
}

/// Rows `i..i + R`, columns `j..j + 16·NV` of the gates.
///
/// # Safety
/// As [`product`], with rows `i..i + R` and columns `j..j + 16·NV` inside the gates.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn tile<const R: usize, const NV: usize>(s: Step, i: usize, j: usize) {
    // SAFETY: every element read or written is inside its matrix by this function's contract.
    unsafe {
        let zero = _mm512_setzero_ps();
        // x_t W_ihᵀ, + 0 (the `β = 0` store), + b.
        let mut input = chains::<R, NV>(s.input, s.n, s.x, s.w_ih_t, i, j);
        for vectors in &mut input {
            for (v, vector) in vectors.iter_mut().enumerate() {
                *vector = _mm512_add_ps(*vector, zero);
                if !s.bias.is_null() {
                    *vector = _mm512_add_ps(*vector, _mm512_loadu_ps(s.bias.add(j + LANES * v)));
                }
            }
        }
        // + h_{t−1} W_hhᵀ, added as the `β = 1` store adds it: chain + C.
        let recurrent = chains::<R, NV>(s.hidden, s.n, s.h, s.w_hh_t, i, j);
        for (r, (sums, before)) in recurrent.iter().zip(&input).enumerate() {
            let row = s.gates.add((i + r) * s.n + j);
            for v in 0..NV {
                _mm512_storeu_ps(row.add(LANES * v), _mm512_add_ps(sums[v], before[v]));
            }
        }
    }
}
