//! The settings every off-policy actor-critic (DDPG, TD3, SAC, DIAYN) and DQN share.

use serde::{Deserialize, Serialize};

use crate::common::config::Range;

/// The budget, replay, batch, discount, target averaging, learning rate, training schedule and
/// network sizes of an off-policy learner, as one piece of its configuration (DQN's, DDPG's,
/// TD3's, SAC's, DIAYN's), flattened into it with `#[serde(flatten)]`: in presets and on the
/// command line they stay Stable-Baselines3's flat keys (`buffer_size`, `tau`, …).
///
/// ```
/// use wengert_rl::algorithms::{ddpg::DdpgConfig, preset};
/// use wengert_rl::common::config::set;
/// let mut config: DdpgConfig = preset("ddpg", "Pendulum-v1").unwrap();
/// assert_eq!(config.core.gamma, 0.98); // `gamma` of the Pendulum-v1 preset
/// set(&mut config, "tau", "0.01").unwrap();
/// assert_eq!(config.core.tau, 0.01);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OffPolicyCoreConfig {
    /// Environment steps to train for (over all environments).
    pub total_timesteps: usize,
    /// Capacity of the replay buffer `D` (at most `total_timesteps` slots are allocated).
    pub buffer_size: usize,
    /// Steps of uniformly random actions before learning starts.
    pub learning_starts: usize,
    /// Transitions per gradient step.
    pub batch_size: usize,
    /// `γ`.
    pub gamma: f64,
    /// `τ` of the Polyak averaging of the targets (1: copy them).
    pub tau: f64,
    /// Adam's learning rate, for every network (and SAC's `ln α`); DQN's `α₀` when it anneals.
    pub learning_rate: f64,
    /// Environment steps between training phases.
    pub train_freq: usize,
    /// Gradient steps per training phase.
    pub gradient_steps: usize,
    /// Hidden layer sizes of every network (the actor, each critic, the Q-network).
    pub hidden: Vec<usize>,
}

impl OffPolicyCoreConfig {
    /// The valid ranges of its settings, for the configurations'
    /// [`Config::RANGES`](crate::common::config::Config::RANGES).
    pub const RANGES: [(&'static str, Range); 10] = [
        ("total_timesteps", Range::at_least(1.0)),
        ("buffer_size", Range::at_least(1.0)),
        ("learning_starts", Range::at_least(0.0)),
        ("batch_size", Range::at_least(1.0)),
        ("gamma", Range::unit()),
        // τ = 0 would freeze the targets at their initial values
        ("tau", Range::left_open(0.0, 1.0)),
        ("learning_rate", Range::positive()),
        ("train_freq", Range::at_least(1.0)),
        ("gradient_steps", Range::at_least(1.0)),
        ("hidden", Range::at_least(1.0)),
    ];
}
