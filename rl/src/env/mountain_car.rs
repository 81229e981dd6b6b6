//! # MountainCar-v0
//!
//! An under-powered car in a valley must rock back and forth to reach the flag (Moore, 1990),
//! with Gymnasium's constants: force `0.001`, gravity `0.0025`, positions in `[−1.2, 0.6]`,
//! speeds in `[−0.07, 0.07]`, goal at position `0.5`.
//!
//! State `(x, v)`; actions 0, 1, 2 accelerate left, not at all, right. One step:
//!
//! ```text
//! v' = clip(v + (a − 1) · 0.001 − 0.0025 cos(3x), −0.07, 0.07)
//! x' = clip(x + v', −1.2, 0.6)
//! if x' = −1.2 and v' < 0 then v' = 0          (the left wall stops the car)
//! ```
//!
//! The reward is `−1` every step; the episode terminates when `x' ≥ 0.5` (and `v' ≥ 0`, the
//! goal velocity). Reset draws `x ~ U(−0.6, −0.4)`, `v = 0`. All in `float64`; the observation
//! is the state rounded to `f32`. The registered time limit is 200 steps.

use super::{
    Action, BoxSpace, Env, EnvError, EnvRng, EnvState, EpisodeStatus, Feedback, PhysicalState,
    Space, load_classic, save_classic,
};
use rand::RngExt;

pub(crate) const MIN_POSITION: f64 = -1.2;
pub(crate) const MAX_POSITION: f64 = 0.6;
pub(crate) const MAX_SPEED: f64 = 0.07;
const GOAL_POSITION: f64 = 0.5;
const GOAL_VELOCITY: f64 = 0.0;
const FORCE: f64 = 0.001;
const GRAVITY: f64 = 0.0025;

/// MountainCar-v0 (see the module doc). Physical state `[x, v]`.
///
/// ```
/// use wengert_rl::env::{Action, Env, MountainCar, PhysicalState};
/// let mut env = MountainCar::new();
/// env.set_state([-1.2, -0.01]);
/// env.step(Action::Discrete(0)).unwrap();
/// assert_eq!(env.state(), [-1.2, 0.0]); // stopped by the left wall
/// ```
#[derive(Clone, Debug)]
pub struct MountainCar {
    state: [f64; 2],
    status: EpisodeStatus,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl Default for MountainCar {
    fn default() -> Self {
        Self::new()
    }
}

impl MountainCar {
    /// A car waiting for its first `reset`.
    pub fn new() -> Self {
        MountainCar {
            state: [0.0; 2],
            status: EpisodeStatus::NotStarted,
            rng: None,
            observation_space: Space::Box(BoxSpace::new(
                vec![MIN_POSITION as f32, -MAX_SPEED as f32],
                vec![MAX_POSITION as f32, MAX_SPEED as f32],
            )),
            action_space: Space::Discrete { n: 3 },
        }
    }

    /// One step of the dynamics: returns `(next_state, terminated)`.
    ///
    /// ```
    /// use wengert_rl::env::MountainCar;
    /// let (next, terminated) = MountainCar::dynamics([0.49, 0.05], 2);
    /// assert!(next[0] > 0.5 && terminated);
    /// ```
    pub fn dynamics(state: [f64; 2], action: usize) -> ([f64; 2], bool) {
        let [mut position, mut velocity] = state;
        velocity += (action as f64 - 1.0) * FORCE + (3.0 * position).cos() * -GRAVITY;
        velocity = velocity.clamp(-MAX_SPEED, MAX_SPEED);
        position += velocity;
        position = position.clamp(MIN_POSITION, MAX_POSITION);
        if position == MIN_POSITION && velocity < 0.0 {
            velocity = 0.0;
        }
        let terminated = position >= GOAL_POSITION && velocity >= GOAL_VELOCITY;
        ([position, velocity], terminated)
    }
}

impl Env for MountainCar {
    fn save_state(&self) -> Option<EnvState> {
        Some(save_classic(&self.state, self.status, &self.rng, &[]))
    }

    fn load_state(&mut self, saved: &EnvState) -> Result<(), EnvError> {
        load_classic(
            "MountainCar-v0",
            saved,
            &mut self.state,
            &mut self.status,
            &mut self.rng,
            &mut [],
        )
    }

    fn id(&self) -> &str {
        "MountainCar-v0"
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]) {
        let rng = super::reseed(&mut self.rng, seed);
        self.state = [rng.random_range(-0.6..-0.4), 0.0];
        self.status = EpisodeStatus::Running;
        observation.copy_from_slice(&self.state.map(|s| s as f32));
    }

    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError> {
        let action = super::discrete_action(action, &self.action_space, "MountainCar-v0")?;
        self.status.check_running("MountainCar-v0")?;
        let (next, terminated) = Self::dynamics(self.state, action);
        self.state = next;
        self.status = EpisodeStatus::after_step(terminated);
        observation.copy_from_slice(&self.state.map(|s| s as f32));
        Ok(Feedback {
            reward: -1.0,
            terminated,
            truncated: false,
        })
    }
}

impl PhysicalState for MountainCar {
    type State = [f64; 2];

    fn state(&self) -> [f64; 2] {
        self.state
    }

    fn set_state(&mut self, state: [f64; 2]) {
        self.state = state;
        self.status = EpisodeStatus::Running;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn velocity_is_clipped() {
        let (next, _) = MountainCar::dynamics([-0.5, 0.0699], 2);
        assert_eq!(next[1], MAX_SPEED);
    }

    #[test]
    fn doing_nothing_from_the_bottom_never_reaches_the_goal() {
        let mut env = MountainCar::new();
        env.reset(Some(4));
        assert!((-0.6..-0.4).contains(&env.state()[0]) && env.state()[1] == 0.0);
        for _ in 0..1000 {
            assert!(!env.step(Action::Discrete(1)).unwrap().terminated);
        }
    }
}
