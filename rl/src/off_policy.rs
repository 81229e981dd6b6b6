//! # What an off-policy value learner shares: replay, exploration, collection
//!
//! A replay-based learner repeats
//!
//! ```text
//! a_t ← ε-greedy in the learner's greedy actions, ε(t) decaying linearly   (epsilon_greedy)
//! step the N environments; push (o, a, r, o', terminated) through each copy's
//!     n-step window into the replay D                                      (OffPolicyEnvs::step)
//! sample minibatches from D (uniformly, or by priority with weights w_i)   (Replay::sample)
//! update on them; give the sampled transitions their new priorities       (Replay::update_priorities)
//! ```
//!
//! [`Replay`] puts the uniform and the prioritised buffers of [`crate::buffers`] behind one
//! interface, [`OffPolicyEnvs`] holds the environments, their n-step windows and the step
//! count `t`, and [`ExplorationSchedule`] and [`epsilon_greedy`] choose the actions.

use ndarray::Array2;
use rand::RngExt;

use crate::buffers::{
    ActionShape, Batch, NStepAccumulator, PrioritizedReplay, ReplayBuffer, ReplayStorage,
    Transition,
};
use crate::common::trainer::Part;
use crate::env::{Env, Space, VectorActions, VectorEnv, make};
use crate::snapshot::{Resumable, StateError, TrainerRng, TrainingState};
use crate::train::TrainError;

/// Uniform or prioritised replay, behind one interface.
pub enum Replay {
    /// `P(i) = 1/N`, every weight 1.
    Uniform(ReplayBuffer),
    /// `P(i) ∝ p_i^α`, weights `w_i = (N P(i))^{−β} / max_j w_j`.
    Prioritized(PrioritizedReplay),
}

/// How a prioritised replay weighs its transitions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Priorities {
    /// `α`: the prioritisation exponent.
    pub alpha: f64,
    /// `ε` of `p = |δ| + ε`.
    pub epsilon: f64,
}

impl Replay {
    /// An empty replay of `capacity` transitions: prioritised when `priorities` are given.
    ///
    /// ```
    /// use wengert_rl::buffers::ActionShape;
    /// use wengert_rl::off_policy::{Priorities, Replay};
    /// let priorities = Priorities { alpha: 0.6, epsilon: 1e-6 };
    /// let replay = Replay::new(100, 4, ActionShape::Discrete, Some(priorities));
    /// assert!(matches!(replay, Replay::Prioritized(_)) && replay.is_empty());
    /// ```
    pub fn new(
        capacity: usize,
        observation_dim: usize,
        action_shape: ActionShape,
        priorities: Option<Priorities>,
    ) -> Self {
        match priorities {
            Some(p) => Replay::Prioritized(PrioritizedReplay::new(
                capacity,
                observation_dim,
                action_shape,
                p.alpha,
                p.epsilon,
            )),
            None => Replay::Uniform(ReplayBuffer::new(capacity, observation_dim, action_shape)),
        }
    }

    /// Stores one transition (a prioritised one with the largest priority so far).
    pub fn push(&mut self, transition: Transition<'_>) {
        match self {
            Replay::Uniform(buffer) => buffer.push(transition),
            Replay::Prioritized(buffer) => buffer.push(transition),
        };
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        match self {
            Replay::Uniform(buffer) => buffer.is_empty(),
            Replay::Prioritized(buffer) => buffer.is_empty(),
        }
    }

    /// `batch_size` transitions, with their importance weights at exponent `beta` (all 1 for
    /// uniform replay, which ignores `beta`).
    pub fn sample(&self, batch_size: usize, beta: f64, rng: &mut TrainerRng) -> Batch {
        match self {
            Replay::Uniform(buffer) => buffer.sample(batch_size, rng),
            Replay::Prioritized(buffer) => buffer.sample(batch_size, beta, rng),
        }
    }

    /// `p_i ← |δ_i| + ε` for the sampled slots (nothing for uniform replay).
    pub fn update_priorities(&mut self, indices: &[usize], td_errors: &[f64]) {
        if let Replay::Prioritized(buffer) = self {
            buffer.update_priorities(indices, td_errors);
        }
    }
}

impl Resumable for Replay {
    fn save(&self, name: &str, state: &mut TrainingState) {
        match self {
            Replay::Uniform(buffer) => buffer.save(name, state),
            Replay::Prioritized(buffer) => buffer.save(name, state),
        }
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        match self {
            Replay::Uniform(buffer) => buffer.load(name, state),
            Replay::Prioritized(buffer) => buffer.load(name, state),
        }
    }
}

/// The exploration rate `ε(t) = ε₀ + (ε_end − ε₀) min(1, t / (f T))` after `t` environment
/// steps of a budget of `T`.
///
/// ```
/// use wengert_rl::off_policy::ExplorationSchedule;
/// let schedule = ExplorationSchedule { initial: 1.0, last: 0.1, fraction: 0.5, total_timesteps: 1000 };
/// assert_eq!(schedule.epsilon(0), 1.0);
/// assert!((schedule.epsilon(250) - 0.55).abs() < 1e-12);
/// assert!((schedule.epsilon(900) - 0.1).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExplorationSchedule {
    /// `ε₀`.
    pub initial: f64,
    /// `ε_end`.
    pub last: f64,
    /// `f`: the fraction of the budget over which `ε` decays.
    pub fraction: f64,
    /// `T`.
    pub total_timesteps: usize,
}

impl ExplorationSchedule {
    /// `ε(t)`.
    pub fn epsilon(&self, t: usize) -> f64 {
        let decay_steps = self.fraction * self.total_timesteps as f64;
        let progress = if decay_steps > 0.0 {
            (t as f64 / decay_steps).min(1.0)
        } else {
            1.0
        };
        self.initial + (self.last - self.initial) * progress
    }
}

/// One action per copy: with probability `ε` (always, when `random_only`) uniform in
/// `0..num_actions`, else the greedy one. The generator draws first one coin per copy (none
/// when `random_only`), then one action per exploring copy; `greedy` is called only when some
/// copy does not explore.
///
/// ```
/// use rand::SeedableRng;
/// use wengert_rl::off_policy::epsilon_greedy;
/// use wengert_rl::snapshot::TrainerRng;
/// let mut rng = TrainerRng::seed_from_u64(0);
/// assert_eq!(epsilon_greedy(3, 4, 0.0, false, &mut rng, || vec![2, 1, 0]), vec![2, 1, 0]);
/// let random = epsilon_greedy(3, 4, 1.0, false, &mut rng, || unreachable!());
/// assert!(random.iter().all(|&a| a < 4));
/// ```
pub fn epsilon_greedy(
    copies: usize,
    num_actions: usize,
    epsilon: f64,
    random_only: bool,
    rng: &mut TrainerRng,
    greedy: impl FnOnce() -> Vec<usize>,
) -> Vec<usize> {
    let explore: Vec<bool> = (0..copies)
        .map(|_| random_only || rng.random::<f64>() < epsilon)
        .collect();
    let greedy_actions = (!explore.iter().all(|&e| e)).then(greedy);
    (0..copies)
        .map(|i| match &greedy_actions {
            Some(greedy) if !explore[i] => greedy[i],
            _ => rng.random_range(0..num_actions),
        })
        .collect()
}

/// Whether a counter that moved from `before` to `after` passed a multiple of `every`.
///
/// ```
/// use wengert_rl::off_policy::crossed;
/// assert!(crossed(98, 102, 100) && !crossed(102, 106, 100));
/// ```
pub fn crossed(before: usize, after: usize, every: usize) -> bool {
    after / every > before / every
}

/// The reports of a run of `total_timesteps` steps in `num_envs` environments, reporting at
/// every step that passes a multiple of `log_interval` and at the last step: of the
/// `S = ⌈T / N⌉` steps, steps `1 … S − 1` pass `⌊(S − 1) N / log_interval⌋` multiples, but
/// report at most once each.
///
/// ```
/// use wengert_rl::off_policy::reports;
/// assert_eq!(reports(1000, 1, 250), 4);
/// assert_eq!(reports(1001, 1, 250), 5); // 250, 500, 750, 1000, and the last step
/// assert_eq!(reports(10, 3, 2), 4); // every step: 3, 6, 9 pass a multiple of 2; 12 is last
/// ```
pub fn reports(total_timesteps: usize, num_envs: usize, log_interval: usize) -> usize {
    let steps = total_timesteps.div_ceil(num_envs);
    if steps == 0 {
        return 0;
    }
    let passed = (steps - 1) * num_envs / log_interval;
    passed.min(steps - 1) + 1
}

/// The environments of an off-policy learner: `N` copies in lockstep, one n-step window per
/// copy, and the environment steps `t` taken so far (over all copies).
pub struct OffPolicyEnvs {
    /// `N` copies of the environment.
    pub envs: VectorEnv<Box<dyn Env + Send>>,
    /// Copy `i`'s open n-step window (with `n = 1` it emits every step at once).
    pub windows: NStepWindows,
    /// `t`.
    pub steps: Steps,
}

/// How an off-policy learner's environments are set up.
pub struct EnvSettings {
    /// `N`: parallel environments.
    pub num_envs: usize,
    /// Threads stepping them.
    pub env_threads: usize,
    /// Seeds `seed, seed + 1, …` of the first reset.
    pub seed: u64,
    /// `n` of n-step returns.
    pub n_step: usize,
    /// `γ` of the n-step returns.
    pub gamma: f64,
}

impl OffPolicyEnvs {
    /// `N` fresh copies of `env_id`, reset with the seed, and their empty windows.
    pub fn new(
        env_id: &str,
        settings: &EnvSettings,
        action_shape: ActionShape,
    ) -> Result<Self, TrainError> {
        let copies = (0..settings.num_envs)
            .map(|_| make(env_id))
            .collect::<Result<Vec<_>, _>>()?;
        let mut envs = VectorEnv::new(copies, settings.env_threads)?;
        envs.reset(Some(settings.seed));
        let dim = envs.single_observation_space().dim();
        let window = NStepAccumulator::new(settings.n_step, settings.gamma, dim, action_shape);
        Ok(OffPolicyEnvs {
            envs,
            windows: NStepWindows(vec![window; settings.num_envs]),
            steps: Steps(0),
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

    /// The observations the copies stand at (after any auto-reset).
    pub fn observations(&self) -> Array2<f32> {
        self.envs.observations()
    }

    /// Steps every copy with `actions`, chosen on `observations`; pushes each copy's
    /// `(o, a, R, o', terminated, γ^m)` through its window into `replay` and counts the steps.
    /// Returns the next observations and the returns of the episodes that finished.
    pub fn step(
        &mut self,
        observations: &Array2<f32>,
        actions: VectorActions<'_>,
        replay: &mut Replay,
    ) -> Result<(Array2<f32>, Vec<f64>), TrainError> {
        let step = self.envs.step(actions)?;
        self.steps.0 += self.envs.num_envs();
        NStepAccumulator::push_vector_step(
            &mut self.windows.0,
            observations,
            actions,
            &step,
            |transition| replay.push(transition),
        );
        let returns = step
            .finished_episodes
            .iter()
            .map(|(_, e)| e.episode_return)
            .collect();
        Ok((step.observations, returns))
    }

    /// The resumable parts: `envs` (every copy's state), `n_step` (the open windows) and
    /// `steps` (`t`).
    pub fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        vec![
            ("envs", Part::State(&mut self.envs)),
            ("n_step", Part::State(&mut self.windows)),
            ("steps", Part::State(&mut self.steps)),
        ]
    }
}

/// One n-step window per copy, saved as `name.0`, `name.1`, ….
pub struct NStepWindows(pub Vec<NStepAccumulator>);

impl Resumable for NStepWindows {
    fn save(&self, name: &str, state: &mut TrainingState) {
        for (i, window) in self.0.iter().enumerate() {
            state.save(&format!("{name}.{i}"), window);
        }
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        for (i, window) in self.0.iter_mut().enumerate() {
            state.load(&format!("{name}.{i}"), window)?;
        }
        Ok(())
    }
}

/// A count of steps (environment or gradient steps).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Steps(pub usize);

impl Resumable for Steps {
    fn save(&self, name: &str, state: &mut TrainingState) {
        state.put_u64(name, vec![self.0 as u64]);
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        self.0 = state.count(name)?;
        Ok(())
    }
}

/// Gradient steps taken and the seconds spent in them (sampling, targets, forward, backward,
/// the optimiser step), saved as `name.count` and `name.seconds`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GradientClock {
    /// Gradient steps so far.
    pub steps: usize,
    /// Seconds spent in them.
    pub seconds: f64,
}

impl GradientClock {
    /// Counts `steps` more gradient steps that took `seconds`.
    pub fn add(&mut self, steps: usize, seconds: f64) {
        self.steps += steps;
        self.seconds += seconds;
    }

    /// Gradient steps per second of gradient steps.
    ///
    /// ```
    /// use wengert_rl::off_policy::GradientClock;
    /// let mut clock = GradientClock::default();
    /// clock.add(64, 0.5);
    /// assert_eq!(clock.per_second(), 128.0);
    /// ```
    pub fn per_second(&self) -> f64 {
        self.steps as f64 / self.seconds.max(f64::MIN_POSITIVE)
    }
}

impl Resumable for GradientClock {
    fn save(&self, name: &str, state: &mut TrainingState) {
        state.put_u64(format!("{name}.count"), vec![self.steps as u64]);
        state.put_f64(format!("{name}.seconds"), vec![self.seconds]);
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        self.steps = state.count(&format!("{name}.count"))?;
        self.seconds = state.f64s(&format!("{name}.seconds"), Some(1))?[0];
        Ok(())
    }
}
