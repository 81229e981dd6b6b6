//! Dual gradient descent: minimise the Lagrangian in `(x, u)` (by iLQR, the dynamics kept by
//! shooting), then take a projected gradient step on the multipliers (the module docs of
//! [`crate::constrained`] give the math).
#![allow(non_snake_case)]

use super::augmented_lagrangian::{
    ConstrainedSolution, OuterIteration, augmented_lagrangian_problem, lagrangian_stationarity,
};
use super::constraints::{Constraints, Multipliers};
use crate::ilqr::{Ilqr, IlqrError, IlqrOptions, Problem};
use ndarray::{Array1, Array2};

/// Options of [`DualGradientDescent`].
///
/// ```
/// use wengert_control::constrained::DualGradientOptions;
/// assert_eq!(DualGradientOptions::default().step, 1.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DualGradientOptions {
    /// The inner iLQR solver's options.
    pub ilqr: IlqrOptions,
    /// At most this many dual steps.
    pub max_iterations: usize,
    /// `α`, the dual step size.
    pub step: f64,
    /// `ε_c`: converged when the violation and the complementarity are below it.
    pub violation_tolerance: f64,
    /// `ε_s`: and when `max_t ‖∇_{u_t} L‖_∞` is below it.
    pub stationarity_tolerance: f64,
}

impl Default for DualGradientOptions {
    fn default() -> Self {
        DualGradientOptions {
            // As for the augmented Lagrangian: the inner solves stop on the gradient, since a
            // small dual step changes the cost by less than a relative tolerance would notice.
            ilqr: IlqrOptions {
                max_iterations: 200,
                tolerance: 1e-14,
                ..IlqrOptions::default()
            },
            max_iterations: 200,
            step: 1.0,
            violation_tolerance: 1e-6,
            stationarity_tolerance: 1e-4,
        }
    }
}

/// Dual gradient descent on the dual function `d(λ, μ) = min_u L(u; λ, μ)`.
///
/// ```
/// use autograd::Tensor;
/// use ndarray::array;
/// use wengert_control::constrained::{Constraints, DualGradientDescent, DualGradientOptions};
/// use wengert_control::ilqr::Problem;
///
/// // Steer x' = x + u from 0 to 1 in 4 steps at least effort. The minimiser of the Lagrangian
/// // is u_t = −λ_T/2, so d(λ_T) = −λ_T² − λ_T: concave with curvature 2, and a step α = ¼
/// // shrinks the error |λ_T + ½| (and the violation) by |1 − 2α| = ½ per step.
/// let problem = Problem::new(1, 1, 4, |x, u| x + u,
///     |_, u| u.powi(2).sum(&[0], false), |x| x.sum(&[0], false) * 0.0);
/// let constraints = Constraints::new(1, 1).with_goal(array![1.0]);
/// let options = DualGradientOptions { step: 0.25, ..DualGradientOptions::default() };
/// let solution = DualGradientDescent::new(options)
///     .solve(&problem, &constraints, &array![0.0], None)
///     .unwrap();
/// assert!(solution.converged);
/// assert!((solution.multipliers.lambda_T[0] + 0.5).abs() < 1e-5);
/// // The violation is 2⁻ᵏ after k steps: 2⁻²⁰ < 10⁻⁶ after 21 solves.
/// assert!((20..=22).contains(&solution.iterations.len()), "{}", solution.iterations.len());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DualGradientDescent {
    /// Its options.
    pub options: DualGradientOptions,
}

impl DualGradientDescent {
    /// A solver with these options.
    pub fn new(options: DualGradientOptions) -> Self {
        DualGradientDescent { options }
    }

    /// Solves `problem` subject to `constraints` from `x0`, warm-started from
    /// `initial_controls` (`N × m`; zeros if `None`).
    pub fn solve(
        &self,
        problem: &Problem,
        constraints: &Constraints,
        x0: &Array1<f64>,
        initial_controls: Option<&Array2<f64>>,
    ) -> Result<ConstrainedSolution, IlqrError> {
        let options = &self.options;
        let N = problem.horizon;
        let ilqr = Ilqr::new(options.ilqr.clone());
        let mut multipliers = Multipliers::for_constraints(constraints, N);
        let mut u = initial_controls
            .cloned()
            .unwrap_or_else(|| Array2::zeros((N, problem.m)));
        let mut x = Array2::zeros((N + 1, problem.n));
        let mut iterations = Vec::new();
        let mut converged = false;
        for _ in 0..options.max_iterations {
            let L = augmented_lagrangian_problem(problem, constraints, &multipliers, 0.0);
            let inner = ilqr.solve(&L, x0, Some(&u))?;
            (x, u) = (inner.x, inner.u);
            let values = constraints.evaluate(&x, &u);
            let violation = values.max_violation();
            // At the minimiser, (h, g, h_T) is the gradient of the dual function d.
            let stationarity = lagrangian_stationarity(problem, constraints, &multipliers, &x, &u);
            multipliers.ascend(&values, options.step);
            let complementarity = values.complementarity(&multipliers.mu);
            iterations.push(OuterIteration {
                cost: problem.rollout(x0, &u).1,
                violation,
                complementarity,
                stationarity,
                penalty: 0.0,
                inner_iterations: inner.iterations.len(),
                inner_termination: inner.termination,
                multipliers: multipliers.clone(),
            });
            if violation.max(complementarity) <= options.violation_tolerance
                && stationarity <= options.stationarity_tolerance
            {
                converged = true;
                break;
            }
        }
        let (_, cost) = problem.rollout(x0, &u);
        Ok(ConstrainedSolution {
            values: constraints.evaluate(&x, &u),
            x,
            u,
            cost,
            multipliers,
            iterations,
            converged,
        })
    }
}
