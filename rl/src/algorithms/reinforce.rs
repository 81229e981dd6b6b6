//! # REINFORCE with reward-to-go and a learned baseline ("vanilla policy gradient")
//!
//! ## Background
//! The simplest policy-gradient method (Williams, 1992; Spinning Up's VPG): sample
//! trajectories with the current stochastic policy `π_θ`, and move `θ` along an unbiased Monte
//! Carlo estimate of the gradient of the expected return. Two classical refinements cut the
//! estimator's variance without biasing it: weight each action only by the rewards that came
//! after it (reward-to-go), and subtract a state-dependent baseline, here a value function
//! `V_φ(s)` refitted by regression after every batch.
//!
//! ## Key equations
//! The **score-function** (likelihood-ratio) estimator: since `∇θ p_θ(τ) = p_θ(τ) ∇θ ln p_θ(τ)`
//! and the dynamics do not depend on `θ`,
//!
//! `∇θ J(θ) = ∇θ E_τ~π_θ[R(τ)] = E_τ[ Σ_t ∇θ ln π_θ(a_t|s_t) Â_t ]`,
//!
//! which holds for any weight `Â_t` of the form
//!
//! * `R(τ)`, the whole return (the original REINFORCE);
//! * the discounted **reward-to-go** `R̂_t = Σ_{k ≥ t} γ^{k−t} r_k` — rewards before `t` cannot
//!   depend on `a_t`, so dropping them removes noise and no signal;
//! * `R̂_t − b(s_t)` for any **baseline** `b` that does not depend on `a_t`, because
//!   `E_{a~π}[∇θ ln π_θ(a|s) b(s)] = b(s) ∇θ Σ_a π_θ(a|s) = b(s) ∇θ 1 = 0`.
//!
//! With `b = V_φ`, `Â_t = R̂_t − V_φ(s_t)` is the Monte Carlo advantage `Â^{(∞)}` of
//! [`crate::advantage`]. The policy takes one ascent step on the surrogate
//! `L(θ) = (1/|D|) Σ_t ln π_θ(a_t|s_t) Â_t`, whose gradient is the estimator above, and the
//! baseline is refitted by `K` steps of regression on `(1/|D|) Σ_t (V_φ(s_t) − R̂_t)²`.
//!
//! A batch is a rollout of `T` steps of `N` environments ([`crate::rollout`]), so episodes are
//! cut at its end. As in Spinning Up,
//! a cut episode's reward-to-go is bootstrapped with `V_φ(s_T)`, and so is one truncated by the
//! time limit (with `V_φ` of the final observation); a terminated one is not.
//!
//! ## Pseudocode
//! ```text
//! for iteration = 1, 2, …:
//!     run π_θ in N environments for T steps; store s_t, a_t, r_t, V_φ(s_t), flags
//!     compute the reward-to-go R̂_t, bootstrapping cut and truncated episodes with V_φ
//!     Â_t = R̂_t − V_φ(s_t)   (or R̂_t without the baseline); normalise Â (option)
//!     θ ← θ + α_θ Adam(∇θ (1/|D|) Σ_t ln π_θ(a_t|s_t) Â_t + c_H ∇θ H[π_θ])     one step
//!     for k = 1 … K:
//!         φ ← φ − α_φ Adam(∇φ (1/|D|) Σ_t (V_φ(s_t) − R̂_t)²)                    refit the baseline
//! ```

use autograd::{Tape, Tensor, Var, no_grad};
use ndarray::{Array1, Array2, Axis, Zip};
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{Activation, ParamStore};
use rand::SeedableRng;

use crate::advantage::reward_to_go;
use crate::env::{VectorEnv, make};
use crate::normalize::RunningMeanStd;
use crate::policy::{ActorCritic, NetworkConfig, observations_var, to_f64};
use crate::rollout::{Decision, Rollout};
use crate::snapshot::{Clock, Iteration, TrainerRng, TrainingState};
use crate::train::{
    IterationMetrics, TrainError, Trained, explained_variance, flatten_actions, mean_of_last,
    vector,
};

/// REINFORCE's hyperparameters. Defaults follow Spinning Up's VPG (Adam, `α_θ = 3·10⁻⁴`,
/// `α_φ = 10⁻³`, 80 baseline steps, normalised advantages) with CleanRL's networks;
/// [`ReinforceConfig::for_env`] gives tuned settings per environment.
#[derive(Clone, Debug, PartialEq)]
pub struct ReinforceConfig {
    /// Environment steps to train for (over all environments).
    pub total_timesteps: usize,
    /// `N`: parallel environments.
    pub num_envs: usize,
    /// `T`: steps per environment per batch.
    pub num_steps: usize,
    /// `α_θ`: Adam's learning rate for the policy.
    pub policy_learning_rate: f64,
    /// `α_φ`: Adam's learning rate for the baseline `V_φ`.
    pub value_learning_rate: f64,
    /// `K`: full-batch regression steps on the baseline per iteration.
    pub value_iterations: usize,
    /// `γ`.
    pub gamma: f64,
    /// Subtract the baseline `V_φ(s_t)` from the reward-to-go (it is fitted either way, to
    /// bootstrap cut episodes).
    pub baseline: bool,
    /// Normalise the advantages of each batch to mean 0 and standard deviation 1.
    pub norm_adv: bool,
    /// `c_H`: entropy bonus (0 for plain REINFORCE).
    pub ent_coef: f64,
    /// Normalise observations by running mean and std.
    pub normalize_observations: bool,
    /// Hidden layer sizes of the policy and of the baseline.
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

impl Default for ReinforceConfig {
    fn default() -> Self {
        ReinforceConfig {
            total_timesteps: 500_000,
            num_envs: 4,
            num_steps: 1000,
            policy_learning_rate: 3e-4,
            value_learning_rate: 1e-3,
            value_iterations: 80,
            gamma: 0.99,
            baseline: true,
            norm_adv: true,
            ent_coef: 0.0,
            normalize_observations: false,
            hidden: vec![64, 64],
            activation: Activation::Tanh,
            log_std_init: 0.0,
            seed: 1,
            env_threads: 1,
        }
    }
}

impl ReinforceConfig {
    /// Tuned settings for a Gymnasium id (the defaults for an unknown one).
    ///
    /// ```
    /// use wengert_rl::reinforce::ReinforceConfig;
    /// assert_eq!(ReinforceConfig::for_env("CartPole-v1").total_timesteps, 500_000);
    /// ```
    pub fn for_env(id: &str) -> Self {
        let base = ReinforceConfig::default();
        match id {
            // tuned here: small batches and many steps reach 500 within the issue's budget
            "CartPole-v1" => ReinforceConfig {
                num_envs: 8,
                num_steps: 128,
                policy_learning_rate: 1e-3,
                value_iterations: 20,
                ..base
            },
            _ => base,
        }
    }

    /// The names [`ReinforceConfig::set`] accepts.
    pub const KEYS: [&'static str; 16] = [
        "total_timesteps",
        "num_envs",
        "num_steps",
        "policy_learning_rate",
        "value_learning_rate",
        "value_iterations",
        "gamma",
        "baseline",
        "norm_adv",
        "ent_coef",
        "normalize_observations",
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
    /// use wengert_rl::reinforce::ReinforceConfig;
    /// let mut config = ReinforceConfig::default();
    /// config.set("baseline", "false").unwrap();
    /// assert!(!config.baseline);
    /// assert!(config.set("lr", "0.1").unwrap_err().contains("policy_learning_rate"));
    /// assert!(config.set("gamma", "high").unwrap_err().contains("number"));
    /// ```
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let (number, count, flag) = ("a number", "a non-negative integer", "true or false");
        match key {
            "total_timesteps" => self.total_timesteps = parse(key, value, count)?,
            "num_envs" => self.num_envs = parse(key, value, count)?,
            "num_steps" => self.num_steps = parse(key, value, count)?,
            "policy_learning_rate" => self.policy_learning_rate = parse(key, value, number)?,
            "value_learning_rate" => self.value_learning_rate = parse(key, value, number)?,
            "value_iterations" => self.value_iterations = parse(key, value, count)?,
            "gamma" => self.gamma = parse(key, value, number)?,
            "baseline" => self.baseline = parse(key, value, flag)?,
            "norm_adv" => self.norm_adv = parse(key, value, flag)?,
            "ent_coef" => self.ent_coef = parse(key, value, number)?,
            "normalize_observations" => self.normalize_observations = parse(key, value, flag)?,
            "hidden" => self.hidden = parse_hidden(value)?,
            "activation" => self.activation = parse_activation(value)?,
            "log_std_init" => self.log_std_init = parse(key, value, number)?,
            "seed" => self.seed = parse(key, value, count)?,
            "env_threads" => self.env_threads = parse(key, value, count)?,
            _ => {
                let valid = Self::KEYS.join(", ");
                return Err(format!(
                    "unknown REINFORCE setting `{key}`; valid settings: {valid}"
                ));
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), TrainError> {
        if self.num_envs == 0 || self.num_steps == 0 {
            return Err(TrainError::Config(format!(
                "num_envs and num_steps must be positive, found {} and {}",
                self.num_envs, self.num_steps
            )));
        }
        if !(0.0..=1.0).contains(&self.gamma) {
            return Err(TrainError::Config(format!(
                "gamma must lie in [0, 1], found {}",
                self.gamma
            )));
        }
        Ok(())
    }
}

pub(crate) fn parse<V: std::str::FromStr>(key: &str, value: &str, kind: &str) -> Result<V, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("`{key}` expects {kind}, found `{value}`"))
}

pub(crate) fn parse_hidden(value: &str) -> Result<Vec<usize>, String> {
    value
        .split(',')
        .map(|v| parse("hidden", v, "comma-separated layer sizes, e.g. 64,64"))
        .collect()
}

pub(crate) fn parse_activation(value: &str) -> Result<Activation, String> {
    match value.trim() {
        "tanh" => Ok(Activation::Tanh),
        "relu" => Ok(Activation::Relu),
        other => Err(format!(
            "`activation` expects tanh or relu, found `{other}`"
        )),
    }
}

/// Trains REINFORCE with a learned baseline on the Gymnasium environment `env_id`, calling
/// `on_iteration` after every update (return `false` from it to stop early).
///
/// ```no_run
/// use wengert_rl::reinforce::{ReinforceConfig, train};
/// let trained = train("CartPole-v1", &ReinforceConfig::for_env("CartPole-v1"), |m| {
///     println!("{} steps: return {:?}", m.env_steps, m.mean_return);
///     true
/// }).unwrap();
/// assert!(trained.evaluate(10, 0).unwrap().iter().all(|&r| r > 400.0));
/// ```
pub fn train(
    env_id: &str,
    config: &ReinforceConfig,
    mut on_iteration: impl FnMut(&IterationMetrics) -> bool,
) -> Result<Trained, TrainError> {
    train_from(env_id, config, None, |i| on_iteration(i.metrics))
}

/// [`train`], continuing from a saved training state when `resume` is given (see
/// [`crate::snapshot`]); `on_iteration` can take a snapshot after every update.
pub fn train_from(
    env_id: &str,
    config: &ReinforceConfig,
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
    // π_θ is the actor, the baseline V_φ the critic: two networks with their own optimisers.
    let agent = ActorCritic::new(
        &mut store,
        observation_dim,
        &action_space,
        &network,
        &mut rng,
    );
    let ids_under = |prefix: &str| -> Vec<_> {
        store
            .trainable()
            .filter(|&id| store.name(id).starts_with(prefix))
            .collect()
    };
    let adam = |lr: f64| AdamConfig {
        lr: lr as f32,
        ..AdamConfig::default()
    };
    let mut policy_optimizer = Adam::new(ids_under("actor."), adam(config.policy_learning_rate));
    let mut value_optimizer = Adam::new(ids_under("critic."), adam(config.value_learning_rate));

    let mut observation_stats = config
        .normalize_observations
        .then(|| RunningMeanStd::new(observation_dim));

    let (steps, n) = (config.num_steps, config.num_envs);
    let num_iterations = config.total_timesteps / (steps * n);
    let mut clock = Clock::start();
    let mut raw_observations = envs.reset(Some(config.seed));
    let mut recent_returns: Vec<f64> = Vec::new();
    let mut history = Vec::with_capacity(num_iterations);
    let mut env_steps = 0;
    let mut first_iteration = 1;
    if let Some(state) = resume {
        state.check("reinforce", env_id, config)?;
        state.load_params("agent", &store)?;
        state.load_optimizer("policy_optimizer", &mut policy_optimizer, &store)?;
        state.load_optimizer("value_optimizer", &mut value_optimizer, &store)?;
        state.load("rng", &mut rng)?;
        state.load("envs", &mut envs)?;
        state.load("observation_stats", &mut observation_stats)?;
        state.load("recent_returns", &mut recent_returns)?;
        raw_observations = envs.observations();
        (first_iteration, env_steps) = (state.iteration + 1, state.env_steps);
        clock = Clock::resume_at(state.wall_time);
    }

    for iteration in first_iteration..=num_iterations {
        // ---- run π_θ for T steps in N environments ----
        let params = store.constants();
        let rollout = Rollout::collect(
            &mut envs,
            steps,
            &mut raw_observations,
            &mut observation_stats,
            None,
            |s| Decision {
                actions: agent.policy(&params, s).sample(&mut rng),
                log_prob: None,
            },
            |s| agent.value(&params, s),
        )?;
        drop(params);
        env_steps += steps * n;
        recent_returns.extend(&rollout.episode_returns);
        // A truncated episode continues past the time limit in expectation: fold
        // γ V_φ(s_{t+1}) of its final observation into r_t, as reward_to_go expects.
        let mut rewards = rollout.rewards.clone();
        Zip::from(&mut rewards)
            .and(&rollout.next_values)
            .and(&rollout.done)
            .and(&rollout.terminated)
            .for_each(|r, &v_next, &done, &terminated| {
                if done && !terminated {
                    *r += config.gamma * v_next;
                }
            });
        // V_φ(s_T) where the rollout cut an episode; reward_to_go ignores it where done.
        let v_last = rollout.next_values.row(steps - 1).to_owned();

        // ---- reward-to-go R̂_t and advantages Â_t ----
        let returns = reward_to_go(&rewards, &rollout.done, &v_last, config.gamma);
        let mut advantages = if config.baseline {
            &returns - &rollout.values
        } else {
            returns.clone()
        };
        if config.norm_adv && advantages.len() > 1 {
            let mean = advantages.mean().unwrap();
            let std = advantages.std(1.0);
            advantages.mapv_inplace(|a| (a - mean) / (std + 1e-8));
        }

        // ---- flatten the batch: sample k = t·N + i ----
        let views: Vec<_> = rollout.observations.iter().map(|o| o.view()).collect();
        let b_observations = ndarray::concatenate(Axis(0), &views).expect("equal widths");
        let s = observations_var::<f32>(&b_observations);
        let b_actions = flatten_actions(&rollout.actions);
        let flat = |a: &Array2<f64>| Array1::from_iter(a.iter().copied());
        let (b_advantages, b_returns, b_values) =
            (flat(&advantages), flat(&returns), flat(&rollout.values));

        // ---- one policy-gradient step ----
        let tape = Tape::new();
        let params = store.bind(&tape);
        let pi = agent.policy(&params, &s);
        let log_prob = pi.log_prob(&b_actions);
        let entropy = pi.entropy().mean_all();
        let surrogate = (&log_prob * &vector(&b_advantages)).mean_all();
        let policy_loss = -(&surrogate + &(&entropy * config.ent_coef as f32));
        check_finite(&policy_loss, "REINFORCE policy loss", iteration, &tape)?;
        let grads = params.gradients(&policy_loss);
        policy_optimizer.step(&store, &grads);
        let log_prob_old: Vec<f64> = log_prob.value().iter().map(|&v| v as f64).collect();
        let (policy_loss, entropy) = (policy_loss.item() as f64, entropy.item() as f64);
        drop(params);

        // How far the step moved π: E[(ρ − 1) − ln ρ] with ρ = π_new / π_old on the batch.
        let log_prob_new = no_grad(|| {
            let params = store.constants();
            to_f64(&agent.policy(&params, &s).log_prob(&b_actions))
        });
        let approx_kl = log_prob_old
            .iter()
            .zip(&log_prob_new)
            .map(|(old, new)| {
                let log_ratio = new - old;
                log_ratio.exp() - 1.0 - log_ratio
            })
            .sum::<f64>()
            / log_prob_old.len() as f64;

        // ---- refit the baseline by regression on R̂ ----
        let target = vector(&b_returns);
        let mut value_loss = f64::NAN;
        for _ in 0..config.value_iterations {
            let tape = Tape::new();
            let params = store.bind(&tape);
            let loss = (&agent.value(&params, &s) - &target).powi(2).mean_all();
            check_finite(&loss, "REINFORCE baseline loss", iteration, &tape)?;
            let grads = params.gradients(&loss);
            value_optimizer.step(&store, &grads);
            value_loss = loss.item() as f64;
        }

        let metrics = IterationMetrics {
            iteration,
            env_steps,
            wall_time: clock.seconds(),
            mean_return: mean_of_last(&recent_returns, 20),
            episodes: recent_returns.len(),
            losses: vec![
                ("policy_loss", policy_loss),
                ("value_loss", value_loss),
                ("entropy", entropy),
                ("approx_kl", approx_kl),
                (
                    "explained_variance",
                    explained_variance(&b_values, &b_returns),
                ),
            ],
        };
        history.push(metrics.clone());
        let snapshot = || {
            let mut state = TrainingState::new("reinforce", env_id, &format!("{config:#?}"));
            state.save_params("agent", &store);
            state.save_optimizer("policy_optimizer", &policy_optimizer, &store);
            state.save_optimizer("value_optimizer", &value_optimizer, &store);
            state.save("rng", &rng);
            state.save("envs", &envs);
            state.save("observation_stats", &observation_stats);
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

pub(crate) fn check_finite(
    loss: &Var<f32>,
    what: &str,
    iteration: usize,
    tape: &Tape<f32>,
) -> Result<(), TrainError> {
    if loss.item().is_finite() {
        return Ok(());
    }
    Err(TrainError::NonFinite {
        what: what.into(),
        iteration,
        anomaly: tape.first_anomaly().map(|a| a.to_string()),
    })
}
