//! The acrobot: a two-link pendulum with a motor at the elbow and none at the shoulder.
//!
//! Links `i = 1, 2` of mass `m_i`, length `l_i`, centre of mass at `l_ci` from their proximal
//! joint and moment of inertia `I_i` about that joint; gravity `g`; torque `u` at the elbow.
//! State `x = [q₁, q₂, q̇₁, q̇₂]`: shoulder angle from hanging straight down (`q₁ = π`,
//! `q₂ = 0` is upright) and elbow angle relative to the first link. The manipulator equations
//! (Spong 1995; Tedrake, *Underactuated Robotics*, §3.1), with `sᵢ = sin qᵢ`, `cᵢ = cos qᵢ`,
//! `s₁₂ = sin(q₁ + q₂)`:
//!
//! ```text
//! M(q) q̈ + C(q, q̇) q̇ = τ_g(q) + B u,    B = [0; 1]
//!
//! M = [ I₁ + I₂ + m₂l₁² + 2m₂l₁l_c2 c₂    I₂ + m₂l₁l_c2 c₂ ]
//!     [ I₂ + m₂l₁l_c2 c₂                  I₂               ]
//!
//! C q̇ = [ −2m₂l₁l_c2 s₂ q̇₁q̇₂ − m₂l₁l_c2 s₂ q̇₂² ]
//!       [  m₂l₁l_c2 s₂ q̇₁²                    ]
//!
//! τ_g = [ −m₁g l_c1 s₁ − m₂g (l₁ s₁ + l_c2 s₁₂) ]
//!       [ −m₂g l_c2 s₁₂                         ]
//! ```
//!
//! and `q̈ = M⁻¹ (τ_g + B u − C q̇)`, with the 2×2 inverse written out
//! (`M = [a b; b d]`, `M⁻¹ = [d −b; −b a] / (ad − b²)`).
//!
//! Defaults: uniform rods, `m₁ = m₂ = 1 kg`, `l₁ = l₂ = 1 m`, `l_c1 = l_c2 = 0.5 m`,
//! `I₁ = I₂ = m l²/3 = 1/3 kg·m²`, `g = 9.81 m/s²`.

#![allow(non_snake_case)]

use super::{System, element, join};
use autograd::{Tensor, Var};

/// The acrobot, `q₁ = 0` hanging down, actuated at the elbow.
///
/// ```
/// use ndarray::array;
/// use wengert_control::systems::{Acrobot, System};
///
/// // Hanging straight down at rest is an equilibrium.
/// let x = Acrobot::default().rk4_step_array(&array![0.0, 0.0, 0.0, 0.0], &array![0.0], 0.05);
/// assert_eq!(x, array![0.0, 0.0, 0.0, 0.0]);
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

impl System for Acrobot {
    fn state_dim(&self) -> usize {
        4
    }

    fn control_dim(&self) -> usize {
        1
    }

    fn continuous(&self, x: &Var<f64>, u: &Var<f64>) -> Var<f64> {
        let Acrobot {
            masses: [m1, m2],
            lengths: [l1, _],
            centres_of_mass: [lc1, lc2],
            inertias: [I1, I2],
            gravity: g,
        } = *self;
        let (q1, q2) = (element(x, 0), element(x, 1));
        let (q1_dot, q2_dot) = (element(x, 2), element(x, 3));
        let (s1, s2, c2) = (q1.sin(), q2.sin(), q2.cos());
        let s12 = (&q1 + &q2).sin();
        let coupling = m2 * l1 * lc2;

        // M = [a b; b d]
        let b = (&c2 * coupling) + I2;
        let a = (&c2 * (2.0 * coupling)) + (I1 + I2 + m2 * l1 * l1);
        let d = I2;

        // r = τ_g + B u − C q̇
        let r1 = -(&s1 * ((m1 * lc1 + m2 * l1) * g)) - &(&s12 * (m2 * lc2 * g))
            + &(&s2 * &q2_dot * &(&(&q1_dot * 2.0) + &q2_dot) * coupling);
        let r2 = -(&s12 * (m2 * lc2 * g)) + u - &(&s2 * &q1_dot.powi(2) * coupling);

        let determinant = (&a * d) - &b.powi(2);
        let q1_ddot = ((&r1 * d) - &(&b * &r2)) / &determinant;
        let q2_ddot = (&(&a * &r2) - &(&b * &r1)) / &determinant;
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
