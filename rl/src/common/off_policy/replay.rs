//! Uniform or prioritised replay behind one interface: what the loop samples from.

use crate::buffers::{
    ActionShape, Batch, BetaSchedule, PrioritizedReplay, ReplayBuffer, ReplayStorage, Transition,
};
use crate::snapshot::{Resumable, StateError, TrainerRng, TrainingState};

/// Uniform or prioritised replay, behind one interface.
pub enum Replay {
    /// `P(i) = 1/N`, every weight 1.
    Uniform(ReplayBuffer),
    /// `P(i) ∝ p_i^α`, weights `w_i = (N P(i))^{−β(t)} / max_j w_j`, `β(t)` annealed to 1.
    Prioritized(PrioritizedReplay, BetaSchedule),
}

/// How a prioritised replay weighs its transitions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Priorities {
    /// `α`: the prioritisation exponent.
    pub alpha: f64,
    /// `ε` of `p = |δ| + ε`.
    pub epsilon: f64,
    /// `β(t)`, the importance-sampling exponent after `t` environment steps.
    pub beta: BetaSchedule,
}

impl Replay {
    /// An empty replay of `capacity` transitions: prioritised when `priorities` are given.
    ///
    /// ```
    /// use wengert_rl::buffers::{ActionShape, BetaSchedule};
    /// use wengert_rl::common::off_policy::{Priorities, Replay};
    /// let beta = BetaSchedule { beta_0: 0.4, steps: 1000 };
    /// let priorities = Priorities { alpha: 0.6, epsilon: 1e-6, beta };
    /// let replay = Replay::new(100, 4, ActionShape::Discrete, Some(priorities));
    /// assert!(matches!(replay, Replay::Prioritized(..)) && replay.is_empty());
    /// assert_eq!(replay.capacity(), 100);
    /// ```
    pub fn new(
        capacity: usize,
        observation_dim: usize,
        action_shape: ActionShape,
        priorities: Option<Priorities>,
    ) -> Self {
        match priorities {
            Some(p) => Replay::Prioritized(
                PrioritizedReplay::new(capacity, observation_dim, action_shape, p.alpha, p.epsilon),
                p.beta,
            ),
            None => Replay::Uniform(ReplayBuffer::new(capacity, observation_dim, action_shape)),
        }
    }

    /// Stores one transition (a prioritised one with the largest priority so far).
    pub fn push(&mut self, transition: Transition<'_>) {
        match self {
            Replay::Uniform(buffer) => buffer.push(transition),
            Replay::Prioritized(buffer, _) => buffer.push(transition),
        };
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        match self {
            Replay::Uniform(buffer) => buffer.is_empty(),
            Replay::Prioritized(buffer, _) => buffer.is_empty(),
        }
    }

    /// The number of slots.
    pub fn capacity(&self) -> usize {
        match self {
            Replay::Uniform(buffer) => buffer.capacity(),
            Replay::Prioritized(buffer, _) => buffer.capacity(),
        }
    }

    /// `β(t)` of a prioritised replay; 1 (no correction needed) for uniform replay.
    pub fn beta(&self, t: usize) -> f64 {
        match self {
            Replay::Uniform(_) => 1.0,
            Replay::Prioritized(_, beta) => beta.beta(t),
        }
    }

    /// `batch_size` transitions after `t` environment steps, with their importance weights at
    /// `β(t)` (all 1 for uniform replay).
    pub fn sample(&self, batch_size: usize, t: usize, rng: &mut TrainerRng) -> Batch {
        match self {
            Replay::Uniform(buffer) => buffer.sample(batch_size, rng),
            Replay::Prioritized(buffer, beta) => buffer.sample(batch_size, beta.beta(t), rng),
        }
    }

    /// `p_i ← |δ_i| + ε` for the sampled slots (nothing for uniform replay, or without TD
    /// errors).
    pub fn update_priorities(&mut self, indices: &[usize], td_errors: &[f64]) {
        if let Replay::Prioritized(buffer, _) = self
            && !td_errors.is_empty()
        {
            buffer.update_priorities(indices, td_errors);
        }
    }
}

impl Resumable for Replay {
    fn save(&self, name: &str, state: &mut TrainingState) {
        match self {
            Replay::Uniform(buffer) => buffer.save(name, state),
            Replay::Prioritized(buffer, _) => buffer.save(name, state),
        }
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        match self {
            Replay::Uniform(buffer) => buffer.load(name, state),
            Replay::Prioritized(buffer, _) => buffer.load(name, state),
        }
    }
}
