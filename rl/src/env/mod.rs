//! # Environments — Gymnasium's contract in Rust
//!
//! An environment is a Markov decision process seen one transition at a time. From a state
//! `s_t` the agent sends an action `a_t`; the environment answers with the next observation
//! `o_{t+1}`, the reward `r_{t+1}`, and two flags:
//!
//! - `terminated`: `s_{t+1}` is a terminal state of the MDP. Its value is zero, so a learner
//!   must **not** bootstrap from `o_{t+1}`.
//! - `truncated`: the episode was cut short for a reason outside the MDP (a time limit). The
//!   state is not terminal, so a learner **should** bootstrap from `o_{t+1}`.
//!
//! This follows Gymnasium: [`Env::reset`] starts an episode (optionally re-seeding the
//! environment's random number generator) and returns the first observation; [`Env::step`]
//! advances it. Observations are `f32` like Gymnasium's `float32` boxes; a discrete observation
//! (FrozenLake's cell index) is one `f32` holding the index. Actions are an [`Action`]:
//! `Action::Discrete(usize)` or `Action::Continuous(&[f32])` (Gymnasium's continuous
//! action boxes are `float32` too). Spaces ([`Space`]) describe themselves.
//!
//! The contract is checked, not assumed:
//! - a discrete action that does not exist, or an action of the wrong kind or dimension, is an
//!   [`EnvError::InvalidAction`] naming the action and the space;
//! - a continuous action outside its box is clipped exactly where and how Gymnasium clips it
//!   (inside each environment's `step`);
//! - stepping a finished episode (terminated or truncated) or one never reset is an
//!   [`EnvError::NeedsReset`]. (Gymnasium only warns and keeps going with undefined results.)
//!
//! Time limits are a wrapper, [`TimeLimit`], exactly as in Gymnasium; [`make`] builds an
//! environment by its Gymnasium id with its registered time limit.
//! [`EpisodeStatistics`] records each finished episode's return and length, and
//! [`VectorEnv`] steps several copies with auto-reset, optionally on several threads.
//!
//! For speed, the required methods write the observation into a caller's buffer
//! ([`Env::reset_into`], [`Env::step_into`]); [`Env::reset`] and [`Env::step`] are the
//! Gymnasium-shaped conveniences that allocate.

mod acrobot;
mod cartpole;
mod episode_statistics;
mod error;
mod frozen_lake;
mod gridworld;
mod mask_velocity;
mod mountain_car;
mod mountain_car_continuous;
mod mountain_car_value;
mod pendulum;
pub mod point_navigation;
mod shaping;
mod skills;
mod spaces;
mod tabular_model;
mod time_limit;
mod vector;

pub use acrobot::Acrobot;
pub use cartpole::CartPole;
pub use episode_statistics::{Episode, EpisodeStatistics};
pub use error::EnvError;
pub use frozen_lake::{FrozenLake, MAP_4X4, MAP_8X8};
pub use gridworld::{Gridworld, GridworldRewards};
pub use mask_velocity::{MaskVelocity, NO_VELOCITY};
pub use mountain_car::MountainCar;
pub use mountain_car_continuous::MountainCarContinuous;
pub use mountain_car_value::MountainCarValue;
pub use pendulum::Pendulum;
pub use point_navigation::PointNavigation;
pub use shaping::{
    POTENTIALS, Potential, PotentialShaping, Shaping, VSTAR_GRID, shape_model, shape_model_with,
};
pub use skills::{SkillConditioned, split_skills};
pub use spaces::{BoxSpace, Space};
pub use tabular_model::{TabularModel, Transition};
pub use time_limit::TimeLimit;
pub use vector::{VectorActions, VectorEnv, VectorStep};

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// The random number generator every environment owns (portable, so a seed means the same
/// episode on every machine).
pub type EnvRng = Xoshiro256PlusPlus;

/// One action, discrete or continuous, borrowed so that stepping never allocates.
///
/// ```
/// use wengert_rl::env::Action;
/// let push_right = Action::from(1);
/// assert_eq!(push_right, Action::Discrete(1));
/// let torque = [0.5_f32];
/// assert_eq!(Action::from(&torque[..]), Action::Continuous(&[0.5]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action<'a> {
    /// An index into a [`Space::Discrete`].
    Discrete(usize),
    /// A point of a [`Space::Box`] (clipped by the environment if outside).
    Continuous(&'a [f32]),
}

impl From<usize> for Action<'_> {
    fn from(action: usize) -> Self {
        Action::Discrete(action)
    }
}

impl<'a> From<&'a [f32]> for Action<'a> {
    fn from(action: &'a [f32]) -> Self {
        Action::Continuous(action)
    }
}

impl std::fmt::Display for Action<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Discrete(a) => write!(f, "discrete action {a}"),
            Action::Continuous(a) => write!(f, "continuous action {a:?}"),
        }
    }
}

/// What one step returns apart from the observation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Feedback {
    /// `r_{t+1}`.
    pub reward: f64,
    /// `s_{t+1}` is terminal: do not bootstrap.
    pub terminated: bool,
    /// The episode was cut short (time limit): bootstrap from the observation.
    pub truncated: bool,
}

/// Gymnasium's `(observation, reward, terminated, truncated)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// `o_{t+1}`.
    pub observation: Vec<f32>,
    /// `r_{t+1}`.
    pub reward: f64,
    /// `s_{t+1}` is terminal: do not bootstrap.
    pub terminated: bool,
    /// The episode was cut short (time limit): bootstrap from the observation.
    pub truncated: bool,
}

impl Step {
    /// The episode is over, for either reason.
    ///
    /// ```
    /// use wengert_rl::env::Step;
    /// let step = Step { observation: vec![0.0], reward: 1.0, terminated: false, truncated: true };
    /// assert!(step.done());
    /// ```
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// A reinforcement-learning environment with Gymnasium's contract (see the module doc).
///
/// ```
/// use wengert_rl::env::{Action, CartPole, Env};
/// let mut env = CartPole::new();
/// let observation = env.reset(Some(42));
/// assert!(env.observation_space().contains_observation(&observation));
/// let step = env.step(Action::Discrete(1)).unwrap();
/// assert_eq!(step.reward, 1.0);
/// assert!(env.step(Action::Discrete(2)).is_err()); // CartPole has actions 0 and 1
/// ```
pub trait Env {
    /// The Gymnasium id, e.g. `"CartPole-v1"`, used in error messages.
    fn id(&self) -> &str;

    /// The space every observation lies in.
    fn observation_space(&self) -> &Space;

    /// The space of valid actions.
    fn action_space(&self) -> &Space;

    /// Starts a new episode and writes its first observation into `observation`
    /// (length `observation_space().dim()`). `Some(seed)` re-seeds the environment's random
    /// number generator; `None` continues its stream (seeded from the operating system the
    /// first time, as Gymnasium does).
    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]);

    /// Advances the episode by one action and writes `o_{t+1}` into `observation`.
    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError>;

    /// Everything that decides this environment's future — its physical state, whether the
    /// episode is running, its random generator, a wrapper's counters — so that training can
    /// stop and continue bit for bit. `None` for an environment that cannot save it.
    fn save_state(&self) -> Option<EnvState> {
        None
    }

    /// Restores what [`Env::save_state`] gave; a state of the wrong size is an error.
    fn load_state(&mut self, state: &EnvState) -> Result<(), EnvError> {
        let _ = state;
        Err(EnvError::InvalidConfig(format!(
            "{} cannot restore a saved state",
            self.id()
        )))
    }

    /// [`Env::reset_into`] returning a fresh observation vector.
    fn reset(&mut self, seed: Option<u64>) -> Vec<f32> {
        let mut observation = vec![0.0; self.observation_space().dim()];
        self.reset_into(seed, &mut observation);
        observation
    }

    /// [`Env::step_into`] returning Gymnasium's `(observation, reward, terminated, truncated)`.
    fn step(&mut self, action: Action<'_>) -> Result<Step, EnvError> {
        let mut observation = vec![0.0; self.observation_space().dim()];
        let Feedback {
            reward,
            terminated,
            truncated,
        } = self.step_into(action, &mut observation)?;
        Ok(Step {
            observation,
            reward,
            terminated,
            truncated,
        })
    }
}

impl<E: Env + ?Sized> Env for Box<E> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn observation_space(&self) -> &Space {
        (**self).observation_space()
    }
    fn action_space(&self) -> &Space {
        (**self).action_space()
    }
    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]) {
        (**self).reset_into(seed, observation)
    }
    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError> {
        (**self).step_into(action, observation)
    }
    fn save_state(&self) -> Option<EnvState> {
        (**self).save_state()
    }
    fn load_state(&mut self, state: &EnvState) -> Result<(), EnvError> {
        (**self).load_state(state)
    }
}

/// An environment's whole state as numbers, exactly (see [`Env::save_state`]).
///
/// ```
/// use wengert_rl::env::{make, Action, Env};
/// let mut env = make("CartPole-v1").unwrap();
/// env.reset(Some(3));
/// env.step(Action::Discrete(1)).unwrap();
/// let saved = env.save_state().unwrap();
/// let mut copy = make("CartPole-v1").unwrap();
/// copy.load_state(&saved).unwrap();
/// for _ in 0..600 { // through the end of the episode and the auto-drawn next start
///     let (a, b) = (env.step(Action::Discrete(0)), copy.step(Action::Discrete(0)));
///     assert_eq!(a.is_ok(), b.is_ok());
///     if let (Ok(a), Ok(b)) = (a, b) {
///         assert_eq!(a, b);
///         if a.done() { assert_eq!(env.reset(None), copy.reset(None)); }
///     }
/// }
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnvState {
    /// Real-valued state: the physical state, in Gymnasium's order.
    pub reals: Vec<f64>,
    /// Episode status, generator words, flags and counters.
    pub words: Vec<u64>,
}

/// The state of a classic-control environment: its physical state, episode status, generator
/// and any flags.
pub(crate) fn save_classic(
    physical: &[f64],
    status: EpisodeStatus,
    rng: &Option<EnvRng>,
    flags: &[bool],
) -> EnvState {
    let mut words = vec![status as u64];
    match rng {
        Some(rng) => {
            words.push(1);
            words.extend(rng_words(rng));
        }
        None => words.extend([0; 5]),
    }
    words.extend(flags.iter().map(|&f| f as u64));
    EnvState {
        reals: physical.to_vec(),
        words,
    }
}

/// Restores what [`save_classic`] saved.
pub(crate) fn load_classic(
    id: &str,
    saved: &EnvState,
    physical: &mut [f64],
    status: &mut EpisodeStatus,
    rng: &mut Option<EnvRng>,
    flags: &mut [&mut bool],
) -> Result<(), EnvError> {
    let words = 6 + flags.len();
    if saved.reals.len() != physical.len() || saved.words.len() != words {
        return Err(EnvError::InvalidConfig(format!(
            "a saved state of {id} has {} reals and {} words, expected {} and {words}",
            saved.reals.len(),
            saved.words.len(),
            physical.len()
        )));
    }
    physical.copy_from_slice(&saved.reals);
    *status = match saved.words[0] {
        0 => EpisodeStatus::NotStarted,
        1 => EpisodeStatus::Running,
        _ => EpisodeStatus::Finished,
    };
    *rng = (saved.words[1] == 1).then(|| {
        let bytes: Vec<u8> = saved.words[2..6]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        EnvRng::from_seed(bytes.try_into().expect("32 bytes"))
    });
    for (flag, &word) in flags.iter_mut().zip(&saved.words[6..]) {
        **flag = word == 1;
    }
    Ok(())
}

/// Xoshiro256++'s four state words (`from_seed` takes them back verbatim). `rand` shows them
/// only through serde.
fn rng_words(rng: &EnvRng) -> [u64; 4] {
    let value = serde_json::to_value(rng).expect("a generator serialises");
    let words: Vec<u64> = value["s"]
        .as_array()
        .expect("Xoshiro256++ serialises as { s: [u64; 4] }")
        .iter()
        .map(|w| w.as_u64().expect("u64 words"))
        .collect();
    words.try_into().expect("four words")
}

/// An environment whose physical state can be read and written, so that a trajectory can be
/// replayed from any state and a planner can simulate from it.
///
/// `set_state` puts the environment in that state with the episode running, exactly like
/// assigning Gymnasium's `env.unwrapped.state`; the next `step` starts from it.
///
/// ```
/// use wengert_rl::env::{Action, Env, Pendulum, PhysicalState};
/// let mut env = Pendulum::new();
/// env.set_state([0.0, 0.0]); // θ = 0 is upright, θ̇ = 0 at rest
/// env.step(Action::Continuous(&[0.0])).unwrap();
/// assert_eq!(env.state(), [0.0, 0.0]); // an upright pendulum at rest stays there
/// ```
pub trait PhysicalState {
    /// The physical state, in Gymnasium's order and units.
    type State: Copy;
    /// The current physical state.
    fn state(&self) -> Self::State;
    /// Moves the environment to `state`, with the episode running.
    fn set_state(&mut self, state: Self::State);
}

/// Gymnasium ids that [`make`] knows, with their registered time limits.
pub const REGISTERED: [(&str, usize); 10] = [
    ("CartPole-v1", 500),
    ("Pendulum-v1", 200),
    ("MountainCar-v0", 200),
    ("MountainCarContinuous-v0", 999),
    ("Acrobot-v1", 500),
    ("FrozenLake-v1", 100),
    ("FrozenLake8x8-v1", 200),
    ("CartPoleNoVel-v1", 500), // the wrapped CartPole-v1's limit (see `MaskVelocity`)
    ("PendulumNoVel-v1", 200),
    ("PointNavigation-v0", 200),
];

/// Builds an environment by its Gymnasium id, wrapped in its registered [`TimeLimit`]
/// (like `gymnasium.make`). FrozenLake is the slippery version, as registered.
///
/// ```
/// use wengert_rl::env::{make, Env};
/// let env = make("Acrobot-v1").unwrap();
/// assert_eq!(env.observation_space().dim(), 6);
/// let error = make("CartPole-v9").err().unwrap();
/// assert!(error.to_string().contains("CartPole-v1"));
/// ```
///
/// Wrappers follow the id, each after a `+`, innermost first (outside the time limit):
/// `+shaping=NAME:SCALE@γ` ([`Shaping::wrap_id`]) adds [`PotentialShaping`] with that named
/// potential, `+skills=K` (or `+skills=K:z`, one fixed skill) [`SkillConditioned`].
///
/// ```
/// use wengert_rl::env::{make, Action, Env};
/// let mut shaped = make("MountainCar-v0+shaping=height:1@0.99").unwrap();
/// shaped.reset(Some(0));
/// assert_ne!(shaped.step(Action::Discrete(2)).unwrap().reward, -1.0);
/// assert!(make("CartPole-v1+shaping=height:1@0.99").is_err()); // no height for CartPole
/// ```
pub fn make(id: &str) -> Result<Box<dyn Env + Send>, EnvError> {
    let mut wrappers = id.split('+');
    let base = wrappers.next().unwrap_or_default();
    let mut env = make_registered(base)?;
    for wrapper in wrappers {
        env = match wrapper.split_once('=') {
            Some(("shaping", spec)) => {
                let shaping = Shaping::from_wrapper(spec)?;
                Box::new(PotentialShaping::new(
                    env,
                    shaping.potential(base)?,
                    shaping.gamma,
                ))
            }
            Some(("skills", spec)) => Box::new(SkillConditioned::from_wrapper(env, spec)?),
            _ => {
                return Err(EnvError::InvalidConfig(format!(
                    "`{wrapper}` in `{id}` is not a wrapper: expected shaping=NAME:SCALE@γ or \
                     skills=K[:z]"
                )));
            }
        };
    }
    Ok(env)
}

fn make_registered(id: &str) -> Result<Box<dyn Env + Send>, EnvError> {
    let (_, max_episode_steps) =
        *REGISTERED
            .iter()
            .find(|(name, _)| *name == id)
            .ok_or_else(|| EnvError::UnknownEnv {
                id: id.to_string(),
                known: REGISTERED
                    .iter()
                    .map(|(name, _)| name.to_string())
                    .collect(),
            })?;
    if let Some((_, base, kept)) = NO_VELOCITY.iter().find(|(name, ..)| *name == id) {
        return Ok(Box::new(MaskVelocity::new(make(base)?, id, kept)?));
    }
    let env: Box<dyn Env + Send> = match id {
        "CartPole-v1" => Box::new(CartPole::new()),
        "Pendulum-v1" => Box::new(Pendulum::new()),
        "MountainCar-v0" => Box::new(MountainCar::new()),
        "MountainCarContinuous-v0" => Box::new(MountainCarContinuous::new()),
        "Acrobot-v1" => Box::new(Acrobot::new()),
        "FrozenLake-v1" => Box::new(FrozenLake::four_by_four(true)),
        "PointNavigation-v0" => Box::new(PointNavigation::new()),
        _ => Box::new(FrozenLake::eight_by_eight(true)),
    };
    Ok(Box::new(TimeLimit::new(env, max_episode_steps)))
}

/// Whether an episode may be stepped: shared bookkeeping for every environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EpisodeStatus {
    /// Never reset: stepping is an error.
    NotStarted,
    Running,
    /// Terminated or truncated: stepping is an error until the next reset.
    Finished,
}

impl EpisodeStatus {
    /// `Err(NeedsReset)` unless the episode is running.
    pub(crate) fn check_running(self, id: &str) -> Result<(), EnvError> {
        match self {
            EpisodeStatus::Running => Ok(()),
            EpisodeStatus::NotStarted => Err(EnvError::NeedsReset {
                id: id.to_string(),
                finished: false,
            }),
            EpisodeStatus::Finished => Err(EnvError::NeedsReset {
                id: id.to_string(),
                finished: true,
            }),
        }
    }

    pub(crate) fn after_step(terminated: bool) -> Self {
        if terminated {
            EpisodeStatus::Finished
        } else {
            EpisodeStatus::Running
        }
    }
}

/// Re-seeds `rng` from `seed`, or seeds it from the operating system if it never was.
pub(crate) fn reseed(rng: &mut Option<EnvRng>, seed: Option<u64>) -> &mut EnvRng {
    match seed {
        Some(seed) => rng.insert(EnvRng::seed_from_u64(seed)),
        None => rng.get_or_insert_with(rand::make_rng),
    }
}

/// Checks a discrete action against `Discrete(n)`.
pub(crate) fn discrete_action(
    action: Action<'_>,
    space: &Space,
    id: &str,
) -> Result<usize, EnvError> {
    match (action, space) {
        (Action::Discrete(a), Space::Discrete { n }) if a < *n => Ok(a),
        _ => Err(EnvError::invalid_action(id, action, space)),
    }
}

/// Checks a continuous action's dimension against a box (values are clipped by the caller).
pub(crate) fn continuous_action<'a>(
    action: Action<'a>,
    space: &Space,
    id: &str,
) -> Result<&'a [f32], EnvError> {
    match (action, space) {
        (Action::Continuous(a), Space::Box(bounds)) if a.len() == bounds.low.len() => Ok(a),
        _ => Err(EnvError::invalid_action(id, action, space)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_knows_every_registered_id_and_its_time_limit() {
        for (id, max_episode_steps) in REGISTERED {
            let mut env = make(id).unwrap();
            assert_eq!(env.id(), id);
            env.reset(Some(0));
            let mut steps = 0;
            loop {
                let action = match env.action_space() {
                    Space::Discrete { .. } => Action::Discrete(0),
                    Space::Box(b) => Action::Continuous(&[0.0; 2][..b.low.len()]),
                };
                steps += 1;
                let step = env.step(action).unwrap();
                if step.done() {
                    assert!(
                        step.terminated || steps == max_episode_steps,
                        "{id}: stopped at {steps}"
                    );
                    break;
                }
            }
            assert!(steps <= max_episode_steps);
        }
    }

    #[test]
    fn action_of_wrong_kind_names_action_and_space() {
        let mut env = CartPole::new();
        env.reset(Some(1));
        let message = env
            .step(Action::Continuous(&[1.0]))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("[1.0]") && message.contains("Discrete(2)"),
            "{message}"
        );
    }
}
