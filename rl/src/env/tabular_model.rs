//! The transition model `P(s', r | s, a)` of a finite MDP, in Gymnasium's `env.P` form.
//!
//! For every state `s` and action `a`, a list of outcomes `(p, s', r, terminated)` whose
//! probabilities sum to one. The same `s'` may appear in several outcomes (FrozenLake lists each
//! of its three slip directions separately, as Gymnasium does); sums over outcomes handle that.
//! An outcome with `terminated = true` ends the episode: dynamic programming does not bootstrap
//! from its `s'`, `Σ p (r + γ [¬terminated] V(s'))`.

use super::EnvRng;
use rand::RngExt;

/// One outcome of taking action `a` in state `s`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transition {
    /// `P(s', r | s, a)` of this outcome.
    pub probability: f64,
    /// `s'`.
    pub next_state: usize,
    /// `r`.
    pub reward: f64,
    /// Whether the episode ends on this outcome (no bootstrapping from `s'`).
    pub terminated: bool,
}

/// `P(s', r | s, a)` for a finite MDP, plus its initial-state distribution.
///
/// ```
/// use wengert_rl::env::{TabularModel, Transition};
/// // One state, one action that ends the episode with reward 1.
/// let done = Transition { probability: 1.0, next_state: 0, reward: 1.0, terminated: true };
/// let model = TabularModel::new(1, 1, vec![vec![done]], vec![1.0]);
/// assert_eq!(model.outcomes(0, 0), &[done]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TabularModel {
    num_states: usize,
    num_actions: usize,
    /// Outcomes of `(s, a)` at index `s · num_actions + a`.
    outcomes: Vec<Vec<Transition>>,
    initial_distribution: Vec<f64>,
}

impl TabularModel {
    /// A model from its outcome lists (indexed `s · num_actions + a`) and initial distribution.
    /// Panics if a list is empty, names a state out of range, or a distribution does not sum
    /// to one (within 1e-9).
    pub fn new(
        num_states: usize,
        num_actions: usize,
        outcomes: Vec<Vec<Transition>>,
        initial_distribution: Vec<f64>,
    ) -> Self {
        assert_eq!(
            outcomes.len(),
            num_states * num_actions,
            "TabularModel::new: need one outcome list per (s, a)"
        );
        assert_eq!(
            initial_distribution.len(),
            num_states,
            "TabularModel::new: initial distribution length"
        );
        for (index, list) in outcomes.iter().enumerate() {
            let total: f64 = list.iter().map(|t| t.probability).sum();
            assert!(
                (total - 1.0).abs() < 1e-9,
                "TabularModel::new: P(·|s={}, a={}) sums to {total}",
                index / num_actions,
                index % num_actions
            );
            assert!(
                list.iter().all(|t| t.next_state < num_states),
                "TabularModel::new: next state out of range"
            );
        }
        let total: f64 = initial_distribution.iter().sum();
        assert!(
            (total - 1.0).abs() < 1e-9,
            "TabularModel::new: initial distribution sums to {total}"
        );
        TabularModel {
            num_states,
            num_actions,
            outcomes,
            initial_distribution,
        }
    }

    /// `|S|`.
    pub fn num_states(&self) -> usize {
        self.num_states
    }

    /// `|A|`.
    pub fn num_actions(&self) -> usize {
        self.num_actions
    }

    /// The outcomes `(p, s', r, terminated)` of action `a` in state `s`.
    pub fn outcomes(&self, s: usize, a: usize) -> &[Transition] {
        &self.outcomes[s * self.num_actions + a]
    }

    /// The distribution of the first state.
    pub fn initial_distribution(&self) -> &[f64] {
        &self.initial_distribution
    }

    /// Draws one outcome of `(s, a)`.
    pub(crate) fn sample(&self, s: usize, a: usize, rng: &mut EnvRng) -> Transition {
        let outcomes = self.outcomes(s, a);
        let index = categorical(outcomes.iter().map(|t| t.probability), rng);
        outcomes[index.min(outcomes.len() - 1)]
    }

    /// Draws a first state.
    pub(crate) fn sample_initial(&self, rng: &mut EnvRng) -> usize {
        categorical(self.initial_distribution.iter().copied(), rng).min(self.num_states - 1)
    }
}

/// Index of the first cumulative probability exceeding a uniform draw (Gymnasium's
/// `categorical_sample`).
fn categorical(probabilities: impl Iterator<Item = f64>, rng: &mut EnvRng) -> usize {
    let u: f64 = rng.random();
    let mut cumulative = 0.0;
    let mut last = 0;
    for (index, p) in probabilities.enumerate() {
        cumulative += p;
        last = index;
        if cumulative > u {
            return index;
        }
    }
    last
}
