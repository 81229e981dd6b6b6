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
//! The environment side of the loop is [`crate::common::off_policy`]; this file is the
//! update.

use autograd::{Float, Tape, Tensor, Var, no_grad};
use ndarray::Array2;
use nn::Bound;
use nn::optim::Optimizer;
use serde::{Deserialize, Serialize};

use crate::buffers::Batch;
use crate::common::config::{Config, Range, ranges};
use crate::common::off_policy::{
    ActionNoise, Learner, OffPolicy, OffPolicyAlgorithm, OffPolicyCoreConfig, OffPolicyTrainer,
    Update,
};
use crate::common::trainer::Part;
use crate::continuous::{
    ContinuousAgent, DeterministicActor, Parameters, PolicyHead, QNetwork, Transitions,
    deterministic_policy_loss, mean,
};
use crate::policy::Actions;
use crate::snapshot::TrainerRng;
use crate::train::{TrainError, check_finite};

/// DDPG's hyperparameters. The defaults (`[defaults]` of `rl/presets/ddpg.toml`) are
/// Stable-Baselines3's; the file's per-environment tables are the RL Baselines3 Zoo's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DdpgConfig {
    /// The budget, replay, batch, `γ`, `τ`, learning rate, training schedule and network sizes,
    /// flat keys shared with the other off-policy learners.
    #[serde(flatten)]
    pub core: OffPolicyCoreConfig,
    /// Exploration noise on the actor's action: `none`, `normal:SIGMA` or `ou:SIGMA`.
    pub action_noise: ActionNoise,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
    /// Environment steps per iteration (between reported metrics).
    pub log_interval: usize,
}

impl Config for DdpgConfig {
    const RANGES: &'static [(&'static str, Range)] = &ranges::<12>(&[
        &OffPolicyCoreConfig::RANGES,
        &[
            ("seed", Range::at_least(0.0)),
            ("log_interval", Range::at_least(1.0)),
        ],
    ]);
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

/// `μ_θ`, `Q_φ`, their parameters, targets `θ̄`, `φ̄` and optimisers, and `τ`.
pub struct Networks {
    actor: DeterministicActor,
    critic: QNetwork,
    params: Parameters,
    tau: f32,
}

impl Learner for Networks {
    const DIAGNOSTICS: &'static [&'static str] = &["critic_loss", "actor_loss", "q_mean"];

    /// `μ_θ(s)` (the loop adds the exploration noise).
    fn act(&mut self, observations: &Array2<f32>, _t: usize, _rng: &mut TrainerRng) -> Actions {
        self.actor.act(&self.params.actor, observations)
    }

    fn update(
        &mut self,
        batch: &Batch,
        _step: usize,
        _rng: &mut TrainerRng,
        iteration: usize,
    ) -> Result<Update, TrainError> {
        let p = &mut self.params;
        let batch = Transitions::<f32>::new(batch);
        let y = critic_target(
            &self.actor,
            &p.actor_target().constants(),
            &self.critic,
            &p.critic_target.constants(),
            &batch,
        );

        // φ
        let tape = Tape::new();
        let phi = p.critic.bind(&tape);
        let (l_phi, q_mean) = critic_loss(&self.critic, &phi, &batch, &y);
        check_finite(&l_phi, "DDPG critic loss", iteration, &tape)?;
        p.critic_optimizer.step(&p.critic, &phi.gradients(&l_phi));

        // θ, through the updated critic
        let tape = Tape::new();
        let theta = p.actor.bind(&tape);
        let critic_params = p.critic.constants();
        let l_theta = actor_loss(&self.actor, &theta, &self.critic, &critic_params, &batch);
        check_finite(&l_theta, "DDPG actor loss", iteration, &tape)?;
        p.actor_optimizer.step(&p.actor, &theta.gradients(&l_theta));

        // θ̄, φ̄
        p.update_targets(self.tau);
        Ok(Update {
            diagnostics: vec![
                ("critic_loss", l_phi.item() as f64),
                ("actor_loss", l_theta.item() as f64),
                ("q_mean", q_mean),
            ],
            td_errors: Vec::new(),
        })
    }
}

// ---- the loop ----

/// A DDPG trainer: the networks, driven by the loop of [`crate::common::off_policy`].
pub type Ddpg = OffPolicyTrainer<Networks>;

impl OffPolicyAlgorithm for Networks {
    const NAME: &'static str = "ddpg";
    type Config = DdpgConfig;
    type Agent = ContinuousAgent;

    /// `θ`, `φ` and their targets `θ̄ ← θ`, `φ̄ ← φ`.
    fn new(
        _env_id: &str,
        config: &DdpgConfig,
        off_policy: &mut OffPolicy,
    ) -> Result<Self, TrainError> {
        let (actor, critic, params) = Parameters::init(
            off_policy,
            &config.core.hidden,
            true,
            config.core.learning_rate,
        )?;
        Ok(Networks {
            actor,
            critic,
            params,
            tau: config.core.tau as f32,
        })
    }

    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        self.params.parts()
    }

    fn into_agent(self, env_id: String, off_policy: OffPolicy) -> ContinuousAgent {
        let store = self.params.merged(&[]);
        ContinuousAgent::new(
            env_id,
            store,
            self.actor.mlp,
            PolicyHead::Deterministic,
            &off_policy,
        )
    }
}
