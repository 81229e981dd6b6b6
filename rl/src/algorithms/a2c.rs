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
//! The policy gradient is the score-function estimator of [`crate::reinforce`],
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
//! The loss minimised, with `Â` and `R` held constant, is
//!
//! `L(θ, φ) = −E_t[ln π_θ(a_t|s_t) Â_t] + c_v E_t[(V_φ(s_t) − R_t)²] − c_H E_t[H[π_θ(·|s_t)]]`,
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

use std::fmt;

use autograd::{Tape, Tensor, Var, no_grad};
use ndarray::{Array1, Array2, Axis};
use nn::optim::{Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, clip_grad_norm};
use nn::{Activation, Bound, ParamStore};
use rand::SeedableRng;

use crate::advantage::{Trajectory, gae};
use crate::env::{EnvError, VectorEnv, make};
use crate::normalize::RunningMeanStd;
use crate::policy::{Actions, ActorCritic, NetworkConfig, PolicyDistribution, observations_var};
use crate::reinforce::{check_finite, parse, parse_activation, parse_hidden};
use crate::rollout::{Decision, Rollout};
use crate::shared_actor_critic::SharedActorCritic;
use crate::snapshot::{Clock, Iteration, TrainerRng, TrainingState};
use crate::train::{
    Agent, IterationMetrics, TrainError, evaluate, explained_variance, flatten_actions,
    mean_of_last, vector,
};

/// The optimiser of an A2C update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum A2cOptimizer {
    /// RMSprop (PyTorch's form, `ε` outside the square root), A3C's choice.
    RmsProp,
    /// Adam.
    Adam,
}

impl fmt::Display for A2cOptimizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            A2cOptimizer::RmsProp => "rmsprop",
            A2cOptimizer::Adam => "adam",
        })
    }
}

/// A2C's hyperparameters. Defaults are Stable-Baselines3's `A2C` (after OpenAI Baselines:
/// `n = 5`, learning rate `7·10⁻⁴`, RMSprop `α = 0.99`, `ε = 10⁻⁵`, `c_v = 0.5`, gradient norm
/// 0.5, no entropy bonus) with 8 environments and CleanRL's separate 64×64 tanh networks;
/// [`A2cConfig::for_env`] gives tuned settings per environment.
#[derive(Clone, Debug, PartialEq)]
pub struct A2cConfig {
    /// Environment steps to train for (over all environments).
    pub total_timesteps: usize,
    /// `N`: parallel environments.
    pub num_envs: usize,
    /// `n`: steps per environment per update.
    pub num_steps: usize,
    /// The optimiser's learning rate.
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0.
    pub anneal_lr: bool,
    /// `γ`.
    pub gamma: f64,
    /// `λ` of GAE (1: A2C's n-step returns).
    pub gae_lambda: f64,
    /// Normalise the advantages of each batch.
    pub norm_adv: bool,
    /// `c_H`: entropy bonus.
    pub ent_coef: f64,
    /// `c_v`: value loss coefficient.
    pub vf_coef: f64,
    /// Maximum global gradient norm.
    pub max_grad_norm: f64,
    /// RMSprop or Adam.
    pub optimizer: A2cOptimizer,
    /// RMSprop's smoothing constant `α` of the squared-gradient average.
    pub rmsprop_alpha: f64,
    /// The optimiser's `ε` (RMSprop's and Adam's).
    pub optimizer_eps: f64,
    /// One trunk with a policy head and a value head, instead of two networks.
    pub shared_network: bool,
    /// Normalise observations by running mean and std.
    pub normalize_observations: bool,
    /// Hidden layer sizes (of each network, or of the shared trunk).
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

impl Default for A2cConfig {
    fn default() -> Self {
        A2cConfig {
            total_timesteps: 500_000,
            num_envs: 8,
            num_steps: 5,
            learning_rate: 7e-4,
            anneal_lr: false,
            gamma: 0.99,
            gae_lambda: 1.0,
            norm_adv: false,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            optimizer: A2cOptimizer::RmsProp,
            rmsprop_alpha: 0.99,
            optimizer_eps: 1e-5,
            shared_network: false,
            normalize_observations: false,
            hidden: vec![64, 64],
            activation: Activation::Tanh,
            log_std_init: 0.0,
            seed: 1,
            env_threads: 1,
        }
    }
}

impl A2cConfig {
    /// Tuned settings for a Gymnasium id (the defaults for an unknown one).
    ///
    /// ```
    /// use wengert_rl::a2c::A2cConfig;
    /// let config = A2cConfig::for_env("CartPole-v1");
    /// assert_eq!((config.num_envs, config.ent_coef), (8, 0.0));
    /// ```
    pub fn for_env(id: &str) -> Self {
        let base = A2cConfig::default();
        match id {
            // rl-baselines3-zoo hyperparams/a2c.yml, CartPole-v1
            "CartPole-v1" => A2cConfig {
                total_timesteps: 500_000,
                num_envs: 8,
                ent_coef: 0.0,
                ..base
            },
            // rl-baselines3-zoo hyperparams/a2c.yml, Acrobot-v1 (normalised observations)
            "Acrobot-v1" => A2cConfig {
                total_timesteps: 500_000,
                num_envs: 16,
                ent_coef: 0.0,
                normalize_observations: true,
                ..base
            },
            _ => base,
        }
    }

    /// The names [`A2cConfig::set`] accepts.
    pub const KEYS: [&'static str; 21] = [
        "total_timesteps",
        "num_envs",
        "num_steps",
        "learning_rate",
        "anneal_lr",
        "gamma",
        "gae_lambda",
        "norm_adv",
        "ent_coef",
        "vf_coef",
        "max_grad_norm",
        "optimizer",
        "rmsprop_alpha",
        "optimizer_eps",
        "shared_network",
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
    /// use wengert_rl::a2c::{A2cConfig, A2cOptimizer};
    /// let mut config = A2cConfig::default();
    /// config.set("optimizer", "adam").unwrap();
    /// assert_eq!(config.optimizer, A2cOptimizer::Adam);
    /// assert!(config.set("optimizer", "sgd").unwrap_err().contains("rmsprop or adam"));
    /// assert!(config.set("n_steps", "5").unwrap_err().contains("num_steps"));
    /// ```
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let (number, count, flag) = ("a number", "a non-negative integer", "true or false");
        match key {
            "total_timesteps" => self.total_timesteps = parse(key, value, count)?,
            "num_envs" => self.num_envs = parse(key, value, count)?,
            "num_steps" => self.num_steps = parse(key, value, count)?,
            "learning_rate" => self.learning_rate = parse(key, value, number)?,
            "anneal_lr" => self.anneal_lr = parse(key, value, flag)?,
            "gamma" => self.gamma = parse(key, value, number)?,
            "gae_lambda" => self.gae_lambda = parse(key, value, number)?,
            "norm_adv" => self.norm_adv = parse(key, value, flag)?,
            "ent_coef" => self.ent_coef = parse(key, value, number)?,
            "vf_coef" => self.vf_coef = parse(key, value, number)?,
            "max_grad_norm" => self.max_grad_norm = parse(key, value, number)?,
            "optimizer" => {
                self.optimizer = match value.trim() {
                    "rmsprop" => A2cOptimizer::RmsProp,
                    "adam" => A2cOptimizer::Adam,
                    other => {
                        return Err(format!(
                            "`optimizer` expects rmsprop or adam, found `{other}`"
                        ));
                    }
                }
            }
            "rmsprop_alpha" => self.rmsprop_alpha = parse(key, value, number)?,
            "optimizer_eps" => self.optimizer_eps = parse(key, value, number)?,
            "shared_network" => self.shared_network = parse(key, value, flag)?,
            "normalize_observations" => self.normalize_observations = parse(key, value, flag)?,
            "hidden" => self.hidden = parse_hidden(value)?,
            "activation" => self.activation = parse_activation(value)?,
            "log_std_init" => self.log_std_init = parse(key, value, number)?,
            "seed" => self.seed = parse(key, value, count)?,
            "env_threads" => self.env_threads = parse(key, value, count)?,
            _ => {
                let valid = Self::KEYS.join(", ");
                return Err(format!(
                    "unknown A2C setting `{key}`; valid settings: {valid}"
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
        if self.shared_network && self.hidden.is_empty() {
            return Err(TrainError::Config(
                "shared_network needs at least one hidden layer to share; set hidden, e.g. 64,64"
                    .into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.gamma) || !(0.0..=1.0).contains(&self.gae_lambda) {
            return Err(TrainError::Config(format!(
                "gamma and gae_lambda must lie in [0, 1], found {} and {}",
                self.gamma, self.gae_lambda
            )));
        }
        Ok(())
    }
}

/// A2C's policy and value function: two networks or one shared trunk.
#[derive(Clone, Debug)]
pub enum A2cNetwork {
    Separate(ActorCritic),
    Shared(SharedActorCritic),
}

impl A2cNetwork {
    /// `π(·|s)` and `V(s)` for a batch of observations.
    pub fn forward(
        &self,
        params: &Bound<'_, f32>,
        observations: &Var<f32>,
    ) -> (PolicyDistribution<f32>, Var<f32>) {
        match self {
            A2cNetwork::Separate(net) => (
                net.policy(params, observations),
                net.value(params, observations),
            ),
            A2cNetwork::Shared(net) => net.forward(params, observations),
        }
    }

    /// `π(·|s)` for a batch of observations (through the shared trunk, if shared).
    pub fn policy(
        &self,
        params: &Bound<'_, f32>,
        observations: &Var<f32>,
    ) -> PolicyDistribution<f32> {
        match self {
            A2cNetwork::Separate(net) => net.policy(params, observations),
            A2cNetwork::Shared(net) => net.forward(params, observations).0,
        }
    }

    /// `V(s)` for a batch of observations.
    pub fn value(&self, params: &Bound<'_, f32>, observations: &Var<f32>) -> Var<f32> {
        match self {
            A2cNetwork::Separate(net) => net.value(params, observations),
            A2cNetwork::Shared(net) => net.forward(params, observations).1,
        }
    }
}

/// A trained A2C agent with what it needs to act.
pub struct TrainedA2c {
    /// The Gymnasium id it was trained on.
    pub env_id: String,
    /// Its parameters.
    pub store: ParamStore<f32>,
    /// Its networks.
    pub network: A2cNetwork,
    /// Observation normalisation statistics, if used.
    pub observation_stats: Option<RunningMeanStd>,
    /// Every iteration's metrics.
    pub history: Vec<IterationMetrics>,
}

impl Agent for TrainedA2c {
    fn env_id(&self) -> &str {
        &self.env_id
    }

    fn act(&self, observations: &Array2<f32>) -> Actions {
        let observations = match &self.observation_stats {
            Some(stats) => stats.normalize(observations, 10.0, 1e-8),
            None => observations.clone(),
        };
        let params = self.store.constants();
        no_grad(|| {
            self.network
                .forward(&params, &observations_var::<f32>(&observations))
                .0
                .mode()
        })
    }

    fn store(&self) -> &ParamStore<f32> {
        &self.store
    }

    fn history(&self) -> &[IterationMetrics] {
        &self.history
    }

    /// The observation statistics, when observations are normalised: acting needs them.
    fn extra_state(&self) -> Vec<(String, Vec<f64>)> {
        crate::train::observation_stats_state(&self.observation_stats)
    }

    fn load_extra_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), String> {
        crate::train::load_observation_stats(&mut self.observation_stats, state)
    }
}

impl TrainedA2c {
    /// Returns of `episodes` deterministic episodes, seeded `seed, seed + 1, …`.
    pub fn evaluate(&self, episodes: usize, seed: u64) -> Result<Vec<f64>, EnvError> {
        evaluate(self, episodes, seed)
    }
}

/// Trains an A2C agent on the Gymnasium environment `env_id`, calling `on_iteration` after
/// every update (return `false` from it to stop early).
///
/// ```no_run
/// use wengert_rl::a2c::{A2cConfig, train};
/// let trained = train("CartPole-v1", &A2cConfig::for_env("CartPole-v1"), |m| {
///     if m.iteration % 1000 == 0 { println!("{} steps: return {:?}", m.env_steps, m.mean_return); }
///     true
/// }).unwrap();
/// assert!(trained.evaluate(10, 0).unwrap().iter().all(|&r| r > 400.0));
/// ```
pub fn train(
    env_id: &str,
    config: &A2cConfig,
    mut on_iteration: impl FnMut(&IterationMetrics) -> bool,
) -> Result<TrainedA2c, TrainError> {
    train_from(env_id, config, None, |i| on_iteration(i.metrics))
}

/// [`train`], continuing from a saved training state when `resume` is given (see
/// [`crate::snapshot`]); `on_iteration` can take a snapshot after every update.
pub fn train_from(
    env_id: &str,
    config: &A2cConfig,
    resume: Option<&TrainingState>,
    mut on_iteration: impl FnMut(&Iteration<'_>) -> bool,
) -> Result<TrainedA2c, TrainError> {
    config.check()?;
    let envs: Vec<_> = (0..config.num_envs)
        .map(|_| make(env_id))
        .collect::<Result<_, _>>()?;
    let mut envs = VectorEnv::new(envs, config.env_threads)?;
    let observation_dim = envs.single_observation_space().dim();
    let action_space = envs.single_action_space().clone();
    let mut rng = TrainerRng::seed_from_u64(config.seed);
    let mut store = ParamStore::<f32>::new();
    let network_config = NetworkConfig {
        hidden: config.hidden.clone(),
        activation: config.activation,
        log_std_init: config.log_std_init,
    };
    let network = if config.shared_network {
        A2cNetwork::Shared(SharedActorCritic::new(
            &mut store,
            observation_dim,
            &action_space,
            &network_config,
            &mut rng,
        ))
    } else {
        A2cNetwork::Separate(ActorCritic::new(
            &mut store,
            observation_dim,
            &action_space,
            &network_config,
            &mut rng,
        ))
    };
    let (lr, eps) = (config.learning_rate as f32, config.optimizer_eps as f32);
    let mut optimizer: Box<dyn Optimizer<f32>> = match config.optimizer {
        A2cOptimizer::RmsProp => Box::new(RmsProp::new(
            store.trainable(),
            RmsPropConfig {
                lr,
                alpha: config.rmsprop_alpha as f32,
                eps,
                ..RmsPropConfig::default()
            },
        )),
        A2cOptimizer::Adam => Box::new(Adam::new(
            store.trainable(),
            AdamConfig {
                lr,
                eps,
                ..AdamConfig::default()
            },
        )),
    };

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
        state.check("a2c", env_id, config)?;
        state.load_params("agent", &store)?;
        state.load_optimizer("optimizer", optimizer.as_mut(), &store)?;
        state.load("rng", &mut rng)?;
        state.load("envs", &mut envs)?;
        state.load("observation_stats", &mut observation_stats)?;
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

        // ---- run π_θ for n steps in N environments ----
        let params = store.constants();
        let rollout = Rollout::collect(
            &mut envs,
            steps,
            &mut raw_observations,
            &mut observation_stats,
            None,
            |s| Decision {
                actions: network.policy(&params, s).sample(&mut rng),
                log_prob: None,
            },
            |s| network.value(&params, s),
        )?;
        drop(params);
        env_steps += steps * n;
        recent_returns.extend(&rollout.episode_returns);

        // ---- advantages Â (n-step returns at λ = 1) and value targets R ----
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
        let b_observations = ndarray::concatenate(Axis(0), &views).expect("equal widths");
        let b_actions = flatten_actions(&rollout.actions);
        let flat = |a: &Array2<f64>| Array1::from_iter(a.iter().copied());
        let (mut b_advantages, b_returns, b_values) =
            (flat(&advantages), flat(&returns), flat(&rollout.values));
        if config.norm_adv && b_advantages.len() > 1 {
            let mean = b_advantages.mean().unwrap();
            let std = b_advantages.std(1.0);
            b_advantages.mapv_inplace(|a| (a - mean) / (std + 1e-8));
        }

        // ---- one gradient step on the combined loss ----
        let tape = Tape::new();
        let params = store.bind(&tape);
        let (pi, value) = network.forward(&params, &observations_var::<f32>(&b_observations));
        let log_prob = pi.log_prob(&b_actions);
        let entropy = pi.entropy().mean_all();
        let policy_loss = -(&log_prob * &vector(&b_advantages)).mean_all();
        let value_loss = (&value - &vector(&b_returns)).powi(2).mean_all();
        let loss = &policy_loss - &(&entropy * config.ent_coef as f32)
            + &value_loss * config.vf_coef as f32;
        check_finite(&loss, "A2C loss", iteration, &tape)?;
        let mut grads = params.gradients(&loss);
        let grad_norm = grads.global_norm() as f64;
        clip_grad_norm(&mut grads, config.max_grad_norm as f32);
        optimizer.step(&store, &grads);

        let metrics = IterationMetrics {
            iteration,
            env_steps,
            wall_time: clock.seconds(),
            mean_return: mean_of_last(&recent_returns, 20),
            episodes: recent_returns.len(),
            losses: vec![
                ("policy_loss", policy_loss.item() as f64),
                ("value_loss", value_loss.item() as f64),
                ("entropy", entropy.item() as f64),
                ("grad_norm", grad_norm),
                (
                    "explained_variance",
                    explained_variance(&b_values, &b_returns),
                ),
                ("learning_rate", optimizer.lr(0) as f64),
            ],
        };
        drop(params);
        history.push(metrics.clone());
        let snapshot = || {
            let mut state = TrainingState::new("a2c", env_id, &format!("{config:#?}"));
            state.save_params("agent", &store);
            state.save_optimizer("optimizer", optimizer.as_ref(), &store);
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
    Ok(TrainedA2c {
        env_id: env_id.to_string(),
        store,
        network,
        observation_stats,
        history,
    })
}
