//! # Potential-based reward shaping
//!
//! ## Background
//! A sparse reward (MountainCar's `−1` until the flag, FrozenLake's `1` at the goal) tells a
//! learner little until it has found the goal by chance. Shaping adds a reward `F` that points
//! the way, but an arbitrary bonus changes the task: an agent paid for visiting a cell learns
//! to circle through it. Ng, Harada and Russell (1999) showed which bonuses are safe: those
//! that are differences of a **potential** `Φ: S → ℝ`.
//!
//! ## Key equations
//! The shaped reward of a transition `(s, a, s')` is
//!
//! ```text
//! r̃(s, a, s') = r(s, a, s') + F(s, a, s'),    F(s, a, s') = γ Φ(s') − Φ(s),
//! ```
//!
//! with the **terminal convention `Φ(s') = 0` when `s'` is terminal** (`terminated`). Along an
//! episode the bonuses telescope, `Σ_t γ^t F_t = γ^T Φ(s_T) − Φ(s_0)` with `Φ(s_T) = 0` at a
//! terminal state, so every return is shifted by the same `−Φ(s_0)`, and
//!
//! ```text
//! Q̃*(s, a) = Q*(s, a) − Φ(s),    Ṽ*(s) = V*(s) − Φ(s),
//! ```
//!
//! hence the same greedy (optimal) policy. A **truncated** step (a time limit) is not
//! terminal: `s'` goes on having value, so `Φ(s')` is kept, exactly as learners bootstrap
//! through truncation. (Without the convention, an episode ending in a terminal state of
//! potential `Φ(s_T) ≠ 0` would collect `γ^T Φ(s_T)`, which depends on when and where it
//! ends, and the optimal policy could change.) With `Φ = V*` the shaped values are `Ṽ* = 0`:
//! every action's consequence shows in its immediate reward, which is the notes' "shaping
//! with `Φ ≈ V^π` makes the consequences of actions more immediate".
//!
//! `γ` must be the learner's discount: the invariance holds for that `γ` only.
//!
//! ## On the command line
//! `wengert train ALGO ENV --set shaping=NAME[:SCALE]` wraps the environment of any algorithm
//! with a named potential ([`Shaping::potential`]) at the algorithm's `gamma`:
//! `height` (MountainCar-v0, MountainCarContinuous-v0), `vstar` (MountainCar-v0: `Φ ≈ V*` by
//! value iteration on a grid, [`super::MountainCarValue`]), `value` (FrozenLake: `V*` by value
//! iteration) and `distance` (PointNavigation-v0).

use std::sync::{Arc, Mutex};

use super::{
    Action, Env, EnvError, EnvState, Feedback, FrozenLake, MountainCarValue, Space,
    point_navigation, tabular_model,
};

/// A potential `Φ(s)` of an observation.
pub type Potential = Box<dyn Fn(&[f32]) -> f64 + Send>;

/// Adds `F(s, a, s') = γ Φ(s') − Φ(s)` to every reward, with `Φ(s') = 0` on termination (see
/// the module's documentation).
///
/// ```
/// use wengert_rl::env::{Action, Env, FrozenLake, PotentialShaping};
/// // A corridor S F G: Φ(s) = s, γ = 0.5.
/// let lake = FrozenLake::from_map("SFG", false).unwrap();
/// let mut env = PotentialShaping::new(lake, Box::new(|o: &[f32]| f64::from(o[0])), 0.5);
/// env.reset(Some(0));
/// let right = env.step(Action::Discrete(2)).unwrap(); // 0 → 1: r = 0, F = 0.5·1 − 0
/// assert_eq!(right.reward, 0.5);
/// let goal = env.step(Action::Discrete(2)).unwrap(); // 1 → goal (terminal): F = 0 − 1
/// assert!(goal.terminated);
/// assert_eq!(goal.reward, 1.0 - 1.0);
/// ```
pub struct PotentialShaping<E> {
    env: E,
    potential: Potential,
    gamma: f64,
    /// `Φ(s_t)` of the observation the agent acts on next.
    phi: f64,
}

impl<E: Env> PotentialShaping<E> {
    /// Wraps `env` with potential `potential` and discount `gamma`.
    pub fn new(env: E, potential: Potential, gamma: f64) -> Self {
        PotentialShaping {
            env,
            potential,
            gamma,
            phi: 0.0,
        }
    }

    /// The wrapped environment.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// `γ`.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
}

impl<E: Env> Env for PotentialShaping<E> {
    fn id(&self) -> &str {
        self.env.id()
    }

    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]) {
        self.env.reset_into(seed, observation);
        self.phi = (self.potential)(observation);
    }

    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError> {
        let mut feedback = self.env.step_into(action, observation)?;
        let phi_next = if feedback.terminated {
            0.0
        } else {
            (self.potential)(observation)
        };
        feedback.reward += self.gamma * phi_next - self.phi;
        self.phi = phi_next;
        Ok(feedback)
    }

    /// The wrapped environment's state, then `Φ(s_t)` as the last real.
    fn save_state(&self) -> Option<EnvState> {
        let mut state = self.env.save_state()?;
        state.reals.push(self.phi);
        Some(state)
    }

    fn load_state(&mut self, state: &EnvState) -> Result<(), EnvError> {
        let Some((&phi, reals)) = state.reals.split_last() else {
            return Err(EnvError::InvalidConfig(format!(
                "a saved state of shaped {} lacks the potential Φ(s)",
                self.env.id()
            )));
        };
        self.env.load_state(&EnvState {
            reals: reals.to_vec(),
            words: state.words.clone(),
        })?;
        self.phi = phi;
        Ok(())
    }
}

/// A named potential and its scale, as the command line gives it (`height`, `value:2`), at
/// discount `gamma`.
///
/// ```
/// use wengert_rl::env::Shaping;
/// let shaping = Shaping::parse("height:50", 0.99).unwrap();
/// assert_eq!((shaping.name.as_str(), shaping.scale), ("height", 50.0));
/// let id = shaping.wrap_id("MountainCar-v0");
/// assert_eq!(Shaping::split_id(&id).unwrap(), ("MountainCar-v0", Some(shaping)));
/// assert!(Shaping::parse("height:x", 0.99).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Shaping {
    /// `height`, `vstar`, `value` or `distance`.
    pub name: String,
    /// `Φ` is the named potential times this.
    pub scale: f64,
    /// `γ` of `F = γ Φ(s') − Φ(s)`.
    pub gamma: f64,
}

/// The potentials the command line knows, with the environments they are defined for.
pub const POTENTIALS: [(&str, &str); 4] = [
    ("height", "MountainCar-v0, MountainCarContinuous-v0"),
    ("vstar", "MountainCar-v0"),
    ("value", "FrozenLake-v1, FrozenLake8x8-v1"),
    ("distance", "PointNavigation-v0"),
];

/// What separates an environment id from its shaping in a wrapped id.
const MARK: &str = "+shaping=";

impl Shaping {
    /// `NAME[:SCALE]` (scale 1 by default) at discount `gamma`.
    pub fn parse(text: &str, gamma: f64) -> Result<Self, EnvError> {
        let (name, scale) = match text.split_once(':') {
            Some((name, scale)) => (name, scale.parse::<f64>().ok()),
            None => (text, Some(1.0)),
        };
        let known = POTENTIALS.iter().any(|(n, _)| *n == name);
        match scale {
            Some(scale) if known && scale.is_finite() && (0.0..=1.0).contains(&gamma) => {
                Ok(Shaping {
                    name: name.to_string(),
                    scale,
                    gamma,
                })
            }
            _ => Err(EnvError::InvalidConfig(format!(
                "`shaping` expects NAME or NAME:SCALE with NAME one of {} and a finite SCALE, \
                 at a discount γ in [0, 1]; found `{text}` at γ = {gamma}",
                POTENTIALS
                    .iter()
                    .map(|(n, envs)| format!("{n} ({envs})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The id [`super::make`] builds the shaped environment from.
    pub fn wrap_id(&self, env_id: &str) -> String {
        format!("{env_id}{MARK}{}:{}@{}", self.name, self.scale, self.gamma)
    }

    /// An id's environment and shaping: `("MountainCar-v0", None)` for a plain id.
    pub fn split_id(id: &str) -> Result<(&str, Option<Shaping>), EnvError> {
        let Some((base, rest)) = id.split_once(MARK) else {
            return Ok((id, None));
        };
        Ok((base, Some(Shaping::from_wrapper(rest)?)))
    }

    /// What follows `+shaping=` in a wrapped id: `NAME:SCALE@γ`.
    pub fn from_wrapper(text: &str) -> Result<Self, EnvError> {
        let bad = || EnvError::InvalidConfig(format!("`{text}` is not NAME:SCALE@γ"));
        let (spec, gamma) = text.rsplit_once('@').ok_or_else(bad)?;
        let gamma = gamma.parse::<f64>().map_err(|_| bad())?;
        Shaping::parse(spec, gamma)
    }

    /// The potential `Φ` for `env_id`, scaled; an error names the environments the potential is
    /// defined for.
    ///
    /// - `height` (MountainCar): `Φ(s) = h(x) − h(x_goal)` with the track's height
    ///   `h(x) = 0.45 sin(3x) + 0.55` (Gymnasium's rendering), so `Φ ≤ 0` and `Φ = 0` at the flag.
    /// - `vstar` (MountainCar-v0): `Φ ≈ V*` at `γ`, by value iteration on a
    ///   [`VSTAR_GRID`]² grid with the exact dynamics, interpolated bilinearly
    ///   ([`MountainCarValue`]); solved once per `γ` and shared.
    /// - `value` (FrozenLake): `Φ = V*`, by value iteration on the lake's model at `γ`.
    /// - `distance` (PointNavigation): `Φ(s) = −‖p − g‖`.
    pub fn potential(&self, env_id: &str) -> Result<Potential, EnvError> {
        let scale = self.scale;
        let potential: Potential = match (self.name.as_str(), env_id) {
            ("height", "MountainCar-v0" | "MountainCarContinuous-v0") => {
                let goal = if env_id == "MountainCar-v0" {
                    0.5
                } else {
                    0.45
                };
                let height = |x: f64| 0.45 * (3.0 * x).sin() + 0.55;
                Box::new(move |o: &[f32]| scale * (height(f64::from(o[0])) - height(goal)))
            }
            ("vstar", "MountainCar-v0") => {
                let value = mountain_car_value(self.gamma.min(1.0 - 1e-9));
                Box::new(move |o: &[f32]| scale * value.value([f64::from(o[0]), f64::from(o[1])]))
            }
            ("value", "FrozenLake-v1" | "FrozenLake8x8-v1") => {
                let lake = match env_id {
                    "FrozenLake-v1" => FrozenLake::four_by_four(true),
                    _ => FrozenLake::eight_by_eight(true),
                };
                let gamma = self.gamma.min(1.0 - 1e-9);
                let values = crate::tabular::value_iteration(lake.model(), gamma, 1e-12).values;
                Box::new(move |o: &[f32]| scale * values[o[0] as usize])
            }
            ("distance", "PointNavigation-v0") => Box::new(move |o: &[f32]| {
                let [gx, gy] = point_navigation::GOAL;
                -scale * (f64::from(o[0]) - gx).hypot(f64::from(o[1]) - gy)
            }),
            (name, _) => {
                let envs = POTENTIALS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("", |(_, envs)| envs);
                return Err(EnvError::InvalidConfig(format!(
                    "the potential `{name}` is defined for {envs}, not for {env_id}"
                )));
            }
        };
        Ok(potential)
    }
}

/// Nodes per axis of the grid `vstar`'s `V*` is computed on (position and velocity).
pub const VSTAR_GRID: usize = 201;

/// `V*` of MountainCar-v0 at `gamma` on the [`VSTAR_GRID`]² grid, solved on first use and kept
/// (every environment of a vector shares it).
fn mountain_car_value(gamma: f64) -> Arc<MountainCarValue> {
    static SOLVED: Mutex<Vec<(u64, Arc<MountainCarValue>)>> = Mutex::new(Vec::new());
    let mut solved = SOLVED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, value)) = solved.iter().find(|(bits, _)| *bits == gamma.to_bits()) {
        return Arc::clone(value);
    }
    let value = Arc::new(MountainCarValue::solve(gamma, VSTAR_GRID, VSTAR_GRID));
    solved.push((gamma.to_bits(), Arc::clone(&value)));
    value
}

/// The model of the shaped MDP: every outcome's reward plus `γ (1 − d) Φ(s') − Φ(s)` (the
/// terminal convention), for dynamic programming on it.
///
/// ```
/// use wengert_rl::env::{shape_model, FrozenLake};
/// let lake = FrozenLake::from_map("SFG", false).unwrap();
/// let shaped = shape_model(lake.model(), &[1.0, 2.0, 3.0], 0.9);
/// let into_goal = shaped.outcomes(1, 2)[0]; // right, from 1 into the terminal goal
/// assert_eq!(into_goal.reward, 1.0 + 0.0 - 2.0);
/// assert_eq!(shaped.outcomes(0, 2)[0].reward, 0.9 * 2.0 - 1.0);
/// ```
pub fn shape_model(
    model: &tabular_model::TabularModel,
    phi: &[f64],
    gamma: f64,
) -> tabular_model::TabularModel {
    shape_model_with(model, |s, t| {
        let phi_next = if t.terminated { 0.0 } else { phi[t.next_state] };
        gamma * phi_next - phi[s]
    })
}

/// The model with `bonus(s, outcome)` added to every outcome's reward (any bonus, potential-based
/// or not).
pub fn shape_model_with(
    model: &tabular_model::TabularModel,
    bonus: impl Fn(usize, &tabular_model::Transition) -> f64,
) -> tabular_model::TabularModel {
    let (states, actions) = (model.num_states(), model.num_actions());
    let outcomes = (0..states)
        .flat_map(|s| (0..actions).map(move |a| (s, a)))
        .map(|(s, a)| {
            model
                .outcomes(s, a)
                .iter()
                .map(|t| tabular_model::Transition {
                    reward: t.reward + bonus(s, t),
                    ..*t
                })
                .collect()
        })
        .collect();
    tabular_model::TabularModel::new(
        states,
        actions,
        outcomes,
        model.initial_distribution().to_vec(),
    )
}
