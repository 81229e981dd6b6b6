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
//! The environment side of the loop is [`crate::common::off_policy`]; this file is the
//! update.

use autograd::{Float, Tape, Tensor, Var, no_grad};
use ndarray::{Array2, ArrayD};
use nn::Bound;
use nn::optim::Optimizer;
use serde::{Deserialize, Serialize};

use crate::buffers::Batch;
use crate::common::config::{Config, Range, ranges};
use crate::common::off_policy::{
    ActionNoise, Learner, OffPolicy, OffPolicyAlgorithm, OffPolicyCoreConfig, OffPolicyTrainer,
    Update, standard_normal_array,
};
use crate::common::trainer::Part;
use crate::continuous::{
    ContinuousAgent, DeterministicActor, Parameters, PolicyHead, Transitions, TwinQ,
    deterministic_policy_loss, mean,
};
use crate::policy::Actions;
use crate::snapshot::TrainerRng;
use crate::train::{TrainError, check_finite};

/// TD3's hyperparameters. The defaults (`[defaults]` of `rl/presets/td3.toml`) are
/// Stable-Baselines3's; the file's per-environment tables are the RL Baselines3 Zoo's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Td3Config {
    /// The budget, replay, batch, `γ`, `τ`, learning rate, training schedule and network sizes,
    /// flat keys shared with the other off-policy learners.
    #[serde(flatten)]
    pub core: OffPolicyCoreConfig,
    /// `d`: critic steps per actor (and target) step.
    pub policy_delay: usize,
    /// `σ̃`: standard deviation of the target policy smoothing noise.
    pub target_policy_noise: f64,
    /// `c`: the smoothing noise is clipped to `[−c, c]`.
    pub target_noise_clip: f64,
    /// Exploration noise on the actor's action: `none`, `normal:SIGMA` or `ou:SIGMA`.
    pub action_noise: ActionNoise,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
    /// Environment steps per iteration (between reported metrics).
    pub log_interval: usize,
}

impl Config for Td3Config {
    const RANGES: &'static [(&'static str, Range)] = &ranges::<15>(&[
        &OffPolicyCoreConfig::RANGES,
        &[
            ("policy_delay", Range::at_least(1.0)),
            // 0 switches the smoothing off
            ("target_policy_noise", Range::non_negative()),
            ("target_noise_clip", Range::non_negative()),
            ("seed", Range::at_least(0.0)),
            ("log_interval", Range::at_least(1.0)),
        ],
    ]);
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

/// `μ_θ`, `Q_φ1`, `Q_φ2`, their parameters, targets and optimisers, with the update's settings.
pub struct Networks {
    actor: DeterministicActor,
    critics: TwinQ,
    params: Parameters,
    tau: f32,
    policy_delay: usize,
    sigma: f32,
    noise_clip: f32,
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
        step: usize,
        rng: &mut TrainerRng,
        iteration: usize,
    ) -> Result<Update, TrainError> {
        let p = &mut self.params;
        let (n, batch) = (batch.len(), Transitions::<f32>::new(batch));
        let sigma = self.sigma;
        let epsilon =
            standard_normal_array::<f32>(n, batch.actions.shape()[1], rng).mapv(|e| e * sigma);
        let y = critic_target(
            &self.actor,
            &p.actor_target().constants(),
            &self.critics,
            &p.critic_target.constants(),
            &batch,
            &epsilon,
            self.noise_clip,
        );

        // φ1, φ2
        let tape = Tape::new();
        let phi = p.critic.bind(&tape);
        let (l_phi, q_mean) = critic_loss(&self.critics, &phi, &batch, &y);
        check_finite(&l_phi, "TD3 critic loss", iteration, &tape)?;
        p.critic_optimizer.step(&p.critic, &phi.gradients(&l_phi));
        let mut diagnostics = vec![("critic_loss", l_phi.item() as f64), ("q_mean", q_mean)];

        // every d-th step: θ through the updated first critic, then the targets
        if step.is_multiple_of(self.policy_delay) {
            let tape = Tape::new();
            let theta = p.actor.bind(&tape);
            let critic_params = p.critic.constants();
            let l_theta = actor_loss(&self.actor, &theta, &self.critics, &critic_params, &batch);
            check_finite(&l_theta, "TD3 actor loss", iteration, &tape)?;
            p.actor_optimizer.step(&p.actor, &theta.gradients(&l_theta));
            p.update_targets(self.tau);
            diagnostics.push(("actor_loss", l_theta.item() as f64));
        }
        Ok(Update {
            diagnostics,
            td_errors: Vec::new(),
        })
    }

    /// `actor_updates`: one every `d` gradient steps.
    fn report(&self, _t: usize, gradient_steps: usize) -> Vec<(&'static str, f64)> {
        vec![("actor_updates", (gradient_steps / self.policy_delay) as f64)]
    }
}

// ---- the loop ----

/// A TD3 trainer: the networks, driven by the loop of [`crate::common::off_policy`].
pub type Td3 = OffPolicyTrainer<Networks>;

impl OffPolicyAlgorithm for Networks {
    const NAME: &'static str = "td3";
    type Config = Td3Config;
    type Agent = ContinuousAgent;

    /// `θ`, `φ1`, `φ2` and their targets `θ̄ ← θ`, `φ̄i ← φi`.
    fn new(
        _env_id: &str,
        config: &Td3Config,
        off_policy: &mut OffPolicy,
    ) -> Result<Self, TrainError> {
        let (actor, critics, params) = Parameters::init(
            off_policy,
            &config.core.hidden,
            true,
            config.core.learning_rate,
        )?;
        Ok(Networks {
            actor,
            critics,
            params,
            tau: config.core.tau as f32,
            policy_delay: config.policy_delay,
            sigma: config.target_policy_noise as f32,
            noise_clip: config.target_noise_clip as f32,
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
