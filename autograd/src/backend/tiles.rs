//! `f32` matrix products of the sizes a small network makes — a hidden layer `h W` at batch 256
//! (`256×64 · 64×64`), its gradients `ḡ W` and `ḡᵀ h`, and the thin weight gradients of the first
//! and last layers — computed in register tiles that read the operands in place:
//!
//! ```text
//! C[i..i+6, j..j+16] = Σ_p A[i..i+6, p] B[p, j..j+16]     twelve 8-lane chains of fused multiply-adds
//! ```
//!
//! Each step of `p` loads the two vectors `B[p, j..j+16]`, broadcasts the six `A[i+r, p]` and does
//! twelve fused multiply-adds into accumulators that stay in registers. `matrixmultiply` first
//! copies both operands into packed 8×8 blocks, and for these sizes the copies cost a third of
//! the product. Here `A` is read in place whatever its strides; `B` is read in place when its
//! rows are contiguous, and otherwise the product is computed transposed (`Cᵀ = Bᵀ Aᵀ`) if that
//! makes them so, or `B` is copied into a row-major buffer — the `Wᵀ` of `x Wᵀ`, `64×64` beside a
//! `256×64` batch. With at most two rows of `C` the tiles are one row high and 32 columns wide.
//! `cargo bench --bench matmul -- tiles` compares each shape with `matrixmultiply`. Products
//! whose `C` has fewer than eight columns, which fill no vector across a row, go down the
//! columns instead ([`narrow`]). Where the CPU has AVX-512F the same tiles run sixteen lanes
//! wide ([`wide`]), with the same results.
//!
//! The results are bit for bit what `matrixmultiply`'s FMA kernel computes, so that a product
//! does not depend on which path took it: each element is one chain of fused multiply-adds in the order
//! `p = 0, 1, …` from zero, restarted every [`KC`] terms with the blocks added in order, and the
//! first block's sum has `+ 0` added (the kernel's `α·AB + 0`, which turns `−0` into `+0`). The
//! path is taken only where `matrixmultiply` itself uses that kernel: x86-64 with AVX2 and FMA.
//! Large products, whose operands do not stay in cache, are left to `matrixmultiply`'s blocking.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps,
    _mm256_permute2f128_ps, _mm256_setzero_ps, _mm256_shuffle_ps, _mm256_storeu_ps,
    _mm256_unpackhi_ps, _mm256_unpacklo_ps,
};

mod gates;
mod narrow;
mod wide;

/// `matrixmultiply`'s depth block for `sgemm` (`S_KC`): the chains restart every `KC` terms.
const KC: usize = 256;

/// Rows of `C` in a tile.
const MR: usize = 6;

/// Operands larger than this many elements are left to `matrixmultiply`'s cache blocking
/// (except in the 16-lane tiles, which block the depth: see [`IN_L2`]).
const IN_CACHE: usize = 1 << 14;

/// The 16-lane tiles take products of any depth whose `C` is at most [`IN_CACHE`] elements and
/// whose depth blocks of `A` and `B` (`m × KC`, `KC × n`) are at most this many.
const IN_L2: usize = 1 << 16;

/// A strided matrix: element `(i, j)` at `ptr + i·rows + j·cols`.
#[derive(Clone, Copy)]
struct Strided<P> {
    ptr: P,
    rows: isize,
    cols: isize,
}

impl<P> Strided<P> {
    /// The same memory read as the transpose.
    fn transposed(self) -> Self {
        Strided {
            ptr: self.ptr,
            rows: self.cols,
            cols: self.rows,
        }
    }
}

/// `C ← A B` (`m×k` times `k×n`), or `C ← A B + C` if `accumulate` (`matrixmultiply`'s
/// `β = 1`: each depth block's chain added to `C` as it stands, the first one too), if the
/// shapes suit this path and the CPU has the kernel it must match; `false`, doing nothing,
/// otherwise.
///
/// # Safety
/// As [`matrixmultiply::sgemm`]: the pointers and strides describe valid matrices of these
/// sizes, and `C` aliases neither operand.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    a: *const f32,
    a_strides: (isize, isize),
    b: *const f32,
    b_strides: (isize, isize),
    c: *mut f32,
    c_strides: (isize, isize),
    accumulate: bool,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    let avx512 = std::arch::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    let avx512 = false;
    // SAFETY: forwarded; `avx512` only where the CPU has AVX-512F.
    unsafe {
        sgemm_with(
            avx512, accumulate, m, k, n, a, a_strides, b, b_strides, c, c_strides,
        )
    }
}

/// One LSTM step's gate pre-activations `a_t = (x_t W_ihᵀ + b) + h_{t−1} W_hhᵀ` in one pass
/// ([`gates`]), stored into `gates` (`m × n`, row-major); `x_t` is `m × input`, `h_{t−1}`
/// `m × hidden`, the weights transposed (`input × n`, `hidden × n`), all row-major. The bits of
/// the two products and the bias added in separate passes (the first product stored, `+ b`,
/// the second added with `β = 1`). With `hidden = 0` (and empty `h`, `W_hhᵀ`) the second
/// product is the empty sum `+0`, still added. `false`, doing nothing, unless the CPU has
/// AVX-512F, `n` is a multiple of 16, `1 ≤ input ≤` [`KC`] and `hidden ≤ KC`.
///
/// # Panics
/// If a slice does not hold its matrix.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lstm_gates(
    (m, input, hidden, n): (usize, usize, usize, usize),
    x: &[f32],
    weight_ih_t: &[f32],
    bias: Option<&[f32]>,
    h: &[f32],
    weight_hh_t: &[f32],
    gates: &mut [std::mem::MaybeUninit<f32>],
) -> bool {
    assert!(
        x.len() == m * input
            && weight_ih_t.len() == input * n
            && bias.is_none_or(|b| b.len() == n)
            && h.len() == m * hidden
            && weight_hh_t.len() == hidden * n
            && gates.len() == m * n,
        "lstm gates: {m}×{input}, {hidden}, {n} from slices of {}, {}, {:?}, {}, {}, {}",
        x.len(),
        weight_ih_t.len(),
        bias.map(<[f32]>::len),
        h.len(),
        weight_hh_t.len(),
        gates.len()
    );
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
        && m > 0
        && n.is_multiple_of(16)
        && (1..=KC).contains(&input)
        && hidden <= KC
    {
        let step = gates::Step {
            m,
            n,
            input,
            hidden,
            x: x.as_ptr(),
            w_ih_t: weight_ih_t.as_ptr(),
            bias: bias.map_or(std::ptr::null(), <[f32]>::as_ptr),
            h: h.as_ptr(),
            w_hh_t: weight_hh_t.as_ptr(),
            gates: gates.as_mut_ptr().cast::<f32>(),
        };
        // SAFETY: the CPU has AVX-512F, AVX2 and FMA (checked above); every slice holds its
        // matrix (asserted above), `gates` is borrowed mutably so aliases none of the others;
        // `n` and the depths are as `gates::product` needs.
        unsafe { gates::product(step) };
        return true;
    }
    false
}

/// [`sgemm`] in 16-lane tiles ([`wide`]) if `avx512`, else in the 8-lane AVX2 tiles: the
/// same result either way (the tests call both).
///
/// # Safety
/// As [`sgemm`], and the CPU has AVX-512F if `avx512`.
#[allow(clippy::too_many_arguments)]
unsafe fn sgemm_with(
    avx512: bool,
    accumulate: bool,
    m: usize,
    k: usize,
    n: usize,
    a: *const f32,
    (rsa, csa): (isize, isize),
    b: *const f32,
    (rsb, csb): (isize, isize),
    c: *mut f32,
    (rsc, csc): (isize, isize),
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if m == 0 || k == 0 || n == 0 {
            return false;
        }
        // Operands in L1, or (16-lane tiles only, which take the depth blocks as their outer
        // loop) a `C` in L1 and blocks of `A` and `B` in L2.
        let in_cache = m * k <= IN_CACHE && k * n <= IN_CACHE;
        let depth = k.min(KC);
        let blocked = avx512 && m * n <= IN_CACHE && m * depth <= IN_L2 && depth * n <= IN_L2;
        if !(in_cache || blocked) {
            return false;
        }
        let (a, b, c) = (
            Strided {
                ptr: a,
                rows: rsa,
                cols: csa,
            },
            Strided {
                ptr: b,
                rows: rsb,
                cols: csb,
            },
            Strided {
                ptr: c,
                rows: rsc,
                cols: csc,
            },
        );
        // C = A B, or Cᵀ = Bᵀ Aᵀ: rows of C (or Cᵀ) long enough to fill vectors and enough work
        // to repay the setup; of those, the way that reads B in place, else the one with less
        // of B to copy.
        type Way = (
            usize,
            usize,
            Strided<*const f32>,
            Strided<*const f32>,
            Strided<*mut f32>,
        );
        let copied = |&(_, n, _, b, _): &Way| match b.cols == 1 && n % 8 == 0 {
            true => 0,
            false => k * n,
        };
        // (With fewer than 8 terms per element, storing C dominates and `matrixmultiply`'s
        // kernel is the faster: `256×4 · 4×64` took 1.14 times as long here. So it is when A is
        // read across its rows for many terms and several tiles: `hᵀ ḡ`, `64×256 · 256×64`
        // with `h` row-major, took 1.06–1.29 times as long, A's and B's rows 256 bytes apart
        // crowding a quarter of the L1 sets; `matrixmultiply` packs them.)
        // The 16-lane tiles read a column-major A (`Āᵀ` of `Āᵀ H`) in place at any depth: a
        // tile's eight A[i + r, p] are adjacent.
        let suits = |way: &&Way| {
            k >= 8
                && way.1 >= 8
                && way.0 * k * way.1 >= 8192
                && copied(way) * 16 <= m * k * n
                && (way.2.cols == 1 || way.0 <= MR || k <= 128 || (avx512 && way.2.rows == 1))
                && (in_cache || way.2.cols == 1 || way.2.rows == 1)
        };
        let ways = [
            (m, n, a, b, c),
            (n, m, b.transposed(), a.transposed(), c.transposed()),
        ];
        if !(std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma"))
        {
            return false;
        }
        // Of two ways that copy as little, the one whose rows of C fill 16-lane vectors (the
        // LSTM's `Āᵀ X`, `256×2048 · 2048×8`, goes as `Xᵀ Ā`).
        let key = |way: &&Way| (copied(way), avx512 && way.1 < 16);
        let Some(&(m, n, a, b, c)) = ways.iter().filter(suits).min_by_key(key) else {
            // Fewer than 8 columns of C (or of Cᵀ), and A's rows contiguous: see `narrow`.
            let narrow =
                |&&(m, n, a, _, _): &&Way| in_cache && k >= 8 && m >= 8 && n < 8 && a.cols == 1;
            let Some(&(m, n, a, b, c)) = ways.iter().find(narrow) else {
                return false;
            };
            if accumulate {
                // (The narrow products store `C` once per block: left to `matrixmultiply`.)
                return false;
            }
            // SAFETY: the CPU has AVX2 and FMA; the matrices are valid by this function's
            // contract, read either way round.
            unsafe { narrow::product_fma(m, k, n, a, b, c) };
            return true;
        };
        // B row-major with a whole number of vectors per row, copied (zero-padded) if need be.
        let padded = n.next_multiple_of(8);
        let copy: Vec<f32>;
        let (b, ldb) = match b.cols == 1 && n == padded {
            true => (b.ptr, b.rows),
            false => {
                // SAFETY: B is valid by this function's contract.
                copy = unsafe { row_major(k, n, padded, b) };
                (copy.as_ptr(), padded as isize)
            }
        };
        // SAFETY: the CPU has AVX2 and FMA, and AVX-512F if `avx512`; A and C are valid by
        // this function's contract, and B is a valid k × `padded` row-major matrix.
        unsafe {
            match avx512 {
                true => wide::product(m, k, n, a, b, ldb, c, accumulate),
                false => product_fma(m, k, n, a, b, ldb, c, accumulate),
            }
        }
        return true;
    }
    #[allow(unreachable_code)]
    false
}

/// The `k × n` matrix `b` copied row-major into rows of `wide ≥ n` elements, zero-padded. A
/// column-major `b` (the `Wᵀ` of `x Wᵀ`) is transposed in `8×8` blocks in registers.
///
/// # Safety
/// The CPU has AVX2; `b` is a valid `k × n` matrix.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn row_major(k: usize, n: usize, wide: usize, b: Strided<*const f32>) -> Vec<f32> {
    let mut copy = vec![0.0; k * wide];
    let at = |p: usize, j: usize| {
        b.ptr
            .wrapping_offset(p as isize * b.rows + j as isize * b.cols)
    };
    let (mut blocks_k, mut blocks_n) = (0, 0);
    if b.rows == 1 {
        (blocks_k, blocks_n) = (k / 8 * 8, n / 8 * 8);
        for p in (0..blocks_k).step_by(8) {
            for j in (0..blocks_n).step_by(8) {
                // SAFETY: rows j..j + 8 of Bᵀ, elements p..p + 8 of each, are inside B, and
                // rows p..p + 8 of the copy hold elements j..j + 8.
                unsafe {
                    let rows = std::array::from_fn(|r| _mm256_loadu_ps(at(p, j + r)));
                    for (q, row) in transpose(rows).into_iter().enumerate() {
                        _mm256_storeu_ps(copy.as_mut_ptr().add((p + q) * wide + j), row);
                    }
                }
            }
        }
    }
    for (p, row) in copy.chunks_exact_mut(wide).enumerate() {
        let done = if p < blocks_k { blocks_n } else { 0 };
        for (j, value) in row[..n].iter_mut().enumerate().skip(done) {
            // SAFETY: (p, j) is inside B.
            *value = unsafe { *at(p, j) };
        }
    }
    copy
}

/// `C ← A B` (or `C ← A B + C` if `accumulate`, as [`sgemm`]) with `B` row-major (row `p` at
/// `b + p·ldb`, readable to a whole number of vectors past column `n`), in column panels of
/// tiles, in `matrixmultiply`'s order of operations (module doc).
///
/// # Safety
/// The CPU has AVX2 and FMA; the matrices are valid `m×k`, `k×n.next_multiple_of(8)` and `m×n`;
/// `C` aliases neither.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn product_fma(
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
            (true, _) => panels::<ROW_MAJOR>(m, k, n, a, b, ldb, c, accumulate),
            (_, true) => panels::<COLUMN_MAJOR>(m, k, n, a, b, ldb, c, accumulate),
            _ => panels::<STRIDED>(m, k, n, a, b, ldb, c, accumulate),
        }
    }
}

/// `A`'s layout, known at compile time so that the tiles address its elements with constant
/// offsets: rows contiguous, columns contiguous, or neither.
const ROW_MAJOR: u8 = 0;
const COLUMN_MAJOR: u8 = 1;
const STRIDED: u8 = 2;

/// [`product_fma`] for an `A` laid out as `L` says.
///
/// # Safety
/// As [`product_fma`], with `A` laid out as `L` says.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn panels<const L: u8>(
    m: usize,
    k: usize,
    n: usize,
    a: Strided<*const f32>,
    b: *const f32,
    ldb: isize,
    c: Strided<*mut f32>,
    accumulate: bool,
) {
    let mut j = 0;
    // SAFETY (all): forwarded; each panel covers columns j..j + width of C and reads B's
    // columns j..j + 8·NV, inside its padded rows.
    if m <= 2 {
        while j + 32 <= n {
            unsafe { panel::<L, 4>(m, j, 32, k, a, b, ldb, c, accumulate) };
            j += 32;
        }
    }
    while j + 16 <= n {
        unsafe { panel::<L, 2>(m, j, 16, k, a, b, ldb, c, accumulate) };
        j += 16;
    }
    while j < n {
        let width = (n - j).min(8);
        unsafe { panel::<L, 1>(m, j, width, k, a, b, ldb, c, accumulate) };
        j += 8;
    }
}

/// Columns `j..j + width` of `C` (`width ≤ 8·NV`), in tiles of [`MR`] rows and the rows left.
///
/// # Safety
/// As [`product_fma`], with B readable at columns `j..j + 8·NV`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn panel<const L: u8, const NV: usize>(
    m: usize,
    j: usize,
    width: usize,
    k: usize,
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
            unsafe { tile::<L, MR, NV>(i, j, width, k, a, b, ldb, c, accumulate) };
            i += MR;
        }
    }
    match m - i {
        0 => {}
        1 => unsafe { tile::<L, 1, NV>(i, j, width, k, a, b, ldb, c, accumulate) },
        2 => unsafe { tile::<L, 2, NV>(i, j, width, k, a, b, ldb, c, accumulate) },
        3 => unsafe { tile::<L, 3, NV>(i, j, width, k, a, b, ldb, c, accumulate) },
        4 => unsafe { tile::<L, 4, NV>(i, j, width, k, a, b, ldb, c, accumulate) },
        _ => unsafe { tile::<L, 5, NV>(i, j, width, k, a, b, ldb, c, accumulate) },
    }
}

/// `C[i..i + R, j..j + width]`: `R × NV` vectors of chains held in registers.
///
/// # Safety
/// As [`product_fma`], with rows `i..i + R` inside A and C, `b` at column `j` of B's row 0 and
/// readable for `8·NV` columns, and `width ≤ 8·NV` columns of C from `j`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<const L: u8, const R: usize, const NV: usize>(
    i: usize,
    j: usize,
    width: usize,
    k: usize,
    a: Strided<*const f32>,
    b: *const f32,
    ldb: isize,
    c: Strided<*mut f32>,
    accumulate: bool,
) {
    // SAFETY: every pointer below stays inside the matrices by this function's contract.
    unsafe {
        let zero = _mm256_setzero_ps();
        // A[i + r, p] is at `a_p + offsets[r]`, with `a_p` at A[i, p]; the strides that are 1 are
        // constants.
        let (rows, cols) = match L {
            ROW_MAJOR => (a.rows, 1),
            COLUMN_MAJOR => (1, a.cols),
            _ => (a.rows, a.cols),
        };
        let offsets: [isize; R] = std::array::from_fn(|r| r as isize * rows);
        let mut start = 0;
        while start < k {
            let end = (start + KC).min(k);
            let mut sum = [[zero; NV]; R];
            let mut a_p = a.ptr.offset(i as isize * rows + start as isize * cols);
            let mut b_p = b.offset(start as isize * ldb);
            for _ in start..end {
                let b_pv: [__m256; NV] = std::array::from_fn(|v| _mm256_loadu_ps(b_p.add(8 * v)));
                for r in 0..R {
                    let a_rp = _mm256_broadcast_ss(&*a_p.offset(offsets[r]));
                    for v in 0..NV {
                        sum[r][v] = _mm256_fmadd_ps(a_rp, b_pv[v], sum[r][v]);
                    }
                }
                a_p = a_p.wrapping_offset(cols);
                b_p = b_p.wrapping_offset(ldb);
            }
            // C = block + 0 after the first block, C = block + C after each later one (and after
            // the first if `accumulate`); C holds the running total, so no vector lives across
            // blocks.
            let first = start == 0 && !accumulate;
            for (r, vectors) in sum.iter().enumerate() {
                let row = c
                    .ptr
                    .offset((i + r) as isize * c.rows + j as isize * c.cols);
                if c.cols == 1 && width == 8 * NV {
                    for (v, &vector) in vectors.iter().enumerate() {
                        let before = if first {
                            zero
                        } else {
                            _mm256_loadu_ps(row.add(8 * v))
                        };
                        _mm256_storeu_ps(row.add(8 * v), _mm256_add_ps(vector, before));
                    }
                } else {
                    let mut lanes = [[0.0f32; 8]; NV];
                    for (lane, &vector) in lanes.iter_mut().zip(vectors) {
                        _mm256_storeu_ps(lane.as_mut_ptr(), vector);
                    }
                    for (l, &value) in lanes.iter().flatten().take(width).enumerate() {
                        let element = row.offset(l as isize * c.cols);
                        *element = value + if first { 0.0 } else { *element };
                    }
                }
            }
            start = end;
        }
    }
}

/// The columns of an `8×8` block given as its rows: lane `r` of vector `q` is `rows[r]`'s lane
/// `q`.
///
/// # Safety
/// The CPU has AVX (this is inlined into the AVX2 functions that call it).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn transpose(rows: [__m256; 8]) -> [__m256; 8] {
    // SAFETY: the CPU has AVX, by this function's contract.
    unsafe {
        let [r0, r1, r2, r3, r4, r5, r6, r7] = rows;
        // Pairs interleaved: [r0₀ r1₀ r0₁ r1₁ | r0₄ r1₄ r0₅ r1₅], …
        let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
        let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
        let (t4, t5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5));
        let (t6, t7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7));
        // Quads: [r0₀ r1₀ r2₀ r3₀ | r0₄ r1₄ r2₄ r3₄], …
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        // Halves joined: the low halves give columns 0–3, the high halves columns 4–7.
        [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A matrix of `rows × cols` values in a buffer, row-major or column-major.
    fn matrix(rows: usize, cols: usize, column_major: bool, seed: u32) -> (Vec<f32>, isize, isize) {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        let data = (0..rows * cols)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state % 2001) as f32 / 1000.0 - 1.0
            })
            .collect();
        match column_major {
            false => (data, cols as isize, 1),
            true => (data, 1, rows as isize),
        }
    }

    /// Whether the CPU has what the 8-lane and the 16-lane tiles need.
    fn has(avx512: bool) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
                && (!avx512 || std::arch::is_x86_feature_detected!("avx512f"))
        }
        #[cfg(not(target_arch = "x86_64"))]
        false
    }

    /// `C = A B` through `matrixmultiply` and through [`sgemm_with`] (`None` if this path
    /// declined), for A, B and C row- or column-major as the bits of `layout` say; with
    /// `accumulate`, `C ← A B + C` from a `C` of other values (`matrixmultiply`'s `β = 1`).
    fn both_with(
        avx512: bool,
        accumulate: bool,
        (m, k, n): (usize, usize, usize),
        layout: u32,
    ) -> (Vec<f32>, Option<Vec<f32>>) {
        let (a, rsa, csa) = matrix(m, k, layout & 1 != 0, 1 + layout);
        let (b, rsb, csb) = matrix(k, n, layout & 2 != 0, 100 + layout);
        let (c, rsc, csc) = matrix(m, n, layout & 4 != 0, 200 + layout);
        let start = match accumulate {
            true => c,
            false => vec![f32::NAN; m * n],
        };
        let mut expected = start.clone();
        let mut tiled = start;
        // SAFETY: all three buffers hold their matrices with these strides; `avx512` only
        // where the CPU has it (the callers check `has`).
        let took = unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                rsa,
                csa,
                b.as_ptr(),
                rsb,
                csb,
                if accumulate { 1.0 } else { 0.0 },
                expected.as_mut_ptr(),
                rsc,
                csc,
            );
            sgemm_with(
                avx512,
                accumulate,
                m,
                k,
                n,
                a.as_ptr(),
                (rsa, csa),
                b.as_ptr(),
                (rsb, csb),
                tiled.as_mut_ptr(),
                (rsc, csc),
            )
        };
        (expected, took.then_some(tiled))
    }

    /// [`both_with`], `C = A B`.
    fn both(
        avx512: bool,
        shape: (usize, usize, usize),
        layout: u32,
    ) -> (Vec<f32>, Option<Vec<f32>>) {
        both_with(avx512, false, shape, layout)
    }

    /// Every shape and layout this path takes gives `matrixmultiply`'s result bit for bit,
    /// in the 8-lane and in the 16-lane tiles: tiles of every height, panels of every width and
    /// a zero-padded last one, copied and in-place `B`, either way round, and depths across the
    /// blocks of 256 (k = 600, and the LSTM weight gradients' k = 2048 that only the 16-lane
    /// tiles take); and the narrow products, with groups of blocks, single blocks and rows left
    /// over, and depths that are not a whole number of blocks of eight. And so does `C ← A B + C`
    /// (`β = 1`), which the tiles take except where the narrow products would.
    #[test]
    fn agrees_with_matrixmultiply_bit_for_bit() {
        let shapes = [
            (8, 4, 64),
            (8, 64, 64),
            (8, 64, 2),
            (2, 256, 64),
            (1, 600, 33),
            (1, 600, 130),
            (256, 2, 64),
            (256, 4, 64),
            (64, 256, 4),
            (256, 64, 2),
            (256, 64, 64),
            (64, 256, 64),
            (64, 64, 256),
            (2048, 8, 256),
            (256, 2048, 64),
            (256, 2048, 8),
            (3, 5, 17),
            (13, 600, 27),
            (29, 9, 70),
            (100, 100, 9),
            (256, 64, 1),
            (2, 64, 256),
            (27, 600, 3),
            (43, 300, 2),
            (43, 13, 7),
            (8, 8, 5),
            (15, 40, 47),
            // Depth blocks of at most 16 terms go a row panel at a time in the 16-lane tiles:
            // an LSTM step's x_t W_ihᵀ, rows left over, one or two rows (4-vector tiles), and
            // columns left over for the 8-lane tiles.
            (64, 8, 256),
            (29, 16, 100),
            (2, 12, 130),
            (1, 9, 64),
            (13, 16, 48),
            // The LSTM's W̄_ih of a block of 256 rows, either way round.
            (8, 256, 256),
            (256, 256, 8),
        ];
        for (avx512, accumulate, least) in [
            (false, false, 110),
            (true, false, 130),
            (false, true, 80),
            (true, true, 100),
        ] {
            if !has(avx512) {
                continue;
            }
            let mut taken = 0;
            for shape in shapes {
                for layout in 0..8 {
                    let (expected, tiled) = both_with(avx512, accumulate, shape, layout);
                    if let Some(tiled) = tiled {
                        taken += 1;
                        let same = expected
                            .iter()
                            .zip(&tiled)
                            .all(|(x, y)| x.to_bits() == y.to_bits());
                        assert!(
                            same,
                            "{shape:?}, layout {layout}, AVX-512 {avx512}, accumulate {accumulate}"
                        );
                    }
                }
            }
            assert!(
                taken >= least,
                "the tiled and narrow paths (AVX-512 {avx512}, accumulate {accumulate}) took \
                 only {taken} of {} products",
                shapes.len() * 8
            );
        }
    }

    /// `hᵀ ḡ` of a 64-unit layer at batch 256 (A column-major): the 8-lane tiles, reading A
    /// across its rows, leave it to `matrixmultiply`; the 16-lane tiles read a tile's eight
    /// `A[i + r, p]` side by side and take it, as they take the LSTM's `Āᵀ H` of depth 2048.
    /// With A row-major both take it.
    #[test]
    fn which_tiles_take_long_products() {
        for avx512 in [false, true] {
            if !has(avx512) {
                continue;
            }
            let took = |shape, layout| both(avx512, shape, layout).1.is_some();
            assert_eq!(took((64, 256, 64), 1), avx512);
            assert_eq!(took((256, 2048, 64), 1), avx512);
            assert!(took((64, 256, 64), 0));
            // Depth blocks too large for L2: 1024 × 256 of A.
            assert!(!took((1024, 2048, 16), 1));
        }
    }

    /// One LSTM step's gates through `matrixmultiply` in three passes (`x W_ihᵀ` stored with
    /// `β = 0`, `+ b`, `h W_hhᵀ` added with `β = 1`) and through [`lstm_gates`] (`None` if it
    /// declined).
    fn gates_both_ways(
        (m, input, hidden, n): (usize, usize, usize, usize),
        with_bias: bool,
    ) -> (Vec<f32>, Option<Vec<f32>>) {
        let (x, _, _) = matrix(m, input, false, 1);
        let (w_ih_t, _, _) = matrix(input, n, false, 2);
        let (h, _, _) = matrix(m, hidden, false, 3);
        let (w_hh_t, _, _) = matrix(hidden, n, false, 4);
        let (b, _, _) = matrix(1, n, false, 5);
        let mut expected = vec![f32::NAN; m * n];
        // SAFETY: every buffer holds its row-major matrix.
        unsafe {
            let ld = |cols: usize| cols as isize;
            matrixmultiply::sgemm(
                m,
                input,
                n,
                1.0,
                x.as_ptr(),
                ld(input),
                1,
                w_ih_t.as_ptr(),
                ld(n),
                1,
                0.0,
                expected.as_mut_ptr(),
                ld(n),
                1,
            );
            if with_bias {
                for row in expected.chunks_exact_mut(n) {
                    row.iter_mut().zip(&b).for_each(|(a, &b)| *a += b);
                }
            }
            matrixmultiply::sgemm(
                m,
                hidden,
                n,
                1.0,
                h.as_ptr(),
                ld(hidden),
                1,
                w_hh_t.as_ptr(),
                ld(n),
                1,
                1.0,
                expected.as_mut_ptr(),
                ld(n),
                1,
            );
        }
        let mut fused = vec![std::mem::MaybeUninit::new(f32::NAN); m * n];
        let bias = with_bias.then_some(&b[..]);
        let took = lstm_gates(
            (m, input, hidden, n),
            &x,
            &w_ih_t,
            bias,
            &h,
            &w_hh_t,
            &mut fused,
        );
        // SAFETY: initialised above (NaN), and written by `lstm_gates` if it took the product.
        let fused = fused.into_iter().map(|v| unsafe { v.assume_init() });
        (expected, took.then(|| fused.collect()))
    }

    /// The fused gates of an LSTM step are the three passes' bits: issue 19's step
    /// (`64×8`, `64×64`, 256 gates), rows left over past the tiles of eight, one row, a last
    /// panel of 16 gates, depths of one and of a whole block, with and without a bias. Sizes
    /// the kernel cannot take (gates not a whole number of 16-lane vectors, a depth past one
    /// block) are declined.
    #[test]
    fn fused_lstm_gates_agree_with_matrixmultiply_bit_for_bit() {
        if !has(true) {
            return;
        }
        for sizes in [
            (64, 8, 64, 256),
            (29, 3, 12, 48),
            (1, 9, 64, 256),
            (13, 256, 256, 32),
            (7, 1, 1, 16),
            (300, 8, 24, 96),
        ] {
            for with_bias in [true, false] {
                let (expected, fused) = gates_both_ways(sizes, with_bias);
                let fused = fused.expect("the fused kernel takes these sizes");
                let same = expected
                    .iter()
                    .zip(&fused)
                    .all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{sizes:?}, bias {with_bias}");
            }
        }
        for sizes in [
            (64, 8, 13, 52),
            (8, 257, 64, 256),
            (8, 8, 300, 64),
            (0, 8, 8, 32),
        ] {
            assert!(gates_both_ways(sizes, true).1.is_none(), "{sizes:?}");
        }
    }

    #[test]
    fn large_products_are_left_to_matrixmultiply() {
        let (a, rsa, csa) = matrix(512, 512, false, 1);
        let mut c = vec![0.0; 512 * 512];
        // SAFETY: 512×512 buffers.
        let took = unsafe {
            sgemm(
                512,
                512,
                512,
                a.as_ptr(),
                (rsa, csa),
                a.as_ptr(),
                (rsa, csa),
                c.as_mut_ptr(),
                (512, 1),
                false,
            )
        };
        assert!(!took);
    }
}
