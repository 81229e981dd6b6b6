//! One LSTM layer over a whole sequence, forward and backward, as matrix products and one
//! fused elementwise pass per step (the op is [`crate::lstm`], which states the equations).
//! Shapes: `x` is `(T, N, I)`, `W_ih` `(4H, I)`, `W_hh` `(4H, H)`, states `(N, H)`, every array
//! row-major and contiguous.
//!
//! Forward: each step computes its pre-activations `a_t = (x_t W_ihᵀ + b) + h_{t−1} W_hhᵀ` in
//! one pass where the CPU has the fused kernel (`f32`, AVX-512F: both products in one tile,
//! each gate stored once), else in three (`x_t W_ihᵀ` stored, `+ b`, and `h_{t−1} W_hhᵀ` added
//! as the product stores its tiles, `β = 1`), with the same bits either way; then it runs the
//! gates, `c_t`, `tanh c_t` and `h_t`. Backward (BPTT): each step computes the
//! gates' gradients `Ā_t` (`N × 4H`) in one pass, summing `b̄ = Σ_rows Ā` beside it, and
//! `h̄_{t−1} = Ā_t W_hh`; the steps go back in blocks of about 256 rows, and each block's share
//! of the weight gradients, `W̄_hh += Āᵀ H_prev`, `W̄_ih += Āᵀ X` (as `W̄_ihᵀ += Xᵀ Ā`, whose
//! rows are whole vectors), and `x̄ = Ā W_ih` are computed while its `Ā` is in cache.
//!
//! Both passes leave out work whose result is known or not asked for, with the same bits: the
//! forward pass `h_{t−1} W_hhᵀ` where every `h_{t−1}` is zero and `W_hh` finite (a zero `h_0`:
//! each chain is exactly `+0`, the empty sum, which the fused kernel still adds), and writes
//! each step's `c_t`, `tanh c_t`, `h_t` into new memory without zero-filling it first; the
//! backward pass `h̄_0 = Ā_0 W_hh` when `h_0` is a constant ([`LstmNeeds`]), and in `W̄_hh` the
//! rows of a zero `h_0` (each chain stays exactly `+0` through them). In `f32` with AVX-512F the gate
//! gradients' pass is one kernel (`gate_gradients.rs`, through [`Float::lstm_gate_gradients`]).
//!
//! In `f64` every forward value is the one the step-by-step tape path computes, bit for bit (the
//! same operations in the same order); in `f32` the sigmoid is the vectorised kernel (within
//! 4 ulp). Gradients sum in another order than the tape's, so they agree to round-off.

use std::mem::MaybeUninit;

use ndarray::{ArrayD, Axis, IxDyn, Slice};

use crate::{Float, SharedArray};

/// The sizes of one layer's sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LstmDims {
    pub steps: usize,
    pub batch: usize,
    pub input: usize,
    pub hidden: usize,
}

/// What the forward pass keeps for the backward pass.
#[derive(Debug)]
pub(crate) struct LstmSaved<T> {
    pub dims: LstmDims,
    /// `x`, `(T N) × I`.
    pub x: Vec<T>,
    /// `h_0, h_1, …, h_T` (`(T + 1) × N × H`), each step's written in place: the outputs are
    /// its rows `1‥T` (views of it, not copies) and, without a reset mask, its rows `0‥T−1`
    /// are the states `h_{t−1}` the steps start from.
    pub h: SharedArray<T>,
    /// `c_0, c_1, …, c_T` in the same way, `c_{t−1}` after step `t`'s reset mask (the state the
    /// step starts from): rows `0‥T−1` are the steps' `c_{t−1}`, row `T` is `c_T`.
    pub c: SharedArray<T>,
    /// With a reset mask, the states the steps start from, `k_t ⊙ h_{t−1}` (`T × N × H`):
    /// where a reset happens they are not the outputs.
    pub h_kept: Option<Vec<T>>,
    /// The gates after their activations, `i, f, g, o` blocks of each row: `T × N × 4H`.
    pub gates: Vec<T>,
    /// `tanh c_t`, `T × N × H`.
    pub tanh_c: Vec<T>,
    /// The reset mask's keep factors `1 − m_t`, `T × N`, if there is a mask.
    pub keep: Option<Vec<T>>,
}

impl<T: Float> LstmSaved<T> {
    /// The states `h_{t−1}` the steps start from, `T × N × H`.
    fn h_prev(&self) -> &[T] {
        let all = self.h.as_slice().expect("h is row-major");
        self.h_kept
            .as_deref()
            .unwrap_or(&all[..all.len() - self.state()])
    }

    /// The states `c_{t−1}` the steps start from, `T × N × H`.
    fn c_prev(&self) -> &[T] {
        let all = self.c.as_slice().expect("c is row-major");
        &all[..all.len() - self.state()]
    }

    fn state(&self) -> usize {
        self.dims.batch * self.dims.hidden
    }
}

/// The forward pass's results: the outputs `h_t` (`T × N × H`), `h_T` and `c_T` (`N × H`),
/// views of [`LstmSaved::h`] and [`LstmSaved::c`].
pub(crate) struct LstmOutputs<T> {
    pub output: SharedArray<T>,
    pub h_n: SharedArray<T>,
    pub c_n: SharedArray<T>,
}

/// Which of the backward pass's results that are not always needed are asked for: `x̄` and
/// `h̄_0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LstmNeeds {
    pub x: bool,
    pub h0: bool,
}

impl LstmNeeds {
    /// Every gradient.
    #[cfg(test)]
    pub const ALL: LstmNeeds = LstmNeeds { x: true, h0: true };
}

/// The backward pass's results, each shaped like its input (`x̄` and `h̄_0` only when asked
/// for).
pub(crate) struct LstmGradients<T> {
    pub x: Option<Vec<T>>,
    pub weight_ih: Vec<T>,
    pub weight_hh: Vec<T>,
    /// `b̄_ih = b̄_hh`: the biases enter as a sum.
    pub bias: Vec<T>,
    pub h0: Option<Vec<T>>,
    pub c0: Vec<T>,
}

/// A matrix in a slice: its size and its row and column strides (in elements).
#[derive(Clone, Copy)]
struct Matrix<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a, T> Matrix<'a, T> {
    /// A row-major `rows × cols` matrix.
    fn rows(data: &'a [T], rows: usize, cols: usize) -> Self {
        Matrix {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose of the row-major `rows × cols` matrix in `data`: a stride swap.
    fn transposed(data: &'a [T], rows: usize, cols: usize) -> Self {
        Matrix {
            data,
            rows: cols,
            cols: rows,
            row_stride: 1,
            col_stride: cols,
        }
    }

    /// Whether every element the strides reach lies inside `data`.
    fn fits(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// `C ← A B + β C` for a row-major `m × n` matrix `C` in `c`.
///
/// # Panics
/// If the sizes do not match or a matrix does not fit in its slice.
fn product<T: Float>(a: Matrix<'_, T>, b: Matrix<'_, T>, beta: T, c: &mut [T]) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(
        b.rows == k && a.fits() && b.fits() && c.len() == m * n,
        "lstm: product of {m}×{k} and {}×{n} into {} elements",
        b.rows,
        c.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.iter_mut().for_each(|v| *v *= beta);
        return;
    }
    // SAFETY: the three matrices lie inside their slices (checked above), `c` is borrowed
    // mutably so it aliases neither operand.
    unsafe {
        T::gemm(
            m,
            k,
            n,
            T::one(),
            a.data.as_ptr(),
            a.row_stride as isize,
            a.col_stride as isize,
            b.data.as_ptr(),
            b.row_stride as isize,
            b.col_stride as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// `C = A B` appended to `c` as `m × n` new row-major elements, without zero-filling them
/// first (with `β = 0` the product never reads `C`).
///
/// # Panics
/// As [`product`].
fn append_product<T: Float>(a: Matrix<'_, T>, b: Matrix<'_, T>, c: &mut Vec<T>) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(
        b.rows == k && a.fits() && b.fits(),
        "lstm: product of {m}×{k} and {}×{n}",
        b.rows
    );
    if m == 0 || n == 0 || k == 0 {
        c.resize(c.len() + m * n, T::zero());
        return;
    }
    c.reserve(m * n);
    let spare = &mut c.spare_capacity_mut()[..m * n];
    // SAFETY: A and B lie inside their slices (checked above); `spare` holds m × n elements,
    // which the product stores row-major without reading them (β = 0), and aliases neither
    // operand (they are borrowed immutably while `c` is borrowed mutably).
    unsafe {
        T::gemm(
            m,
            k,
            n,
            T::one(),
            a.data.as_ptr(),
            a.row_stride as isize,
            a.col_stride as isize,
            b.data.as_ptr(),
            b.row_stride as isize,
            b.col_stride as isize,
            T::zero(),
            spare.as_mut_ptr().cast::<T>(),
            n as isize,
            1,
        );
        c.set_len(c.len() + m * n);
    }
}

/// The depth of `matrixmultiply`'s blocks (`S_KC`, `D_KC`), which the tiles share: a product
/// of at most this depth is one chain per element, so adding it to `C` (`β = 1`) or storing it
/// and adding afterwards gives the same sums.
const DEPTH_BLOCK: usize = 256;

/// Rows of `Ā` that the backward pass holds at a time (`T N` rows in blocks of whole steps):
/// one depth block of the weight gradients' products, whose `Ā` stays in cache.
const ROWS_HELD: usize = 256;

/// The transpose of the row-major `rows × cols` matrix in `data`, row-major: eight rows of
/// `data` at a time, so that each row of the result is written eight elements at once.
fn transposed<T: Float>(data: &[T], rows: usize, cols: usize) -> Vec<T> {
    const ROWS: usize = 8;
    assert_eq!(data.len(), rows * cols, "lstm: transpose of {rows}×{cols}");
    let mut out = vec![T::zero(); rows * cols];
    if cols == 0 {
        return out;
    }
    let whole = rows / ROWS * ROWS;
    for (block, j) in data[..whole * cols]
        .chunks_exact(ROWS * cols)
        .zip((0..).step_by(ROWS))
    {
        let block: [&[T]; ROWS] = std::array::from_fn(|r| &block[r * cols..(r + 1) * cols]);
        for (k, out_row) in out.chunks_exact_mut(rows).enumerate() {
            let out = &mut out_row[j..j + ROWS];
            for r in 0..ROWS {
                out[r] = block[r][k];
            }
        }
    }
    for (j, row) in data.chunks_exact(cols).enumerate().skip(whole) {
        for (k, &w) in row.iter().enumerate() {
            out[k * rows + j] = w;
        }
    }
    out
}

/// Multiplies each row `n` of the `N × H` state by `keep[n]`.
fn apply_keep<T: Float>(state: &mut [T], keep: &[T], hidden: usize) {
    for (row, &k) in state.chunks_exact_mut(hidden).zip(keep) {
        row.iter_mut().for_each(|v| *v *= k);
    }
}

/// The forward pass over the whole sequence; `bias` is `(b_ih, b_hh)`, `keep` the `T × N`
/// factors `1 − m_t` of a reset mask.
///
/// On x86-64 with AVX-512F (detected at run time) the elementwise passes are compiled sixteen
/// `f32` lanes wide: the same IEEE operations on each element (Rust never fuses `a b + c` by
/// itself), so the same values.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lstm_forward<T: Float>(
    dims: LstmDims,
    x: &[T],
    weight_ih: &[T],
    weight_hh: &[T],
    bias: Option<(&[T], &[T])>,
    h0: &[T],
    c0: &[T],
    keep: Option<&[T]>,
) -> (LstmOutputs<T>, LstmSaved<T>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F, checked just above.
        return unsafe { forward_avx512(dims, x, weight_ih, weight_hh, bias, h0, c0, keep) };
    }
    forward(dims, x, weight_ih, weight_hh, bias, h0, c0, keep)
}

/// [`forward`] compiled for AVX-512F.
///
/// # Safety
/// The CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn forward_avx512<T: Float>(
    dims: LstmDims,
    x: &[T],
    weight_ih: &[T],
    weight_hh: &[T],
    bias: Option<(&[T], &[T])>,
    h0: &[T],
    c0: &[T],
    keep: Option<&[T]>,
) -> (LstmOutputs<T>, LstmSaved<T>) {
    forward(dims, x, weight_ih, weight_hh, bias, h0, c0, keep)
}

/// [`lstm_forward`]'s body.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn forward<T: Float>(
    dims: LstmDims,
    x: &[T],
    weight_ih: &[T],
    weight_hh: &[T],
    bias: Option<(&[T], &[T])>,
    h0: &[T],
    c0: &[T],
    keep: Option<&[T]>,
) -> (LstmOutputs<T>, LstmSaved<T>) {
    let LstmDims {
        steps,
        batch,
        input,
        hidden,
    } = dims;
    let (rows, width, state) = (steps * batch, 4 * hidden, batch * hidden);
    // Every buffer grows step by step as it is computed.
    let mut gates = Vec::with_capacity(rows * width);
    let mut tanh_c = Vec::with_capacity(steps * state);
    let b: Option<Vec<T>> =
        bias.map(|(b_ih, b_hh)| b_ih.iter().zip(b_hh).map(|(&u, &v)| u + v).collect());
    // A whole sequence reads W_ihᵀ and W_hhᵀ laid out row by row once; a single step (an
    // actor's) reads the weights in place, as the products' transposes (the products give the
    // same bits either way), and adds its recurrent product in a separate pass.
    let sequence = steps > 1;
    let weight_ih_t = sequence.then(|| transposed(weight_ih, width, input));
    let input_weights = match &weight_ih_t {
        Some(w) => Matrix::rows(w, input, width),
        None => Matrix::transposed(weight_ih, width, input),
    };
    let fused = sequence && hidden <= DEPTH_BLOCK;
    let weight_hh_t = fused.then(|| transposed(weight_hh, width, hidden));
    let mut recurrent_part = match fused {
        true => Vec::new(),
        false => vec![T::zero(); batch * width],
    };
    // h_0‥h_T and c_0‥c_T, step t writing h_t and c_t right after the h_{t−1}, c_{t−1} it reads.
    let (mut h_all, mut c_all) = (
        Vec::with_capacity((steps + 1) * state),
        Vec::with_capacity((steps + 1) * state),
    );
    h_all.extend_from_slice(h0);
    c_all.extend_from_slice(c0);
    let mut h_kept = keep.map(|_| Vec::with_capacity(steps * state));
    let mut weight_hh_finite = None;
    for t in 0..steps {
        let span = t * state..(t + 1) * state;
        let (mut h_prev, c_prev) = (&h_all[span.clone()], &mut c_all[span.clone()]);
        if let (Some(keep), Some(h_kept)) = (keep, &mut h_kept) {
            h_kept.extend_from_slice(h_prev);
            let keep_t = &keep[t * batch..(t + 1) * batch];
            if keep_t.iter().any(|&k| k != T::one()) {
                apply_keep(&mut h_kept[span.clone()], keep_t, hidden);
                apply_keep(c_prev, keep_t, hidden);
            }
            h_prev = &h_kept[span.clone()];
        }
        // a_t = (x_t W_ihᵀ + b) + h_{t−1} W_hhᵀ, computed while the step's rows are in cache:
        // in one pass where a fused kernel applies, else in three (the same bits).
        let x_t = &x[t * batch * input..(t + 1) * batch * input];
        let one_pass = match (&weight_ih_t, &weight_hh_t) {
            (Some(weight_ih_t), Some(weight_hh_t)) => {
                gates.reserve(batch * width);
                let spare = &mut gates.spare_capacity_mut()[..batch * width];
                // A zero state's recurrent chains are the empty sum's +0: left out.
                let depth = match zero_product(h_prev, weight_hh, &mut weight_hh_finite) {
                    true => 0,
                    false => hidden,
                };
                let (h_prev, weight_hh_t) =
                    (&h_prev[..batch * depth], &weight_hh_t[..depth * width]);
                let sizes = (batch, input, depth, width);
                let b = b.as_deref();
                let done = T::lstm_gates(sizes, x_t, weight_ih_t, b, h_prev, weight_hh_t, spare);
                if done {
                    // SAFETY: `lstm_gates` wrote all `batch × width` elements past the length.
                    unsafe { gates.set_len((t + 1) * batch * width) };
                }
                done
            }
            _ => false,
        };
        if !one_pass {
            append_product(Matrix::rows(x_t, batch, input), input_weights, &mut gates);
            let gates = &mut gates[t * batch * width..(t + 1) * batch * width];
            if let Some(b) = &b {
                for row in gates.chunks_exact_mut(width) {
                    row.iter_mut().zip(b).for_each(|(a, &b)| *a += b);
                }
            }
            add_recurrent_product(
                dims,
                h_prev,
                weight_hh,
                weight_hh_t.as_deref(),
                &mut recurrent_part,
                gates,
            );
        }
        let gates = &mut gates[t * batch * width..(t + 1) * batch * width];
        // The gates' activations, c_t = f ⊙ c_{t−1} + i ⊙ g, tanh c_t and h_t = o ⊙ tanh c_t, in
        // one pass over each row, written straight into new memory (never zero-filled).
        let (c_before, c) = with_spare(&mut c_all, state);
        let (_, h) = with_spare(&mut h_all, state);
        let (_, tanh_c_t) = with_spare(&mut tanh_c, state);
        T::lstm_cells(hidden, gates, &c_before[span], c, tanh_c_t, h);
        // SAFETY: `lstm_cells` wrote all `state` elements past each length (its contract).
        unsafe {
            c_all.set_len((t + 2) * state);
            h_all.set_len((t + 2) * state);
            tanh_c.set_len((t + 1) * state);
        }
    }
    let states = |all: Vec<T>| {
        ArrayD::from_shape_vec(IxDyn(&[steps + 1, batch, hidden]), all)
            .expect("T + 1 states")
            .into_shared()
    };
    let (h, c) = (states(h_all), states(c_all));
    let mut output = h.clone();
    output.slice_axis_inplace(Axis(0), Slice::from(1..));
    let outputs = LstmOutputs {
        output,
        h_n: h.clone().index_axis_move(Axis(0), steps),
        c_n: c.clone().index_axis_move(Axis(0), steps),
    };
    let saved = LstmSaved {
        dims,
        x: x.to_vec(),
        h,
        c,
        h_kept,
        gates,
        tanh_c,
        keep: keep.map(<[T]>::to_vec),
    };
    (outputs, saved)
}

/// The elements of `v` and, beside them, the spare capacity for `more` new ones.
fn with_spare<T>(v: &mut Vec<T>, more: usize) -> (&mut [T], &mut [MaybeUninit<T>]) {
    v.reserve(more);
    let (len, start) = (v.len(), v.as_mut_ptr());
    // SAFETY: the first `len` elements are initialised and the next `more` are allocated (just
    // reserved); the two slices do not overlap and together borrow `v` mutably.
    unsafe {
        (
            std::slice::from_raw_parts_mut(start, len),
            std::slice::from_raw_parts_mut(start.add(len).cast::<MaybeUninit<T>>(), more),
        )
    }
}

/// Whether every chain of `h_{t−1} W_hhᵀ` is exactly `+0`, the value of the empty sum: every
/// `h_{t−1}` is zero (a zero initial state `h_0`) and every weight finite. Each chain starts
/// from `+0` and adds terms `h w = ±0` (a finite number times `±0`), and `+0 + ±0 = +0`; an
/// infinite or NaN weight would make a term NaN. `finite` caches the weights' check.
fn zero_product<T: Float>(h_prev: &[T], weight_hh: &[T], finite: &mut Option<bool>) -> bool {
    // (In blocks, each checked whole, so that the check vectorises and still stops early.)
    let zero = |block: &[T]| block.iter().fold(true, |zero, &h| zero & (h == T::zero()));
    h_prev.chunks(64).all(zero)
        && *finite.get_or_insert_with(|| {
            // (`fold`, not `all`, so that the check vectorises.)
            weight_hh
                .iter()
                .fold(true, |finite, w| finite & w.is_finite())
        })
}

/// `a_t += h_{t−1} W_hhᵀ`: with `W_hhᵀ` given row-major, added as the product stores its tiles
/// (`β = 1`), the same sums as adding the product afterwards (its depth is one block, and a
/// chain that starts from `+0` is never `−0`, so the `+ 0` a product with `β = 0` adds changes
/// nothing), tested bit for bit below; else stored into `recurrent_part` (`β = 0`) and added.
fn add_recurrent_product<T: Float>(
    dims: LstmDims,
    h: &[T],
    weight_hh: &[T],
    weight_hh_t: Option<&[T]>,
    recurrent_part: &mut [T],
    gates: &mut [T],
) {
    let (batch, hidden, width) = (dims.batch, dims.hidden, 4 * dims.hidden);
    match weight_hh_t {
        Some(weight_hh_t) => product(
            Matrix::rows(h, batch, hidden),
            Matrix::rows(weight_hh_t, hidden, width),
            T::one(),
            gates,
        ),
        None => {
            product(
                Matrix::rows(h, batch, hidden),
                Matrix::transposed(weight_hh, width, hidden),
                T::zero(),
                recurrent_part,
            );
            gates
                .iter_mut()
                .zip(&*recurrent_part)
                .for_each(|(a, &r)| *a += r);
        }
    }
}

/// Backpropagation through time: the gradients of `⟨ō, output⟩ + ⟨h̄_T, h_T⟩ + ⟨c̄_T, c_T⟩`.
/// Compiled sixteen lanes wide with AVX-512F, as [`lstm_forward`].
pub(crate) fn lstm_backward<T: Float>(
    saved: &LstmSaved<T>,
    weight_ih: &[T],
    weight_hh: &[T],
    output_bar: &[T],
    h_n_bar: &[T],
    c_n_bar: &[T],
    needs: LstmNeeds,
) -> LstmGradients<T> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F, checked just above.
        return unsafe {
            backward_avx512(
                saved, weight_ih, weight_hh, output_bar, h_n_bar, c_n_bar, needs, ROWS_HELD,
            )
        };
    }
    backward(
        saved, weight_ih, weight_hh, output_bar, h_n_bar, c_n_bar, needs, ROWS_HELD,
    )
}

/// [`backward`] compiled for AVX-512F.
///
/// # Safety
/// The CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn backward_avx512<T: Float>(
    saved: &LstmSaved<T>,
    weight_ih: &[T],
    weight_hh: &[T],
    output_bar: &[T],
    h_n_bar: &[T],
    c_n_bar: &[T],
    needs: LstmNeeds,
    rows_held: usize,
) -> LstmGradients<T> {
    backward(
        saved, weight_ih, weight_hh, output_bar, h_n_bar, c_n_bar, needs, rows_held,
    )
}

/// [`lstm_backward`]'s body, holding `Ā` for blocks of about `rows_held` rows (whole steps).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn backward<T: Float>(
    saved: &LstmSaved<T>,
    weight_ih: &[T],
    weight_hh: &[T],
    output_bar: &[T],
    h_n_bar: &[T],
    c_n_bar: &[T],
    needs: LstmNeeds,
    rows_held: usize,
) -> LstmGradients<T> {
    let LstmDims {
        steps,
        batch,
        input,
        hidden,
    } = saved.dims;
    let (rows, width, state) = (steps * batch, 4 * hidden, batch * hidden);
    // The steps go back in blocks of `held` steps; Ā (the gradients of the pre-activations
    // a_t, N × 4H a step) is kept for one block at a time, whose weight gradients are added
    // while it is in cache: W̄_hh += Ā_blockᵀ H_prev,block, W̄_ih += Ā_blockᵀ X_block (`β = 1`),
    // x̄_block = Ā_block W_ih.
    let held = (rows_held / batch.max(1)).max(1);
    let mut a_bar = vec![T::zero(); held.min(steps) * batch * width];
    let mut weight_hh_bar = vec![T::zero(); width * hidden];
    let mut weight_ih_bar_t = vec![T::zero(); input * width];
    // b̄ = Σ_t Σ_n ā_t, summed in the gate pass: the i, f, g, o blocks.
    let mut bias_bar = vec![T::zero(); width];
    let mut x_bar = needs.x.then(|| vec![T::zero(); rows * input]);
    let (mut h_bar, mut c_bar) = (h_n_bar.to_vec(), c_n_bar.to_vec());
    for block in (0..steps.div_ceil(held)).rev() {
        let first = block * held;
        let block_steps = held.min(steps - first);
        let block_rows = block_steps * batch;
        for t in (first..first + block_steps).rev() {
            let span = t * state..(t + 1) * state;
            let gates = &saved.gates[t * batch * width..(t + 1) * batch * width];
            let a_bar_t = &mut a_bar[(t - first) * batch * width..(t - first + 1) * batch * width];
            T::lstm_gate_gradients(
                hidden,
                gates,
                &saved.tanh_c[span.clone()],
                &saved.c_prev()[span.clone()],
                &h_bar,
                &output_bar[span],
                &mut c_bar,
                a_bar_t,
                &mut bias_bar,
            );
            // h̄_{t−1} = Ā_t W_hh, except h̄_0 when it is not asked for (h_0 a constant).
            if t > 0 || needs.h0 {
                product(
                    Matrix::rows(a_bar_t, batch, width),
                    Matrix::rows(weight_hh, width, hidden),
                    T::zero(),
                    &mut h_bar,
                );
            }
            if let Some(keep) = &saved.keep {
                let keep_t = &keep[t * batch..(t + 1) * batch];
                apply_keep(&mut h_bar, keep_t, hidden);
                apply_keep(&mut c_bar, keep_t, hidden);
            }
        }
        // The block's share of the weight gradients, while its Ā is in cache.
        let a_bar_block = &a_bar[..block_rows * width];
        let block_span = first * state..first * state + block_rows * hidden;
        add_weight_hh_gradient(
            a_bar_block,
            &saved.h_prev()[block_span],
            hidden,
            &mut weight_hh_bar,
        );
        // W̄_ihᵀ += X_blockᵀ Ā_block: the same sums as Ā_blockᵀ X_block (each element's products
        // in the same order), stored a row of W̄_ihᵀ at a time rather than one element at a time
        // down the 8-wide columns of W̄_ih; transposed once at the end.
        let x_span = first * batch * input..(first * batch + block_rows) * input;
        product(
            Matrix::transposed(&saved.x[x_span.clone()], block_rows, input),
            Matrix::rows(a_bar_block, block_rows, width),
            T::one(),
            &mut weight_ih_bar_t,
        );
        if let Some(x_bar) = &mut x_bar {
            product(
                Matrix::rows(a_bar_block, block_rows, width),
                Matrix::rows(weight_ih, width, input),
                T::zero(),
                &mut x_bar[x_span],
            );
        }
    }
    LstmGradients {
        x: x_bar,
        weight_ih: transposed(&weight_ih_bar_t, input, width),
        weight_hh: weight_hh_bar,
        bias: bias_bar,
        h0: needs.h0.then_some(h_bar),
        c0: c_bar,
    }
}

/// `W̄_hh += Āᵀ H_prev` for a block of rows (`Ā` is `rows × 4H`, `H_prev` `rows × H`; added as
/// the product stores it, `β = 1`), leaving out the leading rows whose `h_{t−1}` is zero — a
/// zero initial state `h_0` — where their `ā` are finite. Each element is one chain from `+0`,
/// and through those rows it stays exactly `+0` (a finite number times `±0` is `±0`, and
/// `+0 + ±0 = +0`), so the chain over the other rows has the same bits (tested below).
fn add_weight_hh_gradient<T: Float>(
    a_bar: &[T],
    h_prev: &[T],
    hidden: usize,
    weight_hh_bar: &mut [T],
) {
    let (width, rows) = (4 * hidden, h_prev.len() / hidden.max(1));
    let zero_rows = match hidden {
        0 => 0,
        _ => h_prev
            .chunks_exact(hidden)
            .zip(a_bar.chunks_exact(width))
            // (`fold`, not `all`, so that the checks vectorise.)
            .take_while(|(h, a)| {
                h.iter().fold(true, |zero, &v| zero & (v == T::zero()))
                    && a.iter().fold(true, |finite, v| finite & v.is_finite())
            })
            .count(),
    };
    product(
        Matrix::transposed(&a_bar[zero_rows * width..], rows - zero_rows, width),
        Matrix::rows(&h_prev[zero_rows * hidden..], rows - zero_rows, hidden),
        T::one(),
        weight_hh_bar,
    );
}

/// One step's gate gradients, row by row (the plain path of
/// [`Float::lstm_gate_gradients`]): for each row, [`gate_gradients`] writes `ā_t,n` and
/// updates `c̄`, and then `b̄ += ā_t,n` while the row is in cache (a loop of its own: inside
/// the one of `gate_gradients`, the many slices it writes would keep it from vectorising).
/// `gates` and `a_bar` are `N × 4H`, the states `N × H`, `bias_bar` `4H`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn step_gate_gradients<T: Float>(
    hidden: usize,
    gates: &[T],
    tanh_c: &[T],
    c_prev: &[T],
    h_bar: &[T],
    output_bar: &[T],
    c_bar: &mut [T],
    a_bar: &mut [T],
    bias_bar: &mut [T],
) {
    if hidden == 0 {
        return;
    }
    let width = 4 * hidden;
    for ((((row, a_row), (tanh_c, c_prev)), (h_bar, c_bar)), output_bar) in gates
        .chunks_exact(width)
        .zip(a_bar.chunks_exact_mut(width))
        .zip(tanh_c.chunks_exact(hidden).zip(c_prev.chunks_exact(hidden)))
        .zip(
            h_bar
                .chunks_exact(hidden)
                .zip(c_bar.chunks_exact_mut(hidden)),
        )
        .zip(output_bar.chunks_exact(hidden))
    {
        let (i, f) = (&row[..hidden], &row[hidden..2 * hidden]);
        let (g, o) = (&row[2 * hidden..3 * hidden], &row[3 * hidden..4 * hidden]);
        let (di, rest) = a_row.split_at_mut(hidden);
        let (df, rest) = rest.split_at_mut(hidden);
        let (dg, d_o) = rest.split_at_mut(hidden);
        gate_gradients(
            i, f, g, o, tanh_c, c_prev, h_bar, output_bar, c_bar, di, df, dg, d_o,
        );
        bias_bar.iter_mut().zip(&*a_row).for_each(|(b, &a)| *b += a);
    }
}

/// One row of a step's backward pass: from the gates `i, f, g, o` (after their activations),
/// `tanh c_t`, `c_{t−1}`, `h̄` (the carried part, to which the output's `ō_t` is added) and `c̄`
/// (updated to `c̄ ⊙ f`), the gradients `ā_i, ā_f, ā_g, ā_o`
/// of the pre-activations. Each slice is a parameter of its own, so that the compiler knows
/// they do not overlap and vectorises the loop (one slice cut in four would not let it).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gate_gradients<T: Float>(
    i: &[T],
    f: &[T],
    g: &[T],
    o: &[T],
    tanh_c: &[T],
    c_prev: &[T],
    h_bar: &[T],
    output_bar: &[T],
    c_bar: &mut [T],
    di: &mut [T],
    df: &mut [T],
    dg: &mut [T],
    d_o: &mut [T],
) {
    let one = T::one();
    let hidden = c_bar.len();
    // Every slice re-cut to `hidden` elements, so that the loop indexes without bounds checks.
    let (i, f, g, o) = (&i[..hidden], &f[..hidden], &g[..hidden], &o[..hidden]);
    let (tanh_c, c_prev) = (&tanh_c[..hidden], &c_prev[..hidden]);
    let (h_bar, output_bar) = (&h_bar[..hidden], &output_bar[..hidden]);
    let (di, df) = (&mut di[..hidden], &mut df[..hidden]);
    let (dg, d_o) = (&mut dg[..hidden], &mut d_o[..hidden]);
    for j in 0..hidden {
        // h̄ ← h̄ + ō_t; then h = o tanh c:  ō = h̄ tanh c,  c̄ += h̄ o (1 − tanh² c)
        let h_bar = h_bar[j] + output_bar[j];
        let o_bar = h_bar * tanh_c[j];
        let c_bar_t = c_bar[j] + h_bar * o[j] * (one - tanh_c[j] * tanh_c[j]);
        // c = f c_prev + i g
        let (i_bar, g_bar, f_bar) = (c_bar_t * g[j], c_bar_t * i[j], c_bar_t * c_prev[j]);
        c_bar[j] = c_bar_t * f[j];
        // through σ and tanh
        di[j] = i_bar * i[j] * (one - i[j]);
        df[j] = f_bar * f[j] * (one - f[j]);
        dg[j] = g_bar * (one - g[j] * g[j]);
        d_o[j] = o_bar * o[j] * (one - o[j]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::assert_same_bits;

    /// Values that round differently when combined in another order.
    fn values<T: Float>(len: usize, seed: usize) -> Vec<T> {
        (0..len)
            .map(|i| T::from_f64(((i * 37 + seed * 11) as f64 * 0.618_034).sin() * 0.9))
            .collect()
    }

    /// The AVX-512 builds of the forward and backward passes (taken where the CPU has
    /// AVX-512F) give the plain builds' values bit for bit, with a reset mask and an odd
    /// hidden size that leaves partial vectors.
    fn wide_and_plain_agree<T: Float>() {
        let dims = LstmDims {
            steps: 5,
            batch: 7,
            input: 3,
            hidden: 13,
        };
        let (rows, width, state) = (35, 52, 7 * 13);
        let x = values::<T>(rows * 3, 1);
        let (w_ih, w_hh) = (values::<T>(width * 3, 2), values::<T>(width * 13, 3));
        let (b_ih, b_hh) = (values::<T>(width, 4), values::<T>(width, 5));
        let (h0, c0) = (values::<T>(state, 6), values::<T>(state, 7));
        let keep: Vec<T> = (0..35)
            .map(|i| if i % 4 == 1 { T::zero() } else { T::one() })
            .collect();
        let (o_bar, h_bar, c_bar) = (
            values::<T>(5 * state, 8),
            values::<T>(state, 9),
            values::<T>(state, 10),
        );
        let bias = Some((&b_ih[..], &b_hh[..]));
        let dispatched = lstm_forward(dims, &x, &w_ih, &w_hh, bias, &h0, &c0, Some(&keep));
        let plain = forward(dims, &x, &w_ih, &w_hh, bias, &h0, &c0, Some(&keep));
        assert_same_bits(&dispatched.0.output, &plain.0.output, "output");
        assert_same_bits(&dispatched.0.c_n, &plain.0.c_n, "c_n");
        assert_same_bits(&dispatched.1.gates, &plain.1.gates, "gates");
        let all = LstmNeeds::ALL;
        let g = lstm_backward(&dispatched.1, &w_ih, &w_hh, &o_bar, &h_bar, &c_bar, all);
        let p = backward(
            &plain.1, &w_ih, &w_hh, &o_bar, &h_bar, &c_bar, all, ROWS_HELD,
        );
        for (name, a, b) in [
            ("x", g.x.as_deref().unwrap(), p.x.as_deref().unwrap()),
            ("weight_ih", &g.weight_ih[..], &p.weight_ih[..]),
            ("weight_hh", &g.weight_hh[..], &p.weight_hh[..]),
            ("bias", &g.bias[..], &p.bias[..]),
            ("h0", g.h0.as_deref().unwrap(), p.h0.as_deref().unwrap()),
            ("c0", &g.c0[..], &p.c0[..]),
        ] {
            assert_same_bits(a, b, format!("gradient of {name}"));
        }
    }

    /// The blocked transpose gives the element-by-element one: whole blocks of eight rows, rows
    /// left over, and empty matrices.
    fn transposes<T: Float>() {
        for (rows, cols) in [(256, 64), (256, 8), (13, 5), (7, 3), (8, 1), (0, 4), (4, 0)] {
            let data = values::<T>(rows * cols, 1);
            let expected: Vec<T> = (0..rows * cols)
                .map(|i| data[(i % rows) * cols + i / rows])
                .collect();
            let ours = transposed(&data, rows, cols);
            assert_same_bits(&ours, &expected, format!("{rows}×{cols}"));
        }
    }

    #[test]
    fn transposed_is_the_transpose() {
        transposes::<f32>();
        transposes::<f64>();
    }

    /// `W̄_ih` accumulated as `W̄_ihᵀ += X_blockᵀ Ā_block` and transposed at the end (what
    /// [`backward`] does) gives the bits of `W̄_ih += Ā_blockᵀ X_block` block by block (`β = 1`):
    /// each element is the same chain of products. Blocks of [`ROWS_HELD`] rows and a short
    /// one; inputs wider and narrower than a vector.
    fn weight_ih_gradient_either_way<T: Float>() {
        let (rows, width) = (3 * ROWS_HELD + 40, 256);
        for input in [8, 3, 13, 64] {
            let a_bar = values::<T>(rows * width, 1);
            let x = values::<T>(rows * input, 2);
            let mut direct = vec![T::zero(); width * input];
            let mut by_rows = vec![T::zero(); input * width];
            for first in (0..rows).step_by(ROWS_HELD) {
                let block = ROWS_HELD.min(rows - first);
                let a_block = &a_bar[first * width..(first + block) * width];
                let x_block = &x[first * input..(first + block) * input];
                product(
                    Matrix::transposed(a_block, block, width),
                    Matrix::rows(x_block, block, input),
                    T::one(),
                    &mut direct,
                );
                product(
                    Matrix::transposed(x_block, block, input),
                    Matrix::rows(a_block, block, width),
                    T::one(),
                    &mut by_rows,
                );
            }
            let ours = transposed(&by_rows, input, width);
            assert_same_bits(&ours, &direct, format!("input {input}"));
        }
    }

    #[test]
    fn weight_ih_gradient_by_rows_gives_the_same_bits() {
        weight_ih_gradient_either_way::<f32>();
        weight_ih_gradient_either_way::<f64>();
    }

    #[test]
    fn wide_and_plain_builds_agree_bit_for_bit() {
        wide_and_plain_agree::<f32>();
        wide_and_plain_agree::<f64>();
    }

    /// Leaving out `x̄` and `h̄_0` (the last step's `Ā_0 W_hh` is then not computed) changes no
    /// other gradient's bits: with and without a reset mask, and sizes the `f32` kernels take.
    fn fewer_needs_same_bits<T: Float>() {
        for (steps, batch, input, hidden) in [(5, 7, 3, 13), (3, 64, 8, 64)] {
            let dims = LstmDims {
                steps,
                batch,
                input,
                hidden,
            };
            let (width, state) = (4 * hidden, batch * hidden);
            let x = values::<T>(steps * batch * input, 1);
            let (w_ih, w_hh) = (
                values::<T>(width * input, 2),
                values::<T>(width * hidden, 3),
            );
            let (h0, c0) = (values::<T>(state, 6), values::<T>(state, 7));
            let mask: Vec<T> = (0..steps * batch)
                .map(|i| if i % 4 == 1 { T::zero() } else { T::one() })
                .collect();
            let (o_bar, h_bar, c_bar) = (
                values::<T>(steps * state, 8),
                values::<T>(state, 9),
                values::<T>(state, 10),
            );
            for keep in [None, Some(&mask[..])] {
                let (_, saved) = lstm_forward(dims, &x, &w_ih, &w_hh, None, &h0, &c0, keep);
                let run =
                    |needs| lstm_backward(&saved, &w_ih, &w_hh, &o_bar, &h_bar, &c_bar, needs);
                let all = run(LstmNeeds::ALL);
                let fewer = run(LstmNeeds {
                    x: false,
                    h0: false,
                });
                assert!(fewer.x.is_none() && fewer.h0.is_none());
                for (name, a, b) in [
                    ("weight_ih", &fewer.weight_ih, &all.weight_ih),
                    ("weight_hh", &fewer.weight_hh, &all.weight_hh),
                    ("bias", &fewer.bias, &all.bias),
                    ("c0", &fewer.c0, &all.c0),
                ] {
                    let at = format!("{steps}×{batch}×{input}×{hidden}, mask {}", keep.is_some());
                    assert_same_bits(a, b, format!("{at}: gradient of {name}"));
                }
            }
        }
    }

    /// `W̄_hh += Āᵀ H_prev` without the leading zero rows of `H_prev` gives the bits of the
    /// whole product: a zero `h_0` (64 of 256 rows), every row zero, a size the `f32` tiles
    /// leave to `matrixmultiply`, a first row that is not zero; and, where a zero row's `ā`
    /// is not finite, the product's NaN (the row is kept).
    fn weight_hh_gradient_without_zero_rows<T: Float>() {
        for (rows, zero_rows, hidden, poison) in [
            (256, 64, 64, false),
            (64, 64, 64, false),
            (20, 7, 13, false),
            (256, 0, 64, false),
            (256, 64, 64, true),
        ] {
            let width = 4 * hidden;
            let mut a_bar = values::<T>(rows * width, 1);
            if poison {
                a_bar[3 * width + 5] = T::infinity();
            }
            let mut h_prev = values::<T>(rows * hidden, 2);
            h_prev[..zero_rows * hidden].fill(T::zero());
            let start = values::<T>(width * hidden, 3);
            let mut expected = start.clone();
            product(
                Matrix::transposed(&a_bar, rows, width),
                Matrix::rows(&h_prev, rows, hidden),
                T::one(),
                &mut expected,
            );
            let mut ours = start;
            add_weight_hh_gradient(&a_bar, &h_prev, hidden, &mut ours);
            let at = format!("{rows} rows, {zero_rows} zero, {hidden} units, poison {poison}");
            assert_same_bits(&ours, &expected, at);
            assert_eq!(poison, ours.iter().any(|v| v.is_nan()));
        }
    }

    #[test]
    fn weight_hh_gradient_leaves_out_zero_states_with_the_same_bits() {
        weight_hh_gradient_without_zero_rows::<f32>();
        weight_hh_gradient_without_zero_rows::<f64>();
    }

    #[test]
    fn leaving_out_x_and_h0_keeps_the_other_gradients() {
        fewer_needs_same_bits::<f32>();
        fewer_needs_same_bits::<f64>();
    }

    /// What [`unfused`] computes: the gates after their activations, the outputs, the states
    /// each step starts from, `tanh c_t`, and the final state.
    struct Unfused<T> {
        gates: Vec<T>,
        output: Vec<T>,
        h_prev: Vec<T>,
        c_prev: Vec<T>,
        tanh_c: Vec<T>,
        h_n: Vec<T>,
        c_n: Vec<T>,
    }

    /// The forward pass before the products were fused and before the states were written in
    /// place: all steps' `X W_ihᵀ` as one product, `+ b`, and each step's `h_{t−1} W_hhᵀ`
    /// stored (`β = 0`) and then added; the activations by separate passes; the state `h, c`
    /// updated in place (the reset mask applied to it), copied out before each step as the
    /// state it starts from and after it as the output.
    #[allow(clippy::too_many_arguments)]
    fn unfused<T: Float>(
        dims: LstmDims,
        x: &[T],
        w_ih: &[T],
        w_hh: &[T],
        b: &[T],
        h0: &[T],
        c0: &[T],
        keep: Option<&[T]>,
    ) -> Unfused<T> {
        let LstmDims {
            steps,
            batch,
            input,
            hidden,
        } = dims;
        let width = 4 * hidden;
        let mut gates = Vec::new();
        append_product(
            Matrix::rows(x, steps * batch, input),
            Matrix::transposed(w_ih, width, input),
            &mut gates,
        );
        for row in gates.chunks_exact_mut(width) {
            row.iter_mut().zip(b).for_each(|(a, &b)| *a += b);
        }
        let (mut h, mut c) = (h0.to_vec(), c0.to_vec());
        let (mut output, mut h_prev, mut c_prev, mut tanh_c) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut part = vec![T::zero(); batch * width];
        for t in 0..steps {
            if let Some(keep) = keep {
                apply_keep(&mut h, &keep[t * batch..(t + 1) * batch], hidden);
                apply_keep(&mut c, &keep[t * batch..(t + 1) * batch], hidden);
            }
            h_prev.extend_from_slice(&h);
            c_prev.extend_from_slice(&c);
            product(
                Matrix::rows(&h, batch, hidden),
                Matrix::transposed(w_hh, width, hidden),
                T::zero(),
                &mut part,
            );
            let gates = &mut gates[t * batch * width..(t + 1) * batch * width];
            gates.iter_mut().zip(&part).for_each(|(a, &r)| *a += r);
            for row in gates.chunks_exact_mut(width) {
                let (ifg, o) = row.split_at_mut(3 * hidden);
                let (i_f, g) = ifg.split_at_mut(2 * hidden);
                T::sigmoid_in_place(i_f);
                T::tanh_in_place(g);
                T::sigmoid_in_place(o);
            }
            for (row, c) in gates.chunks_exact(width).zip(c.chunks_exact_mut(hidden)) {
                for j in 0..hidden {
                    c[j] = row[hidden + j] * c[j] + row[j] * row[2 * hidden + j];
                }
            }
            let mut tanh_c_t = c.clone();
            T::tanh_in_place(&mut tanh_c_t);
            for ((row, tanh_c), h) in gates
                .chunks_exact(width)
                .zip(tanh_c_t.chunks_exact(hidden))
                .zip(h.chunks_exact_mut(hidden))
            {
                for j in 0..hidden {
                    h[j] = row[3 * hidden + j] * tanh_c[j];
                }
            }
            tanh_c.extend_from_slice(&tanh_c_t);
            output.extend_from_slice(&h);
        }
        Unfused {
            gates,
            output,
            h_prev,
            c_prev,
            tanh_c,
            h_n: h,
            c_n: c,
        }
    }

    /// The fused forward pass (each step's input product into the gates, the recurrent product
    /// added to them as the tiles store it, `β = 1`; a single step reading the weights in
    /// place; the states written in place, the outputs views of them) gives the unfused pass's
    /// values bit for bit, in the AVX-512 and the plain builds, for a sequence, a single step,
    /// inputs narrower than a vector, with and without a reset mask.
    fn fused_and_unfused_agree<T: Float>() {
        for (steps, batch, input, hidden) in [
            (6, 64, 8, 64),
            (1, 64, 8, 64),
            (1, 3, 4, 16),
            (5, 7, 3, 13),
            (3, 300, 9, 24),
        ] {
            let dims = LstmDims {
                steps,
                batch,
                input,
                hidden,
            };
            let width = 4 * hidden;
            let x = values::<T>(steps * batch * input, 1);
            let (w_ih, w_hh) = (
                values::<T>(width * input, 2),
                values::<T>(width * hidden, 3),
            );
            let (b_ih, b_hh) = (values::<T>(width, 4), values::<T>(width, 5));
            let (h0, c0) = (
                values::<T>(batch * hidden, 6),
                values::<T>(batch * hidden, 7),
            );
            let b: Vec<T> = b_ih.iter().zip(&b_hh).map(|(&u, &v)| u + v).collect();
            let mask: Vec<T> = (0..steps * batch)
                .map(|i| if i % 3 == 1 { T::zero() } else { T::one() })
                .collect();
            let bias = Some((&b_ih[..], &b_hh[..]));
            for keep in [None, Some(&mask[..])] {
                let expected = unfused(dims, &x, &w_ih, &w_hh, &b, &h0, &c0, keep);
                for (build, (out, saved)) in [
                    (
                        "dispatched",
                        lstm_forward(dims, &x, &w_ih, &w_hh, bias, &h0, &c0, keep),
                    ),
                    (
                        "plain",
                        forward(dims, &x, &w_ih, &w_hh, bias, &h0, &c0, keep),
                    ),
                ] {
                    let at = format!(
                        "{build} {steps}×{batch}×{input}×{hidden}, mask {}",
                        keep.is_some()
                    );
                    let slice = |a: &SharedArray<T>| a.as_slice().expect("row-major").to_vec();
                    for (name, ours, theirs) in [
                        ("gates", saved.gates.clone(), &expected.gates),
                        ("output", slice(&out.output), &expected.output),
                        ("h_n", slice(&out.h_n), &expected.h_n),
                        ("c_n", slice(&out.c_n), &expected.c_n),
                        ("h_{t−1}", saved.h_prev().to_vec(), &expected.h_prev),
                        ("c_{t−1}", saved.c_prev().to_vec(), &expected.c_prev),
                        ("tanh c_t", saved.tanh_c.clone(), &expected.tanh_c),
                    ] {
                        assert_same_bits(&ours, theirs, format!("{at}: {name}"));
                    }
                    assert_eq!(out.output.shape(), [steps, batch, hidden], "{at}");
                    assert_eq!(out.h_n.shape(), [batch, hidden], "{at}");
                }
            }
        }
    }

    /// A step whose state `h_{t−1}` is all zero (`+0` or `−0`, at the first step or after every
    /// row's reset) leaves out `h_{t−1} W_hhᵀ` with the unfused pass's bits (which computes
    /// it): with and without a bias, `x` zero on some rows; and keeps it where it is not `+0`:
    /// one `h_0` not zero, past the first row, and an infinite weight (its rows are NaN).
    fn zero_state_same_bits<T: Float>() {
        let (steps, batch, input, hidden) = (4, 64, 8, 64);
        let dims = LstmDims {
            steps,
            batch,
            input,
            hidden,
        };
        let (width, state) = (4 * hidden, batch * hidden);
        let mut x = values::<T>(steps * batch * input, 1);
        x[..3 * input].fill(T::zero());
        let (b_ih, b_hh) = (values::<T>(width, 4), values::<T>(width, 5));
        let c0 = values::<T>(state, 7);
        let w_ih = values::<T>(width * input, 2);
        let w_hh = values::<T>(width * hidden, 3);
        let mut w_hh_infinite = w_hh.clone();
        w_hh_infinite[5 * hidden + 3] = T::infinity();
        let mut one_not_zero = vec![T::zero(); state];
        one_not_zero[3 * hidden + 5] = T::from_f64(0.5);
        let all_reset_at_2: Vec<T> = (0..steps * batch)
            .map(|i| if i / batch == 2 { T::zero() } else { T::one() })
            .collect();
        for (name, h0, w_hh, keep) in [
            ("h_0 = +0", vec![T::zero(); state], &w_hh, None),
            ("h_0 = −0", vec![-T::zero(); state], &w_hh, None),
            (
                "reset",
                values::<T>(state, 6),
                &w_hh,
                Some(&all_reset_at_2[..]),
            ),
            ("one h_0 not zero", one_not_zero, &w_hh, None),
            (
                "infinite weight",
                vec![T::zero(); state],
                &w_hh_infinite,
                None,
            ),
        ] {
            for bias in [Some((&b_ih[..], &b_hh[..])), None] {
                let b: Vec<T> = match bias {
                    Some(_) => b_ih.iter().zip(&b_hh).map(|(&u, &v)| u + v).collect(),
                    None => vec![T::zero(); width],
                };
                let expected = unfused(dims, &x, &w_ih, w_hh, &b, &h0, &c0, keep);
                let (out, saved) = lstm_forward(dims, &x, &w_ih, w_hh, bias, &h0, &c0, keep);
                let at = format!("{name}, bias {}", bias.is_some());
                let output = out.output.as_slice().expect("row-major");
                assert_same_bits(&saved.gates, &expected.gates, format!("{at}: gates"));
                assert_same_bits(output, &expected.output, format!("{at}: output"));
            }
        }
        let mut finite = None;
        assert!(zero_product(&[T::zero(); 70], &w_hh, &mut finite));
        assert_eq!(finite, Some(true));
        assert!(!zero_product(&[T::zero(); 70], &w_hh_infinite, &mut None));
        let mut late = vec![T::zero(); 70];
        late[66] = T::from_f64(1e-30);
        assert!(!zero_product(&late, &w_hh, &mut finite));
    }

    #[test]
    fn zero_state_leaves_out_its_recurrent_product_with_the_same_bits() {
        zero_state_same_bits::<f32>();
        zero_state_same_bits::<f64>();
    }

    #[test]
    fn fused_products_give_the_unfused_bits() {
        fused_and_unfused_agree::<f32>();
        fused_and_unfused_agree::<f64>();
    }

    /// The backward pass holding `Ā` for blocks of 1, 2, 3 steps or all of them gives the same
    /// gradients to round-off (the weight gradients and `b̄` sum in another order): blocks
    /// cut anywhere, the last one short, with a reset mask.
    #[test]
    fn backward_blocks_give_the_same_gradients() {
        let (steps, batch, input, hidden) = (7, 5, 3, 6);
        let dims = LstmDims {
            steps,
            batch,
            input,
            hidden,
        };
        let (width, state) = (4 * hidden, batch * hidden);
        let x = values::<f64>(steps * batch * input, 1);
        let (w_ih, w_hh) = (
            values::<f64>(width * input, 2),
            values::<f64>(width * hidden, 3),
        );
        let (b_ih, b_hh) = (values::<f64>(width, 4), values::<f64>(width, 5));
        let (h0, c0) = (values::<f64>(state, 6), values::<f64>(state, 7));
        let keep: Vec<f64> = (0..steps * batch)
            .map(|i| if i % 4 == 1 { 0.0 } else { 1.0 })
            .collect();
        let bias = Some((&b_ih[..], &b_hh[..]));
        let (_, saved) = forward(dims, &x, &w_ih, &w_hh, bias, &h0, &c0, Some(&keep));
        let (o_bar, h_bar, c_bar) = (
            values::<f64>(steps * state, 8),
            values::<f64>(state, 9),
            values::<f64>(state, 10),
        );
        let run = |held_steps: usize| {
            backward(
                &saved,
                &w_ih,
                &w_hh,
                &o_bar,
                &h_bar,
                &c_bar,
                LstmNeeds::ALL,
                held_steps * batch,
            )
        };
        let all = run(steps);
        for held_steps in [1, 2, 3] {
            let g = run(held_steps);
            for (name, a, b) in [
                ("x", g.x.as_deref().unwrap(), all.x.as_deref().unwrap()),
                ("weight_ih", &g.weight_ih[..], &all.weight_ih[..]),
                ("weight_hh", &g.weight_hh[..], &all.weight_hh[..]),
                ("bias", &g.bias[..], &all.bias[..]),
                ("h0", g.h0.as_deref().unwrap(), all.h0.as_deref().unwrap()),
                ("c0", &g.c0[..], &all.c0[..]),
            ] {
                let close = a
                    .iter()
                    .zip(b)
                    .all(|(u, v)| (u - v).abs() <= 1e-12 * (1.0 + v.abs()));
                assert!(close, "{name}, blocks of {held_steps} steps");
            }
        }
    }
}
