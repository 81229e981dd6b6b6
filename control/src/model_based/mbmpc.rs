//! MPC on the learned model and the DAgger-style loop: the Pendulum-v1 cost, the planning
//! problem over the model, and [`run`].

#![allow(non_snake_case)]

use super::*;
use crate::ilqr::Problem;
use crate::ilqr::problem::RunningCost;
use crate::planners::{CemOptions, CrossEntropyMethod, Planner};
use crate::plant::Plant;
use autograd::{Tensor, Var};
use ndarray::{Array1, Array2};
use nn::optim::{Adam, AdamConfig};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::f64::consts::PI;
use std::sync::Arc;

/// Pendulum-v1's cost `−r = θ_norm² + 0.1 θ̇² + 0.001 u²` on observations `[cos θ, sin θ, θ̇]`
/// (`3 × B`) and torques (`1 × B`), one value per column, with `θ = atan2(sin θ, cos θ)`.
///
/// The angle term is computed on values (autograd has no `atan2`), so it carries no
/// gradient: the sampling planners need only values; the `θ̇` and `u` terms are differentiable.
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::model_based::pendulum_v1_cost;
///
/// let theta: f64 = 0.5;
/// let x = Var::constant(array![[theta.cos(), -1.0], [theta.sin(), 0.0], [2.0, 0.0]]);
/// let u = Var::constant(array![[1.0, 0.0]]);
/// let cost = pendulum_v1_cost(&x, &u);
/// let value = cost.value();
/// assert!((value[0] - (0.25 + 0.4 + 0.001)).abs() < 1e-12);
/// assert!((value[1] - std::f64::consts::PI.powi(2)).abs() < 1e-12); // hanging down
/// ```
pub fn pendulum_v1_cost(x: &Var<f64>, u: &Var<f64>) -> Var<f64> {
    let values = x.value();
    let theta_squared: Array1<f64> = (0..x.shape()[1])
        .map(|b| {
            let theta = values[[1, b]].atan2(values[[0, b]]);
            let normalized = (theta + PI).rem_euclid(2.0 * PI) - PI;
            normalized * normalized
        })
        .collect();
    let theta_dot = x.slice(0, 2, 3);
    Var::constant(theta_squared)
        + theta_dot.powi(2).sum(&[0], false) * 0.1
        + u.powi(2).sum(&[0], false) * 0.001
}

/// The planning problem on the learned model: dynamics `f̂_φ`, running cost `ℓ = −r`,
/// terminal cost `ℓ_T(s) = ℓ(s, 0)`, actions in `[lower, upper]`.
///
/// ```
/// use ndarray::array;
/// use std::sync::Arc;
/// use wengert_control::model_based::{DynamicsModel, learned_problem, pendulum_v1_cost};
///
/// let model = Arc::new(DynamicsModel::new(3, 1, &[8], 0));
/// let problem = learned_problem(model.clone(), Arc::new(pendulum_v1_cost), 10,
///     array![-2.0], array![2.0]);
/// let (s, a) = (array![1.0, 0.0, 0.0], array![1.0]);
/// let expected = model.predict(&s.clone().insert_axis(ndarray::Axis(1)), &array![[1.0]]);
/// assert_eq!(problem.step(&s, &a), expected.column(0));
/// ```
pub fn learned_problem(
    model: Arc<DynamicsModel>,
    cost: RunningCost,
    horizon: usize,
    lower: Array1<f64>,
    upper: Array1<f64>,
) -> Problem {
    let (n, m) = (model.n, model.m);
    let terminal = cost.clone();
    Problem::new(
        n,
        m,
        horizon,
        move |s, a| model.next_state(&model.store.constants(), s, a),
        move |s, a| cost(s, a),
        move |s| terminal(s, &Var::constant(Array2::<f64>::zeros((m, s.shape()[1])))),
    )
    .with_control_limits(lower, upper)
}

/// Settings of [`run`], named as in the module docs, with their defaults (tuned for
/// Pendulum-v1).
///
/// ```
/// use wengert_control::model_based::MbmpcConfig;
/// let config = MbmpcConfig::default();
/// assert!(config.elites < config.population);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MbmpcConfig {
    /// Widths of `Δ_φ`'s hidden layers (default `[64, 64]`).
    pub hidden: Vec<usize>,
    /// Adam's learning rate (default `1e-3`).
    pub learning_rate: f64,
    /// Passes over the data set per round (default 40).
    pub epochs: usize,
    /// Minibatch size `|ℬ|` (default 64).
    pub batch_size: usize,
    /// Every this many-th transition is held out for the validation loss (default 10).
    pub validation_every: usize,
    /// Planning horizon `H` (default 20).
    pub horizon: usize,
    /// CEM's samples per iteration (default 100).
    pub population: usize,
    /// CEM's elites (default 10).
    pub elites: usize,
    /// CEM's refits per step (default 3).
    pub iterations: usize,
    /// Episodes with uniformly random actions before the first fit (default 10).
    pub random_episodes: usize,
    /// Aggregation rounds (default 3).
    pub rounds: usize,
    /// MPC episodes per round, whose transitions join the data set (default 2).
    pub episodes_per_round: usize,
    /// Steps per episode (default 200, Pendulum-v1's time limit).
    pub episode_length: usize,
    /// Seed of the model, the minibatches, the planner and the environment's resets (default 0).
    pub seed: u64,
}

impl Default for MbmpcConfig {
    fn default() -> Self {
        MbmpcConfig {
            hidden: vec![64, 64],
            learning_rate: 1e-3,
            epochs: 40,
            batch_size: 64,
            validation_every: 10,
            horizon: 20,
            population: 100,
            elites: 10,
            iterations: 3,
            random_episodes: 10,
            rounds: 3,
            episodes_per_round: 2,
            episode_length: 200,
            seed: 0,
        }
    }
}

/// What one aggregation round did.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundMetrics {
    /// The round, from 1.
    pub round: usize,
    /// Transitions in the data set the model was fitted to.
    pub transitions: usize,
    /// `L(φ)` on the training part after fitting.
    pub training_loss: f64,
    /// `L(φ)` on the held-out part after fitting.
    pub validation_loss: f64,
    /// Returns of the MPC episodes run with the fitted model.
    pub returns: Vec<f64>,
}

impl RoundMetrics {
    /// The mean of [`RoundMetrics::returns`].
    ///
    /// ```
    /// use wengert_control::model_based::RoundMetrics;
    /// let metrics = RoundMetrics { round: 1, transitions: 0, training_loss: 0.0,
    ///     validation_loss: 0.0, returns: vec![-100.0, -300.0] };
    /// assert_eq!(metrics.mean_return(), -200.0);
    /// ```
    pub fn mean_return(&self) -> f64 {
        self.returns.iter().sum::<f64>() / self.returns.len() as f64
    }
}

/// What [`run`] returns.
#[derive(Clone, Debug)]
pub struct MbmpcResult {
    /// Returns of the random-action episodes.
    pub random_returns: Vec<f64>,
    /// One entry per aggregation round.
    pub rounds: Vec<RoundMetrics>,
    /// The model of the last round.
    pub model: DynamicsModel,
    /// Every transition collected.
    pub data: Transitions,
}

/// Runs one episode of at most `steps` steps from `reset(seed)`, choosing each action with
/// `act`, appending every transition to `data`; returns the episode's return.
fn episode(
    plant: &mut impl Plant,
    seed: u64,
    steps: usize,
    data: &mut Transitions,
    mut act: impl FnMut(&Array1<f64>) -> Array1<f64>,
) -> f64 {
    let mut s = plant.reset(seed);
    let mut total = 0.0;
    for _ in 0..steps {
        let a = act(&s);
        let step = plant
            .step(&a)
            .unwrap_or_else(|error| panic!("model_based: {} step failed: {error}", plant.name()));
        data.push(&s, &a, &step.observation);
        total += step.reward;
        s = step.observation;
        if step.done {
            break;
        }
    }
    total
}

/// The whole loop of the module docs on `plant` (continuous actions; its observation is the
/// state; `wengert::plant::GymPlant` adapts an `rl` environment), with the task's cost `−r(s, a)` on batches of columns. Calls `on_round` after each
/// round.
///
/// `examples/model_based_pendulum.rs` runs it on `rl`'s Pendulum-v1:
/// `run(&mut GymPlant::new(Pendulum::new()), Arc::new(pendulum_v1_cost), &config, on_round)`.
pub fn run<P: Plant>(
    plant: &mut P,
    cost: RunningCost,
    config: &MbmpcConfig,
    mut on_round: impl FnMut(&RoundMetrics),
) -> MbmpcResult {
    let n = plant.observation_dim();
    let (lower, upper) = plant.action_bounds();
    let m = lower.len();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut episode_seed = config.seed;
    let mut next_seed = || {
        episode_seed += 1;
        episode_seed
    };

    let mut data = Transitions::new(n, m);
    let random_returns = (0..config.random_episodes)
        .map(|_| {
            let seed = next_seed();
            episode(plant, seed, config.episode_length, &mut data, |_| {
                (0..m)
                    .map(|i| rng.random_range(lower[i]..upper[i]))
                    .collect()
            })
        })
        .collect();

    let mut model = DynamicsModel::new(n, m, &config.hidden, config.seed);
    let mut adam = Adam::new(
        model.store.trainable(),
        AdamConfig {
            lr: config.learning_rate,
            ..AdamConfig::default()
        },
    );
    let mut rounds = Vec::new();
    for round in 1..=config.rounds {
        let report = fit(
            &mut model,
            &mut adam,
            &data,
            config.epochs,
            config.batch_size,
            config.validation_every,
            config.seed.wrapping_add(round as u64),
        );
        let transitions = data.len();
        let problem = learned_problem(
            Arc::new(model.clone()),
            cost.clone(),
            config.horizon,
            lower.clone(),
            upper.clone(),
        );
        let mut planner = CrossEntropyMethod::new(
            problem,
            CemOptions {
                samples: config.population,
                elites: config.elites,
                iterations: config.iterations,
                seed: config.seed.wrapping_add(round as u64),
                ..CemOptions::default()
            },
        );
        let returns = (0..config.episodes_per_round)
            .map(|_| {
                planner.reset();
                let seed = next_seed();
                episode(plant, seed, config.episode_length, &mut data, |s| {
                    planner.plan(s)
                })
            })
            .collect();
        let metrics = RoundMetrics {
            round,
            transitions,
            training_loss: report.training_loss,
            validation_loss: report.validation_loss,
            returns,
        };
        on_round(&metrics);
        rounds.push(metrics);
    }
    MbmpcResult {
        random_returns,
        rounds,
        model,
        data,
    }
}
