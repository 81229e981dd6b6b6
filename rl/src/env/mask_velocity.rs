//! # Velocity masking — a partially observable version of an environment
//!
//! RL Baselines3 Zoo's `MaskVelocityWrapper` (`rl_zoo3/wrappers.py`) hides the velocity terms of
//! an observation, so that a policy must infer them from the history of observations: the MDP
//! becomes a POMDP. With a mask `m ∈ {0, 1}^d` (`m_i = 1` for a kept index `i`):
//!
//! ```text
//! o'_t = o_t ⊙ m        (element-wise; a masked entry is multiplied by 0, so its place stays)
//! ```
//!
//! The observation keeps its dimension and its space (the zoo's wrapper is a Gymnasium
//! `ObservationWrapper` that changes neither), actions, rewards and the two done flags pass
//! through unchanged, and the wrapper adds no state of its own.
//!
//! The zoo registers `"{name}NoVel-v{version}"` for each masked environment as
//! `MaskVelocityWrapper(gym.make(env_id))`, with no time limit of its own: the wrapped
//! environment's registered [`TimeLimit`](super::TimeLimit) (500 steps for CartPole-v1, 200 for
//! Pendulum-v1) is the one that applies. [`NO_VELOCITY`] lists the two this crate registers,
//! with the zoo's indices:
//!
//! | id | wraps | observation | kept |
//! |---|---|---|---|
//! | `CartPoleNoVel-v1` | `CartPole-v1` | `[x, ẋ, θ, θ̇]` | `x, θ` (0, 2) |
//! | `PendulumNoVel-v1` | `Pendulum-v1` | `[cos θ, sin θ, θ̇]` | `cos θ, sin θ` (0, 1) |

use super::{Action, Env, EnvError, EnvState, Feedback, PhysicalState, Space};

/// The velocity-masked environments: (id, the id it wraps, the observation indices kept).
/// The zoo's `velocity_indices` are the complements: CartPole `[1, 3]`, Pendulum `[2]`.
pub const NO_VELOCITY: [(&str, &str, &[usize]); 2] = [
    ("CartPoleNoVel-v1", "CartPole-v1", &[0, 2]),
    ("PendulumNoVel-v1", "Pendulum-v1", &[0, 1]),
];

/// Zeroes every observation entry except the kept ones: `o' = o ⊙ m`.
///
/// ```
/// use wengert_rl::env::{Action, CartPole, Env, MaskVelocity};
/// let mut env = MaskVelocity::new(CartPole::new(), "CartPoleNoVel-v1", &[0, 2]).unwrap();
/// let mut full = CartPole::new();
/// let (o, o_full) = (env.reset(Some(7)), full.reset(Some(7)));
/// assert_eq!((o[0], o[1], o[2], o[3]), (o_full[0], 0.0, o_full[2], 0.0));
/// let step = env.step(Action::Discrete(1)).unwrap();
/// assert_eq!(step.observation[1], 0.0); // ẋ is hidden
/// ```
#[derive(Clone, Debug)]
pub struct MaskVelocity<E> {
    env: E,
    id: String,
    /// `m`: 1 at a kept index, 0 elsewhere.
    mask: Vec<f32>,
}

impl<E: Env> MaskVelocity<E> {
    /// Wraps `env` under the id `id`, keeping the observation entries at `kept`. An index outside
    /// the observation, or an observation that is not a box, is an error.
    pub fn new(env: E, id: &str, kept: &[usize]) -> Result<Self, EnvError> {
        let d = match env.observation_space() {
            Space::Box(_) => env.observation_space().dim(),
            other => {
                return Err(EnvError::InvalidConfig(format!(
                    "{id}: velocity masking needs a box observation space, {} has {other}",
                    env.id()
                )));
            }
        };
        if let Some(&i) = kept.iter().find(|&&i| i >= d) {
            return Err(EnvError::InvalidConfig(format!(
                "{id}: kept observation index {i} is outside {}'s {d}-dimensional observation \
                 (expected indices 0..{d})",
                env.id()
            )));
        }
        let mut mask = vec![0.0; d];
        for &i in kept {
            mask[i] = 1.0;
        }
        Ok(MaskVelocity {
            env,
            id: id.to_string(),
            mask,
        })
    }

    /// The mask `m`.
    pub fn mask(&self) -> &[f32] {
        &self.mask
    }

    /// The wrapped environment.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// The wrapped environment, mutably.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.env
    }

    /// `o ← o ⊙ m`, as the zoo's `observation * self.mask` (a negative velocity becomes −0).
    fn apply(&self, observation: &mut [f32]) {
        for (o, m) in observation.iter_mut().zip(&self.mask) {
            *o *= m;
        }
    }
}

impl<E: Env> Env for MaskVelocity<E> {
    fn id(&self) -> &str {
        &self.id
    }

    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]) {
        self.env.reset_into(seed, observation);
        self.apply(observation);
    }

    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError> {
        let feedback = self.env.step_into(action, observation)?;
        self.apply(observation);
        Ok(feedback)
    }

    /// The wrapped environment's state: the mask adds none.
    fn save_state(&self) -> Option<EnvState> {
        self.env.save_state()
    }

    fn load_state(&mut self, state: &EnvState) -> Result<(), EnvError> {
        self.env.load_state(state)
    }
}

impl<E: Env + PhysicalState> PhysicalState for MaskVelocity<E> {
    type State = E::State;
    fn state(&self) -> Self::State {
        self.env.state()
    }
    fn set_state(&mut self, state: Self::State) {
        self.env.set_state(state)
    }
}
