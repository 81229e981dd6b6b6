//! Prioritised experience replay (Schaul et al., 2016), proportional variant.

use super::replay::{oldest, saved_ring};
use super::{ActionShape, Batch, MinTree, ReplayBuffer, ReplayStorage, SumTree, Transition};
use crate::snapshot::{Resumable, StateError, TrainingState};
use ndarray::Array1;
use rand::RngExt;

/// A replay buffer that samples transition `i` with probability
///
/// `P(i) = p_i^α / Σ_k p_k^α`,  `p_i = |δ_i| + ε`,
///
/// `δ_i` the TD error of `i` when it was last trained on, and corrects the bias with
/// importance-sampling weights
///
/// `w_i = (N · P(i))^{−β} / max_j w_j`,  `max_j w_j = (N · P_min)^{−β}`,
///
/// `N` the number of stored transitions and `P_min` the smallest probability in the buffer.
/// `α` interpolates between uniform (`α = 0`) and greedy prioritisation; `β = 1` corrects the
/// bias fully, and is reached at the end of training by a [`BetaSchedule`]. Dividing by the
/// largest weight keeps `w_i ≤ 1`, so the weights only ever scale updates down.
///
/// A new transition gets the largest priority seen so far, so that it is trained on at least
/// once soon. A [`SumTree`] over `p_i^α` gives the total and inverts the cumulative sum in
/// `O(log N)`; a [`MinTree`] over `p_i^α` gives `P_min`. A minibatch of `B` is stratified: the
/// range `[0, Σ_k p_k^α)` is cut into `B` equal segments and one point is drawn uniformly in
/// each, then mapped to its transition by the sum tree.
///
/// ```
/// use rand::SeedableRng;
/// use wengert_rl::buffers::{ActionShape, PrioritizedReplay, ReplayStorage, Transition};
/// use wengert_rl::env::Action;
/// let mut replay = PrioritizedReplay::new(1000, 1, ActionShape::Discrete, 0.6, 1e-6);
/// for t in 0..100 {
///     let o = [t as f32];
///     replay.push(Transition::one_step(&o, Action::Discrete(0), 0.0, &o, false, 0.99));
/// }
/// let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(0);
/// let batch = replay.sample(32, 0.4, &mut rng);
/// // All priorities equal: uniform, every weight 1.
/// assert!(batch.weights.iter().all(|&w| (w - 1.0).abs() < 1e-12));
/// // A large TD error makes transition 7 the most likely, and its weight the smallest.
/// replay.update_priorities(&batch.indices, &vec![0.1; 32]);
/// replay.update_priorities(&[7], &[50.0]);
/// assert!(replay.probability(7) > 0.1);
/// ```
#[derive(Clone, Debug)]
pub struct PrioritizedReplay {
    storage: ReplayBuffer,
    /// `p_i^α` and their sums.
    sums: SumTree,
    /// `p_i^α` and their minima.
    minima: MinTree,
    /// `α`.
    alpha: f64,
    /// `ε`, which keeps every transition's probability positive.
    epsilon: f64,
    /// `max_i p_i` over every priority set so far, given to new transitions.
    max_priority: f64,
}

impl PrioritizedReplay {
    /// An empty buffer of `capacity` slots with prioritisation exponent `α` and priority floor
    /// `ε` (the paper uses `α = 0.6`, `β₀ = 0.4` for the proportional variant).
    ///
    /// ```
    /// use wengert_rl::buffers::{ActionShape, PrioritizedReplay};
    /// let replay = PrioritizedReplay::new(1 << 20, 4, ActionShape::Discrete, 0.6, 1e-6);
    /// assert_eq!((replay.capacity(), replay.len()), (1 << 20, 0));
    /// ```
    pub fn new(
        capacity: usize,
        observation_dim: usize,
        action_shape: ActionShape,
        alpha: f64,
        epsilon: f64,
    ) -> Self {
        assert!(alpha >= 0.0, "α = {alpha} must be non-negative");
        assert!(epsilon >= 0.0, "ε = {epsilon} must be non-negative");
        PrioritizedReplay {
            storage: ReplayBuffer::new(capacity, observation_dim, action_shape),
            sums: SumTree::new(capacity),
            minima: MinTree::new(capacity),
            alpha,
            epsilon,
            max_priority: 1.0,
        }
    }

    /// The number of slots.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, PrioritizedReplay};
    /// assert_eq!(PrioritizedReplay::new(8, 1, ActionShape::Discrete, 0.6, 1e-6).capacity(), 8);
    /// ```
    pub fn capacity(&self) -> usize {
        self.storage.capacity()
    }

    /// The number of stored transitions `N`.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, PrioritizedReplay, ReplayStorage, Transition};
    /// # use wengert_rl::env::Action;
    /// let mut replay = PrioritizedReplay::new(8, 1, ActionShape::Discrete, 0.6, 1e-6);
    /// replay.push(Transition::one_step(&[0.0], Action::Discrete(0), 0.0, &[0.0], false, 0.9));
    /// assert_eq!(replay.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.storage.len()
    }

    /// Whether nothing has been stored yet.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, PrioritizedReplay};
    /// assert!(PrioritizedReplay::new(8, 1, ActionShape::Discrete, 0.6, 1e-6).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.storage.is_empty()
    }

    /// The stored transitions, for reading them by slot.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, PrioritizedReplay, ReplayStorage, Transition};
    /// # use wengert_rl::env::Action;
    /// let mut replay = PrioritizedReplay::new(8, 1, ActionShape::Discrete, 0.6, 1e-6);
    /// replay.push(Transition::one_step(&[0.0], Action::Discrete(0), 2.5, &[0.0], false, 0.9));
    /// assert_eq!(replay.storage().gather(&[0]).rewards[0], 2.5);
    /// ```
    pub fn storage(&self) -> &ReplayBuffer {
        &self.storage
    }

    /// `P(i) = p_i^α / Σ_k p_k^α`.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, PrioritizedReplay, ReplayStorage, Transition};
    /// # use wengert_rl::env::Action;
    /// let mut replay = PrioritizedReplay::new(8, 1, ActionShape::Discrete, 1.0, 0.0);
    /// for _ in 0..2 {
    ///     replay.push(Transition::one_step(&[0.0], Action::Discrete(0), 0.0, &[0.0], false, 0.9));
    /// }
    /// replay.update_priorities(&[0, 1], &[-1.0, 3.0]);
    /// assert_eq!((replay.probability(0), replay.probability(1)), (0.25, 0.75));
    /// ```
    pub fn probability(&self, i: usize) -> f64 {
        self.sums.priority(i) / self.sums.total()
    }

    /// `B` transitions by stratified proportional sampling, with their importance weights
    /// `w_i = (N · P(i))^{−β} / max_j w_j` in [`Batch::weights`].
    ///
    /// ```
    /// use rand::SeedableRng;
    /// # use wengert_rl::buffers::{ActionShape, PrioritizedReplay, ReplayStorage, Transition};
    /// # use wengert_rl::env::Action;
    /// let mut replay = PrioritizedReplay::new(8, 1, ActionShape::Discrete, 1.0, 0.0);
    /// for _ in 0..2 {
    ///     replay.push(Transition::one_step(&[0.0], Action::Discrete(0), 0.0, &[0.0], false, 0.9));
    /// }
    /// replay.update_priorities(&[0, 1], &[1.0, 3.0]);
    /// let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(0);
    /// // Segments [0, 1) and [1, 2) of the total 4: the first always hits slot 0, the second slot 1.
    /// let batch = replay.sample(4, 1.0, &mut rng);
    /// assert_eq!(batch.indices, vec![0, 1, 1, 1]);
    /// // β = 1: w_i ∝ 1 / P(i), and the rarest transition gets weight 1.
    /// let expected = [1.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0];
    /// assert!(batch.weights.iter().zip(expected).all(|(w, e)| (w - e).abs() < 1e-12));
    /// ```
    pub fn sample<R: rand::Rng + ?Sized>(
        &self,
        batch_size: usize,
        beta: f64,
        rng: &mut R,
    ) -> Batch {
        assert!(!self.is_empty(), "cannot sample an empty replay buffer");
        let (indices, weights) =
            sample_proportional(&self.sums, &self.minima, self.len(), batch_size, beta, rng);
        let weights = Array1::from(weights);

        let mut batch = self.storage.gather(&indices);
        batch.weights = weights;
        batch
    }

    /// Sets `p_i = |δ_i| + ε` for each sampled slot `i` and its new TD error `δ_i`
    /// (the tree stores `p_i^α`).
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, PrioritizedReplay, ReplayStorage, Transition};
    /// # use wengert_rl::env::Action;
    /// let mut replay = PrioritizedReplay::new(8, 1, ActionShape::Discrete, 0.5, 0.0);
    /// for _ in 0..2 {
    ///     replay.push(Transition::one_step(&[0.0], Action::Discrete(0), 0.0, &[0.0], false, 0.9));
    /// }
    /// replay.update_priorities(&[0, 1], &[1.0, -9.0]);
    /// // p^α = 1 and 3.
    /// assert_eq!(replay.probability(1), 0.75);
    /// ```
    pub fn update_priorities(&mut self, indices: &[usize], td_errors: &[f64]) {
        assert_eq!(indices.len(), td_errors.len(), "one TD error per index");
        for (&i, &td_error) in indices.iter().zip(td_errors) {
            assert!(
                i < self.len(),
                "slot {i} out of the filled range 0..{}",
                self.len()
            );
            let priority = td_error.abs() + self.epsilon;
            self.max_priority = self.max_priority.max(priority);
            self.set_priority(i, priority);
        }
    }

    fn set_priority(&mut self, i: usize, priority: f64) {
        let scaled = priority.powf(self.alpha);
        self.sums.update(i, scaled);
        self.minima.update(i, scaled);
    }
}

impl ReplayStorage for PrioritizedReplay {
    /// Stores the transition with the largest priority seen so far, `p_i = max_k p_k`.
    fn push(&mut self, transition: Transition<'_>) -> usize {
        let slot = self.storage.push(transition);
        self.set_priority(slot, self.max_priority);
        slot
    }
}

// ANCHOR: prioritized_sample
/// `B` slots drawn in proportion to the leaves `p_i^α` of `sums` (stratified: one point
/// uniform in each of `B` equal segments of `[0, Σ_k p_k^α)`), and their importance weights
/// `w_i = (N · P(i))^{−β} / max_j w_j`, `max_j w_j = (N · P_min)^{−β}` with `P_min` from
/// `minima`, for `n = N` filled slots: the draw of [`PrioritizedReplay`] and of
/// [`SequenceReplay`](super::SequenceReplay).
pub(crate) fn sample_proportional<R: rand::Rng + ?Sized>(
    sums: &SumTree,
    minima: &MinTree,
    n: usize,
    batch_size: usize,
    beta: f64,
    rng: &mut R,
) -> (Vec<usize>, Vec<f64>) {
    let total = sums.total();
    let segment = total / batch_size as f64;
    let indices: Vec<usize> = (0..batch_size)
        .map(|k| {
            let u = (k as f64 + rng.random::<f64>()) * segment;
            sums.find(u)
        })
        .collect();
    let n = n as f64;
    let probability_min = minima.min() / total;
    let max_weight = (n * probability_min).powf(-beta);
    let weights = indices
        .iter()
        .map(|&i| (n * (sums.priority(i) / total)).powf(-beta) / max_weight)
        .collect();
    (indices, weights)
}
// ANCHOR_END: prioritized_sample

/// The importance-sampling exponent `β`, annealed linearly from `β₀` to 1 over `steps` steps
/// (Schaul et al., 2016, §3.4): `β(t) = β₀ + min(t / steps, 1) (1 − β₀)`.
///
/// ```
/// use wengert_rl::buffers::BetaSchedule;
/// let schedule = BetaSchedule { beta_0: 0.4, steps: 1000 };
/// assert_eq!(schedule.beta(0), 0.4);
/// assert!((schedule.beta(500) - 0.7).abs() < 1e-12);
/// assert_eq!(schedule.beta(5000), 1.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BetaSchedule {
    /// `β₀`, at step 0.
    pub beta_0: f64,
    /// The step from which `β = 1`.
    pub steps: usize,
}

impl BetaSchedule {
    /// `β` at step `t`.
    ///
    /// ```
    /// # use wengert_rl::buffers::BetaSchedule;
    /// assert_eq!(BetaSchedule { beta_0: 0.5, steps: 0 }.beta(0), 1.0);
    /// ```
    pub fn beta(&self, t: usize) -> f64 {
        if t >= self.steps {
            return 1.0;
        }
        let fraction = t as f64 / self.steps as f64;
        self.beta_0 + fraction * (1.0 - self.beta_0)
    }
}

/// The transitions (`name.storage`), both trees (`name.sums`, `name.minima`) and the largest
/// priority so far (`name.max_priority`).
impl Resumable for PrioritizedReplay {
    fn save(&self, name: &str, state: &mut TrainingState) {
        self.storage.save(&format!("{name}.storage"), state);
        self.sums.save(&format!("{name}.sums"), state);
        self.minima.save(&format!("{name}.minima"), state);
        state.put_f64(format!("{name}.max_priority"), vec![self.max_priority]);
    }

    /// A buffer with more slots than the saved one grows as [`ReplayBuffer`] does, its
    /// priorities moving with their transitions.
    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        let storage = format!("{name}.storage");
        self.storage.load(&storage, state)?;
        let key = format!("{storage}.position");
        let (position, n, saved_capacity) = saved_ring(state, &key, self.capacity())?;
        if saved_capacity == self.capacity() {
            self.sums.load(&format!("{name}.sums"), state)?;
            self.minima.load(&format!("{name}.minima"), state)?;
        } else {
            // the saved leaves p_i^α, oldest first, into the first slots
            let first = oldest(position, n, saved_capacity);
            let leaves = |tree: &str| -> Result<Vec<f64>, StateError> {
                let nodes = state.f64s(&format!("{name}.{tree}"), None)?;
                let mut leaves = nodes[nodes.len() / 2..][..n].to_vec();
                leaves.rotate_left(first);
                Ok(leaves)
            };
            for (i, (p, m)) in leaves("sums")?
                .into_iter()
                .zip(leaves("minima")?)
                .enumerate()
            {
                self.sums.update(i, p);
                self.minima.update(i, m);
            }
        }
        self.max_priority = state.f64s(&format!("{name}.max_priority"), Some(1))?[0];
        Ok(())
    }
}
