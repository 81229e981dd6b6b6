//! Dynamical systems for the controllers: continuous-time dynamics `ẋ = f_c(x, u)` written with
//! autograd ops (so every derivative the controllers need comes from autograd), and their
//! fourth-order Runge–Kutta discretisation with a zero-order hold on `u` over a step `h`:
//!
//! $$ k_1 = f_c(x, u) , \quad k_2 = f_c\big(x + \tfrac h2 k_1, u\big) , \quad
//!    k_3 = f_c\big(x + \tfrac h2 k_2, u\big) , \quad k_4 = f_c(x + h k_3, u) , $$
//! $$ x' = x + \tfrac h6 (k_1 + 2 k_2 + 2 k_3 + k_4) . $$
//!
//! - [`Pendulum`]: a damped pendulum driven by a torque (`n = 2`, `m = 1`).
//! - [`CartPole`]: a pole on a cart pushed by a horizontal force (`n = 4`, `m = 1`).
//! - [`Acrobot`]: a two-link pendulum actuated at the elbow only (`n = 4`, `m = 1`).
//! - [`DoubleIntegrator`]: `p̈ = u` (`n = 2`, `m = 1`), linear, so its RK4 step is exact.
//! - [`Unicycle`]: a kinematic car in the plane, speed and turning rate (`n = 3`, `m = 2`).
//! - [`pendulum_v1`]: Gymnasium's Pendulum-v1 step (semi-implicit Euler, clipped) as a planning problem.
//!
//! States and controls are vectors (shape `[n]`, `[m]`); the angles of the pendulums are zero
//! hanging down and `π` upright.

mod acrobot;
mod cart_pole;
mod double_integrator;
mod pendulum;
pub mod pendulum_v1;
mod unicycle;

pub use acrobot::Acrobot;
pub use cart_pole::CartPole;
pub use double_integrator::DoubleIntegrator;
pub use pendulum::Pendulum;
pub use unicycle::Unicycle;

use autograd::{Tensor, Var};
use ndarray::Array1;

/// A continuous-time controlled system `ẋ = f_c(x, u)`.
///
/// ```
/// use ndarray::array;
/// use wengert_control::systems::{DoubleIntegrator, System};
///
/// let system = DoubleIntegrator;
/// // From rest at p = 0 with u = 1 for 0.5 s: p = ½ t² = 0.125, ṗ = t = 0.5 (exactly, RK4 is
/// // exact on this polynomial motion).
/// let x = system.rk4_step_array(&array![0.0, 0.0], &array![1.0], 0.5);
/// assert!((x[0] - 0.125).abs() < 1e-15 && (x[1] - 0.5).abs() < 1e-15);
/// ```
pub trait System {
    /// State dimension `n`.
    fn state_dim(&self) -> usize;

    /// Control dimension `m`.
    fn control_dim(&self) -> usize;

    /// `ẋ = f_c(x, u)` written with autograd ops, for a state `x` of shape `[n]` and control `u`
    /// of shape `[m]`, or for a batch of them as columns, `[n, B]` and `[m, B]` (the systems
    /// here only slice and join along axis 0, so both work).
    fn continuous(&self, x: &Var<f64>, u: &Var<f64>) -> Var<f64>;

    /// One RK4 step of length `h`: `x' = x + h/6 (k₁ + 2k₂ + 2k₃ + k₄)`.
    ///
    /// ```
    /// use autograd::{Tape, Tensor, grad};
    /// use ndarray::array;
    /// use wengert_control::systems::{Pendulum, System};
    ///
    /// // The step is differentiable: ∂x'/∂u of the pendulum is positive for the velocity.
    /// let tape = Tape::new();
    /// let x = tape.var(array![0.0, 0.0]);
    /// let u = tape.var(array![1.0]);
    /// let x_next = Pendulum::default().rk4_step(&x, &u, 0.05);
    /// let [du] = grad(&[&x_next.slice(0, 1, 2).sum_all()], &[&u]).try_into().unwrap();
    /// assert!(du[0] > 0.0);
    /// ```
    fn rk4_step(&self, x: &Var<f64>, u: &Var<f64>, h: f64) -> Var<f64> {
        let k1 = self.continuous(x, u);
        let k2 = self.continuous(&(x + &(&k1 * (h / 2.0))), u);
        let k3 = self.continuous(&(x + &(&k2 * (h / 2.0))), u);
        let k4 = self.continuous(&(x + &(&k3 * h)), u);
        x + &((k1 + (k2 + k3) * 2.0 + k4) * (h / 6.0))
    }

    /// [`System::rk4_step`] on plain arrays (nothing is recorded).
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::systems::{Pendulum, System};
    ///
    /// // Hanging straight down at rest with no torque is an equilibrium (to the rounding of
    /// // sin(0 − π) in the shared equation, which measures from upright).
    /// let x = Pendulum::default().rk4_step_array(&array![0.0, 0.0], &array![0.0], 0.05);
    /// assert!(x.iter().all(|v| v.abs() < 1e-15), "{x}");
    /// ```
    fn rk4_step_array(&self, x: &Array1<f64>, u: &Array1<f64>, h: f64) -> Array1<f64> {
        let x_next = self.rk4_step(&Var::constant(x.clone()), &Var::constant(u.clone()), h);
        to_vector(&x_next)
    }
}

/// The value of a vector-shaped variable as an `Array1`.
pub(crate) fn to_vector(x: &Var<f64>) -> Array1<f64> {
    Array1::from_iter(x.value().iter().copied())
}

/// Row `i` of a state (a one-element vector, or a `1 × B` row of a batch).
pub(crate) fn element(x: &Var<f64>, i: usize) -> Var<f64> {
    x.slice(0, i, i + 1)
}

/// Rows joined along axis 0.
pub(crate) fn join(parts: &[&Var<f64>]) -> Var<f64> {
    Var::concat(parts, 0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The energy-like check shared by the system tests: over many small RK4 steps with no
    /// control and no damping, `energy` stays constant.
    pub(crate) fn conserves(
        system: &impl System,
        x0: Array1<f64>,
        energy: impl Fn(&Array1<f64>) -> f64,
        tolerance: f64,
    ) {
        let u = Array1::zeros(system.control_dim());
        let mut x = x0;
        let e0 = energy(&x);
        for _ in 0..400 {
            x = system.rk4_step_array(&x, &u, 0.005);
        }
        let e1 = energy(&x);
        assert!((e1 - e0).abs() < tolerance, "energy {e0} → {e1}");
    }

    #[test]
    fn rk4_is_fourth_order() {
        // ẋ = −x: one step of RK4 is the Taylor polynomial of e^{−h} to degree 4.
        struct Decay;
        impl System for Decay {
            fn state_dim(&self) -> usize {
                1
            }
            fn control_dim(&self) -> usize {
                1
            }
            fn continuous(&self, x: &Var<f64>, _u: &Var<f64>) -> Var<f64> {
                -x
            }
        }
        let h = 0.1f64;
        let x = Decay.rk4_step_array(&ndarray::array![1.0], &ndarray::array![0.0], h);
        let taylor = 1.0 - h + h * h / 2.0 - h.powi(3) / 6.0 + h.powi(4) / 24.0;
        assert!((x[0] - taylor).abs() < 1e-15);
    }
}
