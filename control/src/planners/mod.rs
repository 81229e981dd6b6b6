//! Planners: controllers that, at each state, plan over a finite horizon with a model and apply
//! the first control of the plan. All implement [`Planner`], the interface the `rl` crate can
//! use as a policy.
//!
//! - [`Mpc`]: receding-horizon iLQR (or DDP), warm-started from the previous plan shifted by one
//!   step.
//! - [`RandomShooting`]: the best of many random control sequences.
//! - [`CrossEntropyMethod`]: a Gaussian over control sequences refitted to its best samples.
//!
//! The sampling planners roll out all their samples at once, as the columns of one batch
//! ([`crate::ilqr::Problem::rollout_costs`]).

#![allow(non_snake_case)]

mod cem;
mod mpc;
mod random_shooting;

pub use cem::{CemOptions, CrossEntropyMethod};
pub use mpc::Mpc;
pub use random_shooting::{RandomShooting, RandomShootingOptions};

use crate::ilqr::Problem;
use ndarray::{Array1, Array2, s};

/// A policy that plans: the control to apply at state `x`.
///
/// ```
/// use autograd::Tensor;
/// use ndarray::array;
/// use wengert_control::ilqr::{IlqrOptions, Problem};
/// use wengert_control::planners::{Mpc, Planner};
///
/// let problem = Problem::new(1, 1, 10, |x, u| x + u,
///     |x, u| (x.powi(2) + u.powi(2)).sum(&[0], false), |x| x.powi(2).sum(&[0], false));
/// let mut planner: Box<dyn Planner> = Box::new(Mpc::new(problem, IlqrOptions::default()));
/// let u = planner.plan(&array![1.0]);
/// assert!(u[0] < 0.0); // push the state towards zero
/// planner.reset();
/// ```
pub trait Planner {
    /// The control to apply now, at state `x`.
    fn plan(&mut self, x: &Array1<f64>) -> Array1<f64>;

    /// Forgets what was carried over between calls (warm starts), e.g. at a new episode.
    fn reset(&mut self);
}

/// The warm start for the next call: the plan advanced by one step, its last control repeated
/// (`u_t ← u_{t+1}`, `u_{N−1} ← u_{N−1}`).
///
/// ```
/// use ndarray::array;
/// use wengert_control::planners::shift;
///
/// assert_eq!(shift(&array![[1.0], [2.0], [3.0]]), array![[2.0], [3.0], [3.0]]);
/// ```
pub fn shift(plan: &Array2<f64>) -> Array2<f64> {
    let N = plan.nrows();
    let mut shifted = plan.clone();
    if N > 1 {
        shifted
            .slice_mut(s![..N - 1, ..])
            .assign(&plan.slice(s![1.., ..]));
    }
    shifted
}

/// The control box of a problem, which the sampling planners need.
fn control_box(problem: &Problem, planner: &str) -> (Array1<f64>, Array1<f64>) {
    problem.control_limits.clone().unwrap_or_else(|| {
        panic!("{planner}: the problem has no control limits to sample within; set them with Problem::with_control_limits")
    })
}
