//! # wengert-dynamics — each system's equations of motion, written once
//!
//! The pendulum, the cart-pole and the acrobot, as functions from the configuration, its rates
//! and the input to the accelerations, generic over the [`Scalar`] they are evaluated in:
//!
//! - `f64` (and `f32`): the `rl` crate's Gymnasium environments step them with Gymnasium's
//!   integrators and constants, bit for bit as Gymnasium does;
//! - [`autograd::Var`]: the `control` crate records them on a tape, so iLQR, collocation, the
//!   augmented Lagrangian and guided policy search get every derivative from autograd.
//!
//! ## Where this lives, and why
//!
//! Both `rl` (environments) and `control` (planners) need these equations; `control` must not
//! depend on `rl` for them, and `rl` should not depend on `control` for its environments. So they
//! live in a crate below both, which depends only on `autograd` (for the `Var` implementation of
//! [`Scalar`]): `autograd ← dynamics ← {rl, control}`. A module inside `autograd` would put
//! physics into the differentiation engine; a module inside either user would make the other
//! depend on it.
//!
//! ## Conventions
//!
//! Each system states its angle convention in its module. The equations keep the operation
//! order of Gymnasium's Python source, since `rl` must reproduce Gymnasium to the last bit and
//! floating-point arithmetic is not associative; a constant such as `3g/(2l)` is formed in
//! `f64` before it multiplies a variable, as NumPy does.
//!
//! ```
//! use wengert_dynamics::Pendulum;
//!
//! // Gymnasium's pendulum, θ = 0 upright: at θ = π/2 gravity alone gives θ̈ = 3g/(2l) = 15.
//! let theta_ddot: f64 = Pendulum::GYMNASIUM.acceleration(std::f64::consts::FRAC_PI_2, 0.0, 0.0_f64);
//! assert_eq!(theta_ddot, 15.0);
//! ```

pub mod acrobot;
pub mod cart_pole;
pub mod pendulum;

pub use acrobot::Acrobot;
pub use cart_pole::CartPole;
pub use pendulum::{Body, Pendulum};

use autograd::{Float, Tensor, Var};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// What the equations of motion are evaluated in: a number (`f32`, `f64`) or an autograd
/// variable (`Var<f32>`, `Var<f64>`, one element or a row of a batch). Constants enter as
/// [`Scalar::Real`], on the right of an operator (`x * c`, `x + c`).
///
/// ```
/// use autograd::{Tape, Tensor, grad};
/// use wengert_dynamics::Scalar;
///
/// fn energy<S: Scalar>(theta: S) -> S {
///     -theta.cos() * S::real(9.81)
/// }
/// assert_eq!(energy(0.0_f64), -9.81);
/// let tape = Tape::new();
/// let theta = tape.var(ndarray::array![0.5_f64]);
/// let [d] = grad(&[&energy(theta.clone()).sum_all()], &[&theta]).try_into().unwrap();
/// assert!((d[0] - 9.81 * 0.5_f64.sin()).abs() < 1e-12);
/// ```
pub trait Scalar:
    Clone
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<Self::Real, Output = Self>
    + Sub<Self::Real, Output = Self>
    + Mul<Self::Real, Output = Self>
    + Div<Self::Real, Output = Self>
{
    /// The element type: `f32` or `f64`.
    type Real: Float;

    /// `sin x`.
    fn sin(&self) -> Self;

    /// `cos x`.
    fn cos(&self) -> Self;

    /// `x²`, as `x · x`.
    fn square(&self) -> Self {
        self.clone() * self.clone()
    }

    /// The constant `c` in this scalar's element type (rounded to `f32` for `f32`).
    fn real(c: f64) -> Self::Real {
        Self::Real::from_f64(c)
    }
}

macro_rules! number_scalar {
    ($t:ty) => {
        impl Scalar for $t {
            type Real = $t;
            fn sin(&self) -> $t {
                <$t>::sin(*self)
            }
            fn cos(&self) -> $t {
                <$t>::cos(*self)
            }
        }
    };
}
number_scalar!(f32);
number_scalar!(f64);

impl<T: Float> Scalar for Var<T> {
    type Real = T;
    fn sin(&self) -> Var<T> {
        Tensor::sin(self)
    }
    fn cos(&self) -> Var<T> {
        Tensor::cos(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::{Tape, grad};
    use ndarray::array;

    /// The three systems' accelerations on `Var<f64>` have the values of the `f64` evaluation
    /// and the gradients of central differences.
    #[test]
    fn var_evaluation_matches_numbers_and_differences() {
        let point = [0.7, -0.4, 1.3, 0.2, 0.9];
        let f64_value = |p: &[f64; 5]| -> f64 {
            let (a, b) = Acrobot::default().acceleration(p[0], p[1], p[2], p[3], p[4]);
            let (c, d) = CartPole::default().acceleration(p[0], p[2], p[4]);
            let e: f64 = Pendulum::default().acceleration(p[1], p[3], p[4]);
            a + 2.0 * b + 3.0 * c + 4.0 * d + 5.0 * e
        };
        let tape = Tape::new();
        let v: Vec<Var<f64>> = point.iter().map(|&x| tape.var(array![x])).collect();
        let (a, b) = Acrobot::default().acceleration(
            v[0].clone(),
            v[1].clone(),
            v[2].clone(),
            v[3].clone(),
            v[4].clone(),
        );
        let (c, d) = CartPole::default().acceleration(v[0].clone(), v[2].clone(), v[4].clone());
        let e: Var<f64> =
            Pendulum::default().acceleration(v[1].clone(), v[3].clone(), v[4].clone());
        let total = a + b * 2.0 + c * 3.0 + d * 4.0 + e * 5.0;
        assert!((total.value()[0] - f64_value(&point)).abs() < 1e-12);
        let gradients = grad(&[&total.sum_all()], &v.iter().collect::<Vec<_>>());
        for i in 0..5 {
            let (mut plus, mut minus) = (point, point);
            plus[i] += 1e-6;
            minus[i] -= 1e-6;
            let numeric = (f64_value(&plus) - f64_value(&minus)) / 2e-6;
            let analytic = gradients[i][0];
            assert!(
                (analytic - numeric).abs() <= 1e-5 + 1e-3 * numeric.abs(),
                "∂/∂x{i}: {analytic} vs {numeric}"
            );
        }
    }
}
