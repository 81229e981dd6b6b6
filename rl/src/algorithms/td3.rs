//! # Twin Delayed Deep Deterministic policy gradient (TD3)
//!
//! ## Background
//! DDPG over-estimates `Q`: its actor climbs the critic's errors, and the bootstrapped targets
//! feed them back. TD3 (Fujimoto et al., 2018) adds three fixes:
//!
//! 1. **clipped double Q**: two critics, and the target uses the smaller of their estimates;
//! 2. **target policy smoothing**: the target action gets clipped Gaussian noise, so `Q` is
//!    fitted to be smooth around the actions the target policy takes;
//! 3. **delayed policy updates**: the actor and the targets change only every `d` critic steps,
//!    so the actor follows a critic whose errors have had time to shrink.
//!
//! ## Key equations
//! With the target networks `μ_θ̄`, `Q_φ̄1`, `Q_φ̄2`, the smoothed target action and the target,
//!
//! $$ \tilde a' = \operatorname{clip}\big(\mu_{\bar\theta}(s') + \operatorname{clip}(\varepsilon, -c, c), -1, 1\big) , \qquad \varepsilon \sim \mathcal N(0, \tilde\sigma^2 I) , $$
//!
//! $$ y = r + \gamma (1 - d) \min_{i=1,2} Q_{\bar\phi_i}(s', \tilde a') , $$
//!
//! the critic loss `L(φ) = Σ_i E_D[(Q_φi(s, a) − y)²]`, and every `d`-th step the deterministic
//! policy gradient on the first critic,
//!
//! $$ L(\theta) = -\mathbb E_{s \sim D}\big[Q_{\phi_1}(s, \mu_\theta(s))\big] , $$
//!
//! followed by `θ̄ ← τ θ + (1 − τ) θ̄` and `φ̄i ← τ φi + (1 − τ) φ̄i`.
//!
//! ## Pseudocode
//! ```text
//! initialise θ, φ1, φ2; θ̄ ← θ; φ̄i ← φi; D ← ∅
//! for t = 1 … total_timesteps:
//!     ã ← uniform in [−1, 1]^|A| if t ≤ learning_starts, else clip(μ_θ(s) + noise, −1, 1)
//!     step the environment with scale(ã); store (s, ã, r, s', d) in D
//!     if t > learning_starts and t mod train_freq = 0, repeat gradient_steps times (j = 1, 2, …):
//!         sample a batch B from D
//!         y = r + γ (1 − d) min_i Q_φ̄i(s', clip(μ_θ̄(s') + clip(ε, −c, c), −1, 1))
//!         φ ← Adam step on Σ_i mean_B (Q_φi(s, a) − y)²
//!         if j mod policy_delay = 0:
//!             θ ← Adam step on −mean_B Q_φ1(s, μ_θ(s))
//!             θ̄ ← τ θ + (1 − τ) θ̄;  φ̄i ← τ φi + (1 − τ) φ̄i
//! ```
//! The environment side of the loop is [`crate::continuous::OffPolicy`]; this file is the
//! update.

use autograd::{Float, Tape, Tensor, Var, no_grad};
use ndarray::{Array2, ArrayD};
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{Bound, ParamStore};
use serde::{Deserialize, Serialize};

use crate::buffers::Batch;
use crate::common::config::{Config, Range};
use crate::common::trainer::{Part, Report, Trainer};
use crate::continuous::{
    ActionNoise, ContinuousAgent, DeterministicActor, Learner, OffPolicy, PolicyHead, Schedule,
    Transitions, TwinQ, deterministic_policy_loss, mean, merge_stores, standard_normal_array,
    to_rows,
};
use crate::snapshot::TrainerRng;
use crate::train::{TrainError, check_finite};

/// TD3's hyperparameters. The defaults (`[defaults]` of `rl/presets/td3.toml`) are
/// Stable-Baselines3's; the file's per-environment tables are the RL Baselines3 Zoo's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Td3Config {
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
    /// Adam's learning rate, for the actor and the critics.
    pub learning_rate: f64,
    /// Environment steps between training phases.
    pub train_freq: usize,
    /// Gradient steps per training phase.
    pub gradient_steps: usize,
    /// `d`: critic steps per actor (and target) step.
    pub policy_delay: usize,
    /// `σ̃`: standard deviation of the target policy smoothing noise.
    pub target_policy_noise: f64,
    /// `c`: the smoothing noise is clipped to `[−c, c]`.
    pub target_noise_clip: f64,
    /// Exploration noise on the actor's action: `none`, `normal:SIGMA` or `ou:SIGMA`.
    pub action_noise: ActionNoise,
    /// Hidden layer sizes of the actor and of each critic.
    pub hidden: Vec<usize>,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
    /// Environment steps per iteration (between reported metrics).
    pub log_interval: usize,
}

impl Config for Td3Config {
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
        ("policy_delay", Range::at_least(1.0)),
        // 0 switches the smoothing off
        ("target_policy_noise", Range::non_negative()),
        ("target_noise_clip", Range::non_negative()),
        ("hidden", Range::at_least(1.0)),
        ("seed", Range::at_least(0.0)),
        ("log_interval", Range::at_least(1.0)),
    ];
}

impl Td3Config {
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

/// The target `y = r + γ(1 − d) min_i Q_φ̄i(s', ã')` with the smoothed target action
/// `ã' = clip(μ_θ̄(s') + clip(ε, −c, c), −1, 1)`, computed without recording. `epsilon` is the
/// noise `ε ~ N(0, σ̃²)` `(B, |A|)`, `noise_clip` is `c`.
pub fn critic_target<T: Float>(
    actor: &DeterministicActor,
    actor_target: &Bound<'_, T>,
    critics: &TwinQ,
    critic_target: &Bound<'_, T>,
    batch: &Transitions<T>,
    epsilon: &ArrayD<T>,
    noise_clip: T,
) -> Var<T> {
    no_grad(|| {
        let smoothing = Var::constant(epsilon.mapv(|e| e.max(-noise_clip).min(noise_clip)));
        let next_actions = actor
            .forward(actor_target, &batch.next_observations)
            .add(&smoothing)
            .clamp(-T::one(), T::one());
        let q_next = critics.min(critic_target, &batch.next_observations, &next_actions);
        batch.rewards.add(&batch.bootstrap.mul(&q_next))
    })
}

/// The critic loss `L(φ) = Σ_i mean_B (Q_φi(s, a) − y)²`, with `½ Σ_i mean_B Q_φi(s, a)`
/// (`q_mean`).
pub fn critic_loss<T: Float>(
    critics: &TwinQ,
    params: &Bound<'_, T>,
    batch: &Transitions<T>,
    y: &Var<T>,
) -> (Var<T>, f64) {
    let (q1, q2) = critics.forward(params, &batch.observations, &batch.actions);
    let loss = (&q1 - y)
        .powi(2)
        .mean_all()
        .add(&(&q2 - y).powi(2).mean_all());
    (loss, 0.5 * (mean(&q1) + mean(&q2)))
}

/// The actor loss `L(θ) = −mean_B Q_φ1(s, μ_θ(s))` through the first critic:
/// [`deterministic_policy_loss`].
pub fn actor_loss<T: Float>(
    actor: &DeterministicActor,
    actor_params: &Bound<'_, T>,
    critics: &TwinQ,
    critic_params: &Bound<'_, T>,
    batch: &Transitions<T>,
) -> Var<T> {
    deterministic_policy_loss(
        actor,
        actor_params,
        &critics.q1,
        critic_params,
        &batch.observations,
    )
}

// ---- the update ----

/// `θ`, `φ1`, `φ2`, their targets and their optimisers, with the update's settings.
pub struct Networks {
    actor: DeterministicActor,
    critics: TwinQ,
    actor_store: ParamStore<f32>,
    actor_target: ParamStore<f32>,
    critic_store: ParamStore<f32>,
    critic_target: ParamStore<f32>,
    actor_optimizer: Adam<f32>,
    critic_optimizer: Adam<f32>,
    tau: f32,
    policy_delay: usize,
    sigma: f32,
    noise_clip: f32,
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
        step: usize,
        rng: &mut TrainerRng,
        iteration: usize,
    ) -> Result<Vec<(&'static str, f64)>, TrainError> {
        let (n, batch) = (batch.len(), Transitions::<f32>::new(batch));
        let sigma = self.sigma;
        let epsilon =
            standard_normal_array::<f32>(n, batch.actions.shape()[1], rng).mapv(|e| e * sigma);
        let y = critic_target(
            &self.actor,
            &self.actor_target.constants(),
            &self.critics,
            &self.critic_target.constants(),
            &batch,
            &epsilon,
            self.noise_clip,
        );

        // φ1, φ2
        let tape = Tape::new();
        let phi = self.critic_store.bind(&tape);
        let (l_phi, q_mean) = critic_loss(&self.critics, &phi, &batch, &y);
        check_finite(&l_phi, "TD3 critic loss", iteration, &tape)?;
        self.critic_optimizer
            .step(&self.critic_store, &phi.gradients(&l_phi));
        let mut diagnostics = vec![("critic_loss", l_phi.item() as f64), ("q_mean", q_mean)];

        // every d-th step: θ through the updated first critic, then the targets
        if step % self.policy_delay == 0 {
            let tape = Tape::new();
            let theta = self.actor_store.bind(&tape);
            let critic_params = self.critic_store.constants();
            let l_theta = actor_loss(&self.actor, &theta, &self.critics, &critic_params, &batch);
            check_finite(&l_theta, "TD3 actor loss", iteration, &tape)?;
            self.actor_optimizer
                .step(&self.actor_store, &theta.gradients(&l_theta));
            self.actor_target.polyak_from(&self.actor_store, self.tau);
            self.critic_target.polyak_from(&self.critic_store, self.tau);
            diagnostics.push(("actor_loss", l_theta.item() as f64));
        }
        Ok(diagnostics)
    }

    /// `actor_updates`: one every `d` gradient steps.
    fn report(&self, gradient_steps: usize) -> Vec<(&'static str, f64)> {
        vec![("actor_updates", (gradient_steps / self.policy_delay) as f64)]
    }
}

// ---- the loop ----

/// A TD3 trainer: the networks, and the environment, buffer, noise and generator of the loop.
pub struct Td3 {
    config: Td3Config,
    env_id: String,
    networks: Networks,
    off_policy: OffPolicy,
}

impl Trainer for Td3 {
    const NAME: &'static str = "td3";
    type Config = Td3Config;
    type Agent = ContinuousAgent;

    fn steps_per_iteration(config: &Td3Config) -> usize {
        config.log_interval
    }

    fn iterations(config: &Td3Config) -> usize {
        config.schedule().iterations()
    }

    fn new(env_id: &str, config: &Td3Config) -> Result<Self, TrainError> {
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

        // θ, φ1, φ2 and their targets θ̄ ← θ, φ̄i ← φi
        let mut actor_store = ParamStore::<f32>::new();
        let actor = DeterministicActor::new(
            &mut actor_store.root().sub("actor"),
            observation_dim,
            action_dim,
            &config.hidden,
            rng,
        );
        let mut critic_store = ParamStore::<f32>::new();
        let critics = TwinQ::new(
            &mut critic_store.root(),
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
            critics,
            actor_target: actor_store.clone(),
            critic_target: critic_store.clone(),
            actor_optimizer: Adam::new(actor_store.trainable(), adam),
            critic_optimizer: Adam::new(critic_store.trainable(), adam),
            actor_store,
            critic_store,
            tau: config.tau as f32,
            policy_delay: config.policy_delay,
            sigma: config.target_policy_noise as f32,
            noise_clip: config.target_noise_clip as f32,
        };
        Ok(Td3 {
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
