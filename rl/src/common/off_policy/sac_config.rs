//! The settings of SAC's loop and update that SAC and DIAYN (SAC on a skill-conditioned
//! environment) share.

use serde::{Deserialize, Serialize};

use crate::common::config::Range;

/// SAC's budget, replay, batch, discount, target averaging, learning rate, training schedule
/// and network sizes, as one piece of a SAC-based configuration (SAC's, DIAYN's), flattened
/// into it with `#[serde(flatten)]`: in presets and on the command line they stay
/// Stable-Baselines3's flat keys (`buffer_size`, `tau`, …).
///
/// ```
/// use wengert_rl::algorithms::{preset, sac::SacConfig};
/// use wengert_rl::common::config::set;
/// let mut config: SacConfig = preset("sac", "Pendulum-v1").unwrap();
/// assert_eq!(config.sac.learning_rate, 1e-3); // `learning_rate` of the Pendulum-v1 preset
/// set(&mut config, "tau", "0.01").unwrap();
/// assert_eq!(config.sac.tau, 0.01);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SacCoreConfig {
    /// Environment steps to train for.
    pub total_timesteps: usize,
    /// Capacity of the replay buffer `D` (at most `total_timesteps` slots are allocated).
    pub buffer_size: usize,
    /// Steps of uniformly random actions before learning starts.
    pub learning_starts: usize,
    /// Transitions per gradient step.
    pub batch_size: usize,
    /// `γ`.
    pub gamma: f64,
    /// `τ` of the Polyak averaging of the target critics.
    pub tau: f64,
    /// Adam's learning rate, for every network (and SAC's `ln α`).
    pub learning_rate: f64,
    /// Environment steps between training phases.
    pub train_freq: usize,
    /// Gradient steps per training phase.
    pub gradient_steps: usize,
    /// Gradient steps between target updates.
    pub target_update_interval: usize,
    /// Hidden layer sizes of the actor and of each critic.
    pub hidden: Vec<usize>,
}

impl SacCoreConfig {
    /// The valid ranges of its settings, for the configurations'
    /// [`Config::RANGES`](crate::common::config::Config::RANGES).
    pub const RANGES: [(&'static str, Range); 11] = [
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
        ("target_update_interval", Range::at_least(1.0)),
        ("hidden", Range::at_least(1.0)),
    ];
}
