//! The affine map between the unit box the policies act in and an environment's action box.

use ndarray::{Array1, Array2};

use crate::env::Space;
use crate::train::TrainError;

/// The affine map between the unit box `[−1, 1]^d` the policies act in and an environment's
/// bounded action box.
///
/// ```
/// use wengert_rl::common::off_policy::ActionScale;
/// use wengert_rl::env::{BoxSpace, Space};
/// let scale = ActionScale::new(&Space::Box(BoxSpace::new(vec![-2.0, 0.0], vec![2.0, 1.0]))).unwrap();
/// assert_eq!(scale.to_env(&[0.5, -1.0]), vec![1.0, 0.0]);
/// assert_eq!(scale.to_unit(&[1.0, 0.0]), vec![0.5, -1.0]);
/// assert!(ActionScale::new(&Space::Discrete { n: 2 }).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ActionScale {
    low: Vec<f32>,
    high: Vec<f32>,
}

impl ActionScale {
    /// The scaling for a bounded `Box` action space; an error names the problem otherwise.
    pub fn new(space: &Space) -> Result<Self, TrainError> {
        match space {
            Space::Box(b) if b.low.iter().chain(&b.high).all(|v| v.is_finite()) => {
                Ok(ActionScale {
                    low: b.low.clone(),
                    high: b.high.clone(),
                })
            }
            Space::Box(_) => Err(TrainError::Config(format!(
                "the action space {space} is unbounded; DDPG, TD3 and SAC need finite bounds to \
                 scale a tanh policy into"
            ))),
            Space::Discrete { .. } => Err(TrainError::Config(format!(
                "the action space {space} is discrete; DDPG, TD3 and SAC need a Box action space"
            ))),
        }
    }

    /// `|A|`, the action dimension.
    pub fn dim(&self) -> usize {
        self.low.len()
    }

    /// `a = low + (ã + 1)/2 · (high − low)`, with `ã` clipped into `[−1, 1]` first.
    pub fn to_env(&self, unit: &[f32]) -> Vec<f32> {
        unit.iter()
            .zip(self.low.iter().zip(&self.high))
            .map(|(u, (low, high))| low + 0.5 * (u.clamp(-1.0, 1.0) + 1.0) * (high - low))
            .collect()
    }

    /// `ã = 2 (a − low) / (high − low) − 1`, the inverse of [`ActionScale::to_env`].
    pub fn to_unit(&self, action: &[f32]) -> Vec<f32> {
        action
            .iter()
            .zip(self.low.iter().zip(&self.high))
            .map(|(a, (low, high))| 2.0 * (a - low) / (high - low) - 1.0)
            .collect()
    }

    /// [`ActionScale::to_env`] of every row.
    pub fn rows_to_env(&self, unit: &Array2<f32>) -> Array2<f32> {
        let mut scaled = unit.clone();
        for mut row in scaled.rows_mut() {
            let env = self.to_env(row.as_slice().expect("rows are contiguous"));
            row.assign(&Array1::from(env));
        }
        scaled
    }
}
