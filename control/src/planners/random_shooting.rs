//! Random shooting: sample control sequences, keep the best.
//!
//! ## Background
//!
//! The simplest sampling planner (e.g. Nagabandi et al. 2018): draw `S` control sequences
//! `u^(s)_{0:N−1}` uniformly from the control box, roll each out through the model from the
//! current state, and apply the first control of the cheapest:
//!
//! $$ s^\star = \arg\min_s J(u^{(s)}) , \qquad \text{apply } u^{(s^\star)}_0 $$
//!
//! The previous best sequence, shifted by one step, is kept as one of the candidates, so a
//! good plan is not forgotten between calls. No derivatives are needed; the price is that the
//! chance of sampling a good sequence falls quickly with the horizon and control dimension.

#![allow(non_snake_case)]

use super::{Planner, control_box, shift};
use crate::ilqr::Problem;
use ndarray::{Array1, Array2, Array3, Axis};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Options of [`RandomShooting`].
///
/// ```
/// use wengert_control::planners::RandomShootingOptions;
/// assert_eq!(RandomShootingOptions::default().samples, 256);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RandomShootingOptions {
    /// Sequences `S` per call.
    pub samples: usize,
    /// Seed of the sampler.
    pub seed: u64,
}

impl Default for RandomShootingOptions {
    fn default() -> Self {
        RandomShootingOptions {
            samples: 256,
            seed: 0,
        }
    }
}

/// The random-shooting planner (the problem must have control limits).
///
/// ```
/// use autograd::Tensor;
/// use ndarray::array;
/// use wengert_control::ilqr::Problem;
/// use wengert_control::planners::{Planner, RandomShooting, RandomShootingOptions};
///
/// let problem = Problem::new(1, 1, 5, |x, u| x + u,
///     |x, _| x.powi(2).sum(&[0], false), |x| x.powi(2).sum(&[0], false))
///     .with_control_limits(array![-1.0], array![1.0]);
/// let mut planner = RandomShooting::new(problem, RandomShootingOptions::default());
/// assert!(planner.plan(&array![3.0])[0] < -0.5); // head for zero, fast
/// ```
#[derive(Debug)]
pub struct RandomShooting {
    problem: Problem,
    options: RandomShootingOptions,
    rng: StdRng,
    best: Option<Array2<f64>>,
}

impl RandomShooting {
    /// A planner for `problem` (horizon and limits are the problem's).
    pub fn new(problem: Problem, options: RandomShootingOptions) -> Self {
        let rng = StdRng::seed_from_u64(options.seed);
        RandomShooting {
            problem,
            options,
            rng,
            best: None,
        }
    }
}

impl Planner for RandomShooting {
    fn plan(&mut self, x: &Array1<f64>) -> Array1<f64> {
        let (lower, upper) = control_box(&self.problem, "RandomShooting");
        let (N, m, S) = (self.problem.horizon, self.problem.m, self.options.samples);
        let mut u = Array3::zeros((N, m, S));
        for t in 0..N {
            for i in 0..m {
                for s in 0..S {
                    u[[t, i, s]] = if lower[i] < upper[i] {
                        self.rng.random_range(lower[i]..upper[i])
                    } else {
                        lower[i]
                    };
                }
            }
        }
        if let Some(best) = &self.best {
            u.index_axis_mut(Axis(2), 0).assign(&shift(best));
        }
        let costs = self.problem.rollout_costs(x, &u);
        let winner = argmin(&costs);
        let best = u.index_axis(Axis(2), winner).to_owned();
        let u_0 = best.row(0).to_owned();
        self.best = Some(best);
        u_0
    }

    fn reset(&mut self) {
        self.best = None;
    }
}

/// Index of the smallest element (NaN never wins).
pub(crate) fn argmin(values: &Array1<f64>) -> usize {
    values
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}
