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
//! - [`systems`]: pendulum, cart-pole, acrobot and double integrator, their continuous
//!   dynamics on autograd variables and the RK4 step. The pendulum's, cart-pole's and
//!   acrobot's equations of motion are the `dynamics` crate's, written once for this crate and
//!   for `rl`'s Gymnasium environments; `control` does not depend on `rl` ([`plant`]).
//! - [`ilqr`]: iLQR and DDP for nonlinear dynamics and costs given as closures on autograd
//!   variables; every derivative (`f_x, f_u, ℓ_x, ℓ_u, ℓ_xx, ℓ_ux, ℓ_uu`, and DDP's
//!   `V_x · f_zz`) comes from autograd over one tape per time step. The backward pass is the LQR
//!   recursion above ([`lqr::action_value`], [`lqr::minimise_action_value`],
//!   [`lqr::value_update`]), with Levenberg–Marquardt regularisation on a schedule, a
//!   projected-Newton box QP for control limits, a line search accepted on actual vs expected
//!   reduction, and convergence on the expected improvement and the projected gradient.
//! - [`planners`]: one [`planners::Planner`] interface (a policy for the `rl` crate) for
//!   receding-horizon MPC over iLQR (warm-started from the shifted plan), random shooting and
//!   the cross-entropy method.
//!
//! - [`constrained`]: path equality `h(x_t, u_t) = 0`, path inequality `g(x_t, u_t) ≤ 0`
//!   (obstacles, control bounds) and terminal `h_T(x_N) = 0` (a goal) on the same problems,
//!   solved by augmented-Lagrangian iLQR (trajax's `constrained_ilqr`, ALTRO) and by dual
//!   gradient descent, both with the existing iLQR inside and the constraint derivatives from
//!   autograd; checked on trajax's constrained car at violation 1e-6.
//! - [`collocation`]: direct collocation (Euler, trapezoidal, Hermite–Simpson defects as
//!   equality constraints on all knots), solved by the augmented Lagrangian with Newton steps
//!   on a banded Cholesky ([`linalg::BandedCholesky`]); checked against Drake's collocation
//!   tests and against shooting.
//!
//! - [`gps`]: from trajectory optimisation to an MLP policy — guided policy search with the
//!   augmented Lagrangian (iLQR on `c(τ) + λᵀ(u − π_θ(x)) + ρ/2 ‖u − π_θ(x)‖²`, regression of
//!   `π_θ`, `λ ← λ + ρ(u − π_θ(x))`, several starts and one policy), and DAgger against
//!   behaviour cloning with any expert.
//!
//! - [`model_based`]: model-based RL after Nagabandi et al. (2018): an MLP dynamics model
//!   `f̂(s, a) = s + Δ(s, a)` on normalised inputs and outputs, planned with by CEM through the
//!   [`ilqr::Problem`] interface, its data aggregated DAgger-style from the controller's own
//!   episodes in an `rl` environment; and a policy trained by backpropagating through the learned
//!   model (analytic policy gradient), checked against LQR.
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

pub mod collocation;
pub mod constrained;
pub mod gps;
pub mod ilqr;
pub mod linalg;
pub mod lqr;
pub mod model_based;
pub mod planners;
pub mod plant;
pub mod systems;
