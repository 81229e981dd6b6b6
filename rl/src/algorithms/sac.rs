//! # Soft Actor-Critic (SAC)
//!
//! ## Background
//! An off-policy actor-critic for continuous actions (Haarnoja et al., 2018) that maximises the
//! return plus the policy's entropy, `J(π) = Σ_t E[r_t + α H(π(·|s_t))]`. The temperature `α`
//! trades reward for exploration; it can be fixed, or tuned automatically so that the policy's
//! entropy stays near a target `H̄ = −|A|` (Haarnoja et al., 2018b). Two critics and their
//! Polyak-averaged targets curb over-estimation as in TD3; the policy is a tanh-squashed
//! Gaussian trained through the reparameterisation trick.
//!
//! ## Key equations
//! The policy `π_θ(·|s)`: `u = μ_θ(s) + σ_θ(s) ⊙ ε`, `ε ~ N(0, I)`, action `ã = tanh(u)`, with
//! `ln σ_θ` clamped to `[−20, 2]`, and by the change of variables
//!
//! $$ \ln \pi_\theta(\tilde a \mid s) = \ln \mathcal N\big(u; \mu_\theta(s), \sigma_\theta(s)^2\big) - \sum_j \ln\big(1 - \tanh^2 u_j\big) $$
//!
//! ([`nn::distributions::TanhGaussian`], computed stably). The soft Bellman target, with a fresh
//! action from the current policy at the next state `ã' ~ π_θ(·|s')`,
//!
//! $$ y = r + \gamma (1 - d) \Big( \min_{i=1,2} Q_{\bar\phi_i}(s', \tilde a') - \alpha \ln \pi_\theta(\tilde a' \mid s') \Big) , $$
//!
//! the critic loss `L(φ) = ½ Σ_i E_D[(Q_φi(s, a) − y)²]`, the actor loss (pathwise gradient
//! through `ã = tanh(μ_θ(s) + σ_θ(s) ⊙ ε)`)
//!
//! $$ L(\theta) = \mathbb E_{s \sim D, \varepsilon}\Big[\alpha \ln \pi_\theta(\tilde a \mid s) - \min_i Q_{\phi_i}(s, \tilde a)\Big] , $$
//!
//! and the temperature loss, written in `ln α` as Stable-Baselines3 does,
//!
//! `L(α) = −E[ln α · (ln π_θ(ã|s) + H̄)]`,  so `∂L/∂ln α = H(π) − H̄` with `H(π) ≈ −E[ln π]`:
//! a gradient step raises `α` when the entropy is below the target and lowers it when above.
//! Target critics follow by Polyak averaging, `φ̄i ← τ φi + (1 − τ) φ̄i`.
//!
//! ## Pseudocode
//! ```text
//! initialise θ, φ1, φ2; φ̄i ← φi; ln α ← ln α₀; H̄ ← −|A|; D ← ∅
//! for t = 1 … total_timesteps:
//!     ã ← uniform in [−1, 1]^|A| if t ≤ learning_starts, else ã ~ π_θ(·|s) (+ action noise, option)
//!     step the environment with scale(ã); store (s, ã, r, s', d) in D
//!     if t > learning_starts and t mod train_freq = 0, repeat gradient_steps times (j = 1, 2, …):
//!         sample a batch B from D
//!         y = r + γ (1 − d) (min_i Q_φ̄i(s', ã') − α ln π_θ(ã'|s')),  ã' ~ π_θ(·|s')
//!         φ ← Adam step on ½ Σ_i mean_B (Q_φi(s, a) − y)²
//!         θ ← Adam step on mean_B (α ln π_θ(ã|s) − min_i Q_φi(s, ã)),  ã = tanh(μ + σ ⊙ ε)
//!         if autotune: ln α ← Adam step on −mean_B (ln α (ln π_θ(ã|s) + H̄))
//!         if j mod target_update_interval = 0: φ̄i ← τ φi + (1 − τ) φ̄i
//! ```
//! The environment side of the loop is [`crate::common::off_policy`]; this file is the
//! policy and the update.

use autograd::{Float, Tape, Tensor, Var};
use ndarray::Array2;
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{Bound, ParamId, ParamStore};
use serde::{Deserialize, Serialize};

use crate::buffers::Batch;
use crate::common::config::{Config, Range, ranges};
use crate::common::off_policy::{
    ActionNoise, Learner, OffPolicy, OffPolicyAlgorithm, OffPolicyCoreConfig, OffPolicyTrainer,
    Update,
};
use crate::common::trainer::Part;
use crate::continuous::soft_actor_critic::{sample_actions, soft_actor_critic_step};
use crate::continuous::{
    ContinuousAgent, Parameters, PolicyHead, SquashedGaussianActor, Transitions, TwinQ, mean,
};
use crate::policy::Actions;
use crate::snapshot::TrainerRng;
use crate::train::TrainError;

/// SAC's hyperparameters. The defaults (`[defaults]` of `rl/presets/sac.toml`) are
/// Stable-Baselines3's; the file's per-environment tables are the RL Baselines3 Zoo's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SacConfig {
    /// The budget, replay, batch, `γ`, `τ`, learning rate, training schedule and network sizes,
    /// flat keys shared with the other off-policy learners.
    #[serde(flatten)]
    pub core: OffPolicyCoreConfig,
    /// Gradient steps between target updates.
    pub target_update_interval: usize,
    /// `α`: its initial value when `autotune`, else its fixed value.
    pub alpha: f64,
    /// Tune `α` towards the target entropy.
    pub autotune: bool,
    /// `H̄` (`none`: `−|A|`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_entropy: Option<f64>,
    /// Extra exploration noise on the sampled action: `none`, `normal:SIGMA` or `ou:SIGMA`.
    pub action_noise: ActionNoise,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
    /// Environment steps per iteration (between reported metrics).
    pub log_interval: usize,
}

impl Config for SacConfig {
    const RANGES: &'static [(&'static str, Range)] = &ranges::<15>(&[
        &OffPolicyCoreConfig::RANGES,
        &[
            ("target_update_interval", Range::at_least(1.0)),
            // a temperature: ln α must exist
            ("alpha", Range::positive()),
            ("target_entropy", Range::finite()),
            ("seed", Range::at_least(0.0)),
            ("log_interval", Range::at_least(1.0)),
        ],
    ]);
}

// ---- the losses ----

/// The soft target `y`, the twin critics' loss `L(φ)` and the actor loss `L(θ)` above, shared
/// with DIAYN (which feeds them its pseudo-reward): see [`crate::continuous::soft_actor_critic`].
pub use crate::continuous::soft_actor_critic::{actor_loss, critic_loss, critic_target};

// ANCHOR: temperature_loss
/// The temperature loss `L(α) = −mean_B(ln α · (ln π_θ(ã|s) + H̄))` in the parameter
/// `log_alpha` of `params`, given the batch's `ln π_θ(ã|s)`.
pub fn temperature_loss<T: Float>(
    params: &Bound<'_, T>,
    log_alpha: ParamId,
    log_probs: &[T],
    target_entropy: f64,
) -> Var<T> {
    let shifted = ndarray::Array1::from_iter(
        log_probs
            .iter()
            .map(|&l| T::from_f64(l.as_f64() + target_entropy)),
    );
    params[log_alpha]
        .mul(&Var::constant(shifted))
        .mean_all()
        .neg()
}
// ANCHOR_END: temperature_loss

// ---- the update ----

/// The temperature `α = exp(ln α)`, fixed or tuned towards the target entropy `H̄` by Adam on
/// [`temperature_loss`].
///
/// ```
/// use wengert_rl::algorithms::sac::Temperature;
/// let target_entropy = -1.0;
/// let mut temperature = Temperature::new(1.0, true, target_entropy, 3e-4);
/// // samples with ln π = 2: entropy ≈ −2, below the target −1, so α must grow
/// temperature.update(&[2.0, 2.0]);
/// assert!(temperature.alpha() > 1.0);
/// ```
pub struct Temperature {
    store: ParamStore<f32>,
    log_alpha: ParamId,
    optimizer: Option<Adam<f32>>,
    target_entropy: f64,
}

impl Temperature {
    /// `α = alpha` to start; tuned by Adam with `learning_rate` if `autotune`.
    pub fn new(alpha: f64, autotune: bool, target_entropy: f64, learning_rate: f64) -> Self {
        let mut store = ParamStore::new();
        let log_alpha = store
            .root()
            .param("log_alpha", ndarray::arr1(&[alpha.ln() as f32]));
        let optimizer = autotune.then(|| {
            Adam::new(
                store.trainable(),
                AdamConfig {
                    lr: learning_rate as f32,
                    ..AdamConfig::default()
                },
            )
        });
        Temperature {
            store,
            log_alpha,
            optimizer,
            target_entropy,
        }
    }

    /// The current `α`.
    pub fn alpha(&self) -> f32 {
        self.store.value(self.log_alpha)[0].exp()
    }

    /// One Adam step on `L(α)` given the batch's `ln π_θ(ã|s)`; returns the loss, or `None`
    /// when `α` is fixed.
    pub fn update(&mut self, log_probs: &[f32]) -> Option<f64> {
        let optimizer = self.optimizer.as_mut()?;
        let tape = Tape::new();
        let params = self.store.bind(&tape);
        let loss = temperature_loss(&params, self.log_alpha, log_probs, self.target_entropy);
        optimizer.step(&self.store, &params.gradients(&loss));
        Some(loss.item() as f64)
    }
}

/// `π_θ`, `Q_φ1`, `Q_φ2`, their parameters, target `φ̄` and optimisers, the temperature, and
/// the update's settings.
pub struct Networks {
    actor: SquashedGaussianActor,
    critics: TwinQ,
    params: Parameters,
    temperature: Temperature,
    tau: f32,
    target_update_interval: usize,
}

impl Learner for Networks {
    const DIAGNOSTICS: &'static [&'static str] = &[
        "critic_loss",
        "actor_loss",
        "alpha_loss",
        "q_mean",
        "entropy",
    ];

    /// `ã ~ π_θ(·|s)` (plus the loop's action noise, if any).
    fn act(&mut self, observations: &Array2<f32>, _t: usize, rng: &mut TrainerRng) -> Actions {
        sample_actions(&self.actor, &self.params.actor, observations, rng)
    }

    fn update(
        &mut self,
        batch: &Batch,
        step: usize,
        rng: &mut TrainerRng,
        iteration: usize,
    ) -> Result<Update, TrainError> {
        let batch = Transitions::<f32>::new(batch);
        let alpha = self.temperature.alpha();

        // φ1, φ2, then θ through the updated critics
        let soft = soft_actor_critic_step(
            &self.actor,
            &self.critics,
            &mut self.params,
            &batch,
            alpha,
            rng,
            iteration,
            "SAC",
        )?;

        // ln α
        let log_probs: Vec<f32> = soft.log_prob.value().iter().copied().collect();
        let mut diagnostics = Vec::with_capacity(5);
        if let Some(l_alpha) = self.temperature.update(&log_probs) {
            diagnostics.push(("alpha_loss", l_alpha));
        }

        // φ̄
        if step.is_multiple_of(self.target_update_interval) {
            self.params.update_targets(self.tau);
        }
        diagnostics.extend([
            ("critic_loss", soft.critic_loss),
            ("actor_loss", soft.actor_loss),
            ("q_mean", soft.q_mean),
            ("entropy", -mean(&soft.log_prob)),
        ]);
        Ok(Update {
            diagnostics,
            td_errors: Vec::new(),
        })
    }

    /// The current `alpha`.
    fn report(&self, _t: usize, _gradient_steps: usize) -> Vec<(&'static str, f64)> {
        vec![("alpha", self.temperature.alpha() as f64)]
    }
}

// ---- the loop ----

/// A SAC trainer: the networks, driven by the loop of [`crate::common::off_policy`].
pub type Sac = OffPolicyTrainer<Networks>;

impl OffPolicyAlgorithm for Networks {
    const NAME: &'static str = "sac";
    type Config = SacConfig;
    type Agent = ContinuousAgent;

    /// `θ`, `φ1`, `φ2`, `φ̄ ← φ`, `ln α ← ln α₀`, `H̄ ← −|A|` unless set.
    fn new(
        _env_id: &str,
        config: &SacConfig,
        off_policy: &mut OffPolicy,
    ) -> Result<Self, TrainError> {
        let (actor, critics, params): (SquashedGaussianActor, _, _) = Parameters::init(
            off_policy,
            &config.core.hidden,
            false,
            config.core.learning_rate,
        )?;
        let target_entropy = config.target_entropy.unwrap_or(-(actor.action_dim as f64));
        Ok(Networks {
            actor,
            critics,
            params,
            temperature: Temperature::new(
                config.alpha,
                config.autotune,
                target_entropy,
                config.core.learning_rate,
            ),
            tau: config.core.tau as f32,
            target_update_interval: config.target_update_interval,
        })
    }

    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        let mut parts = self.params.parts();
        let temperature = &mut self.temperature;
        parts.push(("agent.temperature", Part::Params(&temperature.store)));
        if let Some(optimizer) = &mut temperature.optimizer {
            parts.push((
                "temperature_optimizer",
                Part::Optimizer(optimizer, &temperature.store),
            ));
        }
        parts
    }

    fn into_agent(self, env_id: String, off_policy: OffPolicy) -> ContinuousAgent {
        let store = self
            .params
            .merged(&[("temperature", &self.temperature.store)]);
        ContinuousAgent::new(
            env_id,
            store,
            self.actor.mlp,
            PolicyHead::TanhGaussian,
            &off_policy,
        )
    }
}
