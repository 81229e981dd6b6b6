//! Layer normalisation (Ba, Kiros & Hinton, 2016) over the last axis.

use autograd::{Float, Tensor, Var};
use ndarray::ArrayD;

use super::Module;
use crate::{Bound, ParamId, Path};

/// `y = (x − μ) / √(σ² + ε) · γ + β`, with `μ`, `σ²` the mean and (population) variance over
/// the last axis of size `features`, `γ = 1`, `β = 0` initially, `ε = 1e-5` (PyTorch's).
///
/// ```
/// use autograd::prelude::*;
/// use wengert_nn::{LayerNorm, Module, ParamStore};
/// let mut store = ParamStore::<f64>::new();
/// let norm = LayerNorm::new(&mut store.root().sub("ln"), 3);
/// let y = norm.forward(&store.constants(), &Var::constant(ndarray::array![[1.0, 2.0, 3.0]]));
/// assert!(y.value().sum().abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct LayerNorm {
    pub weight: ParamId,
    pub bias: ParamId,
    pub features: usize,
    pub eps: f64,
}

impl LayerNorm {
    /// A layer norm over a last axis of size `features`.
    pub fn new<T: Float>(path: &mut Path<'_, T>, features: usize) -> Self {
        LayerNorm {
            weight: path.param("weight", ArrayD::<T>::ones(vec![features])),
            bias: path.param("bias", ArrayD::<T>::zeros(vec![features])),
            features,
            eps: 1e-5,
        }
    }
}

impl<T: Float> Module<T> for LayerNorm {
    fn forward(&self, params: &Bound<'_, T>, x: &Var<T>) -> Var<T> {
        if x.shape().last() != Some(&self.features) {
            panic!(
                "layer_norm: input of shape {:?} does not end in {} features",
                x.shape(),
                self.features
            );
        }
        let mean = x.mean(&[-1], true);
        let variance = x.variance(&[-1], 0, true);
        let normalised = (x - &mean) / variance.add_scalar(T::from_f64(self.eps)).sqrt();
        normalised * &params[self.weight] + &params[self.bias]
    }
}
