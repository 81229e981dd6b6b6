//! `f32` products whose `C` has fewer than eight columns and whose `A` has contiguous rows — a
//! policy's or a critic's output layer `h W` (`256×64 · 64×2`, `256×64 · 64×1`) — computed in
//! vectors that run down `C`'s columns:
//!
//! ```text
//! C[i..i+8, j] = Σ_p A[i..i+8, p] B[p, j]        one 8-lane chain of fused multiply-adds per column
//! ```
//!
//! A vector needs eight rows' `A[i + r, p]`, which lie a row apart; so eight rows are loaded as an
//! `8×8` block of `A` and transposed in registers (24 shuffles) into the eight vectors
//! `A[i..i+8, p..p+8]`. Each chain then takes eight fused multiply-adds with broadcasts of
//! `B[p, j]`. Four blocks of rows run side by side so that their chains overlap.
//! `matrixmultiply`, for a `C` this narrow, packs all of `A` and computes eight columns of which
//! one or two are kept: `256×64 · 64×2` took 7.5–11 µs there and 3.3 µs here.
//!
//! The order of operations is the parent module's, `matrixmultiply`'s: each element is one chain
//! in the order `p = 0, 1, …` from zero, restarted every [`KC`] terms, the blocks added in order
//! and `+ 0` added to the first; rows past the last whole block of eight are scalar chains of
//! the same fused multiply-adds.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m256, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_setr_ps,
    _mm256_setzero_ps, _mm256_storeu_ps,
};

use super::{KC, Strided, transpose};

/// Rows of `C` in a vector.
const LANES: usize = 8;

/// Blocks of [`LANES`] rows computed side by side.
const GROUP: usize = 4;

/// `C ← A B` with `C` `m × n`, `n < 8`, and `A`'s rows contiguous.
///
/// # Safety
/// The CPU has AVX2 and FMA; the matrices are valid `m×k`, `k×n` and `m×n`, `a.cols == 1`, and
/// `C` aliases neither.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn product_fma(
    m: usize,
    k: usize,
    n: usize,
    a: Strided<*const f32>,
    b: Strided<*const f32>,
    c: Strided<*mut f32>,
) {
    // SAFETY (all): forwarded.
    unsafe {
        match n {
            1 => rows::<1>(m, k, a, b, c),
            2 => rows::<2>(m, k, a, b, c),
            3 => rows::<3>(m, k, a, b, c),
            4 => rows::<4>(m, k, a, b, c),
            5 => rows::<5>(m, k, a, b, c),
            6 => rows::<6>(m, k, a, b, c),
            _ => rows::<7>(m, k, a, b, c),
        }
    }
}

/// [`product_fma`] for `N` columns: groups of blocks of rows, then single blocks, then the rows
/// left one at a time.
///
/// # Safety
/// As [`product_fma`], with `n = N`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn rows<const N: usize>(
    m: usize,
    k: usize,
    a: Strided<*const f32>,
    b: Strided<*const f32>,
    c: Strided<*mut f32>,
) {
    let mut i = 0;
    // SAFETY (all): forwarded; each call covers rows inside A and C.
    while i + GROUP * LANES <= m {
        unsafe { blocks::<GROUP, N>(i, k, a, b, c) };
        i += GROUP * LANES;
    }
    while i + LANES <= m {
        unsafe { blocks::<1, N>(i, k, a, b, c) };
        i += LANES;
    }
    for i in i..m {
        for j in 0..N {
            unsafe { element(i, j, k, a, b, c) };
        }
    }
}

/// Rows `i..i + G·8` of `C`: `G × N` chains of vectors.
///
/// # Safety
/// As [`product_fma`], with rows `i..i + G·8` inside A and C.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn blocks<const G: usize, const N: usize>(
    i: usize,
    k: usize,
    a: Strided<*const f32>,
    b: Strided<*const f32>,
    c: Strided<*mut f32>,
) {
    // SAFETY: every pointer below stays inside the matrices by this function's contract.
    unsafe {
        let at_a = |row: usize, p: usize| a.ptr.offset(row as isize * a.rows + p as isize);
        let at_b = |p: usize, j: usize| &*b.ptr.offset(p as isize * b.rows + j as isize * b.cols);
        let mut start = 0;
        while start < k {
            let end = (start + KC).min(k);
            let mut sum = [[_mm256_setzero_ps(); N]; G];
            let mut p = start;
            while p + LANES <= end {
                for (g, sum) in sum.iter_mut().enumerate() {
                    let block: [__m256; LANES] =
                        std::array::from_fn(|r| _mm256_loadu_ps(at_a(i + g * LANES + r, p)));
                    for (q, column) in transpose(block).into_iter().enumerate() {
                        for (j, sum) in sum.iter_mut().enumerate() {
                            let b_pj = _mm256_broadcast_ss(at_b(p + q, j));
                            *sum = _mm256_fmadd_ps(column, b_pj, *sum);
                        }
                    }
                }
                p += LANES;
            }
            for p in p..end {
                for (g, sum) in sum.iter_mut().enumerate() {
                    let row = |r: usize| *at_a(i + g * LANES + r, p);
                    let column = _mm256_setr_ps(
                        row(0),
                        row(1),
                        row(2),
                        row(3),
                        row(4),
                        row(5),
                        row(6),
                        row(7),
                    );
                    for (j, sum) in sum.iter_mut().enumerate() {
                        *sum = _mm256_fmadd_ps(column, _mm256_broadcast_ss(at_b(p, j)), *sum);
                    }
                }
            }
            // C = block + 0 after the first block, C = block + C after each later one.
            let first = start == 0;
            for (g, sum) in sum.iter().enumerate() {
                for (j, &vector) in sum.iter().enumerate() {
                    let mut lanes = [0.0f32; LANES];
                    _mm256_storeu_ps(lanes.as_mut_ptr(), vector);
                    for (r, value) in lanes.into_iter().enumerate() {
                        let row = (i + g * LANES + r) as isize;
                        let element = c.ptr.offset(row * c.rows + j as isize * c.cols);
                        *element = value + if first { 0.0 } else { *element };
                    }
                }
            }
            start = end;
        }
    }
}

/// `C[i, j]` alone, as a scalar chain of the same operations.
///
/// # Safety
/// As [`product_fma`], with `(i, j)` inside C.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn element(
    i: usize,
    j: usize,
    k: usize,
    a: Strided<*const f32>,
    b: Strided<*const f32>,
    c: Strided<*mut f32>,
) {
    // SAFETY: every pointer below stays inside the matrices by this function's contract.
    unsafe {
        let element = c.ptr.offset(i as isize * c.rows + j as isize * c.cols);
        let mut start = 0;
        while start < k {
            let end = (start + KC).min(k);
            let mut sum = 0.0f32;
            for p in start..end {
                let a_ip = *a.ptr.offset(i as isize * a.rows + p as isize);
                let b_pj = *b.ptr.offset(p as isize * b.rows + j as isize * b.cols);
                sum = a_ip.mul_add(b_pj, sum);
            }
            *element = sum + if start == 0 { 0.0 } else { *element };
            start = end;
        }
    }
}
