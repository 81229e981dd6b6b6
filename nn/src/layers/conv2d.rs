//! The 2-D convolution layer `Y = conv(X, W) + b`, with PyTorch's `Conv2d` semantics, parameter
//! names and initialisation.
//!
//! For `X` of shape `(N, C_in, H, W)`, a weight `W` of shape `(C_out, C_in/G, kh, kw)` and a
//! bias `b` of shape `(C_out)`:
//!
//! ```text
//! Y[n, o, p, q] = b[o] + Σ_{c, i, j} W[o, c, i, j] · X[n, g·C_in/G + c, p·s_h − pad_h + i·d_h, q·s_w − pad_w + j·d_w]
//! ```
//!
//! (the convolution and its gradients are [`autograd::conv`]'s, computed as im2col + GEMM).
//! Initialisation as PyTorch: `W ~ U(−1/√fan_in, 1/√fan_in)` (Kaiming uniform with `a = √5`)
//! and `b ~ U(−1/√fan_in, 1/√fan_in)`, with `fan_in = C_in/G · kh · kw`.

use autograd::conv::{Conv2dOptions, conv2d};
use autograd::{Float, Tensor, Var};
use rand::Rng;

use super::Module;
use crate::{Bound, Init, ParamId, Path};

/// PyTorch's `nn.Conv2d`: parameters `weight` `(C_out, C_in/groups, kh, kw)` and optional
/// `bias` `(C_out)`.
///
/// ```
/// use rand::SeedableRng;
/// use autograd::conv::Conv2dOptions;
/// use autograd::prelude::*;
/// use wengert_nn::{Conv2d, Module, ParamStore};
///
/// let mut store = ParamStore::<f32>::new();
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let options = Conv2dOptions::default().padding(1).stride(2);
/// let conv = Conv2d::with_options(&mut store.root().sub("conv"), 3, 8, [3, 3], options, true, &mut rng);
/// assert_eq!(store.name(conv.weight), "conv.weight");
/// let x = Var::constant(ndarray::Array4::<f32>::ones((2, 3, 16, 16)));
/// assert_eq!(conv.forward(&store.constants(), &x).shape(), &[2, 8, 8, 8]);
/// ```
#[derive(Clone, Debug)]
pub struct Conv2d {
    pub weight: ParamId,
    pub bias: Option<ParamId>,
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel_size: [usize; 2],
    pub options: Conv2dOptions,
}

impl Conv2d {
    /// A `kernel_size × kernel_size` convolution with bias, stride 1, no padding, dilation 1,
    /// one group (PyTorch's defaults).
    pub fn new<T: Float>(
        path: &mut Path<'_, T>,
        in_channels: usize,
        out_channels: usize,
        kernel_size: usize,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let options = Conv2dOptions::default();
        let kernel_size = [kernel_size, kernel_size];
        Self::with_options(
            path,
            in_channels,
            out_channels,
            kernel_size,
            options,
            true,
            rng,
        )
    }

    /// A convolution with the given kernel size, stride, padding, dilation, groups and bias.
    ///
    /// # Panics
    /// If `groups` does not divide both channel counts, or a kernel size is 0.
    pub fn with_options<T: Float>(
        path: &mut Path<'_, T>,
        in_channels: usize,
        out_channels: usize,
        kernel_size: [usize; 2],
        options: Conv2dOptions,
        bias: bool,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let groups = options.groups;
        if groups == 0
            || !in_channels.is_multiple_of(groups)
            || !out_channels.is_multiple_of(groups)
        {
            panic!(
                "conv2d: groups = {groups} must divide both in_channels = {in_channels} and \
                 out_channels = {out_channels}"
            );
        }
        if kernel_size.contains(&0) {
            panic!("conv2d: kernel_size {kernel_size:?} must be positive");
        }
        let shape = [
            out_channels,
            in_channels / groups,
            kernel_size[0],
            kernel_size[1],
        ];
        let weight = path.param("weight", Init::TorchDefault.sample::<T>(&shape, rng));
        let fan_in = shape[1] * shape[2] * shape[3];
        let bias = bias.then(|| {
            let b = Init::TorchDefault.sample_with_fan_in::<T>(&[out_channels], fan_in, rng);
            path.param("bias", b)
        });
        Conv2d {
            weight,
            bias,
            in_channels,
            out_channels,
            kernel_size,
            options,
        }
    }

    /// `[H_out, W_out]` for an input of spatial size `[H, W]`.
    pub fn output_size(&self, input: [usize; 2]) -> [usize; 2] {
        self.options.output_size(input, self.kernel_size)
    }
}

impl<T: Float> Module<T> for Conv2d {
    fn forward(&self, params: &Bound<'_, T>, x: &Var<T>) -> Var<T> {
        if x.ndim() != 4 || x.shape()[1] != self.in_channels {
            panic!(
                "conv2d: expected input (N, {}, H, W), found shape {:?}",
                self.in_channels,
                x.shape()
            );
        }
        let y = conv2d(x, &params[self.weight], &self.options);
        match self.bias {
            Some(b) => y + params[b].reshape(&[1, self.out_channels, 1, 1]),
            None => y,
        }
    }
}
