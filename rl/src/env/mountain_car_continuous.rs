//! # MountainCarContinuous-v0
//!
//! MountainCar with a continuous throttle `a ∈ [−1, 1]`, Gymnasium's constants: power
//! `0.0015`, gravity `0.0025`, positions in `[−1.2, 0.6]`, speeds in `[−0.07, 0.07]`, goal at
//! position `0.45`. With `F = clip(a, −1, 1)`:
//!
//! ```text
//! v' = clip(v + 0.0015 F − 0.0025 cos(3x), −0.07, 0.07)
//! x' = clip(x + v', −1.2, 0.6)
//! if x' = −1.2 and v' < 0 then v' = 0
//! r  = 100 · [x' ≥ 0.45 and v' ≥ 0] − 0.1 a²        (a unclipped, as in Gymnasium)
//! ```
//!
//! The episode terminates on reaching the goal; the registered time limit is 999 steps. Reset
//! draws `x ~ U(−0.6, −0.4)`, `v = 0`.
//!
//! **Precision, as Gymnasium computes it.** Gymnasium stores the state as `float64` after a
//! reset (or after assigning `.state`) but as `float32` after every step, and NumPy then does the
//! arithmetic of the next step in `float32`; a throttle inside the bounds is `float32` too. This
//! environment reproduces both cases (`state_is_float32`), so its states agree with Gymnasium's
//! exactly rather than to `float32` round-off.

use super::mountain_car::{MAX_POSITION, MAX_SPEED, MIN_POSITION};
use super::{
    Action, BoxSpace, Env, EnvError, EnvRng, EnvState, EpisodeStatus, Feedback, PhysicalState,
    Space, load_classic, save_classic,
};
use rand::RngExt;

const MIN_ACTION: f32 = -1.0;
const MAX_ACTION: f32 = 1.0;
const GOAL_POSITION: f64 = 0.45;
const POWER: f64 = 0.0015;
const GRAVITY: f64 = 0.0025;

/// MountainCarContinuous-v0 (see the module doc). Physical state `[x, v]`.
///
/// ```
/// use wengert_rl::env::{Action, Env, MountainCarContinuous, PhysicalState};
/// let mut env = MountainCarContinuous::new();
/// env.set_state([0.44, 0.02]);
/// let step = env.step(Action::Continuous(&[2.0])).unwrap(); // throttle clipped to 1
/// assert!(step.terminated);
/// assert_eq!(step.reward, 100.0 - 0.1 * 4.0); // the penalty uses the unclipped action
/// ```
#[derive(Clone, Debug)]
pub struct MountainCarContinuous {
    state: [f64; 2],
    /// `true` once a step has stored the state as `float32` (see the module doc).
    state_is_float32: bool,
    status: EpisodeStatus,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl Default for MountainCarContinuous {
    fn default() -> Self {
        Self::new()
    }
}

impl MountainCarContinuous {
    /// A car waiting for its first `reset`.
    pub fn new() -> Self {
        MountainCarContinuous {
            state: [0.0; 2],
            state_is_float32: false,
            status: EpisodeStatus::NotStarted,
            rng: None,
            observation_space: Space::Box(BoxSpace::new(
                vec![MIN_POSITION as f32, -MAX_SPEED as f32],
                vec![MAX_POSITION as f32, MAX_SPEED as f32],
            )),
            action_space: Space::Box(BoxSpace::new(vec![MIN_ACTION], vec![MAX_ACTION])),
        }
    }

    /// The next `[x, v]` (rounded to `f32`, as Gymnasium stores it) and whether the goal is reached.
    fn dynamics(&self, action: f32) -> ([f64; 2], bool) {
        // Python's min/max keep the float32 action inside the bounds, a float64 bound outside.
        let clipped_bound = if action < MIN_ACTION {
            Some(f64::from(MIN_ACTION))
        } else if action > MAX_ACTION {
            Some(f64::from(MAX_ACTION))
        } else {
            None
        };
        let [position, velocity] = self.state;
        if self.state_is_float32 {
            let (position, velocity) = (position as f32, velocity as f32);
            let gravity_term = GRAVITY * f64::from(3.0_f32 * position).cos();
            let acceleration = match clipped_bound {
                None => action * POWER as f32 - gravity_term as f32,
                Some(force) => (force * POWER - gravity_term) as f32,
            };
            let velocity = (velocity + acceleration).clamp(-MAX_SPEED as f32, MAX_SPEED as f32);
            let position = (position + velocity).clamp(MIN_POSITION as f32, MAX_POSITION as f32);
            let velocity = if position == MIN_POSITION as f32 && velocity < 0.0 {
                0.0
            } else {
                velocity
            };
            let terminated = position >= GOAL_POSITION as f32 && velocity >= 0.0;
            ([f64::from(position), f64::from(velocity)], terminated)
        } else {
            let gravity_term = GRAVITY * (3.0 * position).cos();
            let acceleration = match clipped_bound {
                None => f64::from(action * POWER as f32 - gravity_term as f32),
                Some(force) => force * POWER - gravity_term,
            };
            let velocity = (velocity + acceleration).clamp(-MAX_SPEED, MAX_SPEED);
            let position = (position + velocity).clamp(MIN_POSITION, MAX_POSITION);
            let velocity = if position == MIN_POSITION && velocity < 0.0 {
                0.0
            } else {
                velocity
            };
            let terminated = position >= GOAL_POSITION && velocity >= 0.0;
            (
                [f64::from(position as f32), f64::from(velocity as f32)],
                terminated,
            )
        }
    }
}

impl Env for MountainCarContinuous {
    fn save_state(&self) -> Option<EnvState> {
        Some(save_classic(
            &self.state,
            self.status,
            &self.rng,
            &[self.state_is_float32],
        ))
    }

    fn load_state(&mut self, saved: &EnvState) -> Result<(), EnvError> {
        load_classic(
            "MountainCarContinuous-v0",
            saved,
            &mut self.state,
            &mut self.status,
            &mut self.rng,
            &mut [&mut self.state_is_float32],
        )
    }

    fn id(&self) -> &str {
        "MountainCarContinuous-v0"
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]) {
        let rng = super::reseed(&mut self.rng, seed);
        let position = rng.random_range(-0.6..-0.4);
        self.set_state([position, 0.0]);
        observation.copy_from_slice(&self.state.map(|s| s as f32));
    }

    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError> {
        let action =
            super::continuous_action(action, &self.action_space, "MountainCarContinuous-v0")?[0];
        self.status.check_running("MountainCarContinuous-v0")?;
        let (next, terminated) = self.dynamics(action);
        self.state = next;
        self.state_is_float32 = true;
        self.status = EpisodeStatus::after_step(terminated);
        observation.copy_from_slice(&self.state.map(|s| s as f32));
        let goal_reward = if terminated { 100.0 } else { 0.0 };
        let action = f64::from(action);
        Ok(Feedback {
            reward: goal_reward - action * action * 0.1,
            terminated,
            truncated: false,
        })
    }
}

impl PhysicalState for MountainCarContinuous {
    type State = [f64; 2];

    fn state(&self) -> [f64; 2] {
        self.state
    }

    /// Sets the state in `float64`, like assigning Gymnasium's `.state`.
    fn set_state(&mut self, state: [f64; 2]) {
        self.state = state;
        self.state_is_float32 = false;
        self.status = EpisodeStatus::Running;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_after_a_step_are_float32_values() {
        let mut env = MountainCarContinuous::new();
        env.reset(Some(9));
        for _ in 0..50 {
            env.step(Action::Continuous(&[0.3])).unwrap();
            let [x, v] = env.state();
            assert_eq!(f64::from(x as f32), x);
            assert_eq!(f64::from(v as f32), v);
        }
    }

    #[test]
    fn the_left_wall_stops_the_car() {
        let mut env = MountainCarContinuous::new();
        env.set_state([-1.19, -0.06]);
        env.step(Action::Continuous(&[-1.0])).unwrap();
        assert_eq!(env.state(), [f64::from(-1.2_f32), 0.0]);
    }
}
