//! # Proximal Policy Optimization (PPO-clip)
//!
//! ## Background
//! A policy-gradient method (Schulman et al., 2017) that takes several epochs of minibatch
//! steps on each batch of on-policy data, while keeping the new policy close to the one that
//! collected the data by clipping the probability ratio — a first-order stand-in for TRPO's
//! trust region.
//!
//! ## Key equations
//! With the ratio
//! $\rho_t(\theta) = \pi_\theta(a_t \mid s_t) / \pi_{\theta_{\text{old}}}(a_t \mid s_t)$ and GAE(λ)
//! advantages $\hat A_t$ ([`crate::advantage`]) of a rollout ([`crate::rollout`]), normalised per
//! minibatch, the clipped surrogate objective is
//!
//! $$ L^{\text{CLIP}}(\theta) = \mathbb E_t \Big[ \min\big( \rho_t \hat A_t ,\ \operatorname{clip}(\rho_t, 1 - \varepsilon, 1 + \varepsilon) \hat A_t \big) \Big] , $$
//!
//! the value loss (optionally clipped around the old values $V_{\text{old}}$)
//!
//! $$ L^V(\phi) = \tfrac12 \mathbb E_t \Big[ \max\big( (V_\phi(s_t) - R_t)^2 ,\ (V_{\text{old}} + \operatorname{clip}(V_\phi - V_{\text{old}}, -\varepsilon, \varepsilon) - R_t)^2 \big) \Big] , $$
//!
//! and the loss minimised is
//! $-L^{\text{CLIP}} + c_v L^V - c_H \mathbb E_t\big[H[\pi_\theta(\cdot \mid s_t)]\big]$.
//! Diagnostics: the approximate KL $\mathbb E[(\rho - 1) - \ln \rho]$ (Schulman's unbiased,
//! non-negative estimator), the clip fraction $\mathbb E\big[|\rho - 1| > \varepsilon\big]$, and the
//! value function's explained variance $1 - \operatorname{Var}(R - V) / \operatorname{Var}(R)$.
//!
//! ## Pseudocode
//! ```text
//! for iteration = 1, 2, …:
//!     anneal the learning rate linearly to 0 (option)
//!     run π_θ_old in N environments for T steps; store s, a, ln π_old(a|s), V_old(s), r, flags
//!     compute Â (GAE) and R = Â + V_old, bootstrapping on truncation only
//!     for epoch = 1 … K:
//!         for each minibatch of the shuffled N·T samples:
//!             normalise Â within the minibatch (option)
//!             loss = −L^CLIP + c_v L^V − c_H H
//!             clip the gradient's global norm; take an Adam step (ε = 1e-5)
//!         stop early if the approximate KL exceeds the target (option)
//! ```

use autograd::{Float, Tape, Tensor, Var};
use nn::optim::{Adam, Optimizer, clip_grad_norm};
use nn::{Activation, Bound, ParamGradients, ParamStore};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

pub use crate::common::clipped_objective::Diagnostics;
use crate::common::clipped_objective::{clipped_surrogate, clipped_value, ratio_statistics};
use crate::common::config::{Config, Range, ranges};
use crate::common::on_policy::{
    Batch, OnPolicy, anneal, gae_batch, normalize, ppo_adam, rollout_in_words,
};
use crate::common::ppo_config::PpoCoreConfig;
use crate::common::rollout_config::RolloutConfig;
use crate::common::trainer::{Part, Report, Trainer};
use crate::exec::Cores;
use crate::policy::{ActorCritic, observations_var};
use crate::train::{PolicyAgent, TrainError, check_finite, explained_variance};

/// PPO's hyperparameters. The defaults (`[defaults]` of `rl/presets/ppo.toml`) are CleanRL's
/// `ppo.py`; the file's per-environment tables are the RL Baselines3 Zoo's tuned settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PpoConfig {
    /// `T`, `N` environments of `T` steps a rollout, `γ`, observation normalisation and the
    /// environment threads, flat keys shared with the other on-policy trainers.
    #[serde(flatten)]
    pub rollout: RolloutConfig,
    /// `λ` of GAE's advantages (1: Monte Carlo returns minus the baseline).
    pub gae_lambda: f64,
    /// `α`, `γ`, `λ`, `K`, `ε`, `c_H`, `c_v`, the gradient norm and the early stop (and their
    /// annealing and normalisation switches), flat keys shared with recurrent PPO.
    #[serde(flatten)]
    pub ppo: PpoCoreConfig,
    /// Minibatches per epoch.
    pub num_minibatches: usize,
    /// Clip the value loss around the old values.
    pub clip_vloss: bool,
    /// Scale rewards by the running std of the discounted return.
    pub normalize_rewards: bool,
    /// Hidden layer sizes.
    pub hidden: Vec<usize>,
    /// Hidden activation: `tanh` or `relu`.
    pub activation: Activation,
    /// Initial `ln σ` of a Gaussian policy.
    pub log_std_init: f64,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
}

impl Config for PpoConfig {
    const RANGES: &'static [(&'static str, Range)] = &ranges::<17>(&[
        &RolloutConfig::RANGES,
        &[("gae_lambda", Range::unit())],
        &PpoCoreConfig::RANGES,
        &[
            ("num_minibatches", Range::at_least(1.0)),
            ("hidden", Range::at_least(1.0)),
            ("log_std_init", Range::finite()),
            ("seed", Range::at_least(0.0)),
        ],
    ]);

    fn check_relations(&self) -> Result<(), String> {
        let batch = self.rollout.steps_per_iteration();
        if !batch.is_multiple_of(self.num_minibatches) {
            return Err(format!(
                "the batch of num_envs × num_steps = {batch} does not split into \
                 num_minibatches = {} minibatches",
                self.num_minibatches
            ));
        }
        Ok(())
    }
}

// ---- the losses ----

// ANCHOR: policy_loss
/// The policy's terms of the loss, `−L^CLIP(θ) − c_H E_t[H[π_θ(·|s_t)]]`, on a minibatch whose
/// advantages are already normalised (when the config says so), with the diagnostics that
/// depend on `θ` alone.
pub fn policy_loss<T: Float>(
    agent: &ActorCritic,
    params: &Bound<'_, T>,
    minibatch: &Batch,
    config: &PpoConfig,
) -> (Var<T>, Diagnostics) {
    let constant = |a: &ndarray::Array1<f64>| Var::constant(a.mapv(T::from_f64));
    let pi = agent.policy(params, &observations_var::<T>(&minibatch.observations));
    let log_prob = pi.log_prob(&minibatch.actions);
    let entropy = pi.entropy().mean_all();
    let log_ratio = &log_prob - &constant(&minibatch.log_probs);
    let ratio = log_ratio.exp();
    let advantage = constant(&minibatch.advantages);
    let l_clip = clipped_surrogate(&ratio, &advantage, config.ppo.clip_coef).mean_all();
    let loss = -&l_clip - &(&entropy * T::from_f64(config.ppo.ent_coef));

    let log_ratio: Vec<f64> = log_ratio.value().iter().map(|v| v.as_f64()).collect();
    let (approx_kl, clip_fraction) = ratio_statistics(&log_ratio, config.ppo.clip_coef);
    let diagnostics = Diagnostics {
        policy_loss: -l_clip.item().as_f64(),
        value_loss: 0.0,
        entropy: entropy.item().as_f64(),
        approx_kl,
        clip_fraction,
    };
    (loss, diagnostics)
}
// ANCHOR_END: policy_loss

// ANCHOR: value_loss
/// The value loss `L^V(φ) = ½ E_t[(V_φ(s_t) − R_t)²]`, or with `clip_vloss` its clipped form
/// `½ E_t[max((V_φ − R_t)², (V_old + clip(V_φ − V_old, −ε, ε) − R_t)²)]`.
pub fn value_loss<T: Float>(
    agent: &ActorCritic,
    params: &Bound<'_, T>,
    minibatch: &Batch,
    config: &PpoConfig,
) -> Var<T> {
    let constant = |a: &ndarray::Array1<f64>| Var::constant(a.mapv(T::from_f64));
    let value = agent.value(params, &observations_var::<T>(&minibatch.observations));
    let target = constant(&minibatch.returns);
    let half = T::from_f64(0.5);
    if config.clip_vloss {
        let old = constant(&minibatch.values);
        let value_clipped = clipped_value(&value, &old, config.ppo.clip_coef);
        (&value - &target)
            .powi(2)
            .maximum(&(&value_clipped - &target).powi(2))
            .mean_all()
            * half
    } else {
        (&value - &target).powi(2).mean_all() * half
    }
}
// ANCHOR_END: value_loss

/// PPO's loss `−L^CLIP + c_v L^V − c_H H`, all on one tape: what `update` differentiates, in
/// two halves.
pub fn loss<T: Float>(
    agent: &ActorCritic,
    params: &Bound<'_, T>,
    minibatch: &Batch,
    config: &PpoConfig,
) -> (Var<T>, Diagnostics) {
    let (policy_terms, mut diagnostics) = policy_loss(agent, params, minibatch, config);
    let l_v = value_loss(agent, params, minibatch, config);
    diagnostics.value_loss = l_v.item().as_f64();
    (
        policy_terms + l_v * T::from_f64(config.ppo.vf_coef),
        diagnostics,
    )
}

// ---- the update ----

/// `∇ loss` of one minibatch, with the diagnostics. `−L^CLIP − c_H H` depends only on the
/// actor's parameters `θ` and `c_v L^V` only on the critic's `φ`, so the two gradients are
/// taken on their own tapes, on two cores: together they are `∇ loss`, bit for bit (tested in
/// `rl/tests/ppo_losses.rs`).
pub fn gradient(
    agent: &ActorCritic,
    store: &ParamStore<f32>,
    minibatch: &Batch,
    config: &PpoConfig,
    iteration: usize,
    cores: &Cores,
) -> Result<(ParamGradients<f32>, Diagnostics), TrainError> {
    let (actor, critic) = cores.join(
        || {
            let tape = Tape::new();
            let theta = store.bind_under(&tape, ActorCritic::ACTOR);
            let (loss, diagnostics) = policy_loss(agent, &theta, minibatch, config);
            check_finite(&loss, "PPO policy loss", iteration, &tape)?;
            Ok::<_, TrainError>((theta.gradients(&loss), diagnostics))
        },
        || {
            let tape = Tape::new();
            let phi = store.bind_under(&tape, ActorCritic::CRITIC);
            let l_v = value_loss(agent, &phi, minibatch, config);
            let loss = &l_v * config.ppo.vf_coef as f32;
            check_finite(&loss, "PPO value loss", iteration, &tape)?;
            Ok::<_, TrainError>((phi.gradients(&loss), l_v.item() as f64))
        },
    );
    let ((mut gradients, mut diagnostics), (critic_gradients, l_v)) = (actor?, critic?);
    gradients.accumulate(&critic_gradients);
    diagnostics.value_loss = l_v;
    Ok((gradients, diagnostics))
}

/// `K` epochs of minibatch steps on one batch; each epoch shuffles the samples. Returns every
/// minibatch's diagnostics (fewer epochs when the approximate KL passes `target_kl`).
fn update(ppo: &mut Ppo, batch: &Batch, iteration: usize) -> Result<Vec<Diagnostics>, TrainError> {
    let (config, on_policy) = (&ppo.config, &mut ppo.on_policy);
    let cores = Cores::new();
    let minibatch_size = batch.len() / config.num_minibatches;
    let mut indices: Vec<usize> = (0..batch.len()).collect();
    let mut steps = Vec::new();
    for _epoch in 0..config.ppo.update_epochs {
        indices.shuffle(&mut on_policy.rng);
        for chunk in indices.chunks(minibatch_size) {
            let mut minibatch = batch.select(chunk);
            if config.ppo.norm_adv {
                minibatch.advantages = normalize(&minibatch.advantages);
            }
            let (network, store) = (&on_policy.network, &on_policy.store);
            let (mut g, diagnostics) =
                gradient(network, store, &minibatch, config, iteration, &cores)?;
            clip_grad_norm(&mut g, config.ppo.max_grad_norm as f32);
            ppo.optimizer.step(store, &g);
            steps.push(diagnostics);
        }
        if let Some(target_kl) = config.ppo.target_kl
            && steps.last().is_some_and(|d| d.approx_kl > target_kl)
        {
            break;
        }
    }
    Ok(steps)
}

// ---- the loop ----

/// A PPO trainer: the actor-critic with its environments and generator, and its optimiser.
pub struct Ppo {
    config: PpoConfig,
    on_policy: OnPolicy,
    optimizer: Adam<f32>,
}

impl Trainer for Ppo {
    const NAME: &'static str = "ppo";
    type Config = PpoConfig;
    type Agent = PolicyAgent;

    fn steps_per_iteration(config: &PpoConfig) -> usize {
        config.rollout.steps_per_iteration()
    }

    fn iteration_in_words(config: &PpoConfig) -> String {
        rollout_in_words(config.rollout.num_envs, config.rollout.num_steps)
    }

    fn iterations(config: &PpoConfig) -> usize {
        config.rollout.iterations()
    }

    fn new(env_id: &str, config: &PpoConfig) -> Result<Self, TrainError> {
        let on_policy = OnPolicy::new(env_id, config)?;
        let optimizer = ppo_adam(&on_policy.store, config.ppo.learning_rate);
        Ok(Ppo {
            config: config.clone(),
            on_policy,
            optimizer,
        })
    }

    fn iterate(&mut self, iteration: usize) -> Result<Report, TrainError> {
        let config = self.config.clone();
        if config.ppo.anneal_lr {
            let iterations = Self::iterations(&config);
            anneal(
                &mut self.optimizer,
                config.ppo.learning_rate,
                iteration,
                iterations,
            );
        }

        // collect a rollout with π_θ_old; Â by GAE(λ), R = Â + V_old
        let rollout = self.on_policy.rollout(config.rollout.num_steps, true)?;
        let batch = gae_batch(&rollout, config.rollout.gamma, config.gae_lambda);

        // K epochs of minibatch steps
        let steps = update(self, &batch, iteration)?;

        let mut losses = Diagnostics::means(&steps);
        losses.extend([
            (
                "explained_variance",
                explained_variance(&batch.values, &batch.returns),
            ),
            ("learning_rate", self.optimizer.lr(0) as f64),
        ]);
        Ok(Report {
            env_steps: Self::steps_per_iteration(&config),
            episode_returns: rollout.episode_returns,
            episode_lengths: rollout.episode_lengths,
            losses,
        })
    }

    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        self.on_policy
            .parts(vec![("optimizer", &mut self.optimizer)])
    }

    fn into_agent(self) -> PolicyAgent {
        self.on_policy.into_agent()
    }
}
