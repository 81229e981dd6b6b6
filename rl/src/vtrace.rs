//! # V-trace: off-policy value targets and advantages (IMPALA)
//!
//! ## Background
//! In an actor–learner setup (IMPALA, Espeholt et al., 2018) the actors act with a behaviour
//! policy `μ` that lags behind the learner's target policy `π`. V-trace corrects the n-step
//! value targets with truncated importance weights, so that they estimate `V^{π_ρ̄}` — the value
//! of a policy between `μ` and `π` that equals `π` when `ρ̄ = ∞` — with bounded variance.
//!
//! ## Key equations
//! With the importance ratios `π(a_t|s_t) / μ(a_t|s_t)`, clipped as
//! `ρ_t = min(ρ̄, π/μ)` and `c_t = λ min(c̄, π/μ)`, and the weighted TD residual
//! `δ_t V = ρ_t (r_t + γ V(s_{t+1}) − V(s_t))`, the n-step V-trace target is (paper, eq. 1)
//!
//! $$ v_s = V(x_s) + \sum_{t=s}^{s+n-1} \gamma^{t-s} \Big( \prod_{i=s}^{t-1} c_i \Big) \delta_t V , $$
//!
//! computed backwards by `v_s − V(s_s) = δ_s V + γ c_s (v_{s+1} − V(s_{s+1}))`. The policy
//! gradient uses the advantage `A_s = ρ^pg_s (r_s + γ v_{s+1} − V(s_s))` with its own clip,
//! `ρ^pg_s = min(ρ̄_pg, π/μ)` (DeepMind's `clip_pg_rho_threshold`; `ρ̄_pg = ρ̄` in the paper), and
//! the value function regresses on `v_s`. On-policy (`π = μ`) with `ρ̄ = c̄ = 1`, `v_s` is the λ-return and
//! `v_s − V(s_s)` is GAE(λ) (see [`crate::advantage`]).
//!
//! Episode boundaries follow the rest of the crate: at a **terminated** step `V(s_{t+1}) = 0`;
//! at a **truncated** step `V(s_{t+1})` is the value of the final observation; either way the
//! recursion stops there, and after the last step of the rollout `v_{T} = V(s_T)`.
//!
//! ## Pseudocode
//! ```text
//! for t = T−1 … 0:
//!     ρ_t = min(ρ̄, exp(log_rho_t)),   c_t = λ min(c̄, exp(log_rho_t)),   ρ^pg_t = min(ρ̄_pg, exp(log_rho_t))
//!     δ_t = ρ_t (r_t + γ (1 − terminated_t) V(s_{t+1}) − V(s_t))
//!     v_t − V(s_t) = δ_t + γ c_t (1 − done_t) (v_{t+1} − V(s_{t+1}))
//!     A_t = ρ^pg_t (r_t + γ (1 − terminated_t) v'_{t+1} − V(s_t)),
//!           v'_{t+1} = v_{t+1} inside an episode, V(s_{t+1}) at its end or the rollout's
//! ```

use ndarray::Array2;

use crate::advantage::Trajectory;

/// The clipping and trace parameters of V-trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VTraceConfig {
    /// Discount `γ`.
    pub gamma: f64,
    /// `ρ̄`: clips the weight of each TD residual (the fixed point is `V^{π_ρ̄}`). Default 1.
    pub rho_bar: f64,
    /// `c̄`: clips the trace weights (the contraction speed). Default 1.
    pub c_bar: f64,
    /// `λ`: scales the trace weights, as in TD(λ) / GAE(λ). Default 1.
    pub lambda: f64,
    /// `ρ̄_pg`: clips the weight of the policy-gradient advantage. Default 1.
    pub pg_rho_bar: f64,
}

impl Default for VTraceConfig {
    fn default() -> Self {
        VTraceConfig {
            gamma: 0.99,
            rho_bar: 1.0,
            c_bar: 1.0,
            lambda: 1.0,
            pg_rho_bar: 1.0,
        }
    }
}

/// The V-trace value targets `v_t` and policy-gradient advantages `A_t`, `T × N`, from a
/// trajectory collected by `μ` and the log-ratios `log π(a_t|s_t) − log μ(a_t|s_t)`.
///
/// ```
/// use ndarray::array;
/// use wengert_rl::advantage::Trajectory;
/// use wengert_rl::vtrace::{vtrace, VTraceConfig};
/// let rewards = array![[1.0], [1.0]];
/// let values = array![[0.0], [0.0]];
/// let next_values = array![[0.0], [0.0]];
/// let ended = array![[false], [true]];
/// let trajectory = Trajectory { rewards: &rewards, values: &values, next_values: &next_values, terminated: &ended, done: &ended };
/// // π twice as likely as μ to take both actions: ρ = c = min(1, 2) = 1.
/// let log_rhos = array![[2f64.ln()], [2f64.ln()]];
/// let config = VTraceConfig { gamma: 0.5, ..VTraceConfig::default() };
/// let (vs, advantages) = vtrace(&trajectory, &log_rhos, &config);
/// assert_eq!(vs.column(0).to_vec(), vec![1.5, 1.0]);
/// assert_eq!(advantages.column(0).to_vec(), vec![1.5, 1.0]);
/// ```
///
/// # Panics
/// If `log_rhos` does not have the trajectory's shape.
pub fn vtrace(
    trajectory: &Trajectory<'_>,
    log_rhos: &Array2<f64>,
    config: &VTraceConfig,
) -> (Array2<f64>, Array2<f64>) {
    let (steps, envs) = trajectory.rewards.dim();
    if log_rhos.dim() != (steps, envs) {
        panic!(
            "vtrace: log_rhos has shape {:?}, the trajectory {:?}",
            log_rhos.dim(),
            (steps, envs)
        );
    }
    let Trajectory {
        rewards,
        values,
        next_values,
        terminated,
        done,
    } = *trajectory;
    let VTraceConfig {
        gamma,
        rho_bar,
        c_bar,
        lambda,
        pg_rho_bar,
    } = *config;
    let mut vs = Array2::zeros((steps, envs));
    let mut advantages = Array2::zeros((steps, envs));
    for i in 0..envs {
        // v_{t+1} − V(s_{t+1}), zero after the last step of the rollout.
        let mut next_correction = 0.0;
        for t in (0..steps).rev() {
            let ratio = log_rhos[[t, i]].exp();
            let rho = ratio.min(rho_bar);
            let c = lambda * ratio.min(c_bar);
            let bootstrap = if terminated[[t, i]] { 0.0 } else { gamma };
            let delta = rho * (rewards[[t, i]] + bootstrap * next_values[[t, i]] - values[[t, i]]);
            let carry = if done[[t, i]] { 0.0 } else { next_correction };
            let correction = delta + gamma * c * carry;
            vs[[t, i]] = values[[t, i]] + correction;
            // v'_{t+1}: the V-trace target inside the episode, V(s_{t+1}) at a boundary.
            let v_next = next_values[[t, i]] + carry;
            let rho_pg = ratio.min(pg_rho_bar);
            advantages[[t, i]] = rho_pg * (rewards[[t, i]] + bootstrap * v_next - values[[t, i]]);
            next_correction = correction;
        }
    }
    (vs, advantages)
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    use super::*;
    use crate::advantage::gae;

    struct Rollout {
        rewards: Array2<f64>,
        values: Array2<f64>,
        next_values: Array2<f64>,
        terminated: Array2<bool>,
        done: Array2<bool>,
        log_rhos: Array2<f64>,
    }

    impl Rollout {
        /// Random rewards, values and ratios; with `boundaries`, some episodes terminate and
        /// some are truncated inside the rollout.
        fn random(steps: usize, envs: usize, boundaries: bool, seed: u64) -> Self {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut uniform = |low: f64, high: f64| {
                Array2::from_shape_simple_fn((steps, envs), || rng.random_range(low..high))
            };
            let rewards = uniform(-1.0, 1.0);
            let values = uniform(-2.0, 2.0);
            let log_rhos = uniform(-1.5, 1.5);
            let ends = uniform(0.0, 1.0);
            let final_values = uniform(-2.0, 2.0);
            let terminated = ends.mapv(|u| boundaries && u < 0.1);
            let done = ends.mapv(|u| boundaries && u < 0.2);
            // Inside an episode V(s_{t+1}) is the next row's value; at a truncation, the final
            // observation's; after the rollout, a bootstrap value.
            let next_values = Array2::from_shape_fn((steps, envs), |(t, i)| {
                if t + 1 < steps && !done[[t, i]] {
                    values[[t + 1, i]]
                } else {
                    final_values[[t, i]]
                }
            });
            Rollout {
                rewards,
                values,
                next_values,
                terminated,
                done,
                log_rhos,
            }
        }

        fn trajectory(&self) -> Trajectory<'_> {
            Trajectory {
                rewards: &self.rewards,
                values: &self.values,
                next_values: &self.next_values,
                terminated: &self.terminated,
                done: &self.done,
            }
        }
    }

    /// Equation 1 of the paper as written: a sum over `t ≥ s` of discounted, trace-weighted
    /// TD residuals, stopping at the episode's end or the rollout's.
    fn vtrace_by_definition(rollout: &Rollout, config: &VTraceConfig) -> Array2<f64> {
        let (steps, envs) = rollout.rewards.dim();
        let VTraceConfig {
            gamma,
            rho_bar,
            c_bar,
            lambda,
            ..
        } = *config;
        Array2::from_shape_fn((steps, envs), |(s, i)| {
            let mut total = rollout.values[[s, i]];
            let mut weight = 1.0; // γ^{t−s} Π_{j<t} c_j
            for t in s..steps {
                let ratio = rollout.log_rhos[[t, i]].exp();
                let bootstrap = if rollout.terminated[[t, i]] {
                    0.0
                } else {
                    gamma
                };
                let delta = ratio.min(rho_bar)
                    * (rollout.rewards[[t, i]] + bootstrap * rollout.next_values[[t, i]]
                        - rollout.values[[t, i]]);
                total += weight * delta;
                if rollout.done[[t, i]] {
                    break;
                }
                weight *= gamma * lambda * ratio.min(c_bar);
            }
            total
        })
    }

    fn max_difference(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
        (a - b).iter().fold(0.0, |m, d| m.max(d.abs()))
    }

    #[test]
    fn the_recursion_equals_the_papers_sum() {
        for boundaries in [false, true] {
            for (rho_bar, c_bar, lambda) in [(1.0, 1.0, 1.0), (2.0, 0.5, 0.9), (0.8, 1.2, 0.95)] {
                let rollout = Rollout::random(40, 3, boundaries, 7);
                let config = VTraceConfig {
                    gamma: 0.97,
                    rho_bar,
                    c_bar,
                    lambda,
                    pg_rho_bar: rho_bar,
                };
                let (vs, _) = vtrace(&rollout.trajectory(), &rollout.log_rhos, &config);
                let expected = vtrace_by_definition(&rollout, &config);
                assert!(
                    max_difference(&vs, &expected) < 1e-12,
                    "ρ̄ {rho_bar}, c̄ {c_bar}, λ {lambda}, boundaries {boundaries}"
                );
            }
        }
    }

    #[test]
    fn on_policy_it_is_gae() {
        let mut rollout = Rollout::random(50, 4, true, 11);
        rollout.log_rhos.fill(0.0);
        for lambda in [0.0, 0.95, 1.0] {
            let config = VTraceConfig {
                gamma: 0.99,
                lambda,
                ..VTraceConfig::default()
            };
            let (vs, _) = vtrace(&rollout.trajectory(), &rollout.log_rhos, &config);
            let (_, returns) = gae(&rollout.trajectory(), config.gamma, lambda);
            assert!(max_difference(&vs, &returns) < 1e-12, "λ {lambda}");
        }
    }

    #[test]
    fn advantages_bootstrap_on_the_next_target() {
        let rollout = Rollout::random(30, 2, true, 5);
        let config = VTraceConfig {
            gamma: 0.9,
            rho_bar: 1.5,
            c_bar: 1.0,
            lambda: 1.0,
            pg_rho_bar: 0.7,
        };
        let (vs, advantages) = vtrace(&rollout.trajectory(), &rollout.log_rhos, &config);
        for ((t, i), &advantage) in advantages.indexed_iter() {
            let rho = rollout.log_rhos[[t, i]].exp().min(config.pg_rho_bar);
            let inside = t + 1 < 30 && !rollout.done[[t, i]];
            let v_next = if inside {
                vs[[t + 1, i]]
            } else {
                rollout.next_values[[t, i]]
            };
            let bootstrap = if rollout.terminated[[t, i]] {
                0.0
            } else {
                config.gamma
            };
            let expected =
                rho * (rollout.rewards[[t, i]] + bootstrap * v_next - rollout.values[[t, i]]);
            assert!((advantage - expected).abs() < 1e-12, "step {t}, env {i}");
        }
    }

    #[test]
    fn large_ratios_are_clipped() {
        let mut rollout = Rollout::random(20, 2, false, 3);
        let config = VTraceConfig::default();
        rollout.log_rhos.fill(5.0);
        let clipped = vtrace(&rollout.trajectory(), &rollout.log_rhos, &config);
        rollout.log_rhos.fill(0.0);
        let at_one = vtrace(&rollout.trajectory(), &rollout.log_rhos, &config);
        assert_eq!(clipped, at_one);
    }

    #[test]
    #[should_panic(expected = "vtrace: log_rhos has shape (3, 1), the trajectory (2, 1)")]
    fn mismatched_ratios_are_rejected() {
        let rollout = Rollout::random(2, 1, false, 1);
        vtrace(
            &rollout.trajectory(),
            &Array2::zeros((3, 1)),
            &VTraceConfig::default(),
        );
    }
}
