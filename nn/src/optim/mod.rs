//! Optimisers: first-order update rules with parameter groups, gradient transforms and
//! learning-rate schedules, and a natural-gradient method for small probabilistic models.
//!
//! A training step computes gradients with the store's binding, optionally transforms them,
//! and hands them to an [`Optimizer`], which writes new values into the store:
//!
//! ```
//! use ndarray::array;
//! use autograd::prelude::*;
//! use wengert_nn::ParamStore;
//! use wengert_nn::optim::{Optimizer, Sgd, SgdConfig};
//!
//! let mut store = ParamStore::<f64>::new();
//! let w = store.root().param("w", array![1.0, -2.0]);
//! let mut optimizer = Sgd::new(store.trainable(), SgdConfig { lr: 0.25, ..SgdConfig::default() });
//! for _ in 0..3 {
//!     let tape = Tape::new();
//!     let bound = store.bind(&tape);
//!     let loss = bound[w].powi(2).sum_all(); // ∇ = 2 w, so w ← w − 0.25 · 2 w = w / 2
//!     let grads = bound.gradients(&loss);
//!     optimizer.step(&store, &grads);
//! }
//! assert_eq!(store.value(w), array![0.125, -0.25].into_dyn().into_shared());
//! ```
//!
//! # Parameter groups
//!
//! Every first-order optimiser ([`Sgd`], [`Adam`], [`AdamW`], [`RmsProp`]) is a
//! [`FirstOrder`] optimiser: a list of [`ParamGroup`]s, each with its own parameters, its own
//! configuration (learning rate and every other option), and its own [`GradientTransform`]s,
//! which see all of the group's gradients before the update (global-norm clipping is one). A
//! per-layer learning rate is one line, `.with_group(ids, lr)`. Per-parameter state (momentum
//! buffers, moment estimates, step counts) is kept by [`ParamId`] and saved by name in
//! checkpoints (see [`crate::checkpoint`]).
//!
//! # Schedules
//!
//! [`LrSchedule`] gives the learning rate at step `t` from a group's initial learning rate;
//! [`LrSchedule::apply`] sets it on every group, as PyTorch's `scheduler.step()` does.

pub mod adam;
pub mod adamw;
pub mod conjugate_gradient;
pub mod natural_gradient;
pub mod rmsprop;
pub mod schedule;
pub mod sgd;
mod transform;

pub use adam::{Adam, AdamConfig, AdamRule, AdamState};
pub use adamw::{AdamW, AdamWConfig, AdamWRule};
pub use conjugate_gradient::{CgSolution, conjugate_gradient};
pub use natural_gradient::{
    FisherVectorProduct, NaturalDirection, NaturalGradient, NaturalGradientConfig, NaturalStep,
    NaturalStepInfo,
};
pub use rmsprop::{RmsProp, RmsPropConfig, RmsPropRule, RmsPropState};
pub use schedule::LrSchedule;
pub use sgd::{Sgd, SgdConfig, SgdRule, SgdState};
pub use transform::{ClipGlobalNorm, GradientTransform, clip_grad_norm};

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use autograd::{Float, SharedArray};
use ndarray::{ArrayD, ArrayViewD};

use crate::{ParamGradients, ParamId, ParamStore};

/// Something that updates a [`ParamStore`] from gradients.
pub trait Optimizer<T: Float> {
    /// One update of every parameter that has a gradient in `grads`.
    fn step(&mut self, store: &ParamStore<T>, grads: &ParamGradients<T>);

    /// The number of parameter groups.
    fn num_groups(&self) -> usize;

    /// The current learning rate of group `group`.
    fn lr(&self, group: usize) -> T;

    /// The learning rate group `group` was created with (what schedules scale).
    fn initial_lr(&self, group: usize) -> T;

    /// Sets the learning rate of group `group`.
    fn set_lr(&mut self, group: usize, lr: T);

    /// The per-parameter state as `(parameter name, key, value)` triples, e.g.
    /// `("policy.0.weight", "exp_avg", m)`; step counts are 0-dimensional arrays under `step`.
    fn state_dict(&self, store: &ParamStore<T>) -> Vec<(String, String, SharedArray<T>)>;

    /// Replaces the per-parameter state with `entries` (as [`Optimizer::state_dict`] gives
    /// them). All or nothing: on error the current state is kept.
    fn load_state_dict(
        &mut self,
        store: &ParamStore<T>,
        entries: &[(String, String, SharedArray<T>)],
    ) -> Result<(), StateError>;
}

/// Why optimiser state could not be loaded: names the parameter (and key) and the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateError {
    /// The parameter's name.
    pub param: String,
    /// The state key (`exp_avg`, `step`, …), if the problem is with one entry.
    pub key: Option<String>,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(
                f,
                "optimizer state `{}` of `{}`: {}",
                key, self.param, self.problem
            ),
            None => write!(f, "optimizer state of `{}`: {}", self.param, self.problem),
        }
    }
}

impl std::error::Error for StateError {}

/// A configuration with a learning rate (every first-order optimiser's config).
pub trait OptimizerConfig<T>: Clone {
    /// The learning rate γ.
    fn lr(&self) -> T;
    /// Sets the learning rate γ.
    fn set_lr(&mut self, lr: T);
}

/// One first-order update rule: its configuration, its per-parameter state, and the update
/// of one parameter tensor `θ` from its (transformed) gradient `g`.
pub trait UpdateRule<T: Float> {
    /// Hyperparameters (learning rate and options), one copy per group.
    type Config: OptimizerConfig<T> + fmt::Debug;
    /// What the rule remembers about one parameter between steps.
    type State: Clone + fmt::Debug;

    /// Checks a configuration, panicking with a message naming the bad option.
    fn validate(config: &Self::Config);

    /// The state before the first step, for a parameter shaped like `theta`.
    fn init_state(config: &Self::Config, theta: &ArrayD<T>) -> Self::State;

    /// `θ ← update(θ, g)`, advancing `state`.
    fn update(
        config: &Self::Config,
        state: &mut Self::State,
        theta: &mut ArrayD<T>,
        g: ArrayViewD<'_, T>,
    );

    /// The state as named arrays (PyTorch's keys: `step`, `exp_avg`, …).
    fn state_to_named(state: &Self::State) -> Vec<(&'static str, ArrayD<T>)>;

    /// The state from named arrays, for a parameter of shape `shape`.
    fn state_from_named(
        config: &Self::Config,
        shape: &[usize],
        named: &HashMap<&str, ArrayD<T>>,
    ) -> Result<Self::State, String>;
}

/// A set of parameters sharing one configuration and a list of gradient transforms.
pub struct ParamGroup<T, C> {
    /// The parameters this group updates.
    pub params: Vec<ParamId>,
    /// Learning rate and options.
    pub config: C,
    /// The learning rate the group was created with (schedules scale this).
    pub initial_lr: T,
    /// Applied in order to the group's gradients before each update.
    pub transforms: Vec<Box<dyn GradientTransform<T>>>,
}

impl<T: Float, C: OptimizerConfig<T>> ParamGroup<T, C> {
    /// A group of `params` with `config` and no transforms.
    pub fn new(params: impl IntoIterator<Item = ParamId>, config: C) -> Self {
        ParamGroup {
            params: params.into_iter().collect(),
            initial_lr: config.lr(),
            config,
            transforms: Vec::new(),
        }
    }

    /// Adds a gradient transform to this group.
    pub fn with_transform(mut self, transform: impl GradientTransform<T> + 'static) -> Self {
        self.transforms.push(Box::new(transform));
        self
    }
}

/// A first-order optimiser: parameter groups updated by the rule `R`.
///
/// [`Sgd`], [`Adam`], [`AdamW`] and [`RmsProp`] are this type with their rule.
pub struct FirstOrder<T, R: UpdateRule<T>>
where
    T: Float,
{
    groups: Vec<ParamGroup<T, R::Config>>,
    state: HashMap<ParamId, R::State>,
}

impl<T: Float, R: UpdateRule<T>> FirstOrder<T, R> {
    /// One group of `params` with `config`.
    ///
    /// # Panics
    /// If an option is out of range (as PyTorch raises `ValueError`).
    pub fn new(params: impl IntoIterator<Item = ParamId>, config: R::Config) -> Self {
        R::validate(&config);
        FirstOrder {
            groups: vec![ParamGroup::new(params, config)],
            state: HashMap::new(),
        }
    }

    /// Adds a group of `params` with the first group's options but learning rate `lr`
    /// (taking them out of any earlier group, so each parameter has one group).
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_nn::ParamStore;
    /// use wengert_nn::optim::{Adam, AdamConfig, Optimizer};
    /// let mut store = ParamStore::<f32>::new();
    /// let body = store.root().sub("body").param("w", array![1.0f32]);
    /// let head = store.root().sub("head").param("w", array![1.0f32]);
    /// let adam = Adam::new(store.trainable(), AdamConfig::default()).with_group([head], 1e-4);
    /// assert_eq!((adam.num_groups(), adam.lr(1)), (2, 1e-4));
    /// assert_eq!(adam.groups()[0].params, vec![body]);
    /// ```
    pub fn with_group(self, params: impl IntoIterator<Item = ParamId>, lr: T) -> Self {
        let mut config = self.groups[0].config.clone();
        config.set_lr(lr);
        self.with_param_group(ParamGroup::new(params, config))
    }

    /// Adds a group with its own configuration and transforms (taking its parameters out of
    /// any earlier group).
    pub fn with_param_group(mut self, group: ParamGroup<T, R::Config>) -> Self {
        R::validate(&group.config);
        for earlier in &mut self.groups {
            earlier.params.retain(|id| !group.params.contains(id));
        }
        self.groups.push(group);
        self
    }

    /// Adds a gradient transform to every group (e.g. global-norm clipping per group).
    pub fn with_transform<G>(mut self, transform: G) -> Self
    where
        G: GradientTransform<T> + Clone + 'static,
    {
        for group in &mut self.groups {
            group.transforms.push(Box::new(transform.clone()));
        }
        self
    }

    /// The parameter groups.
    pub fn groups(&self) -> &[ParamGroup<T, R::Config>] {
        &self.groups
    }

    /// The parameter groups, to change options between steps.
    pub fn groups_mut(&mut self) -> &mut [ParamGroup<T, R::Config>] {
        &mut self.groups
    }

    /// The state of one parameter (none before its first update).
    pub fn state(&self, id: ParamId) -> Option<&R::State> {
        self.state.get(&id)
    }
}

impl<T: Float, R: UpdateRule<T>> Optimizer<T> for FirstOrder<T, R> {
    fn step(&mut self, store: &ParamStore<T>, grads: &ParamGradients<T>) {
        for group in &mut self.groups {
            let mut group_grads = ParamGradients::from_pairs(
                store.len(),
                group
                    .params
                    .iter()
                    .filter_map(|&id| grads.get(id).map(|g| (id, g.clone()))),
            );
            for transform in &mut group.transforms {
                transform.transform(&mut group_grads);
            }
            for (id, g) in group_grads.iter() {
                let mut theta = store.value(id).into_owned();
                assert_eq!(
                    g.shape(),
                    theta.shape(),
                    "optimizer: the gradient of `{}` has the wrong shape",
                    store.name(id)
                );
                let state = self
                    .state
                    .entry(id)
                    .or_insert_with(|| R::init_state(&group.config, &theta));
                R::update(&group.config, state, &mut theta, g.view());
                store.set(id, theta);
            }
        }
    }

    fn num_groups(&self) -> usize {
        self.groups.len()
    }

    fn lr(&self, group: usize) -> T {
        self.groups[group].config.lr()
    }

    fn initial_lr(&self, group: usize) -> T {
        self.groups[group].initial_lr
    }

    fn set_lr(&mut self, group: usize, lr: T) {
        self.groups[group].config.set_lr(lr);
    }

    fn state_dict(&self, store: &ParamStore<T>) -> Vec<(String, String, SharedArray<T>)> {
        let mut ids: Vec<&ParamId> = self.state.keys().collect();
        ids.sort();
        ids.into_iter()
            .flat_map(|id| {
                R::state_to_named(&self.state[id])
                    .into_iter()
                    .map(move |(key, value)| {
                        (
                            store.name(*id).to_string(),
                            key.to_string(),
                            value.into_shared(),
                        )
                    })
            })
            .collect()
    }

    fn load_state_dict(
        &mut self,
        store: &ParamStore<T>,
        entries: &[(String, String, SharedArray<T>)],
    ) -> Result<(), StateError> {
        let mut by_param: HashMap<&str, HashMap<&str, ArrayD<T>>> = HashMap::new();
        for (param, key, value) in entries {
            by_param
                .entry(param.as_str())
                .or_default()
                .insert(key.as_str(), value.to_owned());
        }
        // In name order, so the error (if any) is the same every time.
        let mut by_param: Vec<_> = by_param.into_iter().collect();
        by_param.sort_by(|a, b| a.0.cmp(b.0));
        let mut state = HashMap::new();
        for (param, named) in &by_param {
            let error = |problem: String| StateError {
                param: param.to_string(),
                key: None,
                problem,
            };
            let id = store
                .id(param)
                .ok_or_else(|| error("no such parameter in the model".into()))?;
            let group = self
                .groups
                .iter()
                .find(|g| g.params.contains(&id))
                .ok_or_else(|| error("the parameter is in no group of this optimizer".into()))?;
            let shape = store.value(id).shape().to_vec();
            let s = R::state_from_named(&group.config, &shape, named).map_err(error)?;
            state.insert(id, s);
        }
        self.state = state;
        Ok(())
    }
}

/// Takes the array called `key` out of `named`, checking its shape.
fn named_array<T: Float>(
    named: &HashMap<&str, ArrayD<T>>,
    key: &str,
    shape: &[usize],
) -> Result<ArrayD<T>, String> {
    let value = named
        .get(key)
        .ok_or_else(|| format!("`{key}` is missing"))?;
    if value.shape() != shape {
        return Err(format!(
            "`{key}` has shape {:?} but the parameter has shape {:?}",
            value.shape(),
            shape
        ));
    }
    Ok(value.clone())
}

/// The step count stored under `step` (a 0-dimensional array, as PyTorch stores it).
fn named_step<T: Float>(named: &HashMap<&str, ArrayD<T>>) -> Result<u64, String> {
    let value = named.get("step").ok_or("`step` is missing")?;
    if value.len() != 1 {
        return Err(format!(
            "`step` has shape {:?}, expected a scalar",
            value.shape()
        ));
    }
    let step = value
        .iter()
        .next()
        .copied()
        .unwrap_or_else(T::zero)
        .as_f64();
    if step < 0.0 || step.fract() != 0.0 {
        return Err(format!("`step` is {step}, not a count"));
    }
    Ok(step as u64)
}

/// Rejects keys the rule does not know (a file from another optimiser).
fn known_keys<T>(named: &HashMap<&str, ArrayD<T>>, keys: &[&str]) -> Result<(), String> {
    match named.keys().find(|k| !keys.contains(k)) {
        Some(k) => Err(format!("unknown state `{k}` (expected {keys:?})")),
        None => Ok(()),
    }
}

fn step_array<T: Float>(step: u64) -> ArrayD<T> {
    ndarray::arr0(T::from_f64(step as f64)).into_dyn()
}

/// The elements of `a` in row-major order, as one slice: `a`'s own memory when it is
/// row-major, else a row-major copy.
///
/// The update rules run elementwise over slices, which the compiler vectorises, instead of
/// zipping arrays whose layouts may differ (a strided scalar loop). The engine hands out
/// gradients in their parameter's layout, so the copy is the rare case: a gradient built by
/// hand from a transposed view, say. Each element's arithmetic is unchanged.
fn row_major<'a, T: Float>(a: ArrayViewD<'a, T>) -> Cow<'a, [T]> {
    match a.to_slice() {
        Some(elements) => Cow::Borrowed(elements),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

/// The elements of `a` in row-major order, as one mutable slice, making `a` row-major first
/// if it is not (parameters and optimiser state are row-major unless loaded otherwise).
fn row_major_mut<T: Float>(a: &mut ArrayD<T>) -> &mut [T] {
    if !a.is_standard_layout() {
        *a = a.as_standard_layout().into_owned();
    }
    a.as_slice_mut()
        .expect("a standard-layout array is one slice")
}

#[cfg(test)]
mod tests {
    use ndarray::{Array, ShapeBuilder};

    use super::*;

    #[test]
    fn row_major_reads_any_layout_in_row_major_order() {
        for shape in [(3, 5), (37, 19), (64, 64), (1, 40)] {
            let column_major = Array::from_shape_fn(shape.f(), |(i, j)| (100 * i + j) as f32);
            let expected: Vec<f32> = column_major.iter().copied().collect();
            assert_eq!(&*row_major(column_major.view().into_dyn()), &expected[..]);
            let row_major_copy = column_major.as_standard_layout().into_owned().into_dyn();
            assert!(matches!(row_major(row_major_copy.view()), Cow::Borrowed(_)));
        }
        let strided = Array::from_shape_fn((4, 6, 2), |(i, j, k)| (i + 10 * j + 100 * k) as f64);
        let every_other = strided.slice(ndarray::s![.., ..;2, ..]).into_dyn();
        let expected: Vec<f64> = every_other.iter().copied().collect();
        assert_eq!(&*row_major(every_other), &expected[..]);
    }
}
