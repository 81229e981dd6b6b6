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
//!
//! With a torque limit below `m g l` the pendulum cannot be lifted straight up: it must be
//! pumped. [`Pendulum::swing_up_control`] is the energy-shaping controller of Åström & Furuta
//! (2000) with a linear catch near the top — a feedback law that swings up and holds, used to
//! give trajectory optimisers a first guess in the right basin:
//!
//! ```text
//! E = ½ m l² θ̇² − m g l cos θ,   E* = m g l   (upright, at rest)
//! pump   u = clamp(k (E_cap − E) sign(θ̇) max(|θ̇|, ω₀), ±u_max),
//!        E_cap = E* when θ̇ ≥ 0, E* − ΔE when θ̇ < 0   (it tops out on the θ = +π side only)
//! catch  u = clamp(−m l² (k_p (θ − π) + k_d θ̇), ±u_max)   when |θ − π| < 0.5 and |θ̇| < 2
//! ```

use super::{System, element, join};
use autograd::Var;
use ndarray::Array1;
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

    /// `E = ½ m l² θ̇² − m g l cos θ` of `x = [θ, θ̇]`: `−m g l` hanging at rest, `m g l`
    /// upright at rest.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::systems::Pendulum;
    /// let pendulum = Pendulum::default();
    /// assert_eq!(pendulum.energy(&array![0.0, 0.0]), -9.81);
    /// assert_eq!(pendulum.energy(&array![std::f64::consts::PI, 0.0]), 9.81);
    /// ```
    pub fn energy(&self, x: &Array1<f64>) -> f64 {
        let (m, l, g) = (self.mass, self.length, self.gravity);
        0.5 * m * l * l * x[1] * x[1] - m * g * l * x[0].cos()
    }

    /// The energy-shaping swing-up with a catch at `θ = π` (module doc; `k = 5`, `ω₀ = 0.5`,
    /// `ΔE = 2 m g l / 9.81`, `k_p = 40`, `k_d = 10`), torque limited to `±u_max`.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::systems::{Pendulum, System};
    /// // |u| ≤ 6 against m g l = 9.81: it pumps, then holds upright.
    /// let pendulum = Pendulum::default();
    /// let mut x = array![0.1, 0.0];
    /// for _ in 0..100 {
    ///     let u = pendulum.swing_up_control(&x, 6.0);
    ///     assert!(u.abs() <= 6.0);
    ///     x = pendulum.rk4_step_array(&x, &array![u], 0.1);
    /// }
    /// assert!((x[0] - std::f64::consts::PI).abs() < 1e-3, "{x}");
    /// ```
    #[allow(non_snake_case)]
    pub fn swing_up_control(&self, x: &Array1<f64>, u_max: f64) -> f64 {
        let (theta, theta_dot) = (x[0], x[1]);
        let (m, l, g) = (self.mass, self.length, self.gravity);
        let (k, omega_0, k_p, k_d) = (5.0, 0.5, 40.0, 10.0);
        let u = if (theta - PI).abs() < 0.5 && theta_dot.abs() < 2.0 {
            -m * l * l * (k_p * (theta - PI) + k_d * theta_dot)
        } else {
            let E_star = m * g * l;
            let (E_cap, sign) = if theta_dot >= 0.0 {
                (E_star, 1.0)
            } else {
                (E_star * (1.0 - 2.0 / 9.81), -1.0)
            };
            k * (E_cap - self.energy(x)) * sign * theta_dot.abs().max(omega_0)
        };
        u.clamp(-u_max, u_max)
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
