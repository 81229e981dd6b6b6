//! # wengert-nn — neural networks on the wengert tape
//!
//! Parameters live in a named [`ParamStore`]; a training step binds it to a tape, runs a
//! [`Module`], and takes gradients of the loss with respect to every trainable parameter:
//!
//! ```
//! use rand::SeedableRng;
//! use autograd::prelude::*;
//! use wengert_nn::{Activation, Mlp, Module, ParamStore};
//!
//! let mut store = ParamStore::<f64>::new();
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let net = Mlp::builder(&[2, 8, 1]).activation(Activation::Tanh).build(&mut store.root().sub("net"), &mut rng);
//! let x = Var::constant(ndarray::array![[0.5, -1.0], [1.0, 2.0]]);
//! let tape = Tape::new();
//! let params = store.bind(&tape);
//! let loss = net.forward(&params, &x).powi(2).mean_all();
//! let grads = params.gradients(&loss);
//! assert_eq!(grads.iter().count(), 4); // two weights, two biases
//! ```
//!
//! Everything is differentiable through the tape to second order where the math allows.
//!
//! [`optim`] updates the store from those gradients (SGD, Adam, AdamW, RMSprop with parameter
//! groups, gradient transforms and schedules; natural gradient with conjugate gradient), and
//! [`checkpoint`] saves and loads it, with optimiser state, as safetensors.

pub mod checkpoint;
pub mod distributions;
pub mod init;
pub mod layers;
pub mod losses;
pub mod optim;
mod params;

pub use init::Init;
pub use layers::{
    Activation, BatchNorm, Conv2d, Flatten, GRU, GRUCell, LSTM, LSTMCell, LSTMState, LayerNorm,
    Linear, MaxPool2d, Mlp, MlpBuilder, Module,
};
pub use params::{Bound, Kind, ParamGradients, ParamId, ParamStore, Path};
