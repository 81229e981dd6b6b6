//! Learning-rate schedules: the learning rate `γ_t` at step `t` from the initial `γ₀`, as
//! PyTorch's `LinearLR`, `CosineAnnealingLR` and `StepLR` compute them in closed form.
//!
//! ```text
//! Constant:  γ_t = γ₀
//! Linear:    γ_t = γ₀ (s + (e − s) min(t, T) / T)                 (factors s → e over T steps)
//! Cosine:    γ_t = γ_min + (γ₀ − γ_min) (1 + cos(π min(t, T) / T)) / 2
//! Step:      γ_t = γ₀ · κ^⌊t / n⌋                                  (decay κ every n steps)
//! ```

use std::f64::consts::PI;

use autograd::Float;

use super::Optimizer;

/// A learning-rate schedule; see the [module documentation](self) for the formulas.
///
/// ```
/// use wengert_nn::optim::LrSchedule;
/// let cosine = LrSchedule::Cosine { total_steps: 100, min_lr: 0.0 };
/// assert_eq!(cosine.lr(1.0, 0), 1.0);
/// assert!((cosine.lr(1.0f64, 50) - 0.5).abs() < 1e-15);
/// assert_eq!(cosine.lr(1.0, 100), 0.0);
/// let step = LrSchedule::Step { step_size: 10, gamma: 0.5 };
/// assert_eq!(step.lr(1.0, 25), 0.25);
/// let linear = LrSchedule::Linear { start_factor: 1.0, end_factor: 0.0, total_steps: 4 };
/// assert_eq!(linear.lr(2.0, 1), 1.5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LrSchedule {
    /// `γ_t = γ₀`.
    Constant,
    /// The factor goes linearly from `start_factor` to `end_factor` over `total_steps`, then
    /// stays (PyTorch's `LinearLR`).
    Linear {
        /// `s`, the factor at step 0.
        start_factor: f64,
        /// `e`, the factor from step `total_steps` on.
        end_factor: f64,
        /// `T`.
        total_steps: usize,
    },
    /// Half a cosine from `γ₀` down to `min_lr` over `total_steps`, then stays (PyTorch's
    /// `CosineAnnealingLR` without restarts).
    Cosine {
        /// `T`.
        total_steps: usize,
        /// `γ_min`, an absolute learning rate.
        min_lr: f64,
    },
    /// Multiply by `gamma` every `step_size` steps (PyTorch's `StepLR`).
    Step {
        /// `n`.
        step_size: usize,
        /// `κ`.
        gamma: f64,
    },
}

impl LrSchedule {
    /// The learning rate at step `t` for a group whose initial learning rate is `initial_lr`.
    pub fn lr<T: Float>(&self, initial_lr: T, t: usize) -> T {
        let gamma0 = initial_lr.as_f64();
        let lr = match *self {
            LrSchedule::Constant => gamma0,
            LrSchedule::Linear {
                start_factor,
                end_factor,
                total_steps,
            } => {
                let progress = match total_steps {
                    0 => 1.0,
                    n => t.min(n) as f64 / n as f64,
                };
                gamma0 * (start_factor + (end_factor - start_factor) * progress)
            }
            LrSchedule::Cosine {
                total_steps,
                min_lr,
            } => {
                let progress = match total_steps {
                    0 => 1.0,
                    n => t.min(n) as f64 / n as f64,
                };
                min_lr + (gamma0 - min_lr) * (1.0 + (PI * progress).cos()) / 2.0
            }
            LrSchedule::Step { step_size, gamma } => {
                gamma0 * gamma.powi((t / step_size.max(1)) as i32)
            }
        };
        T::from_f64(lr)
    }

    /// Sets every group's learning rate to its value at step `t` (from the group's initial
    /// learning rate, so groups keep their ratios).
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_nn::ParamStore;
    /// use wengert_nn::optim::{LrSchedule, Optimizer, Sgd, SgdConfig};
    /// let mut store = ParamStore::<f64>::new();
    /// let a = store.root().param("a", array![0.0]);
    /// let b = store.root().param("b", array![0.0]);
    /// let mut sgd = Sgd::new([a], SgdConfig { lr: 0.1, ..SgdConfig::default() }).with_group([b], 0.01);
    /// LrSchedule::Step { step_size: 1, gamma: 0.5 }.apply(&mut sgd, 1);
    /// assert_eq!((sgd.lr(0), sgd.lr(1)), (0.05, 0.005));
    /// ```
    pub fn apply<T: Float>(&self, optimizer: &mut dyn Optimizer<T>, t: usize) {
        for group in 0..optimizer.num_groups() {
            let lr = self.lr(optimizer.initial_lr(group), t);
            optimizer.set_lr(group, lr);
        }
    }
}
