//! The environments of the off-policy loop: `N` copies in lockstep, one n-step window per copy,
//! the step count `t`, and, for a Box action space, the unit box the policies act in.

use ndarray::Array2;
use rand::RngExt;

use super::{ActionScale, Replay};
use crate::buffers::{ActionShape, NStepAccumulator};
use crate::common::trainer::Part;
use crate::env::{Env, Episode, Space, VectorActions, VectorEnv, make};
use crate::policy::Actions;
use crate::snapshot::{Resumable, StateError, TrainerRng, TrainingState};
use crate::train::TrainError;

/// The environments of an off-policy learner: `N` copies in lockstep, one n-step window per
/// copy, and the environment steps `t` taken so far (over all copies).
///
/// A Box action space is acted on in the unit box `ã ∈ [−1, 1]^|A|` (see [`ActionScale`]): the
/// replay stores `ã` and the environments receive `a = low + (ã + 1)/2 · (high − low)`, as
/// Stable-Baselines3 does, so the critics and the exploration noise see the unit box whatever
/// the environment's bounds.
///
/// ```
/// use rand::SeedableRng;
/// use wengert_rl::buffers::ActionShape;
/// use wengert_rl::common::off_policy::{EnvSettings, OffPolicyEnvs, Replay};
/// use wengert_rl::snapshot::TrainerRng;
/// let settings = EnvSettings { num_envs: 1, env_threads: 1, seed: 0, n_step: 1, gamma: 0.99 };
/// let mut envs = OffPolicyEnvs::new("Pendulum-v1", &settings).unwrap();
/// let mut replay = Replay::new(1000, 3, ActionShape::Continuous(1), None);
/// let (mut rng, mut observations, mut returns) = (TrainerRng::seed_from_u64(0), envs.observations(), vec![]);
/// for _ in 0..200 {
///     let actions = envs.random_actions(&mut rng);
///     let (next, finished) = envs.step(&observations, &actions, &mut replay).unwrap();
///     (observations, returns) = (next, [returns, finished].concat());
/// }
/// assert_eq!(envs.steps.0, 200);
/// assert!(returns.len() == 1 && returns[0].1.length == 200); // the 200-step limit
/// ```
pub struct OffPolicyEnvs {
    /// `N` copies of the environment.
    pub envs: VectorEnv<Box<dyn Env + Send>>,
    /// Copy `i`'s open n-step window (with `n = 1` it emits every step at once).
    pub windows: NStepWindows,
    /// `t`.
    pub steps: Steps,
    /// Unit box ↔ the environment's bounds, for a Box action space.
    scale: Option<ActionScale>,
}

/// How an off-policy learner's environments are set up (read by name from a configuration,
/// see [`Settings::of`](super::Settings::of): counts it does not have are 1).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct EnvSettings {
    /// `N`: parallel environments.
    #[serde(default = "super::one")]
    pub num_envs: usize,
    /// Threads stepping them.
    #[serde(default = "super::one")]
    pub env_threads: usize,
    /// Seeds `seed, seed + 1, …` of the first reset.
    pub seed: u64,
    /// `n` of n-step returns.
    #[serde(default = "super::one")]
    pub n_step: usize,
    /// `γ` of the n-step returns.
    pub gamma: f64,
}

impl OffPolicyEnvs {
    /// `N` fresh copies of `env_id`, reset with the seed, and their empty windows. A Box action
    /// space must be bounded.
    pub fn new(env_id: &str, settings: &EnvSettings) -> Result<Self, TrainError> {
        let copies = (0..settings.num_envs)
            .map(|_| make(env_id))
            .collect::<Result<Vec<_>, _>>()?;
        let mut envs = VectorEnv::new(copies, settings.env_threads)?;
        envs.reset(Some(settings.seed));
        let scale = match envs.single_action_space() {
            Space::Discrete { .. } => None,
            space => Some(ActionScale::new(space)?),
        };
        let dim = envs.single_observation_space().dim();
        let action_shape = match &scale {
            None => ActionShape::Discrete,
            Some(scale) => ActionShape::Continuous(scale.dim()),
        };
        let window = NStepAccumulator::new(settings.n_step, settings.gamma, dim, action_shape);
        Ok(OffPolicyEnvs {
            envs,
            windows: NStepWindows(vec![window; settings.num_envs]),
            steps: Steps(0),
            scale,
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

    /// How the replay stores an action: an index, or a unit-box vector.
    pub fn action_shape(&self) -> ActionShape {
        match &self.scale {
            None => ActionShape::Discrete,
            Some(scale) => ActionShape::Continuous(scale.dim()),
        }
    }

    /// The unit box's map to the environment's bounds (`None` for a discrete space).
    pub fn scale(&self) -> Option<&ActionScale> {
        self.scale.as_ref()
    }

    /// The observations the copies stand at (after any auto-reset).
    pub fn observations(&self) -> Array2<f32> {
        self.envs.observations()
    }

    /// One uniformly random action per copy: an index in `0..n`, or a point of the unit box.
    pub fn random_actions(&self, rng: &mut TrainerRng) -> Actions {
        let copies = self.envs.num_envs();
        match (&self.scale, self.envs.single_action_space()) {
            (Some(scale), _) => {
                Actions::Continuous(Array2::from_shape_fn((copies, scale.dim()), |_| {
                    rng.random_range(-1.0..=1.0)
                }))
            }
            (None, Space::Discrete { n }) => {
                Actions::Discrete((0..copies).map(|_| rng.random_range(0..*n)).collect())
            }
            (None, space) => unreachable!("a {space} action space has a scale"),
        }
    }

    /// Steps every copy with `actions` (unit-box rows are clipped into `[−1, 1]` and scaled to
    /// the environment's bounds), chosen on `observations`; pushes each copy's
    /// `(o, a, R, o', terminated, γ^m)` through its window into `replay` and counts the steps.
    /// Returns the next observations and, for each episode that finished, its copy, return and
    /// length.
    pub fn step(
        &mut self,
        observations: &Array2<f32>,
        actions: &Actions,
        replay: &mut Replay,
    ) -> Result<(Array2<f32>, FinishedEpisodes), TrainError> {
        let unit;
        let (stored, step) = match (actions, &self.scale) {
            (Actions::Discrete(a), _) => {
                let actions = VectorActions::Discrete(a);
                (actions, self.envs.step(actions)?)
            }
            (Actions::Continuous(a), Some(scale)) => {
                unit = a.mapv(|u| u.clamp(-1.0, 1.0));
                let env_actions = scale.rows_to_env(&unit);
                let step = self.envs.step(VectorActions::Continuous(
                    env_actions.as_slice().expect("standard layout"),
                ))?;
                let stored = VectorActions::Continuous(unit.as_slice().expect("standard layout"));
                (stored, step)
            }
            (Actions::Continuous(_), None) => {
                return Err(TrainError::Config(format!(
                    "continuous actions for the discrete action space {}",
                    self.envs.single_action_space()
                )));
            }
        };
        self.steps.0 += self.envs.num_envs();
        NStepAccumulator::push_vector_step(
            &mut self.windows.0,
            observations,
            stored,
            &step,
            |transition| replay.push(transition),
        );
        Ok((step.observations, step.finished_episodes))
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

/// The copy and the return and length of each episode that finished in a step.
pub type FinishedEpisodes = Vec<(usize, Episode)>;

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
