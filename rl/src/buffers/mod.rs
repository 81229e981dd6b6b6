//! # Replay storage
//!
//! Off-policy agents (DQN, DDPG, TD3, SAC) learn from transitions collected by older policies.
//! They keep the last `capacity` transitions in a **replay buffer** and train on random
//! minibatches of it, which breaks the correlation between consecutive steps and reuses each
//! transition many times (Lin, 1992; Mnih et al., 2015).
//!
//! ## The stored transition
//!
//! Every slot holds `(o, a, R, o', terminated, γ^m)`:
//!
//! - `o` the observation acted on, `a` the action taken (discrete index or continuous vector);
//! - `R = Σ_{k<m} γ^k r_{t+k+1}` the discounted sum of the `m` rewards that followed (`m = 1`
//!   for an ordinary transition, up to `n` for an [n-step](NStepAccumulator) one);
//! - `o'` the observation `m` steps later, **before** any auto-reset (Gymnasium's
//!   `final_observation` when the episode ended);
//! - `terminated`: `o'` is a terminal state, whose value is 0;
//! - `γ^m` the discount of the bootstrap, so that every learner forms its target as
//!
//!   `y = R + γ^m (1 − terminated) V̂(o')`,  e.g. `V̂(o') = max_a' Q_target(o', a')` for DQN.
//!
//! A *truncated* episode (time limit) did not reach a terminal state, so it is stored with
//! `terminated = false` and is bootstrapped from `o'`; only termination cuts the bootstrap.
//! [`Batch::bootstrap_factors`] returns `γ^m (1 − terminated)` directly.
//!
//! ## The buffers
//!
//! - [`ReplayBuffer`]: a ring of `capacity` slots in flat preallocated arrays (no allocation
//!   per transition); when full, each push overwrites the oldest transition. Minibatches are
//!   drawn uniformly with replacement from the filled slots, `P(i) = 1/N`.
//! - [`PrioritizedReplay`] (Schaul et al., 2016, proportional variant): transition `i` is drawn
//!   with probability `P(i) = p_i^α / Σ_k p_k^α`, `p_i = |δ_i| + ε` its last TD error, and the
//!   bias this introduces is corrected by importance-sampling weights
//!   `w_i = (N · P(i))^{−β} / max_j w_j`, with `β` annealed linearly to 1 by a
//!   [`BetaSchedule`]. Sampling and priority updates cost `O(log N)` through a [`SumTree`], and
//!   the largest weight comes from the smallest priority, kept by a [`MinTree`].
//! - [`NStepAccumulator`]: turns one environment's 1-step transitions into n-step ones.
//! - [`SequenceReplay`] and [`SequenceWriter`] (R2D2): overlapping fixed-length sequences with
//!   the recurrent state stored at each start, prioritised by `η max|δ| + (1 − η) mean|δ|`.
//!
//! ## Contract
//!
//! - Observations are `f32` vectors of the fixed length given at construction; actions are
//!   [`Action::Discrete`] or [`Action::Continuous`] of a fixed dimension, also fixed at
//!   construction ([`ActionShape`]). A mismatch panics.
//! - Indices returned in a [`Batch`] are slot indices in `0..capacity`; they stay valid for
//!   [`PrioritizedReplay::update_priorities`] until the slot is overwritten.
//! - Sampling an empty buffer panics.

mod n_step;
mod prioritized;
mod replay;
pub mod sequence;
mod sum_tree;

pub use n_step::{Experience, NStepAccumulator};
pub use prioritized::{BetaSchedule, PrioritizedReplay};
pub use replay::{ActionShape, Batch, BatchActions, ReplayBuffer, ReplayStorage};
pub use sequence::{
    Position, Sequence, SequenceBatch, SequenceReplay, SequenceWriter, sequence_priority,
};
pub use sum_tree::{MinTree, SumTree};

use crate::env::Action;

/// One transition to store, borrowed so that pushing never allocates (see the
/// [module doc](self) for the meaning of each field).
///
/// ```
/// use wengert_rl::buffers::Transition;
/// use wengert_rl::env::Action;
/// let gamma = 0.99;
/// let transition = Transition::one_step(&[0.0, 1.0], Action::Discrete(1), 1.0, &[0.5, 1.0], false, gamma);
/// assert_eq!(transition.discount, gamma);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transition<'a> {
    /// `o`.
    pub observation: &'a [f32],
    /// `a`.
    pub action: Action<'a>,
    /// `R = Σ_{k<m} γ^k r_{t+k+1}`.
    pub reward: f64,
    /// `o'`, `m` steps after `o` (before any auto-reset).
    pub next_observation: &'a [f32],
    /// `o'` is terminal: no bootstrap.
    pub terminated: bool,
    /// `γ^m`, the discount of the bootstrap value `V̂(o')`.
    pub discount: f64,
}

impl<'a> Transition<'a> {
    /// An ordinary transition: `m = 1`, so `R = r` and the bootstrap discount is `γ`.
    ///
    /// ```
    /// use wengert_rl::buffers::Transition;
    /// use wengert_rl::env::Action;
    /// let t = Transition::one_step(&[0.0], Action::Continuous(&[0.3]), -1.0, &[0.1], true, 0.9);
    /// assert_eq!((t.reward, t.terminated, t.discount), (-1.0, true, 0.9));
    /// ```
    pub fn one_step(
        observation: &'a [f32],
        action: Action<'a>,
        reward: f64,
        next_observation: &'a [f32],
        terminated: bool,
        gamma: f64,
    ) -> Self {
        Transition {
            observation,
            action,
            reward,
            next_observation,
            terminated,
            discount: gamma,
        }
    }
}
