//! The hyperparameters of PPO-clip's update that PPO and recurrent PPO share.

use serde::{Deserialize, Serialize};

use crate::common::config::Range;

/// PPO-clip's learning rate, epochs, clipped objective, loss coefficients,
/// gradient clipping and early stop, as one piece of a PPO configuration (PPO's, recurrent
/// PPO's), flattened into it with `#[serde(flatten)]`: in presets and on the command line they
/// stay flat keys (`clip_coef`, `ent_coef`, …, CleanRL's names).
///
/// ```
/// use wengert_rl::algorithms::{ppo::PpoConfig, preset};
/// use wengert_rl::common::config::set;
/// let mut config: PpoConfig = preset("ppo", "CartPole-v1").unwrap();
/// set(&mut config, "clip_coef", "0.1").unwrap();
/// assert_eq!(config.ppo.clip_coef, 0.1);
/// assert_eq!(config.ppo.update_epochs, 20); // `update_epochs` of the CartPole-v1 preset
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PpoCoreConfig {
    /// Adam's learning rate `α`.
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0.
    pub anneal_lr: bool,
    /// `K`: epochs per rollout.
    pub update_epochs: usize,
    /// Normalise advantages per minibatch.
    pub norm_adv: bool,
    /// `ε` of the clipped surrogate.
    pub clip_coef: f64,
    /// `c_H`: entropy bonus.
    pub ent_coef: f64,
    /// `c_v`: value loss coefficient.
    pub vf_coef: f64,
    /// Maximum global gradient norm.
    pub max_grad_norm: f64,
    /// Stop an update's epochs early when the approximate KL exceeds this (`none`: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_kl: Option<f64>,
}

impl PpoCoreConfig {
    /// The valid ranges of its numeric settings, for the configurations'
    /// [`Config::RANGES`](crate::common::config::Config::RANGES).
    pub const RANGES: [(&'static str, Range); 7] = [
        ("learning_rate", Range::positive()),
        ("update_epochs", Range::at_least(1.0)),
        ("clip_coef", Range::positive()),
        ("ent_coef", Range::non_negative()),
        ("vf_coef", Range::non_negative()),
        ("max_grad_norm", Range::positive()),
        ("target_kl", Range::positive()),
    ];
}
