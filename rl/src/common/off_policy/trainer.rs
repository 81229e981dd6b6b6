//! The [`Trainer`] of every off-policy algorithm, written once: an algorithm is its learner
//! ([`Learner`]) and how it is built, listed and handed over ([`OffPolicyAlgorithm`]).

use super::{Learner, OffPolicy, Schedule, Settings};
use crate::common::config::Config;
use crate::common::trainer::{Part, Report, Trainer};
use crate::train::{Agent, TrainError};

/// An off-policy algorithm: a [`Learner`] the shared loop drives, and what the [`Trainer`]
/// skeleton needs to build, snapshot and finish it.
pub trait OffPolicyAlgorithm: Learner + Sized {
    /// The registry name, e.g. `sac`.
    const NAME: &'static str;
    /// Its hyperparameters.
    type Config: Config;
    /// What training leaves.
    type Agent: Agent + 'static;

    /// The environment the loop runs in, for the Gymnasium id `env_id`: by default that
    /// environment itself (a wrapper, e.g. DIAYN's `+skills=K`, otherwise).
    fn env_id(env_id: &str, config: &Self::Config) -> String {
        let _ = config;
        env_id.to_string()
    }

    /// When the loop acts and learns: by default [`Schedule::of`] the configuration.
    fn schedule(config: &Self::Config) -> Schedule {
        Schedule::of(config)
    }

    /// How the loop's environments, replay and exploration are set up: by default
    /// [`Settings::of`] the configuration.
    fn settings(config: &Self::Config) -> Settings {
        Settings::of(config)
    }

    /// The networks and optimisers, initialised from `off_policy`'s generator.
    fn new(
        env_id: &str,
        config: &Self::Config,
        off_policy: &mut OffPolicy,
    ) -> Result<Self, TrainError>;

    /// The learner's resumable parts (the loop lists its own).
    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)>;

    /// The trained agent.
    fn into_agent(self, env_id: String, off_policy: OffPolicy) -> Self::Agent;
}

/// The trainer of an off-policy algorithm `L`: its learner and the loop's state.
pub struct OffPolicyTrainer<L: OffPolicyAlgorithm> {
    schedule: Schedule,
    env_id: String,
    learner: L,
    off_policy: OffPolicy,
}

impl<L: OffPolicyAlgorithm> Trainer for OffPolicyTrainer<L> {
    const NAME: &'static str = L::NAME;
    type Config = L::Config;
    type Agent = L::Agent;

    fn steps_per_iteration(config: &L::Config) -> usize {
        L::schedule(config).log_interval
    }

    fn iterations(config: &L::Config) -> usize {
        L::schedule(config).iterations()
    }

    fn new(env_id: &str, config: &L::Config) -> Result<Self, TrainError> {
        let env_id = L::env_id(env_id, config);
        let mut off_policy = OffPolicy::new(&env_id, &L::settings(config))?;
        let learner = L::new(&env_id, config, &mut off_policy)?;
        Ok(OffPolicyTrainer {
            schedule: L::schedule(config),
            env_id,
            learner,
            off_policy,
        })
    }

    fn iterate(&mut self, iteration: usize) -> Result<Report, TrainError> {
        self.off_policy
            .iterate(&mut self.learner, &self.schedule, iteration)
    }

    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        let mut parts = self.learner.parts();
        parts.extend(self.off_policy.parts());
        parts
    }

    fn into_agent(self) -> L::Agent {
        self.learner.into_agent(self.env_id, self.off_policy)
    }
}
