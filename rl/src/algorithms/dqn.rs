//! # Deep Q-Networks (DQN) and their family: Double, Dueling, prioritised replay, n-step
//!
//! ## Background
//! DQN (Mnih et al., 2015) learns the optimal action-value function `Q*(s, a)` with a network
//! `Q_θ` by regressing it on bootstrapped targets, off-policy: an ε-greedy behaviour policy
//! fills a **replay buffer**, minibatches are drawn from it at random (breaking the correlation
//! of consecutive steps), and the targets come from a **target network** `θ'` held still
//! between updates, so that the regression target does not move with every gradient step. The
//! Huber loss on the Bellman error and gradient-norm clipping keep single large errors from
//! dominating an update. Four refinements, each a switch here:
//!
//! - **Double DQN** (van Hasselt et al., 2016): `max_a Q_θ'(s', a)` is biased upwards by noise
//!   in `Q_θ'`; choosing the action with the online network and evaluating it with the target
//!   network decouples selection from evaluation and removes most of that bias.
//! - **Dueling** networks (Wang et al., 2016): `Q = V + A − mean_a A`
//!   ([`QNetwork`]), so that the state value is learned from every
//!   action's updates.
//! - **Prioritised replay** (Schaul et al., 2016): replay transitions in proportion to their
//!   last TD error, and correct the bias with importance weights
//!   ([`PrioritizedReplay`](crate::buffers::PrioritizedReplay)).
//! - **n-step returns** (Sutton, 1988; used by Rainbow, Hessel et al., 2018): bootstrap after
//!   `n` rewards instead of one ([`NStepAccumulator`](crate::buffers::NStepAccumulator)).
//!
//! ## Key equations
//! A stored transition is `(o, a, R, o', terminated, γ^m)` with `R = Σ_{k<m} γ^k r_{t+k+1}`
//! (`m = 1` unless n-step, see [`crate::buffers`]). Its target and TD error are
//!
//! $$ y = R + \gamma^m (1 - d) Q_{\theta'}(o', a^\star) , \qquad \delta = Q_\theta(o, a) - y , $$
//!
//! with $d$ = terminated and $a^\star = \arg\max_a Q_{\theta'}(o', a)$ (DQN) or
//! $a^\star = \arg\max_a Q_\theta(o', a)$ (Double DQN),
//!
//! `y` being a constant of the loss (no gradient flows into it). The loss over a minibatch of
//! `B` is the weighted mean Huber loss (`κ = 1`: PyTorch's `smooth_l1_loss`, as
//! Stable-Baselines3)
//!
//! $$ L(\theta) = \frac1B \sum_i w_i \ell_\kappa(\delta_i) , \qquad
//!    \ell_\kappa(\delta) = \tfrac12 \delta^2 \text{ if } |\delta| < \kappa , \text{ else } \kappa \big(|\delta| - \tfrac12 \kappa\big) , $$
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
//!     every log_interval steps: report (one iteration of the trainer)
//! ```
//! As in Stable-Baselines3 the target update is counted in environment steps during collection,
//! so with `train_freq` larger than `C` (the CartPole preset) the target network equals the online
//! network at the start of every training phase and stays fixed through its gradient steps.

use autograd::{Float, Tape, Tensor, Var};
use ndarray::{Array1, Array2};
use nn::losses::{Reduction, huber};
use nn::optim::{AdamConfig, Optimizer, clip_grad_norm};
use nn::{Bound, ParamStore};
use serde::{Deserialize, Serialize};

use crate::buffers::{Batch, BatchActions, BetaSchedule};
use crate::common::config::{Config, Range, ranges};
use crate::common::off_policy::{
    EpsilonGreedyConfig, Learner, OffPolicy, OffPolicyAlgorithm, OffPolicyCoreConfig,
    OffPolicyTrainer, Priorities, QParameters, Settings, Update, crossed, epsilon_greedy,
};
use crate::common::trainer::Part;
use crate::env::Space;
use crate::policy::{Actions, observations_var};
use crate::q_network::{GreedyAgent, QNetwork, greedy};
use crate::snapshot::TrainerRng;
use crate::train::{TrainError, check_finite};

/// DQN's hyperparameters. The defaults (`[defaults]` of `rl/presets/dqn.toml`) are those of
/// Stable-Baselines3's `DQN` class; the file's per-environment tables are the RL Baselines3
/// Zoo's tuned settings (`dqn.yml`). Step counts are environment steps summed over all
/// environments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DqnConfig {
    /// `T`, the replay, `B`, `γ`, `τ`, `α₀`, the training schedule and the hidden layer sizes
    /// (ReLU; a dueling network needs at least one for its trunk), flat keys shared with the
    /// other off-policy learners.
    #[serde(flatten)]
    pub core: OffPolicyCoreConfig,
    /// Parallel environments.
    pub num_envs: usize,
    /// Anneal the learning rate linearly to 0 over `T`: each training phase uses
    /// `α(t) = α₀ (1 − t / T)` (Stable-Baselines3's `progress_remaining` schedule, the Zoo's
    /// `lin_` prefix); `false` keeps `α₀` throughout.
    pub anneal_lr: bool,
    /// `C`: steps between target updates.
    pub target_update_interval: usize,
    /// `ε₀`, `ε_end` and `f` of `ε(t)`: `exploration_initial_eps`, `exploration_final_eps`,
    /// `exploration_fraction`.
    #[serde(flatten)]
    pub exploration: EpsilonGreedyConfig,
    /// Maximum global gradient norm.
    pub max_grad_norm: f64,
    /// `κ`: the Huber loss threshold.
    pub huber_delta: f64,
    /// Double DQN: select `a*` with the online network, evaluate it with the target network.
    pub double: bool,
    /// Dueling network `Q = V + A − mean_a A`.
    pub dueling: bool,
    /// Prioritised replay (proportional).
    pub prioritized: bool,
    /// `α`: prioritisation exponent (0: uniform).
    pub prioritized_alpha: f64,
    /// `β₀`: the initial importance-sampling exponent, annealed linearly to 1 over `T`.
    pub prioritized_beta_0: f64,
    /// `ε` of the priorities `p = |δ| + ε`.
    pub prioritized_epsilon: f64,
    /// `n` of n-step returns (1: ordinary one-step targets).
    pub n_step: usize,
    /// Steps between reported metrics: one iteration of the trainer.
    pub log_interval: usize,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
    /// Threads stepping the environments (1: step them on the learner's thread).
    pub env_threads: usize,
}

impl Config for DqnConfig {
    const RANGES: &'static [(&'static str, Range)] = &ranges::<24>(&[
        &OffPolicyCoreConfig::RANGES,
        &[
            ("num_envs", Range::at_least(1.0)),
            ("target_update_interval", Range::at_least(1.0)),
        ],
        &EpsilonGreedyConfig::RANGES,
        &[
            ("max_grad_norm", Range::positive()),
            ("huber_delta", Range::positive()),
            ("prioritized_alpha", Range::non_negative()),
            ("prioritized_beta_0", Range::unit()),
            ("prioritized_epsilon", Range::non_negative()),
            ("n_step", Range::at_least(1.0)),
            ("log_interval", Range::at_least(1.0)),
            ("seed", Range::at_least(0.0)),
            ("env_threads", Range::at_least(1.0)),
        ],
    ]);

    fn check_relations(&self) -> Result<(), String> {
        if self.dueling && self.core.hidden.is_empty() {
            return Err(
                "a dueling network needs at least one hidden layer (`hidden`) for its trunk".into(),
            );
        }
        Ok(())
    }
}

/// `α(t)`: the learning rate of a training phase after `t` environment steps, `α₀ (1 − t / T)`
/// with `anneal_lr`, else `α₀`.
fn learning_rate(config: &DqnConfig, t: usize) -> f64 {
    if config.anneal_lr {
        let remaining = 1.0 - (t as f64 / config.core.total_timesteps.max(1) as f64).min(1.0);
        config.core.learning_rate * remaining
    } else {
        config.core.learning_rate
    }
}

// ---- the losses ----

// ANCHOR: td_target
/// The targets `y = R + γ^m (1 − terminated) Q_θ'(o', a*)` of a minibatch, `a*` chosen by the
/// target network `θ'` (DQN) or by the online network `θ` (`double`): a constant, whatever
/// tapes `online` and `target` are bound to.
pub fn td_target<T: Float>(
    q: &QNetwork,
    online: &Bound<'_, T>,
    target: &Bound<'_, T>,
    batch: &Batch,
    double: bool,
) -> Var<T> {
    let q_next_target: Array2<T> = q.evaluate(target, &batch.next_observations);
    let a_star = if double {
        greedy(q.evaluate(online, &batch.next_observations).view())
    } else {
        greedy(q_next_target.view())
    };
    let bootstrap = batch.bootstrap_factors();
    let y = Array1::from_iter((0..batch.len()).map(|i| {
        let value = q_next_target[[i, a_star[i]]].as_f64();
        T::from_f64(batch.rewards[i] + bootstrap[i] * value)
    }));
    Var::constant(y.into_dyn())
}
// ANCHOR_END: td_target

/// What [`td_loss`] reports besides the loss.
#[derive(Clone, Debug, PartialEq)]
pub struct TdErrors {
    /// The mean of `Q_θ(o, a)` over the minibatch.
    pub mean_q: f64,
    /// `|δ_i|` of every row: the new priorities (before `+ ε`).
    pub priorities: Vec<f64>,
}

// ANCHOR: td_loss
/// `L(θ) = (1/B) Σ_i w_i ℓ_κ(δ_i)`, `δ_i = Q_θ(o_i, a_i) − y_i`, with the weights `w_i` of the
/// batch (all 1 for uniform replay) and `κ = kappa`.
///
/// # Panics
/// If the batch's actions are not discrete.
pub fn td_loss<T: Float>(
    q: &QNetwork,
    online: &Bound<'_, T>,
    batch: &Batch,
    y: &Var<T>,
    kappa: f64,
) -> (Var<T>, TdErrors) {
    let BatchActions::Discrete(actions) = &batch.actions else {
        panic!("DQN's minibatches hold discrete actions");
    };
    let b = batch.len();
    let q_values = q.q_values(online, &observations_var::<T>(&batch.observations));
    let index = Array2::from_shape_fn((b, 1), |(i, _)| actions[i]).into_dyn();
    let q_taken = q_values.gather(1, &index).reshape(&[b]);
    let terms = huber(&q_taken, y, T::from_f64(kappa), Reduction::None);
    let w = Var::constant(batch.weights.mapv(T::from_f64).into_dyn());
    let loss = (&terms * &w).mean_all();

    let (q_taken, y) = (q_taken.value(), y.value());
    let errors = TdErrors {
        mean_q: (q_taken.sum() / T::from_f64(b as f64)).as_f64(),
        priorities: q_taken
            .iter()
            .zip(y.iter())
            .map(|(&q, &y)| (q - y).abs().as_f64())
            .collect(),
    };
    (loss, errors)
}
// ANCHOR_END: td_loss

// ---- the update ----

/// `Q`, its parameters `θ`, `θ'` and the optimiser, with the settings of the update.
pub struct Networks {
    config: DqnConfig,
    q: QNetwork,
    params: QParameters,
}

impl Networks {
    /// `ε(t)`.
    fn epsilon(&self, t: usize) -> f64 {
        let config = &self.config;
        config
            .exploration
            .schedule(config.core.total_timesteps)
            .epsilon(t)
    }
}

impl Learner for Networks {
    const DIAGNOSTICS: &'static [&'static str] = &["loss", "mean_q", "grad_norm"];

    /// ε-greedy in `argmax_a Q_θ(o, a)`.
    fn act(&mut self, observations: &Array2<f32>, t: usize, rng: &mut TrainerRng) -> Actions {
        let (q, online) = (&self.q, &self.params.online);
        Actions::Discrete(epsilon_greedy(
            observations.nrows(),
            q.num_actions(),
            self.epsilon(t),
            false,
            rng,
            || greedy(q.evaluate(&online.constants(), observations).view()),
        ))
    }

    /// `θ' ← τ θ + (1 − τ) θ'` every `C` environment steps.
    fn on_step(&mut self, before: usize, t: usize) {
        if crossed(before, t, self.config.target_update_interval) {
            let p = &mut self.params;
            p.target.polyak_from(&p.online, self.config.core.tau as f32);
        }
    }

    /// `α ← α(t)` with `anneal_lr`.
    fn before_training(&mut self, t: usize) {
        if self.config.anneal_lr {
            let lr = learning_rate(&self.config, t) as f32;
            self.params.optimizer.set_lr(0, lr);
        }
    }

    /// One gradient step on a minibatch: `y` from the target network, `L(θ)`, global-norm
    /// clipping, an Adam step. A non-finite loss stops with an error and leaves `θ` untouched.
    fn update(
        &mut self,
        batch: &Batch,
        _step: usize,
        _rng: &mut TrainerRng,
        iteration: usize,
    ) -> Result<Update, TrainError> {
        let (config, p) = (&self.config, &mut self.params);
        let (online, target) = (p.online.constants(), p.target.constants());
        let y = td_target(&self.q, &online, &target, batch, config.double);
        let tape = Tape::new();
        let theta = p.online.bind(&tape);
        let (loss, errors) = td_loss(&self.q, &theta, batch, &y, config.huber_delta);
        check_finite(&loss, "DQN loss", iteration, &tape)?;
        let mut gradients = theta.gradients(&loss);
        let grad_norm = clip_grad_norm(&mut gradients, config.max_grad_norm as f32);
        p.optimizer.step(&p.online, &gradients);
        Ok(Update {
            diagnostics: vec![
                ("loss", loss.item() as f64),
                ("mean_q", errors.mean_q),
                ("grad_norm", grad_norm as f64),
            ],
            td_errors: errors.priorities,
        })
    }

    /// `epsilon`, `learning_rate` and `beta` after `t` steps.
    fn report(&self, t: usize, _gradient_steps: usize) -> Vec<(&'static str, f64)> {
        let beta = match self.config.prioritized {
            true => beta_schedule(&self.config).beta(t),
            false => 1.0,
        };
        vec![
            ("epsilon", self.epsilon(t)),
            ("learning_rate", learning_rate(&self.config, t)),
            ("beta", beta),
        ]
    }
}

// ---- the loop ----

/// `β(t)`, annealed from `β₀` to 1 over `T`.
fn beta_schedule(config: &DqnConfig) -> BetaSchedule {
    BetaSchedule {
        beta_0: config.prioritized_beta_0,
        steps: config.core.total_timesteps,
    }
}

/// A DQN trainer: the networks, and the environments, replay and generator of the loop in
/// [`crate::common::off_policy`].
pub type Dqn = OffPolicyTrainer<Networks>;

impl OffPolicyAlgorithm for Networks {
    const NAME: &'static str = "dqn";
    type Config = DqnConfig;
    type Agent = GreedyAgent;

    /// The settings read by name, with prioritised replay when `prioritized`.
    fn settings(config: &DqnConfig) -> Settings {
        Settings {
            priorities: config.prioritized.then_some(Priorities {
                alpha: config.prioritized_alpha,
                epsilon: config.prioritized_epsilon,
                beta: beta_schedule(config),
            }),
            ..Settings::of(config)
        }
    }

    /// `Q_θ` initialised from the generator, `θ' ← θ`, Adam.
    fn new(
        env_id: &str,
        config: &DqnConfig,
        off_policy: &mut OffPolicy,
    ) -> Result<Self, TrainError> {
        let num_actions = match off_policy.envs.action_space() {
            Space::Discrete { n } => n,
            space => {
                return Err(TrainError::Config(format!(
                    "DQN needs a discrete action space, but {env_id} has {space}"
                )));
            }
        };
        let mut online = ParamStore::<f32>::new();
        let q = QNetwork::new(
            &mut online.root().sub("q"),
            off_policy.envs.observation_dim(),
            num_actions,
            &config.core.hidden,
            config.dueling,
            &mut off_policy.rng,
        );
        let adam = AdamConfig {
            lr: config.core.learning_rate as f32,
            ..AdamConfig::default()
        };
        Ok(Networks {
            config: config.clone(),
            q,
            params: QParameters::new(online, adam),
        })
    }

    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        self.params.parts()
    }

    fn into_agent(self, env_id: String, _off_policy: OffPolicy) -> GreedyAgent {
        GreedyAgent {
            env_id,
            q: self.q,
            store: self.params.online,
        }
    }
}
