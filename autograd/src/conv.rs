//! # 2-D convolution, differentiable to any order
//!
//! For an input `X` of shape `(N, C_in, H, W)` and a weight `W` of shape
//! `(C_out, C_in/G, kh, kw)` in `G` groups, PyTorch's `conv2d` (a cross-correlation) is
//!
//! ```text
//! Y[n, o, p, q] = Σ_{c < C_in/G} Σ_{i < kh} Σ_{j < kw} W[o, c, i, j] · X[n, g·C_in/G + c, p·s_h − pad_h + i·d_h, q·s_w − pad_w + j·d_w]
//! ```
//!
//! with `g = ⌊o / (C_out/G)⌋`, `X` read as 0 outside the image, and output size
//! `H_out = ⌊(H + 2 pad_h − d_h (kh − 1) − 1) / s_h⌋ + 1` (the same for `W_out`).
//!
//! `Y = conv(X, W)` is bilinear, so its vector-Jacobian products are again linear maps of the
//! same kind, and the three of them close under differentiation:
//!
//! | function | value | VJP for the cotangent `Z̄` of its value |
//! |---|---|---|
//! | `conv(X, W)` | `Y` | `X̄ = conv_input_grad(Z̄, W)`, `W̄ = conv_weight_grad(X, Z̄)` |
//! | `conv_input_grad(Ȳ, W)` | `∂⟨Ȳ, conv(X, W)⟩/∂X` (the transposed convolution) | `Ȳ̄ = conv(Z̄, W)`, `W̄ = conv_weight_grad(Z̄, Ȳ)` |
//! | `conv_weight_grad(X, Ȳ)` | `∂⟨Ȳ, conv(X, W)⟩/∂W` | `X̄ = conv_input_grad(Ȳ, Z̄)`, `Ȳ̄ = conv(X, Z̄)` |
//!
//! Each row is the adjoint identity `⟨conv_input_grad(Ȳ, W), X⟩ = ⟨Ȳ, conv(X, W)⟩ =
//! ⟨conv_weight_grad(X, Ȳ), W⟩` differentiated once more. So grad-of-grad, Hessian-vector
//! products and [`gradgradcheck`](crate::gradgradcheck()) go through a convolution like any op.
//! All three run as matrix products (im2col + the engine's GEMM, `autograd/src/backend/conv.rs`).
//!
//! ```
//! use ndarray::Array4;
//! use wengert_autograd::conv::{Conv2dOptions, conv2d};
//! use wengert_autograd::prelude::*;
//!
//! let tape = Tape::<f64>::new();
//! let x = tape.var(Array4::from_shape_fn((1, 1, 3, 3), |(_, _, i, j)| (3 * i + j) as f64));
//! let w = tape.var(Array4::from_elem((1, 1, 2, 2), 1.0)); // sums each 2×2 window
//! let y = conv2d(&x, &w, &Conv2dOptions::default());
//! assert_eq!(y.shape(), &[1, 1, 2, 2]);
//! assert_eq!(y.value()[[0, 0, 0, 0]], 0.0 + 1.0 + 3.0 + 4.0);
//! let grads = y.sum_all().backward();
//! assert_eq!(grads[&x][[0, 0, 1, 1]], 4.0); // the centre pixel is in all four windows
//! ```

use ndarray::{ArrayView4, Ix4};

use crate::backend::{self, Geometry};
use crate::custom::Function;
use crate::{Float, SharedArray, Tensor, Var};

/// Stride, padding and dilation (`[height, width]`) and groups of a convolution, as PyTorch's
/// `Conv2d` takes them. The default is PyTorch's: stride 1, no padding, dilation 1, one group.
///
/// ```
/// use wengert_autograd::conv::Conv2dOptions;
/// let options = Conv2dOptions::default().stride(2).padding(1);
/// assert_eq!(options.output_size([16, 16], [3, 3]), [8, 8]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dOptions {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
}

impl Default for Conv2dOptions {
    fn default() -> Self {
        Conv2dOptions {
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

impl Conv2dOptions {
    /// The same stride along both axes.
    pub fn stride(mut self, stride: usize) -> Self {
        self.stride = [stride, stride];
        self
    }

    /// The same zero padding on both axes.
    pub fn padding(mut self, padding: usize) -> Self {
        self.padding = [padding, padding];
        self
    }

    /// The same dilation along both axes.
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.dilation = [dilation, dilation];
        self
    }

    /// The number of groups.
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// `[H_out, W_out]` for an input of size `[H, W]` and a kernel `[kh, kw]`:
    /// `⌊(H + 2 pad − d (k − 1) − 1) / s⌋ + 1`.
    ///
    /// # Panics
    /// If the dilated kernel is larger than the padded input, or a stride or dilation is 0.
    pub fn output_size(&self, input: [usize; 2], kernel: [usize; 2]) -> [usize; 2] {
        match self.checked_output_size(input, kernel) {
            Ok(size) => size,
            Err(message) => panic!("conv2d: {message}"),
        }
    }

    fn checked_output_size(
        &self,
        input: [usize; 2],
        kernel: [usize; 2],
    ) -> Result<[usize; 2], String> {
        if self.stride.contains(&0) || self.dilation.contains(&0) {
            return Err(format!(
                "stride {:?} and dilation {:?} must be positive",
                self.stride, self.dilation
            ));
        }
        let padded = [
            input[0] + 2 * self.padding[0],
            input[1] + 2 * self.padding[1],
        ];
        let reach = |a: usize| self.dilation[a] * (kernel[a].max(1) - 1) + 1;
        if kernel.contains(&0) || reach(0) > padded[0] || reach(1) > padded[1] {
            return Err(format!(
                "the kernel {kernel:?} (dilated to {:?}) is larger than the padded input {padded:?} \
                 (input {input:?}, padding {:?}); expected a kernel of at most the padded input size",
                [reach(0), reach(1)],
                self.padding
            ));
        }
        Ok([0, 1].map(|a| (padded[a] - reach(a)) / self.stride[a] + 1))
    }

    /// The sizes of `conv(x, w)`, or a message naming what does not fit.
    fn geometry(&self, x: &[usize], w: &[usize]) -> Result<Geometry, String> {
        let (x, w) = match (x, w) {
            (&[_, c_in, h, wi], &[c_out, c_per_group, kh, kw]) => {
                ([c_in, h, wi], [c_out, c_per_group, kh, kw])
            }
            _ => {
                return Err(format!(
                    "expected input (N, C_in, H, W) and weight (C_out, C_in/groups, kH, kW), \
                     found input {x:?} and weight {w:?}"
                ));
            }
        };
        let [c_in, h, wi] = x;
        let [c_out, c_per_group, kh, kw] = w;
        let groups = self.groups;
        if groups == 0 || c_in % groups != 0 || c_out % groups != 0 {
            return Err(format!(
                "groups = {groups} must divide both in_channels = {c_in} and out_channels = {c_out}"
            ));
        }
        if c_per_group * groups != c_in {
            return Err(format!(
                "the weight {w:?} with groups = {groups} expects an input with {} channels, \
                 found {c_in} channels (input (·, {c_in}, {h}, {wi}))",
                c_per_group * groups
            ));
        }
        let output = self.checked_output_size([h, wi], [kh, kw])?;
        Ok(Geometry {
            c_in,
            c_out,
            input: [h, wi],
            kernel: [kh, kw],
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
            groups,
            output,
        })
    }
}

/// `Y = conv(X, W)` (PyTorch's `F.conv2d(x, w, stride, padding, dilation, groups)`, without the
/// bias: add it as `y + b.reshape([1, C_out, 1, 1])`). `x` is `(N, C_in, H, W)`, `w` is
/// `(C_out, C_in/groups, kh, kw)`; the result is `(N, C_out, H_out, W_out)`.
///
/// # Panics
/// With a message naming the expected and the found shapes, if the ranks are not 4, `groups`
/// does not divide the channels, the weight's channels do not match the input's, or the
/// (dilated) kernel is larger than the padded input.
pub fn conv2d<T: Float>(x: &Var<T>, w: &Var<T>, options: &Conv2dOptions) -> Var<T> {
    match options.geometry(x.shape(), w.shape()) {
        Ok(geometry) => convolution(x, w, geometry),
        Err(message) => panic!("conv2d: {message}"),
    }
}

/// `X̄ = conv_input_grad(Ȳ, W)`: the gradient of `⟨Ȳ, conv(X, W)⟩` with respect to `X` of
/// spatial size `input` (PyTorch's `conv_transpose2d` with the matching `output_padding`).
///
/// # Panics
/// As [`conv2d`], for the shapes `conv2d` would take and give.
pub fn conv2d_input_grad<T: Float>(
    gradient: &Var<T>,
    w: &Var<T>,
    input: [usize; 2],
    options: &Conv2dOptions,
) -> Var<T> {
    let g = gradient.shape();
    let x_shape = [
        g.first().copied().unwrap_or(0),
        w.shape().get(1).copied().unwrap_or(0) * options.groups,
        input[0],
        input[1],
    ];
    let geometry = options
        .geometry(&x_shape, w.shape())
        .unwrap_or_else(|message| panic!("conv2d_input_grad: {message}"));
    let expected = [
        x_shape[0],
        geometry.c_out,
        geometry.output[0],
        geometry.output[1],
    ];
    if g != expected {
        panic!("conv2d_input_grad: expected a gradient of shape {expected:?}, found {g:?}");
    }
    input_grad(gradient, w, geometry)
}

fn view4<T: Float>(a: &SharedArray<T>) -> ArrayView4<'_, T> {
    a.view()
        .into_dimensionality::<Ix4>()
        .expect("shapes were checked on entry")
}

fn convolution<T: Float>(x: &Var<T>, w: &Var<T>, geometry: Geometry) -> Var<T> {
    Function::new("conv2d", move |v, _| {
        let y = backend::conv2d(view4(&v[0]), view4(&v[1]), &geometry);
        vec![y.into_dyn().into_shared()]
    })
    .with_vjp(move |c| {
        let (x, w, y_bar) = (&c.inputs[0], &c.inputs[1], &c.cotangents[0]);
        vec![
            c.needs[0].then(|| input_grad(y_bar, w, geometry)),
            c.needs[1].then(|| weight_grad(x, y_bar, geometry)),
        ]
    })
    .apply(&[x, w], &[])
    .remove(0)
}

fn input_grad<T: Float>(y_bar: &Var<T>, w: &Var<T>, geometry: Geometry) -> Var<T> {
    Function::new("conv2d_input_grad", move |v, _| {
        let x_bar = backend::conv2d_input_grad(view4(&v[0]), view4(&v[1]), &geometry);
        vec![x_bar.into_dyn().into_shared()]
    })
    .with_vjp(move |c| {
        let (y_bar, w, z_bar) = (&c.inputs[0], &c.inputs[1], &c.cotangents[0]);
        vec![
            c.needs[0].then(|| convolution(z_bar, w, geometry)),
            c.needs[1].then(|| weight_grad(z_bar, y_bar, geometry)),
        ]
    })
    .apply(&[y_bar, w], &[])
    .remove(0)
}

fn weight_grad<T: Float>(x: &Var<T>, y_bar: &Var<T>, geometry: Geometry) -> Var<T> {
    Function::new("conv2d_weight_grad", move |v, _| {
        let w_bar = backend::conv2d_weight_grad(view4(&v[0]), view4(&v[1]), &geometry);
        vec![w_bar.into_dyn().into_shared()]
    })
    .with_vjp(move |c| {
        let (x, y_bar, z_bar) = (&c.inputs[0], &c.inputs[1], &c.cotangents[0]);
        vec![
            c.needs[0].then(|| input_grad(y_bar, z_bar, geometry)),
            c.needs[1].then(|| convolution(x, z_bar, geometry)),
        ]
    })
    .apply(&[x, y_bar], &[])
    .remove(0)
}
