//! The uniform replay buffer: a ring of flat preallocated arrays.

use super::Transition;
use crate::env::{Action, VectorActions, VectorStep};
use crate::snapshot::{Resumable, StateError, TrainingState};
use ndarray::{Array1, Array2};
use rand::RngExt;

/// What an action looks like, fixed when a buffer is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionShape {
    /// An index `a ∈ {0, …, n−1}`.
    Discrete,
    /// A vector `a ∈ ℝ^d` of this dimension `d`.
    Continuous(usize),
}

/// The actions of a minibatch.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchActions {
    /// `B` indices.
    Discrete(Array1<usize>),
    /// `B × d`.
    Continuous(Array2<f32>),
}

/// A minibatch of `B` transitions `(o, a, R, o', terminated, γ^m)` (see the
/// [module doc](super)), with the slots they came from and their importance weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// `B × obs_dim`: `o`.
    pub observations: Array2<f32>,
    /// `a`.
    pub actions: BatchActions,
    /// `R`, the discounted sum of the `m` rewards after `o`.
    pub rewards: Array1<f64>,
    /// `B × obs_dim`: `o'`.
    pub next_observations: Array2<f32>,
    /// `o'` is terminal.
    pub terminated: Array1<bool>,
    /// `γ^m`, the discount of the bootstrap value.
    pub discounts: Array1<f64>,
    /// The slot of each row, for [`PrioritizedReplay::update_priorities`](super::PrioritizedReplay::update_priorities).
    pub indices: Vec<usize>,
    /// Importance-sampling weights `w_i`: all 1 for uniform sampling.
    pub weights: Array1<f64>,
}

impl Batch {
    /// The number of transitions `B`.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, ReplayBuffer, ReplayStorage, Transition};
    /// # use wengert_rl::env::Action;
    /// let mut buffer = ReplayBuffer::new(4, 1, ActionShape::Discrete);
    /// buffer.push(Transition::one_step(&[0.0], Action::Discrete(0), 1.0, &[1.0], false, 0.9));
    /// assert_eq!(buffer.gather(&[0, 0, 0]).len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the batch is empty.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, ReplayBuffer};
    /// assert!(ReplayBuffer::new(4, 1, ActionShape::Discrete).gather(&[]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// `γ^m (1 − terminated)`: the factor of the bootstrap value in the target
    /// `y = R + γ^m (1 − terminated) V̂(o')`.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, ReplayBuffer, ReplayStorage, Transition};
    /// # use wengert_rl::env::Action;
    /// let mut buffer = ReplayBuffer::new(4, 1, ActionShape::Discrete);
    /// buffer.push(Transition::one_step(&[0.0], Action::Discrete(0), 1.0, &[1.0], false, 0.9));
    /// buffer.push(Transition::one_step(&[1.0], Action::Discrete(1), 1.0, &[2.0], true, 0.9));
    /// assert_eq!(buffer.gather(&[0, 1]).bootstrap_factors().to_vec(), vec![0.9, 0.0]);
    /// ```
    pub fn bootstrap_factors(&self) -> Array1<f64> {
        Array1::from_iter(
            self.discounts
                .iter()
                .zip(&self.terminated)
                .map(|(&discount, &terminated)| if terminated { 0.0 } else { discount }),
        )
    }
}

/// Anything transitions can be pushed into: [`ReplayBuffer`] and
/// [`PrioritizedReplay`](super::PrioritizedReplay).
pub trait ReplayStorage {
    /// Stores one transition, overwriting the oldest when full, and returns its slot.
    fn push(&mut self, transition: Transition<'_>) -> usize;

    /// Stores the `N` 1-step transitions of one step of a [`VectorEnv`](crate::env::VectorEnv):
    /// copy `i` contributes `(observations[i], actions[i], rewards[i], final_observations[i],
    /// terminated[i], γ)`. `observations` are those the actions were chosen on (the previous
    /// step's `observations`); `o'` is always `final_observations[i]`, the observation before
    /// any auto-reset, so that a truncated step is bootstrapped from its true successor.
    ///
    /// ```
    /// use wengert_rl::buffers::{ActionShape, ReplayBuffer, ReplayStorage};
    /// use wengert_rl::env::{CartPole, TimeLimit, VectorActions, VectorEnv};
    /// let envs = (0..2).map(|_| TimeLimit::new(CartPole::default(), 500)).collect();
    /// let mut envs = VectorEnv::new(envs, 1).unwrap();
    /// let observations = envs.reset(Some(0));
    /// let step = envs.step(VectorActions::Discrete(&[0, 1])).unwrap();
    /// let mut buffer = ReplayBuffer::new(100, 4, ActionShape::Discrete);
    /// buffer.push_vector_step(&observations, VectorActions::Discrete(&[0, 1]), &step, 0.99);
    /// assert_eq!(buffer.len(), 2);
    /// ```
    fn push_vector_step(
        &mut self,
        observations: &Array2<f32>,
        actions: VectorActions<'_>,
        step: &VectorStep,
        gamma: f64,
    ) {
        let copies = observations.nrows();
        for i in 0..copies {
            let action = match actions {
                VectorActions::Discrete(actions) => Action::Discrete(actions[i]),
                VectorActions::Continuous(actions) => {
                    let dimension = actions.len() / copies;
                    Action::Continuous(&actions[i * dimension..(i + 1) * dimension])
                }
            };
            let observation = observations.row(i);
            let next_observation = step.final_observations.row(i);
            self.push(Transition::one_step(
                observation.as_slice().expect("observations are row-major"),
                action,
                step.rewards[i],
                next_observation
                    .as_slice()
                    .expect("observations are row-major"),
                step.terminated[i],
                gamma,
            ));
        }
    }
}

/// A column of actions in preallocated slots, shared by the ring and the n-step window.
#[derive(Clone, Debug)]
pub(super) enum StoredActions {
    Discrete(Vec<usize>),
    /// Row-major `slots × d`.
    Continuous {
        dimension: usize,
        values: Vec<f32>,
    },
}

impl StoredActions {
    pub(super) fn new(shape: ActionShape, slots: usize) -> Self {
        match shape {
            ActionShape::Discrete => StoredActions::Discrete(vec![0; slots]),
            ActionShape::Continuous(dimension) => StoredActions::Continuous {
                dimension,
                values: vec![0.0; slots * dimension],
            },
        }
    }

    pub(super) fn write(&mut self, slot: usize, action: Action<'_>) {
        match (self, action) {
            (StoredActions::Discrete(actions), Action::Discrete(action)) => actions[slot] = action,
            (StoredActions::Continuous { dimension, values }, Action::Continuous(action)) => {
                assert_eq!(action.len(), *dimension, "action dimension");
                values[slot * *dimension..(slot + 1) * *dimension].copy_from_slice(action);
            }
            (_, action) => panic!("action {action:?} does not match the buffer's action shape"),
        }
    }

    pub(super) fn read(&self, slot: usize) -> Action<'_> {
        match self {
            StoredActions::Discrete(actions) => Action::Discrete(actions[slot]),
            StoredActions::Continuous { dimension, values } => {
                Action::Continuous(&values[slot * dimension..(slot + 1) * dimension])
            }
        }
    }
}

/// A ring buffer of the last `capacity` transitions, sampled uniformly (see the
/// [module doc](super)).
///
/// ```
/// use rand::SeedableRng;
/// use wengert_rl::buffers::{ActionShape, ReplayBuffer, ReplayStorage, Transition};
/// use wengert_rl::env::Action;
/// let mut buffer = ReplayBuffer::new(1000, 2, ActionShape::Discrete);
/// for t in 0..10 {
///     let o = [t as f32, 0.0];
///     let next = [t as f32 + 1.0, 0.0];
///     buffer.push(Transition::one_step(&o, Action::Discrete(t % 2), 1.0, &next, t == 9, 0.99));
/// }
/// let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(0);
/// let batch = buffer.sample(32, &mut rng);
/// assert_eq!(batch.observations.dim(), (32, 2));
/// assert!(batch.indices.iter().all(|&i| i < 10));
/// // Every transition here is o → o + 1.
/// assert_eq!(batch.next_observations.column(0), &batch.observations.column(0) + 1.0);
/// ```
#[derive(Clone, Debug)]
pub struct ReplayBuffer {
    capacity: usize,
    observation_dim: usize,
    /// The slot the next push writes.
    position: usize,
    /// The number of filled slots `N ≤ capacity`.
    len: usize,
    /// Row-major `capacity × obs_dim`.
    observations: Vec<f32>,
    actions: StoredActions,
    rewards: Vec<f64>,
    /// Row-major `capacity × obs_dim`.
    next_observations: Vec<f32>,
    terminated: Vec<bool>,
    discounts: Vec<f64>,
}

impl ReplayBuffer {
    /// An empty buffer of `capacity` slots, all memory allocated now.
    ///
    /// ```
    /// use wengert_rl::buffers::{ActionShape, ReplayBuffer};
    /// let buffer = ReplayBuffer::new(1_000_000, 3, ActionShape::Continuous(1));
    /// assert_eq!((buffer.capacity(), buffer.len()), (1_000_000, 0));
    /// ```
    pub fn new(capacity: usize, observation_dim: usize, action_shape: ActionShape) -> Self {
        assert!(capacity > 0, "a replay buffer needs at least one slot");
        ReplayBuffer {
            capacity,
            observation_dim,
            position: 0,
            len: 0,
            observations: vec![0.0; capacity * observation_dim],
            actions: StoredActions::new(action_shape, capacity),
            rewards: vec![0.0; capacity],
            next_observations: vec![0.0; capacity * observation_dim],
            terminated: vec![false; capacity],
            discounts: vec![0.0; capacity],
        }
    }

    /// The number of slots.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, ReplayBuffer};
    /// assert_eq!(ReplayBuffer::new(8, 1, ActionShape::Discrete).capacity(), 8);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of stored transitions `N` (at most the capacity).
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, ReplayBuffer, ReplayStorage, Transition};
    /// # use wengert_rl::env::Action;
    /// let mut buffer = ReplayBuffer::new(2, 1, ActionShape::Discrete);
    /// for _ in 0..5 {
    ///     buffer.push(Transition::one_step(&[0.0], Action::Discrete(0), 0.0, &[0.0], false, 0.9));
    /// }
    /// assert_eq!(buffer.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been stored yet.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, ReplayBuffer};
    /// assert!(ReplayBuffer::new(8, 1, ActionShape::Discrete).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The length of an observation.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, ReplayBuffer};
    /// assert_eq!(ReplayBuffer::new(8, 4, ActionShape::Discrete).observation_dim(), 4);
    /// ```
    pub fn observation_dim(&self) -> usize {
        self.observation_dim
    }

    /// `B` transitions drawn uniformly with replacement from the filled slots, `P(i) = 1/N`.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// # use wengert_rl::buffers::{ActionShape, ReplayBuffer, ReplayStorage, Transition};
    /// # use wengert_rl::env::Action;
    /// let mut buffer = ReplayBuffer::new(8, 1, ActionShape::Discrete);
    /// buffer.push(Transition::one_step(&[0.0], Action::Discrete(3), 1.0, &[1.0], false, 0.9));
    /// let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(0);
    /// let batch = buffer.sample(4, &mut rng);
    /// assert_eq!(batch.indices, vec![0; 4]);
    /// assert_eq!(batch.weights.to_vec(), vec![1.0; 4]);
    /// ```
    pub fn sample<R: rand::Rng + ?Sized>(&self, batch_size: usize, rng: &mut R) -> Batch {
        assert!(!self.is_empty(), "cannot sample an empty replay buffer");
        let indices: Vec<usize> = (0..batch_size)
            .map(|_| rng.random_range(0..self.len))
            .collect();
        self.gather(&indices)
    }

    /// The transitions in the given slots, in order, with unit weights.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, BatchActions, ReplayBuffer, ReplayStorage, Transition};
    /// # use wengert_rl::env::Action;
    /// let mut buffer = ReplayBuffer::new(8, 1, ActionShape::Continuous(2));
    /// buffer.push(Transition::one_step(&[0.0], Action::Continuous(&[0.1, 0.2]), 1.0, &[1.0], false, 0.9));
    /// buffer.push(Transition::one_step(&[1.0], Action::Continuous(&[0.3, 0.4]), 2.0, &[2.0], true, 0.9));
    /// let batch = buffer.gather(&[1, 0]);
    /// assert_eq!(batch.rewards.to_vec(), vec![2.0, 1.0]);
    /// let BatchActions::Continuous(actions) = batch.actions else { unreachable!() };
    /// assert_eq!(actions.row(0).to_vec(), vec![0.3, 0.4]);
    /// ```
    pub fn gather(&self, indices: &[usize]) -> Batch {
        assert!(
            indices.iter().all(|&i| i < self.len),
            "slot out of the filled range 0..{}",
            self.len
        );
        let d = self.observation_dim;
        let rows = |source: &[f32]| {
            let mut values = Vec::with_capacity(indices.len() * d);
            for &i in indices {
                values.extend_from_slice(&source[i * d..(i + 1) * d]);
            }
            Array2::from_shape_vec((indices.len(), d), values).expect("B × obs_dim values")
        };
        let actions = match &self.actions {
            StoredActions::Discrete(actions) => {
                BatchActions::Discrete(indices.iter().map(|&i| actions[i]).collect())
            }
            StoredActions::Continuous { dimension, values } => {
                let mut batch = Vec::with_capacity(indices.len() * dimension);
                for &i in indices {
                    batch.extend_from_slice(&values[i * dimension..(i + 1) * dimension]);
                }
                BatchActions::Continuous(
                    Array2::from_shape_vec((indices.len(), *dimension), batch)
                        .expect("B × d actions"),
                )
            }
        };
        Batch {
            observations: rows(&self.observations),
            actions,
            rewards: indices.iter().map(|&i| self.rewards[i]).collect(),
            next_observations: rows(&self.next_observations),
            terminated: indices.iter().map(|&i| self.terminated[i]).collect(),
            discounts: indices.iter().map(|&i| self.discounts[i]).collect(),
            indices: indices.to_vec(),
            weights: Array1::ones(indices.len()),
        }
    }
}

impl ReplayStorage for ReplayBuffer {
    /// Writes slot `position` and advances it around the ring: the `k`-th push (from 0) lands
    /// in slot `k mod capacity`.
    fn push(&mut self, transition: Transition<'_>) -> usize {
        let d = self.observation_dim;
        assert_eq!(transition.observation.len(), d, "observation length");
        assert_eq!(
            transition.next_observation.len(),
            d,
            "next observation length"
        );
        let slot = self.position;
        self.observations[slot * d..(slot + 1) * d].copy_from_slice(transition.observation);
        self.next_observations[slot * d..(slot + 1) * d]
            .copy_from_slice(transition.next_observation);
        self.actions.write(slot, transition.action);
        self.rewards[slot] = transition.reward;
        self.terminated[slot] = transition.terminated;
        self.discounts[slot] = transition.discount;
        self.position = (slot + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
        slot
    }
}

impl StoredActions {
    /// Rotates the first `rows` actions left by `k`.
    fn rotate_left(&mut self, rows: usize, k: usize) {
        match self {
            StoredActions::Discrete(actions) => actions[..rows].rotate_left(k),
            StoredActions::Continuous { dimension, values } => {
                values[..rows * *dimension].rotate_left(k * *dimension)
            }
        }
    }

    /// The first `rows` actions as `name` (`u64` indices, or `f32` rows).
    pub(super) fn save(&self, name: &str, rows: usize, state: &mut TrainingState) {
        match self {
            StoredActions::Discrete(actions) => {
                state.put_u64(name, actions[..rows].iter().map(|&a| a as u64).collect())
            }
            StoredActions::Continuous { dimension, values } => state.put_f32(
                name,
                &[rows, *dimension],
                values[..rows * dimension].to_vec(),
            ),
        }
    }

    /// Restores `rows` actions saved by [`StoredActions::save`] into the first slots.
    pub(super) fn load(
        &mut self,
        name: &str,
        rows: usize,
        state: &TrainingState,
    ) -> Result<(), StateError> {
        match self {
            StoredActions::Discrete(actions) => {
                let saved = state.u64s(name, Some(rows))?;
                for (slot, a) in actions.iter_mut().zip(saved) {
                    *slot = a as usize;
                }
            }
            StoredActions::Continuous { dimension, values } => {
                let saved = state.f32s(name, Some(&[rows, *dimension]))?;
                values[..rows * *dimension]
                    .copy_from_slice(saved.as_slice().expect("standard layout"));
            }
        }
        Ok(())
    }
}

/// The filled slots of every column (`name.observations`, `name.actions`, …) and the ring's
/// position and length (`name.position`).
impl Resumable for ReplayBuffer {
    fn save(&self, name: &str, state: &mut TrainingState) {
        let (n, d) = (self.len, self.observation_dim);
        state.put_u64(
            format!("{name}.position"),
            vec![self.position as u64, n as u64, self.capacity as u64],
        );
        state.put_f32(
            format!("{name}.observations"),
            &[n, d],
            self.observations[..n * d].to_vec(),
        );
        self.actions.save(&format!("{name}.actions"), n, state);
        state.put_f64(format!("{name}.rewards"), self.rewards[..n].to_vec());
        state.put_f32(
            format!("{name}.next_observations"),
            &[n, d],
            self.next_observations[..n * d].to_vec(),
        );
        state.put_u64(
            format!("{name}.terminated"),
            self.terminated[..n].iter().map(|&t| t as u64).collect(),
        );
        state.put_f64(format!("{name}.discounts"), self.discounts[..n].to_vec());
    }

    /// A buffer with more slots than the saved one (a run resumed with a larger budget, whose
    /// buffer is `min(buffer_size, total_timesteps)`) takes the saved transitions oldest first
    /// into its first slots and continues after them: the buffer a run started with the
    /// larger budget would hold.
    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        let key = format!("{name}.position");
        let (position, n, saved_capacity) = saved_ring(state, &key, self.capacity)?;
        let d = self.observation_dim;
        if n > self.capacity || (saved_capacity == self.capacity && position >= self.capacity) {
            return Err(StateError::new(
                &key,
                format!(
                    "holds position {position} and length {n}, but the buffer has {} slots",
                    self.capacity
                ),
            ));
        }
        let observations = state.f32s(&format!("{name}.observations"), Some(&[n, d]))?;
        let next_observations = state.f32s(&format!("{name}.next_observations"), Some(&[n, d]))?;
        let rewards = state.f64s(&format!("{name}.rewards"), Some(n))?;
        let terminated = state.u64s(&format!("{name}.terminated"), Some(n))?;
        let discounts = state.f64s(&format!("{name}.discounts"), Some(n))?;
        self.actions.load(&format!("{name}.actions"), n, state)?;
        self.observations[..n * d]
            .copy_from_slice(observations.as_slice().expect("standard layout"));
        self.next_observations[..n * d]
            .copy_from_slice(next_observations.as_slice().expect("standard layout"));
        self.rewards[..n].copy_from_slice(&rewards);
        for (slot, t) in self.terminated.iter_mut().zip(terminated) {
            *slot = t == 1;
        }
        self.discounts[..n].copy_from_slice(&discounts);
        self.len = n;
        self.position = position;
        if saved_capacity != self.capacity {
            // oldest first: a full ring's oldest transition is at its position
            self.rotate_left(oldest(position, n, saved_capacity));
            self.position = n % self.capacity;
        }
        Ok(())
    }
}

/// `(position, length, capacity)` of a saved ring (`capacity` as now for a state saved without
/// it).
pub(super) fn saved_ring(
    state: &TrainingState,
    key: &str,
    capacity: usize,
) -> Result<(usize, usize, usize), StateError> {
    match state.u64s(key, None)?[..] {
        [position, n] => Ok((position as usize, n as usize, capacity)),
        [position, n, saved] => Ok((position as usize, n as usize, saved as usize)),
        ref other => Err(StateError::new(
            key,
            format!(
                "holds {} values, expected position, length and capacity",
                other.len()
            ),
        )),
    }
}

/// The slot of the oldest of `n` transitions in a ring of `capacity` slots whose next write goes
/// to `position`: that slot when the ring is full, else slot 0.
pub(super) fn oldest(position: usize, n: usize, capacity: usize) -> usize {
    if n == capacity {
        position % n.max(1)
    } else {
        0
    }
}

impl ReplayBuffer {
    /// Rotates the first `len` slots of every column left by `k` slots.
    fn rotate_left(&mut self, k: usize) {
        let (n, d) = (self.len, self.observation_dim);
        self.observations[..n * d].rotate_left(k * d);
        self.next_observations[..n * d].rotate_left(k * d);
        self.actions.rotate_left(n, k);
        self.rewards[..n].rotate_left(k);
        self.terminated[..n].rotate_left(k);
        self.discounts[..n].rotate_left(k);
    }
}
