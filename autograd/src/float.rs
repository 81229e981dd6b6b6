//! The element types the engine computes in: `f32` and `f64`.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A floating-point element type: `f32` or `f64`.
///
/// Besides the usual arithmetic it knows which kernel multiplies its matrices and which
/// evaluates `tanh` (implemented for `f32` and `f64` in the backend, `autograd/src/backend/`,
/// the only home of `unsafe`), and converts to and from `f64` for gradient checks and literals.
///
/// ```
/// use wengert_autograd::Float;
/// assert_eq!(<f32 as Float>::from_f64(0.5), 0.5f32);
/// assert_eq!(1.5f32.as_f64(), 1.5);
/// ```
pub trait Float:
    num_traits::Float
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + Sum
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + 'static
{
    /// `"f32"` or `"f64"`, for messages and file headers.
    const NAME: &'static str;

    /// `tanh` of every element of `x`, in order. `f32` uses the vectorised kernel of
    /// `backend/tanh.rs` (within 1 ulp of the exact value); `f64` calls the platform's `tanh`.
    fn tanh_all(x: &[Self]) -> Vec<Self> {
        x.iter().map(|&v| v.tanh()).collect()
    }

    /// `tanh` of every element, in place (the values of [`tanh_all`](Float::tanh_all)).
    fn tanh_in_place(x: &mut [Self]) {
        for v in x {
            *v = v.tanh();
        }
    }

    /// The logistic function `σ(x) = 1 / (1 + e^{−x})` of every element, in place. `f64`
    /// computes what the `sigmoid` op computes, bit for bit; `f32` uses the vectorised kernel of
    /// `backend/tanh.rs` (within 4 ulp of the exact value, where the op is within 1).
    fn sigmoid_in_place(x: &mut [Self]) {
        for v in x {
            *v = crate::forward::sigmoid(*v);
        }
    }

    /// One LSTM step's elementwise part for `N` rows of `hidden` units: each row of `gates`
    /// (`a_i, a_f, a_g, a_o`, `4H`) becomes `σ(a_i), σ(a_f), tanh a_g, σ(a_o)`; `c` receives
    /// `c_t = f ⊙ c_{t−1} + i ⊙ g` from `c_prev` (`c_{t−1}`); `tanh_c` and `h` receive `tanh c_t`
    /// and `o ⊙ tanh c_t`. The values of [`sigmoid_in_place`](Float::sigmoid_in_place) and
    /// [`tanh_in_place`](Float::tanh_in_place); `f32` computes them in one fused pass. Every
    /// element of `c`, `tanh_c` and `h` is written (the caller relies on it: they are new
    /// memory, never zero-filled) and none is read before it is written.
    fn lstm_cells(
        hidden: usize,
        gates: &mut [Self],
        c_prev: &[Self],
        c: &mut [std::mem::MaybeUninit<Self>],
        tanh_c: &mut [std::mem::MaybeUninit<Self>],
        h: &mut [std::mem::MaybeUninit<Self>],
    ) {
        assert_whole_cell_rows(hidden, gates, c_prev, c, tanh_c, h);
        if hidden == 0 {
            return;
        }
        // c_t of one row, then tanh c_t in place.
        let mut c_t = vec![Self::zero(); hidden];
        for (((row, c_prev), c), (tanh_c, h)) in gates
            .chunks_exact_mut(4 * hidden)
            .zip(c_prev.chunks_exact(hidden))
            .zip(c.chunks_exact_mut(hidden))
            .zip(
                tanh_c
                    .chunks_exact_mut(hidden)
                    .zip(h.chunks_exact_mut(hidden)),
            )
        {
            let (ifg, o) = row.split_at_mut(3 * hidden);
            let (i_f, g) = ifg.split_at_mut(2 * hidden);
            Self::sigmoid_in_place(i_f);
            Self::tanh_in_place(g);
            Self::sigmoid_in_place(o);
            let (i, f, g) = (
                &row[..hidden],
                &row[hidden..2 * hidden],
                &row[2 * hidden..3 * hidden],
            );
            for j in 0..hidden {
                c_t[j] = f[j] * c_prev[j] + i[j] * g[j];
                c[j].write(c_t[j]);
            }
            Self::tanh_in_place(&mut c_t);
            let o = &row[3 * hidden..];
            for j in 0..hidden {
                tanh_c[j].write(c_t[j]);
                h[j].write(o[j] * c_t[j]);
            }
        }
    }

    /// One LSTM step's gate pre-activations `a_t = (x_t W_ihᵀ + b) + h_{t−1} W_hhᵀ` for the
    /// sizes `(N, I, H, 4H)`, in one pass over `gates` (`N × 4H`, row-major, written and never
    /// read), with the weights given transposed (`W_ihᵀ` `I × 4H`, `W_hhᵀ` `H × 4H`, row-major)
    /// and `b = b_ih + b_hh`: the bits of computing `x_t W_ihᵀ` with [`gemm`](Float::gemm)
    /// (`β = 0`), adding `b`, and adding `h_{t−1} W_hhᵀ` with `gemm` (`β = 1`). Returns `false`,
    /// doing nothing, where no fused kernel applies (the default; `f32` has one for AVX-512).
    #[allow(clippy::too_many_arguments)]
    fn lstm_gates(
        sizes: (usize, usize, usize, usize),
        x: &[Self],
        weight_ih_t: &[Self],
        bias: Option<&[Self]>,
        h: &[Self],
        weight_hh_t: &[Self],
        gates: &mut [std::mem::MaybeUninit<Self>],
    ) -> bool {
        let _ = (sizes, x, weight_ih_t, bias, h, weight_hh_t, gates);
        false
    }

    /// One LSTM step's backward elementwise pass for `N` rows of `hidden` units: from the
    /// gates after their activations (`gates`, `N × 4H`), `tanh c_t`, `c_{t−1}`, the carried
    /// `h̄` and the output's `ō_t` (all `N × H`), writes the gradients of the pre-activations
    /// `Ā_t` into `a_bar` (`N × 4H`), updates `c̄ ← c̄_t ⊙ f` in `c_bar` and adds `Σ_n ā_t,n`
    /// to `bias_bar` (`4H`), each row's in turn. `f32` has a kernel for AVX-512F with the same
    /// bits (`backend/gate_gradients.rs`).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn lstm_gate_gradients(
        hidden: usize,
        gates: &[Self],
        tanh_c: &[Self],
        c_prev: &[Self],
        h_bar: &[Self],
        output_bar: &[Self],
        c_bar: &mut [Self],
        a_bar: &mut [Self],
        bias_bar: &mut [Self],
    ) {
        crate::backend::step_gate_gradients(
            hidden, gates, tanh_c, c_prev, h_bar, output_bar, c_bar, a_bar, bias_bar,
        )
    }

    /// The nearest value of this type to `x`.
    fn from_f64(x: f64) -> Self;

    /// This value as an `f64` (exact for both types).
    fn as_f64(self) -> f64;

    /// `C ← α A B + β C` for an `m×k` matrix `A` and a `k×n` matrix `B`, each described by a
    /// pointer and a row and column stride in elements (so a transpose is a stride swap).
    ///
    /// # Safety
    /// The pointers and strides must describe valid matrices of the stated sizes, and `C`
    /// must not alias `A` or `B`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        row_stride_a: isize,
        col_stride_a: isize,
        b: *const Self,
        row_stride_b: isize,
        col_stride_b: isize,
        beta: Self,
        c: *mut Self,
        row_stride_c: isize,
        col_stride_c: isize,
    );
}

/// [`Float::lstm_cells`]'s contract on its arguments, checked by every implementation before
/// it writes: whole rows of `hidden` units (`4 · hidden` gates a row), so that every element of
/// `c`, `tanh_c` and `h` is written, which the caller relies on (they are new memory).
pub(crate) fn assert_whole_cell_rows<T>(
    hidden: usize,
    gates: &[T],
    c_prev: &[T],
    c: &[std::mem::MaybeUninit<T>],
    tanh_c: &[std::mem::MaybeUninit<T>],
    h: &[std::mem::MaybeUninit<T>],
) {
    assert!(
        gates.len() == 4 * c_prev.len()
            && c.len() == c_prev.len()
            && tanh_c.len() == c_prev.len()
            && h.len() == c_prev.len()
            && (hidden > 0 || c_prev.is_empty())
            && c_prev.len().is_multiple_of(hidden.max(1)),
        "lstm cells: {} gates of {hidden} units for states of {}, {}, {}, {} elements",
        gates.len(),
        c_prev.len(),
        c.len(),
        tanh_c.len(),
        h.len()
    );
}
