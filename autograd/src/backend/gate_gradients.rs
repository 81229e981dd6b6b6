//! One LSTM step's backward elementwise pass in `f32`, sixteen lanes wide (AVX-512F, detected
//! at run time): for each row `n` and unit `j`, from the saved gates `i, f, g, o`, `tanh c_t`,
//! `c_{t−1}`, the carried `h̄`, `c̄` and the output's `ō_t`,
//!
//! ```text
//! h̄ ← h̄ + ō_t,   ō = h̄ tanh c_t,   c̄_t = c̄ + h̄ o (1 − tanh² c_t),   c̄ ← c̄_t f
//! ā_i = c̄_t g i (1 − i),   ā_f = c̄_t c_{t−1} f (1 − f),   ā_g = c̄_t i (1 − g²),   ā_o = ō o (1 − o)
//! b̄ += ā_t,n
//! ```
//!
//! The plain path ([`super::lstm::step_gate_gradients`]) goes row by row and adds each row of
//! `Ā` to `b̄` in a second loop that reads it back. Here each vector of `ā` is added to `b̄`
//! as it is stored, in the same row-by-row order (a column of 16 units at a time down the rows,
//! with `b̄` in registers, was slower: it reads the saved arrays with a stride of a row, which
//! the hardware prefetcher follows less well than rows read in order). Each element sees the
//! same operations in the same order (no fused multiply-adds, `b̄` summed over the rows in
//! order), so the results are the plain path's bit for bit.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m512, _mm512_add_ps, _mm512_loadu_ps, _mm512_mul_ps, _mm512_set1_ps, _mm512_storeu_ps,
    _mm512_sub_ps,
};

/// Lanes of a vector.
const LANES: usize = 16;

/// One step of the LSTM's backward elementwise pass for `N` rows of `hidden` units (module
/// doc): `gates` and `a_bar` are `N × 4H` (`i, f, g, o` blocks of each row), `tanh_c`,
/// `c_prev`, `h_bar`, `output_bar` and `c_bar` are `N × H`, `bias_bar` is `4H`. Writes `Ā_t`
/// into `a_bar`, updates `c̄ ← c̄_t ⊙ f` and adds `Σ_n ā_t,n` to `b̄`. The kernel where the CPU
/// has AVX-512F and `hidden` is a multiple of 16, else the plain path, with the same bits.
///
/// # Panics
/// If the slices' lengths do not match.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lstm_gate_gradients_f32(
    hidden: usize,
    gates: &[f32],
    tanh_c: &[f32],
    c_prev: &[f32],
    h_bar: &[f32],
    output_bar: &[f32],
    c_bar: &mut [f32],
    a_bar: &mut [f32],
    bias_bar: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") && hidden.is_multiple_of(LANES) {
        let state = c_bar.len();
        assert!(
            gates.len() == 4 * state
                && a_bar.len() == 4 * state
                && [tanh_c, c_prev, h_bar, output_bar]
                    .iter()
                    .all(|s| s.len() == state)
                && bias_bar.len() == 4 * hidden
                && state.is_multiple_of(hidden.max(1)),
            "lstm gate gradients: {hidden} units, states of {state}, gates {}, Ā {}, b̄ {}",
            gates.len(),
            a_bar.len(),
            bias_bar.len()
        );
        // SAFETY: the CPU has AVX-512F (checked above); every slice holds `state / hidden`
        // rows of its width (asserted above), and the ones written are borrowed mutably, so
        // alias nothing.
        unsafe {
            rows(
                hidden, gates, tanh_c, c_prev, h_bar, output_bar, c_bar, a_bar, bias_bar,
            )
        };
        return;
    }
    super::lstm::step_gate_gradients(
        hidden, gates, tanh_c, c_prev, h_bar, output_bar, c_bar, a_bar, bias_bar,
    )
}

/// [`lstm_gate_gradients_f32`] a row at a time, 16 units at a time across it.
///
/// # Safety
/// The CPU has AVX-512F; `hidden` is a multiple of 16 and the slices' lengths are as
/// [`lstm_gate_gradients_f32`] asserts.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn rows(
    hidden: usize,
    gates: &[f32],
    tanh_c: &[f32],
    c_prev: &[f32],
    h_bar: &[f32],
    output_bar: &[f32],
    c_bar: &mut [f32],
    a_bar: &mut [f32],
    bias_bar: &mut [f32],
) {
    let (width, rows) = (4 * hidden, c_bar.len() / hidden.max(1));
    let one = _mm512_set1_ps(1.0);
    // SAFETY (all loads and stores): row `n < rows`, units `j..j + 16` with `j + 16 ≤ hidden`,
    // inside every slice by this function's contract.
    unsafe {
        let load = |s: &[f32], at: usize| _mm512_loadu_ps(s.as_ptr().add(at));
        for n in 0..rows {
            for j in (0..hidden).step_by(LANES) {
                let (gate, unit) = (n * width + j, n * hidden + j);
                let [i, f, g, o] = std::array::from_fn(|q| load(gates, gate + q * hidden));
                let (tanh_c, c_prev) = (load(tanh_c, unit), load(c_prev, unit));
                // h̄ ← h̄ + ō_t; then h = o tanh c:  ō = h̄ tanh c,  c̄ += h̄ o (1 − tanh² c)
                let h_bar = _mm512_add_ps(load(h_bar, unit), load(output_bar, unit));
                let o_bar = _mm512_mul_ps(h_bar, tanh_c);
                let c_bar_t = _mm512_add_ps(
                    load(c_bar, unit),
                    _mm512_mul_ps(
                        _mm512_mul_ps(h_bar, o),
                        _mm512_sub_ps(one, _mm512_mul_ps(tanh_c, tanh_c)),
                    ),
                );
                // c = f c_prev + i g
                let (i_bar, g_bar) = (_mm512_mul_ps(c_bar_t, g), _mm512_mul_ps(c_bar_t, i));
                let f_bar = _mm512_mul_ps(c_bar_t, c_prev);
                _mm512_storeu_ps(c_bar.as_mut_ptr().add(unit), _mm512_mul_ps(c_bar_t, f));
                // through σ and tanh
                let sigmoid = |bar: __m512, s: __m512| {
                    _mm512_mul_ps(_mm512_mul_ps(bar, s), _mm512_sub_ps(one, s))
                };
                let a = [
                    sigmoid(i_bar, i),
                    sigmoid(f_bar, f),
                    _mm512_mul_ps(g_bar, _mm512_sub_ps(one, _mm512_mul_ps(g, g))),
                    sigmoid(o_bar, o),
                ];
                for (q, a) in a.into_iter().enumerate() {
                    _mm512_storeu_ps(a_bar.as_mut_ptr().add(gate + q * hidden), a);
                    let b = bias_bar.as_mut_ptr().add(q * hidden + j);
                    _mm512_storeu_ps(b, _mm512_add_ps(_mm512_loadu_ps(b), a));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::assert_same_bits;

    /// Values in `(−0.9, 0.9)` that round differently when combined in another order.
    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (((i * 37 + seed * 11) as f64 * 0.618_034).sin() * 0.9) as f32)
            .collect()
    }

    /// The kernel gives the plain path's `Ā_t`, `c̄` and `b̄` bit for bit over several steps
    /// (`c̄` and `b̄` carried from one to the next, `b̄` starting from values that are not
    /// zero): issue 19's step (64 rows of 64 units), one row, a column of 16 units, three
    /// columns, and sizes the kernel declines (13 units, no rows).
    #[test]
    fn kernel_gives_the_plain_bits() {
        for (batch, hidden) in [(64, 64), (1, 64), (7, 16), (5, 48), (3, 13), (0, 16)] {
            let (state, width) = (batch * hidden, 4 * hidden);
            let mut c_bar = [values(state, 1), values(state, 1)];
            let mut bias_bar = [values(width, 2), values(width, 2)];
            for step in 0..3 {
                let gates = values(batch * width, 10 + step);
                let (tanh_c, c_prev) = (values(state, 20 + step), values(state, 30 + step));
                let (h_bar, output_bar) = (values(state, 40 + step), values(state, 50 + step));
                let mut a_bar = [vec![f32::NAN; batch * width], vec![f32::NAN; batch * width]];
                let [c_kernel, c_plain] = &mut c_bar;
                let [b_kernel, b_plain] = &mut bias_bar;
                let [a_kernel, a_plain] = &mut a_bar;
                lstm_gate_gradients_f32(
                    hidden,
                    &gates,
                    &tanh_c,
                    &c_prev,
                    &h_bar,
                    &output_bar,
                    c_kernel,
                    a_kernel,
                    b_kernel,
                );
                super::super::lstm::step_gate_gradients(
                    hidden,
                    &gates,
                    &tanh_c,
                    &c_prev,
                    &h_bar,
                    &output_bar,
                    c_plain,
                    a_plain,
                    b_plain,
                );
                let at = format!("{batch}×{hidden}, step {step}");
                assert_same_bits(&*a_kernel, &*a_plain, format!("{at}: Ā"));
                assert_same_bits(&*c_kernel, &*c_plain, format!("{at}: c̄"));
                assert_same_bits(&*b_kernel, &*b_plain, format!("{at}: b̄"));
            }
        }
    }
}
