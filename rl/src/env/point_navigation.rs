//! # PointNavigation-v0 — a point mass pushed around a 2D box
//!
//! The smallest continuous-control task with a 2D state worth looking at: a unit point mass in
//! the box `[−1, 1]²`, pushed by a bounded force. It is the "2D navigation" environment of
//! DIAYN (Eysenbach et al., 2018), where skills are told apart by where they take the point,
//! and a goal-reaching task for reward shaping.
//!
//! **State and observation.** Position `p = (x, y) ∈ [−1, 1]²` and velocity
//! `v = (v_x, v_y) ∈ [−1, 1]²`; the observation is `(x, y, v_x, v_y)`.
//!
//! **Action.** A force `F ∈ [−1, 1]²`, clipped into the box. With `dt = 0.1` (semi-implicit
//! Euler, mass 1):
//!
//! ```text
//! v' = clip(v + dt · clip(F, −1, 1), −1, 1)
//! p' = clip(p + dt · v', −1, 1)
//! v'_i = 0 where p'_i hit a wall (an inelastic wall stops the motion into it)
//! ```
//!
//! **Reward and termination.** The goal is the disk of radius `0.1` around `g = (0.7, 0.7)`:
//!
//! ```text
//! r = [‖p' − g‖ ≤ 0.1] − 0.01 ‖F‖²        (F unclipped, as MountainCarContinuous does)
//! ```
//!
//! and the episode **terminates** when `p'` enters the goal disk. The registered time limit
//! truncates it after 200 steps (20 s: a straight crossing of the box at full speed takes 2 s).
//!
//! **Reset.** `p ~ U(−0.1, 0.1)²` around the centre, `v = 0`.

use super::{
    Action, BoxSpace, Env, EnvError, EnvRng, EnvState, EpisodeStatus, Feedback, PhysicalState,
    Space, load_classic, save_classic,
};
use rand::RngExt;

/// Half the box's width: positions lie in `[−BOX_HALF_WIDTH, BOX_HALF_WIDTH]²`.
pub const BOX_HALF_WIDTH: f64 = 1.0;
/// The largest speed along each axis.
pub const MAX_SPEED: f64 = 1.0;
/// The largest force along each axis.
pub const MAX_FORCE: f32 = 1.0;
/// The time step.
pub const DT: f64 = 0.1;
/// The goal `g`.
pub const GOAL: [f64; 2] = [0.7, 0.7];
/// The goal disk's radius.
pub const GOAL_RADIUS: f64 = 0.1;
/// The weight of the control cost `‖F‖²`.
pub const CONTROL_COST: f64 = 0.01;
const ID: &str = "PointNavigation-v0";

/// PointNavigation-v0 (see the module doc). Physical state `[x, y, v_x, v_y]`.
///
/// ```
/// use wengert_rl::env::{Action, Env, PhysicalState, PointNavigation};
/// let mut env = PointNavigation::new();
/// env.set_state([0.0, 0.0, 0.0, 0.0]);
/// let step = env.step(Action::Continuous(&[2.0, 0.0])).unwrap(); // clipped to 1
/// assert_eq!(env.state(), [0.1 * 0.1, 0.0, 0.1, 0.0]);
/// assert_eq!(step.reward, -0.01 * 4.0); // the cost uses the unclipped force
/// env.set_state([0.65, 0.7, 1.0, 0.0]);
/// assert!(env.step(Action::Continuous(&[0.0, 0.0])).unwrap().terminated); // in the goal disk
/// ```
#[derive(Clone, Debug)]
pub struct PointNavigation {
    state: [f64; 4],
    status: EpisodeStatus,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl Default for PointNavigation {
    fn default() -> Self {
        Self::new()
    }
}

impl PointNavigation {
    /// A point waiting for its first `reset`.
    pub fn new() -> Self {
        let (p, v) = (BOX_HALF_WIDTH as f32, MAX_SPEED as f32);
        PointNavigation {
            state: [0.0; 4],
            status: EpisodeStatus::NotStarted,
            rng: None,
            observation_space: Space::Box(BoxSpace::symmetric(&[p, p, v, v])),
            action_space: Space::Box(BoxSpace::symmetric(&[MAX_FORCE, MAX_FORCE])),
        }
    }

    /// The next `[x, y, v_x, v_y]` under force `force` (the module doc's equations).
    pub fn dynamics(state: [f64; 4], force: [f32; 2]) -> [f64; 4] {
        let mut next = [0.0; 4];
        for i in 0..2 {
            let f = f64::from(force[i].clamp(-MAX_FORCE, MAX_FORCE));
            let v = (state[2 + i] + DT * f).clamp(-MAX_SPEED, MAX_SPEED);
            let unclipped = state[i] + DT * v;
            let p = unclipped.clamp(-BOX_HALF_WIDTH, BOX_HALF_WIDTH);
            next[i] = p;
            next[2 + i] = if p != unclipped { 0.0 } else { v };
        }
        next
    }

    /// Whether position `(x, y)` lies in the goal disk.
    pub fn in_goal(x: f64, y: f64) -> bool {
        (x - GOAL[0]).hypot(y - GOAL[1]) <= GOAL_RADIUS
    }
}

impl Env for PointNavigation {
    fn id(&self) -> &str {
        ID
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]) {
        let rng = super::reseed(&mut self.rng, seed);
        let x = rng.random_range(-0.1..0.1);
        let y = rng.random_range(-0.1..0.1);
        self.set_state([x, y, 0.0, 0.0]);
        observation.copy_from_slice(&self.state.map(|s| s as f32));
    }

    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError> {
        let force = super::continuous_action(action, &self.action_space, ID)?;
        let force = [force[0], force[1]];
        self.status.check_running(ID)?;
        self.state = Self::dynamics(self.state, force);
        let terminated = Self::in_goal(self.state[0], self.state[1]);
        self.status = EpisodeStatus::after_step(terminated);
        observation.copy_from_slice(&self.state.map(|s| s as f32));
        let cost = force.iter().map(|&f| f64::from(f).powi(2)).sum::<f64>() * CONTROL_COST;
        Ok(Feedback {
            reward: f64::from(u8::from(terminated)) - cost,
            terminated,
            truncated: false,
        })
    }

    fn save_state(&self) -> Option<EnvState> {
        Some(save_classic(&self.state, self.status, &self.rng, &[]))
    }

    fn load_state(&mut self, saved: &EnvState) -> Result<(), EnvError> {
        load_classic(
            ID,
            saved,
            &mut self.state,
            &mut self.status,
            &mut self.rng,
            &mut [],
        )
    }
}

impl PhysicalState for PointNavigation {
    type State = [f64; 4];

    fn state(&self) -> [f64; 4] {
        self.state
    }

    fn set_state(&mut self, state: [f64; 4]) {
        self.state = state;
        self.status = EpisodeStatus::Running;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::make;

    #[test]
    fn full_force_reaches_top_speed_in_ten_steps_and_stops_at_the_wall() {
        let mut env = PointNavigation::new();
        env.set_state([0.0, 0.0, 0.0, 0.0]);
        for step in 1..=10 {
            env.step(Action::Continuous(&[1.0, -1.0])).unwrap();
            let [_, _, vx, vy] = env.state();
            assert!((vx - 0.1 * step as f64).abs() < 1e-12 && vx == -vy);
        }
        for _ in 0..30 {
            env.step(Action::Continuous(&[1.0, -1.0])).unwrap();
        }
        // Against the right and bottom walls: pinned there, at rest.
        assert_eq!(env.state(), [1.0, -1.0, 0.0, 0.0]);
    }

    #[test]
    fn the_goal_terminates_with_reward_one_and_the_limit_truncates() {
        let mut env = PointNavigation::new();
        env.set_state([0.5, 0.5, 1.0, 1.0]);
        let mut steps = 0;
        let last = loop {
            let step = env.step(Action::Continuous(&[0.0, 0.0])).unwrap();
            steps += 1;
            if step.done() {
                break step;
            }
        };
        assert!(last.terminated && !last.truncated && last.reward == 1.0);
        assert_eq!(steps, 2); // (0.6, 0.6) is outside the disk, (0.7, 0.7) its centre
        let mut env = make(ID).unwrap();
        env.reset(Some(0));
        let mut steps = 0;
        loop {
            let step = env.step(Action::Continuous(&[-1.0, 0.0])).unwrap();
            steps += 1;
            assert_eq!(step.reward, -0.01);
            if step.done() {
                assert!(step.truncated && !step.terminated);
                break;
            }
        }
        assert_eq!(steps, 200);
    }

    #[test]
    fn a_saved_state_continues_bit_for_bit() {
        let mut env = make(ID).unwrap();
        env.reset(Some(5));
        let push = [0.3_f32, -0.7];
        env.step(Action::Continuous(&push)).unwrap();
        let saved = env.save_state().unwrap();
        let mut copy = make(ID).unwrap();
        copy.load_state(&saved).unwrap();
        for _ in 0..400 {
            let (a, b) = (
                env.step(Action::Continuous(&push)),
                copy.step(Action::Continuous(&push)),
            );
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b);
                    if a.done() {
                        assert_eq!(env.reset(None), copy.reset(None));
                    }
                }
                (a, b) => panic!("{a:?} vs {b:?}"),
            }
        }
        let short = EnvState {
            reals: vec![0.0; 3],
            ..EnvState::default()
        };
        assert!(copy.load_state(&short).is_err());
    }

    #[test]
    fn reset_starts_near_the_centre_at_rest_and_actions_are_checked() {
        let mut env = PointNavigation::new();
        assert!(env.step(Action::Continuous(&[0.0, 0.0])).is_err()); // never reset
        let observation = env.reset(Some(3));
        assert!(observation[..2].iter().all(|p| p.abs() <= 0.1));
        assert_eq!(&observation[2..], &[0.0, 0.0]);
        let error = env
            .step(Action::Continuous(&[0.0]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("[0.0]"), "{error}");
    }
}
