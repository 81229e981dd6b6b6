//! # Policy iteration and modified policy iteration
//!
//! **Background.** Policy iteration alternates *evaluation*, $V \leftarrow V^\pi$ (solve
//! $V = T_\pi V$), and *greedy improvement*, $\pi'(s) = \arg\max_a Q(s, a)$ with
//! $Q(s, a) = \sum p \big(r + \gamma (1 - d) V(s')\big)$. The policy improvement theorem gives
//! $V^{\pi'} \ge V^\pi$, with equality only when $\pi$ is optimal, and there are finitely many
//! deterministic policies, so it stops at $\pi^\star$ in finitely many iterations.
//!
//! Modified policy iteration (Puterman & Shin, 1978) replaces exact evaluation by $k$
//! applications of $T_\pi$:
//!
//! $$ \pi_n = \operatorname{greedy}(V_n) , \qquad V_{n+1} = (T_{\pi_n})^k V_n . $$
//!
//! Since $T_{\pi_n} V_n = T V_n$ for the greedy $\pi_n$, $k = 1$ is value iteration and
//! $k = \infty$ (evaluate to convergence) is policy iteration. It stops when the Bellman residual
//! $\Vert T V_n - V_n \Vert_\infty$ falls below the tolerance.
//!
//! **Pseudocode (policy iteration).** `π ← 0`, `V ← 0`; repeat: `V ← evaluate(π)` (warm-started
//! from the previous `V`); for each `s`, switch `π(s)` to a greedy action only if it is better
//! than `Q(s, π(s))` by more than round-off; until no state switches. Return `V` and the
//! canonical greedy policy (lowest index among ties), like the other planners.

use super::policy_evaluation::evaluate_policy_from;
use super::{
    Solution, TIE_TOLERANCE, action_values, bellman_expectation_backup, bellman_optimality_backup,
    greedy_action, greedy_policy, sup_distance,
};
use crate::env::TabularModel;

/// How many Bellman expectation backups modified policy iteration applies per policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backups {
    /// `k` backups (`k = 1`: value iteration).
    Finite(usize),
    /// Evaluate each policy to convergence (policy iteration).
    Infinite,
}

/// `V*` and `π*` by policy iteration; each evaluation iterates until the sup-norm change is
/// below `tolerance`. Panics unless `0 ≤ γ < 1`.
///
/// ```
/// use wengert_rl::env::FrozenLake;
/// use wengert_rl::tabular::policy_iteration;
/// let lake = FrozenLake::from_map("SFG", false).unwrap();
/// let solution = policy_iteration(lake.model(), 0.9, 1e-12);
/// assert_eq!(solution.policy[..2], [2, 2]);
/// assert!((solution.values[0] - 0.9).abs() < 1e-12);
/// ```
pub fn policy_iteration(model: &TabularModel, gamma: f64, tolerance: f64) -> Solution {
    assert!(
        (0.0..1.0).contains(&gamma),
        "policy_iteration: γ = {gamma} must lie in [0, 1) for convergence"
    );
    let mut policy = vec![0; model.num_states()];
    let mut values = vec![0.0; model.num_states()];
    let mut sweeps = 0;
    loop {
        let (evaluated, evaluation_sweeps) =
            evaluate_policy_from(model, &policy, values, gamma, tolerance);
        values = evaluated;
        sweeps += evaluation_sweeps;
        let mut stable = true;
        for (s, q) in action_values(model, &values, gamma).iter().enumerate() {
            let best = greedy_action(q);
            if q[best] > q[policy[s]] + TIE_TOLERANCE * q[best].abs().max(1.0) {
                policy[s] = best;
                stable = false;
            }
        }
        if stable {
            let policy = greedy_policy(model, &values, gamma);
            return Solution {
                values,
                policy,
                sweeps,
            };
        }
    }
}

/// `V*` and a greedy policy by modified policy iteration with `backups` evaluations per
/// policy, stopping when the Bellman residual `‖T V − V‖∞` is below `tolerance`.
///
/// ```
/// use wengert_rl::env::FrozenLake;
/// use wengert_rl::tabular::{Backups, modified_policy_iteration, value_iteration};
/// let lake = FrozenLake::four_by_four(true);
/// let by_mpi = modified_policy_iteration(lake.model(), 0.9, Backups::Finite(5), 1e-12);
/// let by_vi = value_iteration(lake.model(), 0.9, 1e-12);
/// assert_eq!(by_mpi.policy, by_vi.policy);
/// assert!(by_mpi.sweeps < by_vi.sweeps * 2);
/// ```
pub fn modified_policy_iteration(
    model: &TabularModel,
    gamma: f64,
    backups: Backups,
    tolerance: f64,
) -> Solution {
    assert!(
        (0.0..1.0).contains(&gamma),
        "modified_policy_iteration: γ = {gamma} must lie in [0, 1) for convergence"
    );
    assert!(
        backups != Backups::Finite(0),
        "modified_policy_iteration: k = 0 backups would never change V"
    );
    let mut values = vec![0.0; model.num_states()];
    let mut sweeps = 0;
    loop {
        let policy = greedy_policy(model, &values, gamma);
        // The first backup of the greedy policy is the optimality backup: T_π V = T V.
        let improved = bellman_optimality_backup(model, &values, gamma);
        sweeps += 1;
        let residual = sup_distance(&improved, &values);
        values = improved;
        if residual < tolerance {
            let policy = greedy_policy(model, &values, gamma);
            return Solution {
                values,
                policy,
                sweeps,
            };
        }
        match backups {
            Backups::Finite(k) => {
                for _ in 1..k {
                    values = bellman_expectation_backup(model, &policy, &values, gamma);
                    sweeps += 1;
                }
            }
            Backups::Infinite => {
                let (evaluated, evaluation_sweeps) =
                    evaluate_policy_from(model, &policy, values, gamma, tolerance);
                values = evaluated;
                sweeps += evaluation_sweeps;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{FrozenLake, Gridworld};
    use crate::tabular::value_iteration;

    #[test]
    fn one_backup_is_value_iteration() {
        let lake = FrozenLake::eight_by_eight(true);
        let mpi = modified_policy_iteration(lake.model(), 0.95, Backups::Finite(1), 1e-10);
        let vi = value_iteration(lake.model(), 0.95, 1e-10);
        assert_eq!(mpi, vi);
    }

    #[test]
    fn more_backups_need_fewer_greedy_steps_and_agree() {
        let world = Gridworld::russell_norvig();
        let reference = policy_iteration(world.model(), 0.99, 1e-13);
        for backups in [
            Backups::Finite(1),
            Backups::Finite(3),
            Backups::Finite(20),
            Backups::Infinite,
        ] {
            let solution = modified_policy_iteration(world.model(), 0.99, backups, 1e-13);
            assert_eq!(solution.policy, reference.policy, "{backups:?}");
            assert!(
                sup_distance(&solution.values, &reference.values) < 1e-10,
                "{backups:?}"
            );
        }
    }
}
