//! Model predictive control: receding-horizon iLQR.
//!
//! ## Background
//!
//! At every step, solve the finite-horizon problem from the current state, apply only the
//! first control, and solve again from the state that results. The horizon recedes with time,
//! and feedback comes from re-planning rather than from a fixed gain.
//!
//! ## Pseudocode
//!
//! ```text
//! u ← initial plan (zeros; the first solve gets more iterations, having no warm start)
//! at each time step, in state x:
//!     (x*, u*) ← iLQR(problem, x_0 = x, warm start u)      (a few iterations suffice)
//!     apply u*_0
//!     u ← shift(u*) = [u*_1, …, u*_{N−1}, u*_{N−1}]
//! ```
//!
//! Warm-starting from the shifted plan is what makes a few iterations enough: the previous
//! solution is already close to optimal for the new, one-step-later problem.

use super::{Planner, shift};
use crate::ilqr::{Ilqr, IlqrOptions, IlqrSolution, Problem};
use ndarray::{Array1, Array2};

/// Receding-horizon iLQR / DDP.
///
/// ```
/// use autograd::Tensor;
/// use ndarray::array;
/// use wengert_control::ilqr::{IlqrOptions, Problem};
/// use wengert_control::planners::{Mpc, Planner};
///
/// // x' = x + u from x = 1: the closed loop drives x to zero.
/// let problem = Problem::new(1, 1, 10, |x, u| x + u,
///     |x, u| (x.powi(2) + u.powi(2) * 0.1).sum(&[0], false), |x| x.powi(2).sum(&[0], false));
/// let mut mpc = Mpc::new(problem, IlqrOptions { max_iterations: 5, ..IlqrOptions::default() });
/// let mut x = array![1.0];
/// for _ in 0..10 {
///     x = &x + &mpc.plan(&x);
/// }
/// assert!(x[0].abs() < 1e-3);
/// assert!(mpc.last_solution().is_some());
/// ```
#[derive(Debug, Clone)]
pub struct Mpc {
    problem: Problem,
    solver: Ilqr,
    first_call_iterations: usize,
    plan: Option<Array2<f64>>,
    last_solution: Option<IlqrSolution>,
}

impl Mpc {
    /// MPC on `problem` (its horizon is the planning horizon) with a solver configured by
    /// `options` (`max_iterations` is per control step).
    pub fn new(problem: Problem, options: IlqrOptions) -> Self {
        Mpc {
            problem,
            first_call_iterations: options.max_iterations,
            solver: Ilqr::new(options),
            plan: None,
            last_solution: None,
        }
    }

    /// The same controller, allowed `iterations` on the first call after a reset, when there is
    /// no previous plan to warm-start from and iLQR starts from zero controls.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use wengert_control::ilqr::{IlqrOptions, Problem};
    /// use wengert_control::planners::Mpc;
    ///
    /// let problem = Problem::new(1, 1, 10, |x, u| x + u,
    ///     |x, u| (x.powi(2) + u.powi(2)).sum(&[0], false), |x| x.powi(2).sum(&[0], false));
    /// let mpc = Mpc::new(problem, IlqrOptions { max_iterations: 3, ..IlqrOptions::default() })
    ///     .with_first_call_iterations(50);
    /// ```
    pub fn with_first_call_iterations(mut self, iterations: usize) -> Self {
        self.first_call_iterations = iterations;
        self
    }

    /// The solution of the last call to [`Planner::plan`].
    pub fn last_solution(&self) -> Option<&IlqrSolution> {
        self.last_solution.as_ref()
    }
}

impl Planner for Mpc {
    fn plan(&mut self, x: &Array1<f64>) -> Array1<f64> {
        let warm_start = self.plan.as_ref().map(shift);
        let mut solver = self.solver.clone();
        if warm_start.is_none() {
            solver.options.max_iterations = self.first_call_iterations;
        }
        let solution = solver
            .solve(&self.problem, x, warm_start.as_ref())
            .unwrap_or_else(|error| panic!("MPC: {error}"));
        let u_0 = solution.u.row(0).to_owned();
        self.plan = Some(solution.u.clone());
        self.last_solution = Some(solution);
        u_0
    }

    fn reset(&mut self) {
        self.plan = None;
        self.last_solution = None;
    }
}
