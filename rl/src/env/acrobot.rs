//! # Acrobot-v1
//!
//! Two links hanging from a fixed joint, only the joint between them actuated (Sutton, 1996;
//! "book" dynamics of Sutton & Barto), with Gymnasium's constants: link lengths `l₁ = l₂ = 1`,
//! masses `m₁ = m₂ = 1`, centres of mass `l_c1 = l_c2 = 0.5`, moments of inertia
//! `I₁ = I₂ = 1`, `g = 9.8`, time step `dt = 0.2`, speed bounds `4π` and `9π`.
//!
//! State `(θ₁, θ₂, θ̇₁, θ̇₂)`, `θ₁ = 0` hanging down; actions 0, 1, 2 apply torque `τ = −1, 0, +1`
//! at the second joint. The equations of motion are [`dynamics::Acrobot`]'s (Sutton & Barto's
//! "book" form, in Gymnasium's order) with [`dynamics::Acrobot::GYMNASIUM`]'s constants,
//! `(θ̈₁, θ̈₂) = f(θ₁, θ₂, θ̇₁, θ̇₂, τ)`,
//! integrated over one `dt` by a single classical Runge–Kutta step
//! `y' = y + dt/6 (k₁ + 2k₂ + 2k₃ + k₄)`; then the angles are wrapped into `[−π, π]` and the
//! speeds bounded. The episode terminates when the tip is one link above the pivot,
//! `−cos θ₁ − cos(θ₁ + θ₂) > 1`; the reward is `−1` per step and `0` on the terminating step.
//! Reset draws each component from `U(−0.1, 0.1)` rounded to `float32` (Gymnasium's
//! `.astype(np.float32)`). The observation is `(cos θ₁, sin θ₁, cos θ₂, sin θ₂, θ̇₁, θ̇₂)`;
//! the registered time limit is 500 steps.

use super::{
    Action, BoxSpace, Env, EnvError, EnvRng, EnvState, EpisodeStatus, Feedback, PhysicalState,
    Space, load_classic, save_classic,
};
use rand::RngExt;
use std::f64::consts::PI;

const DT: f64 = 0.2;
const ACROBOT: dynamics::Acrobot = dynamics::Acrobot::GYMNASIUM;
const MAX_VEL_1: f64 = 4.0 * PI;
const MAX_VEL_2: f64 = 9.0 * PI;
const AVAILABLE_TORQUE: [f64; 3] = [-1.0, 0.0, 1.0];

/// Acrobot-v1 (see the module doc). Physical state `[θ₁, θ₂, θ̇₁, θ̇₂]`.
///
/// ```
/// use wengert_rl::env::{Acrobot, Action, Env, PhysicalState};
/// let mut env = Acrobot::new();
/// env.set_state([0.0, 0.0, 0.0, 0.0]); // hanging straight down, at rest
/// let step = env.step(Action::Discrete(1)).unwrap(); // no torque
/// assert!(env.state().iter().all(|x| x.abs() < 1e-15)); // stays there, to round-off
/// assert_eq!(step.reward, -1.0);
/// ```
#[derive(Clone, Debug)]
pub struct Acrobot {
    state: [f64; 4],
    status: EpisodeStatus,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl Default for Acrobot {
    fn default() -> Self {
        Self::new()
    }
}

/// `dy/dt` of the augmented state `(θ₁, θ₂, θ̇₁, θ̇₂, τ)` (τ is held constant).
fn dynamics_derivative(y: [f64; 5]) -> [f64; 5] {
    let [theta1, theta2, dtheta1, dtheta2, torque] = y;
    let (ddtheta1, ddtheta2) = ACROBOT.acceleration(theta1, theta2, dtheta1, dtheta2, torque);
    [dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0]
}

/// `y + h · k`, component-wise.
fn add_scaled(y: [f64; 5], h: f64, k: [f64; 5]) -> [f64; 5] {
    std::array::from_fn(|i| y[i] + h * k[i])
}

/// One classical Runge–Kutta step of length `dt`.
fn rk4(y0: [f64; 5], dt: f64) -> [f64; 5] {
    let half = dt / 2.0;
    let k1 = dynamics_derivative(y0);
    let k2 = dynamics_derivative(add_scaled(y0, half, k1));
    let k3 = dynamics_derivative(add_scaled(y0, half, k2));
    let k4 = dynamics_derivative(add_scaled(y0, dt, k3));
    std::array::from_fn(|i| y0[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// Shifts `x` by multiples of `max − min` into `[min, max]`.
fn wrap(mut x: f64, min: f64, max: f64) -> f64 {
    let period = max - min;
    while x > max {
        x -= period;
    }
    while x < min {
        x += period;
    }
    x
}

impl Acrobot {
    /// An acrobot waiting for its first `reset`.
    pub fn new() -> Self {
        Acrobot {
            state: [0.0; 4],
            status: EpisodeStatus::NotStarted,
            rng: None,
            observation_space: Space::Box(BoxSpace::symmetric(&[
                1.0,
                1.0,
                1.0,
                1.0,
                MAX_VEL_1 as f32,
                MAX_VEL_2 as f32,
            ])),
            action_space: Space::Discrete { n: 3 },
        }
    }

    /// One step of the dynamics with torque index `action`: returns `(next_state, terminated)`.
    ///
    /// ```
    /// use wengert_rl::env::Acrobot;
    /// let (next, terminated) = Acrobot::dynamics([3.0, 0.0, 0.0, 0.0], 1);
    /// assert!(terminated && next[0].abs() <= std::f64::consts::PI); // nearly upright
    /// ```
    pub fn dynamics(state: [f64; 4], action: usize) -> ([f64; 4], bool) {
        let [theta1, theta2, dtheta1, dtheta2] = state;
        let next = rk4(
            [theta1, theta2, dtheta1, dtheta2, AVAILABLE_TORQUE[action]],
            DT,
        );
        let next = [
            wrap(next[0], -PI, PI),
            wrap(next[1], -PI, PI),
            next[2].clamp(-MAX_VEL_1, MAX_VEL_1),
            next[3].clamp(-MAX_VEL_2, MAX_VEL_2),
        ];
        let terminated = -next[0].cos() - (next[1] + next[0]).cos() > 1.0;
        (next, terminated)
    }

    fn write_observation(&self, observation: &mut [f32]) {
        let [theta1, theta2, dtheta1, dtheta2] = self.state;
        let values = [
            theta1.cos(),
            theta1.sin(),
            theta2.cos(),
            theta2.sin(),
            dtheta1,
            dtheta2,
        ];
        for (o, v) in observation.iter_mut().zip(values) {
            *o = v as f32;
        }
    }
}

impl Env for Acrobot {
    fn save_state(&self) -> Option<EnvState> {
        Some(save_classic(&self.state, self.status, &self.rng, &[]))
    }

    fn load_state(&mut self, saved: &EnvState) -> Result<(), EnvError> {
        load_classic(
            "Acrobot-v1",
            saved,
            &mut self.state,
            &mut self.status,
            &mut self.rng,
            &mut [],
        )
    }

    fn id(&self) -> &str {
        "Acrobot-v1"
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]) {
        let rng = super::reseed(&mut self.rng, seed);
        self.state = std::array::from_fn(|_| f64::from(rng.random_range(-0.1..0.1) as f32));
        self.status = EpisodeStatus::Running;
        self.write_observation(observation);
    }

    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError> {
        let action = super::discrete_action(action, &self.action_space, "Acrobot-v1")?;
        self.status.check_running("Acrobot-v1")?;
        let (next, terminated) = Self::dynamics(self.state, action);
        self.state = next;
        self.status = EpisodeStatus::after_step(terminated);
        self.write_observation(observation);
        Ok(Feedback {
            reward: if terminated { 0.0 } else { -1.0 },
            terminated,
            truncated: false,
        })
    }
}

impl PhysicalState for Acrobot {
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
    fn wrap_shifts_by_whole_periods() {
        assert_eq!(wrap(0.5, -PI, PI), 0.5);
        assert!((wrap(0.5 + 4.0 * PI, -PI, PI) - 0.5).abs() < 1e-12);
        assert!((wrap(-0.5 - 2.0 * PI, -PI, PI) + 0.5).abs() < 1e-12);
    }

    #[test]
    fn hanging_at_rest_without_torque_stays_at_rest() {
        // cos(−π/2) is 6e-17, not 0, in floating point: the fixed point holds to round-off.
        let next = rk4([0.0; 5], DT);
        assert!(next.iter().all(|x| x.abs() < 1e-15), "{next:?}");
    }

    #[test]
    fn torque_swings_the_second_link_the_other_way() {
        let (next, _) = Acrobot::dynamics([0.0; 4], 2);
        assert!(next[3] > 0.0 && next[2] < 0.0, "{next:?}");
    }

    #[test]
    fn reset_is_float32_and_small() {
        let mut env = Acrobot::new();
        env.reset(Some(5));
        for s in env.state() {
            assert!(s.abs() <= 0.1 && f64::from(s as f32) == s);
        }
    }
}
