//! # Deep Deterministic Policy Gradient (DDPG)
//!
//! ## Background
//! Q-learning for continuous actions (Lillicrap et al., 2016): the `max_a Q(s', a)` of the
//! Bellman target is intractable over a continuous `a`, so a deterministic actor `μ_θ(s)` is
//! trained to be that maximiser, by the deterministic policy gradient (Silver et al., 2014)
//! `∇_θ J = E_s[∇_a Q_φ(s, a)|_{a=μ_θ(s)} ∇_θ μ_θ(s)]`. Slowly moving target networks keep the
//! bootstrapped targets stable; exploration comes from noise added to `μ_θ(s)` (Gaussian, or
//! the paper's Ornstein–Uhlenbeck process — [`crate::continuous::ActionNoise`]).
//!
//! ## Key equations
//! `y = r + γ (1 − d) Q_φ̄(s', μ_θ̄(s'))`,
//!
//! `L(φ) = E_D[(Q_φ(s, a) − y)²]`,  `L(θ) = −E_{s~D}[Q_φ(s, μ_θ(s))]`,
//!
//! then `θ̄ ← τ θ + (1 − τ) θ̄`, `φ̄ ← τ φ + (1 − τ) φ̄`. (TD3 is this with twin critics,
//! target policy smoothing and delayed actor updates — [`crate::td3`].)
//!
//! ## Pseudocode
//! ```text
//! initialise θ, φ; θ̄ ← θ; φ̄ ← φ; D ← ∅
//! for t = 1 … total_timesteps:
//!     ã ← uniform in [−1, 1]^|A| if t ≤ learning_starts, else clip(μ_θ(s) + noise, −1, 1)
//!     step the environment with scale(ã); store (s, ã, r, s', d) in D
//!     if t > learning_starts and t mod train_freq = 0, repeat gradient_steps times:
//!         sample a batch B from D
//!         y = r + γ (1 − d) Q_φ̄(s', μ_θ̄(s'))
//!         φ ← Adam step on mean_B (Q_φ(s, a) − y)²
//!         θ ← Adam step on −mean_B Q_φ(s, μ_θ(s))
//!         θ̄ ← τ θ + (1 − τ) θ̄;  φ̄ ← τ φ + (1 − τ) φ̄
//! ```
//! Defaults are Stable-Baselines3's (with `N(0, 0.1²)` exploration noise);
//! [`DdpgConfig::for_env`] gives the RL Baselines3 Zoo's settings.

use autograd::{Float, Tape, Tensor, Var, no_grad};
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{Bound, ParamStore};

use crate::continuous::{
    ActionNoise, Averages, Collector, ContinuousAgent, DeterministicActor, NoiseProcess,
    PolicyHead, QNetwork, add_noise, batch_actions, check_common, check_finite, mean, merge_stores,
    parse, parse_hidden, rows, seeded, to_rows, vector,
};
use crate::snapshot::{Iteration, TrainingState};
use crate::td3::actor_loss;
use crate::train::{IterationMetrics, TrainError};

/// DDPG's hyperparameters. Defaults are Stable-Baselines3's; [`DdpgConfig::for_env`] gives
/// tuned settings per environment.
#[derive(Clone, Debug, PartialEq)]
pub struct DdpgConfig {
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
    /// Adam's learning rate, for the actor and the critic.
    pub learning_rate: f64,
    /// Environment steps between training phases.
    pub train_freq: usize,
    /// Gradient steps per training phase.
    pub gradient_steps: usize,
    /// Exploration noise on the actor's action.
    pub action_noise: ActionNoise,
    /// Hidden layer sizes of the actor and of the critic.
    pub hidden: Vec<usize>,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
    /// Environment steps between reported metrics.
    pub log_interval: usize,
}

impl Default for DdpgConfig {
    fn default() -> Self {
        DdpgConfig {
            total_timesteps: 1_000_000,
            buffer_size: 1_000_000,
            learning_starts: 100,
            batch_size: 256,
            gamma: 0.99,
            tau: 0.005,
            learning_rate: 1e-3,
            train_freq: 1,
            gradient_steps: 1,
            action_noise: ActionNoise::Normal { sigma: 0.1 },
            hidden: vec![256, 256],
            seed: 1,
            log_interval: 1000,
        }
    }
}

impl DdpgConfig {
    /// Tuned settings for a Gymnasium id (the defaults for an unknown one).
    ///
    /// ```
    /// use wengert_rl::ddpg::DdpgConfig;
    /// assert_eq!(DdpgConfig::for_env("Pendulum-v1").total_timesteps, 20_000);
    /// ```
    pub fn for_env(id: &str) -> Self {
        let base = DdpgConfig::default();
        match id {
            // rl-baselines3-zoo hyperparams/ddpg.yml, Pendulum-v1, with 64-64 networks instead
            // of 400-300 (a tenth of the arithmetic per step; Pendulum is learnt as well).
            "Pendulum-v1" => DdpgConfig {
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

    /// The names [`DdpgConfig::set`] accepts.
    pub const KEYS: [&'static str; 13] = [
        "total_timesteps",
        "buffer_size",
        "learning_starts",
        "batch_size",
        "gamma",
        "tau",
        "learning_rate",
        "train_freq",
        "gradient_steps",
        "action_noise",
        "hidden",
        "seed",
        "log_interval",
    ];

    /// Sets one hyperparameter from text (`--set key=value`); an unknown key or a bad value is
    /// an error that names what is valid.
    ///
    /// ```
    /// use wengert_rl::ddpg::DdpgConfig;
    /// let mut config = DdpgConfig::default();
    /// config.set("tau", "0.01").unwrap();
    /// assert_eq!(config.tau, 0.01);
    /// assert!(config.set("tau", "fast").unwrap_err().contains("number"));
    /// assert!(config.set("policy_delay", "2").unwrap_err().contains("valid settings"));
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
            "action_noise" => self.action_noise = ActionNoise::parse(value)?,
            "hidden" => self.hidden = parse_hidden(key, value)?,
            "seed" => self.seed = parse(key, value, count)?,
            "log_interval" => self.log_interval = parse(key, value, count)?,
            _ => {
                return Err(format!(
                    "unknown DDPG setting `{key}`; valid settings: {}",
                    Self::KEYS.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// The DDPG targets `y = r + γ(1 − d) Q_φ̄(s', μ_θ̄(s'))`, computed without recording;
/// `bootstrap` is `γ^m (1 − d)` per row.
pub fn critic_targets<T: Float>(
    actor: &DeterministicActor,
    actor_target_params: &Bound<'_, T>,
    critic: &QNetwork,
    critic_target_params: &Bound<'_, T>,
    next_observations: &Var<T>,
    rewards: &Var<T>,
    bootstrap: &Var<T>,
) -> Var<T> {
    no_grad(|| {
        let next_actions = actor.forward(actor_target_params, next_observations);
        let q_next = critic.forward(critic_target_params, next_observations, &next_actions);
        rewards.add(&bootstrap.mul(&q_next))
    })
}

/// Trains a DDPG agent on the Gymnasium environment `env_id`, calling `on_iteration` every
/// `log_interval` steps (return `false` from it to stop early).
///
/// ```no_run
/// use wengert_rl::ddpg::{DdpgConfig, train};
/// let agent = train("Pendulum-v1", &DdpgConfig::for_env("Pendulum-v1"), |_| true).unwrap();
/// ```
pub fn train(
    env_id: &str,
    config: &DdpgConfig,
    mut on_iteration: impl FnMut(&IterationMetrics) -> bool,
) -> Result<ContinuousAgent, TrainError> {
    train_from(env_id, config, None, |i| on_iteration(i.metrics))
}

/// [`train`], continuing from a saved training state when `resume` is given (see
/// [`crate::snapshot`]); `on_iteration` can take a snapshot at every report.
pub fn train_from(
    env_id: &str,
    config: &DdpgConfig,
    resume: Option<&TrainingState>,
    mut on_iteration: impl FnMut(&Iteration<'_>) -> bool,
) -> Result<ContinuousAgent, TrainError> {
    check_common(
        config.total_timesteps,
        config.batch_size,
        config.train_freq,
        config.log_interval,
        config.gamma,
        config.tau,
    )?;
    let mut rng = seeded(config.seed);
    let mut collector = Collector::new(
        env_id,
        config.buffer_size.min(config.total_timesteps),
        config.seed,
        config.gamma,
    )?;
    let (observation_dim, action_dim) = (collector.observation_dim(), collector.action_dim());

    // ---- θ, φ and their targets θ̄ ← θ, φ̄ ← φ ----
    let mut actor_store = ParamStore::<f32>::new();
    let actor = DeterministicActor::new(
        &mut actor_store.root().sub("actor"),
        observation_dim,
        action_dim,
        &config.hidden,
        &mut rng,
    );
    let mut critic_store = ParamStore::<f32>::new();
    let critic = QNetwork::new(
        &mut critic_store.root().sub("q"),
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

    let mut window = Averages::default();
    let mut history = Vec::new();
    let mut first_iteration = 1;
    if let Some(state) = resume {
        state.check("ddpg", env_id, config)?;
        state.load_params("agent", &actor_store)?;
        state.load_params("agent.actor_target", &actor_target)?;
        state.load_params("agent.critic", &critic_store)?;
        state.load_params("agent.critic_target", &critic_target)?;
        state.load_optimizer("actor_optimizer", &mut actor_optimizer, &actor_store)?;
        state.load_optimizer("critic_optimizer", &mut critic_optimizer, &critic_store)?;
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

                // y = r + γ(1 − d) Q_φ̄(s', μ_θ̄(s'))
                let y = critic_targets(
                    &actor,
                    &actor_target.constants(),
                    &critic,
                    &critic_target.constants(),
                    &rows(&batch.next_observations),
                    &vector(&batch.rewards),
                    &vector(&batch.bootstrap_factors()),
                );

                // φ: mean (Q_φ(s, a) − y)²
                let tape = Tape::new();
                let params = critic_store.bind(&tape);
                let q = critic.forward(&params, &s, &a);
                let critic_loss = (&q - &y).powi(2).mean_all();
                check_finite("DDPG critic loss", critic_loss.item(), t)?;
                critic_optimizer.step(&critic_store, &params.gradients(&critic_loss));

                // θ: −mean Q_φ(s, μ_θ(s))
                let tape = Tape::new();
                let params = actor_store.bind(&tape);
                let policy_loss =
                    actor_loss(&actor, &params, &critic, &critic_store.constants(), &s);
                check_finite("DDPG actor loss", policy_loss.item(), t)?;
                actor_optimizer.step(&actor_store, &params.gradients(&policy_loss));

                // θ̄, φ̄
                actor_target.polyak_from(&actor_store, config.tau as f32);
                critic_target.polyak_from(&critic_store, config.tau as f32);
                collector.gradient_steps += 1;
                window.add("critic_loss", critic_loss.item() as f64);
                window.add("actor_loss", policy_loss.item() as f64);
                window.add("q_mean", mean(&q));
            }
        }

        if t % config.log_interval == 0 || t == config.total_timesteps {
            let losses = window.take_as(&["critic_loss", "actor_loss", "q_mean"]);
            let metrics = collector.metrics(first_iteration + history.len(), losses);
            history.push(metrics.clone());
            let snapshot = || {
                let mut state = TrainingState::new("ddpg", env_id, &format!("{config:#?}"));
                state.save_params("agent", &actor_store);
                state.save_params("agent.actor_target", &actor_target);
                state.save_params("agent.critic", &critic_store);
                state.save_params("agent.critic_target", &critic_target);
                state.save_optimizer("actor_optimizer", &actor_optimizer, &actor_store);
                state.save_optimizer("critic_optimizer", &critic_optimizer, &critic_store);
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
