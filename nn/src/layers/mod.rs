//! Layers: functions of an input and of parameters held in a [`ParamStore`](crate::ParamStore).

mod activation;
mod batch_norm;
mod conv2d;
mod gru;
mod layer_norm;
mod linear;
mod lstm;
mod mlp;
mod pool;
pub mod recurrent;

pub use activation::Activation;
pub use batch_norm::BatchNorm;
pub use conv2d::Conv2d;
pub use gru::{GRU, GRUCell};
pub use layer_norm::LayerNorm;
pub use linear::Linear;
pub use lstm::{LSTM, LSTMCell, LSTMState};
pub use mlp::{Mlp, MlpBuilder};
pub use pool::{Flatten, MaxPool2d};

use autograd::{Float, Var};

use crate::Bound;

/// A layer or model: `y = f(x; θ)` with `θ` read from the bound parameters.
pub trait Module<T: Float> {
    /// Applies the module to `x`.
    fn forward(&self, params: &Bound<'_, T>, x: &Var<T>) -> Var<T>;
}
