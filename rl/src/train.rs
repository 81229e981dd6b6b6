//! What every trainer shares: per-iteration metrics, errors, the [`Agent`] trait (a trained
//! policy that acts), the actor-critic agent, and deterministic evaluation.

use std::fmt;

use autograd::{Tensor, Var, no_grad};
use ndarray::{Array1, Array2};
use nn::ParamStore;

use crate::env::{EnvError, make};
use crate::normalize::RunningMeanStd;
use crate::policy::{Actions, ActorCritic, PolicyNetwork, observations_var};
use crate::snapshot::StateError;

/// What one training iteration reports.
#[derive(Clone, Debug, PartialEq)]
pub struct IterationMetrics {
    /// 1-based iteration number.
    pub iteration: usize,
    /// Environment steps so far (over all environments).
    pub env_steps: usize,
    /// Seconds since training started.
    pub wall_time: f64,
    /// Mean return of the last 20 finished episodes, once there is one.
    pub mean_return: Option<f64>,
    /// Episodes finished so far.
    pub episodes: usize,
    /// Named scalars: losses, approximate KL, clip fraction, entropy, explained variance, …
    pub losses: Vec<(&'static str, f64)>,
}

impl IterationMetrics {
    /// The named scalar `name`, if reported.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.losses
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

/// Why training stopped with an error.
#[derive(Debug)]
pub enum TrainError {
    /// An invalid configuration.
    Config(String),
    /// An environment error.
    Env(EnvError),
    /// A loss or gradient became NaN or infinite.
    NonFinite {
        what: String,
        iteration: usize,
        anomaly: Option<String>,
    },
    /// A saved training state that cannot be continued from (see [`crate::snapshot`]).
    Resume(String),
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::Config(message) => write!(f, "invalid configuration: {message}"),
            TrainError::Env(e) => write!(f, "{e}"),
            TrainError::Resume(message) => write!(f, "cannot resume: {message}"),
            TrainError::NonFinite {
                what,
                iteration,
                anomaly,
            } => {
                write!(f, "{what} became non-finite at iteration {iteration}")?;
                if let Some(anomaly) = anomaly {
                    write!(f, " (first anomaly: {anomaly})")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for TrainError {}

/// A trained agent that can act: what evaluation, checkpoints and the command line need from
/// every algorithm.
pub trait Agent: Send {
    /// The Gymnasium id it was trained on.
    fn env_id(&self) -> &str;

    /// The deterministic action for each observation row (the policy's mode, or the greedy
    /// action of a value-based agent).
    fn act(&self, observations: &Array2<f32>) -> Actions;

    /// Called before `episodes` episodes start side by side (as [`evaluate`] runs them): an
    /// agent with memory (a recurrent policy) starts each from its initial state. Nothing by
    /// default.
    fn begin_episodes(&self, _episodes: usize) {}

    /// The deterministic actions of the episodes `which` (indices among those begun by
    /// [`Agent::begin_episodes`]), one observation row each: an agent with memory carries each
    /// episode's state from its previous call. [`Agent::act`] by default.
    fn act_episodes(&self, observations: &Array2<f32>, _which: &[usize]) -> Actions {
        self.act(observations)
    }

    /// Every parameter, by name (what a checkpoint saves).
    fn store(&self) -> &ParamStore<f32>;

    /// What acting needs besides [`Agent::store`] — observation normalisation statistics, for
    /// instance — as named vectors, so that a checkpoint can carry it. None by default.
    fn extra_state(&self) -> Vec<(String, Vec<f64>)> {
        Vec::new()
    }

    /// Restores what [`Agent::extra_state`] returned; an unknown name or a wrong length is an
    /// error naming it.
    fn load_extra_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), String> {
        match state.first() {
            None => Ok(()),
            Some((name, _)) => Err(format!("unexpected agent state `{name}`")),
        }
    }
}

/// A trained actor-critic agent with what it needs to act: the policy of REINFORCE, A2C, PPO
/// and TRPO (`N` is A2C's own network where it shares a trunk).
pub struct PolicyAgent<N: PolicyNetwork = ActorCritic> {
    /// The Gymnasium id it was trained on.
    pub env_id: String,
    /// Its parameters.
    pub store: ParamStore<f32>,
    /// Its networks.
    pub network: N,
    /// Observation normalisation statistics, if used.
    pub observation_stats: Option<RunningMeanStd>,
}

impl<N: PolicyNetwork> Agent for PolicyAgent<N> {
    fn env_id(&self) -> &str {
        &self.env_id
    }

    fn act(&self, observations: &Array2<f32>) -> Actions {
        let observations = match &self.observation_stats {
            Some(stats) => stats.normalize(observations, 10.0, 1e-8),
            None => observations.clone(),
        };
        let params = self.store.constants();
        no_grad(|| {
            self.network
                .policy(&params, &observations_var::<f32>(&observations))
                .mode()
        })
    }

    fn store(&self) -> &ParamStore<f32> {
        &self.store
    }

    /// The observation statistics, when observations are normalised: acting needs them.
    fn extra_state(&self) -> Vec<(String, Vec<f64>)> {
        observation_stats_state(&self.observation_stats)
    }

    fn load_extra_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), String> {
        load_observation_stats(&mut self.observation_stats, state)
    }
}

/// [`Agent::extra_state`] of an agent that normalises observations: the statistics `mean`,
/// `var` and `count`, or nothing when it does not normalise.
pub(crate) fn observation_stats_state(stats: &Option<RunningMeanStd>) -> Vec<(String, Vec<f64>)> {
    match stats {
        None => Vec::new(),
        Some(stats) => vec![
            ("observation_stats.mean".into(), stats.mean.to_vec()),
            ("observation_stats.var".into(), stats.var.to_vec()),
            ("observation_stats.count".into(), vec![stats.count]),
        ],
    }
}

/// Restores what [`observation_stats_state`] returned; an unknown name or a wrong length is an
/// error naming it.
pub(crate) fn load_observation_stats(
    stats: &mut Option<RunningMeanStd>,
    state: &[(String, Vec<f64>)],
) -> Result<(), String> {
    let Some(stats) = stats else {
        return match state.first() {
            None => Ok(()),
            Some((name, _)) => Err(format!(
                "unexpected agent state `{name}`: this agent does not normalise observations"
            )),
        };
    };
    for (name, values) in state {
        let target: &mut [f64] = match name.as_str() {
            "observation_stats.mean" => stats.mean.as_slice_mut().expect("contiguous"),
            "observation_stats.var" => stats.var.as_slice_mut().expect("contiguous"),
            "observation_stats.count" => std::slice::from_mut(&mut stats.count),
            other => return Err(format!("unexpected agent state `{other}`")),
        };
        if values.len() != target.len() {
            return Err(format!(
                "agent state `{name}` has length {}, expected {}",
                values.len(),
                target.len()
            ));
        }
        target.copy_from_slice(values);
    }
    Ok(())
}

/// Returns of `episodes` episodes of `agent`'s deterministic policy on fresh copies of its
/// environment (with the registered time limit), seeded `seed, seed + 1, …`.
///
/// The episodes run side by side, the observations of those still running stacked into one
/// batch per step: the networks act on each row alone, so every episode is exactly the one it
/// would be on its own, at a tenth of the forward passes for ten episodes.
pub fn evaluate(agent: &dyn Agent, episodes: usize, seed: u64) -> Result<Vec<f64>, EnvError> {
    let mut envs = (0..episodes)
        .map(|_| make(agent.env_id()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut observations: Vec<Vec<f32>> = (0..episodes)
        .map(|i| envs[i].reset(Some(seed + i as u64)))
        .collect();
    let mut returns = vec![0.0; episodes];
    let mut running: Vec<usize> = (0..episodes).collect();
    agent.begin_episodes(episodes);
    while let Some(&first) = running.first() {
        let width = observations[first].len();
        let rows = Array2::from_shape_fn((running.len(), width), |(row, j)| {
            observations[running[row]][j]
        });
        let actions = agent.act_episodes(&rows, &running);
        let mut still_running = Vec::with_capacity(running.len());
        for (row, &i) in running.iter().enumerate() {
            let step = match &actions {
                Actions::Discrete(a) => envs[i].step(a[row].into())?,
                Actions::Continuous(a) => {
                    envs[i].step(a.row(row).as_slice().expect("contiguous").into())?
                }
            };
            returns[i] += step.reward;
            if !step.done() {
                observations[i] = step.observation;
                still_running.push(i);
            }
        }
        running = still_running;
    }
    Ok(returns)
}

/// `1 − Var[R − V] / Var[R]`: 1 for a perfect value function, 0 for a constant one.
///
/// ```
/// use ndarray::array;
/// use wengert_rl::train::explained_variance;
/// assert_eq!(explained_variance(&array![1.0, 2.0, 3.0], &array![1.0, 2.0, 3.0]), 1.0);
/// ```
pub fn explained_variance(values: &Array1<f64>, returns: &Array1<f64>) -> f64 {
    let var_returns = returns.var(0.0);
    if var_returns == 0.0 {
        return f64::NAN;
    }
    1.0 - (returns - values).var(0.0) / var_returns
}

impl From<StateError> for TrainError {
    fn from(e: StateError) -> Self {
        TrainError::Resume(e.to_string())
    }
}

impl From<EnvError> for TrainError {
    fn from(e: EnvError) -> Self {
        TrainError::Env(e)
    }
}

/// `Ok` if `loss` is finite; else the error naming `what`, the iteration and, in anomaly mode,
/// the first op that produced a non-finite value.
pub fn check_finite<T: autograd::Float>(
    loss: &Var<T>,
    what: &str,
    iteration: usize,
    tape: &autograd::Tape<T>,
) -> Result<(), TrainError> {
    if loss.item().is_finite() {
        return Ok(());
    }
    Err(TrainError::NonFinite {
        what: what.into(),
        iteration,
        anomaly: tape.first_anomaly().map(|a| a.to_string()),
    })
}

/// The mean of the last `n` values (recent episode returns), if there are any.
pub fn mean_of_last(values: &[f64], n: usize) -> Option<f64> {
    let tail = &values[values.len().saturating_sub(n)..];
    (!tail.is_empty()).then(|| tail.iter().sum::<f64>() / tail.len() as f64)
}
