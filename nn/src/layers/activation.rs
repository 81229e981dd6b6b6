//! Elementwise activation functions, as a value (so a builder can take one).

use autograd::{Float, Tensor, Var};

use super::Module;
use crate::Bound;

/// An elementwise nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `x`.
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// `tanh x`.
    Tanh,
    /// `1 / (1 + e⁻ˣ)`.
    Sigmoid,
    /// `x` if `x > 0`, else `α (eˣ − 1)`.
    Elu(f64),
    /// `x` if `x > 0`, else `slope · x`.
    LeakyRelu(f64),
    /// `ln(1 + eˣ)`.
    Softplus,
}

impl Activation {
    /// Applies the activation.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::Activation;
    /// let x = Var::constant(ndarray::array![-1.0, 2.0]);
    /// assert_eq!(Activation::Relu.apply(&x).value()[0], 0.0);
    /// ```
    pub fn apply<T: Float>(&self, x: &Var<T>) -> Var<T> {
        match *self {
            Activation::Identity => x.clone(),
            Activation::Relu => x.relu(),
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Elu(alpha) => x.elu(T::from_f64(alpha)),
            Activation::LeakyRelu(slope) => x.leaky_relu(T::from_f64(slope)),
            Activation::Softplus => x.softplus(),
        }
    }

    /// The recommended gain for initialising the layer before this activation (PyTorch's
    /// `calculate_gain`): `5/3` for tanh, `√2` for ReLU, 1 otherwise.
    pub fn gain(&self) -> f64 {
        match *self {
            Activation::Tanh => 5.0 / 3.0,
            Activation::Relu => 2f64.sqrt(),
            Activation::LeakyRelu(slope) => (2.0 / (1.0 + slope * slope)).sqrt(),
            _ => 1.0,
        }
    }
}

impl<T: Float> Module<T> for Activation {
    fn forward(&self, _: &Bound<'_, T>, x: &Var<T>) -> Var<T> {
        self.apply(x)
    }
}
