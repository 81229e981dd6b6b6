//! # wengert-control — optimal control
//!
//! **Built so far:**
//! - [`linalg`]: the small dense linear algebra the controllers need (Cholesky, triangular
//!   solves, Hessenberg reduction and QR eigenvalues, spectral radius).
//!
//! **Not yet built:** iLQR and DDP (they wait for `autograd`), MPC, sampling planners,
//! model-based RL.

pub mod linalg;
