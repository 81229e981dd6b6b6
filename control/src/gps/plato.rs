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
//! teacher (executed)  π^λ(x) = u_0 of argmin_u Σ_t [ℓ(x_t, u_t) + (λ/2) ‖u_t − π̃_t(x_t)‖²] + ℓ_T(x_H)
//! learner, linearised π̃_t(x) = π_θ(o(x̄_t)) + ∂π_θ(o(x))/∂x |_{x̄_t} (x − x̄_t)   along the warm plan x̄
//! label               π*(x)  = u_0 of argmin_u Σ_t  ℓ(x_t, u_t) + ℓ_T(x_H)            (λ = 0)
//! aggregation         𝒟 ← 𝒟 ∪ {(o(x_t), π*(x_t))}  for the states x_t the teacher visits
//! learner             θ ← argmin_θ (1/|𝒟|) Σ_{(o,u)∈𝒟} ½ ‖π_θ(o) − u‖²              (imitation_loss)
//! ```
//!
//! `o(x)` maps the planner's state to the learner's observation (for Pendulum-v1,
//! `(θ, θ̇) ↦ (cos θ, sin θ, θ̇)`), written with autograd ops so that the learner can be
//! differentiated through it. Both teachers are MPC over iLQR, warm-started along the episode.
//! As in Kahn et al., whose teacher sees a local linear-Gaussian approximation of the learner,
//! the pull is linearised once per control step around the trajectory `x̄` of the warm plan
//! (its value and gradient at `x̄_t` are the full pull's, [`pulled_problem`]): iLQR then
//! expands a quadratic instead of the MLP's second derivatives at every iteration, and the
//! pulled MPC's restarts are triggered by the plan's task cost, not by the pull.
//!
//! ## Pseudocode
//!
//! ```text
//! 𝒟 ← ∅;  π_θ ← a fresh learner
//! for round i = 1, …, rounds:
//!     for each of `episodes_per_round` episodes, at every visited state x:
//!         x̄ ← the pulled MPC's warm plan rolled out from x (the learner's closed loop at first)
//!         linearise π_θ along x̄;  execute π^λ(x);  add (o(x), π*(x)) to 𝒟
//!     θ ← fit on all of 𝒟 (warm-started, or from θ₀ if `from_scratch`)
//! ```

#![allow(non_snake_case)]

use std::sync::Arc;

use super::imitation::{ImitationResult, ImitationRound, Rounds, Teacher, imitation_rounds};
use super::policy::{FitConfig, policy_on};
use crate::ilqr::{IlqrOptions, Problem};
use crate::model_based::ModelPolicy;
use crate::planners::{Mpc, Planner};
use crate::plant::Plant;
use autograd::{Tape, Tensor, Var};
use ndarray::{Array1, Array2, Axis, s};

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

/// The learner linearised along a trajectory `x̄_0, …, x̄_{N−1}` (rows of `x_bar`, the planner's
/// states): `(π_θ(o(x̄_t)), ∂π_θ(o(x))/∂x |_{x̄_t})` for every `t`, the actions `[m]` and the
/// Jacobians `[m, n]`, all from one batched pass and `m` backward passes through the MLP.
///
/// ```
/// use std::sync::Arc;
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::gps::plato::{Observe, linearise_learner};
/// use wengert_control::model_based::ModelPolicy;
///
/// let learner = ModelPolicy::new(2, &[4], array![-1.0], array![1.0], 0);
/// let identity: Observe = Arc::new(|x: &Var<f64>| x.clone());
/// let (a, K) = linearise_learner(&learner, &identity, &array![[0.1, 0.2], [0.3, 0.4]]);
/// assert_eq!((a.len(), K[1].dim()), (2, (1, 2)));
/// assert_eq!(a[1], learner.act(&array![0.3, 0.4]));
/// ```
pub fn linearise_learner(
    learner: &ModelPolicy,
    observe: &Observe,
    x_bar: &Array2<f64>,
) -> (Vec<Array1<f64>>, Vec<Array2<f64>>) {
    let (N, n, m) = (x_bar.nrows(), x_bar.ncols(), learner.lower.len());
    let mut K = vec![Array2::zeros((m, n)); N];
    let mut a = vec![Array1::zeros(m); N];
    for i in 0..m {
        let tape = Tape::new();
        let x = tape.var(x_bar.t().to_owned());
        let pi = policy_on(learner, &observe(&x)); // [m, N]
        let gradients = pi.slice(0, i, i + 1).sum_all().backward();
        let (pi, dpi_dx) = (pi.value(), &gradients[&x]); // [m, N], [n, N]
        for t in 0..N {
            a[t][i] = pi[[i, t]];
            for j in 0..n {
                K[t][[i, j]] = dpi_dx[[j, t]];
            }
        }
    }
    (a, K)
}

/// `problem` with the pull towards the learner linearised along `x̄` (Kahn et al.'s local
/// linear approximation of the learner):
///
/// ```text
/// (λ/2) ‖u_t − π̃_t(x_t)‖²,   π̃_t(x) = π_θ(o(x̄_t)) + ∂π_θ/∂x (x̄_t) (x − x̄_t)
/// ```
///
/// quadratic in `(x, u)`, so iLQR's expansion of it costs a few matrix products instead of the
/// MLP's second derivatives; at `x = x̄_t` its value and gradient are [`pulled_problem`]'s.
/// Steps `t ≥ N` (past `x̄`) reuse the last linearisation.
///
/// ```
/// use std::sync::Arc;
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::gps::plato::{Observe, linearised_pull_problem, pulled_problem};
/// use wengert_control::ilqr::Problem;
/// use wengert_control::model_based::ModelPolicy;
///
/// let problem = Problem::new(1, 1, 2, |x, u| x + u, |_, u| u.powi(2).sum(&[0], false), |x| x.powi(2).sum(&[0], false));
/// let learner = ModelPolicy::new(1, &[4], array![-1.0], array![1.0], 0);
/// let identity: Observe = Arc::new(|x: &Var<f64>| x.clone());
/// let x_bar = array![[0.5], [0.2]];
/// let linear = linearised_pull_problem(&problem, &learner, &identity, &x_bar, 2.0);
/// let full = pulled_problem(&problem, &learner, &identity, 2.0);
/// let (x, u) = (array![0.2], array![1.0]);
/// assert!((linear.running_cost_at(1, &x, &u) - full.running_cost_at(1, &x, &u)).abs() < 1e-12);
/// ```
pub fn linearised_pull_problem(
    problem: &Problem,
    learner: &ModelPolicy,
    observe: &Observe,
    x_bar: &Array2<f64>,
    pull: f64,
) -> Problem {
    let previous = problem.stage_cost.clone();
    let (a, K) = linearise_learner(learner, observe, x_bar);
    let x_bar = x_bar.clone();
    problem.clone().with_stage_cost(move |t, x, u| {
        let t_bar = t.min(x_bar.nrows() - 1);
        let (a_t, K_t) = (&a[t_bar], &K[t_bar]);
        let x_bar_t = x_bar.row(t_bar).to_owned();
        let (x_bar_t, a_t) = if x.shape().len() == 2 {
            (
                Var::constant(x_bar_t.insert_axis(Axis(1))),
                Var::constant(a_t.clone().insert_axis(Axis(1))),
            )
        } else {
            (Var::constant(x_bar_t), Var::constant(a_t.clone()))
        };
        let pi = Var::constant(K_t.clone()).matmul(&(x - &x_bar_t)) + &a_t; // π̃_t(x)
        let term = (u - &pi).powi(2).sum(&[0], false) * (pull / 2.0);
        match &previous {
            Some(stage_cost) => term + stage_cost(t, x, u),
            None => term,
        }
    })
}

/// The two MPCs of PLATO on one planning problem: the pulled teacher that acts and the
/// unconstrained one that labels. The pull is re-linearised around the pulled MPC's warm plan
/// at every control step ([`linearised_pull_problem`]); on an episode's first step, with no
/// plan yet, around the learner's own closed loop from the state.
#[derive(Clone)]
pub struct PlatoTeacher {
    problem: Problem,
    observe: Observe,
    /// `λ`.
    pub pull: f64,
    learner: ModelPolicy,
    expert: Mpc,
    pulled: Mpc,
}

impl PlatoTeacher {
    /// MPC on `problem` (its horizon is the planning horizon) with `options` per control step
    /// and `first_call_iterations` on an episode's first step; the pull `λ` towards the learner
    /// seen through `observe`. The pulled MPC starts around `learner`. The pulled MPC's restart
    /// threshold, if any, is judged on the task's cost (`problem`'s, without the pull,
    /// [`Mpc::with_restart_cost`]).
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
            pulled: mpc(problem.clone()).with_restart_cost(problem.clone()),
            problem,
            observe,
            pull,
            learner: learner.clone(),
        }
    }

    /// Both MPCs with the same restarts ([`Mpc::with_restarts`]): at every step also solved
    /// from each constant control in `restarts` with `iterations`, the cheapest plan kept.
    pub fn with_restarts(mut self, restarts: Vec<Array1<f64>>, iterations: usize) -> Self {
        self.expert = self.expert.with_restarts(restarts.clone(), iterations);
        self.pulled = self.pulled.with_restarts(restarts, iterations);
        self
    }

    /// Both MPCs restarting only while their warm plan's task cost is above `cost`
    /// ([`Mpc::with_restart_threshold`]).
    pub fn with_restart_threshold(mut self, cost: f64) -> Self {
        self.expert = self.expert.with_restart_threshold(cost);
        self.pulled = self.pulled.with_restart_threshold(cost);
        self
    }

    /// Starts an episode: the pull now towards `learner`, both warm starts dropped.
    pub fn reset(&mut self, learner: &ModelPolicy) {
        self.learner = learner.clone();
        self.pulled.reset();
        self.expert.reset();
    }

    /// `(π^λ(x), π*(x))`: the action to execute and the label, at the planner's state `x`.
    pub fn act(&mut self, x: &Array1<f64>) -> (Array1<f64>, Array1<f64>) {
        let label = self.expert.plan(x);
        // ANCHOR: linearised_pull
        let x_bar = match self.pulled.warm_start() {
            Some(u) => self.problem.rollout(x, &u).0,
            None => {
                let observe = &self.observe;
                let learner = &self.learner;
                self.problem
                    .closed_loop(x, |x| {
                        let o = observe(&Var::constant(x.clone()));
                        policy_on(learner, &o).value().iter().copied().collect()
                    })
                    .0
            }
        };
        let N = self.problem.horizon;
        let x_bar = x_bar.slice(s![..N, ..]).to_owned();
        self.pulled.set_problem(linearised_pull_problem(
            &self.problem,
            &self.learner,
            &self.observe,
            &x_bar,
            self.pull,
        ));
        // ANCHOR_END: linearised_pull
        (self.pulled.plan(x), label)
    }
}

/// Settings of [`plato()`].
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
        validation_episodes: 0,
        validation_seed: 0,
        symmetries: &[],
    };
    imitation_rounds(plant, &mut Driving { teacher, state_of }, &rounds, on_round)
}
