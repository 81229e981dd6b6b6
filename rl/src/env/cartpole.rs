//! # CartPole-v1
//!
//! A pole hinged on a cart that moves along a frictionless track (Barto, Sutton & Anderson,
//! 1983), with Gymnasium's constants: gravity `g = 9.8`, cart mass `m_c = 1.0`, pole mass
//! `m_p = 0.1`, half pole length `l = 0.5`, force magnitude `10`, time step `τ = 0.02`.
//!
//! State `s = (x, ẋ, θ, θ̇)`, `θ = 0` upright; action 0 pushes left with `F = −10`, action 1
//! right with `F = +10`. The equations of motion are [`dynamics::CartPole`]'s (Florian's
//! correction of the original paper, in Gymnasium's order) with Gymnasium's uniform pole
//! ([`dynamics::CartPole::GYMNASIUM`]):
//!
//! ```text
//! temp = (F + m_p l θ̇² sin θ) / (m_c + m_p)
//! θ̈    = (g sin θ − cos θ · temp) / (l (4/3 − m_p cos² θ / (m_c + m_p)))
//! ẍ    = temp − m_p l θ̈ cos θ / (m_c + m_p)
//! ```
//!
//! integrated by explicit Euler: `x ← x + τ ẋ`, `ẋ ← ẋ + τ ẍ`, `θ ← θ + τ θ̇`, `θ̇ ← θ̇ + τ θ̈`
//! (all positions updated from the *old* velocities).
//!
//! The episode terminates when `|x| > 2.4` or `|θ| > 12°` (`12 · 2π / 360` rad). The reward is
//! `+1` for every step, the terminating one included (Gymnasium's `steps_beyond_terminated = 0`
//! case). Gymnasium's later steps past termination (reward 0 and a warning) are an error here.
//! Reset draws each state component uniformly from `(−0.05, 0.05)`. The observation is the
//! state rounded to `f32`; the registered time limit is 500 steps.

use super::{
    Action, BoxSpace, Env, EnvError, EnvRng, EnvState, EpisodeStatus, Feedback, PhysicalState,
    Space, load_classic, save_classic,
};
use rand::RngExt;

const CART_POLE: dynamics::CartPole = dynamics::CartPole::GYMNASIUM;
const FORCE_MAG: f64 = 10.0;
const TAU: f64 = 0.02;
const THETA_THRESHOLD_RADIANS: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
const X_THRESHOLD: f64 = 2.4;

/// CartPole-v1 (see the module doc). Physical state `[x, ẋ, θ, θ̇]`.
///
/// ```
/// use wengert_rl::env::{Action, CartPole, Env, PhysicalState};
/// let mut env = CartPole::new();
/// env.set_state([0.0, 0.0, 0.0, 0.0]);
/// env.step(Action::Discrete(1)).unwrap();
/// let [x, x_dot, theta, theta_dot] = env.state();
/// assert_eq!(x, 0.0); // Euler: the position moves with the old velocity
/// assert!(x_dot > 0.0 && theta == 0.0 && theta_dot < 0.0); // pushed right, the pole tips left
/// ```
#[derive(Clone, Debug)]
pub struct CartPole {
    state: [f64; 4],
    status: EpisodeStatus,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new()
    }
}

impl CartPole {
    /// A cart-pole waiting for its first `reset`.
    pub fn new() -> Self {
        let high = [
            (X_THRESHOLD * 2.0) as f32,
            f32::INFINITY,
            (THETA_THRESHOLD_RADIANS * 2.0) as f32,
            f32::INFINITY,
        ];
        CartPole {
            state: [0.0; 4],
            status: EpisodeStatus::NotStarted,
            rng: None,
            observation_space: Space::Box(BoxSpace::symmetric(&high)),
            action_space: Space::Discrete { n: 2 },
        }
    }

    /// One Euler step of the dynamics from `state` with push `action` (0 left, 1 right):
    /// returns `(next_state, terminated)`. Pure, so a planner can call it directly.
    ///
    /// ```
    /// use wengert_rl::env::CartPole;
    /// let (next, terminated) = CartPole::dynamics([0.0, 0.0, 0.2, 1.0], 0);
    /// assert!(next[2] > 0.2 && terminated); // 0.2 + 0.02 · 1.0 > 12° ≈ 0.2094
    /// ```
    pub fn dynamics(state: [f64; 4], action: usize) -> ([f64; 4], bool) {
        let [x, x_dot, theta, theta_dot] = state;
        let force = if action == 1 { FORCE_MAG } else { -FORCE_MAG };
        let (x_acc, theta_acc): (f64, f64) = CART_POLE.acceleration(theta, theta_dot, force);
        let next = [
            x + TAU * x_dot,
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ];
        let terminated = next[0] < -X_THRESHOLD
            || next[0] > X_THRESHOLD
            || next[2] < -THETA_THRESHOLD_RADIANS
            || next[2] > THETA_THRESHOLD_RADIANS;
        (next, terminated)
    }

    fn write_observation(&self, observation: &mut [f32]) {
        for (o, s) in observation.iter_mut().zip(self.state) {
            *o = s as f32;
        }
    }
}

impl Env for CartPole {
    fn save_state(&self) -> Option<EnvState> {
        Some(save_classic(&self.state, self.status, &self.rng, &[]))
    }

    fn load_state(&mut self, saved: &EnvState) -> Result<(), EnvError> {
        load_classic(
            "CartPole-v1",
            saved,
            &mut self.state,
            &mut self.status,
            &mut self.rng,
            &mut [],
        )
    }

    fn id(&self) -> &str {
        "CartPole-v1"
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]) {
        let rng = super::reseed(&mut self.rng, seed);
        self.state = std::array::from_fn(|_| rng.random_range(-0.05..0.05));
        self.status = EpisodeStatus::Running;
        self.write_observation(observation);
    }

    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError> {
        let action = super::discrete_action(action, &self.action_space, "CartPole-v1")?;
        self.status.check_running("CartPole-v1")?;
        let (next, terminated) = Self::dynamics(self.state, action);
        self.state = next;
        self.status = EpisodeStatus::after_step(terminated);
        self.write_observation(observation);
        Ok(Feedback {
            reward: 1.0,
            terminated,
            truncated: false,
        })
    }
}

impl PhysicalState for CartPole {
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

    #[test]
    fn reset_is_uniform_in_plus_minus_five_hundredths_and_seeded() {
        let mut env = CartPole::new();
        let first = env.reset(Some(7));
        assert_eq!(env.reset(Some(7)), first);
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        for _ in 0..2000 {
            env.reset(None);
            for s in env.state() {
                low = low.min(s);
                high = high.max(s);
            }
        }
        assert!(
            (-0.05..-0.049).contains(&low) && (0.049..0.05).contains(&high),
            "{low} {high}"
        );
    }

    #[test]
    fn stepping_after_termination_or_before_reset_is_an_error() {
        let mut env = CartPole::new();
        assert!(matches!(
            env.step(Action::Discrete(0)),
            Err(EnvError::NeedsReset {
                finished: false,
                ..
            })
        ));
        env.set_state([2.39, 1.0, 0.0, 0.0]);
        let step = env.step(Action::Discrete(1)).unwrap();
        assert!(step.terminated && step.reward == 1.0);
        assert!(matches!(
            env.step(Action::Discrete(1)),
            Err(EnvError::NeedsReset { finished: true, .. })
        ));
        env.reset(Some(0));
        assert!(env.step(Action::Discrete(1)).is_ok());
    }

    #[test]
    fn an_action_that_does_not_exist_is_an_error() {
        let mut env = CartPole::new();
        env.reset(Some(0));
        let message = env.step(Action::Discrete(2)).unwrap_err().to_string();
        assert_eq!(
            message,
            "CartPole-v1: discrete action 2 is not in the action space Discrete(2)"
        );
    }
}
