//! # Proximal Policy Optimization (PPO-clip)
//!
//! ## Background
//! A policy-gradient method (Schulman et al., 2017) that takes several epochs of minibatch
//! steps on each batch of on-policy data, while keeping the new policy close to the one that
//! collected the data by clipping the probability ratio — a first-order stand-in for TRPO's
//! trust region.
//!
//! ## Key equations
//! With the ratio `ρ_t(θ) = π_θ(a_t|s_t) / π_θ_old(a_t|s_t)` and GAE(λ) advantages `Â_t`
//! ([`crate::advantage`]) of a rollout ([`crate::rollout`]), normalised per minibatch, the clipped
//! surrogate objective is
//!
//! `L^CLIP(θ) = E_t[ min(ρ_t Â_t, clip(ρ_t, 1 − ε, 1 + ε) Â_t) ]`,
//!
//! the value loss (optionally clipped around the old values `V_old`)
//!
//! `L^V(φ) = ½ E_t[ max((V_φ(s_t) − R_t)², (V_old + clip(V_φ − V_old, −ε, ε) − R_t)²) ]`,
//!
//! and the loss minimised is `−L^CLIP + c_v L^V − c_H E_t[H[π_θ(·|s_t)]]`. Diagnostics: the
//! approximate KL `E[(ρ − 1) − ln ρ]` (Schulman's unbiased, non-negative estimator), the clip
//! fraction `E[|ρ − 1| > ε]`, and the value function's explained variance
//! `1 − Var[R − V] / Var[R]`.
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

use autograd::{Tape, Tensor, Var};
use ndarray::{Array1, Array2, Axis};
use nn::optim::{Adam, AdamConfig, Optimizer, clip_grad_norm};
use nn::{Activation, ParamGradients, ParamStore};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::advantage::{Trajectory, gae};
use crate::env::{VectorEnv, make};
use crate::normalize::{RewardScaler, RunningMeanStd};
use crate::policy::{Actions, ActorCritic, NetworkConfig, observations_var, select_rows};
use crate::reinforce::check_finite;
use crate::rollout::{Decision, Rollout};
use crate::snapshot::{Clock, Iteration, TrainerRng, TrainingState};
use crate::train::{
    IterationMetrics, TrainError, Trained, explained_variance, flatten_actions, mean_of_last,
    vector,
};

/// PPO's hyperparameters. Defaults are CleanRL's `ppo.py`; [`PpoConfig::for_env`] gives tuned
/// settings per environment (from the RL Baselines3 Zoo where they exist).
#[derive(Clone, Debug, PartialEq)]
pub struct PpoConfig {
    /// Environment steps to train for (over all environments).
    pub total_timesteps: usize,
    /// `N`: parallel environments.
    pub num_envs: usize,
    /// `T`: steps per environment per rollout.
    pub num_steps: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0.
    pub anneal_lr: bool,
    /// `γ`.
    pub gamma: f64,
    /// `λ` of GAE.
    pub gae_lambda: f64,
    /// Minibatches per epoch.
    pub num_minibatches: usize,
    /// `K`: epochs per rollout.
    pub update_epochs: usize,
    /// Normalise advantages per minibatch.
    pub norm_adv: bool,
    /// `ε` of the clipped surrogate.
    pub clip_coef: f64,
    /// Clip the value loss around the old values.
    pub clip_vloss: bool,
    /// `c_H`: entropy bonus.
    pub ent_coef: f64,
    /// `c_v`: value loss coefficient.
    pub vf_coef: f64,
    /// Maximum global gradient norm.
    pub max_grad_norm: f64,
    /// Stop an update's epochs early when the approximate KL exceeds this.
    pub target_kl: Option<f64>,
    /// Normalise observations by running mean and std.
    pub normalize_observations: bool,
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
    /// Threads stepping the environments (1: step them on the learner's thread).
    pub env_threads: usize,
}

impl Default for PpoConfig {
    fn default() -> Self {
        PpoConfig {
            total_timesteps: 500_000,
            num_envs: 4,
            num_steps: 128,
            learning_rate: 2.5e-4,
            anneal_lr: true,
            gamma: 0.99,
            gae_lambda: 0.95,
            num_minibatches: 4,
            update_epochs: 4,
            norm_adv: true,
            clip_coef: 0.2,
            clip_vloss: true,
            ent_coef: 0.01,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            target_kl: None,
            normalize_observations: false,
            normalize_rewards: false,
            hidden: vec![64, 64],
            activation: Activation::Tanh,
            log_std_init: 0.0,
            seed: 1,
            env_threads: 1,
        }
    }
}

impl PpoConfig {
    /// Tuned settings for a Gymnasium id (the defaults for an unknown one).
    ///
    /// ```
    /// use wengert_rl::ppo::PpoConfig;
    /// let cartpole = PpoConfig::for_env("CartPole-v1");
    /// assert_eq!((cartpole.total_timesteps, cartpole.update_epochs), (100_000, 20));
    /// // Stable-Baselines3 does not clip the value loss, and the zoo tuned it that way.
    /// assert!(!cartpole.clip_vloss);
    /// let acrobot = PpoConfig::for_env("Acrobot-v1");
    /// assert!(acrobot.normalize_observations && acrobot.normalize_rewards);
    /// ```
    pub fn for_env(id: &str) -> Self {
        let base = PpoConfig::default();
        match id {
            // rl-baselines3-zoo hyperparams/ppo.yml, CartPole-v1, with Stable-Baselines3's
            // defaults for what the file leaves out — in particular no value clipping
            // (`clip_range_vf = None`): clipping V to ±0.2 of V_old per update holds the critic
            // back on returns of up to ~50, and seed 4 stalled at 189 with it. The zoo also
            // anneals the clip range (`lin_0.2`); here ε stays 0.2.
            "CartPole-v1" => PpoConfig {
                total_timesteps: 100_000,
                num_envs: 8,
                num_steps: 32,
                learning_rate: 1e-3,
                gamma: 0.98,
                gae_lambda: 0.8,
                num_minibatches: 1,
                update_epochs: 20,
                ent_coef: 0.0,
                clip_vloss: false,
                ..base
            },
            // rl-baselines3-zoo hyperparams/ppo.yml, Acrobot-v1: `normalize: true` is
            // VecNormalize, observations and rewards; no value clipping (SB3's default)
            "Acrobot-v1" => PpoConfig {
                total_timesteps: 500_000,
                num_envs: 16,
                num_steps: 256,
                gamma: 0.99,
                gae_lambda: 0.94,
                update_epochs: 4,
                ent_coef: 0.0,
                clip_vloss: false,
                normalize_observations: true,
                normalize_rewards: true,
                ..base
            },
            // rl-baselines3-zoo hyperparams/ppo.yml, Pendulum-v1, without its state-dependent
            // exploration (gSDE), which this crate does not have; SB3's minibatch of 64 and
            // no value clipping; the learning rate is annealed (the zoo keeps it constant).
            // Plain Gaussian noise with ln σ = 0 still reaches about −170 in 200k steps on
            // seeds 1–5.
            "Pendulum-v1" => PpoConfig {
                total_timesteps: 200_000,
                num_envs: 4,
                num_steps: 1024,
                learning_rate: 1e-3,
                gamma: 0.9,
                gae_lambda: 0.95,
                num_minibatches: 64,
                update_epochs: 10,
                ent_coef: 0.0,
                clip_vloss: false,
                normalize_observations: false,
                log_std_init: 0.0,
                ..base
            },
            _ => base,
        }
    }

    /// The names [`PpoConfig::set`] accepts.
    pub const KEYS: [&'static str; 23] = [
        "total_timesteps",
        "num_envs",
        "num_steps",
        "learning_rate",
        "anneal_lr",
        "gamma",
        "gae_lambda",
        "num_minibatches",
        "update_epochs",
        "norm_adv",
        "clip_coef",
        "clip_vloss",
        "ent_coef",
        "vf_coef",
        "max_grad_norm",
        "target_kl",
        "normalize_observations",
        "normalize_rewards",
        "hidden",
        "activation",
        "log_std_init",
        "seed",
        "env_threads",
    ];

    /// Sets one hyperparameter from text (`--set key=value`); an unknown key or a bad value is
    /// an error that names what is valid.
    ///
    /// ```
    /// use wengert_rl::ppo::PpoConfig;
    /// let mut config = PpoConfig::default();
    /// config.set("hidden", "32,32").unwrap();
    /// assert_eq!(config.hidden, vec![32, 32]);
    /// assert!(config.set("gama", "0.9").unwrap_err().contains("gamma"));
    /// assert!(config.set("gamma", "high").unwrap_err().contains("number"));
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
            "num_steps" => self.num_steps = parse(key, value, count)?,
            "learning_rate" => self.learning_rate = parse(key, value, number)?,
            "anneal_lr" => self.anneal_lr = parse(key, value, flag)?,
            "gamma" => self.gamma = parse(key, value, number)?,
            "gae_lambda" => self.gae_lambda = parse(key, value, number)?,
            "num_minibatches" => self.num_minibatches = parse(key, value, count)?,
            "update_epochs" => self.update_epochs = parse(key, value, count)?,
            "norm_adv" => self.norm_adv = parse(key, value, flag)?,
            "clip_coef" => self.clip_coef = parse(key, value, number)?,
            "clip_vloss" => self.clip_vloss = parse(key, value, flag)?,
            "ent_coef" => self.ent_coef = parse(key, value, number)?,
            "vf_coef" => self.vf_coef = parse(key, value, number)?,
            "max_grad_norm" => self.max_grad_norm = parse(key, value, number)?,
            "target_kl" => {
                self.target_kl = match value.trim() {
                    "none" | "" => None,
                    v => Some(parse(key, v, "a number or none")?),
                }
            }
            "normalize_observations" => self.normalize_observations = parse(key, value, flag)?,
            "normalize_rewards" => self.normalize_rewards = parse(key, value, flag)?,
            "hidden" => {
                self.hidden = value
                    .split(',')
                    .map(|v| parse(key, v, "comma-separated layer sizes, e.g. 64,64"))
                    .collect::<Result<_, _>>()?
            }
            "activation" => {
                self.activation = match value.trim() {
                    "tanh" => Activation::Tanh,
                    "relu" => Activation::Relu,
                    other => {
                        return Err(format!(
                            "`activation` expects tanh or relu, found `{other}`"
                        ));
                    }
                }
            }
            "log_std_init" => self.log_std_init = parse(key, value, number)?,
            "seed" => self.seed = parse(key, value, count)?,
            "env_threads" => self.env_threads = parse(key, value, count)?,
            _ => {
                let valid = Self::KEYS.join(", ");
                return Err(format!(
                    "unknown PPO setting `{key}`; valid settings: {valid}"
                ));
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), TrainError> {
        let batch = self.num_envs * self.num_steps;
        if self.num_envs == 0 || self.num_steps == 0 || self.num_minibatches == 0 {
            return Err(TrainError::Config(
                "num_envs, num_steps and num_minibatches must be positive".into(),
            ));
        }
        if batch % self.num_minibatches != 0 {
            return Err(TrainError::Config(format!(
                "the batch of num_envs × num_steps = {batch} does not split into {} minibatches",
                self.num_minibatches
            )));
        }
        Ok(())
    }
}

/// Trains a PPO agent on the Gymnasium environment `env_id`, calling `on_iteration` after
/// every update (return `false` from it to stop early).
///
/// ```no_run
/// use wengert_rl::ppo::{PpoConfig, train};
/// let trained = train("CartPole-v1", &PpoConfig::for_env("CartPole-v1"), |m| {
///     println!("{} steps: return {:?}", m.env_steps, m.mean_return);
///     true
/// }).unwrap();
/// ```
pub fn train(
    env_id: &str,
    config: &PpoConfig,
    mut on_iteration: impl FnMut(&IterationMetrics) -> bool,
) -> Result<Trained, TrainError> {
    train_from(env_id, config, None, |i| on_iteration(i.metrics))
}

/// [`train`], continuing from a saved training state when `resume` is given (see
/// [`crate::snapshot`]); `on_iteration` can take a snapshot after every update.
pub fn train_from(
    env_id: &str,
    config: &PpoConfig,
    resume: Option<&TrainingState>,
    mut on_iteration: impl FnMut(&Iteration<'_>) -> bool,
) -> Result<Trained, TrainError> {
    config.check()?;
    let envs: Vec<_> = (0..config.num_envs)
        .map(|_| make(env_id))
        .collect::<Result<_, _>>()?;
    let mut envs = VectorEnv::new(envs, config.env_threads)?;
    let observation_dim = envs.single_observation_space().dim();
    let action_space = envs.single_action_space().clone();
    let mut rng = TrainerRng::seed_from_u64(config.seed);
    let mut store = ParamStore::<f32>::new();
    let network = NetworkConfig {
        hidden: config.hidden.clone(),
        activation: config.activation,
        log_std_init: config.log_std_init,
    };
    let agent = ActorCritic::new(
        &mut store,
        observation_dim,
        &action_space,
        &network,
        &mut rng,
    );
    let mut optimizer = Adam::new(
        store.trainable(),
        AdamConfig {
            lr: config.learning_rate as f32,
            eps: 1e-5,
            ..AdamConfig::default()
        },
    );

    let mut observation_stats = config
        .normalize_observations
        .then(|| RunningMeanStd::new(observation_dim));
    let mut reward_scaler = config
        .normalize_rewards
        .then(|| RewardScaler::new(config.num_envs, config.gamma));

    let batch_size = config.num_envs * config.num_steps;
    let num_iterations = config.total_timesteps / batch_size;
    let mut clock = Clock::start();
    let mut raw_observations = envs.reset(Some(config.seed));
    let mut recent_returns: Vec<f64> = Vec::new();
    let mut history = Vec::with_capacity(num_iterations);
    let mut env_steps = 0;
    let mut first_iteration = 1;
    if let Some(state) = resume {
        state.check("ppo", env_id, config)?;
        state.load_params("agent", &store)?;
        state.load_optimizer("optimizer", &mut optimizer, &store)?;
        state.load("rng", &mut rng)?;
        state.load("envs", &mut envs)?;
        state.load("observation_stats", &mut observation_stats)?;
        state.load("reward_scaler", &mut reward_scaler)?;
        state.load("recent_returns", &mut recent_returns)?;
        raw_observations = envs.observations();
        (first_iteration, env_steps) = (state.iteration + 1, state.env_steps);
        clock = Clock::resume_at(state.wall_time);
    }

    for iteration in first_iteration..=num_iterations {
        if config.anneal_lr {
            let fraction = 1.0 - (iteration - 1) as f64 / num_iterations as f64;
            optimizer.set_lr(0, (fraction * config.learning_rate) as f32);
        }

        // ---- collect a rollout with π_θ_old ----
        let params = store.constants();
        let rollout = Rollout::collect(
            &mut envs,
            config.num_steps,
            &mut raw_observations,
            &mut observation_stats,
            reward_scaler.as_mut(),
            |s| {
                let pi = agent.policy(&params, s);
                let actions = pi.sample(&mut rng);
                let log_prob = pi.log_prob(&actions);
                Decision {
                    actions,
                    log_prob: Some(log_prob),
                }
            },
            |s| agent.value(&params, s),
        )?;
        env_steps += config.num_steps * config.num_envs;
        recent_returns.extend(&rollout.episode_returns);

        // ---- advantages and returns ----
        let (advantages, returns) = gae(
            &Trajectory {
                rewards: &rollout.rewards,
                values: &rollout.values,
                next_values: &rollout.next_values,
                terminated: &rollout.terminated,
                done: &rollout.done,
            },
            config.gamma,
            config.gae_lambda,
        );

        // ---- flatten the batch: sample k = t·N + i ----
        let views: Vec<_> = rollout.observations.iter().map(|o| o.view()).collect();
        let flat = |a: &Array2<f64>| Array1::from_iter(a.iter().copied());
        let batch = Batch {
            observations: ndarray::concatenate(Axis(0), &views).expect("equal widths"),
            actions: flatten_actions(&rollout.actions),
            log_probs: flat(&rollout.log_probs),
            values: flat(&rollout.values),
            advantages: flat(&advantages),
            returns: flat(&returns),
        };

        // ---- K epochs of minibatch updates ----
        let stats = update(
            config,
            &agent,
            &store,
            &mut optimizer,
            &mut rng,
            &batch,
            iteration,
        )?;

        let metrics = IterationMetrics {
            iteration,
            env_steps,
            wall_time: clock.seconds(),
            mean_return: mean_of_last(&recent_returns, 20),
            episodes: recent_returns.len(),
            losses: vec![
                ("policy_loss", stats.mean(|s| s.policy_loss)),
                ("value_loss", stats.mean(|s| s.value_loss)),
                ("entropy", stats.mean(|s| s.entropy)),
                ("approx_kl", stats.mean(|s| s.approx_kl)),
                ("clip_fraction", stats.mean(|s| s.clip_fraction)),
                (
                    "explained_variance",
                    explained_variance(&batch.values, &batch.returns),
                ),
                ("learning_rate", optimizer.lr(0) as f64),
            ],
        };
        history.push(metrics.clone());
        let snapshot = || {
            let mut state = TrainingState::new("ppo", env_id, &format!("{config:#?}"));
            state.save_params("agent", &store);
            state.save_optimizer("optimizer", &optimizer, &store);
            state.save("rng", &rng);
            state.save("envs", &envs);
            state.save("observation_stats", &observation_stats);
            state.save("reward_scaler", &reward_scaler);
            state.save("recent_returns", &recent_returns);
            state
        };
        if !on_iteration(&Iteration::new(&metrics, &snapshot)) {
            break;
        }
    }
    Ok(Trained {
        env_id: env_id.to_string(),
        store,
        agent,
        observation_stats,
        history,
    })
}

/// The flattened rollout, sample `k = t·N + i`.
struct Batch {
    observations: Array2<f32>,
    actions: Actions,
    log_probs: Array1<f64>,
    values: Array1<f64>,
    advantages: Array1<f64>,
    returns: Array1<f64>,
}

/// `K` epochs of minibatch steps on one batch. Each step differentiates the actor's terms of
/// the loss on this thread and the critic's on a helper thread that lives as long as the
/// update; the two hand work to each other through [`Mailbox`]es. While this thread finishes a
/// step (the actor's gradient, clipping, Adam), the helper gathers the next minibatch, so that
/// this thread — the slower of the two — only differentiates and steps.
fn update(
    config: &PpoConfig,
    agent: &ActorCritic,
    store: &ParamStore<f32>,
    optimizer: &mut Adam<f32>,
    rng: &mut TrainerRng,
    batch: &Batch,
    iteration: usize,
) -> Result<UpdateStats, TrainError> {
    let epsilon = config.clip_coef as f32;
    // c_v L^V, the critic's terms, and their gradient.
    let value_terms = |job: &ValueJob| -> ValueTerms {
        let tape = Tape::new();
        let params = store.bind_under(&tape, ActorCritic::CRITIC);
        let value = agent.value(&params, &job.s);
        let target = vector(&job.value_target);
        let value_loss = if config.clip_vloss {
            let old = vector(&job.value_old);
            let value_clipped = &old + &(&value - &old).clamp(-epsilon, epsilon);
            (&value - &target)
                .powi(2)
                .maximum(&(&value_clipped - &target).powi(2))
                .mean_all()
                * 0.5
        } else {
            (&value - &target).powi(2).mean_all() * 0.5
        };
        let loss = &value_loss * config.vf_coef as f32;
        check_finite(&loss, "PPO value loss", iteration, &tape)?;
        Ok((params.gradients(&loss), value_loss.item() as f64))
    };
    // The epochs' shuffles are drawn ahead, on a copy of the generator, so the helper can
    // gather minibatches before this thread asks for them; `rng` itself is advanced by the
    // epochs actually run (fewer when the KL target stops the update early), as if each epoch
    // had shuffled it in turn.
    let mut ahead = TrainerRng::deserialize_state(&rng.serialize_state());
    let schedule = Schedule::new(batch.advantages.len(), config, &mut ahead);
    let (requests, inputs, replies) =
        (Mailbox::<Option<()>>::new(), Mailbox::new(), Mailbox::new());
    let stats = std::thread::scope(|scope| {
        scope.spawn(|| {
            let gather = |k: usize| {
                catch_unwind(AssertUnwindSafe(|| {
                    Minibatch::gather(config, batch, schedule.minibatch(k))
                }))
            };
            let mut next = gather(0);
            for k in 0.. {
                if requests.receive().is_none() {
                    break;
                }
                // A panic is handed to the actor's thread, which spins waiting for the reply.
                let (policy_job, value_job) = match next {
                    Ok(minibatch) => (Ok(minibatch.policy), minibatch.value),
                    Err(panic) => {
                        inputs.send(Err(panic));
                        break;
                    }
                };
                inputs.send(policy_job);
                replies.send(catch_unwind(AssertUnwindSafe(|| value_terms(&value_job))));
                if k + 1 == schedule.len() {
                    break;
                }
                next = gather(k + 1);
            }
        });
        // Stops the critic's thread however the steps end, a panic included.
        let _stop = Stop(&requests);
        let critic = Critic {
            requests: &requests,
            inputs: &inputs,
            replies: &replies,
        };
        minibatch_steps(
            config, agent, store, optimizer, &schedule, iteration, critic,
        )
    })?;
    let mut indices: Vec<usize> = (0..batch.advantages.len()).collect();
    for _ in 0..stats.epochs {
        indices.shuffle(rng);
    }
    Ok(stats)
}

/// The minibatches of an update, in order: epoch after epoch, the chunks of that epoch's
/// shuffle of the sample indices (each epoch shuffles the previous epoch's order).
struct Schedule {
    epochs: Vec<Vec<usize>>,
    minibatch_size: usize,
    per_epoch: usize,
}

impl Schedule {
    fn new(samples: usize, config: &PpoConfig, rng: &mut TrainerRng) -> Self {
        let mut indices: Vec<usize> = (0..samples).collect();
        let epochs = (0..config.update_epochs)
            .map(|_| {
                indices.shuffle(rng);
                indices.clone()
            })
            .collect();
        let minibatch_size = samples / config.num_minibatches;
        Schedule {
            epochs,
            minibatch_size,
            per_epoch: samples.div_ceil(minibatch_size),
        }
    }

    /// The number of minibatches in all epochs.
    fn len(&self) -> usize {
        self.epochs.len() * self.per_epoch
    }

    /// The sample indices of minibatch `k` (of all epochs).
    fn minibatch(&self, k: usize) -> &[usize] {
        let (epoch, chunk) = (k / self.per_epoch, k % self.per_epoch);
        let start = chunk * self.minibatch_size;
        let indices = &self.epochs[epoch];
        &indices[start..(start + self.minibatch_size).min(indices.len())]
    }
}

/// Asks the critic's thread to stop when dropped.
struct Stop<'a>(&'a Mailbox<Option<()>>);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.send(None);
    }
}

/// The minibatch steps of [`update`], with each minibatch's inputs and the critic's terms from
/// `critic`.
fn minibatch_steps(
    config: &PpoConfig,
    agent: &ActorCritic,
    store: &ParamStore<f32>,
    optimizer: &mut Adam<f32>,
    schedule: &Schedule,
    iteration: usize,
    critic: Critic<'_>,
) -> Result<UpdateStats, TrainError> {
    let mut stats = UpdateStats::default();
    let epsilon = config.clip_coef as f32;
    'epochs: for epoch in 0..config.update_epochs {
        stats.epochs = epoch + 1;
        for _ in 0..schedule.per_epoch {
            // −L^CLIP − c_H H touches only the actor and c_v L^V only the critic, so the
            // two gradients are taken on separate tapes, one per core; together they are
            // the gradient of the whole loss, bit for bit. The parameters are up to date, so
            // the critic's thread hands over this minibatch and starts on its terms.
            critic.requests.send(Some(()));
            let job = match critic.inputs.receive() {
                Ok(job) => job,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            let actor = {
                let tape = Tape::new();
                let params = store.bind_under(&tape, ActorCritic::ACTOR);
                let pi = agent.policy(&params, &job.s);
                let log_prob = pi.log_prob(&job.actions);
                let entropy = pi.entropy().mean_all();
                let log_ratio = &log_prob - &vector(&job.log_prob_old);
                let ratio = log_ratio.exp();

                let advantage = vector(&job.advantage);
                let surrogate = &ratio * &advantage;
                let clipped = ratio.clamp(1.0 - epsilon, 1.0 + epsilon) * &advantage;
                let policy_loss = -surrogate.minimum(&clipped).mean_all();
                let loss = &policy_loss - &(&entropy * config.ent_coef as f32);
                check_finite(&loss, "PPO policy loss", iteration, &tape)?;
                PolicyTerms {
                    gradients: params.gradients(&loss),
                    policy_loss: policy_loss.item() as f64,
                    entropy: entropy.item() as f64,
                    log_ratio: log_ratio.value().iter().map(|&v| v as f64).collect(),
                }
            };
            let (critic_gradients, value_loss) = match critic.replies.receive() {
                Ok(terms) => terms?,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            let mut grads = actor.gradients;
            grads.accumulate(&critic_gradients);
            clip_grad_norm(&mut grads, config.max_grad_norm as f32);
            optimizer.step(store, &grads);

            stats.record(
                &actor.log_ratio,
                config.clip_coef,
                actor.policy_loss,
                value_loss,
                actor.entropy,
            );
        }
        if let Some(target_kl) = config.target_kl {
            if stats.last_approx_kl > target_kl {
                break 'epochs;
            }
        }
    }
    Ok(stats)
}

/// One minibatch gathered from the batch: the actor's inputs and the critic's.
struct Minibatch {
    policy: PolicyJob,
    value: ValueJob,
}

impl Minibatch {
    /// Samples `indices` of `batch`, with the advantages normalised within the minibatch if
    /// the config says so.
    fn gather(config: &PpoConfig, batch: &Batch, indices: &[usize]) -> Self {
        let s = observations_var::<f32>(&select_rows(&batch.observations, indices));
        let pick = |a: &Array1<f64>| Array1::from_iter(indices.iter().map(|&k| a[k]));
        let mut advantage = pick(&batch.advantages);
        if config.norm_adv && advantage.len() > 1 {
            let mean = advantage.mean().unwrap();
            let std = advantage.std(1.0);
            advantage.mapv_inplace(|a| (a - mean) / (std + 1e-8));
        }
        Minibatch {
            policy: PolicyJob {
                s: s.clone(),
                actions: batch.actions.select(indices),
                log_prob_old: pick(&batch.log_probs),
                advantage,
            },
            value: ValueJob {
                s,
                value_old: pick(&batch.values),
                value_target: pick(&batch.returns),
            },
        }
    }
}

/// What the actor's thread needs for one minibatch: `s`, `a`, `ln π_old(a|s)` and `Â`.
struct PolicyJob {
    s: Var<f32>,
    actions: Actions,
    log_prob_old: Array1<f64>,
    advantage: Array1<f64>,
}

/// What the critic's thread needs for one minibatch: `s`, `V_old` and the targets `R`.
struct ValueJob {
    s: Var<f32>,
    value_old: Array1<f64>,
    value_target: Array1<f64>,
}

/// The critic's reply: the gradient of `c_v L^V` and `L^V`.
type ValueTerms = Result<(ParamGradients<f32>, f64), TrainError>;

/// The actor's side of the three mailboxes to the critic's thread: "the parameters are up to
/// date, go on", the minibatch's inputs back, then the critic's terms.
#[derive(Clone, Copy)]
struct Critic<'a> {
    requests: &'a Mailbox<Option<()>>,
    inputs: &'a Mailbox<std::thread::Result<PolicyJob>>,
    replies: &'a Mailbox<std::thread::Result<ValueTerms>>,
}

/// A one-slot mailbox between two threads that wait for each other by spinning and yielding
/// rather than sleeping: an update hands work across about every 250 µs, and waking a sleeping
/// thread (a futex wake, then the scheduler) costs tens of microseconds on a virtual machine.
/// The two threads take turns, so a value is always received before the next is sent.
///
/// A receiver spins for up to 200 µs — longer than the other thread's turn usually lasts, so
/// that it keeps its core rather than yielding it to another process on a busy machine — and
/// then yields between checks. With one core the other thread can only run when this one gives
/// way, so there it yields at once.
struct Mailbox<T> {
    full: AtomicBool,
    slot: Mutex<Option<T>>,
    spin: std::time::Duration,
}

impl<T> Mailbox<T> {
    fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Mailbox {
            full: AtomicBool::new(false),
            slot: Mutex::new(None),
            spin: std::time::Duration::from_micros(if cores > 1 { 200 } else { 0 }),
        }
    }

    fn send(&self, value: T) {
        *self.slot.lock().expect("no panic while holding the slot") = Some(value);
        self.full.store(true, Ordering::Release);
    }

    fn receive(&self) -> T {
        // Spin for up to `self.spin`, then yield between checks.
        let start = std::time::Instant::now();
        let mut spins = 0u32;
        while !(self.full.load(Ordering::Acquire) && self.full.swap(false, Ordering::Acquire)) {
            spins = spins.wrapping_add(1);
            if spins % 64 != 0 || start.elapsed() < self.spin {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        let value = self
            .slot
            .lock()
            .expect("no panic while holding the slot")
            .take();
        value.expect("a full mailbox holds a value")
    }
}

/// The actor's share of a minibatch update: the gradient of `−L^CLIP − c_H H` and the
/// diagnostics.
struct PolicyTerms {
    gradients: ParamGradients<f32>,
    policy_loss: f64,
    entropy: f64,
    log_ratio: Vec<f64>,
}

#[derive(Default)]
struct MinibatchStats {
    policy_loss: f64,
    value_loss: f64,
    entropy: f64,
    approx_kl: f64,
    clip_fraction: f64,
}

#[derive(Default)]
struct UpdateStats {
    minibatches: Vec<MinibatchStats>,
    last_approx_kl: f64,
    /// The epochs run (fewer than `update_epochs` if the KL target stopped the update).
    epochs: usize,
}

impl UpdateStats {
    fn record(
        &mut self,
        log_ratio: &[f64],
        clip: f64,
        policy_loss: f64,
        value_loss: f64,
        entropy: f64,
    ) {
        let n = log_ratio.len() as f64;
        let approx_kl = log_ratio.iter().map(|&l| l.exp() - 1.0 - l).sum::<f64>() / n;
        let clip_fraction = log_ratio
            .iter()
            .filter(|&&l| (l.exp() - 1.0).abs() > clip)
            .count() as f64
            / n;
        self.last_approx_kl = approx_kl;
        self.minibatches.push(MinibatchStats {
            policy_loss,
            value_loss,
            entropy,
            approx_kl,
            clip_fraction,
        });
    }

    fn mean(&self, f: impl Fn(&MinibatchStats) -> f64) -> f64 {
        self.minibatches.iter().map(f).sum::<f64>() / self.minibatches.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{BoxSpace, Space};

    /// Values cross between two threads in order, each received once, as the update's
    /// request-and-reply turns use the mailboxes.
    #[test]
    fn mailboxes_hand_values_across_threads_in_turn() {
        let (requests, replies) = (Mailbox::new(), Mailbox::new());
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while let Some(k) = requests.receive() {
                    replies.send(2 * k + 1);
                }
            });
            for k in 0..10_000u64 {
                requests.send(Some(k));
                assert_eq!(replies.receive(), 2 * k + 1);
            }
            requests.send(None);
        });
    }

    /// The schedule drawn ahead lists, minibatch by minibatch, the chunks that shuffling the
    /// indices at the start of each epoch gives — a short last chunk included.
    #[test]
    fn the_schedule_is_the_epochs_shuffles_in_chunks() {
        let config = PpoConfig {
            update_epochs: 3,
            num_minibatches: 3,
            ..PpoConfig::default()
        };
        let schedule = Schedule::new(10, &config, &mut TrainerRng::seed_from_u64(5));
        let mut rng = TrainerRng::seed_from_u64(5);
        let mut indices: Vec<usize> = (0..10).collect();
        let mut expected = Vec::new();
        for _ in 0..3 {
            indices.shuffle(&mut rng);
            expected.extend(indices.chunks(10 / 3).map(|chunk| chunk.to_vec()));
        }
        assert_eq!(schedule.len(), 12);
        let listed: Vec<Vec<usize>> = (0..12).map(|k| schedule.minibatch(k).to_vec()).collect();
        assert_eq!(listed, expected);
    }

    /// After an update the generator has made exactly the epochs' shuffles: all of them, or
    /// only the first when the KL target stops the update after one epoch.
    #[test]
    fn an_update_advances_the_generator_by_the_epochs_it_ran() {
        let mut store = ParamStore::<f32>::new();
        let mut init = TrainerRng::seed_from_u64(0);
        let space = Space::Discrete { n: 2 };
        let agent = ActorCritic::new(&mut store, 4, &space, &NetworkConfig::default(), &mut init);
        let n = 16;
        let column = |f: fn(usize) -> f64| Array1::from_iter((0..n).map(f));
        let batch = Batch {
            observations: Array2::from_shape_fn((n, 4), |(k, j)| ((k * 4 + j) as f32).sin()),
            actions: Actions::Discrete((0..n).map(|k| k % 2).collect()),
            log_probs: column(|_| -0.69),
            values: column(|k| k as f64 * 0.1),
            advantages: column(|k| (k as f64).cos()),
            returns: column(|k| k as f64 * 0.2),
        };
        for (target_kl, epochs) in [(None, 5), (Some(-1.0), 1)] {
            let config = PpoConfig {
                update_epochs: 5,
                num_minibatches: 2,
                target_kl,
                ..PpoConfig::default()
            };
            let mut optimizer = Adam::new(store.trainable(), AdamConfig::default());
            let mut rng = TrainerRng::seed_from_u64(9);
            let stats = update(&config, &agent, &store, &mut optimizer, &mut rng, &batch, 1)
                .expect("finite losses");
            assert_eq!(
                (stats.epochs, stats.minibatches.len()),
                (epochs, 2 * epochs)
            );
            let mut expected = TrainerRng::seed_from_u64(9);
            let mut indices: Vec<usize> = (0..n).collect();
            for _ in 0..epochs {
                indices.shuffle(&mut expected);
            }
            assert_eq!(rng.serialize_state(), expected.serialize_state());
        }
    }

    /// The two-thread update trains exactly what one tape would: every trainable parameter of
    /// the actor-critic is under the actor's path or the critic's, and none is under both.
    #[test]
    fn the_actor_and_critic_paths_split_every_parameter() {
        let spaces = [
            Space::Discrete { n: 3 },
            Space::Box(BoxSpace::new(vec![-1.0, -2.0], vec![1.0, 2.0])),
        ];
        for space in spaces {
            let mut store = ParamStore::<f32>::new();
            let mut rng = TrainerRng::seed_from_u64(0);
            ActorCritic::new(&mut store, 4, &space, &NetworkConfig::default(), &mut rng);
            let tape = Tape::new();
            let actor = store.bind_under(&tape, ActorCritic::ACTOR);
            let critic = store.bind_under(&tape, ActorCritic::CRITIC);
            for id in store.trainable() {
                assert!(
                    actor[id].is_tracked() != critic[id].is_tracked(),
                    "{} is under {} of the two paths",
                    store.name(id),
                    if actor[id].is_tracked() {
                        "both"
                    } else {
                        "neither"
                    }
                );
            }
        }
    }
}
