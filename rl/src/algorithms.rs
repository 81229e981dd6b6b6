//! The registry of algorithms: one entry per trainer, so that the command line, the learning
//! report and the tests can train any of them by name with the same call.

use crate::a2c::{self, A2cConfig};
use crate::ddpg::{self, DdpgConfig};
use crate::dqn::{self, DqnConfig};
use crate::env::{REGISTERED, Space, make};
use crate::ppo::{self, PpoConfig};
use crate::reinforce::{self, ReinforceConfig};
use crate::sac::{self, SacConfig};
use crate::snapshot::{Iteration, TrainingState};
use crate::td3::{self, Td3Config};
use crate::train::{Agent, IterationMetrics, TrainError};
use crate::trpo::{self, TrpoConfig};

/// An algorithm the registry can train.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Algorithm {
    /// The name on the command line, e.g. `"ppo"`.
    pub name: &'static str,
    /// One line about it.
    pub about: &'static str,
    /// Whether it handles discrete action spaces.
    pub discrete: bool,
    /// Whether it handles continuous (box) action spaces.
    pub continuous: bool,
}

/// Every algorithm, in the order `wengert list` shows them.
pub const ALGORITHMS: &[Algorithm] = &[
    Algorithm {
        name: "ppo",
        about: "Proximal Policy Optimization: clipped surrogate, GAE, minibatch epochs",
        discrete: true,
        continuous: true,
    },
    Algorithm {
        name: "reinforce",
        about: "REINFORCE (vanilla policy gradient): reward-to-go, learned baseline, one step per batch",
        discrete: true,
        continuous: true,
    },
    Algorithm {
        name: "a2c",
        about: "Advantage Actor-Critic: synchronous n-step returns, entropy bonus, RMSprop",
        discrete: true,
        continuous: true,
    },
    Algorithm {
        name: "trpo",
        about: "Trust Region Policy Optimization: natural gradient by conjugate gradient, KL line search",
        discrete: true,
        continuous: true,
    },
    Algorithm {
        name: "npg",
        about: "Natural policy gradient: conjugate gradient on Fisher-vector products, step to the KL radius",
        discrete: true,
        continuous: true,
    },
    Algorithm {
        name: "dqn",
        about: "Deep Q-Network: replay, target network, Huber loss; switches double, dueling, prioritized, n_step",
        discrete: true,
        continuous: false,
    },
    Algorithm {
        name: "ddpg",
        about: "Deep Deterministic Policy Gradient: deterministic actor, target networks",
        discrete: false,
        continuous: true,
    },
    Algorithm {
        name: "td3",
        about: "TD3: clipped double Q, target policy smoothing, delayed policy updates",
        discrete: false,
        continuous: true,
    },
    Algorithm {
        name: "sac",
        about: "Soft Actor-Critic: twin Q, tanh-Gaussian policy, automatic temperature",
        discrete: false,
        continuous: true,
    },
];

/// A finished training run: the agent and its resolved configuration (as text).
pub struct Run {
    pub agent: Box<dyn Agent>,
    pub config: String,
}

/// Trains algorithm `name` on the Gymnasium environment `env_id` with its tuned defaults for that
/// environment, the `seed`, and `settings` as `key = value` overrides. `on_iteration` sees every
/// iteration's metrics and may return `false` to stop.
///
/// ```no_run
/// use wengert_rl::algorithms::train;
/// let run = train("ppo", "CartPole-v1", 1, &[("total_timesteps".into(), "20000".into())], &mut |_| true).unwrap();
/// ```
pub fn train(
    name: &str,
    env_id: &str,
    seed: u64,
    settings: &[(String, String)],
    on_iteration: &mut dyn FnMut(&IterationMetrics) -> bool,
) -> Result<Run, TrainError> {
    train_from(name, env_id, seed, settings, None, &mut |i| {
        on_iteration(i.metrics)
    })
}

/// [`train`], continuing from the saved training state `resume` when given (it must come from
/// the same algorithm, environment and settings); `on_iteration` sees every iteration and can
/// take its [`TrainingState`] (see [`crate::snapshot`]).
///
/// ```
/// use wengert_rl::algorithms::train_from;
/// let settings = [("total_timesteps".to_string(), "512".to_string())];
/// let mut saved = None;
/// train_from("ppo", "CartPole-v1", 1, &settings, None, &mut |i| {
///     saved = Some(i.training_state());
///     false // stop after the first iteration
/// }).unwrap();
/// let saved = saved.unwrap();
/// assert_eq!((saved.iteration, saved.env_steps), (1, 256));
/// let run = train_from("ppo", "CartPole-v1", 1, &settings, Some(&saved), &mut |i| {
///     assert_eq!(i.metrics.iteration, 2); // continues, does not start over
///     true
/// }).unwrap();
/// assert_eq!(run.agent.history().len(), 1);
/// ```
pub fn train_from(
    name: &str,
    env_id: &str,
    seed: u64,
    settings: &[(String, String)],
    resume: Option<&TrainingState>,
    on_iteration: &mut dyn FnMut(&Iteration<'_>) -> bool,
) -> Result<Run, TrainError> {
    let algorithm = find(name)?;
    let env = make(env_id)?;
    let fits = match env.action_space() {
        Space::Discrete { .. } => algorithm.discrete,
        Space::Box(_) => algorithm.continuous,
    };
    if !fits {
        return Err(TrainError::Config(format!(
            "{name} does not handle the action space {} of {env_id}",
            env.action_space()
        )));
    }
    // One arm per algorithm: its preset for the environment, the seed, then the settings.
    match name {
        "ppo" => run(
            PpoConfig {
                seed,
                ..PpoConfig::for_env(env_id)
            },
            settings,
            PpoConfig::set,
            |config| ppo::train_from(env_id, config, resume, on_iteration),
        ),
        "reinforce" => run(
            ReinforceConfig {
                seed,
                ..ReinforceConfig::for_env(env_id)
            },
            settings,
            ReinforceConfig::set,
            |config| reinforce::train_from(env_id, config, resume, on_iteration),
        ),
        "a2c" => run(
            A2cConfig {
                seed,
                ..A2cConfig::for_env(env_id)
            },
            settings,
            A2cConfig::set,
            |config| a2c::train_from(env_id, config, resume, on_iteration),
        ),
        "trpo" => run(
            TrpoConfig {
                seed,
                ..TrpoConfig::for_env(env_id)
            },
            settings,
            TrpoConfig::set,
            |config| trpo::train_from(env_id, config, resume, on_iteration),
        ),
        "npg" => run(
            TrpoConfig {
                seed,
                ..TrpoConfig::npg_for_env(env_id)
            },
            settings,
            TrpoConfig::set,
            |config| trpo::train_from(env_id, config, resume, on_iteration),
        ),
        "dqn" => run(
            DqnConfig {
                seed,
                ..DqnConfig::for_env(env_id)
            },
            settings,
            DqnConfig::set,
            |config| dqn::train_from(env_id, config, resume, on_iteration),
        ),
        "ddpg" => run(
            DdpgConfig {
                seed,
                ..DdpgConfig::for_env(env_id)
            },
            settings,
            DdpgConfig::set,
            |config| ddpg::train_from(env_id, config, resume, on_iteration),
        ),
        "td3" => run(
            Td3Config {
                seed,
                ..Td3Config::for_env(env_id)
            },
            settings,
            Td3Config::set,
            |config| td3::train_from(env_id, config, resume, on_iteration),
        ),
        "sac" => run(
            SacConfig {
                seed,
                ..SacConfig::for_env(env_id)
            },
            settings,
            SacConfig::set,
            |config| sac::train_from(env_id, config, resume, on_iteration),
        ),
        _ => unreachable!("every registered algorithm has a trainer"),
    }
}

/// The environment-step budget [`train`] would use for algorithm `name` on `env_id` with
/// `settings`, found without training (for progress bars and ETAs); checks the settings on the
/// way. `None` for an algorithm that has no arm here yet.
///
/// ```
/// use wengert_rl::algorithms::total_timesteps;
/// assert_eq!(total_timesteps("ppo", "CartPole-v1", &[]).unwrap(), Some(100_000));
/// let settings = [("total_timesteps".to_string(), "2048".to_string())];
/// assert_eq!(total_timesteps("ppo", "CartPole-v1", &settings).unwrap(), Some(2048));
/// let bad = [("gama".to_string(), "0.9".to_string())];
/// assert!(total_timesteps("ppo", "CartPole-v1", &bad).is_err());
/// ```
pub fn total_timesteps(
    name: &str,
    env_id: &str,
    settings: &[(String, String)],
) -> Result<Option<usize>, TrainError> {
    find(name)?;
    match name {
        "ppo" => {
            let mut config = PpoConfig::for_env(env_id);
            apply(settings, |k, v| config.set(k, v))?;
            Ok(Some(config.total_timesteps))
        }
        "reinforce" => {
            let mut config = ReinforceConfig::for_env(env_id);
            apply(settings, |k, v| config.set(k, v))?;
            Ok(Some(config.total_timesteps))
        }
        "a2c" => {
            let mut config = A2cConfig::for_env(env_id);
            apply(settings, |k, v| config.set(k, v))?;
            Ok(Some(config.total_timesteps))
        }
        "trpo" => {
            let mut config = TrpoConfig::for_env(env_id);
            apply(settings, |k, v| config.set(k, v))?;
            Ok(Some(config.total_timesteps))
        }
        "npg" => {
            let mut config = TrpoConfig::npg_for_env(env_id);
            apply(settings, |k, v| config.set(k, v))?;
            Ok(Some(config.total_timesteps))
        }
        "dqn" => {
            let mut config = DqnConfig::for_env(env_id);
            apply(settings, |k, v| config.set(k, v))?;
            Ok(Some(config.total_timesteps))
        }
        "ddpg" => {
            let mut config = DdpgConfig::for_env(env_id);
            apply(settings, |k, v| config.set(k, v))?;
            Ok(Some(config.total_timesteps))
        }
        "td3" => {
            let mut config = Td3Config::for_env(env_id);
            apply(settings, |k, v| config.set(k, v))?;
            Ok(Some(config.total_timesteps))
        }
        "sac" => {
            let mut config = SacConfig::for_env(env_id);
            apply(settings, |k, v| config.set(k, v))?;
            Ok(Some(config.total_timesteps))
        }
        _ => Ok(None),
    }
}

/// The registry entry called `name`.
pub fn find(name: &str) -> Result<&'static Algorithm, TrainError> {
    ALGORITHMS.iter().find(|a| a.name == name).ok_or_else(|| {
        let valid: Vec<&str> = ALGORITHMS.iter().map(|a| a.name).collect();
        TrainError::Config(format!(
            "unknown algorithm `{name}`; valid algorithms: {}",
            valid.join(", ")
        ))
    })
}

/// The Gymnasium ids the environments registry knows.
pub fn environment_ids() -> impl Iterator<Item = &'static str> {
    REGISTERED.iter().map(|(id, _)| *id)
}

/// Applies `settings` to `config` with its `set`, trains with it, and keeps the resolved
/// configuration beside the agent.
fn run<C: std::fmt::Debug, A: Agent + 'static>(
    mut config: C,
    settings: &[(String, String)],
    set: fn(&mut C, &str, &str) -> Result<(), String>,
    train: impl FnOnce(&C) -> Result<A, TrainError>,
) -> Result<Run, TrainError> {
    apply(settings, |k, v| set(&mut config, k, v))?;
    let trained = train(&config)?;
    Ok(Run {
        agent: Box::new(trained),
        config: format!("{config:#?}"),
    })
}

fn apply(
    settings: &[(String, String)],
    mut set: impl FnMut(&str, &str) -> Result<(), String>,
) -> Result<(), TrainError> {
    for (key, value) in settings {
        set(key, value).map_err(TrainError::Config)?;
    }
    Ok(())
}
