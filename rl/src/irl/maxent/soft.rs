//! Soft value iteration: `Q = r + γ P V`, `V = log Σ_a exp Q`, `π = exp(Q − V)`, and the
//! planners of a state reward.

use crate::env::{TabularModel, Transition};
use crate::tabular::{Policy, value_iteration};

/// The soft-optimal solution for one reward: `Q`, `V` and `π(a|s) = exp(Q − V)`.
#[derive(Clone, Debug, PartialEq)]
pub struct SoftSolution {
    /// `Q(s, a)` as `q[s][a]`.
    pub q: Vec<Vec<f64>>,
    /// `V(s) = log Σ_a exp Q(s, a)`.
    pub values: Vec<f64>,
    /// `π(a|s)` as `policy[s][a]`.
    pub policy: Vec<Vec<f64>>,
    /// Number of soft Bellman sweeps.
    pub sweeps: usize,
}

/// The model with the same dynamics and the reward `r(s)` of the state being left on every
/// outcome, so that [`crate::tabular`]'s planners solve the MDP of a state reward.
///
/// ```
/// use wengert_rl::env::Gridworld;
/// use wengert_rl::irl::state_reward_model;
/// let world = Gridworld::russell_norvig();
/// let reward: Vec<f64> = (0..12).map(|s| s as f64).collect();
/// let model = state_reward_model(world.model(), &reward);
/// assert!(model.outcomes(9, 2).iter().all(|t| t.reward == 9.0));
/// ```
pub fn state_reward_model(model: &TabularModel, reward: &[f64]) -> TabularModel {
    assert_eq!(
        reward.len(),
        model.num_states(),
        "state_reward_model: one reward per state"
    );
    let (num_states, num_actions) = (model.num_states(), model.num_actions());
    let outcomes = (0..num_states)
        .flat_map(|s| (0..num_actions).map(move |a| (s, a)))
        .map(|(s, a)| {
            model
                .outcomes(s, a)
                .iter()
                .map(|t| Transition {
                    reward: reward[s],
                    ..*t
                })
                .collect()
        })
        .collect();
    TabularModel::new(
        num_states,
        num_actions,
        outcomes,
        model.initial_distribution().to_vec(),
    )
}

/// An optimal deterministic policy for the state reward `r(s)`, by value iteration (to a
/// sup-norm change of 1e-12) on [`state_reward_model`].
///
/// ```
/// use wengert_rl::env::{Gridworld, GridworldRewards};
/// use wengert_rl::irl::optimal_policy;
/// let noiseless = GridworldRewards { noise: 0.0, ..GridworldRewards::default() };
/// let corridor = Gridworld::new("SSS", noiseless).unwrap();
/// // Reward only in the right-hand cell: move right (2), then stay there (any move but left).
/// let policy = optimal_policy(corridor.model(), &[0.0, 0.0, 1.0], 0.9);
/// assert!(policy[0] == 2 && policy[1] == 2 && policy[2] != 0);
/// ```
pub fn optimal_policy(model: &TabularModel, reward: &[f64], gamma: f64) -> Policy {
    value_iteration(&state_reward_model(model, reward), gamma, 1e-12).policy
}

/// `log Σ_i exp x_i`, shifted by the maximum so that no term overflows.
fn log_sum_exp(x: &[f64]) -> f64 {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + x.iter().map(|&xi| (xi - max).exp()).sum::<f64>().ln()
}

/// `Q(s, a) = r(s) + γ Σ_{s'} P(s'|s, a) V(s')` for every `(s, a)` (no bootstrap on termination).
// ANCHOR: soft_action_values
fn soft_action_values(
    model: &TabularModel,
    reward: &[f64],
    values: &[f64],
    gamma: f64,
) -> Vec<Vec<f64>> {
    (0..model.num_states())
        .map(|s| {
            (0..model.num_actions())
                .map(|a| {
                    let expected_next_value: f64 = model
                        .outcomes(s, a)
                        .iter()
                        .filter(|t| !t.terminated)
                        .map(|t| t.probability * values[t.next_state])
                        .sum();
                    reward[s] + gamma * expected_next_value
                })
                .collect()
        })
        .collect()
}
// ANCHOR_END: soft_action_values

/// Soft value iteration: iterate `Q ← r + γ P V`, `V ← log Σ_a exp Q` from `V = 0` until no
/// `V(s)` changes by `tolerance`; then `π(a|s) = exp(Q(s, a) − V(s))`. The soft backup is a
/// `γ`-contraction, like the hard one. Panics unless `0 ≤ γ < 1`.
///
/// ```
/// use wengert_rl::env::{Gridworld, GridworldRewards};
/// use wengert_rl::irl::soft_value_iteration;
/// let noiseless = GridworldRewards { noise: 0.0, ..GridworldRewards::default() };
/// let corridor = Gridworld::new("SS", noiseless).unwrap();
/// let soft = soft_value_iteration(corridor.model(), &[0.0, 1.0], 0.5, 1e-12);
/// // In the left cell, left/up/down stay (3 actions) and right moves on: π(right) is the
/// // largest, and every π(·|s) sums to one.
/// assert!(soft.policy[0][2] > soft.policy[0][0]);
/// assert!(soft.policy.iter().all(|p| (p.iter().sum::<f64>() - 1.0).abs() < 1e-12));
/// ```
pub fn soft_value_iteration(
    model: &TabularModel,
    reward: &[f64],
    gamma: f64,
    tolerance: f64,
) -> SoftSolution {
    soft_value_iteration_from(
        model,
        reward,
        vec![0.0; model.num_states()],
        gamma,
        tolerance,
    )
}

/// [`soft_value_iteration`] from given values (each IRL step warm-starts from the last).
pub(super) fn soft_value_iteration_from(
    model: &TabularModel,
    reward: &[f64],
    mut values: Vec<f64>,
    gamma: f64,
    tolerance: f64,
) -> SoftSolution {
    assert!(
        (0.0..1.0).contains(&gamma),
        "soft_value_iteration: γ = {gamma} must lie in [0, 1) for convergence"
    );
    assert_eq!(
        reward.len(),
        model.num_states(),
        "soft_value_iteration: one reward per state"
    );
    let mut sweeps = 0;
    let q = loop {
        let q = soft_action_values(model, reward, &values, gamma);
        let next: Vec<f64> = q.iter().map(|q_s| log_sum_exp(q_s)).collect();
        sweeps += 1;
        let delta = next
            .iter()
            .zip(&values)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        values = next;
        if delta < tolerance {
            // Q consistent with the returned V, so that π = exp(Q − V) sums to one.
            break soft_action_values(model, reward, &values, gamma);
        }
    };
    values = q.iter().map(|q_s| log_sum_exp(q_s)).collect();
    let policy = q
        .iter()
        .zip(&values)
        .map(|(q_s, &v_s)| q_s.iter().map(|&q_sa| (q_sa - v_s).exp()).collect())
        .collect();
    SoftSolution {
        q,
        values,
        policy,
        sweeps,
    }
}
