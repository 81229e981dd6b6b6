//! Model-based RL: neural-network dynamics, MPC on the learned model, and DAgger-style data
//! aggregation — the model-based part ("MBMPC") of Nagabandi et al., 2018, *Neural Network
//! Dynamics for Model-Based Deep Reinforcement Learning with Model-Free Fine-Tuning*.
//!
//! ## Background
//!
//! The task's reward `r(s, a)` is known; its dynamics are not. Learn them from transitions
//! `(s, a, s')` with a neural network, then act by planning with that network: at every step,
//! search for the action sequence whose predicted return over a short horizon is best, apply
//! its first action, and plan again at the next state (model-predictive control). A model fitted
//! only to random-action data is wrong exactly where the planner wants to go (e.g. near upright
//! for the pendulum), so the transitions the controller itself visits are added to the data set
//! and the model is refitted: the data set follows the controller's state distribution, as in
//! DAgger (Ross et al., 2011).
//!
//! ## Key equations
//!
//! The model predicts the *change* of state from normalised inputs, and its output is
//! normalised too, with statistics of the data set `𝒟`:
//!
//! ```text
//! z = [s; a],      ẑ = (z − μ_z) ⊘ σ_z,      Δ = s' − s,      Δ̂ = (Δ − μ_Δ) ⊘ σ_Δ
//! f̂_φ(s, a) = s + μ_Δ + σ_Δ ∘ Δ_φ(ẑ)                  (Δ_φ an MLP)
//! L(φ) = (1/|ℬ|) Σ_{(s,a,s')∈ℬ} (1/n) ‖Δ_φ(ẑ) − Δ̂‖²     (minibatch ℬ ⊂ 𝒟, Adam on ∇_φ L)
//! ```
//!
//! Planning at state `s_t` (the cross-entropy method, [`CrossEntropyMethod`], on the model):
//!
//! ```text
//! a_t … a_{t+H−1} = argmax Σ_{k=0}^{H−1} r(ŝ_{t+k}, a_{t+k}) + r(ŝ_{t+H}, 0),
//!                   ŝ_t = s_t,  ŝ_{k+1} = f̂_φ(ŝ_k, a_k)
//! ```
//!
//! For Pendulum-v1 (observation `[cos θ, sin θ, θ̇]`) the reward is
//! `r = −(θ_norm² + 0.1 θ̇² + 0.001 u²)` with `θ = atan2(sin θ, cos θ)` ([`pendulum_v1_cost`]).
//!
//! Backpropagating through the learned model into a policy `π_θ` (analytic policy gradient;
//! [`train_policy_through_model`]), with `ℓ = −r` and `ℓ_T(s) = ℓ(s, 0)`:
//!
//! ```text
//! J(θ) = (1/B) Σ_b [Σ_{t=0}^{H−1} ℓ(ŝ_t, π_θ(ŝ_t)) + ℓ_T(ŝ_H)],  ŝ_0 = s_0^(b),  ŝ_{t+1} = f̂_φ(ŝ_t, π_θ(ŝ_t))
//! θ ← Adam(θ, ∇_θ J)        (∇_θ J by reverse mode through all H steps of f̂_φ and π_θ; φ fixed)
//! ```
//!
//! ## Pseudocode
//!
//! ```text
//! 𝒟 ← transitions of `random_episodes` episodes with uniformly random actions
//! for round = 1, …, rounds:
//!     μ_z, σ_z, μ_Δ, σ_Δ ← statistics of 𝒟
//!     fit φ: `epochs` passes of minibatch Adam on L over the training part of 𝒟
//!     report L on the held-out part of 𝒟 (every `validation_every`-th transition)
//!     for each of `episodes_per_round` episodes in the real environment:
//!         at each s_t: plan with CEM on f̂_φ, apply a_t, record (s_t, a_t, s_{t+1})
//!     𝒟 ← 𝒟 ∪ those transitions
//!
//! policy through the model (separately, given f̂_φ and start states):
//!     repeat: draw B start states; J ← rollout of π_θ on f̂_φ for H steps; θ ← Adam(θ, ∇_θ J)
//! ```
//!
//! ## Documentation
//!
//! [`DynamicsModel`] is the model, with its forward pass on autograd variables
//! ([`DynamicsModel::next_state`]), so the control crate's [`Problem`] can call it as its
//! dynamics ([`learned_problem`]) and gradients can flow through it. [`fit`] trains it;
//! [`run`] is the whole loop under an [`MbmpcConfig`], returning [`RoundMetrics`] per round.
//!
//! [`ModelPolicy`], [`model_rollout_cost`] and [`train_policy_through_model`] backpropagate
//! through the learned model into a policy (checked against LQR on a learned linear system);
//! they are not part of [`run`]'s loop.
//!
//! **Not built:** the second half of the paper (model-free fine-tuning, initialised by imitating
//! the MPC controller); a policy trained through the model on Pendulum-v1 (its cost,
//! [`pendulum_v1_cost`], has no gradient in the angle).
//!
//! **Where this lives.** The model needs `nn` (MLP, Adam) and the loop needs `rl`'s
//! environments; `rl` depends on `autograd` and `nn` only, not on `control`, so `control` can
//! depend on both without a cycle, and DESIGN.md lists model-based RL under `control`. The price:
//! `rl` cannot now depend on `control` (an MPC agent in `rl` would have to live here instead).

#![allow(non_snake_case)]

use crate::ilqr::Problem;
use crate::ilqr::problem::RunningCost;
use crate::planners::{CemOptions, CrossEntropyMethod, Planner};
use autograd::{Tape, Tensor, Var};
use ndarray::{Array1, Array2, Axis};
use nn::losses::{Reduction, mse};
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{Activation, Bound, Mlp, Module, ParamStore};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rl::env::{Action, Env, Space};
use std::f64::consts::PI;
use std::sync::Arc;

/// The smallest standard deviation a normaliser divides by (a constant input or state
/// component would otherwise divide by zero).
pub const MIN_STD: f64 = 1e-6;

/// A data set of transitions `(s, a, s')`, stored row by row.
///
/// ```
/// use ndarray::array;
/// use wengert_control::model_based::Transitions;
///
/// let mut data = Transitions::new(2, 1);
/// data.push(&array![1.0, 2.0], &array![0.5], &array![1.5, 2.5]);
/// let (s, a, s_next) = data.columns(&[0]);
/// assert_eq!((s.dim(), a.dim(), s_next.dim()), ((2, 1), (1, 1), (2, 1)));
/// assert_eq!(data.len(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct Transitions {
    /// State dimension `n`.
    pub n: usize,
    /// Action dimension `m`.
    pub m: usize,
    s: Vec<f64>,
    a: Vec<f64>,
    s_next: Vec<f64>,
}

impl Transitions {
    /// An empty data set for states of dimension `n` and actions of dimension `m`.
    ///
    /// ```
    /// use wengert_control::model_based::Transitions;
    /// assert!(Transitions::new(3, 1).is_empty());
    /// ```
    pub fn new(n: usize, m: usize) -> Self {
        Transitions {
            n,
            m,
            s: Vec::new(),
            a: Vec::new(),
            s_next: Vec::new(),
        }
    }

    /// Appends one transition.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::model_based::Transitions;
    /// let mut data = Transitions::new(1, 1);
    /// data.push(&array![0.0], &array![1.0], &array![1.0]);
    /// assert_eq!(data.len(), 1);
    /// ```
    pub fn push(&mut self, s: &Array1<f64>, a: &Array1<f64>, s_next: &Array1<f64>) {
        assert!(
            s.len() == self.n && a.len() == self.m && s_next.len() == self.n,
            "Transitions::push: lengths {}, {}, {} for n = {}, m = {}",
            s.len(),
            a.len(),
            s_next.len(),
            self.n,
            self.m
        );
        self.s.extend(s.iter());
        self.a.extend(a.iter());
        self.s_next.extend(s_next.iter());
    }

    /// Number of transitions.
    ///
    /// ```
    /// use wengert_control::model_based::Transitions;
    /// assert_eq!(Transitions::new(2, 1).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.s.len() / self.n
    }

    /// Whether there are no transitions.
    ///
    /// ```
    /// use wengert_control::model_based::Transitions;
    /// assert!(Transitions::new(2, 1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The chosen transitions as columns: `s` (`n × B`), `a` (`m × B`), `s'` (`n × B`).
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::model_based::Transitions;
    /// let mut data = Transitions::new(1, 1);
    /// data.push(&array![0.0], &array![1.0], &array![1.0]);
    /// data.push(&array![5.0], &array![2.0], &array![7.0]);
    /// let (s, a, s_next) = data.columns(&[1, 0]);
    /// assert_eq!(s, array![[5.0, 0.0]]);
    /// assert_eq!(a, array![[2.0, 1.0]]);
    /// assert_eq!(s_next, array![[7.0, 1.0]]);
    /// ```
    pub fn columns(&self, indices: &[usize]) -> (Array2<f64>, Array2<f64>, Array2<f64>) {
        let gather = |rows: &[f64], width: usize| {
            Array2::from_shape_fn((width, indices.len()), |(i, b)| {
                rows[indices[b] * width + i]
            })
        };
        (
            gather(&self.s, self.n),
            gather(&self.a, self.m),
            gather(&self.s_next, self.n),
        )
    }
}

/// The statistics the model normalises with: `μ_z, σ_z` of the inputs `z = [s; a]` and
/// `μ_Δ, σ_Δ` of the state changes `Δ = s' − s`.
///
/// ```
/// use ndarray::array;
/// use wengert_control::model_based::{Normalisation, Transitions};
///
/// let mut data = Transitions::new(1, 1);
/// data.push(&array![0.0], &array![-1.0], &array![1.0]);
/// data.push(&array![2.0], &array![1.0], &array![5.0]);
/// let normalisation = Normalisation::from_data(&data);
/// assert_eq!(normalisation.input_mean, array![1.0, 0.0]);
/// assert_eq!(normalisation.input_std, array![1.0, 1.0]);
/// assert_eq!(normalisation.delta_mean, array![2.0]); // Δ = 1 and 3
/// assert_eq!(normalisation.delta_std, array![1.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Normalisation {
    /// `μ_z` (length `n + m`).
    pub input_mean: Array1<f64>,
    /// `σ_z` (length `n + m`).
    pub input_std: Array1<f64>,
    /// `μ_Δ` (length `n`).
    pub delta_mean: Array1<f64>,
    /// `σ_Δ` (length `n`).
    pub delta_std: Array1<f64>,
}

impl Normalisation {
    /// No normalisation: zero means, unit standard deviations.
    ///
    /// ```
    /// use wengert_control::model_based::Normalisation;
    /// let normalisation = Normalisation::identity(2, 1);
    /// assert_eq!(normalisation.input_std.len(), 3);
    /// assert!(normalisation.delta_mean.iter().all(|&mu| mu == 0.0));
    /// ```
    pub fn identity(n: usize, m: usize) -> Self {
        Normalisation {
            input_mean: Array1::zeros(n + m),
            input_std: Array1::ones(n + m),
            delta_mean: Array1::zeros(n),
            delta_std: Array1::ones(n),
        }
    }

    /// Means and (population) standard deviations over a data set, each standard deviation at
    /// least [`MIN_STD`].
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::model_based::{MIN_STD, Normalisation, Transitions};
    /// let mut data = Transitions::new(1, 1);
    /// data.push(&array![3.0], &array![0.0], &array![3.0]);
    /// assert_eq!(Normalisation::from_data(&data).delta_std, array![MIN_STD]);
    /// ```
    pub fn from_data(data: &Transitions) -> Self {
        assert!(!data.is_empty(), "Normalisation::from_data: no transitions");
        let all: Vec<usize> = (0..data.len()).collect();
        let (s, a, s_next) = data.columns(&all);
        let z = ndarray::concatenate(Axis(0), &[s.view(), a.view()]).expect("same columns");
        let delta = &s_next - &s;
        let statistics = |x: &Array2<f64>| {
            let mean = x.mean_axis(Axis(1)).expect("not empty");
            let std = x.std_axis(Axis(1), 0.0).mapv(|sigma| sigma.max(MIN_STD));
            (mean, std)
        };
        let (input_mean, input_std) = statistics(&z);
        let (delta_mean, delta_std) = statistics(&delta);
        Normalisation {
            input_mean,
            input_std,
            delta_mean,
            delta_std,
        }
    }
}

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
fn column(x: &Array1<f64>) -> Var<f64> {
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
    /// [`Problem`]'s dynamics): differentiable in `s`, `a` and the bound parameters.
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

/// Pendulum-v1's cost `−r = θ_norm² + 0.1 θ̇² + 0.001 u²` on observations `[cos θ, sin θ, θ̇]`
/// (`3 × B`) and torques (`1 × B`), one value per column, with `θ = atan2(sin θ, cos θ)`.
///
/// The angle term is computed on values (autograd has no `atan2`), so it carries no
/// gradient: the sampling planners need only values; the `θ̇` and `u` terms are differentiable.
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::model_based::pendulum_v1_cost;
///
/// let theta: f64 = 0.5;
/// let x = Var::constant(array![[theta.cos(), -1.0], [theta.sin(), 0.0], [2.0, 0.0]]);
/// let u = Var::constant(array![[1.0, 0.0]]);
/// let cost = pendulum_v1_cost(&x, &u);
/// let value = cost.value();
/// assert!((value[0] - (0.25 + 0.4 + 0.001)).abs() < 1e-12);
/// assert!((value[1] - std::f64::consts::PI.powi(2)).abs() < 1e-12); // hanging down
/// ```
pub fn pendulum_v1_cost(x: &Var<f64>, u: &Var<f64>) -> Var<f64> {
    let values = x.value();
    let theta_squared: Array1<f64> = (0..x.shape()[1])
        .map(|b| {
            let theta = values[[1, b]].atan2(values[[0, b]]);
            let normalized = (theta + PI).rem_euclid(2.0 * PI) - PI;
            normalized * normalized
        })
        .collect();
    let theta_dot = x.slice(0, 2, 3);
    Var::constant(theta_squared)
        + theta_dot.powi(2).sum(&[0], false) * 0.1
        + u.powi(2).sum(&[0], false) * 0.001
}

/// The planning problem on the learned model: dynamics `f̂_φ`, running cost `ℓ = −r`,
/// terminal cost `ℓ_T(s) = ℓ(s, 0)`, actions in `[lower, upper]`.
///
/// ```
/// use ndarray::array;
/// use std::sync::Arc;
/// use wengert_control::model_based::{DynamicsModel, learned_problem, pendulum_v1_cost};
///
/// let model = Arc::new(DynamicsModel::new(3, 1, &[8], 0));
/// let problem = learned_problem(model.clone(), Arc::new(pendulum_v1_cost), 10,
///     array![-2.0], array![2.0]);
/// let (s, a) = (array![1.0, 0.0, 0.0], array![1.0]);
/// let expected = model.predict(&s.clone().insert_axis(ndarray::Axis(1)), &array![[1.0]]);
/// assert_eq!(problem.step(&s, &a), expected.column(0));
/// ```
pub fn learned_problem(
    model: Arc<DynamicsModel>,
    cost: RunningCost,
    horizon: usize,
    lower: Array1<f64>,
    upper: Array1<f64>,
) -> Problem {
    let (n, m) = (model.n, model.m);
    let terminal = cost.clone();
    Problem::new(
        n,
        m,
        horizon,
        move |s, a| model.next_state(&model.store.constants(), s, a),
        move |s, a| cost(s, a),
        move |s| terminal(s, &Var::constant(Array2::<f64>::zeros((m, s.shape()[1])))),
    )
    .with_control_limits(lower, upper)
}

/// Settings of [`run`], named as in the module docs, with their defaults (tuned for
/// Pendulum-v1).
///
/// ```
/// use wengert_control::model_based::MbmpcConfig;
/// let config = MbmpcConfig::default();
/// assert!(config.elites < config.population);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MbmpcConfig {
    /// Widths of `Δ_φ`'s hidden layers (default `[64, 64]`).
    pub hidden: Vec<usize>,
    /// Adam's learning rate (default `1e-3`).
    pub learning_rate: f64,
    /// Passes over the data set per round (default 40).
    pub epochs: usize,
    /// Minibatch size `|ℬ|` (default 64).
    pub batch_size: usize,
    /// Every this many-th transition is held out for the validation loss (default 10).
    pub validation_every: usize,
    /// Planning horizon `H` (default 20).
    pub horizon: usize,
    /// CEM's samples per iteration (default 100).
    pub population: usize,
    /// CEM's elites (default 10).
    pub elites: usize,
    /// CEM's refits per step (default 3).
    pub iterations: usize,
    /// Episodes with uniformly random actions before the first fit (default 10).
    pub random_episodes: usize,
    /// Aggregation rounds (default 3).
    pub rounds: usize,
    /// MPC episodes per round, whose transitions join the data set (default 2).
    pub episodes_per_round: usize,
    /// Steps per episode (default 200, Pendulum-v1's time limit).
    pub episode_length: usize,
    /// Seed of the model, the minibatches, the planner and the environment's resets (default 0).
    pub seed: u64,
}

impl Default for MbmpcConfig {
    fn default() -> Self {
        MbmpcConfig {
            hidden: vec![64, 64],
            learning_rate: 1e-3,
            epochs: 40,
            batch_size: 64,
            validation_every: 10,
            horizon: 20,
            population: 100,
            elites: 10,
            iterations: 3,
            random_episodes: 10,
            rounds: 3,
            episodes_per_round: 2,
            episode_length: 200,
            seed: 0,
        }
    }
}

/// What one aggregation round did.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundMetrics {
    /// The round, from 1.
    pub round: usize,
    /// Transitions in the data set the model was fitted to.
    pub transitions: usize,
    /// `L(φ)` on the training part after fitting.
    pub training_loss: f64,
    /// `L(φ)` on the held-out part after fitting.
    pub validation_loss: f64,
    /// Returns of the MPC episodes run with the fitted model.
    pub returns: Vec<f64>,
}

impl RoundMetrics {
    /// The mean of [`RoundMetrics::returns`].
    ///
    /// ```
    /// use wengert_control::model_based::RoundMetrics;
    /// let metrics = RoundMetrics { round: 1, transitions: 0, training_loss: 0.0,
    ///     validation_loss: 0.0, returns: vec![-100.0, -300.0] };
    /// assert_eq!(metrics.mean_return(), -200.0);
    /// ```
    pub fn mean_return(&self) -> f64 {
        self.returns.iter().sum::<f64>() / self.returns.len() as f64
    }
}

/// What [`run`] returns.
#[derive(Clone, Debug)]
pub struct MbmpcResult {
    /// Returns of the random-action episodes.
    pub random_returns: Vec<f64>,
    /// One entry per aggregation round.
    pub rounds: Vec<RoundMetrics>,
    /// The model of the last round.
    pub model: DynamicsModel,
    /// Every transition collected.
    pub data: Transitions,
}

/// The action box of a continuous environment.
fn action_box(env: &impl Env) -> (Array1<f64>, Array1<f64>) {
    match env.action_space() {
        Space::Box(bounds) => (
            bounds.low.iter().map(|&x| f64::from(x)).collect(),
            bounds.high.iter().map(|&x| f64::from(x)).collect(),
        ),
        other => panic!(
            "model_based: {} has the non-continuous action space {other:?}",
            env.id()
        ),
    }
}

/// Runs one episode of at most `steps` steps from `reset(seed)`, choosing each action with
/// `act`, appending every transition to `data`; returns the episode's return.
fn episode(
    env: &mut impl Env,
    seed: u64,
    steps: usize,
    data: &mut Transitions,
    mut act: impl FnMut(&Array1<f64>) -> Array1<f64>,
) -> f64 {
    let mut s: Array1<f64> = env
        .reset(Some(seed))
        .iter()
        .map(|&x| f64::from(x))
        .collect();
    let mut total = 0.0;
    for _ in 0..steps {
        let a = act(&s);
        let action: Vec<f32> = a.iter().map(|&x| x as f32).collect();
        let step = env
            .step(Action::Continuous(&action))
            .unwrap_or_else(|error| panic!("model_based: {} step failed: {error}", env.id()));
        let s_next: Array1<f64> = step.observation.iter().map(|&x| f64::from(x)).collect();
        data.push(&s, &a, &s_next);
        total += step.reward;
        s = s_next;
        if step.terminated || step.truncated {
            break;
        }
    }
    total
}

/// The whole loop of the module docs on `env` (continuous actions; its observation is the
/// state), with the task's cost `−r(s, a)` on batches of columns. Calls `on_round` after each
/// round.
///
/// ```no_run
/// use std::sync::Arc;
/// use wengert_control::model_based::{MbmpcConfig, pendulum_v1_cost, run};
/// use rl::env::Pendulum;
///
/// let result = run(&mut Pendulum::new(), Arc::new(pendulum_v1_cost), &MbmpcConfig::default(),
///     |metrics| println!("round {}: {:?}", metrics.round, metrics.returns));
/// assert_eq!(result.rounds.len(), 3);
/// ```
pub fn run<E: Env>(
    env: &mut E,
    cost: RunningCost,
    config: &MbmpcConfig,
    mut on_round: impl FnMut(&RoundMetrics),
) -> MbmpcResult {
    let n = env.observation_space().dim();
    let (lower, upper) = action_box(env);
    let m = lower.len();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut episode_seed = config.seed;
    let mut next_seed = || {
        episode_seed += 1;
        episode_seed
    };

    let mut data = Transitions::new(n, m);
    let random_returns = (0..config.random_episodes)
        .map(|_| {
            let seed = next_seed();
            episode(env, seed, config.episode_length, &mut data, |_| {
                (0..m)
                    .map(|i| rng.random_range(lower[i]..upper[i]))
                    .collect()
            })
        })
        .collect();

    let mut model = DynamicsModel::new(n, m, &config.hidden, config.seed);
    let mut adam = Adam::new(
        model.store.trainable(),
        AdamConfig {
            lr: config.learning_rate,
            ..AdamConfig::default()
        },
    );
    let mut rounds = Vec::new();
    for round in 1..=config.rounds {
        let report = fit(
            &mut model,
            &mut adam,
            &data,
            config.epochs,
            config.batch_size,
            config.validation_every,
            config.seed.wrapping_add(round as u64),
        );
        let transitions = data.len();
        let problem = learned_problem(
            Arc::new(model.clone()),
            cost.clone(),
            config.horizon,
            lower.clone(),
            upper.clone(),
        );
        let mut planner = CrossEntropyMethod::new(
            problem,
            CemOptions {
                samples: config.population,
                elites: config.elites,
                iterations: config.iterations,
                seed: config.seed.wrapping_add(round as u64),
                ..CemOptions::default()
            },
        );
        let returns = (0..config.episodes_per_round)
            .map(|_| {
                planner.reset();
                let seed = next_seed();
                episode(env, seed, config.episode_length, &mut data, |s| {
                    planner.plan(s)
                })
            })
            .collect();
        let metrics = RoundMetrics {
            round,
            transitions,
            training_loss: report.training_loss,
            validation_loss: report.validation_loss,
            returns,
        };
        on_round(&metrics);
        rounds.push(metrics);
    }
    MbmpcResult {
        random_returns,
        rounds,
        model,
        data,
    }
}

/// A deterministic policy squashed into the action box `[lower, upper]`:
/// `π_θ(s) = c + h ∘ tanh(g_θ(s))` with `c`, `h` the box's centre and half-width and `g_θ` an
/// MLP (tanh hidden layers), states and actions batched as columns.
///
/// ```
/// use ndarray::array;
/// use wengert_control::model_based::ModelPolicy;
/// let policy = ModelPolicy::new(2, &[8], array![-1.0], array![3.0], 0);
/// let a = policy.act(&array![0.5, -0.5]);
/// assert!(a[0] > -1.0 && a[0] < 3.0);
/// ```
#[derive(Clone)]
pub struct ModelPolicy {
    /// `g_θ`, from `n` inputs to `m` outputs.
    pub network: Mlp,
    /// `θ`, under the name `policy`.
    pub store: ParamStore<f64>,
    /// Lower corner of the action box.
    pub lower: Array1<f64>,
    /// Upper corner of the action box.
    pub upper: Array1<f64>,
}

impl std::fmt::Debug for ModelPolicy {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ModelPolicy")
            .field("network", &self.network)
            .field("lower", &self.lower)
            .field("upper", &self.upper)
            .finish_non_exhaustive()
    }
}

impl ModelPolicy {
    /// A policy for `n`-dimensional states with hidden layers of the given widths, its output
    /// layer initialised near zero (so it starts at the box's centre), from `seed`.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::model_based::ModelPolicy;
    /// let policy = ModelPolicy::new(3, &[16, 16], array![-2.0], array![2.0], 1);
    /// assert_eq!(policy.network.layers.len(), 3);
    /// ```
    pub fn new(
        n: usize,
        hidden: &[usize],
        lower: Array1<f64>,
        upper: Array1<f64>,
        seed: u64,
    ) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut store = ParamStore::<f64>::new();
        let sizes: Vec<usize> = std::iter::once(n)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(lower.len()))
            .collect();
        let network = Mlp::builder(&sizes)
            .activation(Activation::Tanh)
            .output_init(nn::Init::Uniform {
                low: -1e-3,
                high: 1e-3,
            })
            .build(&mut store.root().sub("policy"), &mut rng);
        ModelPolicy {
            network,
            store,
            lower,
            upper,
        }
    }

    /// `π_θ(s)` on autograd variables: states `s` (`n × B`) to actions (`m × B`).
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use ndarray::array;
    /// use wengert_control::model_based::ModelPolicy;
    /// let policy = ModelPolicy::new(2, &[4], array![-1.0], array![1.0], 0);
    /// let a = policy.action(&policy.store.constants(), &Var::constant(array![[0.0, 1.0], [1.0, 0.0]]));
    /// assert_eq!(a.shape(), &[1, 2]);
    /// ```
    pub fn action(&self, theta: &Bound<'_, f64>, s: &Var<f64>) -> Var<f64> {
        let centre = (&self.lower + &self.upper) * 0.5;
        let half_width = (&self.upper - &self.lower) * 0.5;
        let g = self.network.forward(theta, &s.t()).t();
        g.tanh() * column(&half_width) + column(&centre)
    }

    /// `π_θ(s)` for one state, recording nothing.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::model_based::ModelPolicy;
    /// let policy = ModelPolicy::new(1, &[4], array![-1.0], array![1.0], 0);
    /// assert_eq!(policy.act(&array![0.3]).len(), 1);
    /// ```
    pub fn act(&self, s: &Array1<f64>) -> Array1<f64> {
        let a = self.action(
            &self.store.constants(),
            &Var::constant(s.view().insert_axis(Axis(1)).to_owned()),
        );
        a.value().iter().copied().collect()
    }
}

/// `J(θ) = (1/B) Σ_b [Σ_{t=0}^{H−1} ℓ(ŝ_t, π_θ(ŝ_t)) + ℓ_T(ŝ_H)]` with
/// `ŝ_{t+1} = f̂_φ(ŝ_t, π_θ(ŝ_t))` from the `B` start states `s_0` (columns), `ℓ_T(s) = ℓ(s, 0)`:
/// the policy's cost over `H` steps of the learned model, differentiable in the bound `θ`
/// (the model is held fixed).
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::model_based::{DynamicsModel, ModelPolicy, model_rollout_cost};
///
/// let model = DynamicsModel::new(1, 1, &[4], 0);
/// let policy = ModelPolicy::new(1, &[4], array![-1.0], array![1.0], 0);
/// let cost = |s: &Var<f64>, a: &Var<f64>| (s.powi(2) + a.powi(2)).sum(&[0], false);
/// let tape = Tape::new();
/// let theta = policy.store.bind(&tape);
/// let J = model_rollout_cost(&model, &policy, &theta, &cost, &array![[1.0, -1.0]], 5);
/// assert!(J.item() > 0.0);
/// assert_eq!(theta.gradients(&J).iter().count(), 4); // ∇_θ J reaches every parameter
/// ```
pub fn model_rollout_cost(
    model: &DynamicsModel,
    policy: &ModelPolicy,
    theta: &Bound<'_, f64>,
    cost: impl Fn(&Var<f64>, &Var<f64>) -> Var<f64>,
    s_0: &Array2<f64>,
    horizon: usize,
) -> Var<f64> {
    let phi = model.store.constants();
    let mut s = Var::constant(s_0.clone());
    let mut J = Var::constant(Array1::<f64>::zeros(s_0.ncols()));
    for _ in 0..horizon {
        let a = policy.action(theta, &s);
        J = J + cost(&s, &a);
        s = model.next_state(&phi, &s, &a);
    }
    let no_action = Var::constant(Array2::<f64>::zeros((model.m, s_0.ncols())));
    (J + cost(&s, &no_action)).mean_all()
}

/// Settings of [`train_policy_through_model`], with their defaults.
///
/// ```
/// use wengert_control::model_based::PolicyGradientConfig;
/// assert_eq!(PolicyGradientConfig::default().horizon, 30);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyGradientConfig {
    /// Widths of `g_θ`'s hidden layers (default `[32]`).
    pub hidden: Vec<usize>,
    /// Adam's learning rate (default `3e-3`).
    pub learning_rate: f64,
    /// Rollout horizon `H` (default 30).
    pub horizon: usize,
    /// Start states per gradient step, drawn from the given ones (default 64).
    pub batch_size: usize,
    /// Gradient steps (default 300).
    pub steps: usize,
    /// Global-norm clip of `∇_θ J`, against the exploding gradients of long rollouts
    /// (default 10).
    pub max_gradient_norm: f64,
    /// Seed of the policy's initialisation and the start-state batches (default 0).
    pub seed: u64,
}

impl Default for PolicyGradientConfig {
    fn default() -> Self {
        PolicyGradientConfig {
            hidden: vec![32],
            learning_rate: 3e-3,
            horizon: 30,
            batch_size: 64,
            steps: 300,
            max_gradient_norm: 10.0,
            seed: 0,
        }
    }
}

/// Analytic policy gradient through the learned model: Adam on `∇_θ J(θ)`
/// ([`model_rollout_cost`]), each step from a minibatch of the start states (columns), the
/// gradient backpropagated through all `H` steps of `f̂_φ` and `π_θ`
/// (`∂J/∂θ` collects `∂ℓ/∂a · ∂a/∂θ` and, through `∂f̂/∂s` and `∂f̂/∂a`, every later step's
/// dependence on earlier actions). Returns the policy and `J` at every step.
///
/// The cost must be differentiable in the state and the action; [`pendulum_v1_cost`] is not in
/// the angle, so it does not serve here.
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use std::sync::Arc;
/// use wengert_control::model_based::{DynamicsModel, PolicyGradientConfig, train_policy_through_model};
///
/// let model = DynamicsModel::new(1, 1, &[4], 0);
/// let cost = Arc::new(|s: &Var<f64>, a: &Var<f64>| (s.powi(2) + a.powi(2) * 0.1).sum(&[0], false));
/// let config = PolicyGradientConfig { steps: 30, horizon: 5, learning_rate: 1e-2,
///     ..PolicyGradientConfig::default() };
/// // One start state, so every step's J is on the same rollout.
/// let (_, J) = train_policy_through_model(&model, cost, &array![[1.0]],
///     array![-1.0], array![1.0], &config);
/// assert!(J.last().unwrap() < &J[0]);
/// ```
pub fn train_policy_through_model(
    model: &DynamicsModel,
    cost: RunningCost,
    start_states: &Array2<f64>,
    lower: Array1<f64>,
    upper: Array1<f64>,
    config: &PolicyGradientConfig,
) -> (ModelPolicy, Vec<f64>) {
    let policy = ModelPolicy::new(model.n, &config.hidden, lower, upper, config.seed);
    let mut adam = Adam::new(
        policy.store.trainable(),
        AdamConfig {
            lr: config.learning_rate,
            ..AdamConfig::default()
        },
    );
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut history = Vec::with_capacity(config.steps);
    for _ in 0..config.steps {
        let batch: Vec<usize> = (0..config.batch_size)
            .map(|_| rng.random_range(0..start_states.ncols()))
            .collect();
        let s_0 = start_states.select(Axis(1), &batch);
        let tape = Tape::new();
        let theta = policy.store.bind(&tape);
        let J = model_rollout_cost(model, &policy, &theta, &*cost, &s_0, config.horizon);
        let mut gradients = theta.gradients(&J);
        let norm = gradients.global_norm();
        if norm > config.max_gradient_norm {
            gradients.scale(config.max_gradient_norm / norm);
        }
        adam.step(&policy.store, &gradients);
        history.push(J.item());
    }
    (policy, history)
}

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::gradcheck;
    use ndarray::array;
    use nn::ParamId;
    use rl::env::Pendulum;

    #[test]
    fn predicting_the_mean_change_gives_back_the_state_plus_the_mean() {
        let mut model = DynamicsModel::new(2, 1, &[8], 3);
        model.normalisation = Normalisation {
            input_mean: array![0.5, -1.0, 0.2],
            input_std: array![2.0, 0.5, 3.0],
            delta_mean: array![0.25, -0.75],
            delta_std: array![4.0, 0.1],
        };
        // Zero output layer: Δ_φ ≡ 0, i.e. the normalised change predicted is the mean's.
        let output = model.network.layers.last().expect("a layer");
        let zeros = |id| {
            let shape = model.store.value(id).shape().to_vec();
            model.store.set(id, ndarray::ArrayD::<f64>::zeros(shape));
        };
        zeros(output.weight);
        zeros(output.bias.expect("a bias"));
        let s = array![[1.0, -3.0, 0.0], [2.0, 4.0, 0.5]];
        let a = array![[0.3, -0.7, 1.0]];
        let expected = &s + &array![[0.25], [-0.75]];
        let s_next = model.predict(&s, &a);
        assert!(
            (&s_next - &expected).iter().all(|e| e.abs() < 1e-12),
            "{s_next}"
        );
        // And the loss of data whose change is exactly the mean is zero.
        let loss = model
            .loss(&model.store.constants(), &s, &a, &expected)
            .item();
        assert!(loss < 1e-20, "{loss}");
    }

    #[test]
    fn gradients_through_the_model_and_of_its_loss_pass_gradcheck() {
        let mut model = DynamicsModel::new(2, 1, &[5], 4);
        model.normalisation = Normalisation {
            input_mean: array![0.1, -0.2, 0.3],
            input_std: array![1.5, 0.7, 2.0],
            delta_mean: array![0.05, -0.1],
            delta_std: array![0.3, 2.0],
        };
        let s = array![[0.3, -0.2, 1.4], [1.1, 0.4, -0.6]];
        let a = array![[0.5, -0.9, 0.2]];
        // Through f̂ in s and a: what a planner or a policy gradient differentiates.
        gradcheck(
            |v| model.next_state(&model.store.constants(), &v[0], &v[1]),
            &[
                s.clone().into_dyn().into_shared(),
                a.clone().into_dyn().into_shared(),
            ],
        )
        .unwrap();
        // L in φ: what fit differentiates.
        let s_next = &s + &array![[0.2, -0.1, 0.0], [0.5, 1.0, -2.0]];
        let ids: Vec<ParamId> = model.store.trainable().collect();
        let phi: Vec<_> = ids.iter().map(|&id| model.store.value(id)).collect();
        gradcheck(
            |v| {
                let bound = model
                    .store
                    .bind_with(ids.iter().copied().zip(v.iter().cloned()));
                model.loss(&bound, &s, &a, &s_next)
            },
            &phi,
        )
        .unwrap();
    }

    #[test]
    fn the_model_learns_a_linear_system() {
        // s' = A s + B a with a stable, coupled A.
        let A = array![[0.9, 0.2], [-0.1, 0.95]];
        let B = array![[0.0], [0.5]];
        let mut rng = StdRng::seed_from_u64(11);
        let mut draw = |len: usize| {
            let mut data = Transitions::new(2, 1);
            for _ in 0..len {
                let s = array![rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0)];
                let a = array![rng.random_range(-1.0..1.0)];
                data.push(&s, &a, &(A.dot(&s) + B.dot(&a)));
            }
            data
        };
        let (data, held_out) = (draw(2000), draw(500));
        let mut model = DynamicsModel::new(2, 1, &[32, 32], 0);
        let mut adam = Adam::new(
            model.store.trainable(),
            AdamConfig {
                lr: 3e-3,
                ..AdamConfig::default()
            },
        );
        let report = fit(&mut model, &mut adam, &data, 30, 64, 10, 0);
        let all: Vec<usize> = (0..held_out.len()).collect();
        let (s, a, s_next) = held_out.columns(&all);
        let error = &model.predict(&s, &a) - &s_next;
        let rms = (error.mapv(|e| e * e).mean().expect("not empty")).sqrt();
        // The changes Δ have a standard deviation of about 0.3 per component.
        println!("{report:?}, held-out RMS one-step error {rms:.5}");
        assert!(rms < 0.01, "held-out RMS one-step error {rms}");
        assert!(report.validation_loss < 1e-3, "{report:?}");
    }

    #[test]
    fn a_policy_trained_through_a_learned_linear_model_nears_lqr() {
        // Double integrator, dt = 0.1; cost ½(sᵀ Q s + aᵀ R a), Q = I, R = 0.1.
        let A = array![[1.0, 0.1], [0.0, 1.0]];
        let B = array![[0.005], [0.1]];
        let (Q, R) = (Array2::<f64>::eye(2), array![[0.1]]);
        let mut rng = StdRng::seed_from_u64(5);
        let mut data = Transitions::new(2, 1);
        for _ in 0..2000 {
            let s = array![rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0)];
            let a = array![rng.random_range(-5.0..5.0)];
            data.push(&s, &a, &(A.dot(&s) + B.dot(&a)));
        }
        let mut model = DynamicsModel::new(2, 1, &[32, 32], 0);
        let mut adam = Adam::new(
            model.store.trainable(),
            AdamConfig {
                lr: 3e-3,
                ..AdamConfig::default()
            },
        );
        fit(&mut model, &mut adam, &data, 30, 64, 10, 0);

        let cost: RunningCost = Arc::new(|s: &Var<f64>, a: &Var<f64>| {
            (s.powi(2).sum(&[0], false) + a.powi(2).sum(&[0], false) * 0.1) * 0.5
        });
        let starts = Array2::from_shape_fn((2, 256), |_| rng.random_range(-1.0..1.0));
        let config = PolicyGradientConfig::default();
        let (policy, J) =
            train_policy_through_model(&model, cost, &starts, array![-5.0], array![5.0], &config);

        // Each controller's cost over H steps of the true system, from held-out starts.
        let true_cost = |control: &dyn Fn(&Array1<f64>) -> Array1<f64>| {
            let mut total = 0.0;
            for b in 0..64 {
                let mut s = array![(b as f64 * 0.37).sin(), (b as f64 * 0.91).cos()];
                for _ in 0..config.horizon {
                    let a = control(&s);
                    total += 0.5 * (s.dot(&Q.dot(&s)) + a.dot(&R.dot(&a)));
                    s = A.dot(&s) + B.dot(&a);
                }
                total += 0.5 * s.dot(&Q.dot(&s));
            }
            total / 64.0
        };
        let K = crate::lqr::DareProblem::new(A.clone(), B.clone(), Q.clone(), R.clone())
            .unwrap()
            .solve(&crate::lqr::RiccatiOptions::default())
            .unwrap()
            .K;
        let lqr = true_cost(&|s| -K.dot(s));
        let idle = true_cost(&|_| array![0.0]);
        let learned = true_cost(&|s| policy.act(s));
        println!(
            "J on the model {:.3} → {:.3}; true cost: LQR {lqr:.3}, policy {learned:.3}, no action {idle:.3}",
            J[0],
            J.last().unwrap()
        );
        assert!(learned < 1.1 * lqr, "policy {learned} vs LQR {lqr}");
        assert!(learned < 0.7 * idle, "policy {learned} vs no action {idle}");
    }

    #[test]
    fn mpc_on_the_learned_model_beats_random_actions_on_pendulum_v1() {
        let config = MbmpcConfig {
            random_episodes: 5,
            rounds: 2,
            episodes_per_round: 2,
            ..MbmpcConfig::default()
        };
        let result = run(
            &mut Pendulum::new(),
            Arc::new(pendulum_v1_cost),
            &config,
            |metrics| println!("{metrics:?}"),
        );
        let random = result.random_returns.iter().sum::<f64>() / result.random_returns.len() as f64;
        let last = result.rounds.last().expect("a round").mean_return();
        println!("random {random:.1}, MPC on the learned model {last:.1}");
        assert!(random < -900.0, "random actions scored {random}");
        assert!(last >= -600.0, "MPC on the learned model scored {last}");
    }
}
