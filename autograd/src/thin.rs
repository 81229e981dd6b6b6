//! `f32` matrix products with a thin side — few rows (`m ≤ 8`, a rollout's batch of eight
//! observations, a `ḡᵀ x` with two output units) or a short inner dimension (`k ≤ 4`, the first
//! layer on four observations) — computed row by row, vectorised along the output's columns:
//!
//! ```text
//! C[i, ·] = Σ_p A[i, p] B[p, ·]        eight columns per fused multiply-add
//! ```
//!
//! `matrixmultiply` copies (packs) both operands into blocks before multiplying, which for
//! these shapes costs more than the product: `8×64 · 64×64` packs 4096 elements of `B` for 32768
//! multiply-adds. Here only an operand that is neither row-contiguous nor the transpose of one
//! is copied, and only a small one.
//!
//! The results are bit for bit what `matrixmultiply`'s FMA kernel computes, so that a product
//! does not depend on its shape: each element is one chain of fused multiply-adds in the order
//! `p = 0, 1, …` from zero, restarted every [`KC`] terms with the blocks added in order, and the
//! first block's sum has `+ 0` added (the kernel's `α·AB + 0`, which turns `−0` into `+0`). The
//! path is taken only where `matrixmultiply` itself uses that kernel: x86-64 with AVX2 and FMA.

/// `matrixmultiply`'s depth block for `sgemm` (`S_KC`): the chains restart every `KC` terms.
const KC: usize = 256;

/// The most elements of an operand that is copied into rows to take this path.
const PACK_LIMIT: usize = 16 * 1024;

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

/// `C ← A B` (`m×k` times `k×n`) if the shapes are thin enough to gain from this path and the
/// CPU has the kernel it must match; `false`, doing nothing, otherwise.
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
        // C = A B row by row, or Cᵀ = Bᵀ Aᵀ row by row: first a way that copies nothing.
        let ways = [
            (m, n, a, b, c),
            (n, m, b.transposed(), a.transposed(), c.transposed()),
        ];
        type Way = (
            usize,
            usize,
            Strided<*const f32>,
            Strided<*const f32>,
            Strided<*mut f32>,
        );
        let thin = |&(m, n, _, b, _): &Way, copy: bool| {
            n >= 8 && (m <= 8 || k <= 4) && (b.cols == 1 || (copy && k * n <= PACK_LIMIT))
        };
        let chosen = ways
            .iter()
            .find(|way| thin(way, false))
            .or_else(|| ways.iter().find(|way| thin(way, true)));
        let Some(&(m, n, a, b, c)) = chosen else {
            return false;
        };
        if !(std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma"))
        {
            return false;
        }
        // SAFETY: the CPU has AVX2 and FMA; the matrices are valid by this function's contract.
        unsafe {
            if b.cols == 1 {
                rows_fma(m, k, n, a, b.ptr, b.rows, c);
            } else {
                let packed = pack_rows(k, n, b);
                rows_fma(m, k, n, a, packed.as_ptr(), n as isize, c);
            }
        }
        return true;
    }
    #[allow(unreachable_code)]
    false
}

/// The `k×n` matrix `b` copied into row-major order.
///
/// # Safety
/// `b` describes a valid `k×n` matrix.
#[cfg(target_arch = "x86_64")]
unsafe fn pack_rows(k: usize, n: usize, b: Strided<*const f32>) -> Vec<f32> {
    let mut packed = Vec::with_capacity(k * n);
    for p in 0..k {
        for j in 0..n {
            // SAFETY: (p, j) is inside the matrix.
            packed.push(unsafe { *b.ptr.offset(p as isize * b.rows + j as isize * b.cols) });
        }
    }
    packed
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
    let mut block = vec![0.0f32; n];
    let mut total = vec![0.0f32; n];
    for i in 0..m {
        for start in (0..k).step_by(KC) {
            block.fill(0.0);
            for p in start..(start + KC).min(k) {
                // SAFETY: (i, p) is inside A and row p of B holds n elements.
                let (a_ip, b_p) = unsafe {
                    (
                        *a.ptr.offset(i as isize * a.rows + p as isize * a.cols),
                        std::slice::from_raw_parts(b.offset(p as isize * ldb), n),
                    )
                };
                for (sum, &b_pj) in block.iter_mut().zip(b_p) {
                    *sum = a_ip.mul_add(b_pj, *sum);
                }
            }
            let first = start == 0;
            for (total, &sum) in total.iter_mut().zip(&block) {
                *total = if first { sum + 0.0 } else { sum + *total };
            }
        }
        for (j, &value) in total.iter().enumerate() {
            // SAFETY: (i, j) is inside C.
            unsafe { *c.ptr.offset(i as isize * c.rows + j as isize * c.cols) = value };
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
                taken >= 50,
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
