//! # Running normalisation of observations and rewards
//!
//! [`RunningMeanStd`] keeps the mean and variance of a stream of vectors by the parallel
//! (Chan et al.) update: for a batch of `n_b` samples with mean `μ_b` and variance `σ²_b`
//! merged into `n` samples with `μ`, `σ²`,
//! `δ = μ_b − μ`, `μ ← μ + δ n_b / (n + n_b)`,
//! `σ² ← (σ² n + σ²_b n_b + δ² n n_b / (n + n_b)) / (n + n_b)`.
//! Observations are normalised as `clip((o − μ) / √(σ² + ε), ±c)`.
//!
//! Rewards are scaled as in Stable-Baselines3's `VecNormalize`: divided by the standard
//! deviation of the running discounted return `G ← γ G + r` (reset at episode ends), not
//! centred.

use crate::snapshot::{Resumable, StateError, TrainingState};
use ndarray::{Array1, Array2, Axis};

/// The running mean and variance of vectors of a fixed dimension.
///
/// ```
/// use ndarray::array;
/// use wengert_rl::normalize::RunningMeanStd;
/// let mut stats = RunningMeanStd::new(1);
/// stats.update(&array![[1.0], [2.0]]);
/// stats.update(&array![[3.0], [4.0]]);
/// assert!((stats.mean[0] - 2.5).abs() < 1e-3);
/// assert!((stats.var[0] - 1.25).abs() < 1e-3);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RunningMeanStd {
    pub mean: Array1<f64>,
    pub var: Array1<f64>,
    pub count: f64,
}

impl RunningMeanStd {
    /// Empty statistics (`μ = 0`, `σ² = 1`, with a tiny prior count as in SB3).
    pub fn new(dim: usize) -> Self {
        RunningMeanStd {
            mean: Array1::zeros(dim),
            var: Array1::ones(dim),
            count: 1e-4,
        }
    }

    /// Merges a batch (one sample per row).
    pub fn update(&mut self, batch: &Array2<f64>) {
        if batch.ncols() != self.mean.len() {
            panic!(
                "running mean/std: batch has {} columns, expected {}",
                batch.ncols(),
                self.mean.len()
            );
        }
        let n_b = batch.nrows() as f64;
        if n_b == 0.0 {
            return;
        }
        let mean_b = batch.mean_axis(Axis(0)).unwrap();
        let var_b = batch.var_axis(Axis(0), 0.0);
        let total = self.count + n_b;
        let delta = &mean_b - &self.mean;
        self.mean = &self.mean + &(&delta * (n_b / total));
        let m2 =
            &self.var * self.count + &var_b * n_b + &(&delta * &delta) * (self.count * n_b / total);
        self.var = m2 / total;
        self.count = total;
    }

    /// `clip((x − μ) / √(σ² + ε), −clip, clip)` row by row.
    pub fn normalize(&self, x: &Array2<f32>, clip: f64, eps: f64) -> Array2<f32> {
        let mut out = x.clone();
        for mut row in out.rows_mut() {
            for ((v, &m), &s2) in row.iter_mut().zip(&self.mean).zip(&self.var) {
                let z = (*v as f64 - m) / (s2 + eps).sqrt();
                *v = z.clamp(-clip, clip) as f32;
            }
        }
        out
    }
}

/// Reward scaling by the standard deviation of the discounted return (SB3's `VecNormalize`).
#[derive(Clone, Debug)]
pub struct RewardScaler {
    pub returns: Array1<f64>,
    pub stats: RunningMeanStd,
    pub gamma: f64,
}

impl RewardScaler {
    /// A scaler for `envs` parallel environments.
    pub fn new(envs: usize, gamma: f64) -> Self {
        RewardScaler {
            returns: Array1::zeros(envs),
            stats: RunningMeanStd::new(1),
            gamma,
        }
    }

    /// Updates the return statistics with one step of rewards and returns the scaled rewards
    /// `r / √(σ²_G + ε)`, clipped to `±clip`.
    pub fn scale(&mut self, rewards: &Array1<f64>, done: &[bool], clip: f64) -> Array1<f64> {
        self.returns = &self.returns * self.gamma + rewards;
        let column = self.returns.clone().insert_axis(Axis(1));
        self.stats.update(&column);
        let std = (self.stats.var[0] + 1e-8).sqrt();
        for (g, &d) in self.returns.iter_mut().zip(done) {
            if d {
                *g = 0.0;
            }
        }
        rewards.mapv(|r| (r / std).clamp(-clip, clip))
    }
}

/// `name.mean`, `name.var` and `name.count`.
impl Resumable for RunningMeanStd {
    fn save(&self, name: &str, state: &mut TrainingState) {
        state.put_f64(format!("{name}.mean"), self.mean.to_vec());
        state.put_f64(format!("{name}.var"), self.var.to_vec());
        state.put_f64(format!("{name}.count"), vec![self.count]);
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        let dim = self.mean.len();
        self.mean = Array1::from(state.f64s(&format!("{name}.mean"), Some(dim))?);
        self.var = Array1::from(state.f64s(&format!("{name}.var"), Some(dim))?);
        self.count = state.f64s(&format!("{name}.count"), Some(1))?[0];
        Ok(())
    }
}

/// The running discounted returns `name.returns` and their statistics `name.stats`.
impl Resumable for RewardScaler {
    fn save(&self, name: &str, state: &mut TrainingState) {
        state.put_f64(format!("{name}.returns"), self.returns.to_vec());
        self.stats.save(&format!("{name}.stats"), state);
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        let n = self.returns.len();
        self.returns = Array1::from(state.f64s(&format!("{name}.returns"), Some(n))?);
        self.stats.load(&format!("{name}.stats"), state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn batched_updates_equal_the_statistics_of_all_samples() {
        let data = array![[1.0, -2.0], [3.0, 0.5], [2.0, 4.0], [-1.0, 1.0], [0.0, 2.5]];
        let mut stats = RunningMeanStd::new(2);
        stats.count = 0.0;
        stats.update(&data.slice(ndarray::s![0..2, ..]).to_owned());
        stats.update(&data.slice(ndarray::s![2..5, ..]).to_owned());
        let mean = data.mean_axis(Axis(0)).unwrap();
        let var = data.var_axis(Axis(0), 0.0);
        for j in 0..2 {
            assert!((stats.mean[j] - mean[j]).abs() < 1e-12);
            assert!((stats.var[j] - var[j]).abs() < 1e-12);
        }
    }
}
