//! The acrobot: two links hanging from a fixed pivot, a motor at the elbow and none at the
//! shoulder.
//!
//! Links `i = 1, 2` of mass `m_i`, length `l_i`, centre of mass at `l_ci` from their proximal
//! joint and moment of inertia `I_i` about that centre; gravity `g`; torque `τ` at the elbow.
//! Angles: `θ₁` of the first link from **hanging down**, `θ₂` of the second relative to the
//! first (Gymnasium's Acrobot-v1, trajax's `acrobot`, Spong's). Sutton & Barto's "book"
//! equations, in Gymnasium's order of operations (`cos(θ − π/2)` is `sin θ`, written as
//! Gymnasium writes it so that its rounding is reproduced):
//!
//! $$ d_1 = m_1 l_{c1}^2 + m_2 \left(l_1^2 + l_{c2}^2 + 2 l_1 l_{c2} \cos\theta_2\right) + I_1 + I_2 , $$
//! $$ d_2 = m_2 \left(l_{c2}^2 + l_1 l_{c2} \cos\theta_2\right) + I_2 , $$
//! $$ \phi_2 = m_2 l_{c2} g \cos(\theta_1 + \theta_2 - \pi/2) , $$
//! $$ \phi_1 = -m_2 l_1 l_{c2} \dot\theta_2^2 \sin\theta_2 - 2 m_2 l_1 l_{c2} \dot\theta_2 \dot\theta_1 \sin\theta_2 + (m_1 l_{c1} + m_2 l_1) g \cos(\theta_1 - \pi/2) + \phi_2 , $$
//! $$ \ddot\theta_2 = \frac{\tau + \frac{d_2}{d_1} \phi_1 - m_2 l_1 l_{c2} \dot\theta_1^2 \sin\theta_2 - \phi_2}{m_2 l_{c2}^2 + I_2 - d_2^2 / d_1} , $$
//! $$ \ddot\theta_1 = -\frac{d_2 \ddot\theta_2 + \phi_1}{d_1} . $$
//!
//! These are the manipulator equations `M(q) q̈ + C(q, q̇) q̇ = τ_g(q) + B τ` (Spong 1995) with
//! the 2×2 mass matrix eliminated by hand: `d₁ = M₁₁`, `d₂ = M₁₂`.

use crate::Scalar;
use std::f64::consts::PI;

/// The acrobot, `θ₁ = 0` hanging down, actuated at the elbow (see the module doc).
///
/// ```
/// use wengert_dynamics::Acrobot;
/// // Hanging at rest with no torque: an equilibrium, to the rounding of cos(−π/2).
/// let (a, b): (f64, f64) = Acrobot::GYMNASIUM.acceleration(0.0, 0.0, 0.0, 0.0, 0.0);
/// assert!(a.abs() < 1e-15 && b.abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Acrobot {
    /// Link masses `m₁, m₂` (kg).
    pub masses: [f64; 2],
    /// Link lengths `l₁, l₂` (m) (`l₂` does not enter the dynamics).
    pub lengths: [f64; 2],
    /// Distances `l_c1, l_c2` from each link's proximal joint to its centre of mass (m).
    pub centres_of_mass: [f64; 2],
    /// Moments of inertia `I₁, I₂` about each link's centre of mass (kg·m²).
    pub inertias: [f64; 2],
    /// Gravity `g` (m/s²).
    pub gravity: f64,
}

impl Default for Acrobot {
    /// Two uniform rods, `m = 1 kg`, `l = 1 m`, `l_c = 0.5 m`, `I = m l²/12`, `g = 9.81 m/s²`.
    fn default() -> Self {
        Acrobot {
            masses: [1.0, 1.0],
            lengths: [1.0, 1.0],
            centres_of_mass: [0.5, 0.5],
            inertias: [1.0 / 12.0, 1.0 / 12.0],
            gravity: 9.81,
        }
    }
}

impl Acrobot {
    /// Gymnasium's Acrobot-v1 (and trajax's): unit masses and lengths, `l_c = 0.5`, `I = 1`,
    /// `g = 9.8`.
    pub const GYMNASIUM: Acrobot = Acrobot {
        masses: [1.0, 1.0],
        lengths: [1.0, 1.0],
        centres_of_mass: [0.5, 0.5],
        inertias: [1.0, 1.0],
        gravity: 9.8,
    };

    /// `(θ̈₁, θ̈₂)` from the angles, their rates and the elbow torque `τ`.
    ///
    /// ```
    /// use wengert_dynamics::Acrobot;
    /// // A positive elbow torque from rest swings the second link forward, the first back.
    /// let (a, b): (f64, f64) = Acrobot::GYMNASIUM.acceleration(0.0, 0.0, 0.0, 0.0, 1.0);
    /// assert!(b > 0.0 && a < 0.0);
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn acceleration<S: Scalar>(
        &self,
        theta1: S,
        theta2: S,
        dtheta1: S,
        dtheta2: S,
        torque: S,
    ) -> (S, S) {
        let Acrobot {
            masses: [m1, m2],
            lengths: [l1, _],
            centres_of_mass: [lc1, lc2],
            inertias: [i1, i2],
            gravity: g,
        } = *self;
        let r = S::real;
        let (sin2, cos2) = (theta2.sin(), theta2.cos());
        let d1 = (cos2.clone() * r(2.0 * l1 * lc2) + r(l1 * l1 + lc2 * lc2)) * r(m2)
            + r(m1 * (lc1 * lc1))
            + r(i1)
            + r(i2);
        let d2 = (cos2 * r(l1 * lc2) + r(lc2 * lc2)) * r(m2) + r(i2);
        let phi2 = (theta1.clone() + theta2 - r(PI / 2.0)).cos() * r(m2 * lc2 * g);
        let phi1 = dtheta2.square() * r(-m2 * l1 * lc2) * sin2.clone()
            - dtheta2 * r(2.0 * m2 * l1 * lc2) * dtheta1.clone() * sin2.clone()
            + (theta1 - r(PI / 2.0)).cos() * r((m1 * lc1 + m2 * l1) * g)
            + phi2.clone();
        let ddtheta2 = (torque + d2.clone() / d1.clone() * phi1.clone()
            - dtheta1.square() * r(m2 * l1 * lc2) * sin2
            - phi2)
            / (-(d2.square() / d1.clone()) + r(m2 * (lc2 * lc2) + i2));
        let ddtheta1 = -(d2 * ddtheta2.clone() + phi1) / d1;
        (ddtheta1, ddtheta2)
    }
}
