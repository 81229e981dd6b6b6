//! Backpropagation through the learned model into a policy: the policy, its cost over a
//! model rollout, and Adam on the gradient of that cost.

#![allow(non_snake_case)]

use super::dynamics::column;
use super::*;
use crate::ilqr::problem::RunningCost;
use autograd::{Tape, Tensor, Var};
use ndarray::{Array1, Array2, Axis};
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{Activation, Bound, Mlp, Module, ParamStore};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A deterministic policy squashed into the action box `[lower, upper]`:
/// `π_θ(s) = c + h ∘ tanh(g_θ((s − μ) / σ))` with `c`, `h` the box's centre and half-width,
/// `g_θ` an MLP (tanh hidden layers) and `μ`, `σ` a fixed input standardisation (`0`, `1` until
/// [`ModelPolicy::standardise_inputs`] sets them from data), states and actions batched as
/// columns.
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
    /// `μ`, subtracted from every input.
    pub input_mean: Array1<f64>,
    /// `σ`, dividing every centred input.
    pub input_std: Array1<f64>,
}

impl std::fmt::Debug for ModelPolicy {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ModelPolicy")
            .field("network", &self.network)
            .field("lower", &self.lower)
            .field("upper", &self.upper)
            .field("input_mean", &self.input_mean)
            .field("input_std", &self.input_std)
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
            input_mean: Array1::zeros(n),
            input_std: Array1::ones(n),
        }
    }

    /// Sets `μ` and `σ` to the mean and standard deviation of the states `s` (`n × D`, one per
    /// column); `σ` is floored at `1e-3` (`max |μ|`, 1) so that a constant input stays finite.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::model_based::ModelPolicy;
    /// let mut policy = ModelPolicy::new(1, &[4], array![-1.0], array![1.0], 0);
    /// policy.standardise_inputs(&array![[1.0, 3.0]]);
    /// assert_eq!((policy.input_mean[0], policy.input_std[0]), (2.0, 1.0));
    /// ```
    pub fn standardise_inputs(&mut self, s: &Array2<f64>) {
        assert_eq!(
            s.nrows(),
            self.input_mean.len(),
            "standardise_inputs: states of length {}, expected {}",
            s.nrows(),
            self.input_mean.len()
        );
        if s.ncols() == 0 {
            return;
        }
        self.input_mean = s.mean_axis(Axis(1)).expect("at least one state");
        let floor = 1e-3 * self.input_mean.iter().fold(1.0_f64, |a, b| a.max(b.abs()));
        self.input_std = s.std_axis(Axis(1), 0.0).mapv(|sigma| sigma.max(floor));
    }

    /// Re-standardises the inputs with the statistics of `s` (`n × D`, as
    /// [`ModelPolicy::standardise_inputs`]) *without changing the function*: the first layer
    /// absorbs the change of `(μ, σ)` to `(μ', σ')`,
    ///
    /// ```text
    /// W' = W diag(σ' / σ),   b' = b + W ((μ' − μ) / σ)
    /// ```
    ///
    /// so `W' (s − μ')/σ' + b' = W (s − μ)/σ + b` for every `s`. For a learner fitted further
    /// on data whose spread grows (DAgger's and PLATO's aggregated states): its inputs stay
    /// standardised while the fit continues from the same `π_θ`.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::model_based::ModelPolicy;
    /// let mut policy = ModelPolicy::new(2, &[8], array![-1.0], array![1.0], 0);
    /// policy.standardise_inputs(&array![[0.0, 1.0], [0.0, 0.5]]);
    /// let before = policy.act(&array![0.3, -4.0]);
    /// policy.restandardise_inputs(&array![[-5.0, 5.0, 1.0], [0.0, 8.0, -8.0]]);
    /// assert!((policy.act(&array![0.3, -4.0])[0] - before[0]).abs() < 1e-12);
    /// assert_eq!(policy.input_mean, array![1.0 / 3.0, 0.0]);
    /// ```
    pub fn restandardise_inputs(&mut self, s: &Array2<f64>) {
        let (mean, std) = (self.input_mean.clone(), self.input_std.clone());
        self.standardise_inputs(s);
        let first = &self.network.layers[0];
        let W = self
            .store
            .value(first.weight)
            .into_dimensionality::<ndarray::Ix2>()
            .expect("a linear layer's weight is a matrix")
            .to_owned();
        let shift = (&self.input_mean - &mean) / &std;
        let scale = &self.input_std / &std;
        self.store
            .set(first.weight, &W * &scale.view().insert_axis(Axis(0)));
        if let Some(bias) = first.bias {
            let b = self.store.value(bias).into_dimensionality::<ndarray::Ix1>();
            let b = b.expect("a linear layer's bias is a vector").to_owned();
            self.store.set(bias, b + W.dot(&shift));
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
        let standardised = (s - column(&self.input_mean)) / column(&self.input_std);
        let g = self.network.forward(theta, &standardised.t()).t();
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
