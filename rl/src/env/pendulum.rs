//! # Pendulum-v1
//!
//! The inverted-pendulum swing-up, with Gymnasium's constants: `g = 10`, mass `m = 1`, length
//! `l = 1`, time step `dt = 0.05`, maximum speed 8, maximum torque 2.
//!
//! State `(θ, θ̇)` with `θ = 0` upright; the action is a torque `u`, clipped to `[−2, 2]`. The
//! equation of motion is [`dynamics::Pendulum`]'s with Gymnasium's uniform rod
//! ([`dynamics::Pendulum::GYMNASIUM`]), `θ̈ = 3g / (2l) · sin θ + 3 / (m l²) · u`; this module
//! adds Gymnasium's integrator, clipping, reward and observation. With
//! `normalize(θ) = ((θ + π) mod 2π) − π`:
//!
//! ```text
//! r     = −(normalize(θ)² + 0.1 θ̇² + 0.001 u²)
//! θ̇'    = clip(θ̇ + θ̈ · dt, −8, 8)
//! θ'    = θ + θ̇' dt                     (semi-implicit Euler)
//! ```
//!
//! The torque is `float32`, as Gymnasium's action box is, and Gymnasium's NumPy arithmetic keeps
//! `u²`, `0.001 u²` and `3 u` in `float32` before adding them to `float64` terms; that is
//! reproduced here so that states agree to round-off. The pendulum never terminates; the
//! registered time limit is 200 steps. Reset draws `θ ~ U(−π, π)`, `θ̇ ~ U(−1, 1)`; the
//! observation is `(cos θ, sin θ, θ̇)`.

use super::{
    Action, BoxSpace, Env, EnvError, EnvRng, EnvState, EpisodeStatus, Feedback, PhysicalState,
    Space, load_classic, save_classic,
};
use rand::RngExt;
use std::f64::consts::PI;

const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f32 = 2.0;
const DT: f64 = 0.05;
const PENDULUM: dynamics::Pendulum = dynamics::Pendulum::GYMNASIUM;

/// `((θ + π) mod 2π) − π`, with the floored modulo of NumPy (result in `[−π, π)`).
fn angle_normalize(x: f64) -> f64 {
    let period = 2.0 * PI;
    let remainder = (x + PI) % period;
    let floored = if remainder < 0.0 {
        remainder + period
    } else {
        remainder
    };
    floored - PI
}

/// Pendulum-v1 (see the module doc). Physical state `[θ, θ̇]`.
///
/// ```
/// use wengert_rl::env::{Action, Env, Pendulum, PhysicalState};
/// let mut env = Pendulum::new();
/// env.set_state([std::f64::consts::PI, 0.0]); // hanging down, at rest
/// let step = env.step(Action::Continuous(&[5.0])).unwrap(); // clipped to 2
/// assert!((step.reward + (std::f64::consts::PI.powi(2) + 0.004)).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct Pendulum {
    state: [f64; 2],
    status: EpisodeStatus,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new()
    }
}

impl Pendulum {
    /// A pendulum waiting for its first `reset`.
    pub fn new() -> Self {
        Pendulum {
            state: [0.0; 2],
            status: EpisodeStatus::NotStarted,
            rng: None,
            observation_space: Space::Box(BoxSpace::symmetric(&[1.0, 1.0, MAX_SPEED as f32])),
            action_space: Space::Box(BoxSpace::symmetric(&[MAX_TORQUE])),
        }
    }

    /// `((θ + π) mod 2π) − π`: the angle from upright, in `[−π, π)`.
    ///
    /// ```
    /// use wengert_rl::env::Pendulum;
    /// assert!((Pendulum::angle_normalize(3.0 * std::f64::consts::PI) + std::f64::consts::PI).abs() < 1e-12);
    /// assert_eq!(Pendulum::angle_normalize(0.5), 0.5);
    /// ```
    pub fn angle_normalize(theta: f64) -> f64 {
        angle_normalize(theta)
    }

    /// One step of the dynamics from `state` with torque `torque` (clipped to `[−2, 2]`):
    /// returns `(next_state, reward)`.
    ///
    /// ```
    /// use wengert_rl::env::Pendulum;
    /// let (next, reward) = Pendulum::dynamics([0.0, 0.0], 0.0);
    /// assert_eq!((next, reward), ([0.0, 0.0], -0.0));
    /// ```
    pub fn dynamics(state: [f64; 2], torque: f32) -> ([f64; 2], f64) {
        let [theta, theta_dot] = state;
        let u = torque.clamp(-MAX_TORQUE, MAX_TORQUE);
        let normalized = angle_normalize(theta);
        let cost = normalized * normalized
            + 0.1 * (theta_dot * theta_dot)
            + f64::from(0.001_f32 * (u * u));
        let theta_ddot: f64 = PENDULUM.acceleration(theta, theta_dot, u);
        let new_theta_dot = theta_dot + theta_ddot * DT;
        let new_theta_dot = new_theta_dot.clamp(-MAX_SPEED, MAX_SPEED);
        let new_theta = theta + new_theta_dot * DT;
        ([new_theta, new_theta_dot], -cost)
    }

    fn write_observation(&self, observation: &mut [f32]) {
        let [theta, theta_dot] = self.state;
        observation.copy_from_slice(&[theta.cos() as f32, theta.sin() as f32, theta_dot as f32]);
    }
}

impl Env for Pendulum {
    fn save_state(&self) -> Option<EnvState> {
        Some(save_classic(&self.state, self.status, &self.rng, &[]))
    }

    fn load_state(&mut self, saved: &EnvState) -> Result<(), EnvError> {
        load_classic(
            "Pendulum-v1",
            saved,
            &mut self.state,
            &mut self.status,
            &mut self.rng,
            &mut [],
        )
    }

    fn id(&self) -> &str {
        "Pendulum-v1"
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]) {
        let rng = super::reseed(&mut self.rng, seed);
        self.state = [rng.random_range(-PI..PI), rng.random_range(-1.0..1.0)];
        self.status = EpisodeStatus::Running;
        self.write_observation(observation);
    }

    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError> {
        let torque = super::continuous_action(action, &self.action_space, "Pendulum-v1")?;
        self.status.check_running("Pendulum-v1")?;
        let (next, reward) = Self::dynamics(self.state, torque[0]);
        self.state = next;
        self.write_observation(observation);
        Ok(Feedback {
            reward,
            terminated: false,
            truncated: false,
        })
    }
}

impl PhysicalState for Pendulum {
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
    fn angle_normalize_lands_in_minus_pi_to_pi() {
        for k in -20..20 {
            let theta = 0.3 + 2.0 * PI * f64::from(k);
            assert!((angle_normalize(theta) - 0.3).abs() < 1e-12);
        }
        assert_eq!(angle_normalize(PI), -PI);
    }

    #[test]
    fn speed_is_clipped_to_eight() {
        let (next, _) = Pendulum::dynamics([PI / 2.0, 7.9], 2.0);
        assert_eq!(next[1], 8.0);
        assert_eq!(next[0], PI / 2.0 + 8.0 * DT);
    }

    #[test]
    fn wrong_action_dimension_is_an_error() {
        let mut env = Pendulum::new();
        env.reset(Some(0));
        let message = env
            .step(Action::Continuous(&[0.0, 1.0]))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("[0.0, 1.0]") && message.contains("Box([-2.0], [2.0], (1,), float32)"),
            "{message}"
        );
        assert!(env.step(Action::Discrete(0)).is_err());
    }

    #[test]
    fn reset_covers_its_ranges() {
        let mut env = Pendulum::new();
        env.reset(Some(11));
        let mut extreme = [0.0_f64; 2];
        for _ in 0..2000 {
            env.reset(None);
            let [theta, theta_dot] = env.state();
            assert!(theta.abs() <= PI && theta_dot.abs() <= 1.0);
            extreme = [extreme[0].max(theta.abs()), extreme[1].max(theta_dot.abs())];
        }
        assert!(extreme[0] > 3.1 && extreme[1] > 0.99);
    }
}
