//! The learned dynamics model `f̂_φ(s, a) = s + μ_Δ + σ_Δ ∘ Δ_φ(ẑ)` and its fitting by
//! minibatch Adam on the normalised state change.

#![allow(non_snake_case)]

use super::*;
use autograd::{Tape, Tensor, Var};
use ndarray::{Array1, Array2, Axis};
use nn::losses::{Reduction, mse};
use nn::optim::{Adam, Optimizer};
use nn::{Activation, Bound, Mlp, Module, ParamStore};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The learned dynamics `f̂_φ(s, a) = s + μ_Δ + σ_Δ ∘ Δ_φ((z − μ_z) ⊘ σ_z)`: an MLP `Δ_φ` (ReLU
/// hidden layers) with its parameters `φ` and the [`Normalisation`] it was fitted under.
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::model_based::DynamicsModel;
///
/// let model = DynamicsModel::new(2, 1, &[16], 0);
/// let s_next = model.predict(&array![[0.1, 0.2], [0.3, 0.4]], &array![[1.0, -1.0]]);
/// assert_eq!(s_next.dim(), (2, 2)); // two next states, as columns
/// ```
#[derive(Clone)]
pub struct DynamicsModel {
    /// State dimension `n`.
    pub n: usize,
    /// Action dimension `m`.
    pub m: usize,
    /// `Δ_φ`, from `n + m` inputs to `n` outputs.
    pub network: Mlp,
    /// `φ`, under the name `delta`.
    pub store: ParamStore<f64>,
    /// `μ_z, σ_z, μ_Δ, σ_Δ`.
    pub normalisation: Normalisation,
}

impl std::fmt::Debug for DynamicsModel {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DynamicsModel")
            .field("n", &self.n)
            .field("m", &self.m)
            .field("network", &self.network)
            .field("normalisation", &self.normalisation)
            .finish_non_exhaustive()
    }
}

/// A vector as an `n × 1` constant, to broadcast along a batch of columns.
pub(super) fn column(x: &Array1<f64>) -> Var<f64> {
    Var::constant(x.view().insert_axis(Axis(1)).to_owned())
}

impl DynamicsModel {
    /// A model with hidden layers of the given widths, initialised from `seed`, and the
    /// identity normalisation (set it with [`Normalisation::from_data`] before fitting).
    ///
    /// ```
    /// use wengert_control::model_based::DynamicsModel;
    /// let model = DynamicsModel::new(3, 1, &[32, 32], 7);
    /// assert_eq!(model.network.layers.len(), 3);
    /// assert_eq!(model.network.layers[0].in_features, 4);
    /// ```
    pub fn new(n: usize, m: usize, hidden: &[usize], seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut store = ParamStore::<f64>::new();
        let sizes: Vec<usize> = std::iter::once(n + m)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(n))
            .collect();
        let network = Mlp::builder(&sizes)
            .activation(Activation::Relu)
            .build(&mut store.root().sub("delta"), &mut rng);
        DynamicsModel {
            n,
            m,
            network,
            store,
            normalisation: Normalisation::identity(n, m),
        }
    }

    /// `Δ_φ(ẑ)`: the network's prediction of the normalised state change, states `s` (`n × B`)
    /// and actions `a` (`m × B`) as columns, parameters bound by `φ`.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use ndarray::array;
    /// use wengert_control::model_based::DynamicsModel;
    /// let model = DynamicsModel::new(2, 1, &[8], 0);
    /// let s = Var::constant(array![[0.0], [1.0]]);
    /// let a = Var::constant(array![[0.5]]);
    /// assert_eq!(model.normalised_delta(&model.store.constants(), &s, &a).shape(), &[2, 1]);
    /// ```
    pub fn normalised_delta(&self, phi: &Bound<'_, f64>, s: &Var<f64>, a: &Var<f64>) -> Var<f64> {
        let Normalisation {
            input_mean,
            input_std,
            ..
        } = &self.normalisation;
        let z = Var::concat(&[s, a], 0);
        let z_hat = (z - column(input_mean)) / column(input_std);
        // The MLP takes samples as rows; the control crate batches them as columns.
        self.network.forward(phi, &z_hat.t()).t()
    }

    /// `f̂_φ(s, a) = s + μ_Δ + σ_Δ ∘ Δ_φ(ẑ)` on autograd variables (columns, as
    /// [`Problem`](crate::ilqr::Problem)'s dynamics): differentiable in `s`, `a` and the bound parameters.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use ndarray::array;
    /// use wengert_control::model_based::DynamicsModel;
    ///
    /// let model = DynamicsModel::new(2, 1, &[8], 0);
    /// let tape = Tape::new();
    /// let s = tape.var(array![[0.0], [1.0]]);
    /// let a = tape.var(array![[0.5]]);
    /// let s_next = model.next_state(&model.store.constants(), &s, &a);
    /// let gradients = s_next.sum_all().backward();
    /// assert_eq!(gradients[&a].shape(), &[1, 1]); // ∂ Σ f̂ / ∂a exists
    /// ```
    pub fn next_state(&self, phi: &Bound<'_, f64>, s: &Var<f64>, a: &Var<f64>) -> Var<f64> {
        let Normalisation {
            delta_mean,
            delta_std,
            ..
        } = &self.normalisation;
        let delta = self.normalised_delta(phi, s, a) * column(delta_std) + column(delta_mean);
        s + &delta
    }

    /// [`DynamicsModel::next_state`] on plain arrays (columns), recording nothing.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::model_based::DynamicsModel;
    /// let model = DynamicsModel::new(1, 1, &[4], 0);
    /// assert_eq!(model.predict(&array![[1.0]], &array![[0.0]]).dim(), (1, 1));
    /// ```
    pub fn predict(&self, s: &Array2<f64>, a: &Array2<f64>) -> Array2<f64> {
        let s_next = self.next_state(
            &self.store.constants(),
            &Var::constant(s.clone()),
            &Var::constant(a.clone()),
        );
        s_next
            .value()
            .to_owned()
            .into_dimensionality()
            .expect("a matrix")
    }

    /// `L(φ)`: the mean squared error of the normalised state change over a batch of columns.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use ndarray::array;
    /// use wengert_control::model_based::DynamicsModel;
    /// let model = DynamicsModel::new(1, 1, &[4], 0);
    /// let (s, a) = (array![[1.0, 2.0]], array![[0.0, 1.0]]);
    /// let s_next = model.predict(&s, &a); // the model's own predictions: zero loss
    /// let loss = model.loss(&model.store.constants(), &s, &a, &s_next);
    /// assert!(loss.item() < 1e-20);
    /// ```
    pub fn loss(
        &self,
        phi: &Bound<'_, f64>,
        s: &Array2<f64>,
        a: &Array2<f64>,
        s_next: &Array2<f64>,
    ) -> Var<f64> {
        let Normalisation {
            delta_mean,
            delta_std,
            ..
        } = &self.normalisation;
        let delta = s_next - s;
        let delta_hat = (&delta - &delta_mean.view().insert_axis(Axis(1)))
            / delta_std.view().insert_axis(Axis(1));
        let prediction =
            self.normalised_delta(phi, &Var::constant(s.clone()), &Var::constant(a.clone()));
        mse(&prediction, &Var::constant(delta_hat), Reduction::Mean)
    }
}

/// The parts of the data set [`fit`] trains on and reports on: every `validation_every`-th
/// transition is held out.
///
/// ```
/// use wengert_control::model_based::split;
/// let (training, validation) = split(7, 3);
/// assert_eq!(validation, vec![0, 3, 6]);
/// assert_eq!(training, vec![1, 2, 4, 5]);
/// ```
pub fn split(len: usize, validation_every: usize) -> (Vec<usize>, Vec<usize>) {
    assert!(validation_every >= 2, "split: validation_every must be ≥ 2");
    (0..len).partition(|i| i % validation_every != 0)
}

/// Losses after a [`fit`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitReport {
    /// `L(φ)` over the training part of the data set.
    pub training_loss: f64,
    /// `L(φ)` over the held-out part.
    pub validation_loss: f64,
}

/// Fits the model to `data`: sets its normalisation from all of `data`, then `epochs` passes
/// over the training part in shuffled minibatches of `batch_size`, one Adam step each.
///
/// ```
/// use ndarray::array;
/// use wengert_control::model_based::{DynamicsModel, Transitions, fit};
/// use nn::optim::{Adam, AdamConfig};
///
/// let mut data = Transitions::new(1, 1);
/// for i in 0..100 {
///     let (s, a) = (i as f64 / 50.0 - 1.0, (i % 7) as f64 / 3.0 - 1.0);
///     data.push(&array![s], &array![a], &array![s + 0.1 * a]);
/// }
/// let mut model = DynamicsModel::new(1, 1, &[16], 0);
/// let mut adam = Adam::new(model.store.trainable(), AdamConfig { lr: 1e-2, ..AdamConfig::default() });
/// let before = fit(&mut model, &mut adam, &data, 0, 16, 10, 0);
/// let after = fit(&mut model, &mut adam, &data, 30, 16, 10, 0);
/// assert!(after.validation_loss < before.validation_loss);
/// ```
pub fn fit(
    model: &mut DynamicsModel,
    adam: &mut Adam<f64>,
    data: &Transitions,
    epochs: usize,
    batch_size: usize,
    validation_every: usize,
    seed: u64,
) -> FitReport {
    model.normalisation = Normalisation::from_data(data);
    let (mut training, validation) = split(data.len(), validation_every);
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..epochs {
        // Fisher–Yates shuffle.
        for i in (1..training.len()).rev() {
            training.swap(i, rng.random_range(0..=i));
        }
        for batch in training.chunks(batch_size) {
            let (s, a, s_next) = data.columns(batch);
            let tape = Tape::new();
            let phi = model.store.bind(&tape);
            let L = model.loss(&phi, &s, &a, &s_next);
            let gradients = phi.gradients(&L);
            adam.step(&model.store, &gradients);
        }
    }
    let loss_over = |indices: &[usize]| {
        if indices.is_empty() {
            return f64::NAN;
        }
        let (s, a, s_next) = data.columns(indices);
        model.loss(&model.store.constants(), &s, &a, &s_next).item()
    };
    FitReport {
        training_loss: loss_over(&training),
        validation_loss: loss_over(&validation),
    }
}
