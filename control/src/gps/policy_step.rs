//! Guided policy search's policy step: its regression data and its loss (the equations are in
//! [`guided_policy_search`](mod@super::guided_policy_search)'s header).
//!
//! ```text
//! trajectory points   (x_t^i,      u_t^i + λ_t^i/ρ_t^i)                                (regression_data)
//! perturbed points    (x_t^i + δ,  clamp(u_t^i + λ_t^i/ρ_t^i + K_t^i δ)),  δ ~ N(0, diag σ²)
//! policy samples      (x^π_t,      clamp(u_t^i + λ_t^i/ρ_t^i + K_t^i (x^π_t − x_t^i)))  (policy_sample_data)
//! loss                (ρ/2B) Σ ‖π − b‖²,  or with fit_executed                        (executed_regression_loss)
//!                     (ρ/2B) Σ r²,  r = min(π, ū) − b where b ≥ ū, max(π, u̲) − b where b ≤ u̲, π − b elsewhere
//!                                                                                      (executed_residual)
//! loss, per-point ρ   (1/2B) Σ_b ρ_b ‖r_b‖²,  ρ_b the ρ_t^i of the point sample b comes from
//!                                                                                      (weighted_regression_loss)
//! ```
//!
//! With one shared penalty every `ρ_t^i = ρ`.

#![allow(non_snake_case)]

use super::guided_policy_search::{GpsConfig, policy_rollout};
use super::penalty::PenaltyRule;
use super::policy::fit_policy;
use crate::ilqr::Problem;
use crate::model_based::ModelPolicy;
use autograd::{Float, Tensor, Var};
use ndarray::{Array1, Array2, Axis};
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// The policy step's loss for the executed constraint `u = clamp_U(π)`, `U = [u̲, ū]`, on a batch
/// of policy outputs `π` and targets `b` (both `m × B`, `b = u + λ/ρ` or a feedback label):
/// `(ρ / 2B) Σ r²` with `r = min(π, ū) − b` where `b ≥ ū`, `max(π, u̲) − b` where `b ≤ u̲`, and
/// `r = π − b` elsewhere. Past a bound every `π` beyond it executes the bound, so there the
/// policy is asked only to reach the bound; inside, it is the plain regression.
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::gps::guided_policy_search::executed_regression_loss;
/// let (lower, upper) = (array![-6.0], array![6.0]);
/// // a target past ū = 6 and a policy beyond it: the executed actions agree, no loss
/// let pi = Var::constant(array![[6.2, 1.0]]);
/// let target = Var::constant(array![[6.05, 2.0]]);
/// let loss = executed_regression_loss(&pi, &target, (&lower, &upper), 2.0);
/// assert!((loss.item() - ((6.0_f64 - 6.05).powi(2) + 1.0) * 2.0 / 2.0 / 2.0).abs() < 1e-12);
/// ```
// ANCHOR: executed_regression_loss
pub fn executed_regression_loss<T: Float>(
    pi: &Var<T>,
    target: &Var<T>,
    bounds: (&Array1<T>, &Array1<T>),
    rho: T,
) -> Var<T> {
    let batch = T::from_f64(pi.shape()[1] as f64);
    executed_residual(pi, target, bounds).powi(2).sum_all() * (rho * T::from_f64(0.5) / batch)
}
// ANCHOR_END: executed_regression_loss

/// The residual `r` of [`executed_regression_loss`] (`m × B`): `min(π, ū) − b` where `b ≥ ū`,
/// `max(π, u̲) − b` where `b ≤ u̲`, `π − b` elsewhere.
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::gps::policy_step::executed_residual;
/// let (pi, b) = (Var::constant(array![[6.2, 1.0]]), Var::constant(array![[6.05, 2.0]]));
/// let r = executed_residual(&pi, &b, (&array![-6.0], &array![6.0]));
/// assert_eq!(r.value().as_slice().unwrap(), &[6.0 - 6.05, 1.0 - 2.0]);
/// ```
pub fn executed_residual<T: Float>(
    pi: &Var<T>,
    target: &Var<T>,
    (lower, upper): (&Array1<T>, &Array1<T>),
) -> Var<T> {
    let b = target.value();
    let column = |bound: &Array1<T>| Var::constant(bound.clone().insert_axis(Axis(1)));
    let above = ndarray::Zip::from(b)
        .and_broadcast(upper.view().insert_axis(Axis(1)).into_dyn())
        .map_collect(|&b, &u| b >= u);
    let below = ndarray::Zip::from(b)
        .and_broadcast(lower.view().insert_axis(Axis(1)).into_dyn())
        .map_collect(|&b, &l| b <= l);
    let reached = pi
        .minimum(&column(upper))
        .where_(&above, &pi.maximum(&column(lower)).where_(&below, pi));
    reached - target
}

/// The policy step's loss with a penalty per point: `(1/2B) Σ_b ρ_b ‖r_b‖²` for residuals `r`
/// (`m × B`: `π − b`, or [`executed_residual`]) and penalties `ρ` (`1 × B`) — the augmented
/// Lagrangian's policy subproblem `Σ λᵀ(u − π) + (ρ_t^i/2) ‖u − π‖²` up to a constant.
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::gps::policy_step::weighted_regression_loss;
/// let r = Var::constant(array![[1.0, 2.0]]);
/// let rho = Var::constant(array![[4.0, 1.0]]);
/// assert_eq!(weighted_regression_loss(&r, &rho).item(), (4.0 * 1.0 + 1.0 * 4.0) / 2.0 / 2.0);
/// ```
// ANCHOR: weighted_regression_loss
pub fn weighted_regression_loss<T: Float>(r: &Var<T>, rho: &Var<T>) -> Var<T> {
    let batch = T::from_f64(r.shape()[1] as f64);
    (r.powi(2) * rho).sum_all() * (T::from_f64(0.5) / batch)
}
// ANCHOR_END: weighted_regression_loss

/// The policy step: fits `π_θ` to the states `X` (`n × D`) and targets `U` (`m × D`) of
/// [`regression_data`] (and the policy samples), each column weighted by its `ρ_t^i` (`W`,
/// `1 × D`) under [`PenaltyRule::PerPoint`]; under [`PenaltyRule::Shared`] every `ρ_t^i` is the
/// one `ρ`, which scales the plain loss. With `fit_executed` and a control box the residual is
/// [`executed_residual`]. Returns the last epoch's mean loss.
pub(super) fn policy_step(
    policy: &mut ModelPolicy,
    problem: &Problem,
    (X, U, W): (&Array2<f64>, &Array2<f64>, &Array2<f64>),
    config: &GpsConfig,
    seed: u64,
) -> f64 {
    let bounds = match (&problem.control_limits, config.fit_executed) {
        (Some((lower, upper)), true) => Some((lower, upper)),
        _ => None,
    };
    match config.penalty {
        PenaltyRule::Shared => {
            let rho = W[[0, 0]];
            fit_policy(policy, X, U, &config.fit, seed, |pi, target| match bounds {
                Some(bounds) => executed_regression_loss(pi, target, bounds, rho),
                None => (pi - target).powi(2).sum_all() * (rho / 2.0 / pi.shape()[1] as f64),
            })
        }
        PenaltyRule::PerPoint { .. } => {
            // the targets with their ρ_t^i as an extra row
            let m = U.nrows();
            let B = ndarray::concatenate(Axis(0), &[U.view(), W.view()]).expect("D columns");
            fit_policy(policy, X, &B, &config.fit, seed, |pi, b| {
                let (target, rho_b) = (b.slice(0, 0, m), b.slice(0, m, m + 1));
                let r = match bounds {
                    Some(bounds) => executed_residual(pi, &target, bounds),
                    None => pi - &target,
                };
                weighted_regression_loss(&r, &rho_b)
            })
        }
    }
}

/// Per start: states `x^i`, controls `u^i`, multipliers `λ^i` and iLQR's gains `K_t^i`.
pub type Trajectories<'a> = (
    &'a [Array2<f64>],
    &'a [Array2<f64>],
    &'a [Array2<f64>],
    &'a [Vec<Array2<f64>>],
);

/// The policy step's regression data as columns: each `x_t^i` with its target
/// `u_t^i + λ_t^i/ρ_t^i`, followed by `perturbations` copies `x_t^i + δ` with target
/// `u_t^i + λ_t^i/ρ_t^i + K_t^i δ`, `δ_j ~ N(0, σ_j²)`, clipped to the policy's box (the local
/// feedback holds only inside it); and each column's `ρ_t^i` (`1 × D`).
pub(super) fn regression_data(
    (x, u, lambda, K): Trajectories<'_>,
    (lower, upper): (&Array1<f64>, &Array1<f64>),
    rho: &[Array1<f64>],
    config: &GpsConfig,
    rng: &mut StdRng,
) -> (Array2<f64>, Array2<f64>, Array2<f64>) {
    let (mut states, mut targets, mut penalties) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..x.len() {
        for (t, K_t) in K[i].iter().enumerate() {
            let x_t = x[i].row(t).to_owned();
            let target = &u[i].row(t) + &(&lambda[i].row(t) / rho[i][t]);
            penalties.extend(std::iter::repeat_n(rho[i][t], 1 + config.perturbations));
            states.push(x_t.clone());
            targets.push(target.clone());
            for _ in 0..config.perturbations {
                let delta: Array1<f64> = config
                    .perturbation_std
                    .iter()
                    .map(|sigma| {
                        let z: f64 = StandardNormal.sample(&mut *rng);
                        sigma * z
                    })
                    .collect();
                states.push(&x_t + &delta);
                let feedback = &target + &K_t.dot(&delta);
                targets.push(Array1::from_shape_fn(feedback.len(), |j| {
                    feedback[j].clamp(lower[j], upper[j])
                }));
            }
        }
    }
    let penalties = Array2::from_shape_vec((1, penalties.len()), penalties).expect("one row");
    (columns(&states), columns(&targets), penalties)
}

/// The policy samples as columns: for each start `x_0^i`, the states `x^π_t`, `t < N`, of
/// `π_θ`'s rollout (its action clamped to the problem's box), each with the target
/// `u_t^i + λ_t^i/ρ_t^i + K_t^i (x^π_t − x_t^i)` clipped to the policy's box `[lower, upper]`
/// (`ρ^i` one penalty per step, `N`).
///
/// ```
/// use autograd::Tensor;
/// use ndarray::array;
/// use wengert_control::gps::guided_policy_search::{policy_rollout, policy_sample_data};
/// use wengert_control::ilqr::Problem;
/// use wengert_control::model_based::ModelPolicy;
///
/// let problem = Problem::new(1, 1, 2, |x, u| x + u, |_, u| u.powi(2).sum(&[0], false), |x| x.sum(&[0], false) * 0.0);
/// let policy = ModelPolicy::new(1, &[4], array![-1.0], array![1.0], 0);
/// let x0 = array![0.5];
/// // the trajectory is the policy's own rollout: the samples are its states, labelled u + λ/ρ
/// let (x, u) = policy_rollout(&problem, &policy, &x0, 2);
/// let (lambda, K) = (array![[0.2], [-0.4]], vec![array![[3.0]]; 2]);
/// let box_ = (&array![-1.0], &array![1.0]);
/// let rho = [array![2.0, 2.0]];
/// let (X, U) = policy_sample_data(&problem, &policy, &[x0], (&[x.clone()], &[u.clone()], &[lambda.clone()], &[K]), box_, &rho);
/// assert_eq!(X, x.slice(ndarray::s![..2, ..]).t());
/// assert_eq!(U, (&u + &(&lambda / 2.0)).mapv(|v: f64| v.clamp(-1.0, 1.0)).t());
/// ```
pub fn policy_sample_data(
    problem: &Problem,
    policy: &ModelPolicy,
    x0s: &[Array1<f64>],
    (x, u, lambda, K): Trajectories<'_>,
    (lower, upper): (&Array1<f64>, &Array1<f64>),
    rho: &[Array1<f64>],
) -> (Array2<f64>, Array2<f64>) {
    let N = problem.horizon;
    let (mut states, mut targets) = (Vec::new(), Vec::new());
    for (i, x0) in x0s.iter().enumerate() {
        let (x_pi, _) = policy_rollout(problem, policy, x0, N);
        for (t, K_t) in K[i].iter().enumerate().take(N) {
            let x_pi_t = x_pi.row(t).to_owned();
            let feedback = &u[i].row(t)
                + &(&lambda[i].row(t) / rho[i][t])
                + K_t.dot(&(&x_pi_t - &x[i].row(t)));
            targets.push(Array1::from_shape_fn(feedback.len(), |j| {
                feedback[j].clamp(lower[j], upper[j])
            }));
            states.push(x_pi_t);
        }
    }
    (columns(&states), columns(&targets))
}

/// Rows (vectors of equal length) as the columns of a matrix.
fn columns(rows: &[Array1<f64>]) -> Array2<f64> {
    Array2::from_shape_fn((rows[0].len(), rows.len()), |(j, b)| rows[b][j])
}
