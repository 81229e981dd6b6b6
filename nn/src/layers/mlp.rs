//! A multilayer perceptron: Linear layers with an activation between them.

use autograd::{Float, Var};
use rand::Rng;

use super::{Activation, Linear, Module};
use crate::{Bound, Init, Path};

/// `sizes = [d₀, d₁, …, d_L]` gives `L` linear layers; `h_{l+1} = σ(h_l W_lᵀ + b_l)` with the
/// hidden activation `σ` between layers and the output activation after the last.
///
/// Parameters are named as in PyTorch's `nn.Sequential(Linear, act, Linear, …)`:
/// `prefix.0.weight`, `prefix.2.weight`, …, so a state dict maps one to one.
///
/// ```
/// use rand::SeedableRng;
/// use autograd::prelude::*;
/// use wengert_nn::{Activation, Init, Mlp, Module, ParamStore};
///
/// let mut store = ParamStore::<f32>::new();
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let policy = Mlp::builder(&[4, 64, 64, 2])
///     .activation(Activation::Tanh)
///     .hidden_init(Init::Orthogonal { gain: 2f64.sqrt() })
///     .output_init(Init::Orthogonal { gain: 0.01 })
///     .build(&mut store.root().sub("policy"), &mut rng);
/// assert!(store.id("policy.4.weight").is_some());
/// let logits = policy.forward(&store.constants(), &Var::constant(ndarray::Array2::<f32>::zeros((8, 4))));
/// assert_eq!(logits.shape(), &[8, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct Mlp {
    pub layers: Vec<Linear>,
    pub activation: Activation,
    pub output_activation: Activation,
}

/// Options for an [`Mlp`].
#[derive(Clone, Debug)]
pub struct MlpBuilder {
    sizes: Vec<usize>,
    activation: Activation,
    output_activation: Activation,
    hidden_init: Init,
    output_init: Init,
    bias_init: Init,
}

impl Mlp {
    /// Starts an MLP with layer sizes `sizes` (input first); ReLU hidden activation, identity
    /// output, PyTorch's default initialisation.
    ///
    /// # Panics
    /// If fewer than two sizes are given.
    pub fn builder(sizes: &[usize]) -> MlpBuilder {
        if sizes.len() < 2 {
            panic!("mlp: needs at least an input and an output size, found {sizes:?}");
        }
        MlpBuilder {
            sizes: sizes.to_vec(),
            activation: Activation::Relu,
            output_activation: Activation::Identity,
            hidden_init: Init::TorchDefault,
            output_init: Init::TorchDefault,
            bias_init: Init::TorchDefault,
        }
    }
}

impl MlpBuilder {
    /// The activation between layers.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// The activation after the last layer.
    pub fn output_activation(mut self, activation: Activation) -> Self {
        self.output_activation = activation;
        self
    }

    /// The initialiser of the hidden layers' weights.
    pub fn hidden_init(mut self, init: Init) -> Self {
        self.hidden_init = init;
        self
    }

    /// The initialiser of the last layer's weight.
    pub fn output_init(mut self, init: Init) -> Self {
        self.output_init = init;
        self
    }

    /// The initialiser of every bias (PPO implementations use zeros).
    pub fn bias_init(mut self, init: Init) -> Self {
        self.bias_init = init;
        self
    }

    /// Registers the parameters under `path` and returns the model.
    pub fn build<T: Float>(self, path: &mut Path<'_, T>, rng: &mut (impl Rng + ?Sized)) -> Mlp {
        let count = self.sizes.len() - 1;
        let layers = self
            .sizes
            .windows(2)
            .enumerate()
            .map(|(l, pair)| {
                let init = if l + 1 == count {
                    self.output_init
                } else {
                    self.hidden_init
                };
                Linear::with_init(
                    &mut path.sub(2 * l),
                    pair[0],
                    pair[1],
                    init,
                    Some(self.bias_init),
                    rng,
                )
            })
            .collect();
        Mlp {
            layers,
            activation: self.activation,
            output_activation: self.output_activation,
        }
    }
}

impl<T: Float> Module<T> for Mlp {
    fn forward(&self, params: &Bound<'_, T>, x: &Var<T>) -> Var<T> {
        let last = self.layers.len() - 1;
        self.layers
            .iter()
            .enumerate()
            .fold(x.clone(), |h, (l, layer)| {
                let z = layer.forward(params, &h);
                if l == last {
                    self.output_activation.apply(&z)
                } else {
                    self.activation.apply(&z)
                }
            })
    }
}
