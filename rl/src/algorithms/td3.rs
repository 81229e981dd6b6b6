//! # Twin Delayed Deep Deterministic policy gradient (TD3)
//!
//! ## Background
//! DDPG ([`crate::ddpg`]) over-estimates `Q`: its actor climbs the critic's errors, and the
//! bootstrapped targets feed them back. TD3 (Fujimoto et al., 2018) adds three fixes:
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
//! `ã' = clip(μ_θ̄(s') + clip(ε, −c, c), −1, 1)`,  `ε ~ N(0, σ̃² I)`,
//!
//! `y = r + γ (1 − d) min_{i=1,2} Q_φ̄i(s', ã')`,
//!
//! the critic loss `L(φ) = Σ_i E_D[(Q_φi(s, a) − y)²]`, and every `d`-th step the deterministic
//! policy gradient on the first critic,
//!
//! `L(θ) = −E_{s~D}[Q_φ1(s, μ_θ(s))]`,
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
//! Defaults are Stable-Baselines3's (with the paper's `N(0, 0.1²)` exploration noise);
//! [`Td3Config::for_env`] gives the RL Baselines3 Zoo's settings.

use autograd::{Float, Tape, Tensor, Var, no_grad};
use ndarray::ArrayD;
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{Bound, ParamStore};

use crate::continuous::{
    ActionNoise, Averages, Collector, ContinuousAgent, DeterministicActor, NoiseProcess,
    PolicyHead, TwinQ, add_noise, batch_actions, check_common, check_finite, mean, merge_stores,
    parse, parse_hidden, rows, seeded, to_rows, vector,
};
use crate::sac::standard_normal_array;
use crate::snapshot::{Iteration, TrainingState};
use crate::train::{IterationMetrics, TrainError};

/// TD3's hyperparameters. Defaults are Stable-Baselines3's; [`Td3Config::for_env`] gives tuned
/// settings per environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Td3Config {
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
    /// `τ` of the Polyak averaging of the targets.
    pub tau: f64,
    /// Adam's learning rate, for the actor and the critics.
    pub learning_rate: f64,
    /// Environment steps between training phases.
    pub train_freq: usize,
    /// Gradient steps per training phase.
    pub gradient_steps: usize,
    /// `d`: critic steps per actor (and target) step.
    pub policy_delay: usize,
    /// `σ̃`: standard deviation of the target policy smoothing noise.
    pub target_policy_noise: f64,
    /// `c`: the smoothing noise is clipped to `[−c, c]`.
    pub target_noise_clip: f64,
    /// Exploration noise on the actor's action.
    pub action_noise: ActionNoise,
    /// Hidden layer sizes of the actor and of each critic.
    pub hidden: Vec<usize>,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
    /// Environment steps between reported metrics.
    pub log_interval: usize,
}

impl Default for Td3Config {
    fn default() -> Self {
        Td3Config {
            total_timesteps: 1_000_000,
            buffer_size: 1_000_000,
            learning_starts: 100,
            batch_size: 256,
            gamma: 0.99,
            tau: 0.005,
            learning_rate: 1e-3,
            train_freq: 1,
            gradient_steps: 1,
            policy_delay: 2,
            target_policy_noise: 0.2,
            target_noise_clip: 0.5,
            action_noise: ActionNoise::Normal { sigma: 0.1 },
            hidden: vec![256, 256],
            seed: 1,
            log_interval: 1000,
        }
    }
}

impl Td3Config {
    /// Tuned settings for a Gymnasium id (the defaults for an unknown one).
    ///
    /// ```
    /// use wengert_rl::td3::Td3Config;
    /// assert_eq!(Td3Config::for_env("Pendulum-v1").gamma, 0.98);
    /// ```
    pub fn for_env(id: &str) -> Self {
        let base = Td3Config::default();
        match id {
            // rl-baselines3-zoo hyperparams/td3.yml, Pendulum-v1, with 64-64 networks instead of
            // 400-300 (a tenth of the arithmetic per step; Pendulum is learnt as well).
            "Pendulum-v1" => Td3Config {
                total_timesteps: 20_000,
                buffer_size: 200_000,
                learning_starts: 10_000,
                gamma: 0.98,
                learning_rate: 1e-3,
                action_noise: ActionNoise::Normal { sigma: 0.1 },
                hidden: vec![64, 64],
                ..base
            },
            _ => base,
        }
    }

    /// The names [`Td3Config::set`] accepts.
    pub const KEYS: [&'static str; 16] = [
        "total_timesteps",
        "buffer_size",
        "learning_starts",
        "batch_size",
        "gamma",
        "tau",
        "learning_rate",
        "train_freq",
        "gradient_steps",
        "policy_delay",
        "target_policy_noise",
        "target_noise_clip",
        "action_noise",
        "hidden",
        "seed",
        "log_interval",
    ];

    /// Sets one hyperparameter from text (`--set key=value`); an unknown key or a bad value is
    /// an error that names what is valid.
    ///
    /// ```
    /// use wengert_rl::continuous::ActionNoise;
    /// use wengert_rl::td3::Td3Config;
    /// let mut config = Td3Config::default();
    /// config.set("action_noise", "ou:0.3").unwrap();
    /// assert!(matches!(config.action_noise, ActionNoise::OrnsteinUhlenbeck { .. }));
    /// assert!(config.set("policy_dealy", "2").unwrap_err().contains("policy_delay"));
    /// ```
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let (number, count) = ("a number", "a non-negative integer");
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
            "policy_delay" => self.policy_delay = parse(key, value, count)?,
            "target_policy_noise" => self.target_policy_noise = parse(key, value, number)?,
            "target_noise_clip" => self.target_noise_clip = parse(key, value, number)?,
            "action_noise" => self.action_noise = ActionNoise::parse(value)?,
            "hidden" => self.hidden = parse_hidden(key, value)?,
            "seed" => self.seed = parse(key, value, count)?,
            "log_interval" => self.log_interval = parse(key, value, count)?,
            _ => {
                return Err(format!(
                    "unknown TD3 setting `{key}`; valid settings: {}",
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
        if self.policy_delay == 0 {
            return Err(TrainError::Config("policy_delay must be positive".into()));
        }
        Ok(())
    }
}

/// The TD3 targets `y = r + γ(1 − d) min_i Q_φ̄i(s', ã')` with the smoothed target action
/// `ã' = clip(μ_θ̄(s') + clip(ε, −c, c), −1, 1)`, computed without recording. `epsilon` is the
/// already-scaled noise `ε ~ N(0, σ̃²)` `(B, |A|)`; `bootstrap` is `γ^m (1 − d)` per row.
///
/// ```
/// use ndarray::array;
/// use autograd::prelude::*;
/// use nn::ParamStore;
/// use wengert_rl::continuous::{DeterministicActor, TwinQ};
/// use wengert_rl::td3::critic_targets;
/// use rand::SeedableRng;
/// // No hidden layers: μ(s) = tanh(w s + b), Q_i(s, a) = u_i·[s; a] + c_i.
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let mut actor_store = ParamStore::<f64>::new();
/// let actor = DeterministicActor::new(&mut actor_store.root().sub("actor"), 1, 1, &[], &mut rng);
/// actor_store.set(actor_store.id("actor.0.weight").unwrap(), array![[0.0]]);
/// actor_store.set(actor_store.id("actor.0.bias").unwrap(), array![0.0]);
/// let mut critic_store = ParamStore::<f64>::new();
/// let critics = TwinQ::new(&mut critic_store.root(), 1, 1, &[], &mut rng);
/// for (name, value) in [("q1.0.weight", [0.0, 1.0]), ("q2.0.weight", [0.0, 2.0])] {
///     critic_store.set(critic_store.id(name).unwrap(), array![value]);
/// }
/// for name in ["q1.0.bias", "q2.0.bias"] {
///     critic_store.set(critic_store.id(name).unwrap(), array![0.0]);
/// }
/// // μ̄(s') = 0; ε = 0.8 is clipped to 0.5, so ã' = 0.5; Q1 = 0.5, Q2 = 1.0; y = 1 + 0.9 · 0.5
/// let y = critic_targets(
///     &actor, &actor_store.constants(), &critics, &critic_store.constants(),
///     &Var::constant(array![[3.0]]), &Var::constant(array![1.0]), &Var::constant(array![0.9]),
///     &array![[0.8]].into_dyn(), 0.5,
/// );
/// assert!((y.value()[0] - 1.45).abs() < 1e-12);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn critic_targets<T: Float>(
    actor: &DeterministicActor,
    actor_target_params: &Bound<'_, T>,
    critics: &TwinQ,
    critic_target_params: &Bound<'_, T>,
    next_observations: &Var<T>,
    rewards: &Var<T>,
    bootstrap: &Var<T>,
    epsilon: &ArrayD<T>,
    noise_clip: T,
) -> Var<T> {
    no_grad(|| {
        let smoothing = Var::constant(epsilon.mapv(|e| e.max(-noise_clip).min(noise_clip)));
        let next_actions = actor
            .forward(actor_target_params, next_observations)
            .add(&smoothing)
            .clamp(-T::one(), T::one());
        let q_next = critics.min(critic_target_params, next_observations, &next_actions);
        rewards.add(&bootstrap.mul(&q_next))
    })
}

/// The deterministic policy gradient loss `L(θ) = −mean_B Q_φ(s, μ_θ(s))` through one critic
/// (bind `critic_params` as constants so that only `θ` is trained).
pub fn actor_loss<T: Float>(
    actor: &DeterministicActor,
    actor_params: &Bound<'_, T>,
    critic: &crate::continuous::QNetwork,
    critic_params: &Bound<'_, T>,
    observations: &Var<T>,
) -> Var<T> {
    let actions = actor.forward(actor_params, observations);
    critic
        .forward(critic_params, observations, &actions)
        .mean_all()
        .neg()
}

/// Trains a TD3 agent on the Gymnasium environment `env_id`, calling `on_iteration` every
/// `log_interval` steps (return `false` from it to stop early).
///
/// ```no_run
/// use wengert_rl::td3::{Td3Config, train};
/// let agent = train("Pendulum-v1", &Td3Config::for_env("Pendulum-v1"), |_| true).unwrap();
/// ```
pub fn train(
    env_id: &str,
    config: &Td3Config,
    mut on_iteration: impl FnMut(&IterationMetrics) -> bool,
) -> Result<ContinuousAgent, TrainError> {
    train_from(env_id, config, None, |i| on_iteration(i.metrics))
}

/// [`train`], continuing from a saved training state when `resume` is given (see
/// [`crate::snapshot`]); `on_iteration` can take a snapshot at every report.
pub fn train_from(
    env_id: &str,
    config: &Td3Config,
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

    // ---- θ, φ1, φ2 and their targets θ̄ ← θ, φ̄i ← φi ----
    let mut actor_store = ParamStore::<f32>::new();
    let actor = DeterministicActor::new(
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
    let actor_target = actor_store.clone();
    let critic_target = critic_store.clone();
    let adam = AdamConfig {
        lr: config.learning_rate as f32,
        ..AdamConfig::default()
    };
    let mut actor_optimizer = Adam::new(actor_store.trainable(), adam);
    let mut critic_optimizer = Adam::new(critic_store.trainable(), adam);
    let mut noise = NoiseProcess::new(config.action_noise, action_dim);
    let (sigma, clip) = (
        config.target_policy_noise as f32,
        config.target_noise_clip as f32,
    );

    let mut window = Averages::default();
    let mut history = Vec::new();
    let mut actor_updates = 0;
    let mut first_iteration = 1;
    if let Some(state) = resume {
        state.check("td3", env_id, config)?;
        state.load_params("agent", &actor_store)?;
        state.load_params("agent.actor_target", &actor_target)?;
        state.load_params("agent.critic", &critic_store)?;
        state.load_params("agent.critic_target", &critic_target)?;
        state.load_optimizer("actor_optimizer", &mut actor_optimizer, &actor_store)?;
        state.load_optimizer("critic_optimizer", &mut critic_optimizer, &critic_store)?;
        actor_updates = state.count("actor_updates")?;
        state.load("noise", &mut noise)?;
        state.load("collector", &mut collector)?;
        state.load("rng", &mut rng)?;
        first_iteration = state.iteration + 1;
    }
    for t in collector.env_steps + 1..=config.total_timesteps {
        // ---- act: uniform warm-up, then clip(μ_θ(s) + noise) ----
        let unit = if t <= config.learning_starts {
            collector.random_actions(&mut rng)
        } else {
            let params = actor_store.constants();
            let mu = no_grad(|| actor.forward(&params, &rows(&collector.observations)));
            add_noise(to_rows(mu.value(), action_dim), &mut noise, &mut rng)
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

                // y = r + γ(1 − d) min_i Q_φ̄i(s', clip(μ_θ̄(s') + clip(ε, −c, c), −1, 1))
                let epsilon = standard_normal_array::<f32>(batch.len(), action_dim, &mut rng)
                    .mapv(|e| e * sigma);
                let y = critic_targets(
                    &actor,
                    &actor_target.constants(),
                    &critics,
                    &critic_target.constants(),
                    &rows(&batch.next_observations),
                    &vector(&batch.rewards),
                    &vector(&batch.bootstrap_factors()),
                    &epsilon,
                    clip,
                );

                // φ: Σ_i mean (Q_φi(s, a) − y)²
                let tape = Tape::new();
                let params = critic_store.bind(&tape);
                let (q1, q2) = critics.forward(&params, &s, &a);
                let critic_loss = (&q1 - &y)
                    .powi(2)
                    .mean_all()
                    .add(&(&q2 - &y).powi(2).mean_all());
                check_finite("TD3 critic loss", critic_loss.item(), t)?;
                critic_optimizer.step(&critic_store, &params.gradients(&critic_loss));
                collector.gradient_steps += 1;
                window.add("critic_loss", critic_loss.item() as f64);
                window.add("q_mean", 0.5 * (mean(&q1) + mean(&q2)));

                // every d-th step: θ on −mean Q_φ1(s, μ_θ(s)), then the targets
                if collector.gradient_steps % config.policy_delay == 0 {
                    let tape = Tape::new();
                    let params = actor_store.bind(&tape);
                    let policy_loss =
                        actor_loss(&actor, &params, &critics.q1, &critic_store.constants(), &s);
                    check_finite("TD3 actor loss", policy_loss.item(), t)?;
                    actor_optimizer.step(&actor_store, &params.gradients(&policy_loss));
                    actor_updates += 1;
                    actor_target.polyak_from(&actor_store, config.tau as f32);
                    critic_target.polyak_from(&critic_store, config.tau as f32);
                    window.add("actor_loss", policy_loss.item() as f64);
                }
            }
        }

        if t % config.log_interval == 0 || t == config.total_timesteps {
            let mut losses = window.take_as(&["critic_loss", "actor_loss", "q_mean"]);
            losses.push(("actor_updates", actor_updates as f64));
            let metrics = collector.metrics(first_iteration + history.len(), losses);
            history.push(metrics.clone());
            let snapshot = || {
                let mut state = TrainingState::new("td3", env_id, &format!("{config:#?}"));
                state.save_params("agent", &actor_store);
                state.save_params("agent.actor_target", &actor_target);
                state.save_params("agent.critic", &critic_store);
                state.save_params("agent.critic_target", &critic_target);
                state.save_optimizer("actor_optimizer", &actor_optimizer, &actor_store);
                state.save_optimizer("critic_optimizer", &critic_optimizer, &critic_store);
                state.put_u64("actor_updates", vec![actor_updates as u64]);
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
            ("actor_target", &actor_target),
            ("critic", &critic_store),
            ("critic_target", &critic_target),
        ],
    );
    Ok(ContinuousAgent {
        env_id: env_id.to_string(),
        store,
        actor: actor.mlp,
        head: PolicyHead::Deterministic,
        scale: collector.scale.clone(),
        history,
    })
}
