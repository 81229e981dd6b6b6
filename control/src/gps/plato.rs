//! PLATO: policy learning with adaptive trajectory optimisation (Kahn, Zhang, Levine & Abbeel
//! 2017).
//!
//! ## Background
//!
//! DAgger lets the learner drive, so its data come from the states the learner visits — but an
//! untrained learner may drive somewhere unsafe or useless. PLATO lets an MPC *teacher* drive
//! instead, one whose cost adds a pull towards the learner: the teacher stays close enough to
//! the learner that the visited states resemble the learner's own, yet it still solves the task.
//! The labels are not the teacher's pulled actions but the *unconstrained* MPC's optimal actions
//! at the same states, so the learner imitates the optimum on its own state distribution. At
//! test time the learner runs alone. The KL term of the paper between Gaussians of equal
//! covariance `Σ = I/λ` is the quadratic pull below.
//!
//! ## Key equations
//!
//! ```text
//! teacher (executed)  π^λ(x) = u_0 of argmin_u Σ_t [ℓ(x_t, u_t) + (λ/2) ‖u_t − π_θ(o(x_t))‖²] + ℓ_T(x_H)
//! label               π*(x)  = u_0 of argmin_u Σ_t  ℓ(x_t, u_t) + ℓ_T(x_H)            (λ = 0)
//! aggregation         𝒟 ← 𝒟 ∪ {(o(x_t), π*(x_t))}  for the states x_t the teacher visits
//! learner             θ ← argmin_θ (1/|𝒟|) Σ_{(o,u)∈𝒟} ½ ‖π_θ(o) − u‖²              (imitation_loss)
//! ```
//!
//! `o(x)` maps the planner's state to the learner's observation (for Pendulum-v1,
//! `(θ, θ̇) ↦ (cos θ, sin θ, θ̇)`), written with autograd ops so that iLQR differentiates the
//! pull through the learner. Both teachers are MPC over iLQR, warm-started along the episode.
//!
//! ## Pseudocode
//!
//! ```text
//! 𝒟 ← ∅;  π_θ ← a fresh learner
//! for round i = 1, …, rounds:
//!     rebuild the pulled MPC around the current π_θ
//!     for each of `episodes_per_round` episodes, at every visited state x:
//!         execute π^λ(x);  add (o(x), π*(x)) to 𝒟
//!     θ ← fit on all of 𝒟 (warm-started, or from θ₀ if `from_scratch`)
//! ```

use std::sync::Arc;

use super::imitation::{ImitationResult, ImitationRound, Rounds, Teacher, imitation_rounds};
use super::policy::{FitConfig, policy_on};
use crate::ilqr::{IlqrOptions, Problem};
use crate::model_based::ModelPolicy;
use crate::planners::{Mpc, Planner};
use crate::plant::Plant;
use autograd::{Tensor, Var};
use ndarray::Array1;

/// `o(x)`: the planner's state (`[n]` or `[n, B]`) to the learner's observation, in the same
/// shape convention.
pub type Observe = Arc<dyn Fn(&Var<f64>) -> Var<f64> + Send + Sync>;

/// `problem` with the pull `(λ/2) ‖u_t − π_θ(o(x_t))‖²` added to every stage cost, `θ` fixed.
///
/// ```
/// use std::sync::Arc;
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::gps::plato::{Observe, pulled_problem};
/// use wengert_control::ilqr::Problem;
/// use wengert_control::model_based::ModelPolicy;
///
/// let problem = Problem::new(1, 1, 3, |x, u| x + u, |_, u| u.powi(2).sum(&[0], false), |x| x.powi(2).sum(&[0], false));
/// let learner = ModelPolicy::new(1, &[4], array![-1.0], array![1.0], 0); // π_θ ≈ 0
/// let identity: Observe = Arc::new(|x: &Var<f64>| x.clone());
/// let pulled = pulled_problem(&problem, &learner, &identity, 2.0);
/// let (x, u) = (array![0.5], array![1.0]);
/// let pi = learner.act(&x)[0];
/// let pull = pulled.running_cost_at(0, &x, &u) - problem.running_cost_at(0, &x, &u);
/// assert!((pull - (1.0 - pi).powi(2)).abs() < 1e-9, "{pull}, π = {pi}"); // (λ/2)(u − π)²
/// ```
pub fn pulled_problem(
    problem: &Problem,
    learner: &ModelPolicy,
    observe: &Observe,
    pull: f64,
) -> Problem {
    let previous = problem.stage_cost.clone();
    let (learner, observe) = (learner.clone(), observe.clone());
    problem.clone().with_stage_cost(move |t, x, u| {
        let pi = policy_on(&learner, &observe(x));
        let term = (u - &pi).powi(2).sum(&[0], false) * (pull / 2.0);
        match &previous {
            Some(stage_cost) => term + stage_cost(t, x, u),
            None => term,
        }
    })
}

/// The two MPCs of PLATO on one planning problem: the pulled teacher that acts and the
/// unconstrained one that labels.
#[derive(Clone)]
pub struct PlatoTeacher {
    problem: Problem,
    options: IlqrOptions,
    first_call_iterations: usize,
    restarts: (Vec<Array1<f64>>, usize, f64),
    observe: Observe,
    /// `λ`.
    pub pull: f64,
    expert: Mpc,
    pulled: Mpc,
}

impl PlatoTeacher {
    /// MPC on `problem` (its horizon is the planning horizon) with `options` per control step
    /// and `first_call_iterations` on an episode's first step; the pull `λ` towards the learner
    /// seen through `observe`. The pulled MPC starts around `learner`.
    pub fn new(
        problem: Problem,
        options: IlqrOptions,
        first_call_iterations: usize,
        observe: Observe,
        pull: f64,
        learner: &ModelPolicy,
    ) -> Self {
        let mpc = |problem: Problem| {
            Mpc::new(problem, options.clone()).with_first_call_iterations(first_call_iterations)
        };
        PlatoTeacher {
            expert: mpc(problem.clone()),
            pulled: mpc(pulled_problem(&problem, learner, &observe, pull)),
            problem,
            options,
            first_call_iterations,
            restarts: (Vec::new(), 0, f64::NEG_INFINITY),
            observe,
            pull,
        }
    }

    /// Both MPCs with the same restarts ([`Mpc::with_restarts`]): at every step also solved
    /// from each constant control in `restarts` with `iterations`, the cheapest plan kept.
    pub fn with_restarts(mut self, restarts: Vec<Array1<f64>>, iterations: usize) -> Self {
        self.expert = self.expert.with_restarts(restarts.clone(), iterations);
        self.pulled = self.pulled.with_restarts(restarts.clone(), iterations);
        self.restarts = (restarts, iterations, self.restarts.2);
        self
    }

    /// Both MPCs restarting only while their warm-started plan costs more than `cost`
    /// ([`Mpc::with_restart_threshold`]).
    pub fn with_restart_threshold(mut self, cost: f64) -> Self {
        self.expert = self.expert.with_restart_threshold(cost);
        self.pulled = self.pulled.with_restart_threshold(cost);
        self.restarts.2 = cost;
        self
    }

    /// Starts an episode: the pulled MPC rebuilt around `learner`, both warm starts dropped.
    pub fn reset(&mut self, learner: &ModelPolicy) {
        let pulled = pulled_problem(&self.problem, learner, &self.observe, self.pull);
        self.pulled = Mpc::new(pulled, self.options.clone())
            .with_first_call_iterations(self.first_call_iterations)
            .with_restarts(self.restarts.0.clone(), self.restarts.1)
            .with_restart_threshold(self.restarts.2);
        self.expert.reset();
    }

    /// `(π^λ(x), π*(x))`: the action to execute and the label, at the planner's state `x`.
    pub fn act(&mut self, x: &Array1<f64>) -> (Array1<f64>, Array1<f64>) {
        (self.pulled.plan(x), self.expert.plan(x))
    }
}

/// Settings of [`plato`].
///
/// ```
/// use wengert_control::gps::plato::PlatoConfig;
/// assert_eq!(PlatoConfig::default().rounds, 4);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PlatoConfig {
    /// Rounds (default 4).
    pub rounds: usize,
    /// Episodes per round (default 3).
    pub episodes_per_round: usize,
    /// Steps per episode at most (default 200).
    pub episode_length: usize,
    /// Hidden widths of the learner's MLP (default `[32, 32]`).
    pub hidden: Vec<usize>,
    /// The supervised fit after each round.
    pub fit: FitConfig,
    /// Refit a fresh learner on all of `𝒟` each round instead of continuing from the last
    /// (default false).
    pub from_scratch: bool,
    /// Seed of the learner, the minibatches and the episodes' start states (default 0).
    pub seed: u64,
}

impl Default for PlatoConfig {
    fn default() -> Self {
        PlatoConfig {
            rounds: 4,
            episodes_per_round: 3,
            episode_length: 200,
            hidden: vec![32, 32],
            fit: FitConfig::default(),
            from_scratch: false,
            seed: 0,
        }
    }
}

/// [`PlatoTeacher`] as the driver of [`imitation_rounds`]: observations mapped to the planner's
/// state by `state_of`, the pulled MPC rebuilt around the learner at every episode's start.
struct Driving<'a, F> {
    teacher: &'a mut PlatoTeacher,
    state_of: F,
}

impl<F: Fn(&Array1<f64>) -> Array1<f64>> Teacher for Driving<'_, F> {
    fn start_episode(&mut self, _round: usize, learner: &ModelPolicy) {
        self.teacher.reset(learner);
    }

    // ANCHOR: plato_rounds
    fn act_and_label(
        &mut self,
        _round: usize,
        _learner: &ModelPolicy,
        o: &Array1<f64>,
    ) -> (Array1<f64>, Array1<f64>) {
        self.teacher.act(&(self.state_of)(o))
    }
    // ANCHOR_END: plato_rounds
}

/// PLATO on `plant` with `teacher`; `state_of` maps an observation to the planner's state.
/// Calls `on_round` after each round.
pub fn plato(
    plant: &mut impl Plant,
    teacher: &mut PlatoTeacher,
    state_of: impl Fn(&Array1<f64>) -> Array1<f64>,
    config: &PlatoConfig,
    on_round: impl FnMut(&ImitationRound),
) -> Result<ImitationResult, String> {
    let rounds = Rounds {
        rounds: config.rounds,
        episodes_per_round: config.episodes_per_round,
        episode_length: config.episode_length,
        hidden: &config.hidden,
        fit: &config.fit,
        seed: config.seed,
        from_scratch: config.from_scratch,
    };
    imitation_rounds(plant, &mut Driving { teacher, state_of }, &rounds, on_round)
}
