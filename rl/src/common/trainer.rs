//! # The trainer skeleton
//!
//! Every algorithm is an iteration `z_{k+1} = F(z_k)` on what its trainer holds `z`: networks,
//! optimisers, generators, environments, buffers. What is the same for all of them is written
//! here once:
//!
//! ```text
//! train_from(env, config, resume, on_iteration):
//!     validate the configuration (every setting in its range)
//!     z ← Trainer::new(env, config)                       (as a fresh run)
//!     if resume: check it is this algorithm, environment and configuration;
//!                overwrite every part of z listed by Trainer::parts; k ← resume.iteration
//!     for iteration = k + 1 … Trainer::iterations(config):
//!         report ← Trainer::iterate(z)                    (the algorithm: its file's loop body)
//!         metrics ← iteration, steps, clock, recent returns, report.losses
//!         on_iteration(metrics, snapshot = every part of z, by name)   stop if it says so
//! ```
//!
//! An algorithm file implements [`Trainer`]: `new` builds `z`, `iterate` is one pass of its
//! pseudocode, and `parts` lists, once, what a snapshot must hold. Saving and restoring both go
//! through that one list, so they cannot disagree.

use std::cell::RefCell;

use nn::ParamStore;
use nn::optim::Optimizer;

use crate::common::config::{self, Config};
use crate::snapshot::{Clock, Resumable, StateError, TrainingState};
use crate::train::{Agent, IterationMetrics, TrainError, mean_of_last};

/// One part of a trainer's state, as [`Trainer::parts`] lists it.
pub enum Part<'a> {
    /// Every parameter of a store (saved under `name.<parameter>`; `agent.` entries double as
    /// the policy checkpoint).
    Params(&'a ParamStore<f32>),
    /// An optimiser's moments, step counts and learning rates, for the parameters of a store.
    Optimizer(&'a mut dyn Optimizer<f32>, &'a ParamStore<f32>),
    /// Anything else that can be saved: generators, environments, buffers, normalisers.
    State(&'a mut dyn Resumable),
}

impl Part<'_> {
    /// Writes this part under `name`.
    pub fn save(&self, name: &str, state: &mut TrainingState) {
        match self {
            Part::Params(store) => state.save_params(name, store),
            Part::Optimizer(optimizer, store) => state.save_optimizer(name, &**optimizer, store),
            Part::State(part) => part.save(name, state),
        }
    }

    /// Restores this part from what was saved under `name`.
    pub fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        match self {
            Part::Params(store) => state.load_params(name, store),
            Part::Optimizer(optimizer, store) => {
                state.load_optimizer(name, &mut **optimizer, store)
            }
            Part::State(part) => part.load(name, state),
        }
    }
}

/// What one iteration reports to the skeleton.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Environment steps taken in this iteration (over all environments).
    pub env_steps: usize,
    /// Returns of the episodes that finished in this iteration.
    pub episode_returns: Vec<f64>,
    /// Their lengths, in the same order.
    pub episode_lengths: Vec<usize>,
    /// Named scalars: losses, approximate KL, clip fraction, entropy, explained variance, …
    pub losses: Vec<(&'static str, f64)>,
}

/// An algorithm's trainer: its state `z`, one iteration `F`, and the list of its parts.
pub trait Trainer: Sized {
    /// The registry name, e.g. `ppo` (what a snapshot records).
    const NAME: &'static str;
    /// Its hyperparameters.
    type Config: Config;
    /// What training leaves: a policy that can act.
    type Agent: Agent + 'static;

    /// Environment steps one iteration takes: the budget must allow at least one.
    fn steps_per_iteration(config: &Self::Config) -> usize;

    /// One iteration's budget in words, for the error of a budget below it.
    fn iteration_in_words(config: &Self::Config) -> String {
        format!(
            "one iteration of {} environment steps",
            Self::steps_per_iteration(config)
        )
    }

    /// The iterations `config`'s budget allows.
    fn iterations(config: &Self::Config) -> usize;

    /// A fresh trainer for the Gymnasium environment `env_id` (networks initialised from the seed).
    fn new(env_id: &str, config: &Self::Config) -> Result<Self, TrainError>;

    /// One iteration of the algorithm (1-based `iteration`).
    fn iterate(&mut self, iteration: usize) -> Result<Report, TrainError>;

    /// Every part of the state that the future of the run depends on, by name.
    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)>;

    /// The trained agent.
    fn into_agent(self) -> Self::Agent;
}

/// A finished run: the agent and every iteration's metrics.
pub struct Trained<A> {
    /// The agent.
    pub agent: A,
    /// Every iteration's metrics.
    pub history: Vec<IterationMetrics>,
}

/// Whether the saved configuration (TOML) is `config` but for `total_timesteps`.
fn only_the_budget_differs<C: Config>(saved: &str, config: &C) -> bool {
    let Ok(mut saved) = config::from_toml::<C>(saved) else {
        return false;
    };
    config::set(
        &mut saved,
        "total_timesteps",
        &budget_of(config).to_string(),
    )
    .is_ok()
        && saved == *config
}

/// The `total_timesteps` of a configuration.
fn budget_of<C: Config>(config: &C) -> i64 {
    toml::from_str::<toml::Table>(&config::to_toml(config))
        .ok()
        .and_then(|t| t.get("total_timesteps").and_then(|v| v.as_integer()))
        .unwrap_or(0)
}

/// Checks `config` (ranges, relations, a budget of at least one iteration) for `T`.
pub fn check<T: Trainer>(config: &T::Config) -> Result<(), TrainError> {
    config::validate(config).map_err(TrainError::Config)?;
    if T::iterations(config) == 0 {
        let budget = budget_of(config);
        return Err(TrainError::Config(format!(
            "`total_timesteps` = {budget} is below {}",
            T::iteration_in_words(config)
        )));
    }
    Ok(())
}

/// Trains `T` on `env_id` with `config` from scratch; `on_iteration` sees every iteration's
/// metrics and stops the run by returning `false`.
///
/// ```no_run
/// use wengert_rl::algorithms::{preset, ppo::{Ppo, PpoConfig}};
/// use wengert_rl::common::trainer::train;
/// let config: PpoConfig = preset("ppo", "CartPole-v1").unwrap();
/// let trained = train::<Ppo>("CartPole-v1", &config, |m| {
///     println!("{} steps: return {:?}", m.env_steps, m.mean_return);
///     true
/// })
/// .unwrap();
/// ```
pub fn train<T: Trainer>(
    env_id: &str,
    config: &T::Config,
    mut on_iteration: impl FnMut(&IterationMetrics) -> bool,
) -> Result<Trained<T::Agent>, TrainError> {
    train_from::<T>(env_id, config, None, |i| on_iteration(i.metrics))
}

/// Trains `T` on `env_id` with `config`, from `resume` when given (see the module doc);
/// `on_iteration` sees every iteration, can take its [`TrainingState`], and stops the run by
/// returning `false`.
pub fn train_from<T: Trainer>(
    env_id: &str,
    config: &T::Config,
    resume: Option<&TrainingState>,
    mut on_iteration: impl FnMut(&Iteration<'_>) -> bool,
) -> Result<Trained<T::Agent>, TrainError> {
    check::<T>(config)?;
    let config_text = config::to_toml(config);
    let mut trainer = T::new(env_id, config)?;
    let mut recent_returns: Vec<f64> = Vec::new();
    let (mut first_iteration, mut env_steps, mut clock) = (1, 0, Clock::start());
    if let Some(state) = resume {
        // The budget may grow on resume (the rest of the configuration may not).
        state
            .check(T::NAME, env_id, &config_text)
            .or_else(
                |e| match only_the_budget_differs::<T::Config>(&state.config, config) {
                    true => Ok(()),
                    false => Err(e),
                },
            )
            .map_err(TrainError::Resume)?;
        for (name, mut part) in trainer.parts() {
            part.load(name, state)?;
        }
        state.load("recent_returns", &mut recent_returns)?;
        (first_iteration, env_steps) = (state.iteration + 1, state.env_steps);
        clock = Clock::resume_at(state.wall_time);
    }
    let mut history = Vec::new();
    for iteration in first_iteration..=T::iterations(config) {
        let report = trainer.iterate(iteration)?;
        env_steps += report.env_steps;
        recent_returns.extend(&report.episode_returns);
        let metrics = IterationMetrics {
            iteration,
            env_steps,
            wall_time: clock.seconds(),
            mean_return: mean_of_last(&recent_returns, 20),
            episodes: recent_returns.len(),
            episode_lengths: report.episode_lengths,
            losses: report.losses,
        };
        history.push(metrics.clone());
        let mut snapshot = || {
            let mut state = TrainingState::new(T::NAME, env_id, &config_text);
            for (name, part) in trainer.parts() {
                part.save(name, &mut state);
            }
            state.save("recent_returns", &recent_returns);
            state
        };
        if !on_iteration(&Iteration::new(&metrics, &mut snapshot)) {
            break;
        }
    }
    Ok(Trained {
        agent: trainer.into_agent(),
        history,
    })
}

/// What the skeleton hands its caller after every iteration: the metrics, and the training
/// state on demand.
pub struct Iteration<'a> {
    /// This iteration's metrics.
    pub metrics: &'a IterationMetrics,
    snapshot: RefCell<&'a mut dyn FnMut() -> TrainingState>,
}

impl<'a> Iteration<'a> {
    /// The metrics and a function that takes the snapshot.
    pub fn new(
        metrics: &'a IterationMetrics,
        snapshot: &'a mut dyn FnMut() -> TrainingState,
    ) -> Self {
        Iteration {
            metrics,
            snapshot: RefCell::new(snapshot),
        }
    }

    /// Everything needed to continue from the end of this iteration (built now: it copies
    /// parameters, optimiser state and any replay buffer, so take it only when it will be kept).
    pub fn training_state(&self) -> TrainingState {
        let mut state = (self.snapshot.borrow_mut())();
        state.iteration = self.metrics.iteration;
        state.env_steps = self.metrics.env_steps;
        state.wall_time = self.metrics.wall_time;
        state
    }
}
