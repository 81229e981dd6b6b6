//! # Policy evaluation
//!
//! **Background.** The value of a deterministic policy $\pi$ solves the Bellman expectation
//! equation $V^\pi = T_\pi V^\pi$, where
//!
//! $$ (T_\pi V)(s) = \sum_{(p, s', r, d) \in P(\cdot \mid s, \pi(s))} p \big(r + \gamma (1 - d) V(s')\big) . $$
//!
//! $T_\pi$ is a $\gamma$-contraction in the sup norm, so iterating it from any $V_0$ converges to
//! $V^\pi$, and $\Vert V_{k+1} - V_k \Vert_\infty \le \delta$ implies
//! $\Vert V_{k+1} - V^\pi \Vert_\infty \le \gamma \delta / (1 - \gamma)$.
//!
//! **Pseudocode.** `V ← 0`; repeat `V' ← T_π V`, `δ ← ‖V' − V‖∞`, `V ← V'` until `δ < tolerance`.
//!
//! **Finite horizon.** The expected return of the first `H` steps (undiscounted, `γ = 1`
//! allowed) is `V_H` from `V_0 = 0`, `V_h = T_π V_{h−1}` — exactly `H` sweeps. With FrozenLake's
//! reward (1 at the goal) it is the probability of reaching the goal within `H` steps.

use super::{bellman_expectation_backup, sup_distance};
use crate::env::TabularModel;

/// `V^π` by iterating the Bellman expectation backup until the sup-norm change is below
/// `tolerance`; returns the values and the number of sweeps. Panics unless `0 ≤ γ < 1`.
///
/// ```
/// use wengert_rl::env::FrozenLake;
/// use wengert_rl::tabular::evaluate_policy;
/// let lake = FrozenLake::from_map("SFG", false).unwrap();
/// let (values, _) = evaluate_policy(lake.model(), &[2, 2, 0], 0.9, 1e-12);
/// assert!((values[0] - 0.9).abs() < 1e-12 && (values[1] - 1.0).abs() < 1e-12);
/// ```
pub fn evaluate_policy(
    model: &TabularModel,
    policy: &[usize],
    gamma: f64,
    tolerance: f64,
) -> (Vec<f64>, usize) {
    assert!(
        (0.0..1.0).contains(&gamma),
        "evaluate_policy: γ = {gamma} must lie in [0, 1) for convergence"
    );
    evaluate_policy_from(
        model,
        policy,
        vec![0.0; model.num_states()],
        gamma,
        tolerance,
    )
}

/// [`evaluate_policy`] starting from given values (policy iteration warm-starts from the last).
pub(crate) fn evaluate_policy_from(
    model: &TabularModel,
    policy: &[usize],
    mut values: Vec<f64>,
    gamma: f64,
    tolerance: f64,
) -> (Vec<f64>, usize) {
    let mut sweeps = 0;
    loop {
        let next = bellman_expectation_backup(model, policy, &values, gamma);
        sweeps += 1;
        let delta = sup_distance(&next, &values);
        values = next;
        if delta < tolerance {
            return (values, sweeps);
        }
    }
}

/// The expected (discounted by `γ`, which may be 1) return of the first `horizon` steps of
/// `policy` from every state: `V_H` with `V_0 = 0`, `V_h = T_π V_{h−1}`.
///
/// ```
/// use wengert_rl::env::FrozenLake;
/// use wengert_rl::tabular::evaluate_policy_finite_horizon;
/// let lake = FrozenLake::from_map("SFG", false).unwrap();
/// let policy = [2, 2, 0];
/// assert_eq!(evaluate_policy_finite_horizon(lake.model(), &policy, 1.0, 1)[0], 0.0); // too short
/// assert_eq!(evaluate_policy_finite_horizon(lake.model(), &policy, 1.0, 2)[0], 1.0);
/// ```
pub fn evaluate_policy_finite_horizon(
    model: &TabularModel,
    policy: &[usize],
    gamma: f64,
    horizon: usize,
) -> Vec<f64> {
    (0..horizon).fold(vec![0.0; model.num_states()], |values, _| {
        bellman_expectation_backup(model, policy, &values, gamma)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::FrozenLake;

    #[test]
    fn matches_the_closed_form_of_a_slippery_corridor() {
        // Two cells: from S, "right" reaches G with 1/3, stays (up/down off the edge) with 2/3.
        let lake = FrozenLake::from_map("SG", true).unwrap();
        let gamma = 0.9;
        let (values, _) = evaluate_policy(lake.model(), &[2, 0], gamma, 1e-14);
        // V = 1/3 + γ (2/3) V  ⇒  V = (1/3) / (1 − 2γ/3)
        let exact = (1.0 / 3.0) / (1.0 - 2.0 * gamma / 3.0);
        assert!(
            (values[0] - exact).abs() < 1e-12,
            "{} vs {exact}",
            values[0]
        );
    }

    #[test]
    fn finite_horizon_success_probability_grows_with_the_horizon() {
        let lake = FrozenLake::from_map("SG", true).unwrap();
        let success = |h| evaluate_policy_finite_horizon(lake.model(), &[2, 0], 1.0, h)[0];
        assert!((success(1) - 1.0 / 3.0).abs() < 1e-15);
        assert!((success(2) - (1.0 - (2.0_f64 / 3.0).powi(2))).abs() < 1e-15);
    }
}
