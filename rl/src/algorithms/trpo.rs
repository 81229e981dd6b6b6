//! # Natural policy gradient (NPG) and Trust Region Policy Optimization (TRPO)
//!
//! ## Background
//! A policy-gradient step in parameter space can change the policy a little or a lot depending on
//! the parameterisation. The natural policy gradient (Kakade, 2002) measures the step by the
//! change of the policy itself, the mean KL divergence between the old and the new action
//! distributions, and takes the steepest ascent step of the surrogate objective within a KL
//! radius `δ`. TRPO (Schulman et al., 2015) solves the same trust-region problem, then checks
//! the step on the true surrogate and KL with a backtracking line search, since the quadratic
//! model of the KL can be wrong far from `θ_old`. Both need only Fisher-vector products, which
//! autograd gives without forming the Fisher matrix, and a few conjugate-gradient iterations.
//! NPG here is this module with the line search turned off (`line_search = false`, the
//! `[defaults]` of `rl/presets/npg.toml`); the registry trains it as `npg`.
//!
//! ## Key equations
//! With GAE(λ) advantages `Â_t` ([`crate::advantage`]) of a rollout ([`crate::rollout`]),
//! normalised over the batch, the surrogate objective ([`surrogate`]) and the mean KL from the
//! policy that collected the data ([`mean_kl`]) are
//!
//! $$ L(\theta) = \mathbb E_t\Big[ \frac{\pi_\theta(a_t \mid s_t)}{\pi_{\theta_{\text{old}}}(a_t \mid s_t)} \hat A_t \Big] , \qquad
//!    \bar D_{\mathrm{KL}}(\theta) = \mathbb E_t\big[ \mathrm{KL}(\pi_{\theta_{\text{old}}}(\cdot \mid s_t) \Vert \pi_\theta(\cdot \mid s_t)) \big] , $$
//!
//! and the trust-region problem is `maximise L(θ) subject to D̄_KL(θ) ≤ δ`. Around `θ_old`,
//! `L(θ) ≈ gᵀ(θ − θ_old)` with `g = ∇θ L(θ_old)`, and `D̄_KL(θ) ≈ ½ (θ − θ_old)ᵀ F (θ − θ_old)`
//! with `F = ∇²θ D̄_KL(θ_old)`, the Fisher information matrix. The products with `F` are
//! double backward passes through the KL (π_θ_old held constant), damped by `λ`:
//!
//! $$ F v = \nabla_\theta \big( (\nabla_\theta \bar D_{\mathrm{KL}}(\theta)) \cdot v \big) + \lambda v $$
//!
//! ([`nn::optim::FisherVectorProduct`]).
//!
//! The quadratic problem's solution is the natural gradient scaled to the KL radius:
//!
//! $$ x \approx F^{-1} g , \qquad
//!    \Delta\theta = \sqrt{\frac{2\delta}{x^{\top} F x}} x = \sqrt{\frac{2\delta}{g^{\top} F^{-1} g}} F^{-1} g $$
//!
//! (conjugate gradient, [`nn::optim::FisherVectorProduct::solve`]; the step,
//! [`nn::optim::NaturalStep::MaxKl`]).
//!
//! NPG takes `θ = θ_old + Δθ`. TRPO takes `θ = θ_old + αʲ Δθ` for the smallest `j = 0, 1, …`
//! such that the step satisfies the constraint and improves the surrogate by at least a
//! fraction of what its linear model expects:
//!
//! `D̄_KL(θ) ≤ δ`,  `L(θ) − L(θ_old) > 0`,  `(L(θ) − L(θ_old)) / (αʲ gᵀΔθ) ≥ accept_ratio`,
//!
//! and keeps `θ_old` if no `j` below the cap passes. The critic `V_φ` is fitted separately by
//! Adam on `L^V(φ) = E_t[(V_φ(s_t) − R_t)²]` ([`value_loss`]), `R_t = Â_t + V_old(s_t)` (before
//! normalisation).
//! Diagnostics: the KL after the step, the surrogate improvement, the line-search steps taken,
//! the conjugate-gradient residual `‖g − F x‖`, and the value function's explained variance.
//!
//! ## Pseudocode
//! ```text
//! for iteration = 1, 2, …:
//!     run π_θ_old in N environments for T steps; store s, a, V_old(s), r, flags
//!     compute Â (GAE) and R = Â + V_old, bootstrapping on truncation only; normalise Â
//!     π_θ_old(·|s) and ln π_θ_old(a|s) on the whole batch, held constant
//!     g = ∇θ L;  record ∇θ D̄_KL once (create_graph)
//!     x = CG(v ↦ ∇θ((∇θ D̄_KL)·v) + λv, g)     — every iteration reuses the recording
//!     Δθ = √(2δ / xᵀFx) · x
//!     NPG:  θ ← θ_old + Δθ
//!     TRPO: for j = 0 … J−1: θ ← θ_old + αʲΔθ; accept if the KL, improvement and ratio tests
//!           pass; else θ ← θ_old
//!     for epoch = 1 … n_critic_updates: for each minibatch: Adam step on L^V(φ)
//! ```

use autograd::{Float, Tape, Tensor, Var, no_grad};
use ndarray::Array1;
use nn::optim::conjugate_gradient::{flatten, unflatten};
use nn::optim::{Adam, AdamConfig, FisherVectorProduct, NaturalStep, Optimizer};
use nn::{Activation, Bound, ParamId};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::common::config::{Config, Range, ranges};
use crate::common::on_policy::{Batch, OnPolicy, gae_batch, normalize};
use crate::common::rollout_config::RolloutConfig;
use crate::common::trainer::{Part, Report, Trainer};
use crate::policy::{ActorCritic, PolicyDistribution, observations_var, to_f64};
use crate::train::{PolicyAgent, TrainError, check_finite, explained_variance};

/// TRPO's (and NPG's) hyperparameters. The defaults (`[defaults]` of `rl/presets/trpo.toml`)
/// are Stable-Baselines3-contrib's `TRPO`; the per-environment tables are tuned (from the RL
/// Baselines3 Zoo where they exist). `rl/presets/npg.toml` holds the natural policy gradient's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrpoConfig {
    /// `T`, `N` environments of `T` steps a rollout, `γ`, observation normalisation and the
    /// environment threads, flat keys shared with the other on-policy trainers.
    #[serde(flatten)]
    pub rollout: RolloutConfig,
    /// `λ` of GAE's advantages (1: Monte Carlo returns minus the baseline).
    pub gae_lambda: f64,
    /// Normalise advantages over the batch.
    pub normalize_advantage: bool,
    /// `δ`: the KL radius of the trust region.
    pub target_kl: f64,
    /// Conjugate-gradient iteration cap.
    pub cg_max_steps: usize,
    /// Conjugate gradient stops once the residual `‖g − F x‖` is at most this (0: never early).
    pub cg_residual_tolerance: f64,
    /// `λ`: damping added to the Fisher matrix (`F + λI`).
    pub cg_damping: f64,
    /// Backtracking line search on the true KL and surrogate (TRPO); `false` takes the natural
    /// gradient step `Δθ` as it is (NPG).
    pub line_search: bool,
    /// `α`: the line search's backtracking coefficient.
    pub line_search_shrinking_factor: f64,
    /// `J`: step sizes `α⁰ … α^(J−1)` the line search tries before keeping `θ_old`.
    pub line_search_max_iter: usize,
    /// The smallest accepted ratio of actual to expected (linear) surrogate improvement.
    pub line_search_accept_ratio: f64,
    /// Adam's learning rate for the critic.
    pub learning_rate: f64,
    /// Epochs of critic minibatch updates per iteration (0: the critic is not fitted).
    pub n_critic_updates: usize,
    /// Critic minibatch size.
    pub batch_size: usize,
    /// Hidden layer sizes.
    pub hidden: Vec<usize>,
    /// Hidden activation: `tanh` or `relu`.
    pub activation: Activation,
    /// Initial `ln σ` of a Gaussian policy.
    pub log_std_init: f64,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
}

impl Config for TrpoConfig {
    const RANGES: &'static [(&'static str, Range)] = &ranges::<19>(&[
        &RolloutConfig::RANGES,
        &[("gae_lambda", Range::unit())],
        &[
            ("target_kl", Range::positive()),
            ("cg_max_steps", Range::at_least(1.0)),
            ("cg_residual_tolerance", Range::non_negative()),
            ("cg_damping", Range::non_negative()),
            ("line_search_shrinking_factor", Range::open(0.0, 1.0)),
            ("line_search_max_iter", Range::at_least(1.0)),
            ("line_search_accept_ratio", Range::non_negative()),
            ("learning_rate", Range::positive()),
            ("n_critic_updates", Range::at_least(0.0)),
            ("batch_size", Range::at_least(1.0)),
            ("hidden", Range::at_least(1.0)),
            ("log_std_init", Range::finite()),
            ("seed", Range::at_least(0.0)),
        ],
    ]);
}

// ---- the losses ----

// ANCHOR: surrogate
/// The surrogate objective `L(θ) = E_t[π_θ(a_t|s_t) / π_θ_old(a_t|s_t) · Â_t]`, the ratio taken
/// as `exp(ln π_θ − ln π_old)` with `ln π_old` = `batch.log_probs`, and the mean entropy
/// `E_t[H[π_θ(·|s_t)]]` (a diagnostic).
///
/// ```
/// use autograd::prelude::*;
/// use rand::SeedableRng;
/// use wengert_rl::algorithms::trpo::surrogate;
/// # use wengert_rl::{common::on_policy::Batch, env::Space, policy::*};
/// # let mut store = nn::ParamStore::<f64>::new();
/// # let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// # let agent = ActorCritic::new(&mut store, 2, &Space::Discrete { n: 2 }, &NetworkConfig::default(), &mut rng);
/// # let observations = ndarray::array![[0.1f32, 0.2], [0.3, -0.4]];
/// # let log_probs = to_f64(&agent.policy(&store.constants(), &observations_var(&observations)).log_prob(&Actions::Discrete(vec![0, 1])));
/// let batch = Batch {
///     observations,
///     actions: Actions::Discrete(vec![0, 1]),
///     log_probs, // ln π_old(a|s) of the current parameters
///     values: ndarray::array![0.0, 0.0],
///     advantages: ndarray::array![1.0, -3.0],
///     returns: ndarray::array![0.0, 0.0],
/// };
/// // At θ = θ_old every ratio is 1, so L(θ_old) = E[Â] = −1.
/// let (l, entropy) = surrogate(&agent, &store.constants(), &batch);
/// assert!((l.item() + 1.0).abs() < 1e-12 && entropy > 0.0);
/// ```
pub fn surrogate<T: Float>(
    agent: &ActorCritic,
    params: &Bound<'_, T>,
    batch: &Batch,
) -> (Var<T>, f64) {
    let constant = |a: &Array1<f64>| Var::constant(a.mapv(T::from_f64));
    let pi = agent.policy(params, &observations_var::<T>(&batch.observations));
    let ratio = (&pi.log_prob(&batch.actions) - &constant(&batch.log_probs)).exp();
    let l = (&ratio * &constant(&batch.advantages)).mean_all();
    (l, pi.entropy().mean_all().item().as_f64())
}
// ANCHOR_END: surrogate

// ANCHOR: mean_kl
/// The mean KL divergence `D̄_KL(θ) = E_t[KL(π_θ_old(·|s_t) ‖ π_θ(·|s_t))]` from `pi_old`, the
/// policy that collected `batch` (held constant): zero, with zero gradient, at `θ = θ_old`, and
/// its Hessian there is the Fisher matrix `F`.
///
/// ```
/// use autograd::prelude::*;
/// use rand::SeedableRng;
/// # use wengert_rl::{common::on_policy::Batch, env::Space, policy::*};
/// # let mut store = nn::ParamStore::<f64>::new();
/// # let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// # let agent = ActorCritic::new(&mut store, 2, &Space::Discrete { n: 2 }, &NetworkConfig::default(), &mut rng);
/// # let z = ndarray::array![0.0, 0.0];
/// # let batch = Batch { observations: ndarray::array![[0.1f32, 0.2], [0.3, -0.4]], actions: Actions::Discrete(vec![0, 1]), log_probs: z.clone(), values: z.clone(), advantages: z.clone(), returns: ndarray::array![1.0, -1.0] };
/// use wengert_rl::algorithms::trpo::mean_kl;
/// let pi_old = agent.policy(&store.constants(), &observations_var(&batch.observations));
/// assert_eq!(mean_kl(&agent, &store.constants(), &pi_old, &batch).item(), 0.0);
/// ```
pub fn mean_kl<T: Float>(
    agent: &ActorCritic,
    params: &Bound<'_, T>,
    pi_old: &PolicyDistribution<T>,
    batch: &Batch,
) -> Var<T> {
    let pi = agent.policy(params, &observations_var::<T>(&batch.observations));
    pi_old.kl(&pi).mean_all()
}
// ANCHOR_END: mean_kl

/// The critic's loss `L^V(φ) = E_t[(V_φ(s_t) − R_t)²]` on a minibatch.
///
/// ```
/// use autograd::prelude::*;
/// use rand::SeedableRng;
/// # use wengert_rl::{common::on_policy::Batch, env::Space, policy::*};
/// # let mut store = nn::ParamStore::<f64>::new();
/// # let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// # let agent = ActorCritic::new(&mut store, 2, &Space::Discrete { n: 2 }, &NetworkConfig::default(), &mut rng);
/// # let z = ndarray::array![0.0, 0.0];
/// # let batch = Batch { observations: ndarray::array![[0.1f32, 0.2], [0.3, -0.4]], actions: Actions::Discrete(vec![0, 1]), log_probs: z.clone(), values: z.clone(), advantages: z.clone(), returns: ndarray::array![1.0, -1.0] };
/// use wengert_rl::algorithms::trpo::value_loss;
/// let v = to_f64(&agent.value(&store.constants(), &observations_var(&batch.observations)));
/// let expected = ((v[0] - 1.0).powi(2) + (v[1] + 1.0).powi(2)) / 2.0;
/// assert!((value_loss(&agent, &store.constants(), &batch).item() - expected).abs() < 1e-12);
/// ```
pub fn value_loss<T: Float>(
    agent: &ActorCritic,
    params: &Bound<'_, T>,
    minibatch: &Batch,
) -> Var<T> {
    let value = agent.value(params, &observations_var::<T>(&minibatch.observations));
    (&value - &Var::constant(minibatch.returns.mapv(T::from_f64)))
        .powi(2)
        .mean_all()
}

// ---- the update ----

/// What one update did.
#[derive(Default)]
struct Outcome {
    accepted: bool,
    line_search_steps: usize,
    /// `D̄_KL` after the step (0 when it was rejected).
    kl: f64,
    /// `L(θ) − L(θ_old)` (0 when it was rejected).
    improvement: f64,
    /// `gᵀΔθ`.
    expected_improvement: f64,
    cg_iterations: usize,
    cg_residual: f64,
    entropy: f64,
    value_losses: Vec<f64>,
}

/// The policy step (natural gradient, then the line search or not) and the critic's epochs on
/// one batch, whose `log_probs` are `ln π_old(a|s)` of `pi_old`.
fn update(
    trpo: &mut Trpo,
    batch: &Batch,
    pi_old: &PolicyDistribution<f32>,
    iteration: usize,
) -> Result<Outcome, TrainError> {
    let Trpo {
        config,
        on_policy,
        theta_ids,
        critic_optimizer,
    } = trpo;
    let OnPolicy {
        store,
        network: agent,
        rng,
        ..
    } = on_policy;

    // g = ∇θ L(θ_old); F v = ∇θ((∇θ D̄_KL)·v) + λv, recorded once; x ≈ F⁻¹g; Δθ = √(2δ/xᵀFx) x
    let tape = Tape::new();
    let params = store.bind_under(&tape, ActorCritic::ACTOR);
    let theta: Vec<&Var<f32>> = theta_ids.iter().map(|&id| &params[id]).collect();
    let (l, entropy) = surrogate(agent, &params, batch);
    // ANCHOR: natural_step
    let g = flatten(&autograd::grad(&[&l], &theta));
    let fisher = FisherVectorProduct::new(
        &mean_kl(agent, &params, pi_old, batch),
        &theta,
        config.cg_damping as f32,
    );
    let natural = fisher.solve(&g, config.cg_max_steps, config.cg_residual_tolerance as f32);
    let step = &natural.x * NaturalStep::MaxKl(config.target_kl as f32).size(natural.x_f_x);
    // ANCHOR_END: natural_step
    if !step.iter().all(|v| v.is_finite()) || !l.item().is_finite() {
        return Err(TrainError::NonFinite {
            what: "TRPO natural gradient step".into(),
            iteration,
            anomaly: tape.first_anomaly().map(|a| a.to_string()),
        });
    }
    let shapes = fisher.shapes().to_vec();
    drop((fisher, theta));
    drop((params, tape));
    let mut outcome = Outcome {
        expected_improvement: g.dot(&step) as f64,
        cg_iterations: natural.cg_iterations,
        cg_residual: natural.residual_norm as f64,
        entropy,
        ..Outcome::default()
    };

    // L(θ) and D̄_KL(θ) at candidate parameters θ, with nothing recorded
    let l_old = l.item() as f64;
    let theta_old = flatten(
        &theta_ids
            .iter()
            .map(|&id| store.value(id))
            .collect::<Vec<_>>(),
    );
    let assign = |theta: &Array1<f32>| {
        for (&id, value) in theta_ids.iter().zip(unflatten(theta, &shapes)) {
            store.set(id, value);
        }
    };
    let surrogate_and_kl = |theta: &Array1<f32>| {
        assign(theta);
        no_grad(|| {
            let params = store.constants();
            let l = surrogate(agent, &params, batch).0.item() as f64;
            (l, mean_kl(agent, &params, pi_old, batch).item() as f64)
        })
    };
    if config.line_search {
        let mut alpha = 1.0;
        for j in 1..=config.line_search_max_iter {
            let (l_new, kl) = surrogate_and_kl(&(&theta_old + &(&step * alpha as f32)));
            let improvement = l_new - l_old;
            outcome.line_search_steps = j;
            if kl <= config.target_kl
                && improvement > 0.0
                && improvement / (alpha * outcome.expected_improvement)
                    >= config.line_search_accept_ratio
            {
                (outcome.accepted, outcome.kl, outcome.improvement) = (true, kl, improvement);
                break;
            }
            alpha *= config.line_search_shrinking_factor;
        }
        if !outcome.accepted {
            assign(&theta_old);
        }
    } else {
        let (l_new, kl) = surrogate_and_kl(&(&theta_old + &step));
        (outcome.accepted, outcome.kl, outcome.improvement) = (true, kl, l_new - l_old);
    }

    // the critic: Adam on L^V(φ) over shuffled minibatches
    let mut indices: Vec<usize> = (0..batch.len()).collect();
    for _epoch in 0..config.n_critic_updates {
        indices.shuffle(rng);
        for chunk in indices.chunks(config.batch_size) {
            let minibatch = batch.select(chunk);
            let tape = Tape::new();
            let phi = store.bind_under(&tape, ActorCritic::CRITIC);
            let l_v = value_loss(agent, &phi, &minibatch);
            check_finite(&l_v, "TRPO value loss", iteration, &tape)?;
            critic_optimizer.step(store, &phi.gradients(&l_v));
            outcome.value_losses.push(l_v.item() as f64);
        }
    }
    Ok(outcome)
}

// ---- the loop ----

/// A TRPO (or NPG) trainer: the actor-critic with its environments and generator, and the
/// critic's optimiser.
pub struct Trpo {
    config: TrpoConfig,
    on_policy: OnPolicy,
    /// `θ`: the actor's parameters (including a Gaussian's `ln σ`); the critic's `φ` are Adam's.
    theta_ids: Vec<ParamId>,
    critic_optimizer: Adam<f32>,
}

impl Trainer for Trpo {
    const NAME: &'static str = "trpo";
    type Config = TrpoConfig;
    type Agent = PolicyAgent;

    fn steps_per_iteration(config: &TrpoConfig) -> usize {
        config.rollout.steps_per_iteration()
    }

    fn iterations(config: &TrpoConfig) -> usize {
        config.rollout.iterations()
    }

    fn new(env_id: &str, config: &TrpoConfig) -> Result<Self, TrainError> {
        let on_policy = OnPolicy::new(env_id, config)?;
        let store = &on_policy.store;
        let is_actor = |id: ParamId| store.name(id).starts_with("actor.");
        let theta_ids: Vec<ParamId> = store.trainable().filter(|&id| is_actor(id)).collect();
        let phi_ids: Vec<ParamId> = store.trainable().filter(|&id| !is_actor(id)).collect();
        let critic_optimizer = Adam::new(
            phi_ids,
            AdamConfig {
                lr: config.learning_rate as f32,
                eps: 1e-5,
                ..AdamConfig::default()
            },
        );
        Ok(Trpo {
            config: config.clone(),
            on_policy,
            theta_ids,
            critic_optimizer,
        })
    }

    fn iterate(&mut self, iteration: usize) -> Result<Report, TrainError> {
        let config = self.config.clone();

        // collect a rollout with π_θ_old
        let rollout = self.on_policy.rollout(config.rollout.num_steps, false)?;

        // Â by GAE(λ), R = Â + V_old; Â normalised over the batch
        let mut batch = gae_batch(&rollout, config.rollout.gamma, config.gae_lambda);
        if config.normalize_advantage {
            batch.advantages = normalize(&batch.advantages);
        }

        // π_θ_old and ln π_θ_old(a|s) in one forward pass over the whole batch
        let (agent, params) = (&self.on_policy.network, self.on_policy.store.constants());
        let pi_old =
            no_grad(|| agent.policy(&params, &observations_var::<f32>(&batch.observations)));
        batch.log_probs = to_f64(&pi_old.log_prob(&batch.actions));
        drop(params);

        let outcome = update(self, &batch, &pi_old, iteration)?;

        let value_loss =
            outcome.value_losses.iter().sum::<f64>() / outcome.value_losses.len().max(1) as f64;
        Ok(Report {
            env_steps: Self::steps_per_iteration(&config),
            episode_returns: rollout.episode_returns,
            episode_lengths: rollout.episode_lengths,
            losses: vec![
                ("kl", outcome.kl),
                ("surrogate_improvement", outcome.improvement),
                ("expected_improvement", outcome.expected_improvement),
                ("line_search_steps", outcome.line_search_steps as f64),
                ("step_accepted", if outcome.accepted { 1.0 } else { 0.0 }),
                ("cg_iterations", outcome.cg_iterations as f64),
                ("cg_residual", outcome.cg_residual),
                ("entropy", outcome.entropy),
                ("value_loss", value_loss),
                (
                    "explained_variance",
                    explained_variance(&batch.values, &batch.returns),
                ),
            ],
        })
    }

    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        self.on_policy
            .parts(vec![("critic_optimizer", &mut self.critic_optimizer)])
    }

    fn into_agent(self) -> PolicyAgent {
        self.on_policy.into_agent()
    }
}
