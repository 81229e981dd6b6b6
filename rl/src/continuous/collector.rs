//! The environment side of the off-policy loop: one environment and the replay buffer.

use ndarray::Array2;
use rand::{Rng, RngExt};

use super::ActionScale;
use crate::buffers::{ActionShape, ReplayBuffer, ReplayStorage};
use crate::env::{Env, VectorActions, VectorEnv, make};
use crate::snapshot::{Clock, Resumable, StateError, TrainingState};
use crate::train::TrainError;

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
