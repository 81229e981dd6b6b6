//! # Value iteration
//!
//! **Background.** The optimal values solve the Bellman optimality equation $V^\star = T V^\star$ with
//!
//! $$ (T V)(s) = \max_a \sum_{(p, s', r, d) \in P(\cdot \mid s, a)} p \big(r + \gamma (1 - d) V(s')\big) . $$
//!
//! $T$ is a $\gamma$-contraction in the sup norm, so $V_{k+1} = T V_k$ converges to $V^\star$ from any
//! $V_0$; once $\Vert V_{k+1} - V_k \Vert_\infty \le \delta$,
//! $\Vert V_{k+1} - V^\star \Vert_\infty \le \gamma \delta / (1 - \gamma)$.
//!
//! **Pseudocode.** `V ← 0`; repeat `V' ← T V`, `δ ← ‖V' − V‖∞`, `V ← V'` until `δ < tolerance`;
//! return `V` and the greedy policy `π(s) = argmax_a Q(s, a)`.

use super::{Solution, bellman_optimality_backup, greedy_policy, sup_distance};
use crate::env::TabularModel;

/// `V*` and a greedy policy by value iteration, stopping when a sweep changes no value by
/// `tolerance` or more. Panics unless `0 ≤ γ < 1`.
///
/// ```
/// use wengert_rl::env::FrozenLake;
/// use wengert_rl::tabular::value_iteration;
/// let lake = FrozenLake::from_map("SFG", false).unwrap();
/// let solution = value_iteration(lake.model(), 0.9, 1e-12);
/// assert!((solution.values[0] - 0.9).abs() < 1e-12); // one step, then the goal
/// assert_eq!(solution.policy[0], 2); // right
/// ```
// ANCHOR: value_iteration
pub fn value_iteration(model: &TabularModel, gamma: f64, tolerance: f64) -> Solution {
    assert!(
        (0.0..1.0).contains(&gamma),
        "value_iteration: γ = {gamma} must lie in [0, 1) for convergence"
    );
    let mut values = vec![0.0; model.num_states()];
    let mut sweeps = 0;
    loop {
        let next = bellman_optimality_backup(model, &values, gamma);
        sweeps += 1;
        let delta = sup_distance(&next, &values);
        values = next;
        if delta < tolerance {
            break;
        }
    }
    let policy = greedy_policy(model, &values, gamma);
    Solution {
        values,
        policy,
        sweeps,
    }
}
// ANCHOR_END: value_iteration

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Gridworld;

    #[test]
    fn reproduces_russell_and_norvig_figure_17_3() {
        // γ = 1 is allowed here in the textbook because every policy of interest terminates;
        // γ = 0.999999 is close enough for three decimals.
        let world = Gridworld::russell_norvig();
        let solution = value_iteration(world.model(), 0.999_999, 1e-12);
        let expected = [
            (0, 0.812),
            (1, 0.868),
            (2, 0.918),
            (4, 0.762),
            (6, 0.660),
            (8, 0.705),
            (9, 0.655),
            (10, 0.611),
            (11, 0.388),
        ];
        for (s, v) in expected {
            assert!(
                (solution.values[s] - v).abs() < 1e-3,
                "V({s}) = {} vs {v}",
                solution.values[s]
            );
        }
        assert_eq!(solution.policy[8], 3); // from the start: up, away from the pit
        assert_eq!(solution.policy[10], 0); // the famous "go left" next to the pit
    }
}
