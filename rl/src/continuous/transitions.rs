//! A replayed batch as the constants the losses read.

use autograd::{Float, Var};
use ndarray::{Array1, Array2};

use crate::buffers::{Batch, BatchActions};

/// A replayed batch of transitions `(s, ã, r, s', γ^m(1 − d))` as constants of type `T`.
#[derive(Clone, Debug)]
pub struct Transitions<T: Float> {
    /// `s`, `(B, obs_dim)`.
    pub observations: Var<T>,
    /// `ã`, unit-box actions, `(B, |A|)`.
    pub actions: Var<T>,
    /// `r` (the discounted sum of the rewards of an n-step transition), `(B)`.
    pub rewards: Var<T>,
    /// `s'`, `(B, obs_dim)`.
    pub next_observations: Var<T>,
    /// `γ^m (1 − d)`, the factor of the bootstrap value, `(B)`.
    pub bootstrap: Var<T>,
}

impl<T: Float> Transitions<T> {
    /// The batch's arrays as constants.
    ///
    /// # Panics
    /// If the batch holds discrete actions.
    pub fn new(batch: &Batch) -> Self {
        let rows = |a: &Array2<f32>| Var::constant(a.mapv(|v| T::from_f64(v as f64)));
        let vector = |a: &Array1<f64>| Var::constant(a.mapv(T::from_f64));
        let BatchActions::Continuous(actions) = &batch.actions else {
            panic!("continuous agents replay continuous actions")
        };
        Transitions {
            observations: rows(&batch.observations),
            actions: rows(actions),
            rewards: vector(&batch.rewards),
            next_observations: rows(&batch.next_observations),
            bootstrap: vector(&batch.bootstrap_factors()),
        }
    }
}

/// The mean of a value's elements, as `f64`.
pub fn mean<T: Float>(value: &Var<T>) -> f64 {
    let v = value.value();
    v.iter().map(|&x| x.as_f64()).sum::<f64>() / v.len().max(1) as f64
}
