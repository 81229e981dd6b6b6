//! # Tabular methods
//!
//! Finite MDPs small enough to hold a value for every state. A model
//! ([`crate::env::TabularModel`]) gives $P(s', r \mid s, a)$ as a list of outcomes
//! $(p, s', r, d)$ with $d$ = terminated; an outcome that terminates is not bootstrapped. With
//! that convention the action value of $a$ in $s$ under state values $V$ (one backup) is
//!
//! $$ Q(s, a) = \sum_{(p, s', r, d)} p \big(r + \gamma (1 - d) V(s')\big) , $$
//!
//! and the Bellman equations are
//!
//! $$ V^\pi(s) = Q^\pi(s, \pi(s)) \quad \text{(expectation: policy evaluation)} , \qquad
//!    V^\star(s) = \max_a Q^\star(s, a) \quad \text{(optimality: value / policy iteration)} . $$
//!
//! - Planning with the model: [`evaluate_policy`] (and its finite-horizon version
//!   [`evaluate_policy_finite_horizon`]), [`value_iteration`], [`policy_iteration`] and
//!   [`modified_policy_iteration`] (`k` backups per evaluation; `k = 1` is value iteration,
//!   `k = ∞` policy iteration).
//! - Learning from samples: [`q_learning`] (off-policy TD control) and [`sarsa`] (on-policy),
//!   with ε-greedy exploration and step-size schedules ([`Exploration`], [`StepSize`]).
//!
//! Greedy policies break ties towards the lowest action index, treating action values within
//! [`TIE_TOLERANCE`] of the maximum as tied, so that planners whose values differ only by
//! round-off return the same policy.

mod policy_evaluation;
mod policy_iteration;
mod q_learning;
mod sarsa;
mod schedules;
mod value_iteration;

pub use policy_evaluation::{evaluate_policy, evaluate_policy_finite_horizon};
pub use policy_iteration::{Backups, modified_policy_iteration, policy_iteration};
pub use q_learning::{QTable, TdConfig, q_learning};
pub use sarsa::sarsa;
pub use schedules::{Exploration, StepSize};
pub use value_iteration::value_iteration;

use crate::env::TabularModel;

/// Action values closer than this (relative to the largest magnitude, at least 1) count as
/// tied when choosing a greedy action.
pub const TIE_TOLERANCE: f64 = 1e-12;

/// A deterministic policy: `policy[s]` is the action taken in state `s`.
pub type Policy = Vec<usize>;

/// The result of a planner: optimal values, a greedy policy, and how many sweeps it took.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// `V(s)` for every state.
    pub values: Vec<f64>,
    /// A policy greedy with respect to `values`.
    pub policy: Policy,
    /// Number of Bellman sweeps over the state space (backups of every state).
    pub sweeps: usize,
}

/// One backup: `Q(s, a) = Σ p (r + γ (1 − d) V(s'))`.
///
/// ```
/// use wengert_rl::env::FrozenLake;
/// use wengert_rl::tabular::action_value;
/// let lake = FrozenLake::from_map("SG", false).unwrap();
/// // Moving right enters the goal: reward 1, terminal, so V(goal) is not used.
/// assert_eq!(action_value(lake.model(), &[0.0, 123.0], 0, 2, 0.9), 1.0);
/// ```
// ANCHOR: action_value
pub fn action_value(model: &TabularModel, values: &[f64], s: usize, a: usize, gamma: f64) -> f64 {
    model
        .outcomes(s, a)
        .iter()
        .map(|t| {
            let bootstrap = if t.terminated {
                0.0
            } else {
                gamma * values[t.next_state]
            };
            t.probability * (t.reward + bootstrap)
        })
        .sum()
}
// ANCHOR_END: action_value

/// `Q(s, ·)` for every state: `q[s][a]`.
///
/// ```
/// use wengert_rl::env::FrozenLake;
/// use wengert_rl::tabular::action_values;
/// let lake = FrozenLake::four_by_four(true);
/// let q = action_values(lake.model(), &vec![0.0; 16], 0.9);
/// assert_eq!(q[14][2], 1.0 / 3.0); // right from 14 reaches the goal a third of the time
/// ```
pub fn action_values(model: &TabularModel, values: &[f64], gamma: f64) -> Vec<Vec<f64>> {
    (0..model.num_states())
        .map(|s| {
            (0..model.num_actions())
                .map(|a| action_value(model, values, s, a, gamma))
                .collect()
        })
        .collect()
}

/// The lowest-index action whose value is within [`TIE_TOLERANCE`] of the best.
///
/// ```
/// use wengert_rl::tabular::greedy_action;
/// assert_eq!(greedy_action(&[0.5, 0.9, 0.9 - 1e-15, 0.1]), 1);
/// ```
pub fn greedy_action(action_values: &[f64]) -> usize {
    let best = action_values
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let tolerance = TIE_TOLERANCE * best.abs().max(1.0);
    action_values
        .iter()
        .position(|&q| q >= best - tolerance)
        .unwrap_or(0)
}

/// `π(s) = argmax_a Q(s, a)` under state values `V`.
///
/// ```
/// use wengert_rl::env::FrozenLake;
/// use wengert_rl::tabular::greedy_policy;
/// let lake = FrozenLake::from_map("SFG", false).unwrap();
/// assert_eq!(greedy_policy(lake.model(), &[0.0, 0.0, 0.0], 0.9)[1], 2); // go right
/// ```
pub fn greedy_policy(model: &TabularModel, values: &[f64], gamma: f64) -> Policy {
    action_values(model, values, gamma)
        .iter()
        .map(|q| greedy_action(q))
        .collect()
}

/// One Bellman optimality sweep: `(T V)(s) = max_a Q(s, a)`.
pub(crate) fn bellman_optimality_backup(
    model: &TabularModel,
    values: &[f64],
    gamma: f64,
) -> Vec<f64> {
    (0..model.num_states())
        .map(|s| {
            (0..model.num_actions())
                .map(|a| action_value(model, values, s, a, gamma))
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect()
}

/// One Bellman expectation sweep: `(T_π V)(s) = Q(s, π(s))`.
pub(crate) fn bellman_expectation_backup(
    model: &TabularModel,
    policy: &[usize],
    values: &[f64],
    gamma: f64,
) -> Vec<f64> {
    (0..model.num_states())
        .map(|s| action_value(model, values, s, policy[s], gamma))
        .collect()
}

/// `max_s |a(s) − b(s)|`.
pub(crate) fn sup_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
