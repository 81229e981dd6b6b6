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
//! `ln π_θ(ã|s) = ln N(u; μ_θ(s), σ_θ(s)²) − Σ_j ln(1 − tanh² u_j)`
//!
//! ([`nn::distributions::TanhGaussian`], computed stably). The soft Bellman target, with a fresh
//! action from the current policy at the next state `ã' ~ π_θ(·|s')`,
//!
//! `y = r + γ (1 − d) (min_{i=1,2} Q_φ̄i(s', ã') − α ln π_θ(ã'|s'))`,
//!
//! the critic loss `L(φ) = ½ Σ_i E_D[(Q_φi(s, a) − y)²]`, the actor loss (pathwise gradient
//! through `ã = tanh(μ_θ(s) + σ_θ(s) ⊙ ε)`)
//!
//! `L(θ) = E_{s~D, ε}[α ln π_θ(ã|s) − min_i Q_φi(s, ã)]`,
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
//!     if t > learning_starts and t mod train_freq = 0, repeat gradient_steps times:
//!         sample a batch B from D
//!         y = r + γ (1 − d) (min_i Q_φ̄i(s', ã') − α ln π_θ(ã'|s')),  ã' ~ π_θ(·|s')
//!         φ ← Adam step on ½ Σ_i mean_B (Q_φi(s, a) − y)²
//!         θ ← Adam step on mean_B (α ln π_θ(ã|s) − min_i Q_φi(s, ã)),  ã = tanh(μ + σ ⊙ ε)
//!         if autotune: ln α ← Adam step on −mean_B (ln α (ln π_θ(ã|s) + H̄))
//!         every target_update_interval steps: φ̄i ← τ φi + (1 − τ) φ̄i
//! ```
//! Defaults are Stable-Baselines3's; [`SacConfig::for_env`] gives the RL Baselines3 Zoo's
//! settings (with smaller networks where speed matters, said there).

use autograd::{Float, Tape, Tensor, Var, no_grad};
use ndarray::ArrayD;
use nn::distributions::TanhGaussian;
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{Bound, Mlp, Module, ParamId, ParamStore, Path};
use rand::Rng;

use crate::continuous::{
    ActionNoise, Averages, Collector, ContinuousAgent, NoiseProcess, PolicyHead, TwinQ, add_noise,
    batch_actions, check_common, check_finite, mean, merge_stores, parse, parse_hidden, rows,
    seeded, to_rows, vector,
};
use crate::snapshot::{Iteration, Resumable, StateError, TrainingState};
use crate::train::{IterationMetrics, TrainError};

/// `ln σ` is clamped to `[LOG_STD_MIN, LOG_STD_MAX]` (Stable-Baselines3's bounds).
pub const LOG_STD_MIN: f64 = -20.0;
/// See [`LOG_STD_MIN`].
pub const LOG_STD_MAX: f64 = 2.0;

/// SAC's hyperparameters. Defaults are Stable-Baselines3's; [`SacConfig::for_env`] gives tuned
/// settings per environment.
#[derive(Clone, Debug, PartialEq)]
pub struct SacConfig {
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
    /// `τ` of the Polyak averaging of the target critics.
    pub tau: f64,
    /// Adam's learning rate, for the actor, the critics and `ln α`.
    pub learning_rate: f64,
    /// Environment steps between training phases.
    pub train_freq: usize,
    /// Gradient steps per training phase.
    pub gradient_steps: usize,
    /// Gradient steps between target updates.
    pub target_update_interval: usize,
    /// Hidden layer sizes of the actor and of each critic.
    pub hidden: Vec<usize>,
    /// `α`: its initial value when `autotune`, else its fixed value.
    pub alpha: f64,
    /// Tune `α` towards the target entropy.
    pub autotune: bool,
    /// `H̄`; `None` for `−|A|`.
    pub target_entropy: Option<f64>,
    /// Extra exploration noise on the sampled action (none by default).
    pub action_noise: ActionNoise,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
    /// Environment steps between reported metrics.
    pub log_interval: usize,
}

impl Default for SacConfig {
    fn default() -> Self {
        SacConfig {
            total_timesteps: 1_000_000,
            buffer_size: 1_000_000,
            learning_starts: 100,
            batch_size: 256,
            gamma: 0.99,
            tau: 0.005,
            learning_rate: 3e-4,
            train_freq: 1,
            gradient_steps: 1,
            target_update_interval: 1,
            hidden: vec![256, 256],
            alpha: 1.0,
            autotune: true,
            target_entropy: None,
            action_noise: ActionNoise::None,
            seed: 1,
            log_interval: 1000,
        }
    }
}

impl SacConfig {
    /// Tuned settings for a Gymnasium id (the defaults for an unknown one).
    ///
    /// ```
    /// use wengert_rl::sac::SacConfig;
    /// assert_eq!(SacConfig::for_env("Pendulum-v1").total_timesteps, 20_000);
    /// ```
    pub fn for_env(id: &str) -> Self {
        let base = SacConfig::default();
        match id {
            // rl-baselines3-zoo hyperparams/sac.yml, Pendulum-v1 (learning_rate 1e-3, 20k steps),
            // with 64-64 networks instead of 256-256: 1/16 of the arithmetic per gradient step,
            // and Pendulum is learnt just as well.
            "Pendulum-v1" => SacConfig {
                total_timesteps: 20_000,
                learning_rate: 1e-3,
                hidden: vec![64, 64],
                ..base
            },
            // rl-baselines3-zoo hyperparams/sac.yml, MountainCarContinuous-v0, without gSDE:
            // the zoo explores with state-dependent noise (use_sde); here temporally correlated
            // Ornstein–Uhlenbeck noise on the action does that job.
            "MountainCarContinuous-v0" => SacConfig {
                total_timesteps: 50_000,
                buffer_size: 50_000,
                learning_starts: 0,
                batch_size: 512,
                gamma: 0.9999,
                tau: 0.01,
                learning_rate: 3e-4,
                train_freq: 32,
                gradient_steps: 32,
                hidden: vec![64, 64],
                alpha: 0.1,
                autotune: false,
                action_noise: ActionNoise::OrnsteinUhlenbeck {
                    sigma: 0.5,
                    theta: 0.15,
                    dt: 1e-2,
                },
                ..base
            },
            _ => base,
        }
    }

    /// The names [`SacConfig::set`] accepts.
    pub const KEYS: [&'static str; 17] = [
        "total_timesteps",
        "buffer_size",
        "learning_starts",
        "batch_size",
        "gamma",
        "tau",
        "learning_rate",
        "train_freq",
        "gradient_steps",
        "target_update_interval",
        "hidden",
        "alpha",
        "autotune",
        "target_entropy",
        "action_noise",
        "seed",
        "log_interval",
    ];

    /// Sets one hyperparameter from text (`--set key=value`); an unknown key or a bad value is
    /// an error that names what is valid.
    ///
    /// ```
    /// use wengert_rl::sac::SacConfig;
    /// let mut config = SacConfig::default();
    /// config.set("hidden", "32,32").unwrap();
    /// config.set("target_entropy", "-2").unwrap();
    /// assert_eq!((&config.hidden, config.target_entropy), (&vec![32, 32], Some(-2.0)));
    /// assert!(config.set("alhpa", "0.1").unwrap_err().contains("alpha"));
    /// assert!(config.set("autotune", "yes").unwrap_err().contains("true or false"));
    /// ```
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let (number, count, flag) = ("a number", "a non-negative integer", "true or false");
        match key {
            "total_timesteps" => self.total_timesteps = parse(key, value, count)?,
            "buffer_size" => self.buffer_size = parse(key, value, count)?,
            "learning_starts" => self.learning_starts = parse(key, value, count)?,
            "batch_size" => self.batch_size = parse(key, value, count)?,
            "gamma" => self.gamma = parse(key, value, number)?,
            "tau" => self.tau = parse(key, value, number)?,
            "learning_rate" => self.learning_rate = parse(key, value, number)?,
            "train_freq" => self.train_freq = parse(key, value, count)?,
            "gradient_steps" => self.gradient_steps = parse(key, value, count)?,
            "target_update_interval" => self.target_update_interval = parse(key, value, count)?,
            "hidden" => self.hidden = parse_hidden(key, value)?,
            "alpha" => self.alpha = parse(key, value, number)?,
            "autotune" => self.autotune = parse(key, value, flag)?,
            "target_entropy" => {
                self.target_entropy = match value.trim() {
                    "auto" | "none" | "" => None,
                    v => Some(parse(key, v, "a number or auto")?),
                }
            }
            "action_noise" => self.action_noise = ActionNoise::parse(value)?,
            "seed" => self.seed = parse(key, value, count)?,
            "log_interval" => self.log_interval = parse(key, value, count)?,
            _ => {
                return Err(format!(
                    "unknown SAC setting `{key}`; valid settings: {}",
                    Self::KEYS.join(", ")
                ));
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), TrainError> {
        check_common(
            self.total_timesteps,
            self.batch_size,
            self.train_freq,
            self.log_interval,
            self.gamma,
            self.tau,
        )?;
        if self.target_update_interval == 0 {
            return Err(TrainError::Config(
                "target_update_interval must be positive".into(),
            ));
        }
        if self.alpha.is_nan() || self.alpha <= 0.0 {
            return Err(TrainError::Config(format!(
                "alpha must be positive (it is a temperature), found {}",
                self.alpha
            )));
        }
        Ok(())
    }
}

/// The squashed Gaussian policy: an MLP from `s` to `[μ_θ(s); ln σ_θ(s)]` (one linear head of
/// `2|A|` outputs on the shared hidden layers, equivalent to Stable-Baselines3's two heads).
///
/// ```
/// use rand::SeedableRng;
/// use autograd::prelude::*;
/// use nn::ParamStore;
/// use wengert_rl::sac::SquashedGaussianActor;
/// let mut store = ParamStore::<f64>::new();
/// let actor = SquashedGaussianActor::new(&mut store.root().sub("actor"), 3, 2, &[8], &mut rand::rngs::StdRng::seed_from_u64(0));
/// let pi = actor.distribution(&store.constants(), &Var::constant(ndarray::Array2::<f64>::zeros((4, 3))));
/// assert_eq!(pi.mode().shape(), &[4, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct SquashedGaussianActor {
    pub mlp: Mlp,
    pub action_dim: usize,
}

impl SquashedGaussianActor {
    /// A policy for `observation_dim`-dimensional states and `action_dim`-dimensional actions
    /// (ReLU hidden layers, PyTorch's default initialisation).
    pub fn new<T: Float>(
        path: &mut Path<'_, T>,
        observation_dim: usize,
        action_dim: usize,
        hidden: &[usize],
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let mut sizes = vec![observation_dim];
        sizes.extend(hidden);
        sizes.push(2 * action_dim);
        SquashedGaussianActor {
            mlp: Mlp::builder(&sizes).build(path, rng),
            action_dim,
        }
    }

    /// `π_θ(·|s)` for a batch of states `(B, obs_dim)`.
    pub fn distribution<T: Float>(
        &self,
        params: &Bound<'_, T>,
        observations: &Var<T>,
    ) -> TanhGaussian<T> {
        let out = self.mlp.forward(params, observations);
        let d = self.action_dim;
        let mean = out.narrow(-1, 0, d);
        let log_std = out
            .narrow(-1, d, d)
            .clamp(T::from_f64(LOG_STD_MIN), T::from_f64(LOG_STD_MAX));
        TanhGaussian::new(&mean, &log_std)
    }
}

/// The actor loss `L(θ) = mean_B(α ln π_θ(ã|s) − min_i Q_φi(s, ã))` with
/// `ã = tanh(μ_θ(s) + σ_θ(s) ⊙ ε)` for the given noise `ε` `(B, |A|)`; returns the loss and
/// `ln π_θ(ã|s)` `(B)`. Gradients flow into whatever `actor_params` tracks; bind
/// `critic_params` as constants so that only `θ` is trained.
pub fn actor_loss<T: Float>(
    actor: &SquashedGaussianActor,
    actor_params: &Bound<'_, T>,
    critics: &TwinQ,
    critic_params: &Bound<'_, T>,
    observations: &Var<T>,
    epsilon: &ArrayD<T>,
    alpha: T,
) -> (Var<T>, Var<T>) {
    let pi = actor.distribution(actor_params, observations);
    let draw = pi.rsample_with(epsilon);
    let log_prob = pi.log_prob(&draw);
    let q = critics.min(critic_params, observations, &draw.action);
    let loss = log_prob.mul_scalar(alpha).sub(&q).mean_all();
    (loss, log_prob)
}

/// The soft Bellman targets `y = r + γ(1 − d)(min_i Q_φ̄i(s', ã') − α ln π_θ(ã'|s'))` with
/// `ã' = tanh(μ_θ(s') + σ_θ(s') ⊙ ε')`, computed without recording. `bootstrap` is
/// `γ^m (1 − d)` per row ([`crate::buffers::Batch::bootstrap_factors`]).
#[allow(clippy::too_many_arguments)]
pub fn critic_targets<T: Float>(
    actor: &SquashedGaussianActor,
    actor_params: &Bound<'_, T>,
    critics: &TwinQ,
    target_params: &Bound<'_, T>,
    next_observations: &Var<T>,
    rewards: &Var<T>,
    bootstrap: &Var<T>,
    epsilon: &ArrayD<T>,
    alpha: T,
) -> Var<T> {
    no_grad(|| {
        let pi = actor.distribution(actor_params, next_observations);
        let draw = pi.rsample_with(epsilon);
        let soft_value = critics
            .min(target_params, next_observations, &draw.action)
            .sub(&pi.log_prob(&draw).mul_scalar(alpha));
        rewards.add(&bootstrap.mul(&soft_value))
    })
}

/// The temperature `α = exp(ln α)`, fixed or tuned towards the target entropy `H̄` by Adam on
/// `L(α) = −mean(ln α · (ln π + H̄))` (see the [module doc](self)).
///
/// ```
/// use wengert_rl::sac::Temperature;
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

    /// `H̄`.
    pub fn target_entropy(&self) -> f64 {
        self.target_entropy
    }

    /// The `ln α` parameter (for checkpoints).
    pub fn store(&self) -> &ParamStore<f32> {
        &self.store
    }

    /// One Adam step on `L(α)` given the batch's `ln π_θ(ã|s)`; returns the loss, or `None`
    /// when `α` is fixed.
    pub fn update(&mut self, log_probs: &[f32]) -> Option<f64> {
        let optimizer = self.optimizer.as_mut()?;
        let tape = Tape::new();
        let params = self.store.bind(&tape);
        let shifted = ndarray::Array1::from_iter(
            log_probs
                .iter()
                .map(|&l| (l as f64 + self.target_entropy) as f32),
        );
        let loss = params[self.log_alpha]
            .mul(&Var::constant(shifted))
            .mean_all()
            .neg();
        let grads = params.gradients(&loss);
        optimizer.step(&self.store, &grads);
        Some(loss.item() as f64)
    }
}

/// Adam's state for `ln α` (`name`), when `α` is tuned; `ln α` itself is a parameter of the
/// agent (`agent.temperature.log_alpha`), saved with the others.
impl Resumable for Temperature {
    fn save(&self, name: &str, state: &mut TrainingState) {
        if let Some(optimizer) = &self.optimizer {
            state.save_optimizer(name, optimizer, &self.store);
        }
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        match &mut self.optimizer {
            Some(optimizer) => state.load_optimizer(name, optimizer, &self.store),
            None => Ok(()),
        }
    }
}

/// Trains a SAC agent on the Gymnasium environment `env_id`, calling `on_iteration` every
/// `log_interval` steps (return `false` from it to stop early).
///
/// ```no_run
/// use wengert_rl::sac::{SacConfig, train};
/// let agent = train("Pendulum-v1", &SacConfig::for_env("Pendulum-v1"), |m| {
///     println!("{} steps: return {:?}, α {:?}", m.env_steps, m.mean_return, m.get("alpha"));
///     true
/// }).unwrap();
/// ```
pub fn train(
    env_id: &str,
    config: &SacConfig,
    mut on_iteration: impl FnMut(&IterationMetrics) -> bool,
) -> Result<ContinuousAgent, TrainError> {
    train_from(env_id, config, None, |i| on_iteration(i.metrics))
}

/// [`train`], continuing from a saved training state when `resume` is given (see
/// [`crate::snapshot`]); `on_iteration` can take a snapshot at every report.
pub fn train_from(
    env_id: &str,
    config: &SacConfig,
    resume: Option<&TrainingState>,
    mut on_iteration: impl FnMut(&Iteration<'_>) -> bool,
) -> Result<ContinuousAgent, TrainError> {
    config.check()?;
    let mut rng = seeded(config.seed);
    let mut collector = Collector::new(
        env_id,
        config.buffer_size.min(config.total_timesteps),
        config.seed,
        config.gamma,
    )?;
    let (observation_dim, action_dim) = (collector.observation_dim(), collector.action_dim());

    // ---- θ, φ1, φ2, φ̄ ← φ, ln α ----
    let mut actor_store = ParamStore::<f32>::new();
    let actor = SquashedGaussianActor::new(
        &mut actor_store.root().sub("actor"),
        observation_dim,
        action_dim,
        &config.hidden,
        &mut rng,
    );
    let mut critic_store = ParamStore::<f32>::new();
    let critics = TwinQ::new(
        &mut critic_store.root(),
        observation_dim,
        action_dim,
        &config.hidden,
        &mut rng,
    );
    let critic_target = critic_store.clone();
    let adam = AdamConfig {
        lr: config.learning_rate as f32,
        ..AdamConfig::default()
    };
    let mut actor_optimizer = Adam::new(actor_store.trainable(), adam);
    let mut critic_optimizer = Adam::new(critic_store.trainable(), adam);
    let target_entropy = config.target_entropy.unwrap_or(-(action_dim as f64));
    let mut temperature = Temperature::new(
        config.alpha,
        config.autotune,
        target_entropy,
        config.learning_rate,
    );
    let mut noise = NoiseProcess::new(config.action_noise, action_dim);

    let mut window = Averages::default();
    let mut history = Vec::new();
    let mut first_iteration = 1;
    if let Some(state) = resume {
        state.check("sac", env_id, config)?;
        state.load_params("agent", &actor_store)?;
        state.load_params("agent.critic", &critic_store)?;
        state.load_params("agent.critic_target", &critic_target)?;
        state.load_params("agent.temperature", temperature.store())?;
        state.load_optimizer("actor_optimizer", &mut actor_optimizer, &actor_store)?;
        state.load_optimizer("critic_optimizer", &mut critic_optimizer, &critic_store)?;
        state.load("temperature_optimizer", &mut temperature)?;
        state.load("noise", &mut noise)?;
        state.load("collector", &mut collector)?;
        state.load("rng", &mut rng)?;
        first_iteration = state.iteration + 1;
    }
    for t in collector.env_steps + 1..=config.total_timesteps {
        // ---- act: uniform warm-up, then ã ~ π_θ(·|s) ----
        let unit = if t <= config.learning_starts {
            collector.random_actions(&mut rng)
        } else {
            let params = actor_store.constants();
            let draw = no_grad(|| {
                actor
                    .distribution(&params, &rows(&collector.observations))
                    .sample(&mut rng)
            });
            add_noise(
                to_rows(draw.action.value(), action_dim),
                &mut noise,
                &mut rng,
            )
        };
        if collector.step(&unit)? {
            noise.reset();
        }

        // ---- learn ----
        if t > config.learning_starts && t % config.train_freq == 0 {
            for _ in 0..config.gradient_steps {
                let batch = collector.buffer.sample(config.batch_size, &mut rng);
                let s = rows(&batch.observations);
                let a = batch_actions(&batch);
                let alpha = temperature.alpha();

                // y = r + γ(1 − d)(min_i Q_φ̄i(s', ã') − α ln π_θ(ã'|s'))
                let s_next = rows(&batch.next_observations);
                let epsilon_next = standard_normal_array(batch.len(), action_dim, &mut rng);
                let y = critic_targets(
                    &actor,
                    &actor_store.constants(),
                    &critics,
                    &critic_target.constants(),
                    &s_next,
                    &vector(&batch.rewards),
                    &vector(&batch.bootstrap_factors()),
                    &epsilon_next,
                    alpha,
                );

                // φ: ½ Σ_i mean (Q_φi(s, a) − y)²
                let tape = Tape::new();
                let params = critic_store.bind(&tape);
                let (q1, q2) = critics.forward(&params, &s, &a);
                let critic_loss = (&q1 - &y)
                    .powi(2)
                    .mean_all()
                    .add(&(&q2 - &y).powi(2).mean_all())
                    .mul_scalar(0.5);
                check_finite("SAC critic loss", critic_loss.item(), t)?;
                critic_optimizer.step(&critic_store, &params.gradients(&critic_loss));

                // θ: mean(α ln π_θ(ã|s) − min_i Q_φi(s, ã))
                let tape = Tape::new();
                let params = actor_store.bind(&tape);
                let epsilon = standard_normal_array(batch.len(), action_dim, &mut rng);
                let (policy_loss, log_prob) = actor_loss(
                    &actor,
                    &params,
                    &critics,
                    &critic_store.constants(),
                    &s,
                    &epsilon,
                    alpha,
                );
                check_finite("SAC actor loss", policy_loss.item(), t)?;
                actor_optimizer.step(&actor_store, &params.gradients(&policy_loss));

                // ln α: −mean(ln α (ln π + H̄))
                let log_probs: Vec<f32> = log_prob.value().iter().copied().collect();
                if let Some(alpha_loss) = temperature.update(&log_probs) {
                    window.add("alpha_loss", alpha_loss);
                }

                collector.gradient_steps += 1;
                if collector.gradient_steps % config.target_update_interval == 0 {
                    critic_target.polyak_from(&critic_store, config.tau as f32);
                }
                window.add("critic_loss", critic_loss.item() as f64);
                window.add("actor_loss", policy_loss.item() as f64);
                window.add("q_mean", 0.5 * (mean(&q1) + mean(&q2)));
                window.add("entropy", -mean(&log_prob));
            }
        }

        if t % config.log_interval == 0 || t == config.total_timesteps {
            let mut losses = window.take_as(&[
                "critic_loss",
                "actor_loss",
                "alpha_loss",
                "q_mean",
                "entropy",
            ]);
            losses.push(("alpha", temperature.alpha() as f64));
            let metrics = collector.metrics(first_iteration + history.len(), losses);
            history.push(metrics.clone());
            let snapshot = || {
                let mut state = TrainingState::new("sac", env_id, &format!("{config:#?}"));
                state.save_params("agent", &actor_store);
                state.save_params("agent.critic", &critic_store);
                state.save_params("agent.critic_target", &critic_target);
                state.save_params("agent.temperature", temperature.store());
                state.save_optimizer("actor_optimizer", &actor_optimizer, &actor_store);
                state.save_optimizer("critic_optimizer", &critic_optimizer, &critic_store);
                state.save("temperature_optimizer", &temperature);
                state.save("noise", &noise);
                state.save("collector", &collector);
                state.save("rng", &rng);
                state
            };
            if !on_iteration(&Iteration::new(&metrics, &snapshot)) {
                break;
            }
        }
    }

    let store = merge_stores(
        &actor_store,
        &[
            ("critic", &critic_store),
            ("critic_target", &critic_target),
            ("temperature", temperature.store()),
        ],
    );
    Ok(ContinuousAgent {
        env_id: env_id.to_string(),
        store,
        actor: actor.mlp,
        head: PolicyHead::TanhGaussian,
        scale: collector.scale.clone(),
        history,
    })
}

/// `ε ~ N(0, I)` of shape `(B, d)`.
pub fn standard_normal_array<T: Float>(
    batch: usize,
    d: usize,
    rng: &mut (impl Rng + ?Sized),
) -> ArrayD<T> {
    ArrayD::from_shape_simple_fn(ndarray::IxDyn(&[batch, d]), || {
        T::from_f64(crate::continuous::standard_normal(rng))
    })
}
