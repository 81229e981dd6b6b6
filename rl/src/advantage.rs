//! # Returns and advantages
//!
//! For a trajectory of rewards $r_t$, value estimates $V(s_t)$, and discount $\gamma$:
//!
//! * **reward-to-go** $\hat R_t = \sum_{k \ge t} \gamma^{k-t} r_k$, summed to the episode's end;
//! * the **TD residual** $\delta_t = r_t + \gamma (1 - \text{terminated}\_t) V(s_{t+1}) - V(s_t)$;
//! * the **k-step advantage**
//!   $\hat A_t^{(k)} = \sum_{l<k} \gamma^l \delta_{t+l} = -V(s_t) + r_t + \dots + \gamma^{k-1} r_{t+k-1} + \gamma^k V(s_{t+k})$,
//!   from $\hat A^{(1)} = \delta_t$ (low variance, biased by $V$) to
//!   $\hat A^{(\infty)} = \hat R_t - V(s_t)$ (unbiased, high variance);
//! * **GAE(λ)** (Schulman et al., 2016), their exponentially weighted average
//!   $$ \hat A_t = (1 - \lambda) \sum_k \lambda^{k-1} \hat A_t^{(k)} = \sum_l (\gamma\lambda)^l \delta_{t+l} , $$
//!   computed backwards as $\hat A_t = \delta_t + \gamma \lambda (1 - \text{done}\_t) \hat A_{t+1}$:
//!   $\lambda = 0$ gives $\hat A^{(1)}$, $\lambda = 1$ gives $\hat A^{(\infty)}$. The value targets
//!   are $R_t = \hat A_t + V(s_t)$.
//!
//! Episode ends are of two kinds. A **terminated** step reached a terminal state, whose value
//! is 0: no bootstrap. A **truncated** step was cut by a time limit: the state `s_{t+1}` was not
//! terminal, so `V(s_{t+1})` — computed on the final observation before the auto-reset — is
//! bootstrapped. Either way the recursion stops at the boundary (`done_t`), because `s_{t+1}`
//! and the next row belong to different episodes.
//!
//! Arrays are `T × N`: `T` time steps of `N` parallel environments.

use ndarray::{Array2, Zip};

/// One rollout's per-step quantities, `T × N`.
#[derive(Clone, Debug)]
pub struct Trajectory<'a> {
    /// `r_t`.
    pub rewards: &'a Array2<f64>,
    /// `V(s_t)`.
    pub values: &'a Array2<f64>,
    /// `V(s_{t+1})`: of the final observation when the episode ended at `t`.
    pub next_values: &'a Array2<f64>,
    /// `s_{t+1}` is terminal (no bootstrap).
    pub terminated: &'a Array2<bool>,
    /// The episode ended at `t` (terminated or truncated).
    pub done: &'a Array2<bool>,
}

impl Trajectory<'_> {
    fn check(&self) {
        let shape = self.rewards.dim();
        for (name, dim) in [
            ("values", self.values.dim()),
            ("next_values", self.next_values.dim()),
            ("terminated", self.terminated.dim()),
            ("done", self.done.dim()),
        ] {
            if dim != shape {
                panic!("trajectory: {name} has shape {dim:?}, rewards {shape:?}");
            }
        }
    }

    /// The TD residuals `δ_t = r_t + γ (1 − terminated_t) V(s_{t+1}) − V(s_t)`.
    // ANCHOR: td_residuals
    pub fn td_residuals(&self, gamma: f64) -> Array2<f64> {
        self.check();
        let mut delta = Array2::zeros(self.rewards.dim());
        Zip::from(&mut delta)
            .and(self.rewards)
            .and(self.values)
            .and(self.next_values)
            .and(self.terminated)
            .for_each(|d, &r, &v, &v_next, &terminal| {
                let bootstrap = if terminal { 0.0 } else { gamma * v_next };
                *d = r + bootstrap - v;
            });
        delta
    }
    // ANCHOR_END: td_residuals
}

/// GAE(λ) advantages `Â_t = δ_t + γ λ (1 − done_t) Â_{t+1}` and value targets `Â_t + V(s_t)`.
///
/// ```
/// use ndarray::array;
/// use wengert_rl::advantage::{gae, Trajectory};
/// // one environment, three steps, the episode terminates at the last step
/// let rewards = array![[1.0], [1.0], [1.0]];
/// let values = array![[0.5], [0.5], [0.5]];
/// let next_values = array![[0.5], [0.5], [9.9]]; // ignored: terminal
/// let terminated = array![[false], [false], [true]];
/// let (advantages, returns) = gae(&Trajectory { rewards: &rewards, values: &values, next_values: &next_values, terminated: &terminated, done: &terminated }, 1.0, 1.0);
/// assert_eq!(returns.column(0).to_vec(), vec![3.0, 2.0, 1.0]); // λ = 1: Monte Carlo returns
/// assert_eq!(advantages[[0, 0]], 2.5);
/// ```
// ANCHOR: gae
pub fn gae(trajectory: &Trajectory<'_>, gamma: f64, lambda: f64) -> (Array2<f64>, Array2<f64>) {
    let delta = trajectory.td_residuals(gamma);
    let (steps, envs) = delta.dim();
    let mut advantages = Array2::zeros((steps, envs));
    for i in 0..envs {
        let mut next_advantage = 0.0;
        for t in (0..steps).rev() {
            let carry = if trajectory.done[[t, i]] {
                0.0
            } else {
                gamma * lambda * next_advantage
            };
            advantages[[t, i]] = delta[[t, i]] + carry;
            next_advantage = advantages[[t, i]];
        }
    }
    let returns = &advantages + trajectory.values;
    (advantages, returns)
}
// ANCHOR_END: gae

/// Discounted reward-to-go `R̂_t = r_t + γ (1 − done_t) R̂_{t+1}`, with `R̂` after the last step
/// taken from `bootstrap` (`V(s_T)` for an unfinished episode; ignored where `done`).
/// When an episode is truncated inside the rollout, pass its bootstrap through `rewards`
/// (add `γ V(s_{t+1})`), as REINFORCE implementations do.
///
/// ```
/// use ndarray::array;
/// use wengert_rl::advantage::reward_to_go;
/// let rewards = array![[1.0], [2.0], [3.0]];
/// let done = array![[false], [true], [false]];
/// let r = reward_to_go(&rewards, &done, &array![10.0], 0.5);
/// assert_eq!(r.column(0).to_vec(), vec![1.0 + 0.5 * 2.0, 2.0, 3.0 + 0.5 * 10.0]);
/// ```
// ANCHOR: reward_to_go
pub fn reward_to_go(
    rewards: &Array2<f64>,
    done: &Array2<bool>,
    bootstrap: &ndarray::Array1<f64>,
    gamma: f64,
) -> Array2<f64> {
    let (steps, envs) = rewards.dim();
    if done.dim() != (steps, envs) || bootstrap.len() != envs {
        panic!(
            "reward_to_go: rewards {:?}, done {:?} and bootstrap [{}] do not agree",
            rewards.dim(),
            done.dim(),
            bootstrap.len()
        );
    }
    let mut out = Array2::zeros((steps, envs));
    for i in 0..envs {
        let mut next = bootstrap[i];
        for t in (0..steps).rev() {
            let carry = if done[[t, i]] { 0.0 } else { gamma * next };
            out[[t, i]] = rewards[[t, i]] + carry;
            next = out[[t, i]];
        }
    }
    out
}
// ANCHOR_END: reward_to_go

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// `(rewards, values, next_values, terminated, done)`.
    #[allow(clippy::type_complexity)]
    fn case() -> (
        Array2<f64>,
        Array2<f64>,
        Array2<f64>,
        Array2<bool>,
        Array2<bool>,
    ) {
        // Two environments, four steps. Env 0 terminates at t = 1; env 1 is truncated at t = 2.
        let rewards = array![[1.0, 0.5], [2.0, -1.0], [0.0, 2.0], [1.5, 1.0]];
        let values = array![[0.3, 0.1], [0.2, 0.4], [0.7, -0.2], [0.1, 0.6]];
        let next_values = array![[0.2, 0.4], [5.0, -0.2], [0.1, 0.9], [0.8, 0.3]];
        let terminated = array![
            [false, false],
            [true, false],
            [false, false],
            [false, false]
        ];
        let done = array![[false, false], [true, false], [false, true], [false, false]];
        (rewards, values, next_values, terminated, done)
    }

    #[test]
    fn lambda_zero_is_the_one_step_td_error() {
        let (r, v, nv, term, done) = case();
        let trajectory = Trajectory {
            rewards: &r,
            values: &v,
            next_values: &nv,
            terminated: &term,
            done: &done,
        };
        let (advantages, _) = gae(&trajectory, 0.9, 0.0);
        let expected = array![
            [1.0 + 0.9 * 0.2 - 0.3, 0.5 + 0.9 * 0.4 - 0.1],
            [2.0 - 0.2, -1.0 + 0.9 * -0.2 - 0.4],
            [0.0 + 0.9 * 0.1 - 0.7, 2.0 + 0.9 * 0.9 + 0.2],
            [1.5 + 0.9 * 0.8 - 0.1, 1.0 + 0.9 * 0.3 - 0.6]
        ];
        for (a, e) in advantages.iter().zip(expected.iter()) {
            assert!((a - e).abs() < 1e-12);
        }
    }

    #[test]
    fn lambda_one_is_the_monte_carlo_advantage_with_bootstrap_on_truncation_only() {
        let (r, v, nv, term, done) = case();
        let trajectory = Trajectory {
            rewards: &r,
            values: &v,
            next_values: &nv,
            terminated: &term,
            done: &done,
        };
        let g = 0.9;
        let (advantages, returns) = gae(&trajectory, g, 1.0);
        // env 0: episode [t0, t1] terminates (no bootstrap); episode [t2, t3] bootstraps V = 0.8
        let mc0 = [1.0 + g * 2.0, 2.0, 0.0 + g * (1.5 + g * 0.8), 1.5 + g * 0.8];
        // env 1: episode [t0..t2] truncated at t2: bootstrap V(final obs) = 0.9
        let mc1 = [
            0.5 + g * (-1.0 + g * (2.0 + g * 0.9)),
            -1.0 + g * (2.0 + g * 0.9),
            2.0 + g * 0.9,
            1.0 + g * 0.3,
        ];
        for t in 0..4 {
            assert!((returns[[t, 0]] - mc0[t]).abs() < 1e-12, "env 0, t {t}");
            assert!((returns[[t, 1]] - mc1[t]).abs() < 1e-12, "env 1, t {t}");
            assert!((advantages[[t, 0]] - (mc0[t] - v[[t, 0]])).abs() < 1e-12);
        }
    }

    #[test]
    fn terminal_next_values_are_never_used() {
        let (r, v, mut nv, term, done) = case();
        let trajectory = Trajectory {
            rewards: &r,
            values: &v,
            next_values: &nv,
            terminated: &term,
            done: &done,
        };
        let (a, _) = gae(&trajectory, 0.99, 0.95);
        nv[[1, 0]] = 1e6;
        let trajectory = Trajectory {
            rewards: &r,
            values: &v,
            next_values: &nv,
            terminated: &term,
            done: &done,
        };
        let (b, _) = gae(&trajectory, 0.99, 0.95);
        assert_eq!(a, b);
    }
}
