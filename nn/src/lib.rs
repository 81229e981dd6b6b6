//! # wengert-nn — neural networks on the wengert tape
//!
//! Parameters in a named store, layers (Linear, MLP, LayerNorm, BatchNorm), initialisers,
//! losses, probability distributions, optimisers and checkpoints, all differentiable through
//! [`autograd`] to second order where the math allows.
//!
//! **Status:** not yet built (issue 3). This crate holds no code yet; nothing here pretends to work.
