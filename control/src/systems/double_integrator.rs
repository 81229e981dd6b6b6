//! The double integrator: a unit mass on a line pushed by a force `u`.
//!
//! State `x = [p, ṗ]` (position, velocity), control `u` (force, unit mass):
//!
//! ```text
//! ṗ = ṗ,   p̈ = u,     i.e. ẋ = A x + B u,  A = [0 1; 0 0],  B = [0; 1].
//! ```
//!
//! It is linear, so its RK4 step is linear too; since `A² = 0` the step is exact:
//! `x' = [1 h; 0 1] x + [h²/2; h] u`. With a quadratic cost it is an LQR problem, which is the
//! check that iLQR takes one Newton step to the LQR solution.

use super::{System, element, join};
use autograd::Var;

/// `p̈ = u`.
///
/// ```
/// use ndarray::array;
/// use wengert_control::systems::{DoubleIntegrator, System};
///
/// let x = DoubleIntegrator.rk4_step_array(&array![1.0, 2.0], &array![-1.0], 0.1);
/// assert!((x[0] - (1.0 + 0.2 - 0.005)).abs() < 1e-15 && (x[1] - 1.9).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DoubleIntegrator;

impl System for DoubleIntegrator {
    fn state_dim(&self) -> usize {
        2
    }

    fn control_dim(&self) -> usize {
        1
    }

    fn continuous(&self, x: &Var<f64>, u: &Var<f64>) -> Var<f64> {
        let velocity = element(x, 1);
        join(&[&velocity, u])
    }
}
