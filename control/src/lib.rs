//! # wengert-control — optimal control
//!
//! **Built so far:**
//! - [`lqr::finite_horizon`]: finite-horizon, time-varying LQR with affine dynamics
//!   `x_{t+1} = F_t [x_t; u_t] + f_t` and cost `Σ_t ½ [x_t;u_t]ᵀ C_t [x_t;u_t] + [x_t;u_t]ᵀ c_t`:
//!   the backward Riccati recursion for `Q, q, K, k, V, v` and the forward rollout, checked
//!   against a dense KKT solve (`tests/reference/lqr_finite_horizon.json`).
//! - [`lqr::riccati`]: infinite-horizon discrete-time LQR by Riccati iteration to a fixed point,
//!   with the gain `u = −K x` and the closed-loop spectral radius, checked against SciPy's
//!   `solve_discrete_are` (`tests/reference/dare.json`).
//! - [`linalg`]: the small dense linear algebra these need (Cholesky that reports a
//!   non-positive-definite pivot, triangular solves, Hessenberg reduction and Francis QR
//!   eigenvalues, spectral radius).
//!
//! **Not yet built:** iLQR and DDP (they wait for derivatives from `autograd`), MPC, random
//! shooting and cross-entropy planners, model-based RL.
//!
//! ```
//! use ndarray::array;
//! use wengert_control::lqr::{DareProblem, RiccatiOptions};
//!
//! // Double integrator with time step 0.1.
//! let problem = DareProblem::new(
//!     array![[1.0, 0.1], [0.0, 1.0]],
//!     array![[0.005], [0.1]],
//!     array![[1.0, 0.0], [0.0, 1.0]],
//!     array![[0.1]],
//! )
//! .unwrap();
//! let solution = problem.solve(&RiccatiOptions::default()).unwrap();
//! assert!(solution.spectral_radius < 1.0);
//! ```

pub mod ilqr;
pub mod linalg;
pub mod lqr;
pub mod planners;
pub mod systems;
