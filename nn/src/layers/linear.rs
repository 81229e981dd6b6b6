//! The affine layer `y = x Wᵀ + b`, with PyTorch's parameter layout (`W` is `out × in`).

use autograd::{Float, Tensor, Var};
use rand::Rng;

use super::Module;
use crate::{Bound, Init, ParamId, Path};

/// `y = x Wᵀ + b` for `x` of shape `(…, in)`; `W` has shape `(out, in)` (the transpose is a
/// stride swap handed to the matrix multiply, not a copy).
///
/// ```
/// use rand::SeedableRng;
/// use autograd::prelude::*;
/// use wengert_nn::{Linear, Module, ParamStore};
///
/// let mut store = ParamStore::<f32>::new();
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let layer = Linear::new(&mut store.root().sub("fc"), 3, 2, &mut rng);
/// assert_eq!(store.name(layer.weight), "fc.weight");
/// let y = layer.forward(&store.constants(), &Var::constant(ndarray::Array2::<f32>::ones((5, 3))));
/// assert_eq!(y.shape(), &[5, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct Linear {
    pub weight: ParamId,
    pub bias: Option<ParamId>,
    pub in_features: usize,
    pub out_features: usize,
}

impl Linear {
    /// A layer with PyTorch's default initialisation, `U(−1/√in, 1/√in)` for `W` and `b`.
    pub fn new<T: Float>(
        path: &mut Path<'_, T>,
        in_features: usize,
        out_features: usize,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        Self::with_init(
            path,
            in_features,
            out_features,
            Init::TorchDefault,
            Some(Init::TorchDefault),
            rng,
        )
    }

    /// A layer with the given initialisers (`bias: None` for no bias).
    pub fn with_init<T: Float>(
        path: &mut Path<'_, T>,
        in_features: usize,
        out_features: usize,
        weight: Init,
        bias: Option<Init>,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let w = weight.sample::<T>(&[out_features, in_features], rng);
        let weight = path.param("weight", w);
        let bias = bias.map(|init| {
            let b = init.sample_with_fan_in::<T>(&[out_features], in_features, rng);
            path.param("bias", b)
        });
        Linear {
            weight,
            bias,
            in_features,
            out_features,
        }
    }
}

impl<T: Float> Module<T> for Linear {
    // ANCHOR: linear_forward
    fn forward(&self, params: &Bound<'_, T>, x: &Var<T>) -> Var<T> {
        if x.shape().last() != Some(&self.in_features) {
            panic!(
                "linear: input of shape {:?} does not end in {} features",
                x.shape(),
                self.in_features
            );
        }
        let y = x.matmul(&params[self.weight].t());
        match self.bias {
            Some(b) => y + &params[b],
            None => y,
        }
    }
    // ANCHOR_END: linear_forward
}
