//! Batch normalisation (Ioffe & Szegedy, 2015) over the channel axis, with PyTorch's semantics.
//!
//! For an input of shape `(N, C)` or `(N, C, …)` — `(N, C, H, W)` after a convolution —
//! statistics are taken per channel `c` over every other axis (`m = N·H·W` elements for an
//! image batch):
//!
//! * training mode: `y = (x − μ_B) / √(σ²_B + ε) · γ + β` with the batch mean `μ_B` and the
//!   biased batch variance `σ²_B = Σ (x − μ_B)² / m`; the running statistics are updated as
//!   `running ← (1 − momentum) · running + momentum · batch`, using the *unbiased* variance
//!   `Σ (x − μ_B)² / (m − 1)` for `running_var`, and `num_batches_tracked` counts the updates.
//!   With no momentum ([`BatchNorm::with_cumulative_average`], PyTorch's `momentum=None`) the
//!   factor is `1 / num_batches_tracked`: the running statistics are the plain averages of the
//!   batch statistics seen so far;
//! * evaluation mode: the same with `running_mean` and `running_var` in place of the batch's.
//!
//! Defaults: `momentum = 0.1`, `ε = 1e-5`, `γ = 1`, `β = 0`, `running_mean = 0`, `running_var = 1`.
//! Names as PyTorch's: `weight` (γ), `bias` (β), `running_mean`, `running_var`,
//! `num_batches_tracked` (the last three are buffers, saved in checkpoints, not trained).

use autograd::{Float, Tensor, Var};
use ndarray::ArrayD;

use super::Module;
use crate::{Bound, ParamId, Path};

/// BatchNorm over axis 1 (PyTorch's `BatchNorm1d`/`BatchNorm2d`).
///
/// ```
/// use autograd::prelude::*;
/// use wengert_nn::{BatchNorm, Module, ParamStore};
/// let mut store = ParamStore::<f64>::new();
/// let bn = BatchNorm::new(&mut store.root().sub("bn"), 2);
/// let x = Var::constant(ndarray::array![[1.0, 10.0], [3.0, 30.0]]);
/// let y = bn.forward(&store.constants(), &x); // training mode
/// assert!((y.value()[[0, 0]] + 1.0).abs() < 1e-4);
/// // running_mean ← 0.9 · 0 + 0.1 · batch mean
/// assert_eq!(store.value(bn.running_mean)[[1]], 2.0);
/// ```
#[derive(Clone, Debug)]
pub struct BatchNorm {
    pub weight: ParamId,
    pub bias: ParamId,
    pub running_mean: ParamId,
    pub running_var: ParamId,
    pub num_batches_tracked: ParamId,
    pub channels: usize,
    /// The factor of the running-statistics update; `None`: the cumulative average.
    pub momentum: Option<f64>,
    pub eps: f64,
    /// The input rank the layer accepts (`Some(4)` for [`BatchNorm::new_2d`]); `None`: any ≥ 2.
    pub rank: Option<usize>,
}

impl BatchNorm {
    /// A batch norm over `channels` channels with PyTorch's defaults.
    pub fn new<T: Float>(path: &mut Path<'_, T>, channels: usize) -> Self {
        BatchNorm {
            weight: path.param("weight", ArrayD::<T>::ones(vec![channels])),
            bias: path.param("bias", ArrayD::<T>::zeros(vec![channels])),
            running_mean: path.buffer("running_mean", ArrayD::<T>::zeros(vec![channels])),
            running_var: path.buffer("running_var", ArrayD::<T>::ones(vec![channels])),
            num_batches_tracked: path.buffer("num_batches_tracked", ndarray::arr0(T::zero())),
            channels,
            momentum: Some(0.1),
            eps: 1e-5,
            rank: None,
        }
    }

    /// PyTorch's `BatchNorm2d`: as [`BatchNorm::new`], for inputs `(N, C, H, W)` only, with
    /// statistics per channel over `(N, H, W)`.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::{BatchNorm, Module, ParamStore};
    /// let mut store = ParamStore::<f64>::new();
    /// let bn = BatchNorm::new_2d(&mut store.root().sub("bn"), 2);
    /// let x = Var::constant(ndarray::Array4::from_shape_fn((2, 2, 3, 3), |(n, c, i, j)| (n + 10 * c + i * j) as f64));
    /// bn.forward(&store.constants(), &x);
    /// assert_eq!(store.value(bn.num_batches_tracked)[[]], 1.0);
    /// ```
    pub fn new_2d<T: Float>(path: &mut Path<'_, T>, channels: usize) -> Self {
        BatchNorm {
            rank: Some(4),
            ..Self::new(path, channels)
        }
    }

    /// Sets the momentum of the running statistics.
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = Some(momentum);
        self
    }

    /// No momentum (PyTorch's `momentum=None`): the running statistics become the cumulative
    /// average of the batch statistics, with factor `1 / num_batches_tracked`.
    pub fn with_cumulative_average(mut self) -> Self {
        self.momentum = None;
        self
    }

    /// Sets `ε`.
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
}

impl<T: Float> Module<T> for BatchNorm {
    fn forward(&self, params: &Bound<'_, T>, x: &Var<T>) -> Var<T> {
        if self.rank == Some(4) && (x.ndim() != 4 || x.shape()[1] != self.channels) {
            panic!(
                "batch_norm2d: expected input (N, {}, H, W), found shape {:?}",
                self.channels,
                x.shape()
            );
        }
        if x.ndim() < 2 || x.shape()[1] != self.channels {
            panic!(
                "batch_norm: expected input (N, {}, …), found shape {:?}",
                self.channels,
                x.shape()
            );
        }
        // Per-channel parameters broadcast as (C, 1, …, 1) against (N, C, …).
        let mut channel_shape = vec![1; x.ndim() - 1];
        channel_shape[0] = self.channels;
        let reduce: Vec<isize> = (0..x.ndim() as isize).filter(|&a| a != 1).collect();
        let eps = T::from_f64(self.eps);
        let store = params.store();

        let (mean, variance) = if params.is_training() {
            let count: usize = x.size() / self.channels;
            if count < 2 {
                panic!(
                    "batch_norm: training needs more than one value per channel, found shape {:?}",
                    x.shape()
                );
            }
            let mean = x.mean(&reduce, true);
            let biased = x.variance(&reduce, 0, true);
            let batches = store.value(self.num_batches_tracked)[[]] + T::one();
            store.set(self.num_batches_tracked, ndarray::arr0(batches));
            let momentum = match self.momentum {
                Some(momentum) => T::from_f64(momentum),
                None => T::one() / batches,
            };
            let keep = T::one() - momentum;
            let unbiased_factor = T::from_f64(count as f64 / (count - 1) as f64);
            let batch_mean = mean.value().to_shape(self.channels).unwrap().to_owned();
            let batch_var =
                biased.value().to_shape(self.channels).unwrap().to_owned() * unbiased_factor;
            let running_mean =
                store.value(self.running_mean).mapv(|r| r * keep) + batch_mean * momentum;
            let running_var =
                store.value(self.running_var).mapv(|r| r * keep) + batch_var * momentum;
            store.set(self.running_mean, running_mean);
            store.set(self.running_var, running_var);
            (mean, biased)
        } else {
            let reshape = |id: ParamId| {
                Var::constant(
                    store
                        .value(id)
                        .to_shape(channel_shape.clone())
                        .unwrap()
                        .to_owned(),
                )
            };
            (reshape(self.running_mean), reshape(self.running_var))
        };

        let normalised = (x - &mean) / variance.add_scalar(eps).sqrt();
        normalised * &params[self.weight].reshape(&channel_shape)
            + &params[self.bias].reshape(&channel_shape)
    }
}
