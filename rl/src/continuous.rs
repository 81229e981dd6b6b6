//! # What DDPG, TD3 and SAC share: critics, the deterministic actor, exploration, the loop
//!
//! ## Background
//! DDPG, TD3 and SAC all learn an action-value function `Q_φ(s, a)` from replayed transitions
//! and improve a policy by following `∇_a Q_φ(s, a)`. What they share lives here; what makes
//! each one itself (its targets, its policy, its losses) lives in its own file.
//!
//! ## Key equations
//! - **Action scaling.** The policies act in the unit box `ã ∈ [−1, 1]^|A|` (a `tanh` output);
//!   the environment receives `a = low + (ã + 1)/2 · (high − low)`. The replay buffer stores
//!   `ã`, so the critics and the exploration noise always see the unit box, whatever the
//!   environment's bounds (as Stable-Baselines3 does).
//! - **Critic.** `Q_φ(s, a) = f_φ([s; a])`, an MLP on the concatenated state and action.
//!   TD3 and SAC keep two, `Q_φ1, Q_φ2` ([`TwinQ`]), and use the smaller estimate.
//! - **Deterministic policy gradient** (DDPG and TD3): `μ_θ(s) = tanh(f_θ(s))` and
//!   `L(θ) = −E_{s~D}[Q_φ(s, μ_θ(s))]` ([`deterministic_policy_loss`]), whose gradient is
//!   `−E_s[∇_a Q_φ(s, a)|_{a=μ_θ(s)} ∇_θ μ_θ(s)]`.
//! - **Exploration noise** ([`ActionNoise`]), added to `ã` and clipped back into `[−1, 1]`:
//!   Gaussian `ε_t ~ N(0, σ² I)`, or Ornstein–Uhlenbeck (temporally correlated, as DDPG's
//!   paper uses) `x_{t+1} = x_t + θ (0 − x_t) dt + σ √dt ξ_t`, `ξ_t ~ N(0, I)`, reset to 0 at
//!   every episode start.
//! - **Polyak averaging** of target networks, `φ̄ ← τ φ + (1 − τ) φ̄`, is
//!   [`ParamStore::polyak_from`].
//!
//! ## The loop they share
//! One iteration of [`OffPolicy::iterate`] is `log_interval` environment steps of
//! ```text
//! for t = …:
//!     ã ← uniform in [−1, 1]^|A| while t ≤ learning_starts, else the policy's action (+ noise)
//!     step the environment with a = scale(ã); store (s, ã, r, s', terminated) in D
//!     if t > learning_starts and t mod train_freq = 0, repeat gradient_steps times:
//!         sample a batch B from D; the algorithm's update on B        (Learner::update)
//! ```
//! then a report of the mean of each loss over the iteration's gradient steps.

use autograd::{Float, Tensor, Var, no_grad};
use ndarray::{Array1, Array2, ArrayD};
use nn::{Bound, Kind, Mlp, Module, ParamStore, Path};
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use crate::buffers::{ActionShape, Batch, BatchActions, ReplayBuffer, ReplayStorage};
use crate::common::trainer::{Part, Report};
use crate::env::{Env, Space, VectorActions, VectorEnv, make};
use crate::policy::Actions;
use crate::snapshot::{Clock, Resumable, StateError, TrainerRng, TrainingState};
use crate::train::{Agent, TrainError};

/// The affine map between the unit box `[−1, 1]^d` the policies act in and an environment's
/// bounded action box.
///
/// ```
/// use wengert_rl::continuous::ActionScale;
/// use wengert_rl::env::{BoxSpace, Space};
/// let scale = ActionScale::new(&Space::Box(BoxSpace::new(vec![-2.0, 0.0], vec![2.0, 1.0]))).unwrap();
/// assert_eq!(scale.to_env(&[0.5, -1.0]), vec![1.0, 0.0]);
/// assert_eq!(scale.to_unit(&[1.0, 0.0]), vec![0.5, -1.0]);
/// assert!(ActionScale::new(&Space::Discrete { n: 2 }).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ActionScale {
    low: Vec<f32>,
    high: Vec<f32>,
}

impl ActionScale {
    /// The scaling for a bounded `Box` action space; an error names the problem otherwise.
    pub fn new(space: &Space) -> Result<Self, TrainError> {
        match space {
            Space::Box(b) if b.low.iter().chain(&b.high).all(|v| v.is_finite()) => {
                Ok(ActionScale {
                    low: b.low.clone(),
                    high: b.high.clone(),
                })
            }
            Space::Box(_) => Err(TrainError::Config(format!(
                "the action space {space} is unbounded; DDPG, TD3 and SAC need finite bounds to \
                 scale a tanh policy into"
            ))),
            Space::Discrete { .. } => Err(TrainError::Config(format!(
                "the action space {space} is discrete; DDPG, TD3 and SAC need a Box action space"
            ))),
        }
    }

    /// `|A|`, the action dimension.
    pub fn dim(&self) -> usize {
        self.low.len()
    }

    /// `a = low + (ã + 1)/2 · (high − low)`, with `ã` clipped into `[−1, 1]` first.
    pub fn to_env(&self, unit: &[f32]) -> Vec<f32> {
        unit.iter()
            .zip(self.low.iter().zip(&self.high))
            .map(|(u, (low, high))| low + 0.5 * (u.clamp(-1.0, 1.0) + 1.0) * (high - low))
            .collect()
    }

    /// `ã = 2 (a − low) / (high − low) − 1`, the inverse of [`ActionScale::to_env`].
    pub fn to_unit(&self, action: &[f32]) -> Vec<f32> {
        action
            .iter()
            .zip(self.low.iter().zip(&self.high))
            .map(|(a, (low, high))| 2.0 * (a - low) / (high - low) - 1.0)
            .collect()
    }

    /// [`ActionScale::to_env`] of every row.
    pub fn rows_to_env(&self, unit: &Array2<f32>) -> Array2<f32> {
        let mut scaled = unit.clone();
        for mut row in scaled.rows_mut() {
            let env = self.to_env(row.as_slice().expect("rows are contiguous"));
            row.assign(&Array1::from(env));
        }
        scaled
    }
}

/// The exploration noise added to the policy's unit-box action while collecting data; written
/// (and saved in a configuration) as `none`, `normal:SIGMA` or `ou:SIGMA`.
///
/// ```
/// use wengert_rl::continuous::ActionNoise;
/// assert_eq!(ActionNoise::parse("normal:0.1").unwrap(), ActionNoise::Normal { sigma: 0.1 });
/// assert_eq!(ActionNoise::parse("ou:0.5").unwrap().to_string(), "ou:0.5");
/// assert!(ActionNoise::parse("pink:1").unwrap_err().contains("normal:SIGMA"));
/// assert!(ActionNoise::parse("normal:inf").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ActionNoise {
    /// No noise (SAC explores through its own stochastic policy).
    None,
    /// `ε_t ~ N(0, σ² I)`, independent across steps.
    Normal { sigma: f64 },
    /// `x_{t+1} = x_t − θ x_t dt + σ √dt ξ_t`, Stable-Baselines3's `OrnsteinUhlenbeckActionNoise`
    /// with `θ =` [`ActionNoise::OU_THETA`] and `dt =` [`ActionNoise::OU_DT`].
    OrnsteinUhlenbeck { sigma: f64 },
}

impl ActionNoise {
    /// `θ` of the Ornstein–Uhlenbeck process.
    pub const OU_THETA: f64 = 0.15;
    /// `dt` of the Ornstein–Uhlenbeck process.
    pub const OU_DT: f64 = 1e-2;

    /// Parses `none`, `normal:SIGMA` or `ou:SIGMA` (`SIGMA` a finite number ≥ 0).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let expected = "none, normal:SIGMA or ou:SIGMA (e.g. normal:0.1)";
        if text == "none" {
            return Ok(ActionNoise::None);
        }
        let (kind, sigma) = text
            .split_once(':')
            .ok_or_else(|| format!("action noise expects {expected}, found `{text}`"))?;
        let sigma: f64 = sigma
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| format!("action noise `{text}`: SIGMA must be a finite number ≥ 0"))?;
        match kind.trim() {
            "normal" => Ok(ActionNoise::Normal { sigma }),
            "ou" => Ok(ActionNoise::OrnsteinUhlenbeck { sigma }),
            _ => Err(format!("action noise expects {expected}, found `{text}`")),
        }
    }
}

impl std::fmt::Display for ActionNoise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActionNoise::None => write!(f, "none"),
            ActionNoise::Normal { sigma } => write!(f, "normal:{sigma}"),
            ActionNoise::OrnsteinUhlenbeck { sigma } => write!(f, "ou:{sigma}"),
        }
    }
}

impl TryFrom<String> for ActionNoise {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        ActionNoise::parse(&text)
    }
}

impl From<ActionNoise> for String {
    fn from(noise: ActionNoise) -> String {
        noise.to_string()
    }
}

/// The running state of an [`ActionNoise`] for one environment.
///
/// ```
/// use rand::SeedableRng;
/// use wengert_rl::continuous::{ActionNoise, NoiseProcess};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let mut ou = NoiseProcess::new(ActionNoise::OrnsteinUhlenbeck { sigma: 0.3 }, 2);
/// let (first, second) = (ou.sample(&mut rng), ou.sample(&mut rng));
/// assert!((first[0] - second[0]).abs() < 0.3 * 0.1 * 5.0); // one step moves it by about σ√dt
/// ou.reset();
/// assert_eq!(ou.state(), &[0.0, 0.0]);
/// ```
#[derive(Clone, Debug)]
pub struct NoiseProcess {
    kind: ActionNoise,
    state: Vec<f64>,
}

impl NoiseProcess {
    /// A process for actions of dimension `dim`, starting at 0.
    pub fn new(kind: ActionNoise, dim: usize) -> Self {
        NoiseProcess {
            kind,
            state: vec![0.0; dim],
        }
    }

    /// The next noise vector.
    pub fn sample(&mut self, rng: &mut (impl Rng + ?Sized)) -> Vec<f32> {
        match self.kind {
            ActionNoise::None => vec![0.0; self.state.len()],
            ActionNoise::Normal { sigma } => (0..self.state.len())
                .map(|_| (sigma * standard_normal(rng)) as f32)
                .collect(),
            ActionNoise::OrnsteinUhlenbeck { sigma } => {
                let (theta, dt) = (ActionNoise::OU_THETA, ActionNoise::OU_DT);
                for x in &mut self.state {
                    *x += -theta * *x * dt + sigma * dt.sqrt() * standard_normal(rng);
                }
                self.state.iter().map(|&x| x as f32).collect()
            }
        }
    }

    /// Back to 0 (at the start of an episode).
    pub fn reset(&mut self) {
        self.state.iter_mut().for_each(|x| *x = 0.0);
    }

    /// The Ornstein–Uhlenbeck state `x_t` (zeros for the other kinds).
    pub fn state(&self) -> &[f64] {
        &self.state
    }

    /// `clip(ã + ε, −1, 1)` for a policy's action row `(1, |A|)` and the next noise `ε`.
    pub fn add_to(&mut self, unit: Array2<f32>, rng: &mut (impl Rng + ?Sized)) -> Array2<f32> {
        let epsilon = self.sample(rng);
        let mut noisy = unit;
        for (a, e) in noisy.row_mut(0).iter_mut().zip(epsilon) {
            *a = (*a + e).clamp(-1.0, 1.0);
        }
        noisy
    }
}

/// The Ornstein–Uhlenbeck state `x_t` (`name`).
impl Resumable for NoiseProcess {
    fn save(&self, name: &str, state: &mut TrainingState) {
        state.put_f64(name, self.state.clone());
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        self.state = state.f64s(name, Some(self.state.len()))?;
        Ok(())
    }
}

/// One draw of `N(0, 1)`.
pub fn standard_normal(rng: &mut (impl Rng + ?Sized)) -> f64 {
    StandardNormal.sample(rng)
}

/// `ξ ~ N(0, I)` of shape `(B, d)`, drawn row by row.
///
/// ```
/// use rand::SeedableRng;
/// use wengert_rl::continuous::standard_normal_array;
/// let xi = standard_normal_array::<f64>(4, 2, &mut rand::rngs::StdRng::seed_from_u64(0));
/// assert_eq!(xi.shape(), &[4, 2]);
/// ```
pub fn standard_normal_array<T: Float>(
    batch: usize,
    d: usize,
    rng: &mut (impl Rng + ?Sized),
) -> ArrayD<T> {
    ArrayD::from_shape_simple_fn(ndarray::IxDyn(&[batch, d]), || {
        T::from_f64(standard_normal(rng))
    })
}

/// Layer sizes `[input, hidden…, output]`.
fn sizes(input: usize, hidden: &[usize], output: usize) -> Vec<usize> {
    let mut s = vec![input];
    s.extend(hidden);
    s.push(output);
    s
}

/// `Q_φ(s, a) = f_φ([s; a])`: an MLP (ReLU, PyTorch's default initialisation, as
/// Stable-Baselines3) on the concatenated state and unit-box action.
///
/// ```
/// use rand::SeedableRng;
/// use autograd::prelude::*;
/// use nn::ParamStore;
/// use wengert_rl::continuous::QNetwork;
/// let mut store = ParamStore::<f32>::new();
/// let q = QNetwork::new(&mut store.root().sub("q"), 3, 1, &[16, 16], &mut rand::rngs::StdRng::seed_from_u64(0));
/// let s = Var::constant(ndarray::Array2::<f32>::zeros((5, 3)));
/// let a = Var::constant(ndarray::Array2::<f32>::zeros((5, 1)));
/// assert_eq!(q.forward(&store.constants(), &s, &a).shape(), &[5]);
/// ```
#[derive(Clone, Debug)]
pub struct QNetwork {
    pub mlp: Mlp,
}

impl QNetwork {
    /// A critic for `observation_dim`-dimensional states and `action_dim`-dimensional actions.
    pub fn new<T: Float>(
        path: &mut Path<'_, T>,
        observation_dim: usize,
        action_dim: usize,
        hidden: &[usize],
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        QNetwork {
            mlp: Mlp::builder(&sizes(observation_dim + action_dim, hidden, 1)).build(path, rng),
        }
    }

    /// `Q(s, a)` for a batch: `s` is `(B, obs_dim)`, `a` is `(B, |A|)`; the result is `(B)`.
    pub fn forward<T: Float>(
        &self,
        params: &nn::Bound<'_, T>,
        observations: &Var<T>,
        actions: &Var<T>,
    ) -> Var<T> {
        let input = Var::concat(&[observations, actions], -1);
        self.mlp.forward(params, &input).squeeze(-1)
    }
}

/// Two independent critics `Q_φ1, Q_φ2` (parameters `q1.*`, `q2.*`), for the clipped double-Q
/// estimate `min_i Q_φi(s, a)` of TD3 and SAC.
#[derive(Clone, Debug)]
pub struct TwinQ {
    pub q1: QNetwork,
    pub q2: QNetwork,
}

impl TwinQ {
    /// Both critics, under `path.q1` and `path.q2`.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use nn::ParamStore;
    /// use wengert_rl::continuous::TwinQ;
    /// let mut store = ParamStore::<f32>::new();
    /// TwinQ::new(&mut store.root(), 3, 1, &[8], &mut rand::rngs::StdRng::seed_from_u64(0));
    /// assert!(store.id("q1.0.weight").is_some() && store.id("q2.2.bias").is_some());
    /// ```
    pub fn new<T: Float>(
        path: &mut Path<'_, T>,
        observation_dim: usize,
        action_dim: usize,
        hidden: &[usize],
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        TwinQ {
            q1: QNetwork::new(
                &mut path.sub("q1"),
                observation_dim,
                action_dim,
                hidden,
                rng,
            ),
            q2: QNetwork::new(
                &mut path.sub("q2"),
                observation_dim,
                action_dim,
                hidden,
                rng,
            ),
        }
    }

    /// `(Q_φ1(s, a), Q_φ2(s, a))`, each `(B)`.
    pub fn forward<T: Float>(
        &self,
        params: &nn::Bound<'_, T>,
        observations: &Var<T>,
        actions: &Var<T>,
    ) -> (Var<T>, Var<T>) {
        (
            self.q1.forward(params, observations, actions),
            self.q2.forward(params, observations, actions),
        )
    }

    /// `min(Q_φ1(s, a), Q_φ2(s, a))`, elementwise.
    pub fn min<T: Float>(
        &self,
        params: &nn::Bound<'_, T>,
        observations: &Var<T>,
        actions: &Var<T>,
    ) -> Var<T> {
        let (q1, q2) = self.forward(params, observations, actions);
        q1.minimum(&q2)
    }
}

/// The deterministic policy `μ_θ(s) = tanh(f_θ(s)) ∈ (−1, 1)^|A|` of DDPG and TD3 (ReLU hidden
/// layers, PyTorch's default initialisation, as Stable-Baselines3).
///
/// ```
/// use rand::SeedableRng;
/// use autograd::prelude::*;
/// use nn::ParamStore;
/// use wengert_rl::continuous::DeterministicActor;
/// let mut store = ParamStore::<f32>::new();
/// let mu = DeterministicActor::new(&mut store.root().sub("actor"), 3, 2, &[16], &mut rand::rngs::StdRng::seed_from_u64(0));
/// let a = mu.forward(&store.constants(), &Var::constant(ndarray::Array2::<f32>::ones((4, 3)) * 100.0));
/// assert_eq!(a.shape(), &[4, 2]);
/// assert!(a.value().iter().all(|v| v.abs() <= 1.0));
/// ```
#[derive(Clone, Debug)]
pub struct DeterministicActor {
    pub mlp: Mlp,
}

impl DeterministicActor {
    /// A policy for `observation_dim`-dimensional states and `action_dim`-dimensional actions.
    pub fn new<T: Float>(
        path: &mut Path<'_, T>,
        observation_dim: usize,
        action_dim: usize,
        hidden: &[usize],
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        DeterministicActor {
            mlp: Mlp::builder(&sizes(observation_dim, hidden, action_dim))
                .output_activation(nn::Activation::Tanh)
                .build(path, rng),
        }
    }

    /// `μ_θ(s)`, `(B, |A|)`.
    pub fn forward<T: Float>(&self, params: &nn::Bound<'_, T>, observations: &Var<T>) -> Var<T> {
        self.mlp.forward(params, observations)
    }
}

/// The deterministic policy gradient loss `L(θ) = −mean_B Q_φ(s, μ_θ(s))` through one critic,
/// DDPG's and TD3's actor loss (bind `critic_params` as constants so that only `θ` is
/// trained).
pub fn deterministic_policy_loss<T: Float>(
    actor: &DeterministicActor,
    actor_params: &Bound<'_, T>,
    critic: &QNetwork,
    critic_params: &Bound<'_, T>,
    observations: &Var<T>,
) -> Var<T> {
    let actions = actor.forward(actor_params, observations);
    critic
        .forward(critic_params, observations, &actions)
        .mean_all()
        .neg()
}

/// A replayed batch of transitions `(s, ã, r, s', γ^m(1 − d))` as constants of type `T`.
#[derive(Clone, Debug)]
pub struct Transitions<T: Float> {
    /// `s`, `(B, obs_dim)`.
    pub observations: Var<T>,
    /// `ã`, unit-box actions, `(B, |A|)`.
    pub actions: Var<T>,
    /// `r` (the discounted sum of the rewards of an n-step transition), `(B)`.
    pub rewards: Var<T>,
    /// `s'`, `(B, obs_dim)`.
    pub next_observations: Var<T>,
    /// `γ^m (1 − d)`, the factor of the bootstrap value, `(B)`.
    pub bootstrap: Var<T>,
}

impl<T: Float> Transitions<T> {
    /// The batch's arrays as constants.
    ///
    /// # Panics
    /// If the batch holds discrete actions.
    pub fn new(batch: &Batch) -> Self {
        let rows = |a: &Array2<f32>| Var::constant(a.mapv(|v| T::from_f64(v as f64)));
        let vector = |a: &Array1<f64>| Var::constant(a.mapv(T::from_f64));
        let BatchActions::Continuous(actions) = &batch.actions else {
            panic!("continuous agents replay continuous actions")
        };
        Transitions {
            observations: rows(&batch.observations),
            actions: rows(actions),
            rewards: vector(&batch.rewards),
            next_observations: rows(&batch.next_observations),
            bootstrap: vector(&batch.bootstrap_factors()),
        }
    }
}

/// The mean of a value's elements, as `f64`.
pub fn mean<T: Float>(value: &Var<T>) -> f64 {
    let v = value.value();
    v.iter().map(|&x| x.as_f64()).sum::<f64>() / v.len().max(1) as f64
}

/// The environment side of the off-policy loop: one environment, the replay buffer `D` of
/// unit-box transitions, the counts of environment and gradient steps, and a clock for the
/// throughput.
///
/// ```
/// use rand::SeedableRng;
/// use wengert_rl::continuous::Collector;
/// let mut collector = Collector::new("Pendulum-v1", 1000, 0, 0.99).unwrap();
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let mut returns = Vec::new();
/// for _ in 0..200 {
///     let actions = collector.random_actions(&mut rng);
///     returns.extend(collector.step(&actions).unwrap());
/// }
/// assert_eq!(collector.buffer.len(), 200);
/// assert!(returns.len() == 1 && returns[0] < 0.0); // the 200-step limit
/// ```
pub struct Collector {
    envs: VectorEnv<Box<dyn Env + Send>>,
    /// Unit box ↔ environment bounds.
    pub scale: ActionScale,
    /// `D`, storing unit-box actions.
    pub buffer: ReplayBuffer,
    /// `s_t`, `(1, obs_dim)`: what the agent acts on next.
    pub observations: Array2<f32>,
    /// Environment steps so far.
    pub env_steps: usize,
    /// Gradient steps so far.
    pub gradient_steps: usize,
    gamma: f64,
    clock: Clock,
}

impl Collector {
    /// One copy of `env_id`, reset with `seed`, and a buffer of `buffer_size` transitions.
    pub fn new(
        env_id: &str,
        buffer_size: usize,
        seed: u64,
        gamma: f64,
    ) -> Result<Self, TrainError> {
        let env = make(env_id)?;
        let scale = ActionScale::new(env.action_space())?;
        let mut envs = VectorEnv::new(vec![env], 1)?;
        let observation_dim = envs.single_observation_space().dim();
        let buffer = ReplayBuffer::new(
            buffer_size.max(1),
            observation_dim,
            ActionShape::Continuous(scale.dim()),
        );
        let observations = envs.reset(Some(seed));
        Ok(Collector {
            envs,
            scale,
            buffer,
            observations,
            env_steps: 0,
            gradient_steps: 0,
            gamma,
            clock: Clock::start(),
        })
    }

    /// The length of an observation.
    pub fn observation_dim(&self) -> usize {
        self.observations.ncols()
    }

    /// `|A|`.
    pub fn action_dim(&self) -> usize {
        self.scale.dim()
    }

    /// Uniform actions in the unit box, `(1, |A|)` (the warm-up before `learning_starts`).
    pub fn random_actions(&self, rng: &mut (impl Rng + ?Sized)) -> Array2<f32> {
        Array2::from_shape_fn((1, self.action_dim()), |_| rng.random_range(-1.0..=1.0))
    }

    /// Steps the environment with unit-box actions `(1, |A|)` (clipped into `[−1, 1]`), stores
    /// the transition (bootstrapping through truncation, not termination), and returns the
    /// returns of the episodes that ended.
    pub fn step(&mut self, unit_actions: &Array2<f32>) -> Result<Vec<f64>, TrainError> {
        let unit = unit_actions.mapv(|u| u.clamp(-1.0, 1.0));
        let env_actions = self.scale.rows_to_env(&unit);
        let step = self.envs.step(VectorActions::Continuous(
            env_actions.as_slice().expect("standard layout"),
        ))?;
        self.buffer.push_vector_step(
            &self.observations,
            VectorActions::Continuous(unit.as_slice().expect("standard layout")),
            &step,
            self.gamma,
        );
        self.observations = step.observations;
        self.env_steps += 1;
        Ok(step
            .finished_episodes
            .iter()
            .map(|(_, e)| e.episode_return)
            .collect())
    }

    /// `steps_per_second` and `gradient_steps_per_second` since the start (wall-clock, warm-up
    /// included), and the count `gradient_steps`.
    pub fn throughput(&self) -> Vec<(&'static str, f64)> {
        let wall_time = self.clock.seconds();
        vec![
            ("steps_per_second", self.env_steps as f64 / wall_time),
            (
                "gradient_steps_per_second",
                self.gradient_steps as f64 / wall_time,
            ),
            ("gradient_steps", self.gradient_steps as f64),
        ]
    }
}

/// The environment (`name.envs`, with the observation acted on next), the replay buffer
/// (`name.buffer`) and the environment and gradient steps (`name.counters`); the clock
/// resumes at the state's wall time.
impl Resumable for Collector {
    fn save(&self, name: &str, state: &mut TrainingState) {
        self.envs.save(&format!("{name}.envs"), state);
        self.buffer.save(&format!("{name}.buffer"), state);
        state.put_u64(
            format!("{name}.counters"),
            vec![self.env_steps as u64, self.gradient_steps as u64],
        );
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        self.envs.load(&format!("{name}.envs"), state)?;
        self.buffer.load(&format!("{name}.buffer"), state)?;
        let counters = state.u64s(&format!("{name}.counters"), Some(2))?;
        (self.env_steps, self.gradient_steps) = (counters[0] as usize, counters[1] as usize);
        self.observations = self.envs.observations();
        self.clock = Clock::resume_at(state.wall_time);
        Ok(())
    }
}

/// When the shared loop acts and learns: the settings DDPG, TD3 and SAC have in common.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    /// Environment steps to train for.
    pub total_timesteps: usize,
    /// Steps of uniformly random actions before learning starts.
    pub learning_starts: usize,
    /// Transitions per gradient step.
    pub batch_size: usize,
    /// Environment steps between training phases.
    pub train_freq: usize,
    /// Gradient steps per training phase.
    pub gradient_steps: usize,
    /// Environment steps per iteration (between reports).
    pub log_interval: usize,
}

impl Schedule {
    /// The iterations of the run: the last one may be shorter than `log_interval`.
    pub fn iterations(&self) -> usize {
        self.total_timesteps.div_ceil(self.log_interval.max(1))
    }
}

/// What an algorithm brings to the shared loop: its policy and its update.
pub trait Learner {
    /// The diagnostics [`Learner::update`] reports, averaged over an iteration, in report order.
    const DIAGNOSTICS: &'static [&'static str];

    /// The policy's unit-box action `(1, |A|)` at `observations`, before exploration noise.
    fn act(&self, observations: &Array2<f32>, rng: &mut TrainerRng) -> Array2<f32>;

    /// One gradient step on a replayed batch; `step` counts the run's gradient steps from 1.
    /// Returns named diagnostics (losses, `q_mean`, …).
    fn update(
        &mut self,
        batch: &Batch,
        step: usize,
        rng: &mut TrainerRng,
        iteration: usize,
    ) -> Result<Vec<(&'static str, f64)>, TrainError>;

    /// Values reported once per iteration, after the averaged diagnostics (none by default);
    /// `gradient_steps` counts the run's gradient steps.
    fn report(&self, gradient_steps: usize) -> Vec<(&'static str, f64)> {
        let _ = gradient_steps;
        Vec::new()
    }
}

/// The off-policy loop's state besides the networks: the environment and replay buffer, the
/// exploration noise and the generator every draw comes from.
pub struct OffPolicy {
    /// The environment, `D` and the counters.
    pub collector: Collector,
    /// The exploration noise's state.
    pub noise: NoiseProcess,
    /// The generator: networks' initialisation, actions, batches, noise.
    pub rng: TrainerRng,
}

impl OffPolicy {
    /// A fresh environment and buffer (at most `total_timesteps` slots), the generator seeded,
    /// and the noise at 0.
    pub fn new(
        env_id: &str,
        buffer_size: usize,
        total_timesteps: usize,
        gamma: f64,
        action_noise: ActionNoise,
        seed: u64,
    ) -> Result<Self, TrainError> {
        let rng = TrainerRng::seed_from_u64(seed);
        let collector = Collector::new(env_id, buffer_size.min(total_timesteps), seed, gamma)?;
        let noise = NoiseProcess::new(action_noise, collector.action_dim());
        Ok(OffPolicy {
            collector,
            noise,
            rng,
        })
    }

    /// Iteration `iteration` (from 1) of the loop in the [module doc](self): environment
    /// steps `t` from the next one up to `iteration·log_interval` (or `total_timesteps`), with
    /// `learner`'s policy and updates. (Counting from the steps taken, not from the iteration,
    /// keeps every step when a run stopped after a short last iteration resumes with a larger
    /// budget.)
    pub fn iterate<L: Learner>(
        &mut self,
        learner: &mut L,
        schedule: &Schedule,
        iteration: usize,
    ) -> Result<Report, TrainError> {
        let OffPolicy {
            collector,
            noise,
            rng,
        } = self;
        let first = collector.env_steps + 1;
        let last = (iteration * schedule.log_interval).min(schedule.total_timesteps);
        let mut window = Averages::default();
        let mut episode_returns = Vec::new();
        for t in first..=last {
            // act: uniform warm-up, then the policy's action plus noise
            let unit = if t <= schedule.learning_starts {
                collector.random_actions(rng)
            } else {
                let action = learner.act(&collector.observations, rng);
                noise.add_to(action, rng)
            };
            let finished = collector.step(&unit)?;
            if !finished.is_empty() {
                noise.reset();
            }
            episode_returns.extend(finished);

            // learn
            if t > schedule.learning_starts && t % schedule.train_freq == 0 {
                for _ in 0..schedule.gradient_steps {
                    let batch = collector.buffer.sample(schedule.batch_size, rng);
                    let step = collector.gradient_steps + 1;
                    for (name, value) in learner.update(&batch, step, rng, iteration)? {
                        window.add(name, value);
                    }
                    collector.gradient_steps = step;
                }
            }
        }
        let mut losses = window.take_as(L::DIAGNOSTICS);
        losses.extend(learner.report(collector.gradient_steps));
        losses.extend(collector.throughput());
        Ok(Report {
            env_steps: (last + 1).saturating_sub(first),
            episode_returns,
            losses,
        })
    }

    /// The resumable parts: `noise`, `collector` (environment, buffer, counters) and `rng`.
    pub fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        vec![
            ("noise", Part::State(&mut self.noise)),
            ("collector", Part::State(&mut self.collector)),
            ("rng", Part::State(&mut self.rng)),
        ]
    }
}

/// Running means of named scalars over one iteration.
///
/// ```
/// use wengert_rl::continuous::Averages;
/// let mut window = Averages::default();
/// window.add("critic_loss", 1.0);
/// window.add("critic_loss", 3.0);
/// let means = window.take_as(&["critic_loss", "actor_loss"]);
/// assert_eq!(means[0], ("critic_loss", 2.0));
/// assert!(means[1].1.is_nan()); // no value this iteration (the warm-up)
/// ```
#[derive(Clone, Debug, Default)]
pub struct Averages {
    sums: Vec<(&'static str, f64, usize)>,
}

impl Averages {
    /// Adds one value of `name`.
    pub fn add(&mut self, name: &'static str, value: f64) {
        match self.sums.iter_mut().find(|(n, _, _)| *n == name) {
            Some((_, sum, count)) => {
                *sum += value;
                *count += 1;
            }
            None => self.sums.push((name, value, 1)),
        }
    }

    /// The means of exactly `names`, in that order, NaN for a name with no value in this
    /// window (so that every report has the same columns, warm-up included), and a fresh
    /// window.
    pub fn take_as(&mut self, names: &[&'static str]) -> Vec<(&'static str, f64)> {
        let sums = std::mem::take(&mut self.sums);
        names
            .iter()
            .map(|&name| {
                let mean = sums
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .map(|(_, sum, count)| sum / *count as f64);
                (name, mean.unwrap_or(f64::NAN))
            })
            .collect()
    }
}

/// How a continuous agent turns its actor's output into the deterministic action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyHead {
    /// The output is `μ_θ(s) ∈ (−1, 1)^|A|` itself (DDPG, TD3).
    Deterministic,
    /// The output is `[μ; ln σ]` of a tanh-Gaussian; act with `tanh(μ)` (SAC).
    TanhGaussian,
}

/// A trained DDPG, TD3 or SAC agent. Its [`store`](Agent::store) holds every network — the
/// actor first (`actor.*`), then the critics and targets under their own prefixes — so a
/// checkpoint keeps the whole learner.
pub struct ContinuousAgent {
    /// The Gymnasium id it was trained on.
    pub env_id: String,
    /// Every parameter, actor first.
    pub store: ParamStore<f32>,
    /// The actor network (its ids index `store`).
    pub actor: Mlp,
    /// How the actor's output becomes an action.
    pub head: PolicyHead,
    /// Unit box → environment bounds.
    pub scale: ActionScale,
}

impl ContinuousAgent {
    /// The deterministic unit-box action for each observation row.
    pub fn unit_actions(&self, observations: &Array2<f32>) -> Array2<f32> {
        let params = self.store.constants();
        let out = no_grad(|| {
            self.actor
                .forward(&params, &Var::constant(observations.clone()))
        });
        let d = self.scale.dim();
        let unit = match self.head {
            PolicyHead::Deterministic => out,
            PolicyHead::TanhGaussian => out.narrow(-1, 0, d).tanh(),
        };
        to_rows(unit.value(), d)
    }

    /// Returns of `episodes` deterministic episodes, seeded `seed, seed + 1, …`.
    pub fn evaluate(&self, episodes: usize, seed: u64) -> Result<Vec<f64>, crate::env::EnvError> {
        crate::train::evaluate(self, episodes, seed)
    }
}

impl Agent for ContinuousAgent {
    fn env_id(&self) -> &str {
        &self.env_id
    }

    fn act(&self, observations: &Array2<f32>) -> Actions {
        Actions::Continuous(self.scale.rows_to_env(&self.unit_actions(observations)))
    }

    fn store(&self) -> &ParamStore<f32> {
        &self.store
    }
}

/// A `(B, d)` array from a value of `B·d` elements.
pub fn to_rows(value: &autograd::SharedArray<f32>, d: usize) -> Array2<f32> {
    let rows = value.len() / d.max(1);
    Array2::from_shape_vec((rows, d), value.iter().copied().collect()).expect("B × d values")
}

/// One store holding `actor` (ids unchanged, so its networks still index it) followed by every
/// entry of the `others`, each name prefixed: the learner's whole state for a checkpoint.
///
/// ```
/// use nn::ParamStore;
/// use wengert_rl::continuous::merge_stores;
/// let mut actor = ParamStore::<f32>::new();
/// let w = actor.root().sub("actor").param("w", ndarray::arr1(&[1.0f32]));
/// let mut critic = ParamStore::<f32>::new();
/// critic.root().sub("q1").param("w", ndarray::arr1(&[2.0f32]));
/// let all = merge_stores(&actor, &[("critic", &critic)]);
/// assert_eq!(all.id("actor.w"), Some(w));
/// assert!(all.id("critic.q1.w").is_some());
/// ```
pub fn merge_stores(
    actor: &ParamStore<f32>,
    others: &[(&str, &ParamStore<f32>)],
) -> ParamStore<f32> {
    let mut all = actor.clone();
    for (prefix, store) in others {
        for id in store.ids() {
            all.add(
                &format!("{prefix}.{}", store.name(id)),
                Kind::Parameter,
                store.value(id).to_owned(),
            );
        }
    }
    all
}
