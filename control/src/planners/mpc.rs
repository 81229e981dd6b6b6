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
//!
//! iLQR is a local method: on a non-convex problem (a pendulum that may swing either way) the
//! plan it converges to depends on where it started, and the warm start keeps the controller
//! on whichever branch its first solve chose. With restarts ([`Mpc::with_restarts`]) every step
//! also solves from a few constant control sequences and keeps the cheapest plan:
//!
//! ```text
//! (x*, u*) ← argmin_J over { iLQR(x, warm start u) } ∪ { iLQR(x, [c, c, …, c]) : c ∈ restarts }
//! ```
//!
//! so the control applied is, as far as these starts reach, a function of the state alone and
//! not of the path that led there. Each restart is a full solve; with a threshold
//! ([`Mpc::with_restart_threshold`]) they run only while the warm-started plan's cost is above
//! it (and on an episode's first step), i.e. while the choice of branch is still open.

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
    restarts: Vec<Array1<f64>>,
    restart_solver: Ilqr,
    restart_above: f64,
    restart_cost: Option<Problem>,
    restarted_steps: usize,
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
            restarts: Vec::new(),
            restart_solver: Ilqr::new(options.clone()),
            restart_above: f64::NEG_INFINITY,
            restart_cost: None,
            restarted_steps: 0,
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

    /// The same controller, also solving at every step from each constant control sequence
    /// `[c, c, …, c]`, `c ∈ restarts`, with `iterations` iLQR iterations, and keeping the
    /// cheapest of all the plans (the warm-started one included).
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::{IlqrOptions, Problem};
    /// use wengert_control::planners::{Mpc, Planner};
    ///
    /// // cost (x² − 1)² + u²: two minima, x = ±1; from x = 0 with u = 0 iLQR has no gradient
    /// let problem = Problem::new(1, 1, 5, |x, u| x + u,
    ///     |x, u| ((x.powi(2) - 1.0).powi(2) + u.powi(2)).sum(&[0], false),
    ///     |x| ((x.powi(2) - 1.0).powi(2)).sum(&[0], false) * 10.0);
    /// let options = IlqrOptions { max_iterations: 20, ..IlqrOptions::default() };
    /// let stuck = Mpc::new(problem.clone(), options.clone()).plan(&array![0.0]);
    /// assert_eq!(stuck[0], 0.0);
    /// let mut mpc = Mpc::new(problem, options).with_restarts(vec![array![0.5]], 20);
    /// assert!(mpc.plan(&array![0.0])[0] > 0.1); // the restart found a way down to x = 1
    /// ```
    ///
    /// # Panics
    /// If a restart's length is not the problem's control dimension `m`.
    pub fn with_restarts(mut self, restarts: Vec<Array1<f64>>, iterations: usize) -> Self {
        if let Some(c) = restarts.iter().find(|c| c.len() != self.problem.m) {
            panic!(
                "Mpc::with_restarts: a restart control of length {}, expected the problem's m = {}",
                c.len(),
                self.problem.m
            );
        }
        self.restarts = restarts;
        self.restart_solver.options.max_iterations = iterations;
        self
    }

    /// The same controller, restarting ([`Mpc::with_restarts`]) only on an episode's first step
    /// and when the warm-started plan's cost `J` exceeds `cost`: once the warm plan is cheap
    /// (the task as good as solved along it) the restarts rarely find a cheaper one, and each
    /// costs a full solve.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::{IlqrOptions, Problem};
    /// use wengert_control::planners::{Mpc, Planner};
    ///
    /// let problem = Problem::new(1, 1, 5, |x, u| x + u,
    ///     |x, u| ((x.powi(2) - 1.0).powi(2) + u.powi(2)).sum(&[0], false),
    ///     |x| ((x.powi(2) - 1.0).powi(2)).sum(&[0], false) * 10.0);
    /// let options = IlqrOptions { max_iterations: 20, ..IlqrOptions::default() };
    /// let mut mpc = Mpc::new(problem, options).with_restarts(vec![array![0.5]], 20)
    ///     .with_restart_threshold(1.0);
    /// assert!(mpc.plan(&array![0.0])[0] > 0.1); // the first step always restarts
    /// mpc.plan(&array![1.0]);                   // at x = 1, J < 1: no restart
    /// assert!(mpc.last_solution().unwrap().cost < 1.0);
    /// assert_eq!(mpc.restarted_steps(), 1);
    /// ```
    pub fn with_restart_threshold(mut self, cost: f64) -> Self {
        self.restart_above = cost;
        self
    }

    /// The same controller, judging the restart threshold ([`Mpc::with_restart_threshold`]) on
    /// the warm plan's cost under `judge` (the same dynamics, e.g. the task's cost without an
    /// added term) instead of the planned problem's cost. PLATO's pulled teacher plans with a
    /// pull towards the learner that keeps its own cost high wherever the learner is poor; its
    /// restarts should run only while the *task* is unsolved along the plan.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::{IlqrOptions, Problem};
    /// use wengert_control::planners::{Mpc, Planner};
    ///
    /// let task = Problem::new(1, 1, 5, |x, u| x + u,
    ///     |x, u| ((x.powi(2) - 1.0).powi(2) + u.powi(2)).sum(&[0], false),
    ///     |x| ((x.powi(2) - 1.0).powi(2)).sum(&[0], false) * 10.0);
    /// // the same task with a constant 10 added at every step: every plan costs more than 1
    /// let padded = task.clone().with_stage_cost(|_, _, u| u.sum(&[0], false) * 0.0 + 10.0);
    /// let options = IlqrOptions { max_iterations: 20, ..IlqrOptions::default() };
    /// let mut mpc = Mpc::new(padded, options).with_restarts(vec![array![0.5]], 20)
    ///     .with_restart_threshold(1.0).with_restart_cost(task);
    /// mpc.plan(&array![0.0]);
    /// mpc.plan(&array![1.0]); // the task's cost is below 1: no restart despite the padding
    /// assert_eq!(mpc.restarted_steps(), 1);
    /// ```
    ///
    /// # Panics
    /// If `judge`'s dimensions or horizon differ from the planned problem's.
    pub fn with_restart_cost(mut self, judge: Problem) -> Self {
        same_shape("Mpc::with_restart_cost", &self.problem, &judge);
        self.restart_cost = Some(judge);
        self
    }

    /// Replaces the planned problem (its costs; the same dimensions and horizon) and keeps the
    /// warm start: for a cost that changes between control steps, e.g. PLATO's pull re-linearised
    /// around each step's warm plan.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::{IlqrOptions, Problem};
    /// use wengert_control::planners::{Mpc, Planner};
    ///
    /// let problem = Problem::new(1, 1, 5, |x, u| x + u,
    ///     |x, u| (x.powi(2) + u.powi(2)).sum(&[0], false), |x| x.powi(2).sum(&[0], false));
    /// let mut mpc = Mpc::new(problem.clone(), IlqrOptions::default());
    /// assert!(mpc.warm_start().is_none());
    /// mpc.plan(&array![1.0]);
    /// let warm = mpc.warm_start().unwrap();
    /// // a cost pulling u towards +1 from now on, the same warm start
    /// mpc.set_problem(problem.with_stage_cost(|_, _, u| (u - 1.0).powi(2).sum(&[0], false) * 10.0));
    /// assert_eq!(mpc.warm_start().unwrap(), warm);
    /// assert!(mpc.plan(&array![0.5])[0] > 0.0);
    /// ```
    ///
    /// # Panics
    /// If `problem`'s dimensions or horizon differ from the planned problem's.
    pub fn set_problem(&mut self, problem: Problem) {
        same_shape("Mpc::set_problem", &self.problem, &problem);
        self.problem = problem;
    }

    /// The warm start the next call to [`Planner::plan`] starts from: the last plan shifted by
    /// one step, `None` after a reset.
    pub fn warm_start(&self) -> Option<Array2<f64>> {
        self.plan.as_ref().map(shift)
    }

    /// The calls to [`Planner::plan`] so far (resets included) that ran the restarts.
    pub fn restarted_steps(&self) -> usize {
        self.restarted_steps
    }

    /// The solution of the last call to [`Planner::plan`].
    pub fn last_solution(&self) -> Option<&IlqrSolution> {
        self.last_solution.as_ref()
    }
}

/// Panics unless `b` has `a`'s dimensions and horizon, naming `context`.
fn same_shape(context: &str, a: &Problem, b: &Problem) {
    if (a.n, a.m, a.horizon) != (b.n, b.m, b.horizon) {
        panic!(
            "{context}: a problem with (n, m, horizon) = {:?}, expected the planned problem's {:?}",
            (b.n, b.m, b.horizon),
            (a.n, a.m, a.horizon)
        );
    }
}

impl Planner for Mpc {
    fn plan(&mut self, x: &Array1<f64>) -> Array1<f64> {
        let warm_start = self.plan.as_ref().map(shift);
        let mut solver = self.solver.clone();
        if warm_start.is_none() {
            solver.options.max_iterations = self.first_call_iterations;
        }
        let mut solution = solver
            .solve(&self.problem, x, warm_start.as_ref())
            .unwrap_or_else(|error| panic!("MPC: {error}"));
        let (N, m) = (self.problem.horizon, self.problem.m);
        let judged = match &self.restart_cost {
            Some(judge) if !self.restarts.is_empty() && warm_start.is_some() => {
                judge.rollout(x, &solution.u).1
            }
            _ => solution.cost,
        };
        let restart =
            !self.restarts.is_empty() && (warm_start.is_none() || judged > self.restart_above);
        self.restarted_steps += usize::from(restart);
        for c in self.restarts.iter().filter(|_| restart) {
            let constant = Array2::from_shape_fn((N, m), |(_, j)| c[j]);
            let restarted = self
                .restart_solver
                .solve(&self.problem, x, Some(&constant))
                .unwrap_or_else(|error| panic!("MPC: {error}"));
            if restarted.cost < solution.cost {
                solution = restarted;
            }
        }
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
