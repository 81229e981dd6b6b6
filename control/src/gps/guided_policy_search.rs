//! Guided policy search with the augmented Lagrangian (Levine & Koltun 2013; Mordatch &
//! Todorov 2014; Levine et al. 2016, the ADMM form).
//!
//! ## Background
//!
//! `I` start states `x_0^i`, one trajectory `τ_i = (x^i, u^i)` each, one shared policy `π_θ`.
//! The problem `min Σ_i c(τ_i)` subject to `u_t^i = π_θ(x_t^i)` is split by the augmented
//! Lagrangian into steps that each use a solver we have: iLQR for the trajectories (the policy
//! enters their cost as a penalty) and supervised regression for the policy (the trajectories
//! are its data). The multipliers `λ_t^i` price the disagreement; at a fixed point `u = π_θ(x)`
//! everywhere, and the policy alone reproduces the optimised trajectories.
//!
//! ## Key equations
//!
//! ```text
//! φ_ρ(u, π; λ) = λᵀ(u − π) + (ρ/2) ‖u − π‖²                       (policy_constraint_terms)
//! trajectory step  τ_i ← argmin_τ  c(τ) + Σ_t φ_ρ(u_t, π_θ(x_t); λ_t^i)    (iLQR, θ fixed)
//! policy step      θ   ← argmin_θ  Σ_i Σ_t φ_ρ(u_t^i, π_θ(x_t^i); λ_t^i)  (Adam, τ fixed)
//!                    = argmin_θ Σ ½ ‖π_θ(x) − (u + λ/ρ)‖² · ρ  + const   (a regression)
//! multiplier step  λ_t^i ← λ_t^i + ρ (u_t^i − π_θ(x_t^i))                  (multiplier_update)
//! disagreement     max_{i,t} ‖u_t^i − clamp_U(π_θ(x_t^i))‖₂  → 0
//! penalty          ρ ← min(γ ρ, ρ_max)  when  mean disagreement_k > η · mean disagreement_{k−1}
//! stop             when  max_{i,t} ‖u_t^i − clamp_U(π_θ(x_t^i))‖₂ ≤ ε,  or after K iterations
//! ```
//!
//! The stop is the augmented Lagrangian's feasibility test (Nocedal & Wright 2006, Framework 17.3;
//! Conn, Gould & Toint's LANCELOT measures the violation in the same max norm): the method ends at
//! the first iterate whose every constraint `u_t^i = clamp_U(π_θ(x_t^i))` holds to `ε`
//! (`disagreement_tolerance`), the trajectories and the policy of the same iteration. Without it
//! the loop runs `K` iterations and ends wherever the last one lands; on the pendulum swing-up the
//! max moves by a factor of a few from one iteration to the next (one point at the switch of the
//! first pump, where the policy is steep and its fit misses the target by a few tenths).
//!
//! With `PenaltyRule::PerPoint` each constraint `u_t^i = π_θ(x_t^i)` has its own penalty `ρ_t^i`,
//! as augmented-Lagrangian solvers keep one per constraint (Conn, Gould & Toint's LANCELOT;
//! Bertsekas 1982, §2.2): it grows only where that point's own disagreement
//! `d_t^i = ‖u_t^i − clamp_U(π_θ(x_t^i))‖₂` did not shrink, and every `ρ` above becomes `ρ_t^i`:
//!
//! ```text
//! φ at a point     λ_t^iᵀ(u − π) + (ρ_t^i/2) ‖u − π‖²
//! policy step      θ ← argmin_θ Σ_i Σ_t (ρ_t^i/2) ‖π_θ(x_t^i) − (u_t^i + λ_t^i/ρ_t^i)‖²   (a weighted regression)
//! multiplier step  λ_t^i ← λ_t^i + ρ_t^i (u_t^i − π_θ(x_t^i))
//! penalty          ρ_t^i ← min(γ ρ_t^i, ρ_max)  where  d_t^i,k > max(η_p d_t^i,k−1, ε)    (per_point_penalty_update)
//! shared floor     ρ_t^i ← max(ρ_t^i, ρ)   (optional; ρ the shared rule's, grown as above)
//! ```
//!
//! A point that converges keeps its `ρ`; one that stalls (a crossing the policy cannot meet at
//! the current `ρ`) gets a stiffer penalty in both steps, and the policy step's weights move
//! the fit toward it. Points already within `ε` do not grow. With the shared floor every point
//! is at least as stiff as under the shared rule, and the stalled ones stiffer.
//!
//! With a control box `U` the constraint is on the action the policy executes,
//! `u_t = clamp_U(π_θ(x_t))`: the trajectory step, the multiplier step and the disagreement use
//! `clamp_U(π_θ)`, so a policy that overshoots a bound the trajectory rides on agrees with it.
//! The policy step regresses the unclamped `π_θ`; since `u ∈ U` and the projection onto a box
//! is non-expansive, `‖u − clamp_U(π)‖ ≤ ‖u − π‖`, so its loss bounds the executed disagreement.
//!
//! With `fit_executed` the policy step fits the executed action instead: past a bound of `U` a
//! target `b = u + λ/ρ` (or a feedback label) asks only that `π` reach the bound,
//!
//! ```text
//! policy step (fit_executed)  θ ← argmin_θ Σ ½ ‖r‖² · ρ,  r = min(π, ū) − b where b ≥ ū,
//!                             max(π, u̲) − b where b ≤ u̲,  π − b elsewhere  (executed_regression_loss)
//! ```
//!
//! which is `‖clamp_U(π) − b‖²` wherever `π` is on the target's side of the box: the constraint
//! the trajectory step and the multipliers see. Trajectories riding a bound (a swing-up's pump at
//! `|u| = 6`) then ask nothing of the policy beyond the bound, and the fit spends its capacity
//! inside the box.
//!
//! The trajectories' local feedback `u = u_t + K_t (x − x_t)` (iLQR's gains) teaches the policy
//! what to do *near* the trajectories too (Mordatch & Todorov 2014): the policy step also
//! regresses onto `(x_t + δ, u_t + λ_t/ρ + K_t δ)` for a few `δ ~ N(0, diag σ²)` per state.
//! Without it the regression sees only the trajectories' states, and the policy run alone drifts
//! off them wherever they are unstable (a pendulum held upright).
//!
//! Random `δ` need not be where the policy goes. With `policy_samples` the policy step also
//! regresses onto the states `x^π_t` of the policy's own rollout from each start `x_0^i`
//! (Levine & Koltun 2013's policy samples; DAgger's state distribution), labelled by the same
//! local feedback: `(x^π_t, clamp(u_t + λ_t/ρ + K_t (x^π_t − x_t)))`, `t < N`. Where the policy
//! already tracks its trajectory, `x^π = x` and the sample adds the trajectory's own pair again.
//!
//! The fixed point needs trajectories the policy *executes*, and those of a deterministic,
//! time-invariant `π_θ` never cross: two closed-loop rollouts that reach one state coincide from
//! there on. Trajectories from several starts that pass one state with opposite pushes cannot
//! all be executed, and warm-started from itself each stays in its own basin while its
//! multipliers there grow without bound (on the pendulum's seed 3 `λ` at one state of one start
//! reached −273 at `ρ` = 512, the max disagreement 3.4e-1). With `policy_warm_start = k_π` the
//! trajectory step from iteration `k_π` on starts iLQR from the policy's own rollout instead:
//!
//! ```text
//! trajectory step (k ≥ k_π)   τ_i ← iLQR on the same objective from  u_t = clamp_U(π_θ(x^π_t)),
//!                             x^π_0 = x_0^i,  x^π_{t+1} = f(x^π_t, u_t)
//! ```
//!
//! There the penalty is zero and the objective is `c(τ^π)`; iLQR only descends from it, as far
//! as the multipliers and `c` ask (`u − clamp_U(π) ≈ −(λ + ∇_u c)/ρ`), so the trajectories stay
//! in the basins of executable ones. The row's own cost `Σ_i c(τ_i)` may rise: a start whose
//! optimised swing the policy cannot execute takes the policy's swing.
//!
//! ## Pseudocode
//!
//! ```text
//! τ_i ← iLQR on c from x_0^i (from a first guess of controls, or zeros);  λ ← 0;  ρ ← ρ₀;  μ, σ_x ← statistics of the x_t^i
//! for k = 1, …, K:
//!     θ ← policy step on the states and their perturbations (warm-started)
//!         (with policy_samples and k > 1: also on the states of π_θ's rollouts from each x_0^i)
//!         (with fit_executed: on the executed action, executed_regression_loss)
//!     for each i: τ_i ← trajectory step (warm-started from τ_i; from k_π on, from π_θ's rollout from x_0^i)
//!     λ ← multiplier step;  log the disagreement and Σ_i c(τ_i)
//!     if the mean disagreement shrank by less than η: ρ ← min(γ ρ, ρ_max)
//!         (PerPoint: per_point_penalty_update at every point, then the shared floor if asked)
//!     if the max disagreement ≤ ε: stop
//! ```

#![allow(non_snake_case)]

pub use super::penalty::{PenaltyRule, per_point_penalty_update};
use super::policy::FitConfig;
pub use super::policy_step::{
    Trajectories, executed_regression_loss, executed_residual, policy_sample_data,
    weighted_regression_loss,
};
use super::policy_step::{policy_step, regression_data};
pub use super::trajectory_step::executed;
use super::trajectory_step::{augmented_problem, policy_rows};
use crate::ilqr::{Ilqr, IlqrError, IlqrOptions, Problem};
use crate::model_based::ModelPolicy;
use autograd::{Float, Tensor, Var};
use ndarray::{Array1, Array2, Axis, concatenate, s};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// `φ_ρ(u, π; λ) = λᵀ(u − π) + (ρ/2) ‖u − π‖²`, summed over the action components (axis 0):
/// one value per column for batches (`m × B`), a scalar for vectors (`m`).
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::gps::policy_constraint_terms;
/// let (u, pi, lambda) = (array![2.0], array![1.0], array![3.0]);
/// let phi = policy_constraint_terms(&Var::constant(u), &Var::constant(pi), &Var::constant(lambda), 4.0);
/// assert_eq!(phi.item(), 3.0 + 2.0); // λ(u − π) + ρ/2 (u − π)²
/// ```
// ANCHOR: policy_constraint_terms
pub fn policy_constraint_terms<T: Float>(
    u: &Var<T>,
    pi: &Var<T>,
    lambda: &Var<T>,
    rho: T,
) -> Var<T> {
    let r = u - pi;
    (lambda * &r + r.powi(2) * (rho * T::from_f64(0.5))).sum(&[0], false)
}
// ANCHOR_END: policy_constraint_terms

/// `λ_t ← λ_t + ρ_t (u_t − π_t)`: the multiplier step, `λ`, `u`, `π` `N × m` (one row per time
/// step) and `ρ` one penalty per time step (`N`).
///
/// ```
/// use ndarray::array;
/// use wengert_control::gps::multiplier_update;
/// let lambda = multiplier_update(&array![[1.0], [1.0]], &array![[0.5], [0.5]], &array![[0.0], [0.0]], &array![2.0, 4.0]);
/// assert_eq!(lambda, array![[2.0], [3.0]]);
/// ```
// ANCHOR: multiplier_update
pub fn multiplier_update(
    lambda: &Array2<f64>,
    u: &Array2<f64>,
    pi: &Array2<f64>,
    rho: &Array1<f64>,
) -> Array2<f64> {
    lambda + &((u - pi) * rho.view().insert_axis(Axis(1)))
}
// ANCHOR_END: multiplier_update

/// Settings of [`guided_policy_search`], with the symbols of the module doc.
///
/// ```
/// use wengert_control::gps::GpsConfig;
/// let config = GpsConfig::default();
/// assert_eq!((config.rho, config.iterations), (1.0, 20));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GpsConfig {
    /// Outer iterations `K` (default 20).
    pub iterations: usize,
    /// Initial penalty `ρ₀` (default 1).
    pub rho: f64,
    /// Penalty growth `γ` (default 1.5).
    pub rho_growth: f64,
    /// `η`: `ρ` grows when the mean disagreement falls by less than this factor (default 0.5;
    /// 1 grows it every iteration).
    pub rho_stall: f64,
    /// Largest penalty `ρ_max` (default 1e3).
    pub rho_max: f64,
    /// One shared `ρ` or one per point (default [`PenaltyRule::Shared`]).
    pub penalty: PenaltyRule,
    /// Hidden widths of the policy's MLP (default `[32, 32]`).
    pub hidden: Vec<usize>,
    /// Perturbed copies of each trajectory state in the policy step (default 0).
    pub perturbations: usize,
    /// `σ`, per state component, of the perturbations `δ` (default empty: none).
    pub perturbation_std: Vec<f64>,
    /// Add the states of the policy's own rollout from each start, labelled by the local
    /// feedback, to every policy step after the first (default false).
    pub policy_samples: bool,
    /// Fit the executed action `clamp_U(π)` rather than `π` ([`executed_regression_loss`]): a
    /// target past a bound of the problem's box asks only that `π` reach it (default false).
    pub fit_executed: bool,
    /// `k_π`: from this outer iteration on, the trajectory step starts iLQR from the policy's
    /// own rollout from `x_0^i` (`u_t = clamp_U(π_θ(x^π_t))`) instead of the previous trajectory
    /// (default `None`: never).
    pub policy_warm_start: Option<usize>,
    /// `ε`: stop after the first iteration whose max disagreement
    /// `max_{i,t} ‖u_t^i − clamp_U(π_θ(x_t^i))‖₂` is at most this (default `None`: run all
    /// `iterations`).
    pub disagreement_tolerance: Option<f64>,
    /// The policy step's Adam fit.
    pub fit: FitConfig,
    /// The trajectory step's iLQR.
    pub ilqr: IlqrOptions,
    /// Seed of the policy's initialisation and minibatches (default 0).
    pub seed: u64,
}

impl Default for GpsConfig {
    fn default() -> Self {
        GpsConfig {
            iterations: 20,
            rho: 1.0,
            rho_growth: 1.5,
            rho_stall: 0.5,
            rho_max: 1e3,
            penalty: PenaltyRule::Shared,
            hidden: vec![32, 32],
            perturbations: 0,
            perturbation_std: Vec::new(),
            policy_samples: false,
            fit_executed: false,
            policy_warm_start: None,
            disagreement_tolerance: None,
            fit: FitConfig::default(),
            ilqr: IlqrOptions {
                max_iterations: 50,
                ..IlqrOptions::default()
            },
            seed: 0,
        }
    }
}

/// What one outer iteration logged.
#[derive(Clone, Debug, PartialEq)]
pub struct GpsIteration {
    /// `k`, from 1.
    pub iteration: usize,
    /// `max_{i,t} ‖u_t^i − clamp_U(π_θ(x_t^i))‖₂` after the trajectory step.
    pub disagreement: f64,
    /// The mean over `i, t` of the same norm.
    pub mean_disagreement: f64,
    /// `Σ_i c(τ_i)` of the trajectories.
    pub trajectory_cost: f64,
    /// `ρ` of the iteration (per point: the largest `ρ_t^i`).
    pub rho: f64,
    /// `max |λ|`.
    pub max_multiplier: f64,
    /// The policy step's last-epoch loss.
    pub policy_loss: f64,
}

/// The trajectories, multipliers and policy [`guided_policy_search`] ends with.
#[derive(Clone, Debug)]
pub struct GpsResult {
    /// `x^i` (`(N+1) × n`), one per start.
    pub x: Vec<Array2<f64>>,
    /// `u^i` (`N × m`), one per start.
    pub u: Vec<Array2<f64>>,
    /// `λ^i` (`N × m`), one per start.
    pub lambda: Vec<Array2<f64>>,
    /// `ρ^i`, one penalty per step (`N`), one per start: the penalties the next iteration
    /// would use (all equal with [`PenaltyRule::Shared`]).
    pub rho: Vec<Array1<f64>>,
    /// `π_θ`.
    pub policy: ModelPolicy,
    /// One entry per outer iteration run (fewer than `K` if the disagreement tolerance stopped
    /// the loop).
    pub iterations: Vec<GpsIteration>,
}

/// The states `x_t^i`, `t < N`, of every trajectory as columns (`n × I N`).
fn trajectory_states(x: &[Array2<f64>], N: usize) -> Array2<f64> {
    let rows: Vec<_> = x.iter().map(|x_i| x_i.slice(s![..N, ..])).collect();
    concatenate(Axis(0), &rows)
        .expect("equal widths")
        .t()
        .to_owned()
}

/// Guided policy search from the start states `x0s` on `problem`, the policy's actions in the
/// box `[lower, upper]` (at least the problem's control box, so that `π_θ` can reach its
/// bounds), calling `on_iteration` after each outer iteration. The first trajectories are iLQR's
/// from `initial_controls` (one `N × m` sequence per start; zeros if `None`): on a swing-up the
/// guess decides the basin iLQR converges in.
pub fn guided_policy_search(
    problem: &Problem,
    x0s: &[Array1<f64>],
    initial_controls: Option<&[Array2<f64>]>,
    (lower, upper): (Array1<f64>, Array1<f64>),
    config: &GpsConfig,
    mut on_iteration: impl FnMut(&GpsIteration),
) -> Result<GpsResult, IlqrError> {
    assert!(
        config.perturbations == 0 || config.perturbation_std.len() == problem.n,
        "GpsConfig: perturbation_std has {} entries, expected one per state component ({})",
        config.perturbation_std.len(),
        problem.n
    );
    let (N, m) = (problem.horizon, problem.m);
    let ilqr = Ilqr::new(config.ilqr.clone());
    let (mut x, mut u, mut K) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(initial) = initial_controls {
        assert_eq!(
            initial.len(),
            x0s.len(),
            "guided_policy_search: {} initial control sequences for {} start states",
            initial.len(),
            x0s.len()
        );
    }
    for (i, x0) in x0s.iter().enumerate() {
        let solution = ilqr.solve(problem, x0, initial_controls.map(|u| &u[i]))?;
        x.push(solution.x);
        u.push(solution.u);
        K.push(solution.K);
    }
    let mut lambda = vec![Array2::<f64>::zeros((N, m)); x0s.len()];
    let mut policy = ModelPolicy::new(problem.n, &config.hidden, lower, upper, config.seed);
    policy.standardise_inputs(&trajectory_states(&x, N));
    let mut rng = StdRng::seed_from_u64(config.seed);
    // ρ_t^i and the disagreement d_t^i of the last iteration, per start (one entry per step)
    let mut rho = vec![Array1::from_elem(N, config.rho); x0s.len()];
    let mut d_previous = vec![Array1::from_elem(N, f64::INFINITY); x0s.len()];
    let (mut rho_shared, mut previous) = (config.rho, f64::INFINITY);
    let mut iterations = Vec::with_capacity(config.iterations);
    // ANCHOR: gps_iteration
    for k in 1..=config.iterations {
        // policy step: regression of π_θ onto u + λ/ρ (and u + λ/ρ + K δ at x + δ)
        let box_ = (&policy.lower, &policy.upper);
        let trajectories = (&x[..], &u[..], &lambda[..], &K[..]);
        let (mut X, mut U, mut W) = regression_data(trajectories, box_, &rho, config, &mut rng);
        if config.policy_samples && k > 1 {
            // the policy's own states, labelled by the local feedback, weighted by their ρ_t^i
            let (X_pi, U_pi) = policy_sample_data(problem, &policy, x0s, trajectories, box_, &rho);
            let W_pi = Array1::from_iter(rho.iter().flatten().copied()).insert_axis(Axis(0));
            X = concatenate(Axis(1), &[X.view(), X_pi.view()]).expect("n rows");
            U = concatenate(Axis(1), &[U.view(), U_pi.view()]).expect("m rows");
            W = concatenate(Axis(1), &[W.view(), W_pi.view()]).expect("one row");
        }
        let seed = config.seed.wrapping_add(k as u64);
        let policy_loss = policy_step(&mut policy, problem, (&X, &U, &W), config, seed);
        // trajectory step, then the multiplier step
        let mut trajectory_cost = 0.0;
        let mut d = vec![Array1::<f64>::zeros(N); x0s.len()];
        for i in 0..x0s.len() {
            let augmented = augmented_problem(problem, &policy, &lambda[i], &rho[i]);
            // from k_π on, iLQR starts from the policy's own rollout: an executable trajectory
            let warm = match config.policy_warm_start {
                Some(k_pi) if k >= k_pi => policy_rollout(problem, &policy, &x0s[i], N).1,
                _ => u[i].clone(),
            };
            let solution = ilqr.solve(&augmented, &x0s[i], Some(&warm))?;
            (x[i], u[i], K[i]) = (solution.x, solution.u, solution.K);
            trajectory_cost += problem.rollout(&x0s[i], &u[i]).1;
            let pi = policy_rows(problem, &policy, &x[i].slice(s![..N, ..]).to_owned());
            d[i] = Array1::from_shape_fn(N, |t| {
                (&u[i].row(t) - &pi.row(t)).mapv(|r| r * r).sum().sqrt()
            });
            lambda[i] = multiplier_update(&lambda[i], &u[i], &pi, &rho[i]);
        }
        let all = || d.iter().flat_map(|d| d.iter());
        let report = GpsIteration {
            iteration: k,
            disagreement: all().fold(0.0_f64, |a, &b| a.max(b)),
            mean_disagreement: all().sum::<f64>() / (N * x0s.len()) as f64,
            trajectory_cost,
            rho: rho.iter().flatten().fold(0.0_f64, |a, &b| a.max(b)),
            max_multiplier: lambda
                .iter()
                .flat_map(|l| l.iter())
                .fold(0.0_f64, |a, b| a.max(b.abs())),
            policy_loss,
        };
        on_iteration(&report);
        let (growth, rho_max) = (config.rho_growth, config.rho_max);
        if report.mean_disagreement > config.rho_stall * previous {
            rho_shared = (rho_shared * growth).min(rho_max);
        }
        match config.penalty {
            PenaltyRule::Shared => rho.iter_mut().for_each(|rho_i| rho_i.fill(rho_shared)),
            PenaltyRule::PerPoint {
                stall,
                tolerance,
                shared_floor,
            } => {
                for i in 0..x0s.len() {
                    rho[i] = per_point_penalty_update(
                        &rho[i],
                        &d[i],
                        &d_previous[i],
                        (growth, rho_max),
                        (stall, tolerance),
                    );
                    if shared_floor {
                        rho[i].mapv_inplace(|rho| rho.max(rho_shared));
                    }
                }
            }
        }
        (previous, d_previous) = (report.mean_disagreement, d);
        let feasible = config
            .disagreement_tolerance
            .is_some_and(|tolerance| report.disagreement <= tolerance);
        iterations.push(report);
        if feasible {
            break;
        }
    }
    // ANCHOR_END: gps_iteration
    Ok(GpsResult {
        x,
        u,
        lambda,
        rho,
        policy,
        iterations,
    })
}

/// The policy alone from `x0` for `steps` steps of `problem`'s dynamics (its action clamped to
/// the problem's box): the states (`(steps+1) × n`) and controls (`steps × m`).
///
/// ```
/// use autograd::Tensor;
/// use ndarray::array;
/// use wengert_control::gps::guided_policy_search::policy_rollout;
/// use wengert_control::ilqr::Problem;
/// use wengert_control::model_based::ModelPolicy;
///
/// let problem = Problem::new(1, 1, 3, |x, u| x + u, |_, u| u.powi(2).sum(&[0], false), |x| x.sum(&[0], false) * 0.0);
/// let policy = ModelPolicy::new(1, &[4], array![-1.0], array![1.0], 0);
/// let (x, u) = policy_rollout(&problem, &policy, &array![0.5], 3);
/// assert_eq!((x.nrows(), u.nrows()), (4, 3));
/// ```
pub fn policy_rollout(
    problem: &Problem,
    policy: &ModelPolicy,
    x0: &Array1<f64>,
    steps: usize,
) -> (Array2<f64>, Array2<f64>) {
    problem
        .clone()
        .with_horizon(steps)
        .closed_loop(x0, |x| policy.act(x))
}
