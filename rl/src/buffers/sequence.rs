//! # Sequence replay (R2D2): fixed-length overlapping sequences with their recurrent state
//!
//! A recurrent learner replays *sequences*, not transitions. Every environment copy writes a
//! stream of **positions**; a [`SequenceWriter`] cuts it into sequences of `L` positions whose
//! starts are `period` positions apart (R2D2: `L = 80`, `period = 40`, so neighbours overlap by
//! `L − period`), and stores with each the actor's recurrent state `(h_0, c_0)` before its
//! first position. A position is
//!
//! ```text
//! (o_j, a_j, r_j, first_j, last_j, terminal_j)
//! ```
//!
//! - `o_j` the observation the actor read, `a_j` the action it took, `r_j` the reward that
//!   followed;
//! - `first_j`: `o_j` starts an episode. The learner's LSTM resets its state before reading it
//!   (the reset mask of [`nn::layers::recurrent`]), so no state crosses an episode boundary
//!   even though sequences do;
//! - `last_j`: `o_j` is an episode's final observation (Gymnasium's `final_observation`). No
//!   action was taken from it and it carries no loss; it is there so that a target can
//!   bootstrap from it when the episode was truncated, with the LSTM state that reached it;
//! - `terminal_j` (only with `last_j`): the episode terminated, so `o_j` has value 0.
//!
//! Sequences cross episode boundaries rather than being padded (the paper never lets them
//! cross; the reset mask makes crossing exact and wastes no slots).
//!
//! [`SequenceReplay`] keeps the last `capacity` sequences in flat arrays and samples them by
//! priority: R2D2's mixture over a sequence's TD errors ([`sequence_priority`])
//!
//! `p = η max_t |δ_t| + (1 − η) mean_t |δ_t|`,  `P(i) = p_i^α / Σ_k p_k^α`,
//! `w_i = (N P(i))^{−β} / max_j w_j`,
//!
//! through the same [`SumTree`]/[`MinTree`] and stratified draw as [`super::PrioritizedReplay`]
//! (`sample_proportional` in `prioritized.rs`).

use std::collections::VecDeque;

use ndarray::{Array1, Array2, Array3};

use super::prioritized::sample_proportional;
use super::{MinTree, SumTree};
use crate::snapshot::{Resumable, StateError, TrainingState};

/// The flag bit of a position that starts an episode ([`Sequence::flags`]).
pub const FIRST: u8 = 1;
/// The flag bit of an episode's final observation.
pub const LAST: u8 = 2;
/// The flag bit of a terminal final observation (with [`LAST`]).
pub const TERMINAL: u8 = 4;

/// One position of an environment's stream, borrowed (see the [module doc](self)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position<'a> {
    /// `o_j`.
    pub observation: &'a [f32],
    /// `a_j` (0 at a `last` position, where no action is taken).
    pub action: usize,
    /// `r_j`.
    pub reward: f64,
    /// `o_j` starts an episode.
    pub first: bool,
    /// `o_j` ends an episode.
    pub last: bool,
    /// The episode ended in a terminal state (only with `last`).
    pub terminal: bool,
}

impl Position<'_> {
    fn flags(&self) -> u8 {
        ((self.first as u8) * FIRST)
            | ((self.last as u8) * LAST)
            | ((self.terminal as u8) * TERMINAL)
    }
}

/// A finished sequence of `L` positions, flat: what [`SequenceReplay::push`] stores.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    /// `L × D` observations, row-major.
    pub observations: Vec<f32>,
    pub actions: Vec<usize>,
    pub rewards: Vec<f64>,
    /// The flag bits of each position.
    pub flags: Vec<u8>,
    /// The actor's `h` before the first position.
    pub h0: Vec<f32>,
    /// The actor's `c` before the first position.
    pub c0: Vec<f32>,
}

/// An open position: `(o, a, r, flags, h, c)`, the state `(h, c)` the one before it.
type OpenPosition = (Vec<f32>, usize, f64, u8, Vec<f32>, Vec<f32>);

/// One environment's open window: cuts its stream of positions into sequences of `length`
/// positions, one every `period` positions, each with the recurrent state before its first.
///
/// ```
/// use wengert_rl::buffers::{Position, SequenceWriter};
/// let mut writer = SequenceWriter::new(4, 2, 1, 1);
/// let mut emitted = vec![];
/// for j in 0..8 {
///     let o = [j as f32];
///     let p = Position { observation: &o, action: 0, reward: 1.0, first: j == 0, last: false, terminal: false };
///     if let Some(s) = writer.push(p, &[j as f32 * 10.0], &[0.0]) {
///         emitted.push(s);
///     }
/// }
/// // positions 0‥3, 2‥5, 4‥7: starts 2 apart, each with the state before its first position
/// assert_eq!(emitted.len(), 3);
/// assert_eq!(emitted[1].observations, vec![2.0, 3.0, 4.0, 5.0]);
/// assert_eq!(emitted[2].h0, vec![40.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceWriter {
    length: usize,
    period: usize,
    dim: usize,
    hidden: usize,
    /// The open positions with the state `(h, c)` before each.
    window: VecDeque<OpenPosition>,
}

impl SequenceWriter {
    /// An empty window for sequences of `length` positions starting every `period` positions,
    /// observations of width `dim` and states of width `hidden`.
    ///
    /// # Panics
    /// If `period` is 0 or exceeds `length` (positions would be skipped).
    pub fn new(length: usize, period: usize, dim: usize, hidden: usize) -> Self {
        assert!(
            period >= 1 && period <= length,
            "sequence period {period} must be in 1..={length} (the sequence length)"
        );
        SequenceWriter {
            length,
            period,
            dim,
            hidden,
            window: VecDeque::with_capacity(length),
        }
    }

    /// Appends a position read from the state `(h, c)`; returns the sequence it completes, if
    /// any (then the oldest `period` positions leave the window).
    pub fn push(&mut self, position: Position<'_>, h: &[f32], c: &[f32]) -> Option<Sequence> {
        assert_eq!(position.observation.len(), self.dim, "observation width");
        assert_eq!(
            (h.len(), c.len()),
            (self.hidden, self.hidden),
            "state width"
        );
        self.window.push_back((
            position.observation.to_vec(),
            position.action,
            position.reward,
            position.flags(),
            h.to_vec(),
            c.to_vec(),
        ));
        if self.window.len() < self.length {
            return None;
        }
        let sequence = Sequence {
            observations: self.window.iter().flat_map(|p| p.0.clone()).collect(),
            actions: self.window.iter().map(|p| p.1).collect(),
            rewards: self.window.iter().map(|p| p.2).collect(),
            flags: self.window.iter().map(|p| p.3).collect(),
            h0: self.window[0].4.clone(),
            c0: self.window[0].5.clone(),
        };
        self.window.drain(..self.period);
        Some(sequence)
    }
}

/// The open positions (`name.observations`, `.actions`, `.rewards`, `.flags`, `.h`, `.c`).
impl Resumable for SequenceWriter {
    fn save(&self, name: &str, state: &mut TrainingState) {
        let w = &self.window;
        let n = w.len();
        let floats = |f: &dyn Fn(&OpenPosition) -> &Vec<f32>| {
            w.iter().flat_map(|p| f(p).clone()).collect::<Vec<f32>>()
        };
        state.put_f32(
            format!("{name}.observations"),
            &[n, self.dim],
            floats(&|p| &p.0),
        );
        state.put_f32(format!("{name}.h"), &[n, self.hidden], floats(&|p| &p.4));
        state.put_f32(format!("{name}.c"), &[n, self.hidden], floats(&|p| &p.5));
        state.put_u64(
            format!("{name}.actions"),
            w.iter().map(|p| p.1 as u64).collect(),
        );
        state.put_f64(format!("{name}.rewards"), w.iter().map(|p| p.2).collect());
        state.put_u64(
            format!("{name}.flags"),
            w.iter().map(|p| p.3 as u64).collect(),
        );
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        let actions = state.u64s(&format!("{name}.actions"), None)?;
        let n = actions.len();
        let rewards = state.f64s(&format!("{name}.rewards"), Some(n))?;
        let flags = state.u64s(&format!("{name}.flags"), Some(n))?;
        let observations = state.f32s(&format!("{name}.observations"), Some(&[n, self.dim]))?;
        let h = state.f32s(&format!("{name}.h"), Some(&[n, self.hidden]))?;
        let c = state.f32s(&format!("{name}.c"), Some(&[n, self.hidden]))?;
        let row = |a: &ndarray::ArrayD<f32>, j: usize| {
            a.index_axis(ndarray::Axis(0), j)
                .iter()
                .copied()
                .collect::<Vec<f32>>()
        };
        self.window = (0..n)
            .map(|j| {
                let (o, hj, cj) = (row(&observations, j), row(&h, j), row(&c, j));
                (o, actions[j] as usize, rewards[j], flags[j] as u8, hj, cj)
            })
            .collect();
        Ok(())
    }
}

/// `p = η max_t |δ_t| + (1 − η) mean_t |δ_t|` over a sequence's TD errors (R2D2, η = 0.9):
/// the max keeps a sequence with one large error likely, the mean keeps the priorities from
/// all saturating at the max of long sequences. No errors (every position masked) give 0.
///
/// ```
/// use wengert_rl::buffers::sequence_priority;
/// assert!((sequence_priority(&[1.0, -3.0, 2.0], 0.9) - (0.9 * 3.0 + 0.1 * 2.0)).abs() < 1e-12);
/// assert_eq!(sequence_priority(&[], 0.9), 0.0);
/// ```
pub fn sequence_priority(td_errors: &[f64], eta: f64) -> f64 {
    if td_errors.is_empty() {
        return 0.0;
    }
    let max = td_errors.iter().fold(0.0f64, |m, d| m.max(d.abs()));
    let mean = td_errors.iter().map(|d| d.abs()).sum::<f64>() / td_errors.len() as f64;
    eta * max + (1.0 - eta) * mean
}

/// A minibatch of `B` sequences of `L` positions, sequence-first as the LSTM reads them.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceBatch {
    /// The slots sampled, for [`SequenceReplay::update_priorities`].
    pub indices: Vec<usize>,
    /// `w_i`, the importance weights.
    pub weights: Array1<f64>,
    /// `(L, B, D)`.
    pub observations: Array3<f32>,
    /// `(L, B)`.
    pub actions: Array2<usize>,
    /// `(L, B)`.
    pub rewards: Array2<f64>,
    /// `(L, B)`: 1 where an episode starts (the LSTM's reset mask).
    pub first: Array2<f32>,
    /// `(L, B)`: an episode's final observation.
    pub last: Array2<bool>,
    /// `(L, B)`: a terminal final observation.
    pub terminal: Array2<bool>,
    /// `(B, H)`: the stored `h_0` of each sequence.
    pub h0: Array2<f32>,
    /// `(B, H)`: the stored `c_0`.
    pub c0: Array2<f32>,
}

impl SequenceBatch {
    /// `L`, the positions of each sequence.
    pub fn length(&self) -> usize {
        self.actions.nrows()
    }

    /// `B`, the sequences.
    pub fn len(&self) -> usize {
        self.actions.ncols()
    }

    /// Whether the batch holds no sequence.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The last `capacity` sequences, sampled in proportion to `p_i^α` (see the [module doc](self)).
///
/// ```
/// use rand::SeedableRng;
/// use wengert_rl::buffers::{Sequence, SequenceReplay};
/// let mut replay = SequenceReplay::new(8, 3, 1, 2, 0.9, 1e-6);
/// let sequence = Sequence {
///     observations: vec![0.0, 1.0, 2.0], actions: vec![0, 1, 0], rewards: vec![1.0; 3],
///     flags: vec![1, 0, 0], h0: vec![0.5, -0.5], c0: vec![0.0, 0.0],
/// };
/// for _ in 0..4 {
///     replay.push(&sequence);
/// }
/// let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(0);
/// let batch = replay.sample(2, 0.6, &mut rng);
/// assert_eq!(batch.observations.dim(), (3, 2, 1)); // (L, B, D)
/// assert_eq!(batch.h0.row(0).to_vec(), vec![0.5, -0.5]);
/// replay.update_priorities(&[3], &[10.0]);
/// // p_i^α / Σ_k p_k^α, the other three still at the first priority, 1
/// let p = (10.0f64 + 1e-6).powf(0.9);
/// assert!((replay.probability(3) - p / (p + 3.0)).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct SequenceReplay {
    capacity: usize,
    length: usize,
    dim: usize,
    hidden: usize,
    observations: Vec<f32>,
    actions: Vec<usize>,
    rewards: Vec<f64>,
    flags: Vec<u8>,
    h0: Vec<f32>,
    c0: Vec<f32>,
    /// The next slot to write, and the slots filled.
    position: usize,
    filled: usize,
    sums: SumTree,
    minima: MinTree,
    /// `α`.
    alpha: f64,
    /// The floor added to every priority, which keeps every sequence's probability positive.
    epsilon: f64,
    /// The largest priority so far, given to new sequences.
    max_priority: f64,
}

impl SequenceReplay {
    /// An empty buffer of `capacity` sequences of `length` positions, observations of width
    /// `dim`, states of width `hidden`, prioritisation exponent `α` and priority floor `ε`.
    pub fn new(
        capacity: usize,
        length: usize,
        dim: usize,
        hidden: usize,
        alpha: f64,
        epsilon: f64,
    ) -> Self {
        assert!(capacity > 0 && length > 0, "a sequence replay needs slots");
        SequenceReplay {
            capacity,
            length,
            dim,
            hidden,
            observations: vec![0.0; capacity * length * dim],
            actions: vec![0; capacity * length],
            rewards: vec![0.0; capacity * length],
            flags: vec![0; capacity * length],
            h0: vec![0.0; capacity * hidden],
            c0: vec![0.0; capacity * hidden],
            position: 0,
            filled: 0,
            sums: SumTree::new(capacity),
            minima: MinTree::new(capacity),
            alpha,
            epsilon,
            max_priority: 1.0,
        }
    }

    /// The stored sequences `N`.
    pub fn len(&self) -> usize {
        self.filled
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.filled == 0
    }

    /// `P(i) = p_i^α / Σ_k p_k^α`.
    pub fn probability(&self, i: usize) -> f64 {
        self.sums.priority(i) / self.sums.total()
    }

    /// Stores a sequence over the oldest one, with the largest priority so far; returns its slot.
    ///
    /// # Panics
    /// If the sequence does not have `L` positions of width `D` and states of width `H`.
    pub fn push(&mut self, sequence: &Sequence) -> usize {
        let (l, d, h) = (self.length, self.dim, self.hidden);
        assert_eq!(
            sequence.observations.len(),
            l * d,
            "a sequence of {l} × {d}"
        );
        assert_eq!(sequence.flags.len(), l, "{l} positions");
        assert_eq!(
            (sequence.h0.len(), sequence.c0.len()),
            (h, h),
            "states of {h}"
        );
        let slot = self.position;
        self.observations[slot * l * d..][..l * d].copy_from_slice(&sequence.observations);
        self.actions[slot * l..][..l].copy_from_slice(&sequence.actions);
        self.rewards[slot * l..][..l].copy_from_slice(&sequence.rewards);
        self.flags[slot * l..][..l].copy_from_slice(&sequence.flags);
        self.h0[slot * h..][..h].copy_from_slice(&sequence.h0);
        self.c0[slot * h..][..h].copy_from_slice(&sequence.c0);
        self.position = (slot + 1) % self.capacity;
        self.filled = (self.filled + 1).min(self.capacity);
        self.set_priority(slot, self.max_priority);
        slot
    }

    /// `B` sequences by stratified proportional sampling, with weights at exponent `β`.
    pub fn sample<R: rand::Rng + ?Sized>(
        &self,
        batch_size: usize,
        beta: f64,
        rng: &mut R,
    ) -> SequenceBatch {
        assert!(!self.is_empty(), "cannot sample an empty sequence replay");
        let (indices, weights) =
            sample_proportional(&self.sums, &self.minima, self.filled, batch_size, beta, rng);
        let mut batch = self.gather(&indices);
        batch.weights = weights.into();
        batch
    }

    /// The sequences in slots `indices`, in that order, with weights 1.
    ///
    /// # Panics
    /// If a slot is not filled.
    pub fn gather(&self, indices: &[usize]) -> SequenceBatch {
        assert!(
            indices.iter().all(|&i| i < self.filled),
            "slots {indices:?} out of the filled 0..{}",
            self.filled
        );
        let (l, d, h, b) = (self.length, self.dim, self.hidden, indices.len());
        let at = |j: usize, i: usize| indices[i] * l + j;
        let flag = |j: usize, i: usize, bit: u8| self.flags[at(j, i)] & bit != 0;
        SequenceBatch {
            weights: Array1::ones(b),
            observations: Array3::from_shape_fn((l, b, d), |(j, i, k)| {
                self.observations[at(j, i) * d + k]
            }),
            actions: Array2::from_shape_fn((l, b), |(j, i)| self.actions[at(j, i)]),
            rewards: Array2::from_shape_fn((l, b), |(j, i)| self.rewards[at(j, i)]),
            first: Array2::from_shape_fn((l, b), |(j, i)| flag(j, i, FIRST) as u8 as f32),
            last: Array2::from_shape_fn((l, b), |(j, i)| flag(j, i, LAST)),
            terminal: Array2::from_shape_fn((l, b), |(j, i)| flag(j, i, TERMINAL)),
            h0: Array2::from_shape_fn((b, h), |(i, k)| self.h0[indices[i] * h + k]),
            c0: Array2::from_shape_fn((b, h), |(i, k)| self.c0[indices[i] * h + k]),
            indices: indices.to_vec(),
        }
    }

    /// Sets `p_i = priority + ε` for each sampled slot (priorities from [`sequence_priority`]).
    pub fn update_priorities(&mut self, indices: &[usize], priorities: &[f64]) {
        assert_eq!(indices.len(), priorities.len(), "one priority per index");
        for (&i, &p) in indices.iter().zip(priorities) {
            assert!(i < self.filled, "slot {i} out of 0..{}", self.filled);
            let priority = p.abs() + self.epsilon;
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

/// Every slot with its stored state `(h_0, c_0)`, the ring's position, both trees and the
/// largest priority, so that a resumed run samples exactly what the uninterrupted one would.
impl Resumable for SequenceReplay {
    fn save(&self, name: &str, state: &mut TrainingState) {
        let (cap, l, d, h) = (self.capacity, self.length, self.dim, self.hidden);
        state.put_f32(
            format!("{name}.observations"),
            &[cap, l, d],
            self.observations.clone(),
        );
        state.put_f32(format!("{name}.h0"), &[cap, h], self.h0.clone());
        state.put_f32(format!("{name}.c0"), &[cap, h], self.c0.clone());
        let words = |v: &[usize]| v.iter().map(|&a| a as u64).collect();
        state.put_u64(format!("{name}.actions"), words(&self.actions));
        state.put_f64(format!("{name}.rewards"), self.rewards.clone());
        state.put_u64(
            format!("{name}.flags"),
            self.flags.iter().map(|&f| f as u64).collect(),
        );
        state.put_u64(
            format!("{name}.ring"),
            vec![self.position as u64, self.filled as u64],
        );
        self.sums.save(&format!("{name}.sums"), state);
        self.minima.save(&format!("{name}.minima"), state);
        state.put_f64(format!("{name}.max_priority"), vec![self.max_priority]);
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        let (cap, l, d, h) = (self.capacity, self.length, self.dim, self.hidden);
        let floats = |key: &str, shape: &[usize]| -> Result<Vec<f32>, StateError> {
            Ok(state
                .f32s(&format!("{name}.{key}"), Some(shape))?
                .iter()
                .copied()
                .collect())
        };
        self.observations = floats("observations", &[cap, l, d])?;
        self.h0 = floats("h0", &[cap, h])?;
        self.c0 = floats("c0", &[cap, h])?;
        let actions = state.u64s(&format!("{name}.actions"), Some(cap * l))?;
        self.actions = actions.into_iter().map(|a| a as usize).collect();
        self.rewards = state.f64s(&format!("{name}.rewards"), Some(cap * l))?;
        let flags = state.u64s(&format!("{name}.flags"), Some(cap * l))?;
        self.flags = flags.into_iter().map(|f| f as u8).collect();
        let ring = state.u64s(&format!("{name}.ring"), Some(2))?;
        (self.position, self.filled) = (ring[0] as usize, ring[1] as usize);
        self.sums.load(&format!("{name}.sums"), state)?;
        self.minima.load(&format!("{name}.minima"), state)?;
        self.max_priority = state.f64s(&format!("{name}.max_priority"), Some(1))?[0];
        Ok(())
    }
}
