//! A unicycle (or kinematic car): a point in the plane with a heading, driven by its forward
//! speed and its turning rate — trajax's `car` in its constrained-iLQR test.
//!
//! State `x = [p_x, p_y, θ]`, control `u = [v, ω]`:
//!
//! ```text
//! ṗ_x = v cos θ,   ṗ_y = v sin θ,   θ̇ = ω
//! ```

use super::{System, element, join};
use autograd::{Tensor, Var};

/// `ṗ = v (cos θ, sin θ)`, `θ̇ = ω`.
///
/// ```
/// use ndarray::array;
/// use wengert_control::systems::{System, Unicycle};
///
/// // Straight ahead at unit speed along θ = π/2 for 0.1 s: up by 0.1.
/// let x = Unicycle.rk4_step_array(&array![0.0, 0.0, std::f64::consts::FRAC_PI_2], &array![1.0, 0.0], 0.1);
/// assert!(x[0].abs() < 1e-15 && (x[1] - 0.1).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Unicycle;

impl System for Unicycle {
    fn state_dim(&self) -> usize {
        3
    }

    fn control_dim(&self) -> usize {
        2
    }

    fn continuous(&self, x: &Var<f64>, u: &Var<f64>) -> Var<f64> {
        let theta = element(x, 2);
        let (v, omega) = (element(u, 0), element(u, 1));
        join(&[&(&v * &theta.cos()), &(&v * &theta.sin()), &omega])
    }
}
