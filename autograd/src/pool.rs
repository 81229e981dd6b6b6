//! # 2-D max pooling
//!
//! For `X` of shape `(N, C, H, W)`, PyTorch's `max_pool2d` takes the maximum over each window
//!
//! ```text
//! Y[n, c, p, q] = max_{i < kh, j < kw} X[n, c, p·s_h − pad_h + i·d_h, q·s_w − pad_w + j·d_w]
//! ```
//!
//! (positions in the padding do not take part), with `H_out = ⌊(H + 2 pad − d (k − 1) − 1) / s⌋ + 1`
//! (`⌈·⌉` in ceil mode, dropping a last window that would start in the right padding).
//!
//! The gradient goes to the argmax of each window, `X̄[n, c, a(p, q)] += Ȳ[n, c, p, q]`. The
//! argmax follows PyTorch's CPU kernel: the window is scanned row by row, and a position is
//! taken if its value is greater than the maximum so far *or is NaN* — so on a tie the first
//! position wins, and a NaN (the last one, if several) always wins. Pooling is therefore a
//! gather of `X` at the argmax positions, `Y = gather(X, a)`, and is differentiable to any
//! order through the gather's rules (its VJP is a scatter-add, whose VJP is a gather).
//!
//! ```
//! use ndarray::array;
//! use wengert_autograd::pool::{MaxPool2dOptions, max_pool2d};
//! use wengert_autograd::prelude::*;
//!
//! let tape = Tape::<f64>::new();
//! let x = tape.var(array![[[[1.0, 3.0], [3.0, 2.0]]]]);
//! let y = max_pool2d(&x, &MaxPool2dOptions::new(2));
//! assert_eq!(y.value()[[0, 0, 0, 0]], 3.0);
//! let x_bar = &y.sum_all().backward()[&x];
//! assert_eq!(x_bar[[0, 0, 0, 1]], 1.0); // the first of the tied maxima
//! assert_eq!(x_bar[[0, 0, 1, 0]], 0.0);
//! ```

use ndarray::{ArrayD, Ix4, IxDyn};

use crate::{Float, Tensor, Var};

/// Kernel size, stride, padding and dilation (`[height, width]`) and ceil mode of a max pool,
/// as PyTorch's `MaxPool2d` takes them (the stride defaults to the kernel size).
///
/// ```
/// use wengert_autograd::pool::MaxPool2dOptions;
/// let pool = MaxPool2dOptions::new(3).stride(2).padding(1);
/// assert_eq!(pool.output_size([16, 16]), [8, 8]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2dOptions {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub ceil_mode: bool,
}

impl MaxPool2dOptions {
    /// A square `kernel × kernel` pool with stride `kernel`, no padding, dilation 1.
    pub fn new(kernel: usize) -> Self {
        Self::rectangular([kernel, kernel])
    }

    /// A `kernel[0] × kernel[1]` pool with stride `kernel`, no padding, dilation 1.
    pub fn rectangular(kernel: [usize; 2]) -> Self {
        MaxPool2dOptions {
            kernel,
            stride: kernel,
            padding: [0, 0],
            dilation: [1, 1],
            ceil_mode: false,
        }
    }

    /// The same stride along both axes.
    pub fn stride(mut self, stride: usize) -> Self {
        self.stride = [stride, stride];
        self
    }

    /// The same padding on both axes.
    pub fn padding(mut self, padding: usize) -> Self {
        self.padding = [padding, padding];
        self
    }

    /// The same dilation along both axes.
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.dilation = [dilation, dilation];
        self
    }

    /// Ceil mode: the output size rounds up.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }

    /// `[H_out, W_out]` for an input of spatial size `input`.
    ///
    /// # Panics
    /// If a size is 0, the padding is more than half the kernel, or the output would be empty.
    pub fn output_size(&self, input: [usize; 2]) -> [usize; 2] {
        self.checked_output_size(input)
            .unwrap_or_else(|message| panic!("max_pool2d: {message}"))
    }

    fn checked_output_size(&self, input: [usize; 2]) -> Result<[usize; 2], String> {
        let (k, s, p, d) = (self.kernel, self.stride, self.padding, self.dilation);
        if [k, s, d].iter().any(|pair| pair.contains(&0)) {
            return Err(format!(
                "kernel {k:?}, stride {s:?} and dilation {d:?} must be positive"
            ));
        }
        if p[0] > k[0] / 2 || p[1] > k[1] / 2 {
            return Err(format!(
                "padding {p:?} must be at most half the kernel {k:?}"
            ));
        }
        let size = |a: usize| -> isize {
            let span = (input[a] + 2 * p[a]) as isize - (d[a] * (k[a] - 1) + 1) as isize;
            let round = if self.ceil_mode { s[a] as isize - 1 } else { 0 };
            let mut out = (span + round).div_euclid(s[a] as isize) + 1;
            // In ceil mode the last window must start inside the input or the left padding.
            if self.ceil_mode && (out - 1) * s[a] as isize >= (input[a] + p[a]) as isize {
                out -= 1;
            }
            out
        };
        let output = [size(0), size(1)];
        if output[0] < 1 || output[1] < 1 {
            return Err(format!(
                "the input {input:?} is too small for the kernel {k:?} with padding {p:?} and \
                 dilation {d:?}: the output would be {output:?}"
            ));
        }
        Ok([output[0] as usize, output[1] as usize])
    }

    /// The window's first in-image position along axis `a` for output position `o`, stepping by
    /// the dilation, and the positions it covers: PyTorch's `ih0 … ih_end`.
    fn window(&self, a: usize, o: usize, size: usize) -> impl Iterator<Item = usize> {
        let start = (o * self.stride[a]) as isize - self.padding[a] as isize;
        let end =
            (start + ((self.kernel[a] - 1) * self.dilation[a] + 1) as isize).min(size as isize);
        let step = self.dilation[a];
        let mut first = start;
        while first < 0 {
            first += step as isize;
        }
        (first..end.max(first)).step_by(step).map(|i| i as usize)
    }
}

/// `Y = max_pool2d(X)` for `X` of shape `(N, C, H, W)`, with PyTorch's argmax rule (see the
/// [module documentation](self)).
///
/// # Panics
/// With a message naming the shape, if `x` is not 4-D or the options do not fit it.
pub fn max_pool2d<T: Float>(x: &Var<T>, options: &MaxPool2dOptions) -> Var<T> {
    let &[n, c, h, w] = x.shape() else {
        panic!(
            "max_pool2d: expected an input (N, C, H, W), found shape {:?}",
            x.shape()
        );
    };
    let [out_h, out_w] = options
        .checked_output_size([h, w])
        .unwrap_or_else(|message| panic!("max_pool2d: input {:?}: {message}", x.shape()));
    let value = x.value().view().into_dimensionality::<Ix4>().expect("4-D");
    let mut argmax = ArrayD::<usize>::zeros(IxDyn(&[n, c, out_h * out_w]));
    for b in 0..n {
        for channel in 0..c {
            let plane = value.slice(ndarray::s![b, channel, .., ..]);
            for p in 0..out_h {
                for q in 0..out_w {
                    let mut rows = options.window(0, p, h).peekable();
                    let mut columns = options.window(1, q, w).peekable();
                    let first = rows.peek().copied().unwrap_or(0) * w
                        + columns.peek().copied().unwrap_or(0);
                    let (mut best, mut at) = (T::neg_infinity(), first);
                    for i in rows {
                        for j in options.window(1, q, w) {
                            let v = plane[[i, j]];
                            if v > best || v.is_nan() {
                                (best, at) = (v, i * w + j);
                            }
                        }
                    }
                    argmax[[b, channel, p * out_w + q]] = at;
                }
            }
        }
    }
    x.reshape(&[n, c, h * w])
        .gather(2, &argmax)
        .reshape(&[n, c, out_h, out_w])
}
