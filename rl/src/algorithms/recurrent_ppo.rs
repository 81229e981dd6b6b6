//! # Recurrent PPO (PPO-clip with an LSTM policy)
//!
//! ## Background
//! PPO (Schulman et al., 2017) on a partially observed task: the policy and the value function
//! read an LSTM's summary of the history ([`crate::recurrent_policy`]) instead of the last
//! observation alone, so that what the observation leaves out (CartPole's and Pendulum's
//! velocities in `CartPoleNoVel-v1`, `PendulumNoVel-v1`) can be inferred from what came before.
//! This is Stable-Baselines3-contrib's `RecurrentPPO`: the recurrent state is carried across
//! rollout steps and reset at episode starts, the state at each step is stored, and the update
//! runs on **whole sequences** that never cross an episode boundary, each started from its
//! stored state ([`crate::recurrent_rollout`]).
//!
//! ## Key equations
//! With `z_t` the LSTM state, the ratio
//! $\rho_t(\theta) = \pi_\theta(a_t \mid o_t, z_{t-1}) / \pi_{\theta_{\text{old}}}(a_t \mid o_t, z_{t-1})$,
//! GAE(λ) advantages $\hat A_t$ computed as in PPO ([`crate::advantage`]), normalised over the
//! minibatch's real samples, and $\mathbb E_M[x] = \sum_k M_k x_k / \sum_k M_k$ the mean over
//! the mask $M$ of the padded sequences,
//!
//! $$ L^{\text{CLIP}}(\theta) = \mathbb E_M \Big[ \min\big( \rho_t \hat A_t ,\ \operatorname{clip}(\rho_t, 1 - \varepsilon, 1 + \varepsilon) \hat A_t \big) \Big] , $$
//!
//! the value loss (Stable-Baselines3's mean squared error, optionally with $V$ clipped to
//! $V_{\text{old}} \pm \varepsilon_V$)
//!
//! $$ L^V(\phi) = \mathbb E_M \big[ (V_\phi - R_t)^2 \big] , \qquad R_t = \hat A_t + V_{\text{old}} , $$
//!
//! and the loss minimised is $-L^{\text{CLIP}} + c_v L^V - c_H \mathbb E_M[H[\pi_\theta]]$.
//! The learning rate and `ε` may be annealed linearly to 0 (rl-zoo's `lin_` schedules).
//!
//! ## Pseudocode
//! ```text
//! z ← 0, m ← 1 for every environment
//! for iteration = 1, 2, …:
//!     anneal α and ε (options)
//!     run π_θ_old for T steps in N environments carrying z, resetting it where m = 1;
//!         store o, a, ln π_old, V_old, r, flags, m and the state z before every step
//!     Â by GAE(λ), R = Â + V_old (bootstrapping on truncation only)
//!     for epoch = 1 … K:
//!         for each minibatch of B samples, cut into sequences at episode starts, padded:
//!             run the LSTM over the sequences from their stored states
//!             normalise Â over the mask (option)
//!             loss = −L^CLIP + c_v L^V − c_H H;  clip the gradient's norm;  Adam step
//!         stop early if the approximate KL exceeds the target (option)
//! ```

use autograd::{Float, Tape, Tensor, Var};
use ndarray::{Array1, Array2};
use nn::optim::{Adam, Optimizer, clip_grad_norm};
use nn::{Bound, ParamGradients, ParamStore};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::advantage::{Trajectory, gae};
pub use crate::common::clipped_objective::Diagnostics;
use crate::common::clipped_objective::{clipped_surrogate, clipped_value, ratio_statistics};
use crate::common::config::{Config, Range, ranges};
use crate::common::on_policy::{
    EnvSettings, OnPolicyEnvs, anneal, linear_schedule, normalize_masked, ppo_adam,
    rollout_in_words,
};
use crate::common::ppo_config::PpoCoreConfig;
use crate::common::rollout_config::RolloutConfig;
use crate::common::trainer::{Part, Report, Trainer};
use crate::exec::Cores;
use crate::recurrent_policy::{RecurrentActorCritic, RecurrentAgent, RecurrentNetworkConfig};
use crate::recurrent_rollout::{
    Memory, RecurrentRollout, SequenceBatch, collect, sequence_minibatches, sequence_var,
};
use crate::snapshot::TrainerRng;
use crate::train::{TrainError, check_finite, explained_variance};

/// Recurrent PPO's hyperparameters. The defaults (`[defaults]` of
/// `rl/presets/recurrent_ppo.toml`) are Stable-Baselines3-contrib's `RecurrentPPO` and
/// `MlpLstmPolicy`; the per-environment tables are the RL Baselines3 Zoo's `ppo_lstm.yml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurrentPpoConfig {
    /// `T`, `N` environments of `T` steps a rollout, `γ`, observation normalisation and the
    /// environment threads, flat keys shared with the other on-policy trainers.
    #[serde(flatten)]
    pub rollout: RolloutConfig,
    /// `λ` of GAE's advantages (1: Monte Carlo returns minus the baseline).
    pub gae_lambda: f64,
    /// `α`, `γ`, `λ`, `K`, `ε`, `c_H`, `c_v`, the gradient norm and the early stop (and their
    /// annealing and normalisation switches), flat keys shared with PPO.
    #[serde(flatten)]
    pub ppo: PpoCoreConfig,
    /// Anneal `ε` linearly to 0.
    pub anneal_clip: bool,
    /// `B`: samples per minibatch (before cutting into sequences).
    pub batch_size: usize,
    /// `ε_V`: clip `V` to `V_old ± ε_V` in the value loss (`none`: no clipping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_range_vf: Option<f64>,
    /// Scale rewards by the running std of the discounted return.
    pub normalize_rewards: bool,
    /// The LSTM's and the MLPs' sizes, activation and initialisation (sb3-contrib's
    /// `policy_kwargs`): `lstm_hidden_size` (`H`), `n_lstm_layers`, `shared_lstm`, `hidden`,
    /// `activation`, `log_std_init`, `ortho_init`.
    #[serde(flatten)]
    pub network: RecurrentNetworkConfig,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
}

impl Config for RecurrentPpoConfig {
    const RANGES: &'static [(&'static str, Range)] = &ranges::<20>(&[
        &RolloutConfig::RANGES,
        &[("gae_lambda", Range::unit())],
        &PpoCoreConfig::RANGES,
        &[
            ("batch_size", Range::at_least(1.0)),
            ("clip_range_vf", Range::positive()),
        ],
        &RecurrentNetworkConfig::RANGES,
        &[("seed", Range::at_least(0.0))],
    ]);

    fn check_relations(&self) -> Result<(), String> {
        let (rollout, batch_size) = (self.rollout.steps_per_iteration(), self.batch_size);
        match batch_size <= rollout {
            true => Ok(()),
            false => Err(format!(
                "batch_size = {batch_size} is larger than a rollout of num_envs × num_steps = \
                 {rollout} samples"
            )),
        }
    }
}

// ---- the losses ----

/// `E_M[x] = Σ M x / Σ M`: the mean over the real samples of a padded minibatch.
pub fn masked_mean<T: Float>(x: &Var<T>, mask: &Array1<f64>) -> Var<T> {
    let count = mask.sum().max(1.0);
    (x * &Var::constant(mask.mapv(T::from_f64))).sum_all() * T::from_f64(1.0 / count)
}

// ANCHOR: policy_loss
/// The policy's terms `−L^CLIP(θ) − c_H E_M[H[π_θ]]` on a minibatch of sequences (advantages
/// already normalised when the config says so), with clip range `epsilon`.
pub fn policy_loss<T: Float>(
    network: &RecurrentActorCritic,
    params: &Bound<'_, T>,
    minibatch: &SequenceBatch,
    epsilon: f64,
    ent_coef: f64,
) -> (Var<T>, Diagnostics) {
    let constant = |a: &Array1<f64>| Var::constant(a.mapv(T::from_f64));
    let observations = sequence_var::<T>(&minibatch.observations);
    let (pi, _) = network.policy_sequences(
        params,
        &observations,
        &minibatch.initial_state,
        &minibatch.reset_mask,
    );
    let mask = &minibatch.mask;
    let log_ratio = pi.log_prob(&minibatch.actions) - constant(&minibatch.log_probs);
    let ratio = log_ratio.exp();
    let advantage = constant(&minibatch.advantages);
    let l_clip = masked_mean(&clipped_surrogate(&ratio, &advantage, epsilon), mask);
    let entropy = masked_mean(&pi.entropy(), mask);
    let loss = -&l_clip - &(&entropy * T::from_f64(ent_coef));

    let real: Vec<f64> = (log_ratio.value().iter().zip(mask))
        .filter(|&(_, &m)| m == 1.0)
        .map(|(l, _)| l.as_f64())
        .collect();
    let (approx_kl, clip_fraction) = ratio_statistics(&real, epsilon);
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
/// The value loss `L^V(φ) = E_M[(V_φ − R)²]`, or with `clip_range_vf = Some(ε_V)`
/// `E_M[(V_old + clip(V_φ − V_old, −ε_V, ε_V) − R)²]` (Stable-Baselines3's clipped form).
pub fn value_loss<T: Float>(
    network: &RecurrentActorCritic,
    params: &Bound<'_, T>,
    minibatch: &SequenceBatch,
    clip_range_vf: Option<f64>,
) -> Var<T> {
    let constant = |a: &Array1<f64>| Var::constant(a.mapv(T::from_f64));
    let observations = sequence_var::<T>(&minibatch.observations);
    let (value, _) = network.value_sequences(
        params,
        &observations,
        &minibatch.initial_state,
        &minibatch.reset_mask,
    );
    let value = match clip_range_vf {
        Some(e) => clipped_value(&value, &constant(&minibatch.values), e),
        None => value,
    };
    masked_mean(
        &(&value - &constant(&minibatch.returns)).powi(2),
        &minibatch.mask,
    )
}
// ANCHOR_END: value_loss

/// The whole loss `−L^CLIP + c_v L^V − c_H H` on one tape.
pub fn loss<T: Float>(
    network: &RecurrentActorCritic,
    params: &Bound<'_, T>,
    minibatch: &SequenceBatch,
    epsilon: f64,
    config: &RecurrentPpoConfig,
) -> (Var<T>, Diagnostics) {
    let (policy_terms, mut diagnostics) =
        policy_loss(network, params, minibatch, epsilon, config.ppo.ent_coef);
    let l_v = value_loss(network, params, minibatch, config.clip_range_vf);
    diagnostics.value_loss = l_v.item().as_f64();
    let total = policy_terms + l_v * T::from_f64(config.ppo.vf_coef);
    (total, diagnostics)
}

// ---- the update ----

/// `∇ loss` of one minibatch: the policy terms depend only on `θ` (under `actor.`), the value
/// loss only on `φ` (under `critic.`; a shared LSTM is read without gradient), so the two are
/// taken on their own tapes, on two cores.
pub fn gradient(
    network: &RecurrentActorCritic,
    store: &ParamStore<f32>,
    minibatch: &SequenceBatch,
    epsilon: f64,
    config: &RecurrentPpoConfig,
    iteration: usize,
    cores: &Cores,
) -> Result<(ParamGradients<f32>, Diagnostics), TrainError> {
    let (actor, critic) = cores.join(
        || {
            let tape = Tape::new();
            let theta = store.bind_under(&tape, RecurrentActorCritic::ACTOR);
            let (loss, diagnostics) =
                policy_loss(network, &theta, minibatch, epsilon, config.ppo.ent_coef);
            check_finite(&loss, "recurrent PPO policy loss", iteration, &tape)?;
            Ok::<_, TrainError>((theta.gradients(&loss), diagnostics))
        },
        || {
            let tape = Tape::new();
            let phi = store.bind_under(&tape, RecurrentActorCritic::CRITIC);
            let l_v = value_loss(network, &phi, minibatch, config.clip_range_vf);
            let loss = &l_v * config.ppo.vf_coef as f32;
            check_finite(&loss, "recurrent PPO value loss", iteration, &tape)?;
            Ok::<_, TrainError>((phi.gradients(&loss), l_v.item() as f64))
        },
    );
    let ((mut gradients, mut diagnostics), (critic_gradients, l_v)) = (actor?, critic?);
    gradients.accumulate(&critic_gradients);
    diagnostics.value_loss = l_v;
    Ok((gradients, diagnostics))
}

/// `K` epochs of minibatch steps, each cutting the rollout into sequences at a random offset.
fn update(
    trainer: &mut RecurrentPpo,
    rollout: &RecurrentRollout,
    advantages: &Array2<f64>,
    returns: &Array2<f64>,
    epsilon: f64,
    iteration: usize,
) -> Result<Vec<Diagnostics>, TrainError> {
    let config = &trainer.config;
    let cores = Cores::new();
    let mut steps = Vec::new();
    for _epoch in 0..config.ppo.update_epochs {
        let minibatches = sequence_minibatches(
            rollout,
            advantages,
            returns,
            config.batch_size,
            &mut trainer.rng,
        );
        for mut minibatch in minibatches {
            if config.ppo.norm_adv {
                minibatch.advantages = normalize_masked(&minibatch.advantages, &minibatch.mask);
            }
            let (network, store) = (&trainer.network, &trainer.store);
            let (mut g, diagnostics) = gradient(
                network, store, &minibatch, epsilon, config, iteration, &cores,
            )?;
            clip_grad_norm(&mut g, config.ppo.max_grad_norm as f32);
            trainer.optimizer.step(store, &g);
            steps.push(diagnostics);
        }
        if let (Some(target_kl), Some(last)) = (config.ppo.target_kl, steps.last())
            && last.approx_kl > target_kl
        {
            break;
        }
    }
    Ok(steps)
}

// ---- the loop ----

/// A recurrent PPO trainer: environments, the LSTM actor-critic, its optimiser, the generator
/// and the recurrent state carried between rollouts.
pub struct RecurrentPpo {
    config: RecurrentPpoConfig,
    env_id: String,
    envs: OnPolicyEnvs,
    rng: TrainerRng,
    store: ParamStore<f32>,
    network: RecurrentActorCritic,
    optimizer: Adam<f32>,
    memory: Memory,
}

impl Trainer for RecurrentPpo {
    const NAME: &'static str = "recurrent_ppo";
    type Config = RecurrentPpoConfig;
    type Agent = RecurrentAgent;

    fn steps_per_iteration(config: &RecurrentPpoConfig) -> usize {
        config.rollout.steps_per_iteration()
    }

    fn iteration_in_words(config: &RecurrentPpoConfig) -> String {
        rollout_in_words(config.rollout.num_envs, config.rollout.num_steps)
    }

    fn iterations(config: &RecurrentPpoConfig) -> usize {
        config.rollout.iterations()
    }

    fn new(env_id: &str, config: &RecurrentPpoConfig) -> Result<Self, TrainError> {
        let envs = OnPolicyEnvs::new(
            env_id,
            &EnvSettings {
                num_envs: config.rollout.num_envs,
                env_threads: config.rollout.env_threads,
                seed: config.seed,
                normalize_observations: config.rollout.normalize_observations,
                reward_scale_gamma: config.normalize_rewards.then_some(config.rollout.gamma),
            },
        )?;
        let mut rng = TrainerRng::seed_from_u64(config.seed);
        let mut store = ParamStore::<f32>::new();
        let network = RecurrentActorCritic::new(
            &mut store,
            envs.observation_dim(),
            &envs.action_space(),
            &config.network,
            &mut rng,
        );
        let optimizer = ppo_adam(&store, config.ppo.learning_rate);
        let memory = Memory::new(&network, config.rollout.num_envs);
        Ok(RecurrentPpo {
            config: config.clone(),
            env_id: env_id.to_string(),
            envs,
            rng,
            store,
            network,
            optimizer,
            memory,
        })
    }

    fn iterate(&mut self, iteration: usize) -> Result<Report, TrainError> {
        let config = self.config.clone();
        let iterations = Self::iterations(&config);
        if config.ppo.anneal_lr {
            anneal(
                &mut self.optimizer,
                config.ppo.learning_rate,
                iteration,
                iterations,
            );
        }
        let epsilon = match config.anneal_clip {
            true => linear_schedule(config.ppo.clip_coef, iteration, iterations),
            false => config.ppo.clip_coef,
        };

        // a rollout with π_θ_old, carrying z; Â by GAE(λ), R = Â + V_old
        let rollout = collect(
            &mut self.envs,
            &self.network,
            &self.store,
            &mut self.memory,
            config.rollout.num_steps,
            &mut self.rng,
        )?;
        let (advantages, returns) = gae(
            &Trajectory {
                rewards: &rollout.rewards,
                values: &rollout.values,
                next_values: &rollout.next_values,
                terminated: &rollout.terminated,
                done: &rollout.done,
            },
            config.rollout.gamma,
            config.gae_lambda,
        );

        // K epochs of sequence minibatches
        let steps = update(self, &rollout, &advantages, &returns, epsilon, iteration)?;

        let flat = |a: &Array2<f64>| Array1::from_iter(a.iter().copied());
        let mut losses = Diagnostics::means(&steps);
        losses.extend([
            (
                "explained_variance",
                explained_variance(&flat(&rollout.values), &flat(&returns)),
            ),
            ("learning_rate", self.optimizer.lr(0) as f64),
            ("clip_range", epsilon),
        ]);
        Ok(Report {
            env_steps: Self::steps_per_iteration(&config),
            episode_returns: rollout.episode_returns,
            episode_lengths: rollout.episode_lengths,
            losses,
        })
    }

    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        let mut parts = vec![
            ("agent", Part::Params(&self.store)),
            (
                "optimizer",
                Part::Optimizer(&mut self.optimizer, &self.store),
            ),
            ("rng", Part::State(&mut self.rng)),
            ("memory", Part::State(&mut self.memory)),
        ];
        parts.extend(self.envs.parts());
        parts
    }

    fn into_agent(self) -> RecurrentAgent {
        RecurrentAgent::new(
            self.env_id,
            self.store,
            self.network,
            self.envs.observation_stats,
        )
    }
}
