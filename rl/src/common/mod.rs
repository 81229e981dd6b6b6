//! # What every trainer shares
//!
//! - [`config`]: configurations as data — `serde` structs, defaults and per-environment
//!   presets in `rl/presets/*.toml`, overrides from text, one validator of declared ranges;
//! - [`trainer`]: the [`trainer::Trainer`] trait every algorithm implements and the one loop
//!   around it (resume, metrics, snapshots of the parts it lists);
//! - [`on_policy`]: the rollout environments and the flattened batch of the on-policy trainers.

pub mod config;
pub mod on_policy;
pub mod trainer;
