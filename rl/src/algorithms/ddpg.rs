//! # Deep Deterministic Policy Gradient (DDPG)
//!
//! ## Background
//! Q-learning for continuous actions (Lillicrap et al., 2016): the `max_a Q(s', a)` of the
//! Bellman target is intractable over a continuous `a`, so a deterministic actor `μ_θ(s)` is
//! trained to be that maximiser, by the deterministic policy gradient (Silver et al., 2014)
//! `∇_θ J = E_s[∇_a Q_φ(s, a)|_{a=μ_θ(s)} ∇_θ μ_θ(s)]`. Slowly moving target networks keep the
//! bootstrapped targets stable; exploration comes from noise added to `μ_θ(s)` (Gaussian, or
//! the paper's Ornstein–Uhlenbeck process — [`ActionNoise`]).
//!
//! ## Key equations
//! $$ y = r + \gamma (1 - d) Q_{\bar\phi}\big(s', \mu_{\bar\theta}(s')\big) , $$
//!
//! $$ L(\phi) = \mathbb E_D\big[(Q_\phi(s, a) - y)^2\big] , \qquad L(\theta) = -\mathbb E_{s \sim D}\big[Q_\phi(s, \mu_\theta(s))\big] , $$
//!
//! then `θ̄ ← τ θ + (1 − τ) θ̄`, `φ̄ ← τ φ + (1 − τ) φ̄`. (TD3 is this with twin critics,
//! target policy smoothing and delayed actor updates.)
//!
//! ## Pseudocode
//! ```text
//! initialise θ, φ; θ̄ ← θ; φ̄ ← φ; D ← ∅
//! for t = 1 … total_timesteps:
//!     ã ← uniform in [−1, 1]^|A| if t ≤ learning_starts, else clip(μ_θ(s) + noise, −1, 1)
//!     step the environment with scale(ã); store (s, ã, r, s', d) in D
//!     if t > learning_starts and t mod train_freq = 0, repeat gradient_steps times:
//!         sample a batch B from D
//!         y = r + γ (1 − d) Q_φ̄(s', μ_θ̄(s'))
//!         φ ← Adam step on mean_B (Q_φ(s, a) − y)²
//!         θ ← Adam step on −mean_B Q_φ(s, μ_θ(s))
//!         θ̄ ← τ θ + (1 − τ) θ̄;  φ̄ ← τ φ + (1 − τ) φ̄
//! ```
//! The environment side of the loop is [`crate::continuous::OffPolicy`]; this file is the
//! update.

use autograd::{Float, Tape, Tensor, Var, no_grad};
use ndarray::Array2;
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{Bound, ParamStore};
use serde::{Deserialize, Serialize};

use crate::buffers::Batch;
use crate::common::config::{Config, Range};
use crate::common::trainer::{Part, Report, Trainer};
use crate::continuous::{
    ActionNoise, ContinuousAgent, DeterministicActor, Learner, OffPolicy, PolicyHead, QNetwork,
    Schedule, Transitions, deterministic_policy_loss, mean, merge_stores, to_rows,
};
use crate::snapshot::TrainerRng;
use crate::train::{TrainError, check_finite};

/// DDPG's hyperparameters. The defaults (`[defaults]` of `rl/presets/ddpg.toml`) are
/// Stable-Baselines3's; the file's per-environment tables are the RL Baselines3 Zoo's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DdpgConfig {
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
    /// `τ` of the Polyak averaging of the targets.
    pub tau: f64,
    /// Adam's learning rate, for the actor and the critic.
    pub learning_rate: f64,
    /// Environment steps between training phases.
    pub train_freq: usize,
    /// Gradient steps per training phase.
    pub gradient_steps: usize,
    /// Exploration noise on the actor's action: `none`, `normal:SIGMA` or `ou:SIGMA`.
    pub action_noise: ActionNoise,
    /// Hidden layer sizes of the actor and of the critic.
    pub hidden: Vec<usize>,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
    /// Environment steps per iteration (between reported metrics).
    pub log_interval: usize,
}

impl Config for DdpgConfig {
    const RANGES: &'static [(&'static str, Range)] = &[
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
        ("seed", Range::at_least(0.0)),
        ("log_interval", Range::at_least(1.0)),
    ];
}

impl DdpgConfig {
    /// When the shared loop acts and learns.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            total_timesteps: self.total_timesteps,
            learning_starts: self.learning_starts,
            batch_size: self.batch_size,
            train_freq: self.train_freq,
            gradient_steps: self.gradient_steps,
            log_interval: self.log_interval,
        }
    }
}

// ---- the losses ----

/// The target `y = r + γ(1 − d) Q_φ̄(s', μ_θ̄(s'))` of a batch, computed without recording
/// (`γ^m (1 − d)` is `batch.bootstrap`).
pub fn critic_target<T: Float>(
    actor: &DeterministicActor,
    actor_target: &Bound<'_, T>,
    critic: &QNetwork,
    critic_target: &Bound<'_, T>,
    batch: &Transitions<T>,
) -> Var<T> {
    no_grad(|| {
        let next_actions = actor.forward(actor_target, &batch.next_observations);
        let q_next = critic.forward(critic_target, &batch.next_observations, &next_actions);
        batch.rewards.add(&batch.bootstrap.mul(&q_next))
    })
}

/// The critic loss `L(φ) = mean_B (Q_φ(s, a) − y)²`, with `mean_B Q_φ(s, a)` (`q_mean`).
pub fn critic_loss<T: Float>(
    critic: &QNetwork,
    params: &Bound<'_, T>,
    batch: &Transitions<T>,
    y: &Var<T>,
) -> (Var<T>, f64) {
    let q = critic.forward(params, &batch.observations, &batch.actions);
    ((&q - y).powi(2).mean_all(), mean(&q))
}

/// The actor loss `L(θ) = −mean_B Q_φ(s, μ_θ(s))`: [`deterministic_policy_loss`].
pub fn actor_loss<T: Float>(
    actor: &DeterministicActor,
    actor_params: &Bound<'_, T>,
    critic: &QNetwork,
    critic_params: &Bound<'_, T>,
    batch: &Transitions<T>,
) -> Var<T> {
    deterministic_policy_loss(
        actor,
        actor_params,
        critic,
        critic_params,
        &batch.observations,
    )
}

// ---- the update ----

/// `θ`, `φ`, their targets `θ̄`, `φ̄` and their optimisers.
pub struct Networks {
    actor: DeterministicActor,
    critic: QNetwork,
    actor_store: ParamStore<f32>,
    actor_target: ParamStore<f32>,
    critic_store: ParamStore<f32>,
    critic_target: ParamStore<f32>,
    actor_optimizer: Adam<f32>,
    critic_optimizer: Adam<f32>,
    tau: f32,
}

impl Learner for Networks {
    const DIAGNOSTICS: &'static [&'static str] = &["critic_loss", "actor_loss", "q_mean"];

    fn act(&self, observations: &Array2<f32>, _rng: &mut TrainerRng) -> Array2<f32> {
        let params = self.actor_store.constants();
        let mu = no_grad(|| {
            self.actor
                .forward(&params, &Var::constant(observations.clone()))
        });
        to_rows(mu.value(), mu.shape()[1])
    }

    fn update(
        &mut self,
        batch: &Batch,
        _step: usize,
        _rng: &mut TrainerRng,
        iteration: usize,
    ) -> Result<Vec<(&'static str, f64)>, TrainError> {
        let batch = Transitions::<f32>::new(batch);
        let y = critic_target(
            &self.actor,
            &self.actor_target.constants(),
            &self.critic,
            &self.critic_target.constants(),
            &batch,
        );

        // φ
        let tape = Tape::new();
        let phi = self.critic_store.bind(&tape);
        let (l_phi, q_mean) = critic_loss(&self.critic, &phi, &batch, &y);
        check_finite(&l_phi, "DDPG critic loss", iteration, &tape)?;
        self.critic_optimizer
            .step(&self.critic_store, &phi.gradients(&l_phi));

        // θ, through the updated critic
        let tape = Tape::new();
        let theta = self.actor_store.bind(&tape);
        let critic_params = self.critic_store.constants();
        let l_theta = actor_loss(&self.actor, &theta, &self.critic, &critic_params, &batch);
        check_finite(&l_theta, "DDPG actor loss", iteration, &tape)?;
        self.actor_optimizer
            .step(&self.actor_store, &theta.gradients(&l_theta));

        // θ̄, φ̄
        self.actor_target.polyak_from(&self.actor_store, self.tau);
        self.critic_target.polyak_from(&self.critic_store, self.tau);
        Ok(vec![
            ("critic_loss", l_phi.item() as f64),
            ("actor_loss", l_theta.item() as f64),
            ("q_mean", q_mean),
        ])
    }
}

// ---- the loop ----

/// A DDPG trainer: the networks, and the environment, buffer, noise and generator of the loop.
pub struct Ddpg {
    config: DdpgConfig,
    env_id: String,
    networks: Networks,
    off_policy: OffPolicy,
}

impl Trainer for Ddpg {
    const NAME: &'static str = "ddpg";
    type Config = DdpgConfig;
    type Agent = ContinuousAgent;

    fn steps_per_iteration(config: &DdpgConfig) -> usize {
        config.log_interval
    }

    fn iterations(config: &DdpgConfig) -> usize {
        config.schedule().iterations()
    }

    fn new(env_id: &str, config: &DdpgConfig) -> Result<Self, TrainError> {
        let mut off_policy = OffPolicy::new(
            env_id,
            config.buffer_size,
            config.total_timesteps,
            config.gamma,
            config.action_noise,
            config.seed,
        )?;
        let (observation_dim, action_dim) = (
            off_policy.collector.observation_dim(),
            off_policy.collector.action_dim(),
        );
        let rng = &mut off_policy.rng;

        // θ, φ and their targets θ̄ ← θ, φ̄ ← φ
        let mut actor_store = ParamStore::<f32>::new();
        let actor = DeterministicActor::new(
            &mut actor_store.root().sub("actor"),
            observation_dim,
            action_dim,
            &config.hidden,
            rng,
        );
        let mut critic_store = ParamStore::<f32>::new();
        let critic = QNetwork::new(
            &mut critic_store.root().sub("q"),
            observation_dim,
            action_dim,
            &config.hidden,
            rng,
        );
        let adam = AdamConfig {
            lr: config.learning_rate as f32,
            ..AdamConfig::default()
        };
        let networks = Networks {
            actor,
            critic,
            actor_target: actor_store.clone(),
            critic_target: critic_store.clone(),
            actor_optimizer: Adam::new(actor_store.trainable(), adam),
            critic_optimizer: Adam::new(critic_store.trainable(), adam),
            actor_store,
            critic_store,
            tau: config.tau as f32,
        };
        Ok(Ddpg {
            config: config.clone(),
            env_id: env_id.to_string(),
            networks,
            off_policy,
        })
    }

    fn iterate(&mut self, iteration: usize) -> Result<Report, TrainError> {
        self.off_policy
            .iterate(&mut self.networks, &self.config.schedule(), iteration)
    }

    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        let n = &mut self.networks;
        vec![
            ("agent", Part::Params(&n.actor_store)),
            ("agent.actor_target", Part::Params(&n.actor_target)),
            ("agent.critic", Part::Params(&n.critic_store)),
            ("agent.critic_target", Part::Params(&n.critic_target)),
            (
                "actor_optimizer",
                Part::Optimizer(&mut n.actor_optimizer, &n.actor_store),
            ),
            (
                "critic_optimizer",
                Part::Optimizer(&mut n.critic_optimizer, &n.critic_store),
            ),
        ]
        .into_iter()
        .chain(self.off_policy.parts())
        .collect()
    }

    fn into_agent(self) -> ContinuousAgent {
        let n = self.networks;
        let store = merge_stores(
            &n.actor_store,
            &[
                ("actor_target", &n.actor_target),
                ("critic", &n.critic_store),
                ("critic_target", &n.critic_target),
            ],
        );
        ContinuousAgent {
            env_id: self.env_id,
            store,
            actor: n.actor.mlp,
            head: PolicyHead::Deterministic,
            scale: self.off_policy.collector.scale,
        }
    }
}
