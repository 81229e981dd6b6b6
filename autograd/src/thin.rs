//! `f32` matrix products with few output rows and a long inner dimension — the weight
//! gradient `ḡᵀ x` of a layer with one or two output units, or the transposed `xᵀ ḡ` of a layer
//! with four inputs, over a batch of 256 — computed row by row, vectorised along the output's
//! columns:
//!
//! ```text
//! C[i, j..j+32] = Σ_p A[i, p] B[p, j..j+32]        four 8-lane chains of fused multiply-adds
//! ```
//!
//! `matrixmultiply` packs both operands into blocks of 8 rows and 8 columns before multiplying;
//! with two rows of `C` three quarters of each block is padding, and the packing costs more than
//! the product. This path reads `B` (or `Aᵀ`, computing `Cᵀ = Bᵀ Aᵀ`) in place, so it needs its
//! rows contiguous. `2×256 · 256×64` takes 2.2 µs against 5.6 µs, `4×256 · 256×64` 4.5 against 5.8
//! (`cargo bench --bench matmul -- thin`). Products with many rows and a short inner dimension
//! (`256×4 · 4×64`) were tried too: `matrixmultiply` is faster there.
//!
//! The results are bit for bit what `matrixmultiply`'s FMA kernel computes, so that a product
//! does not depend on which path took it: each element is one chain of fused multiply-adds in the order
//! `p = 0, 1, …` from zero, restarted every [`KC`] terms with the blocks added in order, and the
//! first block's sum has `+ 0` added (the kernel's `α·AB + 0`, which turns `−0` into `+0`). The
//! path is taken only where `matrixmultiply` itself uses that kernel: x86-64 with AVX2 and FMA.

/// `matrixmultiply`'s depth block for `sgemm` (`S_KC`): the chains restart every `KC` terms.
const KC: usize = 256;

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

/// `C ← A B` (`m×k` times `k×n`) if the shapes and layouts suit this path and the CPU has the
/// kernel it must match; `false`, doing nothing, otherwise.
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
        // C = A B row by row, or Cᵀ = Bᵀ Aᵀ: few rows of C (or of Cᵀ), each long enough to
        // fill vectors, enough work to repay the setup, and rows of B (or Aᵀ) contiguous.
        type Way = (
            usize,
            usize,
            Strided<*const f32>,
            Strided<*const f32>,
            Strided<*mut f32>,
        );
        let thin = |&(m, n, _, b, _): &Way| m <= 8 && n >= 8 && m * k * n >= 8192 && b.cols == 1;
        let ways = [
            (m, n, a, b, c),
            (n, m, b.transposed(), a.transposed(), c.transposed()),
        ];
        let Some(&(m, n, a, b, c)) = ways.iter().find(|way| thin(way)) else {
            return false;
        };
        if !(std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma"))
        {
            return false;
        }
        // SAFETY: the CPU has AVX2 and FMA; the matrices are valid by this function's contract.
        unsafe { rows_fma(m, k, n, a, b.ptr, b.rows, c) };
        return true;
    }
    #[allow(unreachable_code)]
    false
}

/// `C ← A B` with `B` row-major (row `p` at `b + p·ldb`), one output row at a time, in
/// `matrixmultiply`'s order of operations (module doc).
///
/// # Safety
/// The CPU has AVX2 and FMA; the matrices are valid `m×k`, `k×n` and `m×n`; `C` aliases neither.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn rows_fma(
    m: usize,
    k: usize,
    n: usize,
    a: Strided<*const f32>,
    b: *const f32,
    ldb: isize,
    c: Strided<*mut f32>,
) {
    // SAFETY: forwarded.
    unsafe {
        match c.cols == 1 {
            true => rows::<true>(m, k, n, a, b, ldb, c),
            false => rows::<false>(m, k, n, a, b, ldb, c),
        }
    }
}

/// [`rows_fma`] for `C` with contiguous rows or not.
///
/// # Safety
/// As [`rows_fma`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn rows<const CONTIGUOUS: bool>(
    m: usize,
    k: usize,
    n: usize,
    a: Strided<*const f32>,
    b: *const f32,
    ldb: isize,
    c: Strided<*mut f32>,
) {
    for i in 0..m {
        let mut j = 0;
        // SAFETY (all three): forwarded; each call stays inside row i and columns j.. of C.
        while j + 32 <= n {
            unsafe { columns::<32, CONTIGUOUS>(i, j, k, a, b, ldb, c) };
            j += 32;
        }
        while j + 8 <= n {
            unsafe { columns::<8, CONTIGUOUS>(i, j, k, a, b, ldb, c) };
            j += 8;
        }
        while j < n {
            unsafe { columns::<1, CONTIGUOUS>(i, j, k, a, b, ldb, c) };
            j += 1;
        }
    }
}

/// `C[i, j..j + L]`: `L` chains of fused multiply-adds side by side, held in registers.
///
/// # Safety
/// As [`rows_fma`], with `j + L ≤ n` (and `C`'s rows contiguous if `CONTIGUOUS`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn columns<const L: usize, const CONTIGUOUS: bool>(
    i: usize,
    j: usize,
    k: usize,
    a: Strided<*const f32>,
    b: *const f32,
    ldb: isize,
    c: Strided<*mut f32>,
) {
    let mut total = [0.0f32; L];
    for start in (0..k).step_by(KC) {
        let mut sum = [0.0f32; L];
        for p in start..(start + KC).min(k) {
            // SAFETY: (i, p) is inside A; row p of B holds columns j..j + L.
            let (a_ip, b_p) = unsafe {
                (
                    *a.ptr.offset(i as isize * a.rows + p as isize * a.cols),
                    &*b.offset(p as isize * ldb + j as isize).cast::<[f32; L]>(),
                )
            };
            for l in 0..L {
                sum[l] = a_ip.mul_add(b_p[l], sum[l]);
            }
        }
        let first = start == 0;
        for l in 0..L {
            total[l] = if first {
                sum[l] + 0.0
            } else {
                sum[l] + total[l]
            };
        }
    }
    // SAFETY: (i, j..j + L) is inside C.
    unsafe {
        let row = c.ptr.offset(i as isize * c.rows + j as isize * c.cols);
        if CONTIGUOUS {
            std::ptr::copy_nonoverlapping(total.as_ptr(), row, L);
        } else {
            for (l, &value) in total.iter().enumerate() {
                *row.offset(l as isize * c.cols) = value;
            }
        }
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

    /// Every shape and layout this path takes gives `matrixmultiply`'s result bit for bit,
    /// across the depth blocks of 256 (k = 600).
    #[test]
    fn agrees_with_matrixmultiply_bit_for_bit() {
        let shapes = [
            (8, 4, 64),
            (8, 64, 64),
            (8, 64, 2),
            (2, 256, 64),
            (1, 600, 33),
            (256, 2, 64),
            (256, 4, 64),
            (64, 256, 4),
            (256, 64, 2),
            (3, 5, 17),
        ];
        let mut taken = 0;
        for (m, k, n) in shapes {
            for layout in 0..8 {
                let (a, rsa, csa) = matrix(m, k, layout & 1 != 0, 1 + layout);
                let (b, rsb, csb) = matrix(k, n, layout & 2 != 0, 100 + layout);
                let (_, rsc, csc) = matrix(m, n, layout & 4 != 0, 0);
                let mut expected = vec![f32::NAN; m * n];
                let mut thin = vec![f32::NAN; m * n];
                // SAFETY: all three buffers hold their matrices with these strides.
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
                        0.0,
                        expected.as_mut_ptr(),
                        rsc,
                        csc,
                    );
                    sgemm(
                        m,
                        k,
                        n,
                        a.as_ptr(),
                        (rsa, csa),
                        b.as_ptr(),
                        (rsb, csb),
                        thin.as_mut_ptr(),
                        (rsc, csc),
                    )
                };
                if took {
                    taken += 1;
                    let same = expected
                        .iter()
                        .zip(&thin)
                        .all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(same, "{m}×{k}·{k}×{n}, layout {layout}");
                }
            }
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            assert!(
                taken >= 16,
                "the thin path took only {taken} of 80 products"
            );
        }
    }

    #[test]
    fn wide_products_are_left_to_matrixmultiply() {
        let (a, rsa, csa) = matrix(64, 64, false, 1);
        let mut c = vec![0.0; 64 * 64];
        // SAFETY: 64×64 buffers.
        let took = unsafe {
            sgemm(
                64,
                64,
                64,
                a.as_ptr(),
                (rsa, csa),
                a.as_ptr(),
                (rsa, csa),
                c.as_mut_ptr(),
                (64, 1),
            )
        };
        assert!(!took);
    }
}
