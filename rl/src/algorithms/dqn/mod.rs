//! # Deep Q-Networks (DQN) and their family: Double, Dueling, prioritised replay, n-step
//!
//! ## Background
//! DQN (Mnih et al., 2015) learns the optimal action-value function `Q*(s, a)` with a network
//! `Q_θ` by regressing it on bootstrapped one-step targets, off-policy: an ε-greedy behaviour
//! policy fills a **replay buffer**, minibatches are drawn from it at random (breaking the
//! correlation of consecutive steps), and the targets come from a **target network** `θ'`
//! that is held still between updates, so that the regression target does not move with every
//! gradient step. The Huber loss on the Bellman error and gradient-norm clipping keep single
//! large errors from dominating an update. Four refinements, each a switch here:
//!
//! - **Double DQN** (van Hasselt et al., 2016): `max_a Q_θ'(s', a)` is biased upwards by noise
//!   in `Q_θ'`; choosing the action with the online network and evaluating it with the target
//!   network decouples selection from evaluation and removes most of that bias.
//! - **Dueling** networks (Wang et al., 2016): `Q = V + A − mean_a A` ([`QNetwork`]), so that
//!   the state value is learned from every action's updates.
//! - **Prioritised replay** (Schaul et al., 2016): replay transitions in proportion to their
//!   last TD error, and correct the bias with importance weights
//!   ([`PrioritizedReplay`]).
//! - **n-step returns** (Sutton, 1988; used by Rainbow, Hessel et al., 2018): bootstrap after
//!   `n` rewards instead of one ([`NStepAccumulator`]).
//!
//! ## Key equations
//! A stored transition is `(o, a, R, o', terminated, γ^m)` with `R = Σ_{k<m} γ^k r_{t+k+1}`
//! (`m = 1` unless n-step, see [`crate::buffers`]). Its target and TD error are
//!
//! `y = R + γ^m (1 − terminated) Q_θ'(o', a*)`,  `δ = Q_θ(o, a) − y`,
//!
//! `a* = argmax_a Q_θ'(o', a)` (DQN) or `a* = argmax_a Q_θ(o', a)` (Double DQN),
//!
//! and the loss over a minibatch of `B` is the weighted mean Huber loss (`κ = 1`: PyTorch's
//! `smooth_l1_loss`, as Stable-Baselines3)
//!
//! `L(θ) = (1/B) Σ_i w_i ℓ_κ(δ_i)`,  `ℓ_κ(δ) = ½ δ²` if `|δ| < κ`, else `κ (|δ| − ½ κ)`,
//!
//! with `w_i = 1` for uniform replay and the importance weights `w_i = (N P(i))^{−β} / max_j w_j`
//! for prioritised replay, whose priorities become `p_i = |δ_i| + ε`. The exploration rate
//! decays linearly, `ε(t) = ε₀ + (ε_end − ε₀) min(1, t / (f T))`, and every `C` steps the target
//! network moves towards the online one, `θ' ← τ θ + (1 − τ) θ'` (`τ = 1`: a hard copy).
//!
//! ## Pseudocode
//! ```text
//! initialise Q_θ; θ' ← θ; replay D (uniform or prioritised); one n-step window per environment
//! for t = 1 … T (environment steps):
//!     a_t ← uniform random with probability ε(t) (always while t ≤ learning_starts),
//!           else argmax_a Q_θ(o_t, a)
//!     step the environment; push (o_t, a_t, r, o', terminated) through the n-step window into D
//!     every C steps: θ' ← τ θ + (1 − τ) θ'
//!     if t > learning_starts, every train_freq steps, gradient_steps times:
//!         (if anneal_lr: α ← α₀ (1 − t / T))
//!         sample B transitions from D (with weights w_i at β(t) if prioritised)
//!         y ← R + γ^m (1 − terminated) Q_θ'(o', a*)
//!         δ ← Q_θ(o, a) − y;  L ← (1/B) Σ w_i ℓ_κ(δ_i)
//!         clip ‖∇_θ L‖ to max_grad_norm; Adam step
//!         if prioritised: p_i ← |δ_i| + ε
//! ```
//! As in Stable-Baselines3 the target update is counted in environment steps during collection,
//! so with `train_freq` larger than `C` (the CartPole preset) the target network equals the online
//! network at the start of every training phase and stays fixed through its gradient steps.

mod network;

pub use network::{QNetwork, greedy};

use std::time::Instant;

use autograd::{Tape, Tensor, Var, no_grad};
use ndarray::{Array1, Array2};
use nn::ParamStore;
use nn::losses::{Reduction, huber};
use nn::optim::{Adam, AdamConfig, Optimizer, clip_grad_norm};
use rand::{RngExt, SeedableRng};

use crate::buffers::{
    ActionShape, Batch, BatchActions, BetaSchedule, NStepAccumulator, PrioritizedReplay,
    ReplayBuffer, ReplayStorage, Transition,
};
use crate::env::{EnvError, Space, VectorActions, VectorEnv, make};
use crate::policy::{Actions, observations_var};
use crate::snapshot::{Clock, Iteration, Resumable, StateError, TrainerRng, TrainingState};
use crate::train::{Agent, IterationMetrics, TrainError};
use network::matrix;

/// DQN's hyperparameters. Defaults are those of Stable-Baselines3's `DQN` class;
/// [`DqnConfig::for_env`] gives the tuned settings of the RL Baselines3 Zoo (`dqn.yml`).
/// Step counts are environment steps summed over all environments.
#[derive(Clone, Debug, PartialEq)]
pub struct DqnConfig {
    /// `T`: environment steps to train for.
    pub total_timesteps: usize,
    /// Parallel environments.
    pub num_envs: usize,
    /// Adam's learning rate `α₀`.
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0 over `T`: each training phase uses
    /// `α(t) = α₀ (1 − t / T)` (Stable-Baselines3's `progress_remaining` schedule, the Zoo's
    /// `lin_` prefix); `false` keeps `α₀` throughout (Stable-Baselines3's default).
    pub anneal_lr: bool,
    /// Replay capacity (transitions).
    pub buffer_size: usize,
    /// Steps of uniformly random actions, and no training, before learning starts.
    pub learning_starts: usize,
    /// `B`: transitions per gradient step.
    pub batch_size: usize,
    /// `γ`.
    pub gamma: f64,
    /// `τ` of the target update `θ' ← τ θ + (1 − τ) θ'` (1: hard copy).
    pub tau: f64,
    /// `C`: steps between target updates.
    pub target_update_interval: usize,
    /// Steps between training phases.
    pub train_freq: usize,
    /// Gradient steps per training phase.
    pub gradient_steps: usize,
    /// `ε₀`: the initial exploration rate.
    pub exploration_initial_eps: f64,
    /// `ε_end`: the final exploration rate.
    pub exploration_final_eps: f64,
    /// `f`: the fraction of `T` over which `ε` decays linearly from `ε₀` to `ε_end`.
    pub exploration_fraction: f64,
    /// Maximum global gradient norm.
    pub max_grad_norm: f64,
    /// `κ`: the Huber loss threshold.
    pub huber_delta: f64,
    /// Hidden layer sizes (ReLU).
    pub hidden: Vec<usize>,
    /// Double DQN: select `a*` with the online network, evaluate it with the target network.
    pub double: bool,
    /// Dueling network `Q = V + A − mean_a A`.
    pub dueling: bool,
    /// Prioritised replay (proportional).
    pub prioritized: bool,
    /// `α`: prioritisation exponent.
    pub prioritized_alpha: f64,
    /// `β₀`: the initial importance-sampling exponent, annealed linearly to 1 over `T`.
    pub prioritized_beta_0: f64,
    /// `ε` of the priorities `p = |δ| + ε`.
    pub prioritized_epsilon: f64,
    /// `n` of n-step returns (1: ordinary one-step targets).
    pub n_step: usize,
    /// Steps between reported metrics.
    pub log_interval: usize,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
    /// Threads stepping the environments (1: step them on the learner's thread).
    pub env_threads: usize,
}

impl Default for DqnConfig {
    fn default() -> Self {
        DqnConfig {
            total_timesteps: 100_000,
            num_envs: 1,
            learning_rate: 1e-4,
            anneal_lr: false,
            buffer_size: 1_000_000,
            learning_starts: 100,
            batch_size: 32,
            gamma: 0.99,
            tau: 1.0,
            target_update_interval: 10_000,
            train_freq: 4,
            gradient_steps: 1,
            exploration_initial_eps: 1.0,
            exploration_final_eps: 0.05,
            exploration_fraction: 0.1,
            max_grad_norm: 10.0,
            huber_delta: 1.0,
            hidden: vec![64, 64],
            double: false,
            dueling: false,
            prioritized: false,
            prioritized_alpha: 0.6,
            prioritized_beta_0: 0.4,
            prioritized_epsilon: 1e-6,
            n_step: 1,
            log_interval: 1000,
            seed: 1,
            env_threads: 1,
        }
    }
}

impl DqnConfig {
    /// Tuned settings for a Gymnasium id (the defaults for an unknown one).
    ///
    /// ```
    /// use wengert_rl::dqn::DqnConfig;
    /// let config = DqnConfig::for_env("CartPole-v1");
    /// assert_eq!((config.total_timesteps, config.train_freq, config.gradient_steps), (50_000, 256, 128));
    /// assert!(config.anneal_lr && !DqnConfig::default().anneal_lr);
    /// ```
    pub fn for_env(id: &str) -> Self {
        let base = DqnConfig::default();
        match id {
            // rl-baselines3-zoo hyperparams/dqn.yml, CartPole-v1, with the learning rate annealed
            // linearly to 0 (the Zoo's `lin_2.3e-3`): evaluation uses the final greedy policy,
            // and at the constant rate the last training phases still moved it enough that only
            // 2 of 5 seeds ended at 475 or more (median 404.5); annealed, 4 of 5 did (5 of 5
            // with double, dueling and prioritised replay).
            "CartPole-v1" => DqnConfig {
                total_timesteps: 50_000,
                learning_rate: 2.3e-3,
                anneal_lr: true,
                batch_size: 64,
                buffer_size: 100_000,
                learning_starts: 1000,
                gamma: 0.99,
                target_update_interval: 10,
                train_freq: 256,
                gradient_steps: 128,
                exploration_fraction: 0.16,
                exploration_final_eps: 0.04,
                hidden: vec![256, 256],
                ..base
            },
            // rl-baselines3-zoo hyperparams/dqn.yml, Acrobot-v1 (gradient_steps -1: one per
            // environment step collected), with the learning rate annealed linearly to 0: at the
            // constant rate one seed in five ended with a greedy policy that pushes one way at
            // every state near rest (Q's action gap there is tiny) and never swings up (−500);
            // annealed, every seed ended between −72.9 and −80.6.
            "Acrobot-v1" => DqnConfig {
                total_timesteps: 100_000,
                learning_rate: 6.3e-4,
                anneal_lr: true,
                batch_size: 128,
                buffer_size: 50_000,
                learning_starts: 0,
                gamma: 0.99,
                target_update_interval: 250,
                train_freq: 4,
                gradient_steps: 4,
                exploration_fraction: 0.12,
                exploration_final_eps: 0.1,
                hidden: vec![256, 256],
                ..base
            },
            // rl-baselines3-zoo hyperparams/dqn.yml, MountainCar-v0
            "MountainCar-v0" => DqnConfig {
                total_timesteps: 120_000,
                learning_rate: 4e-3,
                batch_size: 128,
                buffer_size: 10_000,
                learning_starts: 1000,
                gamma: 0.98,
                target_update_interval: 600,
                train_freq: 16,
                gradient_steps: 8,
                exploration_fraction: 0.2,
                exploration_final_eps: 0.07,
                hidden: vec![256, 256],
                ..base
            },
            _ => base,
        }
    }

    /// The names [`DqnConfig::set`] accepts.
    pub const KEYS: [&'static str; 28] = [
        "total_timesteps",
        "num_envs",
        "learning_rate",
        "anneal_lr",
        "buffer_size",
        "learning_starts",
        "batch_size",
        "gamma",
        "tau",
        "target_update_interval",
        "train_freq",
        "gradient_steps",
        "exploration_initial_eps",
        "exploration_final_eps",
        "exploration_fraction",
        "max_grad_norm",
        "huber_delta",
        "hidden",
        "double",
        "dueling",
        "prioritized",
        "prioritized_alpha",
        "prioritized_beta_0",
        "prioritized_epsilon",
        "n_step",
        "log_interval",
        "seed",
        "env_threads",
    ];

    /// Sets one hyperparameter from text (`--set key=value`); an unknown key or a bad value is
    /// an error that names what is valid.
    ///
    /// ```
    /// use wengert_rl::dqn::DqnConfig;
    /// let mut config = DqnConfig::default();
    /// config.set("double", "true").unwrap();
    /// config.set("hidden", "128,128").unwrap();
    /// assert!(config.double);
    /// assert_eq!(config.hidden, vec![128, 128]);
    /// assert!(config.set("dueeling", "true").unwrap_err().contains("dueling"));
    /// assert!(config.set("n_step", "three").unwrap_err().contains("integer"));
    /// ```
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        fn parse<V: std::str::FromStr>(key: &str, value: &str, kind: &str) -> Result<V, String> {
            value
                .trim()
                .parse()
                .map_err(|_| format!("`{key}` expects {kind}, found `{value}`"))
        }
        let number = "a number";
        let count = "a non-negative integer";
        let flag = "true or false";
        match key {
            "total_timesteps" => self.total_timesteps = parse(key, value, count)?,
            "num_envs" => self.num_envs = parse(key, value, count)?,
            "learning_rate" => self.learning_rate = parse(key, value, number)?,
            "anneal_lr" => self.anneal_lr = parse(key, value, flag)?,
            "buffer_size" => self.buffer_size = parse(key, value, count)?,
            "learning_starts" => self.learning_starts = parse(key, value, count)?,
            "batch_size" => self.batch_size = parse(key, value, count)?,
            "gamma" => self.gamma = parse(key, value, number)?,
            "tau" => self.tau = parse(key, value, number)?,
            "target_update_interval" => self.target_update_interval = parse(key, value, count)?,
            "train_freq" => self.train_freq = parse(key, value, count)?,
            "gradient_steps" => self.gradient_steps = parse(key, value, count)?,
            "exploration_initial_eps" => self.exploration_initial_eps = parse(key, value, number)?,
            "exploration_final_eps" => self.exploration_final_eps = parse(key, value, number)?,
            "exploration_fraction" => self.exploration_fraction = parse(key, value, number)?,
            "max_grad_norm" => self.max_grad_norm = parse(key, value, number)?,
            "huber_delta" => self.huber_delta = parse(key, value, number)?,
            "hidden" => {
                self.hidden = match value.trim() {
                    "" | "none" => Vec::new(),
                    v => v
                        .split(',')
                        .map(|v| parse(key, v, "comma-separated layer sizes, e.g. 256,256"))
                        .collect::<Result<_, _>>()?,
                }
            }
            "double" => self.double = parse(key, value, flag)?,
            "dueling" => self.dueling = parse(key, value, flag)?,
            "prioritized" => self.prioritized = parse(key, value, flag)?,
            "prioritized_alpha" => self.prioritized_alpha = parse(key, value, number)?,
            "prioritized_beta_0" => self.prioritized_beta_0 = parse(key, value, number)?,
            "prioritized_epsilon" => self.prioritized_epsilon = parse(key, value, number)?,
            "n_step" => self.n_step = parse(key, value, count)?,
            "log_interval" => self.log_interval = parse(key, value, count)?,
            "seed" => self.seed = parse(key, value, count)?,
            "env_threads" => self.env_threads = parse(key, value, count)?,
            _ => {
                let valid = Self::KEYS.join(", ");
                return Err(format!(
                    "unknown DQN setting `{key}`; valid settings: {valid}"
                ));
            }
        }
        Ok(())
    }

    /// `ε(t) = ε₀ + (ε_end − ε₀) min(1, t / (f T))` after `t` environment steps.
    ///
    /// ```
    /// use wengert_rl::dqn::DqnConfig;
    /// let config = DqnConfig { total_timesteps: 1000, exploration_fraction: 0.5,
    ///     exploration_initial_eps: 1.0, exploration_final_eps: 0.1, ..DqnConfig::default() };
    /// assert_eq!(config.epsilon(0), 1.0);
    /// assert!((config.epsilon(250) - 0.55).abs() < 1e-12);
    /// assert!((config.epsilon(900) - 0.1).abs() < 1e-12);
    /// ```
    pub fn epsilon(&self, t: usize) -> f64 {
        let decay_steps = self.exploration_fraction * self.total_timesteps as f64;
        let progress = if decay_steps > 0.0 {
            (t as f64 / decay_steps).min(1.0)
        } else {
            1.0
        };
        self.exploration_initial_eps
            + (self.exploration_final_eps - self.exploration_initial_eps) * progress
    }

    /// The learning rate of a training phase after `t` environment steps: `α₀ (1 − t / T)` with
    /// `anneal_lr`, else `α₀`.
    ///
    /// ```
    /// use wengert_rl::dqn::DqnConfig;
    /// let config = DqnConfig { total_timesteps: 1000, learning_rate: 1e-3, anneal_lr: true,
    ///     ..DqnConfig::default() };
    /// assert!((config.learning_rate(250) - 0.75e-3).abs() < 1e-15);
    /// assert_eq!(DqnConfig { anneal_lr: false, ..config }.learning_rate(250), 1e-3);
    /// ```
    pub fn learning_rate(&self, t: usize) -> f64 {
        if self.anneal_lr {
            let remaining = 1.0 - (t as f64 / self.total_timesteps.max(1) as f64).min(1.0);
            self.learning_rate * remaining
        } else {
            self.learning_rate
        }
    }

    fn check(&self) -> Result<(), TrainError> {
        let positive = [
            ("num_envs", self.num_envs),
            ("buffer_size", self.buffer_size),
            ("batch_size", self.batch_size),
            ("target_update_interval", self.target_update_interval),
            ("train_freq", self.train_freq),
            ("gradient_steps", self.gradient_steps),
            ("n_step", self.n_step),
            ("log_interval", self.log_interval),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(TrainError::Config(format!(
                "`{name}` must be a positive integer, found 0"
            )));
        }
        let ranges = [
            ("gamma", self.gamma, 0.0, 1.0),
            (
                "exploration_initial_eps",
                self.exploration_initial_eps,
                0.0,
                1.0,
            ),
            (
                "exploration_final_eps",
                self.exploration_final_eps,
                0.0,
                1.0,
            ),
            ("exploration_fraction", self.exploration_fraction, 0.0, 1.0),
            ("prioritized_beta_0", self.prioritized_beta_0, 0.0, 1.0),
        ];
        for (name, value, low, high) in ranges {
            if !(low..=high).contains(&value) {
                return Err(TrainError::Config(format!(
                    "`{name}` must lie in [{low}, {high}], found {value}"
                )));
            }
        }
        if !(self.tau > 0.0 && self.tau <= 1.0) {
            return Err(TrainError::Config(format!(
                "`tau` must lie in (0, 1], found {}",
                self.tau
            )));
        }
        for (name, value) in [
            ("learning_rate", self.learning_rate),
            ("max_grad_norm", self.max_grad_norm),
            ("huber_delta", self.huber_delta),
        ] {
            if !(value > 0.0 && value.is_finite()) {
                return Err(TrainError::Config(format!(
                    "`{name}` must be a positive number, found {value}"
                )));
            }
        }
        if self.prioritized_alpha < 0.0 || self.prioritized_epsilon < 0.0 {
            return Err(TrainError::Config(format!(
                "`prioritized_alpha` and `prioritized_epsilon` must be non-negative, found {} and {}",
                self.prioritized_alpha, self.prioritized_epsilon
            )));
        }
        if self.dueling && self.hidden.is_empty() {
            return Err(TrainError::Config(
                "a dueling network needs at least one hidden layer (`hidden`) for its trunk".into(),
            ));
        }
        Ok(())
    }
}

/// What one gradient step reports.
#[derive(Clone, Debug, PartialEq)]
pub struct GradientStep {
    /// `L(θ)` before the step.
    pub loss: f64,
    /// The mean of `Q_θ(o, a)` over the minibatch.
    pub mean_q: f64,
    /// `δ_i = Q_θ(o_i, a_i) − y_i` per row (the new priorities' source).
    pub td_errors: Vec<f64>,
    /// `‖∇_θ L‖` before clipping.
    pub grad_norm: f64,
}

/// The learner: the online network `θ`, the target network `θ'`, and the optimiser.
pub struct Dqn {
    /// The network's structure.
    pub q: QNetwork,
    /// `θ`.
    pub online: ParamStore<f32>,
    /// `θ'`.
    pub target: ParamStore<f32>,
    /// The hyperparameters (the switches `double`, `huber_delta`, `max_grad_norm` and `tau` are
    /// read at every step).
    pub config: DqnConfig,
    optimizer: Adam<f32>,
    /// Gradient steps taken.
    steps: usize,
}

impl Dqn {
    /// A fresh learner for `observation_dim` inputs and `num_actions` actions, with `θ' = θ`.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use wengert_rl::dqn::{Dqn, DqnConfig};
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let dqn = Dqn::new(4, 2, &DqnConfig { dueling: true, ..DqnConfig::default() }, &mut rng);
    /// assert_eq!(dqn.q.num_actions(), 2);
    /// assert_eq!(dqn.online.len(), dqn.target.len());
    /// ```
    pub fn new(
        observation_dim: usize,
        num_actions: usize,
        config: &DqnConfig,
        rng: &mut (impl rand::Rng + ?Sized),
    ) -> Self {
        let mut online = ParamStore::<f32>::new();
        let q = QNetwork::new(
            &mut online.root().sub("q"),
            observation_dim,
            num_actions,
            &config.hidden,
            config.dueling,
            rng,
        );
        let target = online.clone();
        let optimizer = Adam::new(
            online.trainable(),
            AdamConfig {
                lr: config.learning_rate as f32,
                ..AdamConfig::default()
            },
        );
        Dqn {
            q,
            online,
            target,
            config: config.clone(),
            optimizer,
            steps: 0,
        }
    }

    /// `Q(s, ·)` under the parameters in `store` (`θ` or `θ'`), recording nothing.
    pub fn q_values(&self, store: &ParamStore<f32>, observations: &Array2<f32>) -> Array2<f32> {
        let s = observations_var::<f32>(observations);
        matrix(&no_grad(|| self.q.q_values(&store.constants(), &s)))
    }

    /// The greedy action `argmax_a Q_θ(s, a)` of every observation row.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use wengert_rl::dqn::{Dqn, DqnConfig};
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let dqn = Dqn::new(4, 3, &DqnConfig::default(), &mut rng);
    /// let actions = dqn.act(&ndarray::Array2::zeros((5, 4)));
    /// assert!(actions.len() == 5 && actions.iter().all(|&a| a < 3));
    /// ```
    pub fn act(&self, observations: &Array2<f32>) -> Vec<usize> {
        greedy(self.q_values(&self.online, observations).view())
    }

    /// The targets `y = R + γ^m (1 − terminated) Q_θ'(o', a*)` of a minibatch, with `a*` chosen
    /// by the target network (DQN) or the online network (`config.double`).
    pub fn targets(&self, batch: &Batch) -> Array1<f32> {
        let q_next_target = self.q_values(&self.target, &batch.next_observations);
        let a_star = if self.config.double {
            self.act(&batch.next_observations)
        } else {
            greedy(q_next_target.view())
        };
        let bootstrap = batch.bootstrap_factors();
        Array1::from_iter((0..batch.len()).map(|i| {
            let value = q_next_target[[i, a_star[i]]] as f64;
            (batch.rewards[i] + bootstrap[i] * value) as f32
        }))
    }

    /// One gradient step on a minibatch: `y` from the target network, the weighted Huber loss
    /// of `δ = Q_θ(o, a) − y`, global-norm clipping, an Adam step. A non-finite loss stops with
    /// an error and leaves `θ` untouched.
    pub fn gradient_step(&mut self, batch: &Batch) -> Result<GradientStep, TrainError> {
        let BatchActions::Discrete(actions) = &batch.actions else {
            panic!("DQN needs discrete actions in its minibatches");
        };
        let y = self.targets(batch);
        let b = batch.len();
        let tape = Tape::new();
        let params = self.online.bind(&tape);
        let s = observations_var::<f32>(&batch.observations);
        let q = self.q.q_values(&params, &s);
        let index = Array2::from_shape_fn((b, 1), |(i, _)| actions[i]).into_dyn();
        let q_taken = q.gather(1, &index).reshape(&[b]);
        let y = Var::constant(y.into_dyn());
        let loss = td_loss(&q_taken, &y, &batch.weights, self.config.huber_delta);
        let loss_value = loss.item();
        if !loss_value.is_finite() {
            return Err(TrainError::NonFinite {
                what: "DQN loss".into(),
                iteration: self.steps + 1,
                anomaly: tape.first_anomaly().map(|a| a.to_string()),
            });
        }
        let delta = &q_taken.value().to_owned() - &y.value().to_owned();
        let mut grads = params.gradients(&loss);
        let grad_norm = clip_grad_norm(&mut grads, self.config.max_grad_norm as f32);
        self.optimizer.step(&self.online, &grads);
        self.steps += 1;
        Ok(GradientStep {
            loss: loss_value as f64,
            mean_q: q_taken.value().mean().unwrap_or(f32::NAN) as f64,
            td_errors: delta.iter().map(|&d| d as f64).collect(),
            grad_norm: grad_norm as f64,
        })
    }

    /// Sets Adam's learning rate (for a schedule).
    pub fn set_learning_rate(&mut self, learning_rate: f64) {
        self.optimizer.set_lr(0, learning_rate as f32);
    }

    /// `θ' ← τ θ + (1 − τ) θ'`.
    pub fn update_target(&self) {
        self.target
            .polyak_from(&self.online, self.config.tau as f32);
    }
}

/// `L = (1/B) Σ_i w_i ℓ_κ(δ_i)`, `δ_i = q_taken_i − y_i`: the Huber loss of each row scaled by
/// its importance weight (all 1 for uniform replay), then averaged.
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_rl::dqn::td_loss;
/// let tape = Tape::<f32>::new();
/// let q_taken = tape.var(array![0.5f32, 3.0]);
/// let y = Var::constant(array![0.0f32, 0.0]);
/// // ℓ(0.5) = 0.125, ℓ(3) = 2.5; weights 1 and 0.5.
/// let loss = td_loss(&q_taken, &y, &array![1.0, 0.5], 1.0);
/// assert!((loss.item() - (0.125 + 1.25) / 2.0).abs() < 1e-6);
/// ```
pub fn td_loss(q_taken: &Var<f32>, y: &Var<f32>, weights: &Array1<f64>, kappa: f64) -> Var<f32> {
    let terms = huber(q_taken, y, kappa as f32, Reduction::None);
    let w = Var::constant(weights.mapv(|w| w as f32).into_dyn());
    (&terms * &w).mean_all()
}

/// Uniform or prioritised replay, behind one interface for the training loop.
enum Replay {
    Uniform(ReplayBuffer),
    Prioritized(PrioritizedReplay),
}

impl Replay {
    fn push(&mut self, transition: Transition<'_>) {
        match self {
            Replay::Uniform(buffer) => buffer.push(transition),
            Replay::Prioritized(buffer) => buffer.push(transition),
        };
    }

    fn is_empty(&self) -> bool {
        match self {
            Replay::Uniform(buffer) => buffer.is_empty(),
            Replay::Prioritized(buffer) => buffer.is_empty(),
        }
    }

    fn sample(&self, batch_size: usize, beta: f64, rng: &mut TrainerRng) -> Batch {
        match self {
            Replay::Uniform(buffer) => buffer.sample(batch_size, rng),
            Replay::Prioritized(buffer) => buffer.sample(batch_size, beta, rng),
        }
    }

    fn update_priorities(&mut self, indices: &[usize], td_errors: &[f64]) {
        if let Replay::Prioritized(buffer) = self {
            buffer.update_priorities(indices, td_errors);
        }
    }
}

/// A trained DQN agent: acts greedily with the online network.
pub struct TrainedDqn {
    /// The Gymnasium id it was trained on.
    pub env_id: String,
    /// The network's structure.
    pub q: QNetwork,
    /// `θ`.
    pub store: ParamStore<f32>,
    /// Every report's metrics.
    pub history: Vec<IterationMetrics>,
}

impl Agent for TrainedDqn {
    fn env_id(&self) -> &str {
        &self.env_id
    }

    fn act(&self, observations: &Array2<f32>) -> Actions {
        let s = observations_var::<f32>(observations);
        let q = matrix(&no_grad(|| self.q.q_values(&self.store.constants(), &s)));
        Actions::Discrete(greedy(q.view()))
    }

    fn store(&self) -> &ParamStore<f32> {
        &self.store
    }

    fn history(&self) -> &[IterationMetrics] {
        &self.history
    }
}

impl TrainedDqn {
    /// Returns of `episodes` greedy episodes, seeded `seed, seed + 1, …`.
    pub fn evaluate(&self, episodes: usize, seed: u64) -> Result<Vec<f64>, EnvError> {
        crate::train::evaluate(self, episodes, seed)
    }
}

/// Whether a counter that moved from `before` to `after` passed a multiple of `every`.
fn crossed(before: usize, after: usize, every: usize) -> bool {
    after / every > before / every
}

/// Running sums between two reports.
#[derive(Default)]
struct Window {
    loss: f64,
    mean_q: f64,
    grad_norm: f64,
    steps: usize,
}

impl Window {
    fn mean(&self, total: f64) -> f64 {
        if self.steps == 0 {
            f64::NAN
        } else {
            total / self.steps as f64
        }
    }
}

/// Trains a DQN agent (with the switches of `config`) on the Gymnasium environment `env_id`,
/// calling `on_iteration` every `log_interval` environment steps (return `false` to stop).
///
/// Reported scalars: `loss`, `mean_q`, `grad_norm` (means over the window's gradient steps;
/// NaN before learning starts), `epsilon`, `learning_rate` (of the next training phase), `beta` (1 without prioritised replay),
/// `gradient_steps` (so far), `gradient_steps_per_second` (gradient steps over the seconds spent
/// in them: sampling, targets, forward, backward, Adam) and `env_steps_per_second` (over the
/// whole wall time).
///
/// ```no_run
/// use wengert_rl::dqn::{DqnConfig, train};
/// let trained = train("CartPole-v1", &DqnConfig::for_env("CartPole-v1"), |m| {
///     println!("{} steps: return {:?}", m.env_steps, m.mean_return);
///     true
/// }).unwrap();
/// ```
pub fn train(
    env_id: &str,
    config: &DqnConfig,
    mut on_iteration: impl FnMut(&IterationMetrics) -> bool,
) -> Result<TrainedDqn, TrainError> {
    train_from(env_id, config, None, |i| on_iteration(i.metrics))
}

/// [`train`], continuing from a saved training state when `resume` is given (see
/// [`crate::snapshot`]); `on_iteration` can take a snapshot at every report.
pub fn train_from(
    env_id: &str,
    config: &DqnConfig,
    resume: Option<&TrainingState>,
    mut on_iteration: impl FnMut(&Iteration<'_>) -> bool,
) -> Result<TrainedDqn, TrainError> {
    config.check()?;
    let envs: Vec<_> = (0..config.num_envs)
        .map(|_| make(env_id))
        .collect::<Result<_, _>>()?;
    let mut envs = VectorEnv::new(envs, config.env_threads)?;
    let observation_dim = envs.single_observation_space().dim();
    let num_actions = match envs.single_action_space() {
        Space::Discrete { n } => *n,
        space => {
            return Err(TrainError::Config(format!(
                "DQN needs a discrete action space, but {env_id} has {space}"
            )));
        }
    };
    let mut rng = TrainerRng::seed_from_u64(config.seed);
    let mut learner = Dqn::new(observation_dim, num_actions, config, &mut rng);
    let mut replay = if config.prioritized {
        Replay::Prioritized(PrioritizedReplay::new(
            config.buffer_size,
            observation_dim,
            ActionShape::Discrete,
            config.prioritized_alpha,
            config.prioritized_epsilon,
        ))
    } else {
        Replay::Uniform(ReplayBuffer::new(
            config.buffer_size,
            observation_dim,
            ActionShape::Discrete,
        ))
    };
    let beta_schedule = BetaSchedule {
        beta_0: config.prioritized_beta_0,
        steps: config.total_timesteps,
    };
    // With n = 1 a window emits every step at once, as an ordinary transition.
    let mut windows = vec![
        NStepAccumulator::new(
            config.n_step,
            config.gamma,
            observation_dim,
            ActionShape::Discrete
        );
        config.num_envs
    ];

    let mut clock = Clock::start();
    let mut observations = envs.reset(Some(config.seed));
    let mut recent_returns: Vec<f64> = Vec::new();
    let mut history = Vec::new();
    let mut window = Window::default();
    let (mut gradient_steps, mut gradient_seconds) = (0usize, 0.0f64);
    let mut t = 0;
    let mut first_iteration = 1;
    if let Some(state) = resume {
        state.check("dqn", env_id, config)?;
        state.load("learner", &mut learner)?;
        state.load("replay", &mut replay)?;
        for (i, window) in windows.iter_mut().enumerate() {
            state.load(&format!("n_step.{i}"), window)?;
        }
        state.load("rng", &mut rng)?;
        state.load("envs", &mut envs)?;
        state.load("recent_returns", &mut recent_returns)?;
        gradient_steps = state.count("gradient_steps")?;
        gradient_seconds = state.f64s("gradient_seconds", Some(1))?[0];
        observations = envs.observations();
        (first_iteration, t) = (state.iteration + 1, state.env_steps);
        clock = Clock::resume_at(state.wall_time);
    }

    while t < config.total_timesteps {
        // ---- act ε-greedily (uniformly at random before learning starts) ----
        let epsilon = config.epsilon(t);
        let explore: Vec<bool> = (0..config.num_envs)
            .map(|_| t < config.learning_starts || rng.random::<f64>() < epsilon)
            .collect();
        let greedy_actions = (!explore.iter().all(|&e| e)).then(|| learner.act(&observations));
        let actions: Vec<usize> = (0..config.num_envs)
            .map(|i| match &greedy_actions {
                Some(greedy) if !explore[i] => greedy[i],
                _ => rng.random_range(0..num_actions),
            })
            .collect();

        // ---- step and store (o, a, R, o', terminated, γ^m) ----
        let step = envs.step(VectorActions::Discrete(&actions))?;
        let before = t;
        t += config.num_envs;
        NStepAccumulator::push_vector_step(
            &mut windows,
            &observations,
            VectorActions::Discrete(&actions),
            &step,
            |transition| replay.push(transition),
        );
        recent_returns.extend(step.finished_episodes.iter().map(|(_, e)| e.episode_return));
        observations = step.observations;

        // ---- θ' ← τ θ + (1 − τ) θ' every C steps ----
        if crossed(before, t, config.target_update_interval) {
            learner.update_target();
        }

        // ---- gradient steps ----
        if t > config.learning_starts && crossed(before, t, config.train_freq) && !replay.is_empty()
        {
            let phase = Instant::now();
            if config.anneal_lr {
                learner.set_learning_rate(config.learning_rate(t));
            }
            let beta = beta_schedule.beta(t);
            for _ in 0..config.gradient_steps {
                let batch = replay.sample(config.batch_size, beta, &mut rng);
                let update = learner.gradient_step(&batch)?;
                replay.update_priorities(&batch.indices, &update.td_errors);
                window.loss += update.loss;
                window.mean_q += update.mean_q;
                window.grad_norm += update.grad_norm;
                window.steps += 1;
            }
            gradient_steps += config.gradient_steps;
            gradient_seconds += phase.elapsed().as_secs_f64();
        }

        // ---- report ----
        if crossed(before, t, config.log_interval) || t >= config.total_timesteps {
            let wall_time = clock.seconds();
            let metrics = IterationMetrics {
                iteration: first_iteration + history.len(),
                env_steps: t,
                wall_time,
                mean_return: mean_of_last(&recent_returns, 20),
                episodes: recent_returns.len(),
                losses: vec![
                    ("loss", window.mean(window.loss)),
                    ("mean_q", window.mean(window.mean_q)),
                    ("grad_norm", window.mean(window.grad_norm)),
                    ("epsilon", config.epsilon(t)),
                    ("learning_rate", config.learning_rate(t)),
                    (
                        "beta",
                        if config.prioritized {
                            beta_schedule.beta(t)
                        } else {
                            1.0
                        },
                    ),
                    ("gradient_steps", gradient_steps as f64),
                    (
                        "gradient_steps_per_second",
                        gradient_steps as f64 / gradient_seconds.max(f64::MIN_POSITIVE),
                    ),
                    ("env_steps_per_second", t as f64 / wall_time),
                ],
            };
            window = Window::default();
            history.push(metrics.clone());
            let snapshot = || {
                let mut state = TrainingState::new("dqn", env_id, &format!("{config:#?}"));
                state.save("learner", &learner);
                state.save("replay", &replay);
                for (i, window) in windows.iter().enumerate() {
                    state.save(&format!("n_step.{i}"), window);
                }
                state.save("rng", &rng);
                state.save("envs", &envs);
                state.save("recent_returns", &recent_returns);
                state.put_u64("gradient_steps", vec![gradient_steps as u64]);
                state.put_f64("gradient_seconds", vec![gradient_seconds]);
                state
            };
            if !on_iteration(&Iteration::new(&metrics, &snapshot)) {
                break;
            }
        }
    }
    Ok(TrainedDqn {
        env_id: env_id.to_string(),
        q: learner.q,
        store: learner.online,
        history,
    })
}

fn mean_of_last(values: &[f64], n: usize) -> Option<f64> {
    let tail = &values[values.len().saturating_sub(n)..];
    (!tail.is_empty()).then(|| tail.iter().sum::<f64>() / tail.len() as f64)
}

/// `θ` as `agent.*` (the trained agent's parameters), `θ'` (`name.target`), Adam's state
/// (`name.optimizer`) and the gradient-step count (`name.steps`).
impl Resumable for Dqn {
    fn save(&self, name: &str, state: &mut TrainingState) {
        state.save_params("agent", &self.online);
        state.save_params(&format!("{name}.target"), &self.target);
        state.save_optimizer(&format!("{name}.optimizer"), &self.optimizer, &self.online);
        state.put_u64(format!("{name}.steps"), vec![self.steps as u64]);
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        state.load_params("agent", &self.online)?;
        state.load_params(&format!("{name}.target"), &self.target)?;
        state.load_optimizer(
            &format!("{name}.optimizer"),
            &mut self.optimizer,
            &self.online,
        )?;
        self.steps = state.count(&format!("{name}.steps"))?;
        Ok(())
    }
}

impl Resumable for Replay {
    fn save(&self, name: &str, state: &mut TrainingState) {
        match self {
            Replay::Uniform(buffer) => buffer.save(name, state),
            Replay::Prioritized(buffer) => buffer.save(name, state),
        }
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        match self {
            Replay::Uniform(buffer) => buffer.load(name, state),
            Replay::Prioritized(buffer) => buffer.load(name, state),
        }
    }
}
