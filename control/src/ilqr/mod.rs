//! Iterative LQR and differential dynamic programming for nonlinear dynamics.
//!
//! ## Background
//!
//! For the [`Problem`] $\min \sum_{t<N} \ell(x_t, u_t) + \ell_T(x_N)$ subject to
//! $x_{t+1} = f(x_t, u_t)$, both methods repeat: expand the problem to second order around the
//! current trajectory $(\bar x, \bar u)$, solve the resulting LQR problem in the deviations
//! $\delta x, \delta u$ with the same backward
//! recursion as [`crate::lqr::finite_horizon`], and roll the new policy out through the true
//! dynamics. DDP (Mayne 1966; Jacobson & Mayne 1970) keeps the second-order terms of the
//! dynamics; iLQR (Li & Todorov 2004; Tassa, Erez & Todorov 2012) drops them, which is
//! Gauss–Newton instead of Newton.
//!
//! ## Key equations
//!
//! **Backward pass.** With $z = [x; u]$, $F_t = [f_x\ f_u]$, $c_t = [\ell_x; \ell_u]$,
//! $C_t = \ell_{zz}$ from autograd (see [`problem`]), and starting from the terminal value
//! $V_N = \ell_{T,xx}$, $v_N = \ell_{T,x}$, the action-value expansion at $t = N-1 \dots 0$ is
//!
//! $$ Q_t = C_t + F_t^{\top} V_{t+1} F_t \Big[ + \sum_i v_{t+1,i} \nabla^2_{zz} f_i \quad \text{(DDP only)} \Big] ,
//!    \qquad q_t = c_t + F_t^{\top} v_{t+1} $$
//!
//! — exactly [`crate::lqr::action_value`] with $f_t = 0$ (the nominal trajectory satisfies the
//! dynamics) and, for DDP, $C_t$ augmented by the dynamics curvature. Then, with the
//! Levenberg–Marquardt regularisation $\tilde Q_{uu} = Q_{uu} + \mu I$ (Cholesky;
//! [`crate::lqr::minimise_action_value`]),
//!
//! $$ k_t = -\tilde Q_{uu}^{-1} q_u , \qquad K_t = -\tilde Q_{uu}^{-1} Q_{ux} , $$
//!
//! and with the unregularised $Q$, valid for any $K$, $k$ ([`crate::lqr::value_update`]),
//!
//! $$ V_t = Q_{xx} + Q_{xu} K_t + K_t^{\top} Q_{ux} + K_t^{\top} Q_{uu} K_t , \qquad
//!    v_t = q_x + Q_{xu} k_t + K_t^{\top} q_u + K_t^{\top} Q_{uu} k_t . $$
//!
//! With control limits, $k_t$ instead minimises
//! $\tfrac12 \delta u^{\top} \tilde Q_{uu} \delta u + q_u^{\top} \delta u$ over
//! $u_{\min} - \bar u_t \le \delta u \le u_{\max} - \bar u_t$ by projected Newton ([`box_qp`]), and
//! $K_t$ acts on the free coordinates only.
//!
//! **Expected improvement.** Along the step $\delta u_t = \alpha k_t + K_t \delta x_t$ the
//! quadratic model predicts the change of cost
//!
//! $$ \Delta J(\alpha) = \alpha \sum_t k_t^{\top} q_{u,t} + \tfrac12 \alpha^2 \sum_t k_t^{\top} Q_{uu,t} k_t . $$
//!
//! **Forward pass and line search.** For $\alpha = 1, \beta, \beta^2, \dots$:
//!
//! $$ \hat x_0 = \bar x_0 , \quad \hat u_t = \operatorname{clamp}\big(\bar u_t + \alpha k_t + K_t (\hat x_t - \bar x_t)\big) ,
//!    \quad \hat x_{t+1} = f(\hat x_t, \hat u_t) , $$
//!
//! accepted if $z = (J(\bar u) - J(\hat u)) / (-\Delta J(\alpha)) > z_{\min}$.
//!
//! **Regularisation schedule** (Tassa et al. 2012, with factor $\Delta_0 > 1$): when the
//! backward pass meets a $\tilde Q_{uu}$ that is not positive definite, or the line search fails,
//! $\Delta \leftarrow \max(\Delta_0, \Delta \Delta_0)$, $\mu \leftarrow \max(\mu_{\min}, \mu \Delta)$;
//! after an accepted step $\Delta \leftarrow \min(1/\Delta_0, \Delta/\Delta_0)$,
//! $\mu \leftarrow \mu \Delta$ (or 0 once below $\mu_{\min}$). Past $\mu_{\max}$ it gives up.
//!
//! **Convergence.** Stop when the expected improvement $-\Delta J(1)$ falls below
//! $\text{tolerance} \cdot (1 + |J|)$, or when the (projected) gradient of $J$ with respect to
//! the controls vanishes: $\max_t \Vert \nabla_{u_t} J \Vert_\infty < \text{gradient tolerance}$,
//! with $\nabla_{u_t} J = \ell_u + f_u^{\top} \lambda_{t+1}$ from the costates
//! $\lambda_N = \ell_{T,x}$, $\lambda_t = \ell_x + f_x^{\top} \lambda_{t+1}$ (components pinned
//! at an active bound are left out).
//!
//! ## Pseudocode
//!
//! ```text
//! ū ← clamp(initial controls);  (x̄, J) ← rollout(x_0, ū)
//! repeat:
//!     expand f, ℓ, ℓ_T around (x̄, ū)                      (autograd, one tape per step)
//!     backward pass with μ (raise μ until every Q̃_uu is positive definite)
//!     if converged: stop
//!     line search over α; if accepted: (x̄, ū, J) ← (x̂, û, Ĵ), lower μ; else raise μ
//! ```
//!
//! ```
//! use autograd::Tensor;
//! use ndarray::{array, Array2};
//! use wengert_control::ilqr::{Ilqr, IlqrOptions, Problem};
//! use wengert_control::systems::Pendulum;
//!
//! // Bring a pendulum from 1 rad to rest at the bottom in 1 s.
//! let problem = Problem::from_system(Pendulum::default(), 0.05, 20,
//!     |x, u| x.powi(2).sum(&[0], false) * 0.1 + u.powi(2).sum(&[0], false) * 0.01,
//!     |x| x.powi(2).sum(&[0], false) * 10.0);
//! let solution = Ilqr::new(IlqrOptions::default())
//!     .solve(&problem, &array![1.0, 0.0], None)
//!     .unwrap();
//! let first = solution.iterations[0].cost;
//! assert!(solution.cost < first);
//! assert!(solution.termination.converged());
//! ```

#![allow(non_snake_case)]

mod box_qp;
pub mod problem;

pub use box_qp::{BoxQpSolution, box_qp};
pub use problem::{Problem, StageCost, StepExpansion, quadratic_cost};

use crate::linalg::{Cholesky, LinalgError};
use crate::lqr::{action_value, minimise_action_value, value_update};
use box_qp::submatrix;
use ndarray::{Array1, Array2, s};
use std::fmt;

/// Which second-order model the backward pass uses.
///
/// ```
/// use wengert_control::ilqr::{IlqrOptions, Method};
/// assert_eq!(IlqrOptions::default().method, Method::Ilqr);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Gauss–Newton: dynamics linearised, costs quadratised.
    Ilqr,
    /// Newton: also the second-order dynamics terms `Σ_i V_x,i ∇²f_i`.
    Ddp,
}

/// Options of [`Ilqr`], with the symbols of the module docs.
///
/// ```
/// use wengert_control::ilqr::{IlqrOptions, Method};
///
/// let options = IlqrOptions { method: Method::Ddp, max_iterations: 50, ..IlqrOptions::default() };
/// assert_eq!(options.regularisation_factor, 2.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct IlqrOptions {
    /// iLQR or DDP.
    pub method: Method,
    /// At most this many backward passes.
    pub max_iterations: usize,
    /// Initial `μ` (zero: plain Newton / Gauss–Newton steps until a step fails).
    pub initial_regularisation: f64,
    /// `μ_min`: smaller values are rounded down to zero.
    pub min_regularisation: f64,
    /// `μ_max`: the solver stops when `μ` exceeds it.
    pub max_regularisation: f64,
    /// `Δ₀ > 1`, the base of the regularisation schedule.
    pub regularisation_factor: f64,
    /// `β`: the line search tries `α = 1, β, β², …`.
    pub backtracking: f64,
    /// The line search gives up below this `α`.
    pub min_step: f64,
    /// `z_min`: accept a step if actual / expected reduction exceeds it.
    pub min_reduction_ratio: f64,
    /// Converged when `−ΔJ(1) < tolerance · (1 + |J|)`.
    pub tolerance: f64,
    /// Converged when `max_t ‖∇_{u_t} J‖_∞ < gradient_tolerance`.
    pub gradient_tolerance: f64,
}

impl Default for IlqrOptions {
    fn default() -> Self {
        IlqrOptions {
            method: Method::Ilqr,
            max_iterations: 100,
            initial_regularisation: 0.0,
            min_regularisation: 1e-6,
            max_regularisation: 1e10,
            regularisation_factor: 2.0,
            backtracking: 0.5,
            min_step: 1e-3,
            min_reduction_ratio: 1e-4,
            tolerance: 1e-8,
            gradient_tolerance: 1e-6,
        }
    }
}

/// One iteration (backward pass and line search) of the solver.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationReport {
    /// Cost `J` after the iteration.
    pub cost: f64,
    /// Accepted step size `α` (zero if the line search failed).
    pub step: f64,
    /// `μ` used in the backward pass.
    pub regularisation: f64,
    /// `−ΔJ(1)`, the improvement the quadratic model predicted for a full step.
    pub expected_improvement: f64,
    /// `max_t ‖∇_{u_t} J‖_∞` at the start of the iteration.
    pub gradient_norm: f64,
}

/// Why the solver stopped.
///
/// ```
/// use wengert_control::ilqr::Termination;
/// assert!(Termination::ExpectedImprovement.converged());
/// assert!(!Termination::MaxIterations.converged());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// `−ΔJ(1)` fell below the tolerance.
    ExpectedImprovement,
    /// The projected gradient vanished.
    GradientNorm,
    /// `max_iterations` backward passes ran.
    MaxIterations,
    /// `μ` exceeded `μ_max` (no descent step could be found).
    RegularisationLimit,
}

impl Termination {
    /// Whether a convergence test was met.
    pub fn converged(self) -> bool {
        matches!(
            self,
            Termination::ExpectedImprovement | Termination::GradientNorm
        )
    }
}

/// A locally optimal trajectory, its feedback policy and the solver's history.
///
/// ```
/// use autograd::Tensor;
/// use ndarray::array;
/// use wengert_control::ilqr::{Ilqr, IlqrOptions, Problem};
///
/// let problem = Problem::new(1, 1, 5, |x, u| x + u,
///     |x, u| (x.powi(2) + u.powi(2)).sum(&[0], false), |x| x.powi(2).sum(&[0], false));
/// let solution = Ilqr::new(IlqrOptions::default()).solve(&problem, &array![1.0], None).unwrap();
/// assert_eq!((solution.x.nrows(), solution.u.nrows(), solution.K.len()), (6, 5, 5));
/// ```
#[allow(non_snake_case)]
#[derive(Debug, Clone, PartialEq)]
pub struct IlqrSolution {
    /// States `x_0 … x_N`, one per row.
    pub x: Array2<f64>,
    /// Controls `u_0 … u_{N−1}`, one per row.
    pub u: Array2<f64>,
    /// Feedback gains `K_t` of the last backward pass (`u_t = ū_t + K_t (x_t − x̄_t)`).
    pub K: Vec<Array2<f64>>,
    /// Feedforward terms `k_t` of the last backward pass.
    pub k: Vec<Array1<f64>>,
    /// `J` along `(x, u)`.
    pub cost: f64,
    /// One report per iteration.
    pub iterations: Vec<IterationReport>,
    /// Why the solver stopped.
    pub termination: Termination,
}

/// Malformed input to [`Ilqr::solve`].
///
/// ```
/// use autograd::Tensor;
/// use ndarray::array;
/// use wengert_control::ilqr::{Ilqr, IlqrError, IlqrOptions, Problem};
///
/// let problem = Problem::new(1, 1, 5, |x, u| x + u, |_, u| u.powi(2).sum(&[0], false), |x| x.powi(2).sum(&[0], false));
/// let error = Ilqr::new(IlqrOptions::default()).solve(&problem, &array![1.0, 2.0], None).unwrap_err();
/// assert_eq!(error.to_string(), "x0 has shape length 2, expected length 1");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum IlqrError {
    /// An input has the wrong shape.
    Shape {
        /// Which input.
        what: String,
        /// The shape it should have.
        expected: String,
        /// The shape it has.
        found: String,
    },
    /// The initial rollout produced a NaN or infinite state or cost.
    NonFiniteRollout,
}

impl fmt::Display for IlqrError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IlqrError::Shape {
                what,
                expected,
                found,
            } => write!(formatter, "{what} has shape {found}, expected {expected}"),
            IlqrError::NonFiniteRollout => write!(
                formatter,
                "the initial controls drive the state or the cost to NaN or infinity; \
                 start from smaller controls"
            ),
        }
    }
}

impl std::error::Error for IlqrError {}

/// The iLQR / DDP solver.
///
/// ```
/// use wengert_control::ilqr::{Ilqr, IlqrOptions};
/// let solver = Ilqr::new(IlqrOptions::default());
/// assert_eq!(solver.options.max_iterations, 100);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Ilqr {
    /// Its options.
    pub options: IlqrOptions,
}

/// The policy and predicted improvement of one backward pass.
#[allow(non_snake_case)]
struct BackwardPass {
    K: Vec<Array2<f64>>,
    k: Vec<Array1<f64>>,
    /// `Σ k_tᵀ q_u,t` and `½ Σ k_tᵀ Q_uu,t k_t`: `ΔJ(α) = α d1 + α² d2`.
    d1: f64,
    d2: f64,
}

impl Ilqr {
    /// A solver with these options.
    pub fn new(options: IlqrOptions) -> Self {
        Ilqr { options }
    }

    /// Solves `problem` from `x0`, warm-started from `initial_controls` (`N × m`; zeros if
    /// `None`), which are clamped to the control limits first.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::{array, Array2};
    /// use wengert_control::ilqr::{Ilqr, IlqrOptions, Problem};
    ///
    /// let problem = Problem::new(1, 1, 10, |x, u| x + u,
    ///     |x, u| (x.powi(2) + u.powi(2)).sum(&[0], false), |x| x.powi(2).sum(&[0], false))
    ///     .with_control_limits(array![-0.1], array![0.1]);
    /// let solver = Ilqr::new(IlqrOptions::default());
    /// let solution = solver.solve(&problem, &array![1.0], None).unwrap();
    /// // The limit binds at the start: the best is to push down as hard as allowed.
    /// assert_eq!(solution.u[[0, 0]], -0.1);
    /// // Warm-started from the solution, it has nothing left to do.
    /// let again = solver.solve(&problem, &array![1.0], Some(&solution.u)).unwrap();
    /// assert!(again.iterations.is_empty());
    /// ```
    pub fn solve(
        &self,
        problem: &Problem,
        x0: &Array1<f64>,
        initial_controls: Option<&Array2<f64>>,
    ) -> Result<IlqrSolution, IlqrError> {
        let options = &self.options;
        let (n, m, N) = (problem.n, problem.m, problem.horizon);
        if x0.len() != n {
            return Err(IlqrError::Shape {
                what: "x0".into(),
                expected: format!("length {n}"),
                found: format!("length {}", x0.len()),
            });
        }
        let mut u = match initial_controls {
            Some(u) if u.dim() != (N, m) => {
                return Err(IlqrError::Shape {
                    what: "initial_controls".into(),
                    expected: format!("{N}×{m}"),
                    found: format!("{}×{}", u.nrows(), u.ncols()),
                });
            }
            Some(u) => u.clone(),
            None => Array2::zeros((N, m)),
        };
        for t in 0..N {
            let clamped = problem.clamp_control(u.row(t).to_owned());
            u.row_mut(t).assign(&clamped);
        }
        let (mut x, mut cost) = problem.rollout(x0, &u);
        if !cost.is_finite() || x.iter().any(|a| !a.is_finite()) {
            return Err(IlqrError::NonFiniteRollout);
        }

        let mut mu = options.initial_regularisation;
        let mut delta = 1.0;
        let mut iterations = Vec::new();
        let mut termination = Termination::MaxIterations;
        let mut policy = (vec![Array2::zeros((m, n)); N], vec![Array1::zeros(m); N]);
        let mut expansion = None;
        for _ in 0..options.max_iterations {
            let (steps, terminal) = expansion.get_or_insert_with(|| {
                let steps: Vec<StepExpansion> = (0..N)
                    .map(|t| problem.expand(t, &x.row(t).to_owned(), &u.row(t).to_owned()))
                    .collect();
                (steps, problem.expand_terminal(&x.row(N).to_owned()))
            });
            let gradient_norm = projected_gradient_norm(problem, steps, terminal, &u);

            let backward = loop {
                match self.backward_pass(problem, steps, terminal, &u, mu, &policy.1) {
                    Ok(backward) => break Some(backward),
                    Err(_) => {
                        increase(&mut mu, &mut delta, options);
                        if mu > options.max_regularisation {
                            break None;
                        }
                    }
                }
            };
            let Some(backward) = backward else {
                termination = Termination::RegularisationLimit;
                break;
            };
            policy = (backward.K, backward.k);
            let expected_improvement = -(backward.d1 + backward.d2);
            if expected_improvement < options.tolerance * (1.0 + cost.abs()) {
                termination = Termination::ExpectedImprovement;
                break;
            }
            if gradient_norm < options.gradient_tolerance {
                termination = Termination::GradientNorm;
                break;
            }

            let mut alpha = 1.0;
            let mut accepted = None;
            while alpha >= options.min_step {
                let (x_new, u_new, cost_new) =
                    forward_pass(problem, &x, &u, &policy.0, &policy.1, alpha);
                let expected = -(alpha * backward.d1 + alpha * alpha * backward.d2);
                let actual = cost - cost_new;
                let ratio_ok = expected <= 0.0 || actual / expected > options.min_reduction_ratio;
                if cost_new.is_finite() && actual > 0.0 && ratio_ok {
                    accepted = Some((x_new, u_new, cost_new));
                    break;
                }
                alpha *= options.backtracking;
            }
            let used_mu = mu;
            match accepted {
                Some((x_new, u_new, cost_new)) => {
                    (x, u, cost) = (x_new, u_new, cost_new);
                    expansion = None;
                    decrease(&mut mu, &mut delta, options);
                }
                None => {
                    alpha = 0.0;
                    increase(&mut mu, &mut delta, options);
                }
            }
            iterations.push(IterationReport {
                cost,
                step: alpha,
                regularisation: used_mu,
                expected_improvement,
                gradient_norm,
            });
            if mu > options.max_regularisation {
                termination = Termination::RegularisationLimit;
                break;
            }
        }
        Ok(IlqrSolution {
            x,
            u,
            K: policy.0,
            k: policy.1,
            cost,
            iterations,
            termination,
        })
    }

    /// The backward recursion of the module docs, with regularisation `μ`; `Err(t)` if
    /// `Q̃_uu` at step `t` is not positive definite.
    // ANCHOR: ilqr_backward_pass
    #[allow(non_snake_case)]
    fn backward_pass(
        &self,
        problem: &Problem,
        steps: &[StepExpansion],
        terminal: &(Array2<f64>, Array1<f64>),
        u: &Array2<f64>,
        mu: f64,
        k_previous: &[Array1<f64>],
    ) -> Result<BackwardPass, usize> {
        let (n, m, N) = (problem.n, problem.m, problem.horizon);
        let (mut V, mut v) = terminal.clone();
        let no_offset = Array1::zeros(n);
        let mut K = vec![Array2::zeros((m, n)); N];
        let mut k = vec![Array1::zeros(m); N];
        let (mut d1, mut d2) = (0.0, 0.0);
        for t in (0..N).rev() {
            let step = &steps[t];
            let C = match self.options.method {
                Method::Ilqr => step.C.clone(),
                Method::Ddp => &step.C + &step.dynamics_curvature(&v),
            };
            let (Q, q) = action_value(&C, &step.c, &step.F, &no_offset, &V, &v);
            let mut Q_regularised = Q.clone();
            for i in n..n + m {
                Q_regularised[[i, i]] += mu;
            }
            let (K_t, k_t) = match &problem.control_limits {
                None => minimise_action_value(&Q_regularised, &q, n).map_err(|_| t)?,
                Some((lower, upper)) => {
                    let u_t = u.row(t);
                    constrained_policy(
                        &Q_regularised,
                        &q,
                        n,
                        &(lower - &u_t),
                        &(upper - &u_t),
                        &k_previous[t],
                    )
                    .map_err(|_| t)?
                }
            };
            let (Q_uu, q_u) = (Q.slice(s![n.., n..]), q.slice(s![n..]));
            d1 += k_t.dot(&q_u);
            d2 += 0.5 * k_t.dot(&Q_uu.dot(&k_t));
            (V, v) = value_update(&Q, &q, &K_t, &k_t);
            K[t] = K_t;
            k[t] = k_t;
        }
        Ok(BackwardPass { K, k, d1, d2 })
    }
    // ANCHOR_END: ilqr_backward_pass
}

/// `k` from the box QP and `K` on its free coordinates: `K_f = −Q̃_uu,ff⁻¹ Q_ux,f`.
#[allow(non_snake_case)]
fn constrained_policy(
    Q: &Array2<f64>,
    q: &Array1<f64>,
    n: usize,
    lower: &Array1<f64>,
    upper: &Array1<f64>,
    k_start: &Array1<f64>,
) -> Result<(Array2<f64>, Array1<f64>), LinalgError> {
    let m = q.len() - n;
    let Q_uu = Q.slice(s![n.., n..]).to_owned();
    let q_u = q.slice(s![n..]).to_owned();
    let solution = box_qp(&Q_uu, &q_u, lower, upper, k_start)?;
    let free: Vec<usize> = (0..m).filter(|&i| solution.free[i]).collect();
    let mut K = Array2::zeros((m, n));
    if !free.is_empty() {
        let Q_ux = Q.slice(s![n.., ..n]).to_owned();
        let all_x: Vec<usize> = (0..n).collect();
        let cholesky = Cholesky::factor(submatrix(&Q_uu, &free, &free).view())?;
        let K_free = -cholesky.solve_matrix(submatrix(&Q_ux, &free, &all_x).view())?;
        for (row, &i) in free.iter().enumerate() {
            K.row_mut(i).assign(&K_free.row(row));
        }
    }
    Ok((K, solution.x))
}

/// The forward pass of the module docs at step size `alpha`: new states, controls and cost.
// ANCHOR: ilqr_forward_pass
#[allow(non_snake_case)]
fn forward_pass(
    problem: &Problem,
    x: &Array2<f64>,
    u: &Array2<f64>,
    K: &[Array2<f64>],
    k: &[Array1<f64>],
    alpha: f64,
) -> (Array2<f64>, Array2<f64>, f64) {
    let N = problem.horizon;
    let mut x_new = Array2::zeros(x.dim());
    let mut u_new = Array2::zeros(u.dim());
    x_new.row_mut(0).assign(&x.row(0));
    let mut cost = 0.0;
    for t in 0..N {
        let x_t = x_new.row(t).to_owned();
        let u_t = &u.row(t) + &(&k[t] * alpha) + K[t].dot(&(&x_t - &x.row(t)));
        let u_t = problem.clamp_control(u_t);
        cost += problem.running_cost_at(t, &x_t, &u_t);
        let x_next = problem.step(&x_t, &u_t);
        if x_next.iter().any(|a| !a.is_finite()) {
            return (x_new, u_new, f64::NAN);
        }
        x_new.row_mut(t + 1).assign(&x_next);
        u_new.row_mut(t).assign(&u_t);
    }
    cost += problem.terminal_cost_at(&x_new.row(N).to_owned());
    (x_new, u_new, cost)
}
// ANCHOR_END: ilqr_forward_pass

/// `max_t ‖∇_{u_t} J‖_∞` by the costate recursion, leaving out components held at a bound.
pub(crate) fn projected_gradient_norm(
    problem: &Problem,
    steps: &[StepExpansion],
    terminal: &(Array2<f64>, Array1<f64>),
    u: &Array2<f64>,
) -> f64 {
    let n = problem.n;
    let mut lambda = terminal.1.clone();
    let mut norm: f64 = 0.0;
    for t in (0..problem.horizon).rev() {
        let step = &steps[t];
        let gradient = &step.c + &step.F.t().dot(&lambda);
        let (gradient_x, gradient_u) = (gradient.slice(s![..n]), gradient.slice(s![n..]));
        for (i, &g) in gradient_u.iter().enumerate() {
            let pinned = problem.control_limits.as_ref().is_some_and(|(lo, hi)| {
                (u[[t, i]] <= lo[i] && g > 0.0) || (u[[t, i]] >= hi[i] && g < 0.0)
            });
            if !pinned {
                norm = norm.max(g.abs());
            }
        }
        lambda = gradient_x.to_owned();
    }
    norm
}

/// `Δ ← max(Δ₀, Δ Δ₀)`, `μ ← max(μ_min, μ Δ)`.
fn increase(mu: &mut f64, delta: &mut f64, options: &IlqrOptions) {
    let factor = options.regularisation_factor;
    *delta = (*delta * factor).max(factor);
    *mu = (*mu * *delta).max(options.min_regularisation);
}

/// `Δ ← min(1/Δ₀, Δ/Δ₀)`, `μ ← μ Δ`, or zero once below `μ_min`.
fn decrease(mu: &mut f64, delta: &mut f64, options: &IlqrOptions) {
    let factor = options.regularisation_factor;
    *delta = (*delta / factor).min(1.0 / factor);
    *mu = if *mu * *delta > options.min_regularisation {
        *mu * *delta
    } else {
        0.0
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::{Tensor, Var};
    use ndarray::array;

    #[test]
    fn regularisation_schedule_grows_geometrically_and_drops_to_zero() {
        let options = IlqrOptions::default();
        let (mut mu, mut delta) = (0.0, 1.0);
        increase(&mut mu, &mut delta, &options);
        assert_eq!((mu, delta), (1e-6, 2.0));
        increase(&mut mu, &mut delta, &options);
        assert_eq!((mu, delta), (4e-6, 4.0));
        decrease(&mut mu, &mut delta, &options);
        assert_eq!((mu, delta), (2e-6, 0.5));
        decrease(&mut mu, &mut delta, &options);
        assert_eq!((mu, delta), (0.0, 0.25));
    }

    #[test]
    fn gradient_norm_matches_central_differences_of_the_cost() {
        let problem = Problem::new(
            2,
            1,
            4,
            |x, u| {
                let a = x.slice(0, 0, 1);
                let b = x.slice(0, 1, 2);
                Var::concat(&[&(&a + &(b.sin() * 0.1)), &(&b + &(u * &a.cos()))], 0)
            },
            |x, u| x.powi(2).sum(&[0], false) + u.powi(4).sum(&[0], false),
            |x| x.powi(2).sum(&[0], false) * 3.0,
        );
        let x0 = array![0.3, -0.2];
        let u = array![[0.5], [-0.1], [0.2], [0.3]];
        let (x, _) = problem.rollout(&x0, &u);
        let steps: Vec<StepExpansion> = (0..4)
            .map(|t| problem.expand(t, &x.row(t).to_owned(), &u.row(t).to_owned()))
            .collect();
        let terminal = problem.expand_terminal(&x.row(4).to_owned());
        let norm = projected_gradient_norm(&problem, &steps, &terminal, &u);
        let mut numeric: f64 = 0.0;
        for t in 0..4 {
            let (mut plus, mut minus) = (u.clone(), u.clone());
            plus[[t, 0]] += 1e-6;
            minus[[t, 0]] -= 1e-6;
            let derivative =
                (problem.rollout(&x0, &plus).1 - problem.rollout(&x0, &minus).1) / 2e-6;
            numeric = numeric.max(derivative.abs());
        }
        assert!((norm - numeric).abs() < 1e-6, "{norm} vs {numeric}");
    }
}
