//! A damped pendulum driven by a torque at its pivot.
//!
//! A point mass `m` on a massless rod of length `l`, angle `θ` from hanging straight down
//! (so `θ = π` is upright; Drake's and Tedrake's convention), viscous damping `b`, gravity
//! `g`, torque `u`. State `x = [θ, θ̇]`:
//!
//! ```text
//! m l² θ̈ = u − b θ̇ − m g l sin θ
//! ```
//!
//! The equation is [`dynamics::Pendulum`]'s, written once for this crate and for `rl`'s
//! Pendulum-v1; that one measures from upright, so it is evaluated at `θ − π`
//! (`sin(θ − π) = −sin θ`).
//!
//! Defaults: `m = 1 kg`, `l = 1 m`, `g = 9.81 m/s²`, `b = 0.1 N·m·s`.

use super::{System, element, join};
use autograd::Var;
use std::f64::consts::PI;

/// `m l² θ̈ = u − b θ̇ − m g l sin θ`, `θ = 0` hanging down.
///
/// ```
/// use ndarray::array;
/// use wengert_control::systems::{Pendulum, System};
///
/// let pendulum = Pendulum::default();
/// // Upright and at rest is an (unstable) equilibrium: θ̈ = −g sin π / l ≈ 0.
/// let x = pendulum.rk4_step_array(&array![std::f64::consts::PI, 0.0], &array![0.0], 0.05);
/// assert!((x[0] - std::f64::consts::PI).abs() < 1e-12 && x[1].abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pendulum {
    /// Mass `m` (kg).
    pub mass: f64,
    /// Rod length `l` (m).
    pub length: f64,
    /// Gravity `g` (m/s²).
    pub gravity: f64,
    /// Viscous damping `b` (N·m·s).
    pub damping: f64,
}

impl Default for Pendulum {
    fn default() -> Self {
        Pendulum {
            mass: 1.0,
            length: 1.0,
            gravity: 9.81,
            damping: 0.1,
        }
    }
}

impl Pendulum {
    /// The shared equation of motion with these parameters (a point mass).
    pub fn equation(&self) -> dynamics::Pendulum {
        dynamics::Pendulum {
            mass: self.mass,
            length: self.length,
            gravity: self.gravity,
            damping: self.damping,
            body: dynamics::Body::PointMass,
        }
    }
}

impl System for Pendulum {
    fn state_dim(&self) -> usize {
        2
    }

    fn control_dim(&self) -> usize {
        1
    }

    fn continuous(&self, x: &Var<f64>, u: &Var<f64>) -> Var<f64> {
        let (theta, theta_dot) = (element(x, 0), element(x, 1));
        let theta_ddot = self
            .equation()
            .acceleration(theta - PI, theta_dot.clone(), u.clone());
        join(&[&theta_dot, &theta_ddot])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, array};

    #[test]
    fn undamped_pendulum_conserves_energy() {
        let pendulum = Pendulum {
            damping: 0.0,
            ..Pendulum::default()
        };
        let energy = |x: &Array1<f64>| {
            0.5 * pendulum.mass * (pendulum.length * x[1]).powi(2)
                - pendulum.mass * pendulum.gravity * pendulum.length * x[0].cos()
        };
        super::super::tests::conserves(&pendulum, array![2.0, 0.5], energy, 1e-8);
    }

    #[test]
    fn small_oscillations_have_period_two_pi_root_l_over_g() {
        let pendulum = Pendulum {
            damping: 0.0,
            ..Pendulum::default()
        };
        let period = 2.0 * std::f64::consts::PI * (pendulum.length / pendulum.gravity).sqrt();
        let steps = 1000;
        let mut x = array![1e-3, 0.0];
        for _ in 0..steps {
            x = pendulum.rk4_step_array(&x, &array![0.0], period / steps as f64);
        }
        assert!((x[0] - 1e-3).abs() < 1e-9 && x[1].abs() < 1e-8, "{x}");
    }
}
