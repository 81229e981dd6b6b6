//! # The algorithms, and the registry that trains any of them by name
//!
//! One file per algorithm, each in the same order: its math (Background → Key equations →
//! Pseudocode), its configuration, its loss functions, its update, its loop (a
//! [`Trainer`]). No algorithm imports another: what two share
//! lives in [`crate::common`] and the modules below it.
//!
//! [`ALGORITHMS`] is the registry: one row per algorithm, with its presets file
//! (`rl/presets/<name>.toml`, embedded) and the trainer behind it, so that the command line, the
//! learning report and the tests can resolve a configuration, train, resume and rebuild an
//! agent of any of them with the same calls.

pub mod a2c;

pub mod ddpg;

pub mod diayn;

pub mod dqn;

pub mod impala;

pub mod ppo;

pub mod r2d2;
pub mod recurrent_ppo;

pub mod reinforce;

pub mod sac;

pub mod td3;

pub mod trpo;

use std::marker::PhantomData;

use crate::common::config::{self, Config};
use crate::common::trainer::{self, Iteration, Trainer};
use crate::env::{REGISTERED, Shaping, Space, make};
use crate::snapshot::TrainingState;
use crate::train::{Agent, IterationMetrics, TrainError};

/// An algorithm the registry can train.
pub struct Algorithm {
    /// The name on the command line, e.g. `"ppo"`.
    pub name: &'static str,
    /// One line about it.
    pub about: &'static str,
    /// Whether it handles discrete action spaces.
    pub discrete: bool,
    /// Whether it handles continuous (box) action spaces.
    pub continuous: bool,
    /// Its defaults and per-environment presets, as TOML (`rl/presets/<name>.toml`).
    pub presets: &'static str,
    driver: &'static dyn Driver,
}

impl Algorithm {
    /// The valid range of every numeric setting, by name (its configuration's
    /// [`Config::RANGES`]).
    pub fn ranges(&self) -> &'static [(&'static str, config::Range)] {
        self.driver.ranges()
    }
}

impl std::fmt::Debug for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Algorithm")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Every algorithm, in the order `wengert list` shows them.
pub const ALGORITHMS: &[Algorithm] = &[
    Algorithm {
        name: "ppo",
        about: "Proximal Policy Optimization: clipped surrogate, GAE, minibatch epochs",
        discrete: true,
        continuous: true,
        presets: include_str!("../../presets/ppo.toml"),
        driver: &Entry::<ppo::Ppo>(PhantomData),
    },
    Algorithm {
        name: "recurrent_ppo",
        about: "Recurrent PPO: LSTM actor-critic, state carried and reset at episode starts, sequence minibatches",
        discrete: true,
        continuous: true,
        presets: include_str!("../../presets/recurrent_ppo.toml"),
        driver: &Entry::<recurrent_ppo::RecurrentPpo>(PhantomData),
    },
    Algorithm {
        name: "reinforce",
        about: "REINFORCE (vanilla policy gradient): reward-to-go, learned baseline, one step per batch",
        discrete: true,
        continuous: true,
        presets: include_str!("../../presets/reinforce.toml"),
        driver: &Entry::<reinforce::Reinforce>(PhantomData),
    },
    Algorithm {
        name: "a2c",
        about: "Advantage Actor-Critic: synchronous n-step returns, entropy bonus, RMSprop",
        discrete: true,
        continuous: true,
        presets: include_str!("../../presets/a2c.toml"),
        driver: &Entry::<a2c::A2c>(PhantomData),
    },
    Algorithm {
        name: "trpo",
        about: "Trust Region Policy Optimization: natural gradient by conjugate gradient, KL line search",
        discrete: true,
        continuous: true,
        presets: include_str!("../../presets/trpo.toml"),
        driver: &Entry::<trpo::Trpo>(PhantomData),
    },
    Algorithm {
        name: "npg",
        about: "Natural policy gradient: conjugate gradient on Fisher-vector products, step to the KL radius",
        discrete: true,
        continuous: true,
        presets: include_str!("../../presets/npg.toml"),
        driver: &Entry::<trpo::Trpo>(PhantomData),
    },
    Algorithm {
        name: "impala",
        about: "IMPALA: actor threads, a learner with V-trace off-policy correction; deterministic mode",
        discrete: true,
        continuous: true,
        presets: include_str!("../../presets/impala.toml"),
        driver: &Entry::<impala::Impala>(PhantomData),
    },
    Algorithm {
        name: "dqn",
        about: "Deep Q-Network: replay, target network, Huber loss; switches double, dueling, prioritized, n_step",
        discrete: true,
        continuous: false,
        presets: include_str!("../../presets/dqn.toml"),
        driver: &Entry::<dqn::Dqn>(PhantomData),
    },
    Algorithm {
        name: "r2d2",
        about: "R2D2: LSTM dueling Q, sequence replay with stored state and burn-in, n-step rescaled double-Q",
        discrete: true,
        continuous: false,
        presets: include_str!("../../presets/r2d2.toml"),
        driver: &Entry::<r2d2::R2d2>(PhantomData),
    },
    Algorithm {
        name: "ddpg",
        about: "Deep Deterministic Policy Gradient: deterministic actor, target networks",
        discrete: false,
        continuous: true,
        presets: include_str!("../../presets/ddpg.toml"),
        driver: &Entry::<ddpg::Ddpg>(PhantomData),
    },
    Algorithm {
        name: "td3",
        about: "TD3: clipped double Q, target policy smoothing, delayed policy updates",
        discrete: false,
        continuous: true,
        presets: include_str!("../../presets/td3.toml"),
        driver: &Entry::<td3::Td3>(PhantomData),
    },
    Algorithm {
        name: "sac",
        about: "Soft Actor-Critic: twin Q, tanh-Gaussian policy, automatic temperature",
        discrete: false,
        continuous: true,
        presets: include_str!("../../presets/sac.toml"),
        driver: &Entry::<sac::Sac>(PhantomData),
    },
    Algorithm {
        name: "diayn",
        about: "DIAYN: skills without a reward, SAC on log q(z|s) − log p(z), state discriminator",
        discrete: false,
        continuous: true,
        presets: include_str!("../../presets/diayn.toml"),
        driver: &Entry::<diayn::Diayn>(PhantomData),
    },
];

/// A finished training run: the agent, every iteration's metrics, and the resolved
/// configuration (as TOML).
pub struct Run {
    pub agent: Box<dyn Agent>,
    pub history: Vec<IterationMetrics>,
    pub config: String,
}

/// Other names of registry entries, as other libraries call them: `(alias, name)`.
pub const ALIASES: &[(&str, &str)] = &[("ppo_lstm", "recurrent_ppo")];

/// The registry entry called `name` (or an [`ALIASES`] name of it); an unknown name is an error
/// listing the valid ones.
///
/// ```
/// use wengert_rl::algorithms::find;
/// assert_eq!(find("ppo_lstm").unwrap().name, "recurrent_ppo"); // rl-zoo's name
/// assert!(find("ppo_gru").is_err());
/// ```
pub fn find(name: &str) -> Result<&'static Algorithm, TrainError> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, canonical)| canonical);
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

/// The preset of algorithm `name` for `env_id`, as its configuration type.
///
/// ```
/// use wengert_rl::algorithms::{preset, ppo::PpoConfig};
/// let cartpole: PpoConfig = preset("ppo", "CartPole-v1").unwrap();
/// assert_eq!((cartpole.rollout.total_timesteps, cartpole.ppo.update_epochs), (100_000, 20));
/// ```
pub fn preset<C: Config>(name: &str, env_id: &str) -> Result<C, TrainError> {
    config::preset(find(name)?.presets, env_id).map_err(TrainError::Config)
}

/// The configuration algorithm `name` would train with on `env_id`: its preset, the `seed`,
/// then `settings` as `key = value` overrides — checked (every setting in its range, a budget
/// of at least one iteration) and written as TOML. The error names the setting at fault.
///
/// ```
/// use wengert_rl::algorithms::resolve;
/// let set = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
/// let config = resolve("ppo", "CartPole-v1", 1, &set("gamma", "0.95")).unwrap();
/// assert!(config.contains("gamma = 0.95"));
/// let error = resolve("ppo", "CartPole-v1", 1, &set("gamma", "1.5")).unwrap_err().to_string();
/// assert!(error.contains("`gamma`") && error.contains("[0, 1]"), "{error}");
/// let error = resolve("ppo", "CartPole-v1", 1, &set("learning_rate", "nan")).unwrap_err();
/// assert!(error.to_string().contains("`learning_rate`"));
/// ```
pub fn resolve(
    name: &str,
    env_id: &str,
    seed: u64,
    settings: &[(String, String)],
) -> Result<String, TrainError> {
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
    let (shaping, settings): (Vec<_>, Vec<_>) = settings
        .iter()
        .cloned()
        .partition(|(key, _)| key == SHAPING);
    let resolved = algorithm
        .driver
        .resolve(algorithm.presets, env_id, seed, &settings)?;
    match shaping.last() {
        None => Ok(resolved),
        Some((_, text)) => {
            let mut table: toml::Table = toml::from_str(&resolved).expect("resolve writes TOML");
            table.insert(SHAPING.into(), toml::Value::String(text.clone()));
            let wrapped = toml::to_string(&table).expect("a table serialises");
            shaped_env(env_id, &wrapped)?;
            Ok(wrapped)
        }
    }
}

/// The setting that wraps the environment of any algorithm in potential-based reward shaping
/// (`--set shaping=height`; see [`crate::env::Shaping`]), at the algorithm's `gamma`.
pub const SHAPING: &str = "shaping";

/// The environment id a resolved configuration trains on, and the configuration without the
/// [`SHAPING`] setting: `env_id` itself, or its shaped id ([`Shaping::wrap_id`]) with `γ` the
/// configuration's `gamma`. The shaped environment is built once to check the potential fits.
///
/// ```
/// use wengert_rl::algorithms::{resolve, shaped_env};
/// let set = [("shaping".to_string(), "height:50".to_string())];
/// let config = resolve("ppo", "MountainCar-v0", 1, &set).unwrap();
/// assert!(config.contains("shaping = \"height:50\""));
/// let (env, config) = shaped_env("MountainCar-v0", &config).unwrap();
/// assert_eq!(env, "MountainCar-v0+shaping=height:50@0.99");
/// assert!(!config.contains("shaping"));
/// let error = resolve("ppo", "CartPole-v1", 1, &set).unwrap_err().to_string();
/// assert!(error.contains("not for CartPole-v1"), "{error}");
/// ```
pub fn shaped_env(env_id: &str, config: &str) -> Result<(String, String), TrainError> {
    let mut table: toml::Table = toml::from_str(config)
        .map_err(|e| TrainError::Config(format!("the saved configuration: {e}")))?;
    let Some(shaping) = table.remove(SHAPING) else {
        return Ok((env_id.to_string(), config.to_string()));
    };
    let text = shaping.as_str().unwrap_or_default().to_string();
    let gamma = table
        .get("gamma")
        .and_then(|g| g.as_float())
        .ok_or_else(|| {
            TrainError::Config(
                "`shaping` needs the algorithm's discount `gamma` (F = γ Φ(s') − Φ(s))".into(),
            )
        })?;
    let shaping = Shaping::parse(&text, gamma)?;
    shaping.potential(env_id).map(drop)?;
    Ok((
        shaping.wrap_id(env_id),
        toml::to_string(&table).expect("a table serialises"),
    ))
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
/// assert_eq!(run.history.len(), 1);
/// ```
pub fn train_from(
    name: &str,
    env_id: &str,
    seed: u64,
    settings: &[(String, String)],
    resume: Option<&TrainingState>,
    on_iteration: &mut dyn FnMut(&Iteration<'_>) -> bool,
) -> Result<Run, TrainError> {
    let config = resolve(name, env_id, seed, settings)?;
    train_resolved(name, env_id, &config, resume, on_iteration)
}

/// Trains with a configuration [`resolve`] wrote (what a run directory keeps).
pub fn train_resolved(
    name: &str,
    env_id: &str,
    config: &str,
    resume: Option<&TrainingState>,
    on_iteration: &mut dyn FnMut(&Iteration<'_>) -> bool,
) -> Result<Run, TrainError> {
    let (env_id, config) = shaped_env(env_id, config)?;
    find(name)?
        .driver
        .train(&env_id, &config, resume, on_iteration)
}

/// The untrained agent of algorithm `name` on `env_id` with a configuration [`resolve`] wrote
/// (its networks shaped by the configuration, initialised from its seed): what `eval` loads a
/// checkpoint into.
pub fn build(name: &str, env_id: &str, config: &str) -> Result<Box<dyn Agent>, TrainError> {
    let (env_id, config) = shaped_env(env_id, config)?;
    find(name)?.driver.build(&env_id, &config)
}

/// The environment-step budget [`train`] would use for algorithm `name` on `env_id` with
/// `settings`, found without training (for progress bars and ETAs); checks the settings on the
/// way.
///
/// ```
/// use wengert_rl::algorithms::total_timesteps;
/// assert_eq!(total_timesteps("ppo", "CartPole-v1", &[]).unwrap(), 100_000);
/// let settings = [("total_timesteps".to_string(), "2048".to_string())];
/// assert_eq!(total_timesteps("ppo", "CartPole-v1", &settings).unwrap(), 2048);
/// let bad = [("gama".to_string(), "0.9".to_string())];
/// assert!(total_timesteps("ppo", "CartPole-v1", &bad).is_err());
/// ```
pub fn total_timesteps(
    name: &str,
    env_id: &str,
    settings: &[(String, String)],
) -> Result<usize, TrainError> {
    let config = resolve(name, env_id, 1, settings)?;
    let table: toml::Table = toml::from_str(&config).expect("resolve writes TOML");
    Ok(table
        .get("total_timesteps")
        .and_then(|v| v.as_integer())
        .unwrap_or(0) as usize)
}

/// What the registry needs of a trainer, with its configuration type erased.
trait Driver: Sync {
    fn resolve(
        &self,
        presets: &str,
        env_id: &str,
        seed: u64,
        settings: &[(String, String)],
    ) -> Result<String, TrainError>;
    fn train(
        &self,
        env_id: &str,
        config: &str,
        resume: Option<&TrainingState>,
        on_iteration: &mut dyn FnMut(&Iteration<'_>) -> bool,
    ) -> Result<Run, TrainError>;
    fn build(&self, env_id: &str, config: &str) -> Result<Box<dyn Agent>, TrainError>;
    fn ranges(&self) -> &'static [(&'static str, config::Range)];
}

/// The [`Driver`] of trainer `T`.
struct Entry<T>(PhantomData<fn() -> T>);

impl<T: Trainer> Entry<T> {
    fn parse(config: &str) -> Result<T::Config, TrainError> {
        config::from_toml(config)
            .map_err(|e| TrainError::Config(format!("the saved configuration: {e}")))
    }
}

impl<T: Trainer> Driver for Entry<T> {
    fn resolve(
        &self,
        presets: &str,
        env_id: &str,
        seed: u64,
        settings: &[(String, String)],
    ) -> Result<String, TrainError> {
        let mut config: T::Config = config::preset(presets, env_id).map_err(TrainError::Config)?;
        config::set(&mut config, "seed", &seed.to_string()).map_err(TrainError::Config)?;
        for (key, value) in settings {
            config::set(&mut config, key, value).map_err(TrainError::Config)?;
        }
        trainer::check::<T>(&config)?;
        Ok(config::to_toml(&config))
    }

    fn train(
        &self,
        env_id: &str,
        config: &str,
        resume: Option<&TrainingState>,
        on_iteration: &mut dyn FnMut(&Iteration<'_>) -> bool,
    ) -> Result<Run, TrainError> {
        let parsed = Self::parse(config)?;
        let trained = trainer::train_from::<T>(env_id, &parsed, resume, on_iteration)?;
        Ok(Run {
            agent: Box::new(trained.agent),
            history: trained.history,
            config: config::to_toml(&parsed),
        })
    }

    fn build(&self, env_id: &str, config: &str) -> Result<Box<dyn Agent>, TrainError> {
        let parsed = Self::parse(config)?;
        config::validate(&parsed).map_err(TrainError::Config)?;
        Ok(Box::new(T::new(env_id, &parsed)?.into_agent()))
    }

    fn ranges(&self) -> &'static [(&'static str, config::Range)] {
        T::Config::RANGES
    }
}
