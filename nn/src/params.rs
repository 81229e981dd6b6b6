//! Named parameters and buffers, bound to a tape for one forward/backward pass.
//!
//! A [`ParamStore`] owns every parameter (trainable) and buffer (state such as BatchNorm's
//! running statistics) under a dotted name like `policy.0.weight`. Layers keep [`ParamId`]s
//! into it. Optimisers, checkpoints, target-network copies and Polyak averaging
//! `θ' ← τ θ + (1 − τ) θ'` all address the same entries by name.
//!
//! A training step binds the store to a fresh tape — [`ParamStore::bind`] makes each trainable
//! parameter a tracked leaf (a frozen one a constant) without copying its array — runs the
//! model, and asks the binding for the gradients of the loss:
//!
//! ```
//! use ndarray::array;
//! use autograd::prelude::*;
//! use wengert_nn::ParamStore;
//!
//! let mut store = ParamStore::<f64>::new();
//! let w = store.root().param("w", array![1.0, 2.0]);
//! let tape = Tape::new();
//! let bound = store.bind(&tape);
//! let loss = bound[w].powi(2).sum_all();
//! let grads = bound.gradients(&loss);
//! assert_eq!(grads[w], array![2.0, 4.0].into_dyn().into_shared());
//! ```

use std::collections::HashMap;
use std::ops::Index;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use autograd::{Float, IntoArray, SharedArray, Tape, Var};

/// The position of a parameter or buffer in its [`ParamStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(pub usize);

/// Whether an entry is trained by gradient descent or is state updated by the model itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Trained: receives gradients and optimiser updates (unless frozen).
    Parameter,
    /// State the model updates itself (e.g. BatchNorm's running mean); saved in checkpoints.
    Buffer,
}

struct Entry<T> {
    name: String,
    kind: Kind,
    frozen: bool,
    value: Mutex<SharedArray<T>>,
}

/// Every parameter and buffer of a model, by name, in creation order.
pub struct ParamStore<T> {
    entries: Vec<Entry<T>>,
    by_name: HashMap<String, ParamId>,
    training: AtomicBool,
}

impl<T: Float> Default for ParamStore<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float> Clone for ParamStore<T> {
    /// A deep copy (e.g. a target network): values are copied, not shared.
    fn clone(&self) -> Self {
        ParamStore {
            entries: self
                .entries
                .iter()
                .map(|e| Entry {
                    name: e.name.clone(),
                    kind: e.kind,
                    frozen: e.frozen,
                    value: Mutex::new(lock(&e.value).to_owned().into_shared()),
                })
                .collect(),
            by_name: self.by_name.clone(),
            training: AtomicBool::new(self.is_training()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<T: Float> ParamStore<T> {
    /// An empty store, in training mode.
    pub fn new() -> Self {
        ParamStore {
            entries: Vec::new(),
            by_name: HashMap::new(),
            training: AtomicBool::new(true),
        }
    }

    /// The root of the name hierarchy; `.sub("policy")` descends.
    pub fn root(&mut self) -> Path<'_, T> {
        Path {
            store: self,
            prefix: String::new(),
        }
    }

    /// Registers an entry under `name`.
    ///
    /// # Panics
    /// If the name is taken.
    pub fn add(&mut self, name: &str, kind: Kind, value: impl IntoArray<T>) -> ParamId {
        if self.by_name.contains_key(name) {
            panic!("parameter store: the name `{name}` is already taken");
        }
        let id = ParamId(self.entries.len());
        self.entries.push(Entry {
            name: name.to_string(),
            kind,
            frozen: false,
            value: Mutex::new(value.into_array()),
        });
        self.by_name.insert(name.to_string(), id);
        id
    }

    /// The number of entries (parameters and buffers).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All entry ids, in creation order.
    pub fn ids(&self) -> impl Iterator<Item = ParamId> + '_ {
        (0..self.entries.len()).map(ParamId)
    }

    /// The ids of trainable parameters (kind `Parameter`, not frozen).
    pub fn trainable(&self) -> impl Iterator<Item = ParamId> + '_ {
        self.ids().filter(|&id| self.is_trainable(id))
    }

    /// Whether `id` receives gradients and updates.
    pub fn is_trainable(&self, id: ParamId) -> bool {
        let e = &self.entries[id.0];
        e.kind == Kind::Parameter && !e.frozen
    }

    /// The entry called `name`.
    pub fn id(&self, name: &str) -> Option<ParamId> {
        self.by_name.get(name).copied()
    }

    /// The name of an entry.
    pub fn name(&self, id: ParamId) -> &str {
        &self.entries[id.0].name
    }

    /// The kind of an entry.
    pub fn kind(&self, id: ParamId) -> Kind {
        self.entries[id.0].kind
    }

    /// The current value of an entry (shared, no copy).
    pub fn value(&self, id: ParamId) -> SharedArray<T> {
        lock(&self.entries[id.0].value).clone()
    }

    /// Replaces the value of an entry.
    ///
    /// # Panics
    /// If the shape changes.
    pub fn set(&self, id: ParamId, value: impl IntoArray<T>) {
        let value = value.into_array();
        let mut slot = lock(&self.entries[id.0].value);
        if slot.shape() != value.shape() {
            panic!(
                "parameter store: `{}` has shape {:?}, cannot set a value of shape {:?}",
                self.entries[id.0].name,
                slot.shape(),
                value.shape()
            );
        }
        *slot = value;
    }

    /// Freezes (no gradient, no update) or unfreezes every parameter whose name starts with
    /// `prefix`; returns how many changed state.
    ///
    /// ```
    /// use wengert_nn::ParamStore;
    /// let mut store = ParamStore::<f32>::new();
    /// let w = store.root().sub("encoder").param("w", ndarray::arr1(&[1.0f32]));
    /// assert_eq!(store.freeze("encoder", true), 1);
    /// assert!(!store.is_trainable(w));
    /// ```
    pub fn freeze(&mut self, prefix: &str, frozen: bool) -> usize {
        let mut changed = 0;
        for e in &mut self.entries {
            if e.name.starts_with(prefix) && e.frozen != frozen {
                e.frozen = frozen;
                changed += 1;
            }
        }
        changed
    }

    /// Switches the whole model between training mode (BatchNorm uses batch statistics and
    /// updates its running statistics) and evaluation mode (it uses the running statistics).
    pub fn set_training(&self, training: bool) {
        self.training.store(training, Ordering::Relaxed);
    }

    /// Whether the model is in training mode.
    pub fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }

    /// The number of trainable scalars.
    pub fn num_trainable(&self) -> usize {
        self.trainable().map(|id| self.value(id).len()).sum()
    }

    /// Binds every entry to `tape`: trainable parameters become tracked leaves, frozen
    /// parameters and buffers constants. No array is copied.
    pub fn bind(&self, tape: &Tape<T>) -> Bound<'_, T> {
        let vars = self
            .ids()
            .map(|id| {
                let value = self.value(id);
                if self.is_trainable(id) {
                    tape.var(value)
                } else {
                    Var::constant(value)
                }
            })
            .collect();
        Bound { store: self, vars }
    }

    /// Binds the trainable entries under `path` (named `path` or `path.…`) as tracked leaves
    /// and every other entry as a constant: the parameters of one network of several, so that
    /// losses that touch disjoint networks (an actor's and a critic's) can be differentiated
    /// on separate tapes, on separate threads. [`Bound::gradients`] then holds only these
    /// parameters' gradients.
    ///
    /// ```
    /// use ndarray::array;
    /// use autograd::prelude::*;
    /// use wengert_nn::ParamStore;
    ///
    /// let mut store = ParamStore::<f64>::new();
    /// let a = store.root().sub("actor").param("w", array![1.0, 2.0]);
    /// let c = store.root().sub("critic").param("w", array![3.0]);
    /// let tape = Tape::new();
    /// let bound = store.bind_under(&tape, "actor");
    /// let loss = (bound[a].sum_all() * bound[c].sum_all()).sum_all(); // 3 (a₀ + a₁)
    /// let grads = bound.gradients(&loss);
    /// assert_eq!(grads[a], array![3.0, 3.0].into_dyn().into_shared());
    /// assert!(grads.get(c).is_none());
    /// ```
    pub fn bind_under(&self, tape: &Tape<T>, path: &str) -> Bound<'_, T> {
        let under = |name: &str| {
            name.strip_prefix(path)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        };
        let vars = self
            .ids()
            .map(|id| {
                let value = self.value(id);
                if self.is_trainable(id) && under(self.name(id)) {
                    tape.var(value)
                } else {
                    Var::constant(value)
                }
            })
            .collect();
        Bound { store: self, vars }
    }

    /// Binds every entry as a constant: a forward pass that records nothing (e.g. acting in
    /// a worker thread).
    pub fn constants(&self) -> Bound<'_, T> {
        let vars = self.ids().map(|id| Var::constant(self.value(id))).collect();
        Bound { store: self, vars }
    }

    /// Binds every entry as a constant except the given ones, which are replaced by the given
    /// variables: a model evaluated at other parameter values (gradient checks, a line search
    /// over candidate parameters, functional updates).
    ///
    /// ```
    /// use ndarray::array;
    /// use autograd::prelude::*;
    /// use wengert_nn::ParamStore;
    /// let mut store = ParamStore::<f64>::new();
    /// let w = store.root().param("w", array![1.0]);
    /// let tape = Tape::new();
    /// let candidate = tape.var(array![3.0]);
    /// let bound = store.bind_with([(w, candidate.clone())]);
    /// assert_eq!(bound[w].value()[0], 3.0);
    /// ```
    ///
    /// # Panics
    /// If a replacement's shape differs from the entry's.
    pub fn bind_with(
        &self,
        overrides: impl IntoIterator<Item = (ParamId, Var<T>)>,
    ) -> Bound<'_, T> {
        let mut bound = self.constants();
        for (id, var) in overrides {
            let expected = self.value(id);
            if var.value().shape() != expected.shape() {
                panic!(
                    "bind_with: `{}` has shape {:?}, the replacement {:?}",
                    self.name(id),
                    expected.shape(),
                    var.value().shape()
                );
            }
            bound.vars[id.0] = var;
        }
        bound
    }

    /// Copies every value from `source`, matched by name (a hard target-network update). The
    /// old values are overwritten, not averaged, so even a NaN in them does not survive.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_nn::ParamStore;
    /// let mut online = ParamStore::<f64>::new();
    /// let w = online.root().param("w", array![1.0, 2.0]);
    /// let target = online.clone();
    /// target.set(w, array![f64::NAN, 0.0]);
    /// target.copy_from(&online);
    /// assert_eq!(target.value(w), online.value(w));
    /// ```
    ///
    /// # Panics
    /// If a name is missing from `source` or a shape differs.
    pub fn copy_from(&self, source: &ParamStore<T>) {
        self.polyak_from(source, T::one());
    }

    /// Polyak averaging `θ' ← τ θ + (1 − τ) θ'` of every entry, `θ` from `source` by name.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_nn::ParamStore;
    /// let mut online = ParamStore::<f64>::new();
    /// let w = online.root().param("w", array![1.0, 2.0]);
    /// let target = online.clone();
    /// online.set(w, array![3.0, 6.0]);
    /// target.polyak_from(&online, 0.25);
    /// assert_eq!(target.value(w), array![1.5, 3.0].into_dyn().into_shared());
    /// ```
    pub fn polyak_from(&self, source: &ParamStore<T>, tau: T) {
        for id in self.ids() {
            let name = self.name(id);
            let Some(source_id) = source.id(name) else {
                panic!("polyak update: `{name}` is missing from the source store");
            };
            let theta = source.value(source_id);
            let mut slot = lock(&self.entries[id.0].value);
            if slot.shape() != theta.shape() {
                panic!(
                    "polyak update: `{name}` has shape {:?} here but {:?} in the source",
                    slot.shape(),
                    theta.shape()
                );
            }
            if tau == T::one() {
                slot.assign(&theta);
                continue;
            }
            let keep = T::one() - tau;
            slot.zip_mut_with(&theta, |target, &online| {
                *target = tau * online + keep * *target
            });
        }
    }
}

/// A position in the name hierarchy, for registering entries.
pub struct Path<'s, T> {
    store: &'s mut ParamStore<T>,
    prefix: String,
}

impl<T: Float> Path<'_, T> {
    /// The path one level down: `policy` → `policy.0`.
    pub fn sub(&mut self, name: impl std::fmt::Display) -> Path<'_, T> {
        Path {
            prefix: self.qualify(&name.to_string()),
            store: self.store,
        }
    }

    /// Registers a trainable parameter `prefix.name`.
    pub fn param(&mut self, name: &str, value: impl IntoArray<T>) -> ParamId {
        let full = self.qualify(name);
        self.store.add(&full, Kind::Parameter, value)
    }

    /// Registers a buffer `prefix.name`.
    pub fn buffer(&mut self, name: &str, value: impl IntoArray<T>) -> ParamId {
        let full = self.qualify(name);
        self.store.add(&full, Kind::Buffer, value)
    }

    fn qualify(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }
}

/// The store's entries as variables on one tape.
pub struct Bound<'s, T> {
    store: &'s ParamStore<T>,
    vars: Vec<Var<T>>,
}

impl<T: Float> Index<ParamId> for Bound<'_, T> {
    type Output = Var<T>;

    fn index(&self, id: ParamId) -> &Var<T> {
        &self.vars[id.0]
    }
}

impl<'s, T: Float> Bound<'s, T> {
    /// The store this binding reads.
    pub fn store(&self) -> &'s ParamStore<T> {
        self.store
    }

    /// Whether the model is in training mode.
    pub fn is_training(&self) -> bool {
        self.store.is_training()
    }

    /// The trainable parameters' variables, in store order (for `grad_graph`, Hessian-vector
    /// and Fisher-vector products).
    pub fn trainable_vars(&self) -> Vec<&Var<T>> {
        self.store.trainable().map(|id| &self.vars[id.0]).collect()
    }

    /// The gradient of the single-element `loss` with respect to every trainable parameter
    /// bound as a tracked variable (all of them after [`ParamStore::bind`]).
    pub fn gradients(&self, loss: &Var<T>) -> ParamGradients<T> {
        let ids: Vec<ParamId> = self
            .store
            .trainable()
            .filter(|id| self.vars[id.0].is_tracked())
            .collect();
        let vars: Vec<&Var<T>> = ids.iter().map(|id| &self.vars[id.0]).collect();
        let values = autograd::grad(&[loss], &vars);
        let mut by_id = vec![None; self.store.len()];
        for (id, g) in ids.into_iter().zip(values) {
            by_id[id.0] = Some(g);
        }
        ParamGradients { by_id }
    }
}

/// Gradients of the trainable parameters, by [`ParamId`] (none for buffers and frozen ones).
#[derive(Clone, Debug)]
pub struct ParamGradients<T> {
    by_id: Vec<Option<SharedArray<T>>>,
}

impl<T: Float> ParamGradients<T> {
    /// Gradients from explicit `(id, gradient)` pairs, for a store of `len` entries.
    pub fn from_pairs(
        len: usize,
        pairs: impl IntoIterator<Item = (ParamId, SharedArray<T>)>,
    ) -> Self {
        let mut by_id = vec![None; len];
        for (id, g) in pairs {
            by_id[id.0] = Some(g);
        }
        ParamGradients { by_id }
    }

    /// The gradient of `id`, if it has one.
    pub fn get(&self, id: ParamId) -> Option<&SharedArray<T>> {
        self.by_id.get(id.0).and_then(Option::as_ref)
    }

    /// Replaces the gradient of `id`.
    pub fn set(&mut self, id: ParamId, gradient: SharedArray<T>) {
        self.by_id[id.0] = Some(gradient);
    }

    /// `(id, gradient)` for every parameter with a gradient.
    pub fn iter(&self) -> impl Iterator<Item = (ParamId, &SharedArray<T>)> {
        self.by_id
            .iter()
            .enumerate()
            .filter_map(|(i, g)| g.as_ref().map(|g| (ParamId(i), g)))
    }

    /// The global norm `√(Σ_i ‖g_i‖²)` over all gradients.
    ///
    /// Each `‖g_i‖²` is summed in memory order into 16 interleaved partial sums, so that the
    /// additions do not wait on one another and vectorise; the result differs from a
    /// one-accumulator sum only by round-off.
    pub fn global_norm(&self) -> T {
        self.iter()
            .map(|(_, g)| sum_of_squares(g))
            .sum::<T>()
            .sqrt()
    }

    /// Multiplies every gradient by `c`.
    pub fn scale(&mut self, c: T) {
        for g in self.by_id.iter_mut().flatten() {
            g.mapv_inplace(|v| v * c);
        }
    }

    /// Accumulates `other` into these gradients (sum), e.g. over micro-batches.
    pub fn accumulate(&mut self, other: &ParamGradients<T>) {
        for (id, g) in other.iter() {
            match &mut self.by_id[id.0] {
                Some(mine) => mine.zip_mut_with(g, |a, &b| *a += b),
                slot => *slot = Some(g.clone()),
            }
        }
    }
}

/// The number of independent partial sums in [`sum_of_squares`]: enough to hide the
/// latency of the additions with 4-wide (SSE) vectors.
const LANES: usize = 16;

/// `Σ x²` over the elements of `g`, in any order.
fn sum_of_squares<T: Float>(g: &SharedArray<T>) -> T {
    let Some(elements) = g.as_slice_memory_order() else {
        return g.iter().map(|&x| x * x).sum();
    };
    let mut partial_sums = [T::zero(); LANES];
    let chunks = elements.chunks_exact(LANES);
    let rest = chunks.remainder().iter().map(|&x| x * x).sum::<T>();
    for chunk in chunks {
        for (sum, &x) in partial_sums.iter_mut().zip(chunk) {
            *sum += x * x;
        }
    }
    partial_sums.into_iter().sum::<T>() + rest
}

impl<T: Float> Index<ParamId> for ParamGradients<T> {
    type Output = SharedArray<T>;

    fn index(&self, id: ParamId) -> &SharedArray<T> {
        self.get(id).unwrap_or_else(|| {
            panic!(
                "no gradient for parameter {}: it is a buffer, frozen, or unused",
                id.0
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use autograd::Tensor;
    use ndarray::{Array, ShapeBuilder};

    use super::*;

    #[test]
    fn global_norm_sums_every_element_of_every_layout() {
        let column_major = Array::from_shape_fn((37, 19).f(), |(i, j)| (i as f32 - j as f32) / 7.0);
        let short = Array::from_shape_fn(5, |i| i as f32 + 0.5);
        let mut every_other_row = Array::from_shape_fn((6, 4), |(i, j)| (i * j) as f32);
        every_other_row.slice_collapse(ndarray::s![..;2, ..]);
        assert!(every_other_row.as_slice_memory_order().is_none());
        let arrays = [
            column_major.into_dyn(),
            short.into_dyn(),
            every_other_row.into_dyn(),
        ];
        let expected = arrays
            .iter()
            .flat_map(|a| a.iter())
            .map(|&x| (x as f64).powi(2))
            .sum::<f64>()
            .sqrt();
        let pairs = arrays
            .into_iter()
            .enumerate()
            .map(|(i, a)| (ParamId(i), a.into_shared()));
        let norm = ParamGradients::from_pairs(3, pairs).global_norm();
        assert!(((norm as f64) - expected).abs() <= 1e-6 * expected);
    }

    /// Two networks' losses differentiated on two tapes (and threads) give, together, the
    /// gradient of their sum on one tape, bit for bit.
    #[test]
    fn gradients_of_disjoint_networks_on_two_tapes_add_up_to_the_whole() {
        let mut store = ParamStore::<f32>::new();
        let a = store.root().sub("actor").param(
            "w",
            Array::from_shape_fn((3, 2), |(i, j)| i as f32 - 0.3 * j as f32),
        );
        let frozen = store
            .root()
            .sub("actor")
            .param("frozen", ndarray::arr1(&[2.0f32]));
        let c = store
            .root()
            .sub("critic")
            .param("w", Array::from_shape_fn(3, |i| 0.5 + i as f32));
        // a sibling whose name merely starts with "actor" is not under the path `actor`
        let other = store
            .root()
            .sub("actors")
            .param("w", ndarray::arr1(&[1.5f32]));
        store.freeze("actor.frozen", true);
        let x = Var::constant(Array::from_shape_fn((4, 3), |(i, j)| {
            (i + 2 * j) as f32 / 5.0
        }));
        let actor_loss =
            |p: &Bound<'_, f32>| (x.matmul(&p[a]) * &p[frozen] * &p[other]).tanh().sum_all();
        let critic_loss = |p: &Bound<'_, f32>| x.matmul(&p[c]).powi(2).mean_all() * 0.5;

        let tape = Tape::new();
        let whole = store.bind(&tape);
        let expected = whole.gradients(&(actor_loss(&whole) + critic_loss(&whole)));
        assert!(expected.get(other).is_some());

        let (mut split, critic) = std::thread::scope(|scope| {
            let critic = scope.spawn(|| {
                let tape = Tape::new();
                let p = store.bind_under(&tape, "critic");
                p.gradients(&critic_loss(&p))
            });
            let tape = Tape::new();
            let p = store.bind_under(&tape, "actor");
            (p.gradients(&actor_loss(&p)), critic.join().unwrap())
        });
        assert!(split.get(c).is_none() && critic.get(a).is_none());
        split.accumulate(&critic);
        for id in [a, c] {
            assert_eq!(split[id], expected[id], "{}", store.name(id));
        }
        assert!(split.get(frozen).is_none() && split.get(other).is_none());
    }
}
