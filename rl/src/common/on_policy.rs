//! # What every on-policy trainer shares
//!
//! REINFORCE, A2C, PPO and TRPO all repeat
//!
//! ```text
//! rollout  ← run π_θ in N environments for T steps          (OnPolicyEnvs::collect)
//! Â, R     ← advantages and returns of the rollout           (the algorithm's estimator)
//! batch    ← the rollout flattened, sample k = t·N + i       (Batch::new)
//! update θ (and φ) on the batch                               (the algorithm)
//! ```
//!
//! [`OnPolicy`] is what every on-policy trainer starts from and holds — the environments, the
//! generator and an actor-critic with its parameters — built, sampled, listed as resumable
//! parts and handed over as an agent the same way. [`OnPolicyEnvs`] holds the environments and
//! the optional observation and reward normalisers. [`Batch`] is the flattened rollout.

use autograd::Var;
use ndarray::{Array1, Array2, Axis};
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{Activation, ParamStore};
use rand::SeedableRng;
use serde::Deserialize;

use crate::advantage::{Trajectory, gae};
use crate::common::config::Config;
use crate::common::trainer::Part;
use crate::env::{Env, Space, VectorEnv, make};
use crate::normalize::{RewardScaler, RunningMeanStd};
use crate::policy::{Actions, ActorCritic, NetworkConfig, PolicyNetwork, select_rows};
use crate::rollout::{Decision, Rollout};
use crate::snapshot::TrainerRng;
use crate::train::{PolicyAgent, TrainError};

/// What every on-policy trainer starts from and holds: `N` environments, the generator, and an
/// actor-critic `N` with its parameters `store`.
pub struct OnPolicy<N: PolicyNetwork = ActorCritic> {
    /// The Gymnasium id.
    pub env_id: String,
    /// The environments and their normalisers.
    pub envs: OnPolicyEnvs,
    /// The generator: the networks' initialisation, then every action sampled.
    pub rng: TrainerRng,
    /// `θ` (under `actor.`) and `φ` (under `critic.`), or a shared trunk's.
    pub store: ParamStore<f32>,
    /// The networks.
    pub network: N,
}

/// The settings [`OnPolicy`] is built from, read by name from an on-policy configuration.
#[derive(Deserialize)]
struct Settings {
    num_envs: usize,
    env_threads: usize,
    seed: u64,
    normalize_observations: bool,
    #[serde(default)]
    normalize_rewards: bool,
    gamma: f64,
    hidden: Vec<usize>,
    activation: Activation,
    log_std_init: f64,
}

impl OnPolicy<ActorCritic> {
    /// Environments reset with the configuration's seed, the generator seeded with it, and an
    /// [`ActorCritic`] initialised from the generator.
    ///
    /// ```
    /// use wengert_rl::algorithms::{preset, ppo::PpoConfig};
    /// use wengert_rl::common::on_policy::OnPolicy;
    /// let config: PpoConfig = preset("ppo", "CartPole-v1").unwrap();
    /// let mut on_policy = OnPolicy::new("CartPole-v1", &config).unwrap();
    /// let rollout = on_policy.rollout(8, true).unwrap();
    /// assert_eq!(rollout.rewards.dim(), (8, config.rollout.num_envs));
    /// ```
    pub fn new<C: Config>(env_id: &str, config: &C) -> Result<Self, TrainError> {
        OnPolicy::with(env_id, config, |store, dim, space, network, rng| {
            ActorCritic::new(store, dim, space, network, rng)
        })
    }
}

impl<N: PolicyNetwork> OnPolicy<N> {
    /// As [`OnPolicy::new`], with the networks `build` makes from the parameters' store, the
    /// observation width, the action space, the network settings and the generator.
    pub fn with<C: Config>(
        env_id: &str,
        config: &C,
        build: impl FnOnce(&mut ParamStore<f32>, usize, &Space, &NetworkConfig, &mut TrainerRng) -> N,
    ) -> Result<Self, TrainError> {
        let table = toml::Value::try_from(config)
            .unwrap_or_else(|e| panic!("a configuration serialises to TOML: {e}"));
        let settings: Settings = table
            .try_into()
            .unwrap_or_else(|e| panic!("an on-policy configuration names its settings: {e}"));
        let envs = OnPolicyEnvs::new(
            env_id,
            &EnvSettings {
                num_envs: settings.num_envs,
                env_threads: settings.env_threads,
                seed: settings.seed,
                normalize_observations: settings.normalize_observations,
                reward_scale_gamma: settings.normalize_rewards.then_some(settings.gamma),
            },
        )?;
        let mut rng = TrainerRng::seed_from_u64(settings.seed);
        let mut store = ParamStore::<f32>::new();
        let network = NetworkConfig {
            hidden: settings.hidden,
            activation: settings.activation,
            log_std_init: settings.log_std_init,
        };
        let (dim, space) = (envs.observation_dim(), envs.action_space());
        let network = build(&mut store, dim, &space, &network, &mut rng);
        Ok(OnPolicy {
            env_id: env_id.to_string(),
            envs,
            rng,
            store,
            network,
        })
    }

    /// A rollout of `steps` steps with `a ~ π_θ(·|s)`, recording `ln π_θ(a|s)` when
    /// `log_prob`, and `V_φ` of every observation.
    pub fn rollout(&mut self, steps: usize, log_prob: bool) -> Result<Rollout, TrainError> {
        let params = self.store.constants();
        let (network, rng) = (&self.network, &mut self.rng);
        self.envs.collect(
            steps,
            |s| {
                let pi = network.policy(&params, s);
                let actions = pi.sample(rng);
                let log_prob = log_prob.then(|| pi.log_prob(&actions));
                Decision { actions, log_prob }
            },
            |s| network.value(&params, s),
        )
    }

    /// The resumable parts, with the algorithm's `optimizers` after the parameters: `agent`,
    /// the optimisers, `rng`, and the environments' (see [`OnPolicyEnvs::parts`]).
    pub fn parts<'a>(
        &'a mut self,
        optimizers: Vec<(&'static str, &'a mut dyn Optimizer<f32>)>,
    ) -> Vec<(&'static str, Part<'a>)> {
        let mut parts = vec![("agent", Part::Params(&self.store))];
        for (name, optimizer) in optimizers {
            parts.push((name, Part::Optimizer(optimizer, &self.store)));
        }
        parts.push(("rng", Part::State(&mut self.rng)));
        parts.extend(self.envs.parts());
        parts
    }

    /// The trained agent: the networks, their parameters and the observation statistics.
    pub fn into_agent(self) -> PolicyAgent<N> {
        PolicyAgent {
            env_id: self.env_id,
            store: self.store,
            network: self.network,
            observation_stats: self.envs.observation_stats,
        }
    }
}

/// `Â` by GAE(γ, λ) and `R = Â + V` of a rollout, flattened into a [`Batch`].
pub fn gae_batch(rollout: &Rollout, gamma: f64, lambda: f64) -> Batch {
    let (advantages, returns) = gae(
        &Trajectory {
            rewards: &rollout.rewards,
            values: &rollout.values,
            next_values: &rollout.next_values,
            terminated: &rollout.terminated,
            done: &rollout.done,
        },
        gamma,
        lambda,
    );
    Batch::new(rollout, &advantages, &returns)
}

/// `x_k = (1 − (k − 1) / K) x₀` for iteration `k` of `K`: a quantity annealed linearly to 0
/// over the run (CleanRL's `anneal_lr`, rl-zoo's `lin_` schedules).
///
/// ```
/// use wengert_rl::common::on_policy::linear_schedule;
/// assert_eq!(linear_schedule(0.2, 1, 4), 0.2);
/// assert_eq!(linear_schedule(0.2, 3, 4), 0.1);
/// ```
pub fn linear_schedule(initial: f64, iteration: usize, iterations: usize) -> f64 {
    let fraction = 1.0 - (iteration - 1) as f64 / iterations as f64;
    fraction * initial
}

/// Sets the learning rate of iteration `k` of `K`, `α_k` = [`linear_schedule`]`(α₀, k, K)`.
///
/// ```
/// use nn::optim::{Adam, AdamConfig, Optimizer};
/// use wengert_rl::common::on_policy::anneal;
/// let mut adam = Adam::<f32>::new(vec![], AdamConfig { lr: 1.0, ..AdamConfig::default() });
/// anneal(&mut adam, 1.0, 3, 4);
/// assert_eq!(adam.lr(0), 0.5);
/// ```
pub fn anneal(
    optimizer: &mut dyn Optimizer<f32>,
    learning_rate: f64,
    iteration: usize,
    iterations: usize,
) {
    let alpha = linear_schedule(learning_rate, iteration, iterations);
    optimizer.set_lr(0, alpha as f32);
}

/// Adam over every trainable parameter with PPO's `ε = 10⁻⁵` (CleanRL's `ppo.py`,
/// Stable-Baselines3's `ActorCriticPolicy`) instead of PyTorch's `10⁻⁸`.
///
/// ```
/// use nn::optim::{Adam, AdamConfig, Optimizer};
/// let adam = wengert_rl::common::on_policy::ppo_adam(&nn::ParamStore::<f32>::new(), 3e-4);
/// assert_eq!(adam.lr(0), 3e-4);
/// ```
pub fn ppo_adam(store: &ParamStore<f32>, learning_rate: f64) -> Adam<f32> {
    let config = AdamConfig {
        lr: learning_rate as f32,
        eps: 1e-5,
        ..AdamConfig::default()
    };
    Adam::new(store.trainable(), config)
}

/// What one iteration of an on-policy trainer is, in words, for `--help`-style messages.
///
/// ```
/// let words = wengert_rl::common::on_policy::rollout_in_words(8, 32);
/// assert_eq!(words, "one rollout of num_envs × num_steps = 8 × 32 = 256 environment steps");
/// ```
pub fn rollout_in_words(num_envs: usize, num_steps: usize) -> String {
    format!(
        "one rollout of num_envs × num_steps = {num_envs} × {num_steps} = {} environment steps",
        num_envs * num_steps
    )
}

/// The environments of an on-policy trainer, and what sits between them and the policy.
pub struct OnPolicyEnvs {
    /// `N` copies of the environment, stepped in lockstep.
    pub envs: VectorEnv<Box<dyn Env + Send>>,
    /// Running observation statistics, when observations are normalised.
    pub observation_stats: Option<RunningMeanStd>,
    /// The running scale of the discounted return, when rewards are scaled.
    pub reward_scaler: Option<RewardScaler>,
}

/// How an on-policy trainer's environments are set up.
pub struct EnvSettings {
    /// `N`: parallel environments.
    pub num_envs: usize,
    /// Threads stepping them.
    pub env_threads: usize,
    /// Seeds `seed, seed + 1, …` of the first reset.
    pub seed: u64,
    /// Normalise observations by running mean and std.
    pub normalize_observations: bool,
    /// Scale rewards by the running std of the return discounted by this `γ`.
    pub reward_scale_gamma: Option<f64>,
}

impl OnPolicyEnvs {
    /// `N` fresh copies of `env_id`, reset with the seed.
    pub fn new(env_id: &str, settings: &EnvSettings) -> Result<Self, TrainError> {
        let copies = (0..settings.num_envs)
            .map(|_| make(env_id))
            .collect::<Result<Vec<_>, _>>()?;
        let mut envs = VectorEnv::new(copies, settings.env_threads)?;
        envs.reset(Some(settings.seed));
        let dim = envs.single_observation_space().dim();
        Ok(OnPolicyEnvs {
            envs,
            observation_stats: settings
                .normalize_observations
                .then(|| RunningMeanStd::new(dim)),
            reward_scaler: settings
                .reward_scale_gamma
                .map(|gamma| RewardScaler::new(settings.num_envs, gamma)),
        })
    }

    /// The width of an observation.
    pub fn observation_dim(&self) -> usize {
        self.envs.single_observation_space().dim()
    }

    /// One environment's action space.
    pub fn action_space(&self) -> Space {
        self.envs.single_action_space().clone()
    }

    /// A rollout of `steps` steps (see [`Rollout::collect`]): `act` decides at each step and
    /// `value` gives `V` of every observation, in one batch at the end.
    pub fn collect(
        &mut self,
        steps: usize,
        act: impl FnMut(&Var<f32>) -> Decision,
        value: impl Fn(&Var<f32>) -> Var<f32>,
    ) -> Result<Rollout, TrainError> {
        // the raw observations `o` the environments stand at (after any auto-reset)
        let mut observations = self.envs.observations();
        Ok(Rollout::collect(
            &mut self.envs,
            steps,
            &mut observations,
            &mut self.observation_stats,
            self.reward_scaler.as_mut(),
            act,
            value,
        )?)
    }
}

impl OnPolicyEnvs {
    /// The resumable parts: `envs` (every copy's physical state, time-limit counter, running
    /// return and generator), `observation_stats` and `reward_scaler`.
    pub fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        vec![
            ("envs", Part::State(&mut self.envs)),
            (
                "observation_stats",
                Part::State(&mut self.observation_stats),
            ),
            ("reward_scaler", Part::State(&mut self.reward_scaler)),
        ]
    }
}

/// A rollout flattened into samples `k = t·N + i`, with the advantages and returns.
#[derive(Clone, Debug)]
pub struct Batch {
    /// `s`, one row per sample.
    pub observations: Array2<f32>,
    /// `a`.
    pub actions: Actions,
    /// `ln π_old(a|s)`.
    pub log_probs: Array1<f64>,
    /// `V_old(s)`.
    pub values: Array1<f64>,
    /// `Â`.
    pub advantages: Array1<f64>,
    /// `R = Â + V_old` (or the reward-to-go).
    pub returns: Array1<f64>,
}

impl Batch {
    /// The batch of `rollout` with the `T × N` advantages and returns.
    pub fn new(rollout: &Rollout, advantages: &Array2<f64>, returns: &Array2<f64>) -> Self {
        let views: Vec<_> = rollout.observations.iter().map(|o| o.view()).collect();
        let flat = |a: &Array2<f64>| Array1::from_iter(a.iter().copied());
        Batch {
            observations: ndarray::concatenate(Axis(0), &views).expect("equal widths"),
            actions: flatten_actions(&rollout.actions),
            log_probs: flat(&rollout.log_probs),
            values: flat(&rollout.values),
            advantages: flat(advantages),
            returns: flat(returns),
        }
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.advantages.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.advantages.is_empty()
    }

    /// The samples `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Batch {
        let pick = |a: &Array1<f64>| Array1::from_iter(indices.iter().map(|&k| a[k]));
        Batch {
            observations: select_rows(&self.observations, indices),
            actions: self.actions.select(indices),
            log_probs: pick(&self.log_probs),
            values: pick(&self.values),
            advantages: pick(&self.advantages),
            returns: pick(&self.returns),
        }
    }
}

/// `(x − mean x) / (std x + 10⁻⁸)` with the sample standard deviation (PyTorch's `std()`, as
/// CleanRL and Stable-Baselines3 normalise advantages); one sample is left as it is.
///
/// ```
/// use ndarray::array;
/// use wengert_rl::common::on_policy::normalize;
/// let a = normalize(&array![1.0, 2.0, 3.0]);
/// assert!((a[0] + 1.0).abs() < 1e-7 && a[1] == 0.0 && (a[2] - 1.0).abs() < 1e-7);
/// ```
pub fn normalize(x: &Array1<f64>) -> Array1<f64> {
    if x.len() <= 1 {
        return x.clone();
    }
    let mean = x.mean().expect("not empty");
    let std = x.std(1.0);
    x.mapv(|a| (a - mean) / (std + 1e-8))
}

/// `(x − E_M x) / (std_M x + 10⁻⁸)` over the real samples (`M = 1`) of a padded minibatch of
/// sequences, with their sample standard deviation (as sb3-contrib's `RecurrentPPO`); padding
/// stays 0.
///
/// ```
/// use ndarray::array;
/// use wengert_rl::common::on_policy::normalize_masked;
/// let a = normalize_masked(&array![1.0, 100.0, 3.0], &array![1.0, 0.0, 1.0]);
/// assert!((a[0] + 2f64.sqrt() / 2.0).abs() < 1e-7 && a[1] == 0.0);
/// ```
pub fn normalize_masked(x: &Array1<f64>, mask: &Array1<f64>) -> Array1<f64> {
    let real: Array1<f64> = (x.iter().zip(mask))
        .filter(|&(_, &m)| m == 1.0)
        .map(|(&v, _)| v)
        .collect();
    if real.len() <= 1 {
        return x.clone();
    }
    let (mean, std) = (real.mean().expect("not empty"), real.std(1.0));
    (x.iter().zip(mask))
        .map(|(&v, &m)| m * (v - mean) / (std + 1e-8))
        .collect()
}

/// One action batch from the per-step batches of a rollout, in step order.
pub fn flatten_actions(actions: &[Actions]) -> Actions {
    match actions.first() {
        Some(Actions::Continuous(_)) => {
            let views: Vec<_> = actions
                .iter()
                .map(|a| match a {
                    Actions::Continuous(a) => a.view(),
                    Actions::Discrete(_) => unreachable!("one action space per rollout"),
                })
                .collect();
            Actions::Continuous(ndarray::concatenate(Axis(0), &views).expect("equal widths"))
        }
        _ => Actions::Discrete(
            actions
                .iter()
                .flat_map(|a| match a {
                    Actions::Discrete(a) => a.clone(),
                    Actions::Continuous(_) => unreachable!("one action space per rollout"),
                })
                .collect(),
        ),
    }
}
