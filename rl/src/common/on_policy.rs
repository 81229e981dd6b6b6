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
//! [`OnPolicyEnvs`] holds the environments and the optional observation and reward
//! normalisers, and lists them as parts of a snapshot. [`Batch`] is the flattened rollout.

use autograd::Var;
use ndarray::{Array1, Array2, Axis};

use crate::common::trainer::Part;
use crate::env::{Env, Space, VectorEnv, make};
use crate::normalize::{RewardScaler, RunningMeanStd};
use crate::policy::{Actions, select_rows};
use crate::rollout::{Decision, Rollout};
use crate::train::TrainError;

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
