//! The parent module's tiles sixteen lanes wide, for CPUs with AVX-512 (detected at run time):
//!
//! ```text
//! C[i..i+8, j..j+32] = Σ_p A[i..i+8, p] B[p, j..j+32]     sixteen 16-lane chains of fused multiply-adds
//! ```
//!
//! Each step of `p` loads two 16-lane vectors of `B`, broadcasts the eight `A[i+r, p]` and does
//! sixteen fused multiply-adds — twice the work per instruction of the AVX2 tile's twelve 8-lane
//! ones. Every lane is the same chain as there (`p = 0, 1, …` from zero, restarted every [`KC`]
//! terms, the blocks added in order, `+ 0` added to the first), so the result is the AVX2 tile's,
//! and `matrixmultiply`'s, bit for bit; columns left over past the last 16 go to the AVX2 tiles.
//!
//! The depth blocks of `KC` terms are the outer loop: all of `C` takes block 0, then block 1, ….
//! Each element still sees its blocks in order, so nothing changes in the result, but a block of
//! `A` (`m × KC`) and of `B` (`KC × n`) is all that one pass reads. That lets this path take long
//! products whose operands do not fit in L1 but whose blocks fit in L2 — the weight gradients of
//! a recurrent layer, `Āᵀ H` over all `T N` rows (`256×2048 · 2048×64`), with `Āᵀ` read in
//! place as a column-major `A`: a tile's eight `A[i + r, p]` are then adjacent.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m512, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps,
    _mm512_storeu_ps,
};

use super::{COLUMN_MAJOR, KC, ROW_MAJOR, STRIDED, Strided};

/// Rows of `C` in a tile.
const MR: usize = 8;

/// Lanes of a vector.
const LANES: usize = 16;

/// `C ← A B` (or `C ← A B + C` if `accumulate`, as the parent's `sgemm`) with `B` row-major (row `p` at `b + p·ldb`, readable to a whole number of 8-lane
/// vectors past column `n`), in the parent module's order of operations.
///
/// # Safety
/// The CPU has AVX-512F, AVX2 and FMA; the matrices are valid `m×k`,
/// `k×n.next_multiple_of(8)` and `m×n`; `C` aliases neither.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn product(
    m: usize,
    k: usize,
    n: usize,
    a: Strided<*const f32>,
    b: *const f32,
    ldb: isize,
    c: Strided<*mut f32>,
    accumulate: bool,
) {
    // SAFETY (all three): forwarded.
    unsafe {
        match (a.cols == 1, a.rows == 1) {
            (true, _) => blocks::<ROW_MAJOR>(m, k, n, a, b, ldb, c, accumulate),
            (_, true) => blocks::<COLUMN_MAJOR>(m, k, n, a, b, ldb, c, accumulate),
            _ => blocks::<STRIDED>(m, k, n, a, b, ldb, c, accumulate),
        }
    }
}

/// Depth blocks of at most this many terms go a panel of rows at a time ([`row_panel`]), deeper
/// ones a panel of columns at a time ([`panel`]).
const SHALLOW: usize = 16;

/// [`product`] for an `A` laid out as `L` says, one depth block at a time.
///
/// # Safety
/// As [`product`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn blocks<const L: u8>(
    m: usize,
    k: usize,
    n: usize,
    a: Strided<*const f32>,
    b: *const f32,
    ldb: isize,
    c: Strided<*mut f32>,
    accumulate: bool,
) {
    let mut start = 0;
    while start < k {
        let end = (start + KC).min(k);
        // SAFETY (all): forwarded; each call covers rows i..i + R of A and C, or columns
        // j..j + 16·NV of C and of B (inside its rows).
        if end - start <= SHALLOW {
            let mut i = 0;
            while i + MR <= m {
                unsafe { row_panel::<L, MR>(m, n, i, start, end, a, b, ldb, c, accumulate) };
                i += MR;
            }
            match m - i {
                0 => {}
                1 => unsafe { row_panel::<L, 1>(m, n, i, start, end, a, b, ldb, c, accumulate) },
                2 => unsafe { row_panel::<L, 2>(m, n, i, start, end, a, b, ldb, c, accumulate) },
                3 => unsafe { row_panel::<L, 3>(m, n, i, start, end, a, b, ldb, c, accumulate) },
                4 => unsafe { row_panel::<L, 4>(m, n, i, start, end, a, b, ldb, c, accumulate) },
                5 => unsafe { row_panel::<L, 5>(m, n, i, start, end, a, b, ldb, c, accumulate) },
                6 => unsafe { row_panel::<L, 6>(m, n, i, start, end, a, b, ldb, c, accumulate) },
                _ => unsafe { row_panel::<L, 7>(m, n, i, start, end, a, b, ldb, c, accumulate) },
            }
        } else {
            let mut j = 0;
            if m <= 2 {
                while j + 4 * LANES <= n {
                    unsafe { panel::<L, 4>(m, j, start, end, a, b, ldb, c, accumulate) };
                    j += 4 * LANES;
                }
            }
            while j + 2 * LANES <= n {
                unsafe { panel::<L, 2>(m, j, start, end, a, b, ldb, c, accumulate) };
                j += 2 * LANES;
            }
            while j + LANES <= n {
                unsafe { panel::<L, 1>(m, j, start, end, a, b, ldb, c, accumulate) };
                j += LANES;
            }
        }
        start = end;
    }
    // The last columns (fewer than 16), all blocks at once, in the AVX2 tiles: B is readable to
    // a whole number of 8-lane vectors. (Other elements of C than the tiles above: the order
    // does not change any sum.)
    let mut j = n / LANES * LANES;
    while j < n {
        let width = (n - j).min(8);
        // SAFETY: forwarded; columns j..j + width of C, B readable at columns j..j + 8.
        unsafe { super::panel::<L, 1>(m, j, width, k, a, b, ldb, c, accumulate) };
        j += 8;
    }
}

/// Columns `j..j + 16·NV` of `C`, terms `start..end` of the sum, in tiles of [`MR`] rows and
/// the rows left: the panel of `B` stays in L1 while it meets every row of `A`.
///
/// # Safety
/// As [`product`], with B readable at columns `j..j + 16·NV`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn panel<const L: u8, const NV: usize>(
    m: usize,
    j: usize,
    start: usize,
    end: usize,
    a: Strided<*const f32>,
    b: *const f32,
    ldb: isize,
    c: Strided<*mut f32>,
    accumulate: bool,
) {
    let b = b.wrapping_add(j);
    let mut i = 0;
    // SAFETY (all): forwarded; each tile covers rows i..i + R of C and A.
    if NV <= 2 {
        while i + MR <= m {
            unsafe { tile::<L, MR, NV>(i, j, start, end, a, b, ldb, c, accumulate) };
            i += MR;
        }
    }
    match m - i {
        0 => {}
        1 => unsafe { tile::<L, 1, NV>(i, j, start, end, a, b, ldb, c, accumulate) },
        2 => unsafe { tile::<L, 2, NV>(i, j, start, end, a, b, ldb, c, accumulate) },
        3 => unsafe { tile::<L, 3, NV>(i, j, start, end, a, b, ldb, c, accumulate) },
        4 => unsafe { tile::<L, 4, NV>(i, j, start, end, a, b, ldb, c, accumulate) },
        5 => unsafe { tile::<L, 5, NV>(i, j, start, end, a, b, ldb, c, accumulate) },
        6 => unsafe { tile::<L, 6, NV>(i, j, start, end, a, b, ldb, c, accumulate) },
        _ => unsafe { tile::<L, 7, NV>(i, j, start, end, a, b, ldb, c, accumulate) },
    }
}

/// Rows `i..i + R` of `C`, terms `start..end` of the sum, across all whole 16-lane columns,
/// each row of `C` stored whole: with few terms an element, storing `C` outweighs reading `B`
/// (an LSTM step's `x_t W_ihᵀ`, `64×8 · 8×256`, took 1.25 times as long a column panel at a
/// time; `h W_hhᵀ`, `64×64 · 64×256`, took 1.05 times as long a row panel at a time).
///
/// # Safety
/// As [`product`], with rows `i..i + R` inside A and C.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn row_panel<const L: u8, const R: usize>(
    m: usize,
    n: usize,
    i: usize,
    start: usize,
    end: usize,
    a: Strided<*const f32>,
    b: *const f32,
    ldb: isize,
    c: Strided<*mut f32>,
    accumulate: bool,
) {
    let mut j = 0;
    // SAFETY (all): forwarded; each tile covers columns j..j + 16·NV of C and reads B's
    // columns j..j + 16·NV, inside its rows.
    if R <= 2 && m <= 2 {
        while j + 4 * LANES <= n {
            let b = b.wrapping_add(j);
            unsafe { tile::<L, R, 4>(i, j, start, end, a, b, ldb, c, accumulate) };
            j += 4 * LANES;
        }
    }
    while j + 2 * LANES <= n {
        let b = b.wrapping_add(j);
        unsafe { tile::<L, R, 2>(i, j, start, end, a, b, ldb, c, accumulate) };
        j += 2 * LANES;
    }
    while j + LANES <= n {
        let b = b.wrapping_add(j);
        unsafe { tile::<L, R, 1>(i, j, start, end, a, b, ldb, c, accumulate) };
        j += LANES;
    }
}

/// `C[i..i + R, j..j + 16·NV]` from terms `start..end`: `R × NV` vectors of chains held in
/// registers, then added to `C` (`+ 0` for the first block).
///
/// # Safety
/// As [`product`], with rows `i..i + R` inside A and C, `b` at column `j` of B's row 0 and
/// readable for `16·NV` columns, which are inside C.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<const L: u8, const R: usize, const NV: usize>(
    i: usize,
    j: usize,
    start: usize,
    end: usize,
    a: Strided<*const f32>,
    b: *const f32,
    ldb: isize,
    c: Strided<*mut f32>,
    accumulate: bool,
) {
    // SAFETY: every pointer below stays inside the matrices by this function's contract.
    unsafe {
        let zero = _mm512_setzero_ps();
        let (rows, cols) = match L {
            ROW_MAJOR => (a.rows, 1),
            COLUMN_MAJOR => (1, a.cols),
            _ => (a.rows, a.cols),
        };
        let offsets: [isize; R] = std::array::from_fn(|r| r as isize * rows);
        let mut sum = [[zero; NV]; R];
        let mut a_p = a.ptr.offset(i as isize * rows + start as isize * cols);
        let mut b_p = b.offset(start as isize * ldb);
        for _ in start..end {
            let b_pv: [__m512; NV] = std::array::from_fn(|v| _mm512_loadu_ps(b_p.add(LANES * v)));
            for r in 0..R {
                let a_rp = _mm512_set1_ps(*a_p.offset(offsets[r]));
                for v in 0..NV {
                    sum[r][v] = _mm512_fmadd_ps(a_rp, b_pv[v], sum[r][v]);
                }
            }
            a_p = a_p.wrapping_offset(cols);
            b_p = b_p.wrapping_offset(ldb);
        }
        let first = start == 0 && !accumulate;
        for (r, vectors) in sum.iter().enumerate() {
            let row = c
                .ptr
                .offset((i + r) as isize * c.rows + j as isize * c.cols);
            if c.cols == 1 {
                for (v, &vector) in vectors.iter().enumerate() {
                    let before = if first {
                        zero
                    } else {
                        _mm512_loadu_ps(row.add(LANES * v))
                    };
                    _mm512_storeu_ps(row.add(LANES * v), _mm512_add_ps(vector, before));
                }
            } else {
                let mut lanes = [[0.0f32; LANES]; NV];
                for (lane, &vector) in lanes.iter_mut().zip(vectors) {
                    _mm512_storeu_ps(lane.as_mut_ptr(), vector);
                }
                for (l, &value) in lanes.iter().flatten().enumerate() {
                    let element = row.offset(l as isize * c.cols);
                    *element = value + if first { 0.0 } else { *element };
                }
            }
        }
    }
}
