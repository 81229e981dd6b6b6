//! The cart-pole: a pole hinged on a cart that a horizontal force pushes along a frictionless
//! track.
//!
//! Cart mass `m_c`, pole mass `m_p` with its centre of mass at `l` from the hinge, moment of
//! inertia `I_c` about that centre, gravity `g`, force `F` on the cart. The pole angle `θ` is
//! measured from **upright** and the cart position `x` along the track (Gymnasium's
//! CartPole-v1). With `M = m_c + m_p` and `κ = 1 + I_c / (m_p l²)` — `4/3` for a uniform rod
//! of half-length `l`, `1` for a point mass — the Lagrangian gives (Barto, Sutton & Anderson,
//! 1983, with Florian's 2007 correction; Gymnasium's order of operations):
//!
//! $$ \text{temp} = \frac{F + m_p l \dot\theta^2 \sin\theta}{M} , $$
//! $$ \ddot\theta = \frac{g \sin\theta - \cos\theta \cdot \text{temp}}{l \left(\kappa - m_p \cos^2\theta / M\right)} , $$
//! $$ \ddot x = \text{temp} - \frac{m_p l \ddot\theta \cos\theta}{M} . $$
//!
//! A problem that measures the pole from hanging down in the other sense (Tedrake's
//! `θ_down = π − θ`) changes coordinates outside; the equations stay these.

use crate::{Body, Scalar};

/// Cart-pole, `θ = 0` upright (see the module doc).
///
/// ```
/// use wengert_dynamics::CartPole;
/// // Upright at rest, pushed right: the cart accelerates right, the pole tips the other way.
/// let (x_ddot, theta_ddot): (f64, f64) = CartPole::GYMNASIUM.acceleration(0.0, 0.0, 10.0);
/// assert!(x_ddot > 0.0 && theta_ddot < 0.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CartPole {
    /// Cart mass `m_c` (kg).
    pub cart_mass: f64,
    /// Pole mass `m_p` (kg).
    pub pole_mass: f64,
    /// Distance `l` from the hinge to the pole's centre of mass (m): half the length of a
    /// uniform rod, the whole length for a point mass.
    pub length: f64,
    /// Gravity `g` (m/s²).
    pub gravity: f64,
    /// Point mass or uniform rod.
    pub pole: Body,
}

impl Default for CartPole {
    /// Gymnasium's masses with a point-mass pole at `l = 0.5 m` and `g = 9.81 m/s²`
    /// (Tedrake's *Underactuated Robotics*, §3.2).
    fn default() -> Self {
        CartPole {
            cart_mass: 1.0,
            pole_mass: 0.1,
            length: 0.5,
            gravity: 9.81,
            pole: Body::PointMass,
        }
    }
}

impl CartPole {
    /// Gymnasium's CartPole-v1: `m_c = 1`, `m_p = 0.1`, a uniform pole of half-length `0.5`,
    /// `g = 9.8`.
    pub const GYMNASIUM: CartPole = CartPole {
        cart_mass: 1.0,
        pole_mass: 0.1,
        length: 0.5,
        gravity: 9.8,
        pole: Body::UniformRod,
    };

    /// `κ = 1 + I_c / (m_p l²)`: `4/3` for a uniform rod, `1` for a point mass.
    pub fn inertia_factor(&self) -> f64 {
        match self.pole {
            Body::PointMass => 1.0,
            Body::UniformRod => 4.0 / 3.0,
        }
    }

    /// `(ẍ, θ̈)` from the pole angle `θ`, its rate `θ̇` and the force `F` (the cart's position
    /// and speed do not enter).
    ///
    /// ```
    /// use wengert_dynamics::CartPole;
    /// // Hanging straight down (θ = π) and pushed: the rod passes no horizontal force at
    /// // first, so the point-mass cart-pole's cart moves as if alone, ẍ = F / m_c.
    /// let (x_ddot, _): (f64, f64) = CartPole::default().acceleration(std::f64::consts::PI, 0.0, 1.1);
    /// assert!((x_ddot - 1.1).abs() < 1e-12);
    /// ```
    pub fn acceleration<S: Scalar>(&self, theta: S, theta_dot: S, force: S) -> (S, S) {
        let total_mass = self.cart_mass + self.pole_mass;
        let pole_mass_length = self.pole_mass * self.length;
        let (sin_theta, cos_theta) = (theta.sin(), theta.cos());
        let temp = (force + theta_dot.square() * S::real(pole_mass_length) * sin_theta.clone())
            / S::real(total_mass);
        let theta_ddot = (sin_theta * S::real(self.gravity) - cos_theta.clone() * temp.clone())
            / ((-(cos_theta.square() * S::real(self.pole_mass) / S::real(total_mass))
                + S::real(self.inertia_factor()))
                * S::real(self.length));
        let x_ddot =
            temp - theta_ddot.clone() * S::real(pole_mass_length) * cos_theta / S::real(total_mass);
        (x_ddot, theta_ddot)
    }
}
