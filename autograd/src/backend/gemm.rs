//! Matrix products on `ndarray` views: the safe face of [`Float::gemm`], which takes raw
//! pointers and strides. A view is a valid matrix by construction, so the products below can
//! promise their callers what `gemm`'s contract asks for.

use std::mem::MaybeUninit;

use ndarray::{Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut2, Axis};

use crate::Float;

/// `C = A B` for an `m×k` and a `k×n` view of any strides (a transposed view is passed as
/// swapped strides, never copied).
pub(crate) fn matrix_product<T: Float>(a: ArrayView2<T>, b: ArrayView2<T>) -> Array2<T> {
    let mut c = Array2::uninit((a.nrows(), b.ncols()));
    gemm(a, b, c.view_mut());
    // SAFETY: `gemm` stores every element of C.
    unsafe { c.assume_init() }
}

/// `C_i = A_i B_i` for every matrix `i` of two batches of equal size, each product as
/// [`matrix_product`] computes it.
pub(crate) fn batched_product<T: Float>(a: ArrayView3<T>, b: ArrayView3<T>) -> Array3<T> {
    let (batch, m, n) = (a.len_of(Axis(0)), a.len_of(Axis(1)), b.len_of(Axis(2)));
    let mut c = Array3::uninit((batch, m, n));
    for ((a, b), c) in a.outer_iter().zip(b.outer_iter()).zip(c.outer_iter_mut()) {
        gemm(a, b, c);
    }
    // SAFETY: every batch's `gemm` stored all of its m × n block.
    unsafe { c.assume_init() }
}

/// `C ← A B` on 2-D views of any strides, writing every element of `C` (which may be
/// uninitialised: with `β = 0` the kernels never read `C`).
///
/// # Panics
/// If the inner sizes or `C`'s shape do not match (a bug in the caller: `matmul` checks shapes).
pub(crate) fn gemm<T: Float>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    mut c: ArrayViewMut2<MaybeUninit<T>>,
) {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    assert!(
        k == k2 && c.dim() == (m, n),
        "gemm: shapes {:?} · {:?} into {:?}",
        a.shape(),
        b.shape(),
        c.shape()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.fill(MaybeUninit::new(T::zero()));
        return;
    }
    let (sa, sb, sc) = (a.strides(), b.strides(), c.strides());
    let (sc0, sc1) = (sc[0], sc[1]);
    // SAFETY: the views describe valid m×k, k×n and m×n matrices with these strides; `c` is a
    // distinct mutable view, and with β = 0 it is written, never read.
    unsafe {
        T::gemm(
            m,
            k,
            n,
            T::one(),
            a.as_ptr(),
            sa[0],
            sa[1],
            b.as_ptr(),
            sb[0],
            sb[1],
            T::zero(),
            c.as_mut_ptr().cast::<T>(),
            sc0,
            sc1,
        );
    }
}
