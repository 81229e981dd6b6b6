//! Direct collocation: every state and control is a decision variable, and the dynamics are
//! equality constraints, solved by the augmented Lagrangian with Newton steps on the banded
//! Hessian.
//!
//! ## Background
//!
//! Shooting ([`crate::ilqr`], [`crate::constrained`]) optimises the controls only and gets the
//! states by rolling the dynamics out, so every iterate satisfies the dynamics and a change of
//! `u_0` moves the whole trajectory. Direct collocation (Hargraves & Paris 1987; Betts 2010;
//! Kelly 2017; Drake's `DirectCollocation`) optimises `x_0 … x_N` and the controls together and
//! asks only that, at the solution, each interval's *defect* vanishes. The iterates may be
//! dynamically infeasible — which lets the optimiser pass through states that no rollout from
//! the current controls would reach (an initial guess can be a straight line to the goal) —
//! and every constraint touches one or two neighbouring knots, so the Hessian of the
//! Lagrangian is banded.
//!
//! With the continuous dynamics `ẋ = f(x, u)` ([`crate::systems::System::continuous`]) and
//! `f_t = f(x_t, u_t)`, the transcriptions are
//!
//! $$ \text{Euler:} \quad d_t = x_{t+1} - x_t - h f_t , $$
//! $$ \text{trapezoidal:} \quad d_t = x_{t+1} - x_t - \tfrac{h}{2} (f_t + f_{t+1}) , $$
//! $$ \text{Hermite–Simpson:} \quad d_t = x_{t+1} - x_t - \tfrac{h}{6} (f_t + 4 f_c + f_{t+1}) , \quad f_c = f(x_c, u_c) , $$
//! $$ x_c = \tfrac12 (x_t + x_{t+1}) + \tfrac{h}{8} (f_t - f_{t+1}) , \quad u_c = \tfrac12 (u_t + u_{t+1}) . $$
//!
//! Euler is the shooting problem with the step `x + h f` written as constraints: the same
//! finite-dimensional problem, hence the same optimum. Trapezoidal (second order) and
//! Hermite–Simpson (fourth order; the compressed form Drake uses: its defect is
//! `ẋ_c − f_c` of the cubic Hermite interpolant, which is `3/(2h) d_t`) interpolate the controls
//! linearly, so they carry a control at the last knot too: `K = N + 1` control knots against
//! Euler's `K = N`. The cost is `Σ_{t<N} ℓ(x_t, u_t) + ℓ_T(x_N)` for Euler and its trapezoidal
//! rule `Σ_{t<N} ½ (ℓ(x_t, u_t) + ℓ(x_{t+1}, u_{t+1})) + ℓ_T(x_N)` for the others.
//!
//! ## Key equations
//!
//! The decision vector stacks knots, `z = [x_0; u_0; x_1; u_1; …; x_N; u_N]` (`x_0` fixed, and
//! Euler's `u_N` absent). With defect multipliers `ν_t` and the path and terminal constraints
//! of [`crate::constrained::Constraints`] (their terms `φ_ρ`, `ψ_ρ` as there), the augmented
//! Lagrangian is a sum of interval terms
//!
//! $$ L_\rho(z; \nu, \lambda, \mu) = \sum_{t<N} L_t(x_t, u_t, x_{t+1}, u_{t+1}) , $$
//! $$ L_t = \text{cost}\_t + \varphi_\rho(d_t; \nu_t) + \varphi_\rho\big(h(x_t, u_t); \lambda_t\big) + \psi_\rho\big(g(x_t, u_t); \mu_t\big) $$
//!
//! (for $t = N - 1$ also $\ell_T(x_N) + \varphi_\rho(h_T(x_N); \lambda_T)$ and the knot terms at
//! $t = N$),
//!
//! so its gradient and Hessian are sums of per-interval blocks over `2(n+m)` consecutive
//! entries of `z`, each from autograd on one tape (as [`crate::ilqr::Problem::expand`] does).
//! The Hessian is banded with half-width `b = 2(n+m) − 1`, and the Newton step
//!
//! $$ (\nabla^2 L_\rho + \delta I) \Delta z = -\nabla L_\rho $$
//!
//! is solved by the banded Cholesky of [`crate::linalg::BandedCholesky`] in `O(N (n+m)³)`,
//! never as a dense `(N(n+m))²` system. `δ` is Levenberg–Marquardt regularisation, raised
//! until the factorisation succeeds (the exact Hessian of a nonconvex problem can be
//! indefinite), and the step is backtracked until `L_ρ` decreases (Armijo). After each inner
//! solve the multipliers and the penalty are updated exactly as in
//! [`crate::constrained::AugmentedLagrangianIlqr`]: `ν_t ← ν_t + ρ d_t`, `λ ← λ + ρ h`,
//! `μ ← max(0, μ + ρ g)`, `λ_T ← λ_T + ρ h_T`.
//!
//! ## Pseudocode
//!
//! ```text
//! z ← initial guess (x_0 fixed);  ν, λ, μ ← 0;  ρ ← ρ₀
//! repeat (outer):
//!     repeat (Newton):
//!         gradient and banded Hessian of L_ρ, one autograd tape per interval
//!         stop if ‖∇L_ρ‖_∞ ≤ ε_s
//!         δ ← δ/10;  raise δ until ∇²L_ρ + δI has a banded Cholesky factor;  solve for Δz
//!         α ← 1, ½, ¼, … until L_ρ(z + αΔz) ≤ L_ρ(z) + c α ∇L_ρᵀΔz;  z ← z + αΔz
//!     defects d, constraints h, g, h_T at z;  update ν, λ, μ;  log violation, cost, ρ
//!     stop if max(‖d‖_∞, violation, complementarity) ≤ ε_c and the last ‖∇L_ρ‖_∞ ≤ ε_s
//!     raise ρ if the violation fell by less than η
//! ```
//!
//! At the end `‖∇L_ρ(z; ν, λ, μ)‖ = ‖∇L(z; ν⁺, λ⁺, μ⁺)‖`: the last Newton gradient is the
//! stationarity of the Lagrangian at the returned multipliers.
//!
//! ## Against shooting
//!
//! Measured by the tests in `control/tests/collocation_drake.rs` (violation ≤ 1e-6 in every row):
//!
//! | problem | collocation: updates, Newton steps, `J` | shooting (AL-iLQR) `J` |
//! |---|---|---|
//! | trajax's car around the obstacle, Euler | 17, 205, 14.927257 | 14.927242 (same optimum, `‖Δx‖_∞` 8e-6) |
//! | trajax's car, goal and bounds only, Euler | 12, 12, 2.425632 | 2.425644 |
//! | trajax's acrobot swing-up, Euler, straight-line guess | 15, 395, 44.850763 | 44.850777 |
//! | trajax's car around the obstacle, Hermite–Simpson vs RK4 | 16, 174, 15.214736 | 15.110303 |
//! | cart-pole swing-up to `(0, π, 0, 0)`, Euler, `h = 0.1` | 13, 184, 17.719849 | 17.719928 |
//! | cart-pole swing-up, Hermite–Simpson vs RK4, `h = 0.05` | 14, 363, 54.189288 | 53.809137 |
//! | Drake's pendulum swing-up, Hermite–Simpson, fixed `h = 0.2`, `\|u\| ≤ 3` | 15, 735, 61.185692 | — |
//!
//! Where the transcriptions agree (Euler) the optima agree to about multiplier × violation;
//! Hermite–Simpson against RK4 differs by discretisation and by the trapezoidal rule for the
//! cost (0.7% on the car and on the cart-pole at `h = 0.05`, 2.5% on the cart-pole at
//! `h = 0.1`). Collocation needs far fewer, costlier iterations: each Newton step is one
//! banded solve over the whole trajectory, against iLQR's backward and forward passes. Its
//! iterates do not satisfy the dynamics, which is what lets a straight line from the start to
//! the goal serve as the acrobot's initial guess — and why its penalty must grow gently
//! ([`CollocationOptions`]). Drake's `DirectCollocation` tests are reproduced where they fit a
//! fixed step: the Hermite–Simpson defect against its cubic spline, and `ẋ = −x` decaying to
//! `2 e^{−0.9}` within 1e-6 (the trapezoidal and Euler rules land on their own closed forms),
//! and its pendulum swing-up with the step fixed at 0.2 s (Drake's may vary in [0.2, 0.5] s;
//! free final time is not implemented here).
#![allow(non_snake_case)]

use crate::constrained::equality_terms;
use crate::constrained::{ConstraintValues, Constraints, Multipliers, NotConverged};
use crate::ilqr::Problem;
use crate::ilqr::problem::{
    as_column, copies, first_column, jacobian_by_identity_cotangent, symmetrise, to_matrix,
};
use crate::linalg::{BandMatrix, BandedCholesky};
use crate::systems::System;
use autograd::{Tape, Tensor, Var, grad_graph};
use ndarray::{Array1, Array2, ArrayView1, s};
use std::fmt;
use std::sync::Arc;

/// Continuous dynamics `ẋ = f(x, u)` on a batch of columns (`[n, B]`, `[m, B]` to `[n, B]`).
pub type ContinuousDynamics = Arc<dyn Fn(&Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync>;

/// How the dynamics between two knots become a defect.
///
/// ```
/// use wengert_control::collocation::Transcription;
/// assert_eq!(Transcription::Euler.control_knots(10), 10);
/// assert_eq!(Transcription::HermiteSimpson.control_knots(10), 11);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transcription {
    /// `d_t = x_{t+1} − x_t − h f_t` (zero-order hold on `u`).
    Euler,
    /// `d_t = x_{t+1} − x_t − h/2 (f_t + f_{t+1})` (first-order hold on `u`).
    Trapezoidal,
    /// `d_t = x_{t+1} − x_t − h/6 (f_t + 4 f_c + f_{t+1})` (first-order hold on `u`).
    HermiteSimpson,
}

impl Transcription {
    /// `K`, the number of knots that carry a control, for `N` intervals.
    pub fn control_knots(self, N: usize) -> usize {
        match self {
            Transcription::Euler => N,
            Transcription::Trapezoidal | Transcription::HermiteSimpson => N + 1,
        }
    }
}

/// A trajectory problem transcribed by direct collocation: the costs and horizon of a
/// [`Problem`] (its discrete dynamics are not used), the continuous dynamics `f`, the knot
/// spacing `h`, and constraints.
///
/// ```
/// use autograd::{Tensor, Var};
/// use ndarray::array;
/// use wengert_control::collocation::{DirectCollocation, Transcription};
/// use wengert_control::constrained::Constraints;
/// use wengert_control::ilqr::Problem;
/// use wengert_control::systems::DoubleIntegrator;
///
/// let problem = Problem::from_system(DoubleIntegrator, 0.5, 2,
///     |_, u| u.powi(2).sum(&[0], false), |x| x.sum(&[0], false) * 0.0);
/// let collocation = DirectCollocation::from_system(DoubleIntegrator, 0.5, &problem,
///     Constraints::new(2, 1), Transcription::Trapezoidal);
/// // p̈ = 1 from rest for 0.5 s: p = 0.125, ṗ = 0.5 exactly, and the trapezoid rule is exact for ṗ.
/// let x = array![[0.0, 0.0], [0.125, 0.5], [0.5, 1.0]];
/// let u = array![[1.0], [1.0], [1.0]];
/// let d = collocation.defects(&x, &u);
/// assert!(d.iter().all(|d| d.abs() < 1e-15), "{d}");
/// ```
#[derive(Clone)]
pub struct DirectCollocation {
    /// `N` (its horizon), `ℓ`, `ℓ_T`.
    pub problem: Problem,
    /// `f(x, u)`.
    pub f: ContinuousDynamics,
    /// `h`, the time between knots.
    pub h: f64,
    /// `h(x_t, u_t) = 0`, `g(x_t, u_t) ≤ 0` on the `K` control knots, `h_T(x_N) = 0`.
    pub constraints: Constraints,
    /// Euler, trapezoidal or Hermite–Simpson.
    pub transcription: Transcription,
}

impl fmt::Debug for DirectCollocation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DirectCollocation")
            .field("problem", &self.problem)
            .field("h", &self.h)
            .field("constraints", &self.constraints)
            .field("transcription", &self.transcription)
            .finish_non_exhaustive()
    }
}

impl DirectCollocation {
    /// The problem with continuous dynamics given as a closure.
    pub fn new(
        problem: &Problem,
        f: impl Fn(&Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync + 'static,
        h: f64,
        constraints: Constraints,
        transcription: Transcription,
    ) -> Self {
        assert!(
            constraints.n == problem.n && constraints.m == problem.m,
            "DirectCollocation::new: constraints for n = {}, m = {} on a problem with n = {}, m = {}",
            constraints.n,
            constraints.m,
            problem.n,
            problem.m
        );
        DirectCollocation {
            problem: problem.clone(),
            f: Arc::new(f),
            h,
            constraints,
            transcription,
        }
    }

    /// The problem with a [`System`]'s continuous dynamics and knots `h` apart (for the
    /// same problem by shooting, `Problem::from_system(system, h, …)`).
    pub fn from_system<S: System + Send + Sync + 'static>(
        system: S,
        h: f64,
        problem: &Problem,
        constraints: Constraints,
        transcription: Transcription,
    ) -> Self {
        DirectCollocation::new(
            problem,
            move |x, u| system.continuous(x, u),
            h,
            constraints,
            transcription,
        )
    }

    /// `N`.
    pub fn intervals(&self) -> usize {
        self.problem.horizon
    }

    /// `K`, the knots that carry a control.
    pub fn control_knots(&self) -> usize {
        self.transcription.control_knots(self.intervals())
    }

    /// The defect `d_t` of the module docs on a batch of intervals (columns).
    // ANCHOR: collocation_defect
    pub fn defect(
        &self,
        x_t: &Var<f64>,
        u_t: &Var<f64>,
        x_next: &Var<f64>,
        u_next: &Var<f64>,
    ) -> Var<f64> {
        let h = self.h;
        let f_t = (self.f)(x_t, u_t);
        match self.transcription {
            Transcription::Euler => x_next - x_t - f_t * h,
            Transcription::Trapezoidal => {
                let f_next = (self.f)(x_next, u_next);
                x_next - x_t - (f_t + f_next) * (h / 2.0)
            }
            Transcription::HermiteSimpson => {
                let f_next = (self.f)(x_next, u_next);
                let x_c = (x_t + x_next) * 0.5 + (&f_t - &f_next) * (h / 8.0);
                let u_c = (u_t + u_next) * 0.5;
                let f_c = (self.f)(&x_c, &u_c);
                x_next - x_t - (f_t + f_c * 4.0 + f_next) * (h / 6.0)
            }
        }
    }
    // ANCHOR_END: collocation_defect

    /// All defects along a trajectory (`x`: `(N+1) × n`, `u`: `K × m`), one interval per row.
    pub fn defects(&self, x: &Array2<f64>, u: &Array2<f64>) -> Array2<f64> {
        let N = self.intervals();
        let columns = |a: &Array2<f64>, from: usize| {
            Var::constant(a.slice(s![from..from + N, ..]).t().to_owned())
        };
        let u_next = match self.transcription {
            Transcription::Euler => columns(u, 0),
            _ => columns(u, 1),
        };
        let d = self.defect(&columns(x, 0), &columns(u, 0), &columns(x, 1), &u_next);
        to_matrix(&d).t().to_owned()
    }

    /// The objective `J`: `Σ ℓ + ℓ_T` (Euler) or its trapezoidal rule.
    pub fn cost(&self, x: &Array2<f64>, u: &Array2<f64>) -> f64 {
        let N = self.intervals();
        let problem = &self.problem;
        let mut J = problem.terminal_cost_at(&x.row(N).to_owned());
        for t in 0..N {
            let ell =
                |k: usize| problem.running_cost_at(k, &x.row(k).to_owned(), &u.row(k).to_owned());
            J += match self.transcription {
                Transcription::Euler => ell(t),
                _ => 0.5 * (ell(t) + ell(t + 1)),
            };
        }
        J
    }

    /// `L_t` of the module docs on a batch of copies of one interval.
    fn interval_lagrangian(
        &self,
        t: usize,
        (x_t, u_t, x_next, u_next): (&Var<f64>, &Var<f64>, &Var<f64>, &Var<f64>),
        nu_t: ArrayView1<f64>,
        multipliers: &Multipliers,
        rho: f64,
    ) -> Var<f64> {
        let (N, K) = (self.intervals(), self.control_knots());
        let problem = &self.problem;
        let ell = problem.running_cost_var(t, x_t, u_t);
        let mut L = match self.transcription {
            Transcription::Euler => ell,
            _ => (ell + problem.running_cost_var(t + 1, x_next, u_next)) * 0.5,
        };
        L = L + equality_terms(&self.defect(x_t, u_t, x_next, u_next), nu_t, rho);
        let (lambda_t, mu_t) = multipliers.at(t);
        L = L + self.constraints.knot_terms(x_t, u_t, lambda_t, mu_t, rho);
        if t == N - 1 {
            L = L
                + (problem.terminal_cost)(x_next)
                + self
                    .constraints
                    .terminal_terms(x_next, multipliers.lambda_T.view(), rho);
            if K == N + 1 {
                let (lambda_N, mu_N) = multipliers.at(N);
                L = L + self
                    .constraints
                    .knot_terms(x_next, u_next, lambda_N, mu_N, rho);
            }
        }
        L
    }

    /// `L_ρ(z)` on plain arrays.
    fn augmented_lagrangian(
        &self,
        z: &Array1<f64>,
        nu: &Array2<f64>,
        multipliers: &Multipliers,
        rho: f64,
    ) -> f64 {
        (0..self.intervals())
            .map(|t| {
                let [x_t, u_t, x_next, u_next] = self
                    .interval_parts(z, t)
                    .map(|part| Var::constant(as_column(&part)));
                let L_t = self.interval_lagrangian(
                    t,
                    (&x_t, &u_t, &x_next, &u_next),
                    nu.row(t),
                    multipliers,
                    rho,
                );
                L_t.value()[[0]]
            })
            .sum()
    }

    /// `x_t, u_t, x_{t+1}, u_{t+1}` read out of `z`.
    fn interval_parts(&self, z: &Array1<f64>, t: usize) -> [Array1<f64>; 4] {
        let (n, m) = (self.problem.n, self.problem.m);
        let w = n + m;
        let at = |offset: usize, len: usize| z.slice(s![offset..offset + len]).to_owned();
        [
            at(t * w, n),
            at(t * w + n, m),
            at((t + 1) * w, n),
            at((t + 1) * w + n, m),
        ]
    }

    /// `∇L_ρ` and the banded `∇²L_ρ`, one autograd tape per interval, with the fixed
    /// variables (`x_0`, and Euler's `u_N`) pinned: zero gradient, identity rows.
    fn gradient_and_hessian(
        &self,
        z: &Array1<f64>,
        nu: &Array2<f64>,
        multipliers: &Multipliers,
        rho: f64,
        fixed: &[bool],
    ) -> (Array1<f64>, BandMatrix) {
        let (n, m) = (self.problem.n, self.problem.m);
        let w = n + m;
        let block = 2 * w;
        let mut gradient = Array1::zeros(z.len());
        let mut H = BandMatrix::zeros(z.len(), block - 1);
        for t in 0..self.intervals() {
            let tape = Tape::new();
            let parts = self
                .interval_parts(z, t)
                .map(|part| tape.var(copies(&part, block)));
            let [x_t, u_t, x_next, u_next] = &parts;
            let L_t = self.interval_lagrangian(
                t,
                (x_t, u_t, x_next, u_next),
                nu.row(t),
                multipliers,
                rho,
            );
            let inputs = [x_t, u_t, x_next, u_next];
            let g_t = grad_graph(&[&L_t.sum_all()], &inputs);
            let H_t = symmetrise(jacobian_by_identity_cotangent(
                &[&g_t[0], &g_t[1], &g_t[2], &g_t[3]],
                &inputs,
                block,
            ));
            let g_t = first_column(&g_t);
            let offset = t * w;
            for i in 0..block {
                gradient[offset + i] += g_t[i];
                for j in 0..=i {
                    H.add(offset + i, offset + j, H_t[[i, j]]);
                }
            }
        }
        for (i, _) in fixed.iter().enumerate().filter(|(_, fixed)| **fixed) {
            gradient[i] = 0.0;
            for k in 0..=H.bandwidth {
                if k <= i {
                    H.band[[i, k]] = 0.0;
                }
                if i + k < H.size() {
                    H.band[[i + k, k]] = 0.0;
                }
            }
            H.band[[i, 0]] = 1.0;
        }
        (gradient, H)
    }

    /// Solves the transcribed problem from `x0`, starting at the states `initial_states`
    /// (`(N+1) × n`; `x0` everywhere if `None`; row 0 is replaced by `x0`) and the controls
    /// `initial_controls` (`K × m`; zeros if `None`).
    pub fn solve(
        &self,
        x0: &Array1<f64>,
        initial_states: Option<&Array2<f64>>,
        initial_controls: Option<&Array2<f64>>,
        options: &CollocationOptions,
    ) -> CollocationSolution {
        let (n, m, N, K) = (
            self.problem.n,
            self.problem.m,
            self.intervals(),
            self.control_knots(),
        );
        let w = n + m;
        let mut x = initial_states
            .cloned()
            .unwrap_or_else(|| copies(x0, N + 1).t().to_owned());
        x.row_mut(0).assign(x0);
        let u = initial_controls
            .cloned()
            .unwrap_or_else(|| Array2::zeros((K, m)));
        assert_eq!(x.dim(), (N + 1, n), "initial_states: shape");
        assert_eq!(u.dim(), (K, m), "initial_controls: shape");
        let mut z = Array1::zeros((N + 1) * w);
        let mut fixed = vec![false; z.len()];
        for k in 0..=N {
            z.slice_mut(s![k * w..k * w + n]).assign(&x.row(k));
            if k < K {
                z.slice_mut(s![k * w + n..(k + 1) * w]).assign(&u.row(k));
            } else {
                fixed[k * w + n..(k + 1) * w].fill(true);
            }
        }
        fixed[..n].fill(true);

        let mut nu = Array2::zeros((N, n));
        let mut multipliers = Multipliers::for_constraints(&self.constraints, K);
        let mut rho = options.initial_penalty;
        let mut previous_violation = f64::INFINITY;
        let mut iterations = Vec::new();
        let mut converged = false;
        let mut delta = 0.0;
        for _ in 0..options.max_outer_iterations {
            let mut newton_iterations = 0;
            let mut stationarity = f64::INFINITY;
            for _ in 0..options.max_newton_iterations {
                let (gradient, H) = self.gradient_and_hessian(&z, &nu, &multipliers, rho, &fixed);
                stationarity = gradient.iter().fold(0.0, |a: f64, g| a.max(g.abs()));
                if stationarity <= options.stationarity_tolerance {
                    break;
                }
                delta = if delta > 1e-8 { delta / 10.0 } else { 0.0 };
                let step = loop {
                    let mut H_regularised = H.clone();
                    for i in 0..z.len() {
                        H_regularised.band[[i, 0]] += delta;
                    }
                    match BandedCholesky::factor(&H_regularised) {
                        Ok(cholesky) => break cholesky.solve((-&gradient).view()).ok(),
                        Err(_) if delta < 1e12 => delta = (delta * 10.0).max(1e-6),
                        Err(_) => break None,
                    }
                };
                let Some(step) = step else { break };
                let L = self.augmented_lagrangian(&z, &nu, &multipliers, rho);
                let slope = gradient.dot(&step);
                let mut alpha = 1.0;
                let accepted = loop {
                    let z_new = &z + &(&step * alpha);
                    let L_new = self.augmented_lagrangian(&z_new, &nu, &multipliers, rho);
                    if L_new.is_finite() && L_new <= L + 1e-4 * alpha * slope {
                        break Some(z_new);
                    }
                    alpha *= 0.5;
                    if alpha < 1e-10 {
                        break None;
                    }
                };
                newton_iterations += 1;
                match accepted {
                    Some(z_new) => z = z_new,
                    None => delta = (delta * 10.0).max(1e-6),
                }
            }
            let (x, u) = self.unpack(&z);
            let d = self.defects(&x, &u);
            let values = self.constraints.evaluate(&x, &u);
            let defect_norm = d.iter().fold(0.0, |a: f64, d| a.max(d.abs()));
            let violation = values.max_violation().max(defect_norm);
            nu.scaled_add(rho, &d);
            multipliers.ascend(&values, rho);
            let complementarity = values.complementarity(&multipliers.mu);
            iterations.push(CollocationIteration {
                cost: self.cost(&x, &u),
                violation,
                defect: defect_norm,
                complementarity,
                stationarity,
                penalty: rho,
                newton_iterations,
            });
            if violation.max(complementarity) <= options.violation_tolerance
                && stationarity <= options.stationarity_tolerance
            {
                converged = true;
                break;
            }
            if violation > options.violation_tolerance
                && violation > options.violation_decrease * previous_violation
            {
                rho = (rho * options.penalty_factor).min(options.max_penalty);
            }
            previous_violation = violation;
        }
        let (x, u) = self.unpack(&z);
        CollocationSolution {
            cost: self.cost(&x, &u),
            defects: self.defects(&x, &u),
            values: self.constraints.evaluate(&x, &u),
            x,
            u,
            nu,
            multipliers,
            iterations,
            converged,
        }
    }

    /// `z` back into states (`(N+1) × n`) and controls (`K × m`).
    fn unpack(&self, z: &Array1<f64>) -> (Array2<f64>, Array2<f64>) {
        let (n, m, N, K) = (
            self.problem.n,
            self.problem.m,
            self.intervals(),
            self.control_knots(),
        );
        let w = n + m;
        let x = Array2::from_shape_fn((N + 1, n), |(k, i)| z[k * w + i]);
        let u = Array2::from_shape_fn((K, m), |(k, j)| z[k * w + n + j]);
        (x, u)
    }
}

/// Options of [`DirectCollocation::solve`] (the outer loop's are those of
/// [`crate::constrained::AugmentedLagrangianOptions`]).
///
/// ```
/// use wengert_control::collocation::CollocationOptions;
/// assert_eq!(CollocationOptions::default().violation_tolerance, 1e-6);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CollocationOptions {
    /// At most this many multiplier updates.
    pub max_outer_iterations: usize,
    /// At most this many Newton steps per inner solve.
    pub max_newton_iterations: usize,
    /// `ρ₀`.
    pub initial_penalty: f64,
    /// `φ`.
    pub penalty_factor: f64,
    /// `ρ_max`.
    pub max_penalty: f64,
    /// `η`.
    pub violation_decrease: f64,
    /// `ε_c` (defects included).
    pub violation_tolerance: f64,
    /// `ε_s`, on `‖∇_z L_ρ‖_∞` over the free variables.
    pub stationarity_tolerance: f64,
}

impl Default for CollocationOptions {
    /// A gentler penalty schedule than shooting's (`ρ₀ = 1`, `φ = 3` against `φ = 10`): the
    /// iterates of collocation violate the dynamics, and a penalty that outgrows the
    /// multipliers can lock them onto an infeasible stationary point of `‖d‖²` — on trajax's
    /// acrobot swing-up, `φ = 10` stalls at a violation of 3e-3 with `ρ` at `10⁸`, while
    /// `φ = 3` converges to the shooting optimum.
    fn default() -> Self {
        CollocationOptions {
            max_outer_iterations: 40,
            max_newton_iterations: 100,
            initial_penalty: 1.0,
            penalty_factor: 3.0,
            max_penalty: 1e8,
            violation_decrease: 0.25,
            violation_tolerance: 1e-6,
            stationarity_tolerance: 1e-6,
        }
    }
}

/// One outer iteration of [`DirectCollocation::solve`].
#[derive(Debug, Clone, PartialEq)]
pub struct CollocationIteration {
    /// `J` at the inner solution.
    pub cost: f64,
    /// `max(‖d‖_∞, ‖h‖_∞, max g⁺, ‖h_T‖_∞)`.
    pub violation: f64,
    /// `‖d‖_∞` alone.
    pub defect: f64,
    /// `max_i |min(−g_i, μ_i)|` with the updated `μ`.
    pub complementarity: f64,
    /// The last Newton step's `‖∇L_ρ‖_∞`.
    pub stationarity: f64,
    /// `ρ` of this inner solve.
    pub penalty: f64,
    /// Newton steps of this inner solve.
    pub newton_iterations: usize,
}

/// A collocation solution.
#[derive(Debug, Clone, PartialEq)]
pub struct CollocationSolution {
    /// `x_0 … x_N`, one per row.
    pub x: Array2<f64>,
    /// The controls at the `K` control knots, one per row.
    pub u: Array2<f64>,
    /// `J`.
    pub cost: f64,
    /// `d_t`, one interval per row.
    pub defects: Array2<f64>,
    /// Path and terminal constraint values.
    pub values: ConstraintValues,
    /// `ν_t`, the defect multipliers.
    pub nu: Array2<f64>,
    /// Path and terminal multipliers.
    pub multipliers: Multipliers,
    /// One report per outer iteration.
    pub iterations: Vec<CollocationIteration>,
    /// Whether the stopping rule was met.
    pub converged: bool,
}

impl CollocationSolution {
    /// Newton steps over all outer iterations.
    pub fn newton_iterations(&self) -> usize {
        self.iterations.iter().map(|i| i.newton_iterations).sum()
    }

    /// `Ok` if the stopping rule was met, else the last update's measures (as
    /// [`crate::constrained::ConstrainedSolution::check`]; the violation includes `‖d‖_∞`).
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::collocation::{CollocationOptions, DirectCollocation, Transcription};
    /// use wengert_control::constrained::Constraints;
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 1, 3, |x, u| x + u,
    ///     |_, u| u.powi(2).sum(&[0], false), |x| x.sum(&[0], false) * 0.0);
    /// let contradiction = Constraints::new(1, 1).with_goal(array![1.0]).with_goal(array![2.0]);
    /// let collocation = DirectCollocation::new(&problem, |_, u| u.clone(), 1.0, contradiction,
    ///     Transcription::Euler);
    /// let solution = collocation.solve(&array![0.0], None, None, &CollocationOptions::default());
    /// let error = solution.check().unwrap_err();
    /// assert!((error.violation - 0.5).abs() < 1e-6 && error.to_string().starts_with("did not converge"));
    /// ```
    pub fn check(&self) -> Result<(), NotConverged> {
        NotConverged::unless(
            self.converged,
            self.iterations.last().map(|last| {
                (
                    self.iterations.len(),
                    last.violation,
                    last.complementarity,
                    last.stationarity,
                    last.penalty,
                )
            }),
        )
    }

    /// `max(‖d‖_∞, violation of the constraints)`.
    pub fn max_violation(&self) -> f64 {
        self.defects
            .iter()
            .fold(self.values.max_violation(), |a, d| a.max(d.abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ilqr::quadratic_cost;
    use crate::systems::Unicycle;
    use ndarray::array;

    /// The assembled gradient and banded Hessian of `L_ρ` against central differences of
    /// `L_ρ(z)` and of the gradient, on a Hermite–Simpson unicycle with every kind of
    /// constraint and nonzero multipliers; the fixed `x_0` has a zero gradient and an identity row.
    #[test]
    fn banded_hessian_and_gradient_match_central_differences() {
        let N = 4;
        let problem = Problem::from_system(
            Unicycle,
            0.2,
            N,
            |x, u| {
                quadratic_cost(x, &array![1.0, 0.0, 0.0], &array![0.1, 0.1, 0.1])
                    + u.powi(2).sum(&[0], false)
            },
            |x| x.powi(2).sum(&[0], false),
        );
        let constraints = Constraints::new(3, 2)
            .with_equality(|x, u| x.slice(0, 2, 3) - u.slice(0, 1, 2) * 0.5)
            .with_inequality(|x, _| x.slice(0, 0, 1).powi(2) - 0.1)
            .with_control_bounds(array![-0.6, -1.0], array![0.6, 1.0])
            .with_goal(array![1.0, 0.0, 0.0]);
        let collocation = DirectCollocation::from_system(
            Unicycle,
            0.2,
            &problem,
            constraints.clone(),
            Transcription::HermiteSimpson,
        );
        let K = collocation.control_knots();
        let w = 5;
        let z = Array1::from_shape_fn((N + 1) * w, |i| 0.7 * ((i * 7 % 11) as f64 / 11.0 - 0.4));
        let nu = Array2::from_shape_fn((N, 3), |(t, i)| 0.1 * (t as f64 - i as f64));
        let mut multipliers = Multipliers::for_constraints(&constraints, K);
        multipliers.lambda.fill(-0.2);
        multipliers.mu.fill(0.3);
        multipliers.lambda_T.fill(0.4);
        let rho = 2.0;
        let mut fixed = vec![false; z.len()];
        fixed[..3].fill(true);
        let (gradient, H) = collocation.gradient_and_hessian(&z, &nu, &multipliers, rho, &fixed);
        let L = |z: &Array1<f64>| collocation.augmented_lagrangian(z, &nu, &multipliers, rho);
        let eps = 1e-6;
        for i in 0..z.len() {
            let (mut plus, mut minus) = (z.clone(), z.clone());
            plus[i] += eps;
            minus[i] -= eps;
            let numeric = if fixed[i] {
                0.0
            } else {
                (L(&plus) - L(&minus)) / (2.0 * eps)
            };
            assert!(
                (gradient[i] - numeric).abs() < 1e-6 * (1.0 + numeric.abs()),
                "∂L/∂z_{i}: {} vs {numeric}",
                gradient[i]
            );
            if fixed[i] {
                continue;
            }
            let g = |z: &Array1<f64>| {
                collocation
                    .gradient_and_hessian(z, &nu, &multipliers, rho, &fixed)
                    .0
            };
            let column = (g(&plus) - g(&minus)) / (2.0 * eps);
            for j in 0..z.len() {
                let expected = if fixed[j] { 0.0 } else { column[j] };
                assert!(
                    (H.get(j, i) - expected).abs() < 1e-5 * (1.0 + expected.abs()),
                    "H[{j}, {i}]: {} vs {expected}",
                    H.get(j, i)
                );
            }
        }
        assert_eq!(H.get(0, 0), 1.0);
        assert_eq!(H.bandwidth, 2 * w - 1);
    }
}
