//! MaxEnt IRL's options and their valid ranges.

use crate::train::TrainError;

/// Maximum-entropy IRL's options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaxEntConfig {
    /// Discount γ of rewards and of feature counts, in `[0, 1)` (default 0.9).
    pub gamma: f64,
    /// Gradient steps `K` at most (default 300).
    pub iterations: usize,
    /// Adam's learning rate on `θ` (default 0.1; other options are Adam's defaults).
    pub lr: f64,
    /// Stop once the feature-count gap `‖f̃ − Fᵀ D‖∞` is below this (default 1e-4).
    pub gap_tolerance: f64,
    /// Soft value iteration stops when a sweep changes no `V(s)` by this much (default 1e-10).
    pub soft_tolerance: f64,
    /// The forward pass stops when the remaining discounted mass `γᵗ Σ_s μ_t(s)` falls
    /// below this (default 1e-10).
    pub visitation_tolerance: f64,
}

impl Default for MaxEntConfig {
    fn default() -> Self {
        MaxEntConfig {
            gamma: 0.9,
            iterations: 300,
            lr: 0.1,
            gap_tolerance: 1e-4,
            soft_tolerance: 1e-10,
            visitation_tolerance: 1e-10,
        }
    }
}

impl MaxEntConfig {
    pub(super) fn validate(&self) -> Result<(), TrainError> {
        let bad = |message: String| Err(TrainError::Config(format!("MaxEnt IRL: {message}")));
        if !(0.0..1.0).contains(&self.gamma) {
            return bad(format!("gamma = {} must lie in [0, 1)", self.gamma));
        }
        if self.iterations == 0 {
            return bad("iterations must be at least 1".into());
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad(format!("lr = {} must be positive and finite", self.lr));
        }
        for (name, value) in [
            ("gap_tolerance", self.gap_tolerance),
            ("soft_tolerance", self.soft_tolerance),
            ("visitation_tolerance", self.visitation_tolerance),
        ] {
            if !(value >= 0.0 && value.is_finite()) {
                return bad(format!("{name} = {value} must be non-negative and finite"));
            }
        }
        for (name, value) in [
            ("soft_tolerance", self.soft_tolerance),
            ("visitation_tolerance", self.visitation_tolerance),
        ] {
            if value == 0.0 {
                return bad(format!("{name} must be positive, or the loop never ends"));
            }
        }
        Ok(())
    }
}
