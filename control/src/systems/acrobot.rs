//! The acrobot: a two-link pendulum with a motor at the elbow and none at the shoulder.
//!
//! Links `i = 1, 2` of mass `m_i`, length `l_i`, centre of mass at `l_ci` from their proximal
//! joint and moment of inertia `I_i` about that joint; gravity `g`; torque `u` at the elbow.
//! State `x = [q₁, q₂, q̇₁, q̇₂]`: shoulder angle from hanging straight down (`q₁ = π`,
//! `q₂ = 0` is upright) and elbow angle relative to the first link. The manipulator equations
//! (Spong 1995; Tedrake, *Underactuated Robotics*, §3.1)
//!
//! ```text
//! M(q) q̈ + C(q, q̇) q̇ = τ_g(q) + B u,    B = [0; 1]
//! ```
//!
//! are [`dynamics::Acrobot`]'s, written once for this crate and for `rl`'s Acrobot-v1 (with the
//! mass matrix eliminated by hand, Sutton & Barto's form). That one takes the inertias about the
//! centres of mass: `I_i − m_i l_ci²` by the parallel-axis theorem.
//!
//! Defaults: uniform rods, `m₁ = m₂ = 1 kg`, `l₁ = l₂ = 1 m`, `l_c1 = l_c2 = 0.5 m`,
//! `I₁ = I₂ = m l²/3 = 1/3 kg·m²`, `g = 9.81 m/s²`.

#![allow(non_snake_case)]

use super::{System, element, join};
use autograd::Var;

/// The acrobot, `q₁ = 0` hanging down, actuated at the elbow.
///
/// ```
/// use ndarray::array;
/// use wengert_control::systems::{Acrobot, System};
///
/// // Hanging straight down at rest is an equilibrium (to the rounding of cos(−π/2) in the
/// // shared equations).
/// let x = Acrobot::default().rk4_step_array(&array![0.0, 0.0, 0.0, 0.0], &array![0.0], 0.05);
/// assert!(x.iter().all(|v| v.abs() < 1e-15), "{x}");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Acrobot {
    /// Link masses `m₁, m₂` (kg).
    pub masses: [f64; 2],
    /// Link lengths `l₁, l₂` (m).
    pub lengths: [f64; 2],
    /// Distances `l_c1, l_c2` from each link's proximal joint to its centre of mass (m).
    pub centres_of_mass: [f64; 2],
    /// Moments of inertia `I₁, I₂` about each link's proximal joint (kg·m²).
    pub inertias: [f64; 2],
    /// Gravity `g` (m/s²).
    pub gravity: f64,
}

impl Default for Acrobot {
    fn default() -> Self {
        Acrobot {
            masses: [1.0, 1.0],
            lengths: [1.0, 1.0],
            centres_of_mass: [0.5, 0.5],
            inertias: [1.0 / 3.0, 1.0 / 3.0],
            gravity: 9.81,
        }
    }
}

impl Acrobot {
    /// The shared equations of motion with these parameters: inertias about the centres of
    /// mass, `I_i − m_i l_ci²`.
    ///
    /// ```
    /// use wengert_control::systems::Acrobot;
    /// // Gymnasium's acrobot has I = 1 about each centre of mass: 1.25 about the joint.
    /// let acrobot = Acrobot { inertias: [1.25, 1.25], gravity: 9.8, ..Acrobot::default() };
    /// assert_eq!(acrobot.equation(), dynamics::Acrobot::GYMNASIUM);
    /// ```
    pub fn equation(&self) -> dynamics::Acrobot {
        let [m1, m2] = self.masses;
        let [lc1, lc2] = self.centres_of_mass;
        let [i1, i2] = self.inertias;
        dynamics::Acrobot {
            masses: self.masses,
            lengths: self.lengths,
            centres_of_mass: self.centres_of_mass,
            inertias: [i1 - m1 * lc1 * lc1, i2 - m2 * lc2 * lc2],
            gravity: self.gravity,
        }
    }
}

impl System for Acrobot {
    fn state_dim(&self) -> usize {
        4
    }

    fn control_dim(&self) -> usize {
        1
    }

    fn continuous(&self, x: &Var<f64>, u: &Var<f64>) -> Var<f64> {
        let (q1, q2) = (element(x, 0), element(x, 1));
        let (q1_dot, q2_dot) = (element(x, 2), element(x, 3));
        let (q1_ddot, q2_ddot) =
            self.equation()
                .acceleration(q1, q2, q1_dot.clone(), q2_dot.clone(), u.clone());
        join(&[&q1_dot, &q2_dot, &q1_ddot, &q2_ddot])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, array};

    #[test]
    fn free_motion_conserves_energy() {
        let acrobot = Acrobot::default();
        let energy = |x: &Array1<f64>| {
            let [m1, m2] = acrobot.masses;
            let [l1, _] = acrobot.lengths;
            let [lc1, lc2] = acrobot.centres_of_mass;
            let [I1, I2] = acrobot.inertias;
            let g = acrobot.gravity;
            let (q1, q2, w1, w2) = (x[0], x[1], x[2], x[3]);
            let c2 = q2.cos();
            let a = I1 + I2 + m2 * l1 * l1 + 2.0 * m2 * l1 * lc2 * c2;
            let b = I2 + m2 * l1 * lc2 * c2;
            let kinetic = 0.5 * (a * w1 * w1 + 2.0 * b * w1 * w2 + I2 * w2 * w2);
            let potential =
                -m1 * g * lc1 * q1.cos() - m2 * g * (l1 * q1.cos() + lc2 * (q1 + q2).cos());
            kinetic + potential
        };
        super::super::tests::conserves(&acrobot, array![1.0, -0.5, 0.3, 1.0], energy, 1e-7);
    }
}
