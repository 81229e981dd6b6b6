//! # wengert-control — optimal control
//!
//! Finite- and infinite-horizon LQR, iLQR and DDP with derivatives from [`autograd`], MPC and
//! sampling planners, and model-based RL.
//!
//! **Status:** not yet built (issue 4). This crate holds no code yet; nothing here pretends to work.
