//! The pendulum: a body swinging on a pivot, driven by a torque there.
//!
//! Mass `m`, distance `l_c` from the pivot to the centre of mass, moment of inertia `I` about
//! the pivot, viscous damping `b`, gravity `g`, torque `u`. The angle `θ` is measured from
//! **upright** (Gymnasium's Pendulum-v1), so gravity pushes away from `θ = 0`:
//!
//! $$ I \ddot\theta = m g l_c \sin\theta - b \dot\theta + u , $$
//! $$ \ddot\theta = \frac{m g l_c}{I} \sin\theta + \frac{u}{I} - \frac{b}{I} \dot\theta . $$
//!
//! For a point mass at the end of a massless rod of length `l`, `l_c = l`, `I = m l²`:
//! `m g l_c / I = g / l`, `1 / I = 1 / (m l²)`. For a uniform rod of length `l` (Gymnasium's),
//! `l_c = l/2`, `I = m l²/3`: `3g / (2l)` and `3 / (m l²)`, written that way so that
//! Gymnasium's `3 * g / (2 * l)` and `3.0 / (m * l**2)` come out bit for bit.
//!
//! A problem that measures the angle from hanging down (Drake, Tedrake) uses
//! `θ_up = θ_down − π`; the equation is unchanged.

use crate::Scalar;

/// How the mass is distributed along a pendulum or a cart-pole's pole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// All the mass at the end of a massless rod of length `l`: `l_c = l`, `I = m l²` about the
    /// pivot.
    PointMass,
    /// A uniform rod of length `l`: `l_c = l/2`, `I = m l²/3` about the pivot.
    UniformRod,
}

/// A torque-driven pendulum, `θ = 0` upright (see the module doc).
///
/// ```
/// use wengert_dynamics::Pendulum;
/// // A torque of 1 on Gymnasium's rod at rest upright: θ̈ = 3 u / (m l²) = 3.
/// assert_eq!(Pendulum::GYMNASIUM.acceleration(0.0_f64, 0.0, 1.0_f64), 3.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pendulum {
    /// Mass `m` (kg).
    pub mass: f64,
    /// Length `l` of the rod (m).
    pub length: f64,
    /// Gravity `g` (m/s²).
    pub gravity: f64,
    /// Viscous damping `b` (N·m·s).
    pub damping: f64,
    /// Point mass or uniform rod.
    pub body: Body,
}

impl Default for Pendulum {
    /// A point mass `m = 1 kg` on a `1 m` rod, `g = 9.81 m/s²`, `b = 0.1 N·m·s`.
    fn default() -> Self {
        Pendulum {
            mass: 1.0,
            length: 1.0,
            gravity: 9.81,
            damping: 0.1,
            body: Body::PointMass,
        }
    }
}

impl Pendulum {
    /// Gymnasium's Pendulum-v1: a uniform rod, `m = 1`, `l = 1`, `g = 10`, no damping.
    pub const GYMNASIUM: Pendulum = Pendulum {
        mass: 1.0,
        length: 1.0,
        gravity: 10.0,
        damping: 0.0,
        body: Body::UniformRod,
    };

    /// `m g l_c / I`: `g / l` for a point mass, `3g / (2l)` for a uniform rod.
    ///
    /// ```
    /// use wengert_dynamics::Pendulum;
    /// assert_eq!(Pendulum::GYMNASIUM.gravity_coefficient(), 15.0);
    /// ```
    pub fn gravity_coefficient(&self) -> f64 {
        let (g, l) = (self.gravity, self.length);
        match self.body {
            Body::PointMass => g / l,
            Body::UniformRod => 3.0 * g / (2.0 * l),
        }
    }

    /// `1 / I`: `1 / (m l²)` for a point mass, `3 / (m l²)` for a uniform rod.
    ///
    /// ```
    /// use wengert_dynamics::Pendulum;
    /// assert_eq!(Pendulum::default().input_gain(), 1.0);
    /// ```
    pub fn input_gain(&self) -> f64 {
        let (m, l) = (self.mass, self.length);
        match self.body {
            Body::PointMass => 1.0 / (m * l * l),
            Body::UniformRod => 3.0 / (m * l * l),
        }
    }

    /// `θ̈ = (m g l_c / I) sin θ + u / I − (b / I) θ̇`.
    ///
    /// The torque may be of a narrower type than the state (`U = f32`, `S = f64`): its term
    /// `u / I` is then formed in `U` and widened, as NumPy does with Gymnasium's `float32`
    /// action (`3.0 / (m * l**2) * u` stays `float32`).
    ///
    /// ```
    /// use wengert_dynamics::Pendulum;
    /// let pendulum = Pendulum { damping: 0.0, ..Pendulum::default() };
    /// // Hanging straight down (θ = π) with no torque: θ̈ = (g/l) sin π ≈ 0.
    /// let theta_ddot: f64 = pendulum.acceleration(std::f64::consts::PI, 0.0, 0.0_f64);
    /// assert!(theta_ddot.abs() < 1e-14);
    /// ```
    pub fn acceleration<S, U>(&self, theta: S, theta_dot: S, u: U) -> S
    where
        S: Scalar + From<U>,
        U: Scalar,
    {
        let input = u * U::real(self.input_gain());
        theta.sin() * S::real(self.gravity_coefficient()) + S::from(input)
            - theta_dot * S::real(self.damping * self.input_gain())
    }
}
