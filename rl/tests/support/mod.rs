//! What the loss tests of DDPG, TD3 and SAC share: a made-up batch, and the gradient check of a
//! loss in the trainable parameters of one store (central differences in f64,
//! `autograd::gradcheck`'s tolerances).

use autograd::gradcheck;
use autograd::gradcheck::GradcheckError;
use autograd::prelude::*;
use ndarray::{Array1, Array2};
use nn::{Bound, ParamId, ParamStore};
use wengert_rl::continuous::Transitions;

/// Four transitions of a 3-dimensional state and a 2-dimensional action, the second terminal.
pub fn transitions() -> Transitions<f64> {
    let rows = |n: usize, f: &dyn Fn(usize, usize) -> f64| {
        Var::constant(Array2::from_shape_fn((4, n), |(i, j)| f(i, j)))
    };
    Transitions {
        observations: rows(3, &|i, j| ((i * 3 + j) as f64 * 0.7).sin() * 1.5),
        actions: rows(2, &|i, j| ((i * 2 + j) as f64 * 1.3).cos() * 0.9),
        rewards: Var::constant(Array1::from_vec(vec![1.0, -0.5, 0.2, -2.0])),
        next_observations: rows(3, &|i, j| ((i * 3 + j) as f64 * 0.4).cos()),
        bootstrap: Var::constant(Array1::from_vec(vec![0.99, 0.0, 0.99, 0.99])),
    }
}

/// `gradcheck` of `loss` in every trainable parameter of `store`, bound from the values the
/// check perturbs.
pub fn gradcheck_in(
    store: &ParamStore<f64>,
    loss: impl Fn(&Bound<'_, f64>) -> Var<f64>,
) -> Result<(), GradcheckError> {
    let ids: Vec<ParamId> = store.trainable().collect();
    let values: Vec<_> = ids.iter().map(|&id| store.value(id)).collect();
    gradcheck(
        |values| loss(&store.bind_with(ids.iter().copied().zip(values.iter().cloned()))),
        &values,
    )
}
