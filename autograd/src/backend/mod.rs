//! The backend: the fast kernels behind the op layer, and the only home of `unsafe` in the
//! crate. The op layer (`forward.rs`, `backprop.rs`, `grad.rs`) reads as math and calls these
//! through safe functions; each either computes exactly what the plain `ndarray` path computes
//! or declines (`None` / `false`) and leaves the case to that path.
//!
//! | kernel | what | against the plain reference |
//! |---|---|---|
//! | [`matrix_product`], [`batched_product`] (and `gemm::gemm` under them) | `C = A B` on strided views, through [`Float::gemm`](crate::Float::gemm) | bit for bit `ndarray`'s `dot` (`matrixmultiply`), within round-off of the triple loop |
//! | `tiles::sgemm` (`f32`, AVX2 + FMA) | register-tiled product of in-cache sizes | bit for bit `matrixmultiply::sgemm` |
//! | `tiles::wide` (`f32`, AVX-512F) | the same tiles sixteen lanes wide, depth blocks outermost, so also long products whose blocks fit in L2 (the LSTM's `Āᵀ H`) | bit for bit the AVX2 tiles and `matrixmultiply::sgemm` |
//! | `tiles::narrow` (`f32`) | products with fewer than 8 columns, down the columns | bit for bit `matrixmultiply::sgemm` |
//! | `tiles::gates` (`f32`, AVX-512F) | an LSTM step's `(x_t W_ihᵀ + 0 + b) + h W_hhᵀ` in one tile pass | bit for bit `matrixmultiply::sgemm` (`β = 0`), `+ b`, `matrixmultiply::sgemm` (`β = 1`) |
//! | `gate_gradients::lstm_gate_gradients_f32` (`f32`, AVX-512F) | an LSTM step's backward elementwise pass: `Ā_t`, `c̄ ← c̄_t ⊙ f` and `b̄ += Σ_n ā_t,n` in one pass over the rows | bit for bit the plain row loop (`lstm::step_gate_gradients`, `Float::lstm_gate_gradients`'s default) |
//! | [`conv2d`], [`conv2d_input_grad`], [`conv2d_weight_grad`] | a convolution and its two VJPs as im2col / col2im around [`Float::gemm`](crate::Float::gemm) | the direct sum over channels and kernel offsets, and the adjoint identities |
//! | `tanh::tanh_f32` | vectorised `tanh` | within 1 ulp of `f64` `tanh` rounded to `f32` |
//! | `tanh::sigmoid_f32_in_place` | vectorised `σ` (and `tanh` in place) | within 4 ulp of `f64` `σ` rounded to `f32`; the AVX-512 build bit for bit the AVX2 one |
//! | `tanh::cells::rows` (`f32`, AVX-512F, `H` a multiple of 16) | an LSTM step's cell pass (`σ`, `tanh`, `c_t`, `tanh c_t`, `h_t`) for the rows inside `σ`'s range with every `\|a_g\|` below `tanh`'s polynomial bound: two blocks of 16 units and three gates side by side, no comparisons into mask registers; other rows to the portable row | bit for bit the portable pass and the separate `σ`, `tanh` passes |
//! | [`lstm_forward`], [`lstm_backward`] | one LSTM layer over a sequence and its BPTT: per step the gates `(x_t W_ihᵀ + b) + h W_hhᵀ` in one fused pass (`tiles::gates`, `f32` AVX-512, without `h W_hhᵀ` for a zero state `h`: its chains are the empty sum's `+0`; else a product for `x_t W_ihᵀ`, `+ b`, and `h W_hhᵀ` added to it in the tiles' store) and a product for `Ā W_hh`; the weight gradients per block of 256 rows while `Ā` is in cache; the elementwise passes compiled for AVX-512F where the CPU has it (the same operations) | the step-by-step tape path (`crate::lstm::lstm_reference`): forward bit for bit in `f64`, gradients to round-off |
//! | [`binary`], [`broadcast`], [`sum_last_axis`], [`fold_last_axis`], [`sum_leading_axes`], [`gather`], [`scatter_add`], [`add_assign`] | elementwise ops, reductions and picks on contiguous layouts | bit for bit the `Zip` / `sum_axis` / `fold_axis` paths |
//!
//! ## Safety contracts
//!
//! * [`Float::gemm`](crate::Float::gemm) (implemented in `scalar.rs`): the pointers and strides
//!   describe valid `m×k`, `k×n`, `m×n` matrices and `C` aliases neither operand. `gemm::gemm` is
//!   its safe form: `ndarray` views guarantee all of it.
//! * `tiles::sgemm`: as `matrixmultiply::sgemm`; its inner functions (`product_fma`, `panels`,
//!   `panel`, `tile`, `row_major`, `transpose`, and `narrow`'s) add that the CPU has AVX2 and
//!   FMA, which `sgemm` checks at run time before calling them; `wide`'s add AVX-512F, also
//!   checked there. `tiles::lstm_gates` checks each slice's length and AVX-512F, AVX2 and FMA
//!   before `gates::product`.
//! * `gate_gradients::rows`: the CPU has AVX-512F and every slice holds its rows, both checked
//!   by `lstm_gate_gradients_f32` before it calls it.
//! * `tanh::tanh_f32_avx2_fma` (and the in-place `tanh` and `σ`): the CPU has AVX2 and FMA, checked by their callers.
//! * `tanh::cells::rows` (and its `simple_row`, `units`): the CPU has AVX-512F, `H` is a multiple
//!   of 16 and the slices hold whole rows, all checked by `lstm_cells_f32` before it calls it.
//! * `lstm::product`: as [`Float::gemm`](crate::Float::gemm); it checks that each matrix lies inside its slice.
//! * `lstm::forward`'s `set_len` after [`Float::lstm_cells`](crate::Float::lstm_cells), which
//!   writes every element of its `MaybeUninit` outputs (both implementations assert whole rows
//!   first); `lstm::with_spare` splits a `Vec` into its elements and its reserved capacity.
//! * `conv::conv2d`, `conv::conv2d_input_grad`: `assume_init` after the groups' `gemm`s, whose
//!   row blocks tile the output; `conv::accumulate_product`: as [`Float::gemm`](crate::Float::gemm).
//! * [`matrix_product`], [`batched_product`]: `assume_init` after `gemm`, which writes every
//!   element of `C` (with `β = 0`, `C` is never read).
//!
//! Results are bit-identical to what the same op computed before the kernels moved here, so a
//! seeded run is the same bit for bit.

mod conv;
mod gate_gradients;
mod gemm;
mod kernels;
mod lstm;
mod scalar;
mod tanh;
mod tiles;

pub(crate) use conv::{Geometry, conv2d, conv2d_input_grad, conv2d_weight_grad};
pub(crate) use gemm::{batched_product, matrix_product};
pub(crate) use kernels::{
    add_assign, binary, broadcast, fold_last_axis, gather, scatter_add, sum_last_axis,
    sum_leading_axes,
};
pub(crate) use lstm::{
    LstmDims, LstmNeeds, LstmSaved, lstm_backward, lstm_forward, step_gate_gradients,
};

/// Asserts that `a` and `b` hold the same numbers bit for bit (`+0 ≠ −0`, NaNs by payload),
/// naming `what` and the first element that differs: the check of every kernel that promises
/// the plain path's bits.
#[cfg(test)]
#[track_caller]
pub(crate) fn assert_same_bits<'a, T: crate::Float>(
    a: impl IntoIterator<Item = &'a T>,
    b: impl IntoIterator<Item = &'a T>,
    what: impl std::fmt::Display,
) {
    let (a, b): (Vec<&T>, Vec<&T>) = (a.into_iter().collect(), b.into_iter().collect());
    assert_eq!(a.len(), b.len(), "{} {what}: lengths", T::NAME);
    // `integer_decode` is the bit pattern split into mantissa, exponent and sign: equal for
    // equal bits only
    if let Some(i) = (0..a.len()).find(|&i| a[i].integer_decode() != b[i].integer_decode()) {
        panic!(
            "{} {what}: element {i} is {} against {}",
            T::NAME,
            a[i],
            b[i]
        );
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, Array3, ArrayView2, Axis, ShapeBuilder};

    use super::*;
    use crate::Float;

    /// A `rows × cols` matrix of values that round differently when summed in another order,
    /// stored row- or column-major.
    fn matrix<T: Float>(rows: usize, cols: usize, column_major: bool, seed: usize) -> Array2<T> {
        let f = |(i, j): (usize, usize)| {
            let x = ((i * 31 + j * 17 + seed * 7) as f64 * 0.618_034).sin();
            T::from_f64(x * 10f64.powi(((i + j + seed) % 5) as i32 - 2))
        };
        if column_major {
            Array2::from_shape_fn((rows, cols).f(), f)
        } else {
            Array2::from_shape_fn((rows, cols), f)
        }
    }

    fn naive(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
            (0..a.ncols()).map(|p| a[[i, p]] * b[[p, j]]).sum()
        })
    }

    /// The shapes the tiles, the narrow path and the `matrixmultiply` fallback each take.
    const SHAPES: [(usize, usize, usize); 9] = [
        (256, 64, 64), // a hidden layer: tiles
        (64, 256, 64), // hᵀ ḡ
        (256, 64, 4),  // a thin output layer: narrow
        (4, 64, 256),
        (2, 64, 64),     // one or two rows: one-row tiles
        (3, 5, 2),       // small: matrixmultiply
        (300, 300, 300), // out of cache: matrixmultiply
        (0, 3, 4),
        (3, 0, 4),
    ];

    fn agrees_with_ndarray<T: Float + std::fmt::Debug>() {
        for (m, k, n) in SHAPES {
            for (column_a, column_b) in [(false, false), (true, false), (false, true), (true, true)]
            {
                let a = matrix::<T>(m, k, column_a, 1);
                let b = matrix::<T>(k, n, column_b, 2);
                let ours = matrix_product(a.view(), b.view());
                let reference = a.dot(&b);
                assert_eq!(ours.dim(), (m, n));
                assert_same_bits(
                    &ours,
                    &reference,
                    format!("{m}×{k}·{k}×{n}, column-major A {column_a}, B {column_b}"),
                );
            }
        }
    }

    /// The check can fail: `−0` is not `+0`, though they compare equal.
    #[test]
    #[should_panic(expected = "f32 signs: element 1 is -0 against 0")]
    fn same_bits_tells_minus_zero_from_zero() {
        assert_same_bits(&[1.0f32, -0.0], &[1.0, 0.0], "signs");
    }

    #[test]
    fn products_agree_with_ndarray_dot_bit_for_bit() {
        agrees_with_ndarray::<f32>();
        agrees_with_ndarray::<f64>();
    }

    #[test]
    fn products_agree_with_the_triple_loop() {
        for (m, k, n) in SHAPES {
            let (a, b) = (matrix::<f64>(m, k, false, 3), matrix::<f64>(k, n, true, 4));
            let (ours, loops) = (
                matrix_product(a.view(), b.view()),
                naive(a.view(), b.view()),
            );
            let scale = a.iter().map(|x| x.abs()).fold(0.0, f64::max)
                * b.iter().map(|x| x.abs()).fold(0.0, f64::max)
                * k as f64;
            assert!(
                ours.iter()
                    .zip(&loops)
                    .all(|(x, y)| (x - y).abs() <= 1e-14 * scale),
                "{m}×{k}·{k}×{n}"
            );
        }
    }

    #[test]
    fn batched_products_are_the_products_of_each_matrix() {
        let a = Array3::from_shape_fn((3, 6, 40), |(b, i, j)| ((b * 7 + i * 3 + j) as f32).sin());
        let b = Array3::from_shape_fn((3, 40, 24), |(b, i, j)| ((b * 5 + i + j * 2) as f32).cos());
        let mut b_transposed = b.clone();
        b_transposed.swap_axes(1, 2);
        let b_transposed = b_transposed.as_standard_layout().to_owned();
        let mut b_view = b_transposed.view();
        b_view.swap_axes(1, 2); // the same values as `b`, read through swapped strides
        for b in [b.view(), b_view] {
            let c = batched_product(a.view(), b);
            for i in 0..3 {
                let single = a.index_axis(Axis(0), i).dot(&b.index_axis(Axis(0), i));
                let same = c
                    .index_axis(Axis(0), i)
                    .iter()
                    .zip(&single)
                    .all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "batch {i}");
            }
        }
    }

    #[test]
    fn tanh_is_within_one_ulp_of_the_exact_value() {
        let x: Vec<f32> = (-4000..=4000).map(|i| i as f32 * 0.003).collect();
        for (&v, y) in x.iter().zip(<f32 as Float>::tanh_all(&x)) {
            let exact = (v as f64).tanh() as f32;
            assert!(exact.to_bits().abs_diff(y.to_bits()) <= 1, "tanh({v})");
        }
    }
}
