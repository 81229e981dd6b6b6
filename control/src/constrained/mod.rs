//! Constrained trajectory optimisation by shooting: the augmented Lagrangian around iLQR
//! (as trajax's `constrained_ilqr` and ALTRO), and dual gradient descent.
//!
//! ## Background
//!
//! The problem of [`crate::ilqr`] with constraints added ([`Constraints`]):
//!
//! $$ \min_u J(u) = \sum_{t<N} \ell(x_t, u_t) + \ell_T(x_N) \quad \text{subject to} \quad x_{t+1} = f(x_t, u_t) , \ x_0 \text{ given} , $$
//! $$ h(x_t, u_t) = 0 , \quad g(x_t, u_t) \le 0 \quad (t < N) , \quad h_T(x_N) = 0 . $$
//!
//! Shooting keeps the dynamics by rolling them out, so only `u` is optimised and the
//! constraints are the only thing left to handle. Both methods here move them into the cost
//! with Lagrange multipliers and solve a sequence of *unconstrained* problems with the existing
//! iLQR (no second solver): the cost at step `t` gains the terms of the multipliers `λ_t, μ_t`
//! through [`crate::ilqr::Problem::with_stage_cost`], and autograd differentiates those terms
//! together with the cost — no Jacobian of a constraint is written by hand.
//!
//! **Dual gradient descent** (Boyd & Vandenberghe 2004, §5; Uzawa's method) treats the
//! Lagrangian `L(u; λ, μ) = J + Σ_t (λ_tᵀ h_t + μ_tᵀ g_t) + λ_Tᵀ h_T` as a function of the
//! multipliers: the dual function `d(λ, μ) = min_u L(u; λ, μ)` is concave, and by Danskin's
//! theorem its gradient is the constraint values at the minimiser. So: minimise the
//! Lagrangian, then step the multipliers along the violation. It needs `L` to have a minimiser
//! for every `λ` and a step `α` below `2 / (curvature of d)`, and it converges linearly at best.
//!
//! **The augmented Lagrangian** (Hestenes 1969, Powell 1969; Nocedal & Wright 2006, §17.3–4)
//! minimises `L` plus a quadratic penalty `ρ/2 ‖constraint‖²`. For `ρ` large enough the
//! minimiser is the constrained optimum as soon as the multipliers are right, and the multiplier
//! update is dual ascent on the *penalised* problem with step `ρ`: the step size is no longer a
//! guess, and the penalty makes the inner problem well posed even where `L` alone is not. The
//! penalty grows only while the violation fails to fall fast enough, so `ρ` stays moderate and
//! iLQR's inner problems stay well conditioned (Conn, Gould & Toint 1991; ALTRO, Howell,
//! Jackson & Manchester 2019). trajax's `constrained_ilqr` is the same scheme with `ρ` always
//! multiplied by 10.
//!
//! ## Key equations
//!
//! With $\varphi_\rho(h; \lambda) = \lambda^{\top} h + \tfrac{\rho}{2} \Vert h \Vert^2$ and
//! $\psi_\rho(g; \mu) = \big(\Vert \max(0, \mu + \rho g) \Vert^2 - \Vert \mu \Vert^2\big) / (2\rho)$
//! ([`Constraints::knot_terms`]), the augmented Lagrangian is, with $x$ rolled out from $u$,
//!
//! $$ L_\rho(u; \lambda, \mu) = \sum_{t<N} \Big[ \ell(x_t, u_t) + \varphi_\rho\big(h(x_t, u_t); \lambda_t\big) + \psi_\rho\big(g(x_t, u_t); \mu_t\big) \Big] +
//!    \ell_T(x_N) + \varphi_\rho\big(h_T(x_N); \lambda_T\big) , $$
//!
//! and `L_0 = L`. After minimising it, the updates are
//!
//! ```text
//! augmented Lagrangian:   λ_t ← λ_t + ρ h_t,   μ_t ← max(0, μ_t + ρ g_t),   λ_T ← λ_T + ρ h_T
//!                         ρ ← min(φ ρ, ρ_max)   if  violation > max(ε_c, η · previous violation)
//! dual gradient descent:  λ_t ← λ_t + α h_t,   μ_t ← max(0, μ_t + α g_t),   λ_T ← λ_T + α h_T
//! ```
//!
//! Since `∇_u L_ρ(u; λ, μ) = ∇_u L(u; λ⁺, μ⁺)` at the updated multipliers, a converged inner
//! solve leaves the Lagrangian stationary. The stopping rule is the KKT conditions:
//!
//! ```text
//! violation       max(‖h‖_∞, max g⁺, ‖h_T‖_∞)            ≤ ε_c
//! complementarity max_i |min(−g_i, μ_i)|                  ≤ ε_c
//! stationarity    max_t ‖∇_{u_t} L(u; λ, μ)‖_∞            ≤ ε_s   (costate recursion, as in iLQR)
//! ```
//!
//! ## Pseudocode
//!
//! ```text
//! λ, μ ← 0;  ρ ← ρ₀;  u ← initial controls
//! repeat:
//!     u ← iLQR(L_ρ(·; λ, μ)), warm-started at u          (ρ = 0 for dual gradient descent)
//!     evaluate h, g, h_T along (x, u)
//!     update λ, μ (step ρ, or α);  log violation, multipliers, stationarity
//!     if violation, complementarity ≤ ε_c and stationarity ≤ ε_s: stop
//!     raise ρ if the violation fell by less than η              (augmented Lagrangian only)
//! ```
//!
//! ## Augmented Lagrangian against dual gradient descent
//!
//! Measured by `cargo run --release -- control constrained-car` (which also writes the plots)
//! and, for the acrobot, `cargo test -p wengert-control --release --test constrained_trajax --
//! --nocapture`; those tests assert convergence to 1e-6 on the car, the acrobot and the
//! transfer, and that the augmented Lagrangian needs under a third of dual gradient descent's
//! updates on the transfer:
//!
//! | problem | method | multiplier updates | iLQR iterations | cost `J` | violation |
//! |---|---|---|---|---|---|
//! | double-integrator transfer (convex), `x_N` fixed | augmented Lagrangian | 10 | 10 | 8.898765 | 6.2e-7 |
//! | — | dual gradient descent, `α = 1.5` | 149 | 134 | 8.898765 | 6.4e-7 |
//! | trajax's car: obstacle, `\|u\| ≤ 1`, `x_N` fixed | augmented Lagrangian | 11 | 614 | 15.110303 | 1.2e-7 |
//! | — | dual gradient descent, `α = 1` | 60 (stopped) | 998 | 3.2169 | 2.2e-1 |
//! | trajax's acrobot swing-up: `\|u\| ≤ 5`, `x_N` fixed | augmented Lagrangian | 11 | 430 | 44.850777 | 6.4e-8 |
//!
//! On the convex transfer the dual function is a concave quadratic with curvatures `κ_i` (the
//! eigenvalues of `C H⁻¹ Cᵀ`, `C = ∂x_N/∂u`, `H = ∇²_u J`), and dual gradient descent shrinks
//! the error along each by `|1 − α κ_i|` per step; `α < 2 / max κ` for stability, so the
//! flattest direction (`κ ≈ 0.055` here) sets the pace: `1 − 1.5 · 0.055 ≈ 0.92` per step, as
//! measured. The augmented Lagrangian's dual is that of the penalised problem, with curvatures
//! `κ / (1 + ρ κ)`, and its step is `ρ`, so the error shrinks by `1 / (1 + ρ κ)`: 7× per update
//! at `ρ = 100`, as measured. On the car the obstacle makes the problem nonconvex: the
//! minimiser of the plain Lagrangian need not be unique or continuous in the multipliers, the
//! dual function is then not differentiable, and dual gradient descent oscillates: over 60
//! updates its violation swings between 0.22 and 0.53 for `α = 1` (after the first dozen) and
//! between 0.23 and 1.1 for `α = 3`, the plain Lagrangian's minimiser cutting through the disc
//! (to 0.03 of its centre, radius 0.25) and stopping 0.18 short of the goal; it diverges for
//! `α = 10`. The penalty term convexifies the problem locally, which is why the augmented
//! Lagrangian converges where plain dual ascent does not.
//!
//! The plot `control/docs/constrained-convergence.svg` (in the repository; the demo writes it
//! to `runs/control-constrained-car/convergence.svg`) shows `log₁₀` of the violation per
//! multiplier update for all five runs, including Hermite–Simpson collocation on
//! the car ([`crate::collocation`]); `control/docs/constrained-car-paths.svg` shows the paths
//! around the disc.
//!
//! ## Documentation
//!
//! - [`Constraints`]: `h`, `g` (with [`Constraints::with_control_bounds`]), `h_T`
//!   (with [`Constraints::with_goal`]); their values ([`ConstraintValues`]) and
//!   [`Multipliers`].
//! - [`AugmentedLagrangianIlqr`] and [`DualGradientDescent`]: the two outer loops, returning a
//!   [`ConstrainedSolution`] with one [`OuterIteration`] (cost, violation, stationarity,
//!   penalty, multipliers) per multiplier update. [`ConstrainedSolution::check`] turns a run
//!   that missed the stopping rule into a [`NotConverged`] error naming the violation: on
//!   infeasible constraints (`x_N = 1` and `x_N = 2`) both outer loops stop after their update
//!   budget with a finite trajectory and the violation stuck at its least value, 0.5.
//! - [`crate::collocation`]: the same problems by direct collocation.
#![allow(non_snake_case)]

mod augmented_lagrangian;
mod constraints;
mod dual_gradient;

pub use augmented_lagrangian::{
    AugmentedLagrangianIlqr, AugmentedLagrangianOptions, ConstrainedSolution, NotConverged,
    OuterIteration, augmented_lagrangian_problem, lagrangian_stationarity,
};
pub(crate) use constraints::equality_terms;
pub use constraints::{
    ConstraintValues, Constraints, Multipliers, PathConstraint, TerminalConstraint,
};
pub use dual_gradient::{DualGradientDescent, DualGradientOptions};
