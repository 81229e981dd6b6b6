//! The rollout settings that the on-policy trainers REINFORCE, A2C, PPO, TRPO (and NPG) and
//! recurrent PPO share.

use serde::{Deserialize, Serialize};

use crate::common::config::Range;

/// An on-policy run's budget, its `N` environments of `T` steps a rollout, the discount `γ`,
/// observation normalisation and the threads stepping the environments, as one piece of an
/// on-policy configuration (REINFORCE's, A2C's, PPO's, TRPO's, recurrent PPO's), flattened into
/// it with `#[serde(flatten)]`: in presets and on the command line they stay flat keys
/// (`num_envs`, `gamma`, …, CleanRL's and Stable-Baselines3's names). GAE's `λ` is each GAE
/// trainer's own setting (`gae_lambda`): REINFORCE's returns are the rewards-to-go.
///
/// ```
/// use wengert_rl::algorithms::{ppo::PpoConfig, preset};
/// use wengert_rl::common::config::set;
/// let mut config: PpoConfig = preset("ppo", "CartPole-v1").unwrap();
/// assert_eq!(config.rollout.gamma, 0.98); // `gamma` of the CartPole-v1 preset
/// set(&mut config, "num_steps", "64").unwrap();
/// assert_eq!(config.rollout.num_envs * config.rollout.num_steps, 512);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutConfig {
    /// Environment steps to train for (over all environments).
    pub total_timesteps: usize,
    /// `N`: parallel environments.
    pub num_envs: usize,
    /// `T`: steps per environment per rollout (A2C's `n`; REINFORCE's batch).
    pub num_steps: usize,
    /// `γ`.
    pub gamma: f64,
    /// Normalise observations by running mean and std.
    pub normalize_observations: bool,
    /// Threads stepping the environments (1: step them on the learner's thread).
    pub env_threads: usize,
}

impl RolloutConfig {
    /// `N T`: the environment steps of one rollout, its trainer's iteration.
    ///
    /// ```
    /// use wengert_rl::algorithms::{a2c::A2cConfig, preset};
    /// let config: A2cConfig = preset("a2c", "CartPole-v1").unwrap();
    /// let rollout = &config.rollout;
    /// assert_eq!(rollout.steps_per_iteration(), rollout.num_envs * rollout.num_steps);
    /// assert_eq!(rollout.iterations(), rollout.total_timesteps / rollout.steps_per_iteration());
    /// ```
    pub fn steps_per_iteration(&self) -> usize {
        self.num_envs * self.num_steps
    }

    /// The iterations the budget allows, `⌊total_timesteps / (N T)⌋`.
    pub fn iterations(&self) -> usize {
        self.total_timesteps / self.steps_per_iteration()
    }

    /// The valid ranges of its numeric settings, for the configurations'
    /// [`Config::RANGES`](crate::common::config::Config::RANGES).
    pub const RANGES: [(&'static str, Range); 5] = [
        ("total_timesteps", Range::at_least(1.0)),
        ("num_envs", Range::at_least(1.0)),
        ("num_steps", Range::at_least(1.0)),
        ("gamma", Range::unit()),
        ("env_threads", Range::at_least(1.0)),
    ];
}
