//! The cross-entropy method (CEM) for planning.
//!
//! ## Background
//!
//! CEM (Rubinstein 1999; for control e.g. Chua et al. 2018) keeps an independent Gaussian
//! $\mathcal N(\mu_t, \operatorname{diag} \sigma_t^2)$ over each control $u_t$ of the sequence and
//! repeatedly refits it to the best samples.
//!
//! ## Key equations
//!
//! Per iteration: draw $S$ sequences
//! $u^{(s)}_t = \operatorname{clip}(\mu_t + \sigma_t \circ \varepsilon^{(s)}_t)$,
//! $\varepsilon \sim \mathcal N(0, I)$; roll them out; take the $E$ with the lowest cost (the
//! *elites*, set $\mathcal E$); then, with smoothing $\alpha \in (0, 1]$,
//!
//! $$ \mu_t \leftarrow \alpha \operatorname{mean}_{s \in \mathcal E} u^{(s)}_t + (1 - \alpha) \mu_t , \qquad
//!    \sigma_t \leftarrow \alpha \operatorname{std}_{s \in \mathcal E} u^{(s)}_t + (1 - \alpha) \sigma_t . $$
//!
//! Each batch includes `μ` itself as one sample. After the iterations, apply the first control
//! of the best sequence seen; between calls, `μ` starts from that sequence shifted one step,
//! and `σ` is reset to its initial value.
//!
//! ## Pseudocode
//!
//! ```text
//! μ ← shift(best of the last call) (the box centre at the first call), σ ← σ_init
//! repeat iterations times:
//!     sample S sequences, clip to the box, roll out (all at once), pick E elites
//!     refit μ, σ with smoothing α
//! apply the first control of the best sequence sampled
//! ```

#![allow(non_snake_case)]

use super::random_shooting::argmin;
use super::{Planner, control_box, shift};
use crate::ilqr::Problem;
use ndarray::{Array1, Array2, Array3, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// Options of [`CrossEntropyMethod`], named as in the module docs.
///
/// ```
/// use wengert_control::planners::CemOptions;
/// let options = CemOptions::default();
/// assert!(options.elites < options.samples);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CemOptions {
    /// Samples `S` per iteration.
    pub samples: usize,
    /// Elites `E`.
    pub elites: usize,
    /// Refits per call.
    pub iterations: usize,
    /// Smoothing `α` (1: no smoothing).
    pub smoothing: f64,
    /// `σ_init`, as a fraction of the half-width of the control box.
    pub initial_std: f64,
    /// Seed of the sampler.
    pub seed: u64,
}

impl Default for CemOptions {
    fn default() -> Self {
        CemOptions {
            samples: 64,
            elites: 8,
            iterations: 4,
            smoothing: 0.9,
            initial_std: 0.5,
            seed: 0,
        }
    }
}

/// The CEM planner (the problem must have control limits).
///
/// ```
/// use autograd::Tensor;
/// use ndarray::array;
/// use wengert_control::ilqr::Problem;
/// use wengert_control::planners::{CemOptions, CrossEntropyMethod, Planner};
///
/// let problem = Problem::new(1, 1, 5, |x, u| x + u,
///     |x, u| (x.powi(2) + u.powi(2) * 0.01).sum(&[0], false), |x| x.powi(2).sum(&[0], false))
///     .with_control_limits(array![-1.0], array![1.0]);
/// let mut planner = CrossEntropyMethod::new(problem, CemOptions::default());
/// assert!(planner.plan(&array![3.0])[0] < -0.5);
/// ```
#[derive(Debug)]
pub struct CrossEntropyMethod {
    problem: Problem,
    options: CemOptions,
    rng: StdRng,
    mean: Option<Array2<f64>>,
}

impl CrossEntropyMethod {
    /// A planner for `problem` (horizon and limits are the problem's).
    pub fn new(problem: Problem, options: CemOptions) -> Self {
        assert!(
            0 < options.elites && options.elites <= options.samples,
            "CEM: need 0 < elites ≤ samples, got {} elites of {} samples",
            options.elites,
            options.samples
        );
        let rng = StdRng::seed_from_u64(options.seed);
        CrossEntropyMethod {
            problem,
            options,
            rng,
            mean: None,
        }
    }
}

impl Planner for CrossEntropyMethod {
    fn plan(&mut self, x: &Array1<f64>) -> Array1<f64> {
        let (lower, upper) = control_box(&self.problem, "CrossEntropyMethod");
        let (N, m) = (self.problem.horizon, self.problem.m);
        let CemOptions {
            samples: S,
            elites: E,
            iterations,
            smoothing: alpha,
            initial_std,
            ..
        } = self.options;
        let centre = (&lower + &upper) * 0.5;
        let half_width = (&upper - &lower) * 0.5;
        let mut mean = match &self.mean {
            Some(mean) => shift(mean),
            None => centre
                .broadcast((N, m))
                .expect("a row broadcasts")
                .to_owned(),
        };
        let mut std = (&half_width * initial_std)
            .broadcast((N, m))
            .expect("a row broadcasts")
            .to_owned();
        let mut best = (f64::INFINITY, mean.clone());
        for _ in 0..iterations {
            // Column 0 is the current mean itself, so the refit can never lose it.
            let mut u = Array3::zeros((N, m, S));
            for t in 0..N {
                for i in 0..m {
                    for s in 0..S {
                        let epsilon: f64 = if s == 0 {
                            0.0
                        } else {
                            StandardNormal.sample(&mut self.rng)
                        };
                        u[[t, i, s]] =
                            (mean[[t, i]] + std[[t, i]] * epsilon).clamp(lower[i], upper[i]);
                    }
                }
            }
            let costs = self.problem.rollout_costs(x, &u);
            let mut order: Vec<usize> = (0..S).collect();
            order.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]));
            let winner = argmin(&costs);
            if costs[winner] < best.0 {
                best = (costs[winner], u.index_axis(Axis(2), winner).to_owned());
            }
            let elites = u.select(Axis(2), &order[..E]);
            let elite_mean = elites.mean_axis(Axis(2)).expect("E > 0");
            let elite_std = elites.std_axis(Axis(2), 0.0);
            mean = &elite_mean * alpha + &mean * (1.0 - alpha);
            std = &elite_std * alpha + &std * (1.0 - alpha);
        }
        let u_0 = best.1.row(0).to_owned();
        self.mean = Some(best.1);
        u_0
    }

    fn reset(&mut self) {
        self.mean = None;
    }
}
