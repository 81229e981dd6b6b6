//! The cart-pole: a pole hinged on a cart that a horizontal force pushes along a track.
//!
//! Cart mass `m_c`, a point mass `m_p` at distance `l` from the hinge on a massless pole,
//! gravity `g`, force `u` on the cart, no friction. State `x = [p, θ, ṗ, θ̇]`: cart position,
//! pole angle from hanging straight down (so `θ = π` is upright; Tedrake's convention), and
//! their rates. The equations of motion are [`dynamics::CartPole`]'s with a point-mass pole
//! (`κ = 1`), written once for this crate and for `rl`'s CartPole-v1. That one measures the pole
//! from upright in the opposite sense, `θ_up = π − θ`, `θ̇_up = −θ̇`, `θ̈ = −θ̈_up`; in these
//! coordinates it reads (Tedrake, *Underactuated Robotics*, §3.2)
//!
//! ```text
//! p̈ = [u + m_p sin θ (l θ̇² + g cos θ)] / (m_c + m_p sin² θ)
//! θ̈ = [−u cos θ − m_p l θ̇² cos θ sin θ − (m_c + m_p) g sin θ] / (l (m_c + m_p sin² θ))
//! ```
//!
//! Defaults (Gymnasium's CartPole masses): `m_c = 1 kg`, `m_p = 0.1 kg`, `l = 0.5 m`,
//! `g = 9.81 m/s²`.

use super::{System, element, join};
use autograd::Var;
use std::f64::consts::PI;

/// Cart-pole with a point-mass pole, `θ = 0` hanging down.
///
/// ```
/// use ndarray::array;
/// use wengert_control::systems::{CartPole, System};
///
/// // Pushing the cart while the pole hangs still: the rod is vertical, so it passes no horizontal
/// // force to the point mass at first — the cart alone accelerates, p̈ = u / m_c, and the pole
/// // swings back, θ̈ = −u / (l m_c).
/// let cart_pole = CartPole::default();
/// let x = cart_pole.rk4_step_array(&array![0.0, 0.0, 0.0, 0.0], &array![1.1], 1e-3);
/// assert!((x[2] - 1.1e-3).abs() < 1e-6 && (x[3] + 2.2e-3).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CartPole {
    /// Cart mass `m_c` (kg).
    pub cart_mass: f64,
    /// Pole (point) mass `m_p` (kg).
    pub pole_mass: f64,
    /// Pole length `l` (m), hinge to point mass.
    pub length: f64,
    /// Gravity `g` (m/s²).
    pub gravity: f64,
}

impl Default for CartPole {
    fn default() -> Self {
        CartPole {
            cart_mass: 1.0,
            pole_mass: 0.1,
            length: 0.5,
            gravity: 9.81,
        }
    }
}

impl CartPole {
    /// The shared equations of motion with these parameters (a point-mass pole).
    pub fn equation(&self) -> dynamics::CartPole {
        dynamics::CartPole {
            cart_mass: self.cart_mass,
            pole_mass: self.pole_mass,
            length: self.length,
            gravity: self.gravity,
            pole: dynamics::Body::PointMass,
        }
    }
}

impl System for CartPole {
    fn state_dim(&self) -> usize {
        4
    }

    fn control_dim(&self) -> usize {
        1
    }

    fn continuous(&self, x: &Var<f64>, u: &Var<f64>) -> Var<f64> {
        let (theta, p_dot, theta_dot) = (element(x, 1), element(x, 2), element(x, 3));
        let (p_ddot, theta_ddot_up) =
            self.equation()
                .acceleration(PI - theta, -theta_dot.clone(), u.clone());
        let theta_ddot = -theta_ddot_up;
        join(&[&p_dot, &theta_dot, &p_ddot, &theta_ddot])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, array};

    #[test]
    fn free_motion_conserves_energy() {
        let cp = CartPole::default();
        let energy = |x: &Array1<f64>| {
            let (theta, p_dot, theta_dot) = (x[1], x[2], x[3]);
            0.5 * (cp.cart_mass + cp.pole_mass) * p_dot * p_dot
                + cp.pole_mass * p_dot * theta_dot * cp.length * theta.cos()
                + 0.5 * cp.pole_mass * (cp.length * theta_dot).powi(2)
                - cp.pole_mass * cp.gravity * cp.length * theta.cos()
        };
        super::super::tests::conserves(&cp, array![0.0, 2.5, 0.3, -1.0], energy, 1e-8);
    }

    #[test]
    fn free_motion_conserves_horizontal_momentum() {
        let cp = CartPole::default();
        let momentum = |x: &Array1<f64>| {
            (cp.cart_mass + cp.pole_mass) * x[2] + cp.pole_mass * cp.length * x[3] * x[1].cos()
        };
        super::super::tests::conserves(&cp, array![0.0, 1.0, 0.5, 2.0], momentum, 1e-9);
    }
}
