//! The discrete-time optimal control problem that iLQR, DDP and the planners solve, and the
//! derivatives of its dynamics and costs, taken by autograd over one recorded tape per time step.
//!
//! $$ \min_{u_0 \dots u_{N-1}} J = \sum_{t=0}^{N-1} \ell(x_t, u_t) + \ell_T(x_N)
//!    \quad \text{subject to} \quad x_{t+1} = f(x_t, u_t) , \quad x_0 \text{ given} ,
//!    \quad u_{\min} \le u_t \le u_{\max} \ (\text{optional}). $$
//!
//! `f`, `ℓ` and `ℓ_T` are ordinary Rust closures on autograd variables, written for a *batch*
//! of points stored as columns: `x` has shape `[n, B]`, `u` has shape `[m, B]`, `f` returns
//! `[n, B]` and the costs return one value per column, shape `[B]` (so a cost sums over axis
//! 0, `….sum(&[0], false)`, never over everything). Constants that multiply rows are columns,
//! shape `[n, 1]`; [`quadratic_cost`] builds the common `½ (x − x*)ᵀ diag(w) (x − x*)`.
//!
//! A problem may also carry a running cost that depends on the step, `ℓ_t(x, u)`
//! ([`Problem::with_stage_cost`]), added to `ℓ` at step `t`: this is how the multiplier terms
//! `λ_tᵀ h(x_t, u_t) + …` of [`crate::constrained`] reach iLQR, which then needs no changes.
//!
//! **Derivatives.** To expand the problem around a nominal point `(x̄_t, ū_t)`, with
//! `z = [x; u]`, one tape per time step records `f` and `ℓ` on a batch of `B = n + m` identical
//! copies of the point. Column `j` of a vector-Jacobian product then only sees column `j` of the
//! cotangent, so seeding the cotangent with the identity matrix computes every row of a
//! Jacobian in *one* backward pass instead of one pass per row:
//!
//! - `F_t = [f_x f_u]`: one vector-Jacobian product of `f` with cotangent `I`; column `j` of the
//!   result is `∇_z f_j`.
//! - `c_t = [ℓ_x; ℓ_u]`: the recorded gradient (`grad_graph`) of `Σ_columns ℓ`, any column.
//! - `C_t = ℓ_zz`: one vector-Jacobian product of that recorded gradient with cotangent `I`.
//! - For DDP, during the backward pass once `v_{t+1} = V_x` is known, the second-order
//!   dynamics terms `Σ_i v_{t+1,i} ∇²_zz f_i` are the Hessian of the scalar `v_{t+1} · f(x, u)`:
//!   recorded on the same tape (so `f` is not evaluated again), then one more product with `I`.
//!
//! No finite differences and no hand-written Jacobians are involved. The batch layout also lets
//! the sampling planners roll out all their samples at once.
#![allow(non_snake_case)]

use crate::systems::System;
use autograd::{SharedArray, Tape, Tensor, Var, grad_graph, vjp};
use ndarray::{Array1, Array2, Array3, Axis};
use std::fmt;
use std::sync::Arc;

/// Discrete dynamics `x_{t+1} = f(x_t, u_t)` on autograd variables (batched: `[n, B]`, `[m, B]`
/// to `[n, B]`).
pub type Dynamics = Arc<dyn Fn(&Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync>;
/// Running cost `ℓ(x_t, u_t)`, one value per column (`[n, B]`, `[m, B]` to `[B]`).
pub type RunningCost = Arc<dyn Fn(&Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync>;
/// Terminal cost `ℓ_T(x_N)`, one value per column (`[n, B]` to `[B]`).
pub type TerminalCost = Arc<dyn Fn(&Var<f64>) -> Var<f64> + Send + Sync>;
/// A running cost that also depends on the step `t`, `ℓ_t(x, u)` (`t`, `[n, B]`, `[m, B]` to
/// `[B]`): the per-step multiplier terms of an augmented Lagrangian
/// ([`crate::constrained`]).
pub type StageCost = Arc<dyn Fn(usize, &Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync>;

/// A finite-horizon optimal control problem with `N` = `horizon` controls `u_0 … u_{N−1}` and
/// `N + 1` states `x_0 … x_N`.
///
/// ```
/// use autograd::Tensor;
/// use ndarray::{array, Array2};
/// use wengert_control::ilqr::Problem;
/// use wengert_control::systems::DoubleIntegrator;
///
/// let problem = Problem::from_system(
///     DoubleIntegrator, 0.1, 20,
///     |x, u| (x.powi(2).sum(&[0], false) + u.powi(2).sum(&[0], false)) * 0.5,
///     |x| x.powi(2).sum(&[0], false) * 5.0,
/// )
/// .with_control_limits(array![-1.0], array![1.0]);
/// let (x, cost) = problem.rollout(&array![1.0, 0.0], &Array2::zeros((20, 1)));
/// assert_eq!(x.dim(), (21, 2));
/// assert!((cost - (21.0 * 0.5 + 4.5)).abs() < 1e-12); // at rest at p = 1 throughout
/// ```
#[derive(Clone)]
pub struct Problem {
    /// State dimension `n`.
    pub n: usize,
    /// Control dimension `m`.
    pub m: usize,
    /// Number of controls `N`.
    pub horizon: usize,
    /// `f(x, u)`.
    pub dynamics: Dynamics,
    /// `ℓ(x, u)`.
    pub running_cost: RunningCost,
    /// `ℓ_T(x)`.
    pub terminal_cost: TerminalCost,
    /// Elementwise box `[u_min, u_max]` on every control, if any.
    pub control_limits: Option<(Array1<f64>, Array1<f64>)>,
    /// `ℓ_t(x, u)`, added to `ℓ(x, u)` at step `t`, if any: the running cost at step `t` is
    /// `ℓ(x_t, u_t) + ℓ_t(x_t, u_t)`.
    pub stage_cost: Option<StageCost>,
}

impl fmt::Debug for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Problem")
            .field("n", &self.n)
            .field("m", &self.m)
            .field("horizon", &self.horizon)
            .field("control_limits", &self.control_limits)
            .field("stage_cost", &self.stage_cost.is_some())
            .finish_non_exhaustive()
    }
}

impl Problem {
    /// A problem from discrete dynamics and costs given as closures.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// // x' = x + u, ℓ = ½(x² + u²), ℓ_T = 0.
    /// let problem = Problem::new(1, 1, 3, |x, u| x + u,
    ///     |x, u| (x.powi(2) + u.powi(2)).sum(&[0], false) * 0.5, |x| x.sum(&[0], false) * 0.0);
    /// assert_eq!(problem.step(&array![1.0], &array![2.0]), array![3.0]);
    /// ```
    pub fn new(
        n: usize,
        m: usize,
        horizon: usize,
        dynamics: impl Fn(&Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync + 'static,
        running_cost: impl Fn(&Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync + 'static,
        terminal_cost: impl Fn(&Var<f64>) -> Var<f64> + Send + Sync + 'static,
    ) -> Self {
        Problem {
            n,
            m,
            horizon,
            dynamics: Arc::new(dynamics),
            running_cost: Arc::new(running_cost),
            terminal_cost: Arc::new(terminal_cost),
            control_limits: None,
            stage_cost: None,
        }
    }

    /// A problem whose dynamics are the RK4 step of length `dt` of a continuous-time system.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    /// use wengert_control::systems::{Pendulum, System};
    ///
    /// let problem = Problem::from_system(Pendulum::default(), 0.05, 10,
    ///     |_, u| u.powi(2).sum(&[0], false), |x| x.powi(2).sum(&[0], false));
    /// assert_eq!((problem.n, problem.m), (2, 1));
    /// let (x, u) = (array![0.5, 0.0], array![1.0]);
    /// assert_eq!(problem.step(&x, &u), Pendulum::default().rk4_step_array(&x, &u, 0.05));
    /// ```
    pub fn from_system<S: System + Send + Sync + 'static>(
        system: S,
        dt: f64,
        horizon: usize,
        running_cost: impl Fn(&Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync + 'static,
        terminal_cost: impl Fn(&Var<f64>) -> Var<f64> + Send + Sync + 'static,
    ) -> Self {
        let (n, m) = (system.state_dim(), system.control_dim());
        Problem::new(
            n,
            m,
            horizon,
            move |x, u| system.rk4_step(x, u, dt),
            running_cost,
            terminal_cost,
        )
    }

    /// The same problem with the box `u_min ≤ u_t ≤ u_max` on every control.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 1, 3, |x, u| x + u, |_, u| u.sum(&[0], false), |x| x.sum(&[0], false))
    ///     .with_control_limits(array![-2.0], array![2.0]);
    /// assert_eq!(problem.clamp_control(array![5.0]), array![2.0]);
    /// ```
    pub fn with_control_limits(mut self, lower: Array1<f64>, upper: Array1<f64>) -> Self {
        assert!(
            lower.len() == self.m && upper.len() == self.m,
            "with_control_limits: bounds of lengths {} and {} for m = {}",
            lower.len(),
            upper.len(),
            self.m
        );
        assert!(
            lower.iter().zip(&upper).all(|(lo, hi)| lo <= hi),
            "with_control_limits: lower bound {lower} exceeds upper bound {upper}"
        );
        self.control_limits = Some((lower, upper));
        self
    }

    /// The same problem with a different horizon `N`.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 1, 3, |x, u| x + u, |_, u| u.sum(&[0], false), |x| x.sum(&[0], false));
    /// assert_eq!(problem.with_horizon(7).horizon, 7);
    /// ```
    pub fn with_horizon(mut self, horizon: usize) -> Self {
        self.horizon = horizon;
        self
    }

    /// The same problem with `ℓ_t(x, u)` added to the running cost at each step `t`
    /// (replacing any earlier one).
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// // ℓ = u², ℓ_t = t u: at t = 3, u = 2 the running cost is 4 + 6.
    /// let problem = Problem::new(1, 1, 5, |x, u| x + u, |_, u| u.powi(2).sum(&[0], false), |x| x.sum(&[0], false))
    ///     .with_stage_cost(|t, _, u| u.sum(&[0], false) * t as f64);
    /// assert_eq!(problem.running_cost_at(3, &array![0.0], &array![2.0]), 10.0);
    /// assert_eq!(problem.running_cost_at(0, &array![0.0], &array![2.0]), 4.0);
    /// ```
    pub fn with_stage_cost(
        mut self,
        stage_cost: impl Fn(usize, &Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync + 'static,
    ) -> Self {
        self.stage_cost = Some(Arc::new(stage_cost));
        self
    }

    /// `ℓ(x, u) + ℓ_t(x, u)` on autograd variables.
    pub(crate) fn running_cost_var(&self, t: usize, x: &Var<f64>, u: &Var<f64>) -> Var<f64> {
        let cost = (self.running_cost)(x, u);
        match &self.stage_cost {
            Some(stage_cost) => cost + stage_cost(t, x, u),
            None => cost,
        }
    }

    /// `u` projected onto the control box (unchanged if there is none).
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 2, 3, |x, _| x.clone(), |_, u| u.sum(&[0], false), |x| x.sum(&[0], false))
    ///     .with_control_limits(array![-1.0, 0.0], array![1.0, 3.0]);
    /// assert_eq!(problem.clamp_control(array![-4.0, 1.5]), array![-1.0, 1.5]);
    /// ```
    pub fn clamp_control(&self, mut u: Array1<f64>) -> Array1<f64> {
        if let Some((lower, upper)) = &self.control_limits {
            for ((u_i, lo), hi) in u.iter_mut().zip(lower).zip(upper) {
                *u_i = u_i.clamp(*lo, *hi);
            }
        }
        u
    }

    /// `f(x, u)` on plain arrays.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 1, 1, |x, u| x * u, |_, u| u.sum(&[0], false), |x| x.sum(&[0], false));
    /// assert_eq!(problem.step(&array![3.0], &array![2.0]), array![6.0]);
    /// ```
    pub fn step(&self, x: &Array1<f64>, u: &Array1<f64>) -> Array1<f64> {
        self.step_batch(&as_column(x), &as_column(u))
            .column(0)
            .to_owned()
    }

    /// `f` on a batch: states `x` (`n × B`) and controls `u` (`m × B`) as columns.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 1, 1, |x, u| x + u, |_, u| u.sum(&[0], false), |x| x.sum(&[0], false));
    /// assert_eq!(problem.step_batch(&array![[1.0, 2.0]], &array![[10.0, 20.0]]), array![[11.0, 22.0]]);
    /// ```
    pub fn step_batch(&self, x: &Array2<f64>, u: &Array2<f64>) -> Array2<f64> {
        let x_next = (self.dynamics)(&Var::constant(x.clone()), &Var::constant(u.clone()));
        check_shape("dynamics", &x_next, &[self.n, x.ncols()]);
        to_matrix(&x_next)
    }

    /// The running cost at step `t`, `ℓ(x, u) + ℓ_t(x, u)`, on plain arrays.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 1, 1, |x, _| x.clone(), |x, u| (x * u).sum(&[0], false), |x| x.sum(&[0], false));
    /// assert_eq!(problem.running_cost_at(0, &array![3.0], &array![2.0]), 6.0);
    /// ```
    pub fn running_cost_at(&self, t: usize, x: &Array1<f64>, u: &Array1<f64>) -> f64 {
        self.running_cost_batch(t, &as_column(x), &as_column(u))[0]
    }

    /// The running cost at step `t` on a batch of columns: one cost per column.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 1, 1, |x, _| x.clone(), |x, u| (x * u).sum(&[0], false), |x| x.sum(&[0], false));
    /// assert_eq!(problem.running_cost_batch(0, &array![[1.0, 2.0]], &array![[3.0, 4.0]]), array![3.0, 8.0]);
    /// ```
    pub fn running_cost_batch(&self, t: usize, x: &Array2<f64>, u: &Array2<f64>) -> Array1<f64> {
        let cost = self.running_cost_var(t, &Var::constant(x.clone()), &Var::constant(u.clone()));
        check_shape("running cost", &cost, &[x.ncols()]);
        cost.value().iter().copied().collect()
    }

    /// `ℓ_T(x)` on plain arrays.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 1, 1, |x, _| x.clone(), |_, u| u.sum(&[0], false), |x| x.powi(2).sum(&[0], false));
    /// assert_eq!(problem.terminal_cost_at(&array![3.0]), 9.0);
    /// ```
    pub fn terminal_cost_at(&self, x: &Array1<f64>) -> f64 {
        self.terminal_cost_batch(&as_column(x))[0]
    }

    /// `ℓ_T` on a batch of columns.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 1, 1, |x, _| x.clone(), |_, u| u.sum(&[0], false), |x| x.powi(2).sum(&[0], false));
    /// assert_eq!(problem.terminal_cost_batch(&array![[1.0, 3.0]]), array![1.0, 9.0]);
    /// ```
    pub fn terminal_cost_batch(&self, x: &Array2<f64>) -> Array1<f64> {
        let cost = (self.terminal_cost)(&Var::constant(x.clone()));
        check_shape("terminal cost", &cost, &[x.ncols()]);
        cost.value().iter().copied().collect()
    }

    /// States `x_0 … x_N` (rows of an `(N+1) × n` array) reached from `x0` under the controls
    /// `u` (rows of an `N × m` array, applied open loop), and the total cost `J`.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 1, 2, |x, u| x + u,
    ///     |_, u| u.powi(2).sum(&[0], false), |x| x.powi(2).sum(&[0], false));
    /// let (x, cost) = problem.rollout(&array![0.0], &array![[1.0], [2.0]]);
    /// assert_eq!(x, array![[0.0], [1.0], [3.0]]);
    /// assert_eq!(cost, 1.0 + 4.0 + 9.0);
    /// ```
    pub fn rollout(&self, x0: &Array1<f64>, u: &Array2<f64>) -> (Array2<f64>, f64) {
        let N = u.nrows();
        let mut x = Array2::zeros((N + 1, self.n));
        x.row_mut(0).assign(x0);
        let mut cost = 0.0;
        for t in 0..N {
            let (x_t, u_t) = (x.row(t).to_owned(), u.row(t).to_owned());
            cost += self.running_cost_at(t, &x_t, &u_t);
            let x_next = self.step(&x_t, &u_t);
            x.row_mut(t + 1).assign(&x_next);
        }
        cost += self.terminal_cost_at(&x.row(N).to_owned());
        (x, cost)
    }

    /// The feedback law `u_t = clamp(policy(x_t))` run for the horizon from `x0`: the states
    /// (`(N+1) × n`) and the controls it applied (`N × m`) — a first guess of controls for a
    /// solver, or a policy's test run.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 1, 3, |x, u| x + u,
    ///     |_, u| u.powi(2).sum(&[0], false), |x| x.powi(2).sum(&[0], false))
    ///     .with_control_limits(array![-0.5], array![0.5]);
    /// let (x, u) = problem.closed_loop(&array![2.0], |x| -x);
    /// assert_eq!(u, array![[-0.5], [-0.5], [-0.5]]);
    /// assert_eq!(x, array![[2.0], [1.5], [1.0], [0.5]]);
    /// ```
    pub fn closed_loop(
        &self,
        x0: &Array1<f64>,
        mut policy: impl FnMut(&Array1<f64>) -> Array1<f64>,
    ) -> (Array2<f64>, Array2<f64>) {
        let N = self.horizon;
        let mut x = Array2::zeros((N + 1, self.n));
        let mut u = Array2::zeros((N, self.m));
        x.row_mut(0).assign(x0);
        for t in 0..N {
            let x_t = x.row(t).to_owned();
            let u_t = self.clamp_control(policy(&x_t));
            let x_next = self.step(&x_t, &u_t);
            u.row_mut(t).assign(&u_t);
            x.row_mut(t + 1).assign(&x_next);
        }
        (x, u)
    }

    /// The total cost `J` of each of `B` control sequences from the same `x0`, all rolled out
    /// at once: `u[[t, i, b]]` is control component `i` at time `t` of sequence `b`.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::{array, Array3};
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 1, 2, |x, u| x + u,
    ///     |_, u| u.powi(2).sum(&[0], false), |x| x.powi(2).sum(&[0], false));
    /// let mut u = Array3::zeros((2, 1, 2));
    /// u[[0, 0, 1]] = 1.0;
    /// u[[1, 0, 1]] = 2.0;
    /// assert_eq!(problem.rollout_costs(&array![0.0], &u), array![0.0, 14.0]);
    /// ```
    pub fn rollout_costs(&self, x0: &Array1<f64>, u: &Array3<f64>) -> Array1<f64> {
        let (N, B) = (u.dim().0, u.dim().2);
        let mut x = as_column(x0)
            .broadcast((self.n, B))
            .expect("a column broadcasts to a batch")
            .to_owned();
        let mut cost = Array1::zeros(B);
        for t in 0..N {
            let u_t = u.index_axis(Axis(0), t).to_owned();
            cost += &self.running_cost_batch(t, &x, &u_t);
            x = self.step_batch(&x, &u_t);
        }
        cost += &self.terminal_cost_batch(&x);
        cost.mapv_inplace(|c| if c.is_finite() { c } else { f64::INFINITY });
        cost
    }

    /// The expansion of dynamics and running cost around `(x_t, u_t)` at step `t`, recorded on
    /// one tape.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// // f = x u, ℓ = x² u at x = 2, u = 3.
    /// let problem = Problem::new(1, 1, 1, |x, u| x * u,
    ///     |x, u| (x.powi(2) * u).sum(&[0], false), |x| x.sum(&[0], false));
    /// let expansion = problem.expand(0, &array![2.0], &array![3.0]);
    /// assert_eq!(expansion.F, array![[3.0, 2.0]]);
    /// assert_eq!(expansion.c, array![12.0, 4.0]);
    /// assert_eq!(expansion.C, array![[6.0, 4.0], [4.0, 0.0]]);
    /// // Second-order dynamics terms contracted with v = [5]: 5 ∇²(x u) = [[0, 5], [5, 0]].
    /// assert_eq!(expansion.dynamics_curvature(&array![5.0]), array![[0.0, 5.0], [5.0, 0.0]]);
    /// ```
    pub fn expand(&self, t: usize, x_t: &Array1<f64>, u_t: &Array1<f64>) -> StepExpansion {
        let (n, m) = (self.n, self.m);
        let B = n + m;
        let tape = Tape::new();
        let x = tape.var(copies(x_t, B));
        let u = tape.var(copies(u_t, B));
        let x_next = (self.dynamics)(&x, &u);
        check_shape("dynamics", &x_next, &[n, B]);
        let F = jacobian_by_identity_cotangent(&[&x_next], &[&x, &u], n);

        let running_cost = self.running_cost_var(t, &x, &u);
        check_shape("running cost", &running_cost, &[B]);
        let gradient = grad_graph(&[&running_cost.sum_all()], &[&x, &u]);
        let c = first_column(&gradient);
        let C = symmetrise(jacobian_by_identity_cotangent(
            &[&gradient[0], &gradient[1]],
            &[&x, &u],
            B,
        ));
        StepExpansion {
            F,
            c,
            C,
            recorded: Recorded { x, u, x_next },
        }
    }

    /// `(ℓ_T,xx, ℓ_T,x)` at `x_N`: the terminal value function the backward pass starts from.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(2, 1, 1, |x, _| x.clone(), |_, u| u.sum(&[0], false),
    ///     |x| x.powi(2).sum(&[0], false) * 1.5);
    /// let (V, v) = problem.expand_terminal(&array![1.0, -2.0]);
    /// assert_eq!(V, array![[3.0, 0.0], [0.0, 3.0]]);
    /// assert_eq!(v, array![3.0, -6.0]);
    /// ```
    pub fn expand_terminal(&self, x_N: &Array1<f64>) -> (Array2<f64>, Array1<f64>) {
        let n = self.n;
        let tape = Tape::new();
        let x = tape.var(copies(x_N, n));
        let terminal_cost = (self.terminal_cost)(&x);
        check_shape("terminal cost", &terminal_cost, &[n]);
        let gradient = grad_graph(&[&terminal_cost.sum_all()], &[&x]);
        let v = first_column(&gradient);
        let V = symmetrise(jacobian_by_identity_cotangent(&[&gradient[0]], &[&x], n));
        (V, v)
    }
}

/// `½ (x − x*)ᵀ diag(w) (x − x*)` for each column of `x` (`[n, B]` to `[B]`): the usual
/// quadratic tracking cost, with `x*` and `w` given as plain vectors.
///
/// ```
/// use autograd::{Tensor, Var};
/// use ndarray::array;
/// use wengert_control::ilqr::quadratic_cost;
///
/// let x = Var::constant(array![[1.0, 3.0], [0.0, 2.0]]); // two states as columns
/// let cost = quadratic_cost(&x, &array![1.0, 0.0], &array![2.0, 0.5]);
/// assert_eq!(cost.value().as_slice().unwrap(), &[0.0, 4.0 + 1.0]);
/// ```
pub fn quadratic_cost(x: &Var<f64>, target: &Array1<f64>, weights: &Array1<f64>) -> Var<f64> {
    let error = x - &Var::constant(as_column(target));
    (error.powi(2) * &Var::constant(as_column(weights))).sum(&[0], false) * 0.5
}

/// A vector as an `n × 1` matrix.
pub(crate) fn as_column(x: &Array1<f64>) -> Array2<f64> {
    x.view().insert_axis(Axis(1)).to_owned()
}

/// `B` copies of a vector as the columns of an `n × B` matrix.
pub(crate) fn copies(x: &Array1<f64>, B: usize) -> Array2<f64> {
    as_column(x)
        .broadcast((x.len(), B))
        .expect("a column broadcasts to a batch")
        .to_owned()
}

pub(crate) fn to_matrix(x: &Var<f64>) -> Array2<f64> {
    x.value()
        .clone()
        .into_dimensionality()
        .expect("checked to be a matrix")
        .to_owned()
}

fn check_shape(what: &str, value: &Var<f64>, expected: &[usize]) {
    assert_eq!(
        value.shape(),
        expected,
        "{what}: returned shape {:?} where {expected:?} was expected (states and controls are \
         columns, [n, B] and [m, B]; costs return one value per column, [B])",
        value.shape()
    );
}

/// The variables of one time step's tape, kept for DDP's second-order dynamics terms.
#[derive(Clone)]
struct Recorded {
    x: Var<f64>,
    u: Var<f64>,
    x_next: Var<f64>,
}

/// Dynamics linearised and running cost quadratised around one point `(x̄_t, ū_t)`:
/// `δx_{t+1} ≈ F δz`, `ℓ ≈ ℓ̄ + cᵀ δz + ½ δzᵀ C δz`, with `δz = [δx; δu]` — the `F_t, C_t, c_t`
/// of an [`crate::lqr::LqrProblem`] (with `f_t = 0`).
#[derive(Clone)]
pub struct StepExpansion {
    /// `F_t = [f_x f_u]`, `n × (n+m)`.
    pub F: Array2<f64>,
    /// `c_t = [ℓ_x; ℓ_u]`.
    pub c: Array1<f64>,
    /// `C_t = ℓ_zz`, `(n+m) × (n+m)`.
    pub C: Array2<f64>,
    recorded: Recorded,
}

impl fmt::Debug for StepExpansion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("StepExpansion")
            .field("F", &self.F)
            .field("c", &self.c)
            .field("C", &self.C)
            .finish_non_exhaustive()
    }
}

impl StepExpansion {
    /// DDP's second-order dynamics terms `Σ_i v_i ∇²_zz f_i(x̄, ū)`: the Hessian of the scalar
    /// `v · f(x, u)`, from the tape recorded in [`Problem::expand`] (see its example).
    pub fn dynamics_curvature(&self, v: &Array1<f64>) -> Array2<f64> {
        let Recorded { x, u, x_next } = &self.recorded;
        let contracted = (x_next * &Var::constant(as_column(v))).sum_all();
        let gradient = grad_graph(&[&contracted], &[x, u]);
        let B = x.shape()[1];
        symmetrise(jacobian_by_identity_cotangent(
            &[&gradient[0], &gradient[1]],
            &[x, u],
            B,
        ))
    }
}

/// The Jacobian (rows: the first `rows` output rows, stacked; columns: the input rows, stacked)
/// of column-wise functions of a batch of identical columns, in one vector-Jacobian product:
/// the cotangent puts `1` at (row `j`, column `j`), so column `j` of each input's adjoint is
/// `∇ (output row j)`.
pub(crate) fn jacobian_by_identity_cotangent(
    outputs: &[&Var<f64>],
    inputs: &[&Var<f64>],
    rows: usize,
) -> Array2<f64> {
    let mut offset = 0;
    let cotangents: Vec<SharedArray<f64>> = outputs
        .iter()
        .map(|y| {
            let (height, width) = (y.shape()[0], y.shape()[1]);
            let e = Array2::from_shape_fn((height, width), |(i, j)| {
                if offset + i == j && j < rows {
                    1.0
                } else {
                    0.0
                }
            });
            offset += height;
            e.into_dyn().into_shared()
        })
        .collect();
    let adjoints = vjp(outputs, &cotangents, inputs);
    let cols: usize = inputs.iter().map(|x| x.shape()[0]).sum();
    let mut jacobian = Array2::zeros((rows, cols));
    let mut column = 0;
    for adjoint in &adjoints {
        let height = adjoint.shape()[0];
        for i in 0..height {
            for r in 0..rows {
                jacobian[[r, column + i]] = adjoint[[i, r]];
            }
        }
        column += height;
    }
    jacobian
}

/// Column 0 of each part, stacked.
pub(crate) fn first_column(parts: &[Var<f64>]) -> Array1<f64> {
    parts
        .iter()
        .flat_map(|part| to_matrix(part).column(0).to_vec())
        .collect()
}

/// `½ (H + Hᵀ)`: a Hessian read off a backward pass is symmetric only up to round-off.
pub(crate) fn symmetrise(H: Array2<f64>) -> Array2<f64> {
    (&H + &H.t()) * 0.5
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::{CartPole, Pendulum};
    use ndarray::{array, s};

    /// Central differences, only to check the autograd derivatives here.
    fn numeric_jacobian(f: impl Fn(&Array1<f64>) -> Array1<f64>, z: &Array1<f64>) -> Array2<f64> {
        let eps = 1e-6;
        let rows = f(z).len();
        let mut J = Array2::zeros((rows, z.len()));
        for j in 0..z.len() {
            let (mut plus, mut minus) = (z.clone(), z.clone());
            plus[j] += eps;
            minus[j] -= eps;
            J.column_mut(j)
                .assign(&((f(&plus) - f(&minus)) / (2.0 * eps)));
        }
        J
    }

    fn cart_pole_problem() -> Problem {
        Problem::from_system(
            CartPole::default(),
            0.05,
            10,
            |x, u| {
                x.sin().powi(2).sum(&[0], false)
                    + (u.powi(2) * x.slice(0, 1, 2).cos()).sum(&[0], false)
            },
            |x| x.powi(2).sum(&[0], false),
        )
    }

    #[test]
    fn expansion_matches_central_differences() {
        let problem = cart_pole_problem();
        let (x, u) = (array![0.1, 2.0, -0.3, 0.7], array![0.4]);
        let expansion = problem.expand(0, &x, &u);
        let split = |z: &Array1<f64>| (z.slice(s![..4]).to_owned(), z.slice(s![4..]).to_owned());
        let z = ndarray::concatenate![ndarray::Axis(0), x, u];
        let F = numeric_jacobian(
            |z| {
                let (x, u) = split(z);
                problem.step(&x, &u)
            },
            &z,
        );
        assert!((&F - &expansion.F).iter().all(|d| d.abs() < 1e-7));
        let gradient = |z: &Array1<f64>| {
            let (x, u) = split(z);
            problem.expand(0, &x, &u).c
        };
        let c = numeric_jacobian(
            |z| {
                let (x, u) = split(z);
                array![problem.running_cost_at(0, &x, &u)]
            },
            &z,
        );
        assert!((&c.row(0) - &expansion.c).iter().all(|d| d.abs() < 1e-7));
        let C = numeric_jacobian(gradient, &z);
        assert!((&C - &expansion.C).iter().all(|d| d.abs() < 1e-6));
        let v = array![0.3, -1.0, 2.0, 0.5];
        let curvature = numeric_jacobian(
            |z| {
                let (x, u) = split(z);
                problem.expand(0, &x, &u).F.t().dot(&v)
            },
            &z,
        );
        let difference = &curvature - &expansion.dynamics_curvature(&v);
        assert!(difference.iter().all(|d| d.abs() < 1e-6), "{difference}");
    }

    #[test]
    fn terminal_expansion_of_a_pendulum_cost() {
        let problem = Problem::from_system(
            Pendulum::default(),
            0.05,
            1,
            |_, u| u.powi(2).sum(&[0], false),
            |x| {
                (1.0 + x.slice(0, 0, 1).cos()).sum(&[0], false)
                    + x.slice(0, 1, 2).powi(2).sum(&[0], false)
            },
        );
        let (V, v) = problem.expand_terminal(&array![1.0, 2.0]);
        assert!((v[0] + 1f64.sin()).abs() < 1e-15 && (v[1] - 4.0).abs() < 1e-15);
        assert!((V[[0, 0]] + 1f64.cos()).abs() < 1e-15 && V[[1, 1]] == 2.0 && V[[0, 1]] == 0.0);
    }
}
