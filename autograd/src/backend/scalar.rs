//! The two element types' kernels: `f32` multiplies through the register tiles of
//! [`super::tiles`] where they apply (else `matrixmultiply::sgemm`) and takes `tanh` from
//! [`super::tanh`]; `f64` multiplies through `matrixmultiply::dgemm`.

use crate::Float;

impl Float for f32 {
    const NAME: &'static str = "f32";

    fn tanh_all(x: &[Self]) -> Vec<Self> {
        super::tanh::tanh_f32(x)
    }

    fn tanh_in_place(x: &mut [Self]) {
        super::tanh::tanh_f32_in_place(x)
    }

    fn sigmoid_in_place(x: &mut [Self]) {
        super::tanh::sigmoid_f32_in_place(x)
    }

    fn lstm_cells(
        hidden: usize,
        gates: &mut [Self],
        c_prev: &[Self],
        c: &mut [std::mem::MaybeUninit<Self>],
        tanh_c: &mut [std::mem::MaybeUninit<Self>],
        h: &mut [std::mem::MaybeUninit<Self>],
    ) {
        super::tanh::lstm_cells_f32(hidden, gates, c_prev, c, tanh_c, h)
    }

    fn lstm_gates(
        sizes: (usize, usize, usize, usize),
        x: &[Self],
        weight_ih_t: &[Self],
        bias: Option<&[Self]>,
        h: &[Self],
        weight_hh_t: &[Self],
        gates: &mut [std::mem::MaybeUninit<Self>],
    ) -> bool {
        super::tiles::lstm_gates(sizes, x, weight_ih_t, bias, h, weight_hh_t, gates)
    }

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
        super::gate_gradients::lstm_gate_gradients_f32(
            hidden, gates, tanh_c, c_prev, h_bar, output_bar, c_bar, a_bar, bias_bar,
        )
    }

    fn from_f64(x: f64) -> Self {
        x as f32
    }

    fn as_f64(self) -> f64 {
        self as f64
    }

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
    ) {
        // SAFETY: forwarded from this function's contract.
        unsafe {
            // C = A B or C ← A B + C: the tiles' two modes (matrixmultiply's β = 0 and 1).
            let tiled = alpha == 1.0 && (beta == 0.0 || beta == 1.0);
            let (a_strides, b_strides) =
                ((row_stride_a, col_stride_a), (row_stride_b, col_stride_b));
            let c_strides = (row_stride_c, col_stride_c);
            let accumulate = beta == 1.0;
            if tiled
                && super::tiles::sgemm(
                    m, k, n, a, a_strides, b, b_strides, c, c_strides, accumulate,
                )
            {
                return;
            }
            matrixmultiply::sgemm(
                m,
                k,
                n,
                alpha,
                a,
                row_stride_a,
                col_stride_a,
                b,
                row_stride_b,
                col_stride_b,
                beta,
                c,
                row_stride_c,
                col_stride_c,
            )
        }
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";

    fn from_f64(x: f64) -> Self {
        x
    }

    fn as_f64(self) -> f64 {
        self
    }

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
    ) {
        // SAFETY: forwarded from this function's contract.
        unsafe {
            matrixmultiply::dgemm(
                m,
                k,
                n,
                alpha,
                a,
                row_stride_a,
                col_stride_a,
                b,
                row_stride_b,
                col_stride_b,
                beta,
                c,
                row_stride_c,
                col_stride_c,
            )
        }
    }
}
