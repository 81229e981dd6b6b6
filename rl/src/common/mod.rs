//! # What every trainer shares
//!
//! - [`config`]: configurations as data — `serde` structs, defaults and per-environment
//!   presets in `rl/presets/*.toml`, overrides from text, one validator of declared ranges;
//! - [`trainer`]: the [`trainer::Trainer`] trait every algorithm implements and the one loop
//!   around it (resume, metrics, snapshots of the parts it lists);
//! - [`on_policy`]: the rollout environments and the flattened batch of the on-policy trainers;
//! - [`clipped_objective`]: PPO's clipped surrogate, clipped value and their diagnostics, for
//!   PPO and recurrent PPO;
//! - [`ppo_config`]: the hyperparameters of PPO's update that PPO and recurrent PPO share;
//! - [`rollout_config`]: the rollout settings A2C, PPO, TRPO and recurrent PPO share;
//! - [`off_policy`]: the collect → replay → update loop of the off-policy trainers, its
//!   environments, replay and exploration, and the [`off_policy::OffPolicyTrainer`] around it.

pub mod clipped_objective;
pub mod config;
pub mod off_policy;
pub mod on_policy;
pub mod ppo_config;
pub mod rollout_config;
pub mod trainer;
