//! One LSTM layer over a whole sequence, forward and backward, as a few large matrix products
//! and one fused elementwise pass per step (the op is [`crate::lstm`], which states the
//! equations). Shapes: `x` is `(T, N, I)`, `W_ih` `(4H, I)`, `W_hh` `(4H, H)`, states `(N, H)`,
//! every array row-major and contiguous.
//!
//! Forward: the input's share of every step's pre-activations, `X W_ihᵀ` over all `T N` rows, is
//! one product; each step then adds `h_{t−1} W_hhᵀ` (one `N × H · H × 4H` product) and runs
//! the gates, `c_t`, `tanh c_t` and `h_t` in one pass. Backward (BPTT): each step computes the
//! gates' gradients `Ā_t` (`N × 4H`) in one pass and `h̄_{t−1} = Ā_t W_hh`; the weight gradients
//! come at the end as one product each over all steps, `W̄_hh = Āᵀ H_prev`, `W̄_ih = Āᵀ X`,
//! `b̄ = Σ_rows Ā`, and `x̄ = Ā W_ih`.
//!
//! In `f64` every forward value is the one the step-by-step tape path computes, bit for bit (the
//! same operations in the same order); in `f32` the sigmoid is the vectorised kernel (within
//! 4 ulp). Gradients sum in another order than the tape's, so they agree to round-off.

use crate::Float;

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
    /// The state each step starts from, after the reset mask: `h_{t−1}` and `c_{t−1}`, `T × N × H`.
    pub h_prev: Vec<T>,
    pub c_prev: Vec<T>,
    /// The gates after their activations, `i, f, g, o` blocks of each row: `T × N × 4H`.
    pub gates: Vec<T>,
    /// `tanh c_t`, `T × N × H`.
    pub tanh_c: Vec<T>,
    /// The reset mask's keep factors `1 − m_t`, `T × N`, if there is a mask.
    pub keep: Option<Vec<T>>,
}

/// The forward pass's results: the outputs `h_t` (`T × N × H`), `h_T` and `c_T` (`N × H`).
pub(crate) struct LstmOutputs<T> {
    pub output: Vec<T>,
    pub h_n: Vec<T>,
    pub c_n: Vec<T>,
}

/// The backward pass's results, each shaped like its input (`x̄` only when asked for).
pub(crate) struct LstmGradients<T> {
    pub x: Option<Vec<T>>,
    pub weight_ih: Vec<T>,
    pub weight_hh: Vec<T>,
    /// `b̄_ih = b̄_hh`: the biases enter as a sum.
    pub bias: Vec<T>,
    pub h0: Vec<T>,
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
    // Every buffer is filled step by step as it is computed, never zero-filled first.
    let mut saved = LstmSaved {
        dims,
        x: x.to_vec(),
        h_prev: Vec::with_capacity(steps * state),
        c_prev: Vec::with_capacity(steps * state),
        gates: Vec::with_capacity(rows * width),
        tanh_c: Vec::with_capacity(steps * state),
        keep: keep.map(<[T]>::to_vec),
    };
    // x W_ihᵀ + (b_ih + b_hh) for every step at once, the part that does not depend on h, in
    // the gates' place: each step then adds its h_{t−1} W_hhᵀ.
    append_product(
        Matrix::rows(x, rows, input),
        Matrix::transposed(weight_ih, width, input),
        &mut saved.gates,
    );
    if let Some((b_ih, b_hh)) = bias {
        let b: Vec<T> = b_ih.iter().zip(b_hh).map(|(&u, &v)| u + v).collect();
        for row in saved.gates.chunks_exact_mut(width) {
            row.iter_mut().zip(&b).for_each(|(a, &b)| *a += b);
        }
    }
    let mut recurrent_part = vec![T::zero(); batch * width];
    // W_hhᵀ laid out row by row once, so that every step's product reads it in place.
    let mut weight_hh_t = vec![T::zero(); hidden * width];
    for (j, row) in weight_hh.chunks_exact(hidden).enumerate() {
        for (k, &w) in row.iter().enumerate() {
            weight_hh_t[k * width + j] = w;
        }
    }
    let mut output = Vec::with_capacity(steps * state);
    let (mut h, mut c) = (h0.to_vec(), c0.to_vec());
    for t in 0..steps {
        if let Some(keep) = keep {
            let keep_t = &keep[t * batch..(t + 1) * batch];
            if keep_t.iter().any(|&k| k != T::one()) {
                apply_keep(&mut h, keep_t, hidden);
                apply_keep(&mut c, keep_t, hidden);
            }
        }
        let span = t * state..(t + 1) * state;
        saved.h_prev.extend_from_slice(&h);
        saved.c_prev.extend_from_slice(&c);
        // a_t = (x_t W_ihᵀ + b) + h_{t−1} W_hhᵀ, then the activations, in place.
        product(
            Matrix::rows(&h, batch, hidden),
            Matrix::rows(&weight_hh_t, hidden, width),
            T::zero(),
            &mut recurrent_part,
        );
        let gates = &mut saved.gates[t * batch * width..(t + 1) * batch * width];
        gates
            .iter_mut()
            .zip(&recurrent_part)
            .for_each(|(a, &r)| *a += r);
        for row in gates.chunks_exact_mut(width) {
            let (ifg, o) = row.split_at_mut(3 * hidden);
            let (i_f, g) = ifg.split_at_mut(2 * hidden);
            T::sigmoid_in_place(i_f);
            T::tanh_in_place(g);
            T::sigmoid_in_place(o);
        }
        // c_t = f ⊙ c_{t−1} + i ⊙ g, then h_t = o ⊙ tanh c_t.
        for (row, c) in gates.chunks_exact(width).zip(c.chunks_exact_mut(hidden)) {
            let (i, f, g) = (
                &row[..hidden],
                &row[hidden..2 * hidden],
                &row[2 * hidden..3 * hidden],
            );
            let (i, f, g, c) = (&i[..hidden], &f[..hidden], &g[..hidden], &mut c[..hidden]);
            for j in 0..hidden {
                c[j] = f[j] * c[j] + i[j] * g[j];
            }
        }
        saved.tanh_c.extend_from_slice(&c);
        let tanh_c = &mut saved.tanh_c[span];
        T::tanh_in_place(tanh_c);
        for ((row, tanh_c), h) in gates
            .chunks_exact(width)
            .zip(tanh_c.chunks_exact(hidden))
            .zip(h.chunks_exact_mut(hidden))
        {
            let (o, tanh_c, h) = (
                &row[3 * hidden..4 * hidden][..hidden],
                &tanh_c[..hidden],
                &mut h[..hidden],
            );
            for j in 0..hidden {
                h[j] = o[j] * tanh_c[j];
            }
        }
        output.extend_from_slice(&h);
    }
    let outputs = LstmOutputs {
        output,
        h_n: h,
        c_n: c,
    };
    (outputs, saved)
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
    need_x: bool,
) -> LstmGradients<T> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F, checked just above.
        return unsafe {
            backward_avx512(
                saved, weight_ih, weight_hh, output_bar, h_n_bar, c_n_bar, need_x,
            )
        };
    }
    backward(
        saved, weight_ih, weight_hh, output_bar, h_n_bar, c_n_bar, need_x,
    )
}

/// [`backward`] compiled for AVX-512F.
///
/// # Safety
/// The CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn backward_avx512<T: Float>(
    saved: &LstmSaved<T>,
    weight_ih: &[T],
    weight_hh: &[T],
    output_bar: &[T],
    h_n_bar: &[T],
    c_n_bar: &[T],
    need_x: bool,
) -> LstmGradients<T> {
    backward(
        saved, weight_ih, weight_hh, output_bar, h_n_bar, c_n_bar, need_x,
    )
}

/// [`lstm_backward`]'s body.
#[inline(always)]
fn backward<T: Float>(
    saved: &LstmSaved<T>,
    weight_ih: &[T],
    weight_hh: &[T],
    output_bar: &[T],
    h_n_bar: &[T],
    c_n_bar: &[T],
    need_x: bool,
) -> LstmGradients<T> {
    let LstmDims {
        steps,
        batch,
        input,
        hidden,
    } = saved.dims;
    let (rows, width, state) = (steps * batch, 4 * hidden, batch * hidden);
    let one = T::one();
    // Ā: the gradients of the pre-activations a_t, every step, T × N × 4H.
    let mut a_bar = vec![T::zero(); rows * width];
    let (mut h_bar, mut c_bar) = (h_n_bar.to_vec(), c_n_bar.to_vec());
    for t in (0..steps).rev() {
        let span = t * state..(t + 1) * state;
        h_bar
            .iter_mut()
            .zip(&output_bar[span.clone()])
            .for_each(|(h, &o)| *h += o);
        let gates = &saved.gates[t * batch * width..(t + 1) * batch * width];
        let a_bar_t = &mut a_bar[t * batch * width..(t + 1) * batch * width];
        for (((row, a_row), (tanh_c, c_prev)), (h_bar, c_bar)) in gates
            .chunks_exact(width)
            .zip(a_bar_t.chunks_exact_mut(width))
            .zip(
                saved.tanh_c[span.clone()]
                    .chunks_exact(hidden)
                    .zip(saved.c_prev[span].chunks_exact(hidden)),
            )
            .zip(
                h_bar
                    .chunks_exact(hidden)
                    .zip(c_bar.chunks_exact_mut(hidden)),
            )
        {
            // Every slice re-cut to `hidden` elements, so that the loop below indexes without
            // bounds checks and vectorises.
            let (i, f) = (&row[..hidden], &row[hidden..2 * hidden]);
            let (g, o) = (&row[2 * hidden..3 * hidden], &row[3 * hidden..4 * hidden]);
            let (i, f, g, o) = (&i[..hidden], &f[..hidden], &g[..hidden], &o[..hidden]);
            let (di, rest) = a_row.split_at_mut(hidden);
            let (df, rest) = rest.split_at_mut(hidden);
            let (dg, d_o) = rest.split_at_mut(hidden);
            let (di, df, dg, d_o) = (
                &mut di[..hidden],
                &mut df[..hidden],
                &mut dg[..hidden],
                &mut d_o[..hidden],
            );
            let (tanh_c, c_prev) = (&tanh_c[..hidden], &c_prev[..hidden]);
            let (h_bar, c_bar) = (&h_bar[..hidden], &mut c_bar[..hidden]);
            for j in 0..hidden {
                // h = o tanh c:  ō = h̄ tanh c,  c̄ += h̄ o (1 − tanh² c)
                let o_bar = h_bar[j] * tanh_c[j];
                let c_bar_t = c_bar[j] + h_bar[j] * o[j] * (one - tanh_c[j] * tanh_c[j]);
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
        // h̄_{t−1} = Ā_t W_hh
        product(
            Matrix::rows(a_bar_t, batch, width),
            Matrix::rows(weight_hh, width, hidden),
            T::zero(),
            &mut h_bar,
        );
        if let Some(keep) = &saved.keep {
            let keep_t = &keep[t * batch..(t + 1) * batch];
            apply_keep(&mut h_bar, keep_t, hidden);
            apply_keep(&mut c_bar, keep_t, hidden);
        }
    }
    // The weight gradients, one product each over all T N rows.
    let mut weight_hh_bar = Vec::with_capacity(width * hidden);
    append_product(
        Matrix::transposed(&a_bar, rows, width),
        Matrix::rows(&saved.h_prev, rows, hidden),
        &mut weight_hh_bar,
    );
    let mut weight_ih_bar = Vec::with_capacity(width * input);
    append_product(
        Matrix::transposed(&a_bar, rows, width),
        Matrix::rows(&saved.x, rows, input),
        &mut weight_ih_bar,
    );
    let mut bias_bar = vec![T::zero(); width];
    for row in a_bar.chunks_exact(width) {
        bias_bar.iter_mut().zip(row).for_each(|(b, &a)| *b += a);
    }
    let x_bar = need_x.then(|| {
        let mut x_bar = Vec::with_capacity(rows * input);
        append_product(
            Matrix::rows(&a_bar, rows, width),
            Matrix::rows(weight_ih, width, input),
            &mut x_bar,
        );
        x_bar
    });
    LstmGradients {
        x: x_bar,
        weight_ih: weight_ih_bar,
        weight_hh: weight_hh_bar,
        bias: bias_bar,
        h0: h_bar,
        c0: c_bar,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values that round differently when combined in another order.
    fn values<T: Float>(len: usize, seed: usize) -> Vec<T> {
        (0..len)
            .map(|i| T::from_f64(((i * 37 + seed * 11) as f64 * 0.618_034).sin() * 0.9))
            .collect()
    }

    /// The AVX-512 builds of the forward and backward passes (taken where the CPU has
    /// AVX-512F) give the plain builds' values bit for bit, with a reset mask and an odd
    /// hidden size that leaves partial vectors.
    fn wide_and_plain_agree<T: Float>(bits: impl Fn(&T) -> u64) {
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
        let same = |a: &[T], b: &[T]| a.iter().map(&bits).eq(b.iter().map(&bits));
        assert!(
            same(&dispatched.0.output, &plain.0.output),
            "{} output",
            T::NAME
        );
        assert!(same(&dispatched.0.c_n, &plain.0.c_n), "{} c_n", T::NAME);
        assert!(
            same(&dispatched.1.gates, &plain.1.gates),
            "{} gates",
            T::NAME
        );
        let g = lstm_backward(&dispatched.1, &w_ih, &w_hh, &o_bar, &h_bar, &c_bar, true);
        let p = backward(&plain.1, &w_ih, &w_hh, &o_bar, &h_bar, &c_bar, true);
        for (name, a, b) in [
            ("x", g.x.as_deref().unwrap(), p.x.as_deref().unwrap()),
            ("weight_ih", &g.weight_ih[..], &p.weight_ih[..]),
            ("weight_hh", &g.weight_hh[..], &p.weight_hh[..]),
            ("bias", &g.bias[..], &p.bias[..]),
            ("h0", &g.h0[..], &p.h0[..]),
            ("c0", &g.c0[..], &p.c0[..]),
        ] {
            assert!(same(a, b), "{} gradient of {name}", T::NAME);
        }
    }

    #[test]
    fn wide_and_plain_builds_agree_bit_for_bit() {
        wide_and_plain_agree::<f32>(|x| x.to_bits() as u64);
        wide_and_plain_agree::<f64>(|x| x.to_bits());
    }
}
