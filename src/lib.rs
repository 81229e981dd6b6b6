//! # wengert
//!
//! A from-scratch reverse-mode automatic-differentiation engine in Rust — the *Wengert list*
//! is the tape that reverse mode records and replays backwards — with neural networks,
//! reinforcement learning and optimal control built on it.
//!
//! This facade re-exports the workspace's crates:
//!
//! | crate | what it holds |
//! |---|---|
//! | [`autograd`] | the tape, differentiable ops, first- and higher-order gradients, `gradcheck` |
//! | [`nn`] | parameters, layers, losses, distributions, optimisers, checkpoints |
//! | [`rl`] | environments and reinforcement-learning agents |
//! | [`dynamics`] | the pendulum, cart-pole and acrobot equations of motion, shared by `rl` and `control` |
//! | [`control`] | LQR, iLQR/DDP, MPC and planners |
//!
//! [`plant`] adapts `rl`'s environments to `control`'s [`control::plant::Plant`].

pub mod allocator;
pub mod plant;

pub use autograd;
pub use control;
pub use dynamics;
pub use nn;
pub use rl;
