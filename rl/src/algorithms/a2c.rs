//! # Advantage Actor-Critic (A2C)
//!
//! ## Background
//! The synchronous, batched form of A3C (Mnih et al., 2016), as in OpenAI Baselines and
//! Stable-Baselines3: `N` environments step in lockstep; every `n` steps the `N·n` transitions
//! give one gradient step on a combined policy, value and entropy loss. The critic both
//! bootstraps the returns (so updates need not wait for episodes to end) and serves as the
//! baseline of the policy gradient.
//!
//! ## Key equations
//! The policy gradient is REINFORCE's score-function estimator
//! `∇θ J = E_t[∇θ ln π_θ(a_t|s_t) Â_t]`, with a bootstrapped advantage estimate. With the TD
//! residual `δ_t = r_t + γ V(s_{t+1}) − V(s_t)`, the `k`-step advantages are
//!
//! `Â_t^{(k)} = Σ_{l<k} γ^l δ_{t+l} = −V(s_t) + r_t + γ r_{t+1} + … + γ^{k−1} r_{t+k−1} + γ^k V(s_{t+k})`,
//!
//! from `Â^{(1)} = δ_t` (low variance, biased by the critic's errors) to `Â^{(∞)} = R̂_t − V(s_t)`
//! (REINFORCE's: unbiased, high variance), and GAE(λ) is their weighted average
//! `Â_t^{GAE(γ,λ)} = Σ_l (γλ)^l δ_{t+l}` ([`crate::advantage::gae`]). A2C's classic estimator is
//! `λ = 1` over a rollout of `n` steps: step `t` of the rollout uses `Â^{(n−t)}`, every
//! return bootstrapped from `V(s_n)` (A3C's "n-step returns"); `λ < 1` gives GAE. Episodes that
//! terminate inside the rollout are not bootstrapped; those truncated by the time limit are,
//! from their final observation ([`crate::rollout`]). The value targets are `R_t = Â_t + V(s_t)`.
//!
//! The loss minimised ([`loss`]), with `Â` and `R` held constant, is
//!
//! $$ L(\theta, \phi) = -\mathbb E_t\big[\ln \pi_\theta(a_t \mid s_t) \hat A_t\big] + c_v L^V(\phi) - c_H \mathbb E_t\big[H[\pi_\theta(\cdot \mid s_t)]\big] , $$
//! $$ L^V(\phi) = \mathbb E_t\big[(V_\phi(s_t) - R_t)^2\big] , $$
//!
//! where the entropy bonus keeps the policy from collapsing early. `θ` and `φ` are either two
//! networks ([`crate::policy::ActorCritic`]) or two heads on a shared trunk
//! ([`crate::shared_actor_critic::SharedActorCritic`]). The optimiser is RMSprop
//! (`α = 0.99`, `ε = 10⁻⁵`, as A3C and SB3) or Adam, after clipping the gradient's global norm.
//!
//! ## Pseudocode
//! ```text
//! for iteration = 1, 2, …:
//!     anneal the learning rate linearly to 0 (option)
//!     run π_θ in N environments for n steps; store s_t, a_t, r_t, V(s_t), flags
//!     compute Â_t = GAE(γ, λ) (λ = 1: n-step returns) and R_t = Â_t + V(s_t),
//!         bootstrapping from V(s_n) and on truncation, never on termination
//!     normalise Â (option)
//!     loss = −mean(ln π_θ(a|s) Â) + c_v mean((V_φ(s) − R)²) − c_H mean(H[π_θ(·|s)])
//!     clip the gradient's global norm; one RMSprop (or Adam) step
//! ```

use autograd::{Float, Tape, Tensor, Var};
use nn::optim::{Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, clip_grad_norm};
use nn::{Activation, Bound};
use serde::{Deserialize, Serialize};

use crate::common::config::{Config, RMSPROP_ALPHA, Range, ranges};
use crate::common::on_policy::{Batch, OnPolicy, anneal, gae_batch, normalize};
use crate::common::rollout_config::RolloutConfig;
use crate::common::trainer::{Part, Report, Trainer};
use crate::policy::{ActorCritic, PolicyDistribution, PolicyNetwork, observations_var};
use crate::shared_actor_critic::SharedActorCritic;
use crate::train::{PolicyAgent, TrainError, check_finite, explained_variance};

/// The optimiser of an A2C update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum A2cOptimizer {
    /// RMSprop (PyTorch's form, `ε` outside the square root), A3C's choice.
    RmsProp,
    /// Adam.
    Adam,
}

/// A2C's hyperparameters. The defaults (`[defaults]` of `rl/presets/a2c.toml`) are
/// Stable-Baselines3's `A2C` with CleanRL's separate networks; the file's per-environment tables
/// are the RL Baselines3 Zoo's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct A2cConfig {
    /// `T`, `N` environments of `T` steps a rollout, `γ`, observation normalisation and the
    /// environment threads, flat keys shared with the other on-policy trainers.
    #[serde(flatten)]
    pub rollout: RolloutConfig,
    /// `λ` of GAE's advantages (1: A2C's n-step returns).
    pub gae_lambda: f64,
    /// The optimiser's learning rate.
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0.
    pub anneal_lr: bool,
    /// Normalise the advantages of each batch.
    pub norm_adv: bool,
    /// `c_H`: entropy bonus.
    pub ent_coef: f64,
    /// `c_v`: value loss coefficient.
    pub vf_coef: f64,
    /// Maximum global gradient norm.
    pub max_grad_norm: f64,
    /// `rmsprop` or `adam`.
    pub optimizer: A2cOptimizer,
    /// RMSprop's smoothing constant `α` of the squared-gradient average.
    pub rmsprop_alpha: f64,
    /// The optimiser's `ε` (RMSprop's and Adam's).
    pub optimizer_eps: f64,
    /// One trunk with a policy head and a value head, instead of two networks.
    pub shared_network: bool,
    /// Hidden layer sizes (of each network, or of the shared trunk).
    pub hidden: Vec<usize>,
    /// Hidden activation: `tanh` or `relu`.
    pub activation: Activation,
    /// Initial `ln σ` of a Gaussian policy.
    pub log_std_init: f64,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
}

impl Config for A2cConfig {
    const RANGES: &'static [(&'static str, Range)] = &ranges::<15>(&[
        &RolloutConfig::RANGES,
        &[("gae_lambda", Range::unit())],
        &[
            ("learning_rate", Range::positive()),
            ("ent_coef", Range::non_negative()),
            ("vf_coef", Range::non_negative()),
            ("max_grad_norm", Range::positive()),
            RMSPROP_ALPHA,
            ("optimizer_eps", Range::positive()),
            ("hidden", Range::at_least(1.0)),
            ("log_std_init", Range::finite()),
            ("seed", Range::at_least(0.0)),
        ],
    ]);

    fn check_relations(&self) -> Result<(), String> {
        if self.shared_network && self.hidden.is_empty() {
            return Err(
                "shared_network needs at least one hidden layer to share; set hidden, e.g. 64,64"
                    .into(),
            );
        }
        Ok(())
    }
}

/// A2C's policy and value function: two networks or one shared trunk.
#[derive(Clone, Debug)]
pub enum A2cNetwork {
    /// `π_θ` and `V_φ` as two networks.
    Separate(ActorCritic),
    /// `π_θ` and `V_φ` as two heads on one trunk.
    Shared(SharedActorCritic),
}

impl A2cNetwork {
    /// `π(·|s)` and `V(s)` for a batch of observations.
    pub fn forward<T: Float>(
        &self,
        params: &Bound<'_, T>,
        observations: &Var<T>,
    ) -> (PolicyDistribution<T>, Var<T>) {
        match self {
            A2cNetwork::Separate(net) => (
                net.policy(params, observations),
                net.value(params, observations),
            ),
            A2cNetwork::Shared(net) => net.forward(params, observations),
        }
    }
}

impl PolicyNetwork for A2cNetwork {
    /// `π(·|s)` (through the shared trunk, if shared).
    fn policy<T: Float>(
        &self,
        params: &Bound<'_, T>,
        observations: &Var<T>,
    ) -> PolicyDistribution<T> {
        match self {
            A2cNetwork::Separate(net) => net.policy(params, observations),
            A2cNetwork::Shared(net) => net.forward(params, observations).0,
        }
    }

    fn value<T: Float>(&self, params: &Bound<'_, T>, observations: &Var<T>) -> Var<T> {
        match self {
            A2cNetwork::Separate(net) => net.value(params, observations),
            A2cNetwork::Shared(net) => net.forward(params, observations).1,
        }
    }
}

/// A trained A2C agent: its networks, their parameters and the observation statistics.
pub type A2cAgent = PolicyAgent<A2cNetwork>;

// ---- the loss ----

/// What an update reports besides the loss.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics {
    /// `−E_t[ln π_θ(a_t|s_t) Â_t]`.
    pub policy_loss: f64,
    /// `L^V = E_t[(V_φ(s_t) − R_t)²]`.
    pub value_loss: f64,
    /// `E_t[H[π_θ(·|s_t)]]`.
    pub entropy: f64,
}

// ANCHOR: loss
/// A2C's loss `−E_t[ln π_θ(a_t|s_t) Â_t] + c_v E_t[(V_φ(s_t) − R_t)²] − c_H E_t[H[π_θ(·|s_t)]]`
/// on a batch whose advantages are final (normalised when the config says so).
pub fn loss<T: Float>(
    network: &A2cNetwork,
    params: &Bound<'_, T>,
    batch: &Batch,
    config: &A2cConfig,
) -> (Var<T>, Diagnostics) {
    let constant = |a: &ndarray::Array1<f64>| Var::constant(a.mapv(T::from_f64));
    let (pi, value) = network.forward(params, &observations_var::<T>(&batch.observations));
    let log_prob = pi.log_prob(&batch.actions);
    let entropy = pi.entropy().mean_all();
    let policy_loss = -(&log_prob * &constant(&batch.advantages)).mean_all();
    let value_loss = (&value - &constant(&batch.returns)).powi(2).mean_all();
    let loss = &policy_loss - &(&entropy * T::from_f64(config.ent_coef))
        + &value_loss * T::from_f64(config.vf_coef);
    let diagnostics = Diagnostics {
        policy_loss: policy_loss.item().as_f64(),
        value_loss: value_loss.item().as_f64(),
        entropy: entropy.item().as_f64(),
    };
    (loss, diagnostics)
}
// ANCHOR_END: loss

// ---- the update ----

/// One step on the batch: the gradient of the loss, its global norm clipped, one optimiser
/// step. Returns the diagnostics and the gradient's norm before clipping.
fn update(
    a2c: &mut A2c,
    batch: &Batch,
    iteration: usize,
) -> Result<(Diagnostics, f64), TrainError> {
    let (network, store) = (&a2c.on_policy.network, &a2c.on_policy.store);
    let tape = Tape::new();
    let params = store.bind(&tape);
    let (loss, diagnostics) = loss(network, &params, batch, &a2c.config);
    check_finite(&loss, "A2C loss", iteration, &tape)?;
    let mut gradients = params.gradients(&loss);
    let grad_norm = gradients.global_norm() as f64;
    clip_grad_norm(&mut gradients, a2c.config.max_grad_norm as f32);
    a2c.optimizer.step(store, &gradients);
    Ok((diagnostics, grad_norm))
}

// ---- the loop ----

/// An A2C trainer: the networks with their environments and generator, and the optimiser.
pub struct A2c {
    config: A2cConfig,
    on_policy: OnPolicy<A2cNetwork>,
    optimizer: Box<dyn Optimizer<f32>>,
}

impl Trainer for A2c {
    const NAME: &'static str = "a2c";
    type Config = A2cConfig;
    type Agent = A2cAgent;

    fn steps_per_iteration(config: &A2cConfig) -> usize {
        config.rollout.steps_per_iteration()
    }

    fn iterations(config: &A2cConfig) -> usize {
        config.rollout.iterations()
    }

    fn new(env_id: &str, config: &A2cConfig) -> Result<Self, TrainError> {
        let on_policy =
            OnPolicy::with(
                env_id,
                config,
                |store, dim, space, network, rng| match config.shared_network {
                    true => {
                        A2cNetwork::Shared(SharedActorCritic::new(store, dim, space, network, rng))
                    }
                    false => {
                        A2cNetwork::Separate(ActorCritic::new(store, dim, space, network, rng))
                    }
                },
            )?;
        let trainable = on_policy.store.trainable();
        let (lr, eps) = (config.learning_rate as f32, config.optimizer_eps as f32);
        let optimizer: Box<dyn Optimizer<f32>> = match config.optimizer {
            A2cOptimizer::RmsProp => Box::new(RmsProp::new(
                trainable,
                RmsPropConfig {
                    lr,
                    alpha: config.rmsprop_alpha as f32,
                    eps,
                    ..RmsPropConfig::default()
                },
            )),
            A2cOptimizer::Adam => Box::new(Adam::new(
                trainable,
                AdamConfig {
                    lr,
                    eps,
                    ..AdamConfig::default()
                },
            )),
        };
        Ok(A2c {
            config: config.clone(),
            on_policy,
            optimizer,
        })
    }

    fn iterate(&mut self, iteration: usize) -> Result<Report, TrainError> {
        let config = self.config.clone();
        if config.anneal_lr {
            let iterations = Self::iterations(&config);
            anneal(
                self.optimizer.as_mut(),
                config.learning_rate,
                iteration,
                iterations,
            );
        }

        // run π_θ for n steps in N environments; Â by GAE(γ, λ) (n-step returns at λ = 1),
        // R = Â + V
        let rollout = self.on_policy.rollout(config.rollout.num_steps, false)?;
        let mut batch = gae_batch(&rollout, config.rollout.gamma, config.gae_lambda);
        if config.norm_adv {
            batch.advantages = normalize(&batch.advantages);
        }

        let (diagnostics, grad_norm) = update(self, &batch, iteration)?;
        Ok(Report {
            env_steps: Self::steps_per_iteration(&config),
            episode_returns: rollout.episode_returns,
            episode_lengths: rollout.episode_lengths,
            losses: vec![
                ("policy_loss", diagnostics.policy_loss),
                ("value_loss", diagnostics.value_loss),
                ("entropy", diagnostics.entropy),
                ("grad_norm", grad_norm),
                (
                    "explained_variance",
                    explained_variance(&batch.values, &batch.returns),
                ),
                ("learning_rate", self.optimizer.lr(0) as f64),
            ],
        })
    }

    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        self.on_policy
            .parts(vec![("optimizer", self.optimizer.as_mut())])
    }

    fn into_agent(self) -> A2cAgent {
        self.on_policy.into_agent()
    }
}
