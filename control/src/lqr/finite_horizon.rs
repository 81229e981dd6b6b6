//! Finite-horizon, time-varying LQR with affine dynamics and linear cost terms.
//!
//! ## Problem
//!
//! With $z_t = [x_t; u_t]$ (state $x_t \in \mathbb R^n$, control $u_t \in \mathbb R^m$) and $x_1$
//! given,
//!
//! $$ \min_{u_1 \dots u_T} \sum_{t=1}^{T} \tfrac12 z_t^{\top} C_t z_t + z_t^{\top} c_t
//!    \quad \text{subject to} \quad x_{t+1} = F_t z_t + f_t , \quad t = 1 \dots T-1 . $$
//!
//! Nothing is charged after step $T$, so the terminal value function is zero:
//! $V_{T+1} = 0$, $v_{T+1} = 0$ (and $F_T$, $f_T$, though accepted so that all inputs have $T$
//! entries, do not affect the solution).
//!
//! ## Derivation: the Bellman equation with a quadratic value function
//!
//! Let $V_t(x)$ be the optimal cost-to-go from $x_t = x$. Suppose
//! $V_{t+1}(x) = \tfrac12 x^{\top} V_{t+1} x + x^{\top} v_{t+1} + \text{const}$. The Bellman
//! equation is
//!
//! $$ V_t(x) = \min_u Q_t([x; u]), \qquad
//!    Q_t(z) = \tfrac12 z^{\top} C_t z + z^{\top} c_t + V_{t+1}(F_t z + f_t) . $$
//!
//! Expanding $V_{t+1}(F_t z + f_t)$ shows that the action-value function is quadratic too,
//! $Q_t(z) = \tfrac12 z^{\top} Q_t z + z^{\top} q_t + \text{const}$, with
//!
//! $$ Q_t = C_t + F_t^{\top} V_{t+1} F_t , \qquad
//!    q_t = c_t + F_t^{\top} V_{t+1} f_t + F_t^{\top} v_{t+1} . $$
//!
//! Split them into blocks by $z = [x; u]$: $Q_t = [Q_{xx}\ Q_{xu};\ Q_{ux}\ Q_{uu}]$,
//! $q_t = [q_x; q_u]$. Setting the gradient with respect to $u$ to zero,
//! $Q_{ux} x + Q_{uu} u + q_u = 0$, gives the minimiser, affine in $x$ (unique exactly when
//! $Q_{uu}$ is positive definite):
//!
//! $$ u_t = K_t x_t + k_t , \qquad K_t = -Q_{uu}^{-1} Q_{ux} , \qquad k_t = -Q_{uu}^{-1} q_u . $$
//!
//! Substituting $u = K x + k$ back into $Q_t$ gives $V_t(x)$, again quadratic, which closes the
//! induction:
//!
//! $$ V_t = Q_{xx} + Q_{xu} K_t + K_t^{\top} Q_{ux} + K_t^{\top} Q_{uu} K_t , \qquad
//!    v_t = q_x + Q_{xu} k_t + K_t^{\top} q_u + K_t^{\top} Q_{uu} k_t . $$
//!
//! ## Algorithm
//!
//! ```text
//! V_{T+1} = 0, v_{T+1} = 0
//! for t = T … 1:                                   (riccati_backward)
//!     Q_t, q_t from C_t, c_t, F_t, f_t, V_{t+1}, v_{t+1}
//!     L Lᵀ = Q_uu  (Cholesky; error naming t if Q_uu is not positive definite)
//!     K_t, k_t by two triangular solves; V_t, v_t
//! for t = 1 … T:                                   (rollout)
//!     u_t = K_t x_t + k_t
//!     x_{t+1} = F_t [x_t; u_t] + f_t               (for t < T)
//! ```
//!
//! Only the symmetric part of $C_t$ enters the cost, so $C_t$ is symmetrised before use.
//! Cost: $O(T (n + m)^3)$ time.
#![allow(non_snake_case)]

use super::{LqrError, check_matrix, check_vector, symmetric_part};
use crate::linalg::{Cholesky, LinalgError};
use ndarray::{Array1, Array2, concatenate, s};

/// A finite-horizon LQR problem: `T` time steps of `F_t, f_t, C_t, c_t`, and `x_1`.
///
/// Vectors are indexed from zero, so `F[t - 1]` is `F_t`.
///
/// ```
/// use ndarray::array;
/// use wengert_control::lqr::LqrProblem;
///
/// // Scalar integrator x' = x + u, cost ½x² + ½u², two steps.
/// let step = (array![[1.0, 1.0]], array![0.0], array![[1.0, 0.0], [0.0, 1.0]], array![0.0, 0.0]);
/// let problem = LqrProblem::new(
///     vec![step.0.clone(); 2], vec![step.1.clone(); 2],
///     vec![step.2.clone(); 2], vec![step.3.clone(); 2],
///     array![1.0],
/// ).unwrap();
/// assert_eq!((problem.n(), problem.m(), problem.T()), (1, 1, 2));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LqrProblem {
    /// Dynamics matrices `F_t`, each `n × (n+m)`.
    pub F: Vec<Array2<f64>>,
    /// Dynamics offsets `f_t`, each of length `n`.
    pub f: Vec<Array1<f64>>,
    /// Cost Hessians `C_t`, each `(n+m) × (n+m)`.
    pub C: Vec<Array2<f64>>,
    /// Cost gradients `c_t`, each of length `n+m`.
    pub c: Vec<Array1<f64>>,
    /// Initial state `x_1`.
    pub x1: Array1<f64>,
}

/// The optimal affine feedback policy and value functions, for `t = 1 … T` (`K[t - 1]` is `K_t`).
///
/// ```
/// use ndarray::array;
/// use wengert_control::lqr::{riccati_backward, LqrProblem};
///
/// // One step, x' = x + u, cost ½x² + ½u²: nothing to gain from u, so K = 0, V = 1.
/// let problem = LqrProblem::new(
///     vec![array![[1.0, 1.0]]], vec![array![0.0]],
///     vec![array![[1.0, 0.0], [0.0, 1.0]]], vec![array![0.0, 0.0]],
///     array![2.0],
/// ).unwrap();
/// let policy = riccati_backward(&problem).unwrap();
/// assert_eq!((policy.K[0][[0, 0]], policy.V[0][[0, 0]]), (0.0, 1.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LqrPolicy {
    /// Feedback gains `K_t`, each `m × n`.
    pub K: Vec<Array2<f64>>,
    /// Feedforward terms `k_t`, each of length `m`.
    pub k: Vec<Array1<f64>>,
    /// Value-function Hessians `V_t`, each `n × n`.
    pub V: Vec<Array2<f64>>,
    /// Value-function gradients `v_t`, each of length `n`.
    pub v: Vec<Array1<f64>>,
}

/// The solution of an [`LqrProblem`]: policy, optimal trajectory and its cost.
///
/// ```
/// use ndarray::array;
/// use wengert_control::lqr::LqrProblem;
///
/// let problem = LqrProblem::new(
///     vec![array![[1.0, 1.0]]; 3], vec![array![0.0]; 3],
///     vec![array![[1.0, 0.0], [0.0, 1.0]]; 3], vec![array![0.0, 0.0]; 3],
///     array![1.0],
/// ).unwrap();
/// let solution = problem.solve().unwrap();
/// assert_eq!(solution.x.dim(), (3, 1));
/// assert_eq!(solution.u.dim(), (3, 1));
/// assert!(solution.cost > 0.5 && solution.cost < 1.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LqrSolution {
    /// Gains and value functions.
    pub policy: LqrPolicy,
    /// States `x_1 … x_T`, one per row (`T × n`).
    pub x: Array2<f64>,
    /// Controls `u_1 … u_T`, one per row (`T × m`).
    pub u: Array2<f64>,
    /// `Σ_t ½ z_tᵀ C_t z_t + z_tᵀ c_t` along the trajectory.
    pub cost: f64,
}

impl LqrProblem {
    /// Builds a problem after checking every shape against `n = x1.len()` and
    /// `m = F_1.ncols() − n`, and that all inputs are finite.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::lqr::{LqrError, LqrProblem};
    ///
    /// let wrong_f = LqrProblem::new(
    ///     vec![array![[1.0, 1.0]]], vec![array![0.0, 0.0]],
    ///     vec![array![[1.0, 0.0], [0.0, 1.0]]], vec![array![0.0, 0.0]],
    ///     array![1.0],
    /// );
    /// assert_eq!(
    ///     wrong_f.unwrap_err().to_string(),
    ///     "f_1 has shape length 2, expected length 1"
    /// );
    /// ```
    pub fn new(
        F: Vec<Array2<f64>>,
        f: Vec<Array1<f64>>,
        C: Vec<Array2<f64>>,
        c: Vec<Array1<f64>>,
        x1: Array1<f64>,
    ) -> Result<Self, LqrError> {
        let problem = LqrProblem { F, f, C, c, x1 };
        problem.validate()?;
        Ok(problem)
    }

    /// State dimension `n` (the length of `x_1`).
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::lqr::LqrProblem;
    ///
    /// let problem = LqrProblem::new(
    ///     vec![array![[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]], vec![array![0.0, 0.0]],
    ///     vec![ndarray::Array2::eye(3)], vec![array![0.0, 0.0, 0.0]],
    ///     array![1.0, 2.0],
    /// ).unwrap();
    /// assert_eq!(problem.n(), 2);
    /// ```
    pub fn n(&self) -> usize {
        self.x1.len()
    }

    /// Control dimension `m` (columns of `F_1` minus `n`; zero for an empty horizon).
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::lqr::LqrProblem;
    ///
    /// let problem = LqrProblem::new(
    ///     vec![array![[1.0, 0.0, 1.0]]], vec![array![0.0]],
    ///     vec![ndarray::Array2::eye(3)], vec![array![0.0, 0.0, 0.0]],
    ///     array![1.0],
    /// ).unwrap();
    /// assert_eq!(problem.m(), 2);
    /// ```
    pub fn m(&self) -> usize {
        self.F
            .first()
            .map_or(0, |F| F.ncols().saturating_sub(self.n()))
    }

    /// Horizon `T`.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::lqr::LqrProblem;
    ///
    /// let problem = LqrProblem::new(
    ///     vec![array![[1.0, 1.0]]; 5], vec![array![0.0]; 5],
    ///     vec![ndarray::Array2::eye(2); 5], vec![array![0.0, 0.0]; 5],
    ///     array![1.0],
    /// ).unwrap();
    /// assert_eq!(problem.T(), 5);
    /// ```
    pub fn T(&self) -> usize {
        self.F.len()
    }

    /// Checks shapes and finiteness (called by [`LqrProblem::new`] and by the solvers, since the
    /// fields are public).
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::lqr::LqrProblem;
    ///
    /// let mut problem = LqrProblem::new(
    ///     vec![array![[1.0, 1.0]]], vec![array![0.0]],
    ///     vec![ndarray::Array2::eye(2)], vec![array![0.0, 0.0]],
    ///     array![1.0],
    /// ).unwrap();
    /// problem.C[0][[1, 1]] = f64::NAN;
    /// assert_eq!(problem.validate().unwrap_err().to_string(), "C_1 holds a NaN or an infinity");
    /// ```
    pub fn validate(&self) -> Result<(), LqrError> {
        let T = self.T();
        if T == 0 {
            return Err(LqrError::Shape {
                what: "F".to_string(),
                expected: "T ≥ 1 time steps".to_string(),
                found: "0 time steps".to_string(),
            });
        }
        for (what, len) in [
            ("f", self.f.len()),
            ("C", self.C.len()),
            ("c", self.c.len()),
        ] {
            if len != T {
                return Err(LqrError::Shape {
                    what: what.to_string(),
                    expected: format!("{T} time steps (as many as F)"),
                    found: format!("{len} time steps"),
                });
            }
        }
        let n = self.n();
        check_vector(&"x_1", &self.x1, n)?;
        if self.F[0].ncols() < n {
            return Err(LqrError::Shape {
                what: "F_1".to_string(),
                expected: format!("{n}×(n+m) with n = {n} = length of x_1"),
                found: format!("{}×{}", self.F[0].nrows(), self.F[0].ncols()),
            });
        }
        let m = self.m();
        for t in 1..=T {
            check_matrix(&format_args!("F_{t}"), &self.F[t - 1], n, n + m)?;
            check_vector(&format_args!("f_{t}"), &self.f[t - 1], n)?;
            check_matrix(&format_args!("C_{t}"), &self.C[t - 1], n + m, n + m)?;
            check_vector(&format_args!("c_{t}"), &self.c[t - 1], n + m)?;
        }
        Ok(())
    }

    /// Backward recursion then forward rollout: the optimal policy, trajectory and cost.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::lqr::LqrProblem;
    ///
    /// // Two steps of x' = x + u from x_1 = 1, cost ½x² + ½u² per step. By hand:
    /// // V_2 = 1, K_1 = −½, so u_1 = −½, x_2 = ½, u_2 = 0, cost = ½ + ⅛ + ⅛ = ¾.
    /// let problem = LqrProblem::new(
    ///     vec![array![[1.0, 1.0]]; 2], vec![array![0.0]; 2],
    ///     vec![ndarray::Array2::eye(2); 2], vec![array![0.0, 0.0]; 2],
    ///     array![1.0],
    /// ).unwrap();
    /// let solution = problem.solve().unwrap();
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-15;
    /// assert!(close(solution.u[[0, 0]], -0.5) && close(solution.u[[1, 0]], 0.0));
    /// assert!(close(solution.x[[1, 0]], 0.5));
    /// assert!(close(solution.cost, 0.75));
    /// ```
    pub fn solve(&self) -> Result<LqrSolution, LqrError> {
        self.validate()?;
        let policy = backward(self)?;
        let (x, u) = forward(self, &policy);
        let cost = trajectory_cost(self, &x, &u);
        Ok(LqrSolution { policy, x, u, cost })
    }

    /// States `x_1 … x_T` (rows) reached by applying the controls `u_1 … u_T` (rows, `T × m`)
    /// open loop.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::lqr::LqrProblem;
    ///
    /// let problem = LqrProblem::new(
    ///     vec![array![[1.0, 1.0]]; 3], vec![array![0.5]; 3],
    ///     vec![ndarray::Array2::eye(2); 3], vec![array![0.0, 0.0]; 3],
    ///     array![1.0],
    /// ).unwrap();
    /// let x = problem.simulate(&array![[1.0], [2.0], [3.0]]).unwrap();
    /// assert_eq!(x, array![[1.0], [2.5], [5.0]]);
    /// ```
    pub fn simulate(&self, u: &Array2<f64>) -> Result<Array2<f64>, LqrError> {
        self.validate()?;
        let (n, m, T) = (self.n(), self.m(), self.T());
        check_matrix(&"u", u, T, m)?;
        let mut x = Array2::zeros((T, n));
        x.row_mut(0).assign(&self.x1);
        for t in 1..T {
            let z_t = concatenate![ndarray::Axis(0), x.row(t - 1), u.row(t - 1)];
            let x_next = self.F[t - 1].dot(&z_t) + &self.f[t - 1];
            x.row_mut(t).assign(&x_next);
        }
        Ok(x)
    }

    /// `Σ_{t=1..T} ½ z_tᵀ C_t z_t + z_tᵀ c_t` for states `x` (`T × n`) and controls `u` (`T × m`).
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::lqr::LqrProblem;
    ///
    /// let problem = LqrProblem::new(
    ///     vec![array![[1.0, 1.0]]], vec![array![0.0]],
    ///     vec![array![[2.0, 0.0], [0.0, 4.0]]], vec![array![1.0, 0.0]],
    ///     array![1.0],
    /// ).unwrap();
    /// // ½(2·1² + 4·3²) + 1·1 = 20
    /// assert_eq!(problem.cost(&array![[1.0]], &array![[3.0]]).unwrap(), 20.0);
    /// ```
    pub fn cost(&self, x: &Array2<f64>, u: &Array2<f64>) -> Result<f64, LqrError> {
        self.validate()?;
        let (n, m, T) = (self.n(), self.m(), self.T());
        check_matrix(&"x", x, T, n)?;
        check_matrix(&"u", u, T, m)?;
        Ok(trajectory_cost(self, x, u))
    }
}

/// `Σ_t ½ z_tᵀ C_t z_t + z_tᵀ c_t`, for a validated problem and trajectory.
fn trajectory_cost(problem: &LqrProblem, x: &Array2<f64>, u: &Array2<f64>) -> f64 {
    (1..=problem.T())
        .map(|t| {
            let z_t = concatenate![ndarray::Axis(0), x.row(t - 1), u.row(t - 1)];
            0.5 * z_t.dot(&problem.C[t - 1].dot(&z_t)) + z_t.dot(&problem.c[t - 1])
        })
        .sum()
}

/// The backward recursion `t = T … 1`: `Q_t, q_t`, then `K_t, k_t`, then `V_t, v_t`.
///
/// ```
/// use ndarray::array;
/// use wengert_control::lqr::{riccati_backward, LqrError, LqrProblem};
///
/// // A cost that rewards large controls at step 2 has no minimiser.
/// let problem = LqrProblem::new(
///     vec![array![[1.0, 1.0]]; 2], vec![array![0.0]; 2],
///     vec![ndarray::Array2::eye(2), array![[1.0, 0.0], [0.0, -1.0]]],
///     vec![array![0.0, 0.0]; 2],
///     array![1.0],
/// ).unwrap();
/// assert_eq!(
///     riccati_backward(&problem),
///     Err(LqrError::QuuNotPositiveDefinite { t: 2, pivot: 0, value: -1.0 })
/// );
/// ```
pub fn riccati_backward(problem: &LqrProblem) -> Result<LqrPolicy, LqrError> {
    problem.validate()?;
    backward(problem)
}

/// [`riccati_backward`] for a validated problem: at each `t = T … 1`, [`action_value`], then
/// [`minimise_action_value`], then [`value_update`].
// ANCHOR: lqr_backward
fn backward(problem: &LqrProblem) -> Result<LqrPolicy, LqrError> {
    let (n, T) = (problem.n(), problem.T());
    let mut K = Vec::with_capacity(T);
    let mut k = Vec::with_capacity(T);
    let mut V = Vec::with_capacity(T);
    let mut v = Vec::with_capacity(T);
    let mut V_next = Array2::<f64>::zeros((n, n));
    let mut v_next = Array1::<f64>::zeros(n);
    for t in (1..=T).rev() {
        let C = symmetric_part(&problem.C[t - 1]);
        let (Q, q) = action_value(
            &C,
            &problem.c[t - 1],
            &problem.F[t - 1],
            &problem.f[t - 1],
            &V_next,
            &v_next,
        );
        let (K_t, k_t) = minimise_action_value(&Q, &q, n).map_err(|error| match error {
            LinalgError::NotPositiveDefinite { pivot, value } => {
                LqrError::QuuNotPositiveDefinite { t, pivot, value }
            }
            other => LqrError::Linalg(other),
        })?;
        (V_next, v_next) = value_update(&Q, &q, &K_t, &k_t);

        K.push(K_t);
        k.push(k_t);
        V.push(V_next.clone());
        v.push(v_next.clone());
    }
    K.reverse();
    k.reverse();
    V.reverse();
    v.reverse();
    Ok(LqrPolicy { K, k, V, v })
}
// ANCHOR_END: lqr_backward

/// One step of the backward recursion, part 1: the action-value function
/// `Q_t = C_t + F_tᵀ V_{t+1} F_t`, `q_t = c_t + F_tᵀ V_{t+1} f_t + F_tᵀ v_{t+1}`.
///
/// This is the spine that iLQR and DDP share with LQR: they call it on the linearised dynamics
/// and quadratised cost of each time step (with `f_t = 0`, in deviation coordinates).
///
/// ```
/// use ndarray::array;
/// use wengert_control::lqr::action_value;
///
/// // x' = x + u, V_{t+1} = 2, v_{t+1} = 1, C = I, c = 0, f = 0.
/// let (Q, q) = action_value(
///     &ndarray::Array2::eye(2), &array![0.0, 0.0],
///     &array![[1.0, 1.0]], &array![0.0],
///     &array![[2.0]], &array![1.0],
/// );
/// assert_eq!(Q, array![[3.0, 2.0], [2.0, 3.0]]);
/// assert_eq!(q, array![1.0, 1.0]);
/// ```
// ANCHOR: action_value
pub fn action_value(
    C: &Array2<f64>,
    c: &Array1<f64>,
    F: &Array2<f64>,
    f: &Array1<f64>,
    V_next: &Array2<f64>,
    v_next: &Array1<f64>,
) -> (Array2<f64>, Array1<f64>) {
    let FT_V_next = F.t().dot(V_next);
    let Q = C + &FT_V_next.dot(F);
    let q = c + &FT_V_next.dot(f) + F.t().dot(v_next);
    (Q, q)
}
// ANCHOR_END: action_value

/// One step of the backward recursion, part 2: the minimiser over `u` of
/// `½ zᵀ Q z + zᵀ q` (with `z = [x; u]`, `x ∈ ℝⁿ`), `u = K x + k` with
/// `K = −Q_uu⁻¹ Q_ux`, `k = −Q_uu⁻¹ q_u`, by a Cholesky factorisation of `Q_uu`.
///
/// ```
/// use ndarray::array;
/// use wengert_control::lqr::minimise_action_value;
///
/// let (K, k) = minimise_action_value(&array![[3.0, 2.0], [2.0, 4.0]], &array![1.0, 2.0], 1).unwrap();
/// assert_eq!((K[[0, 0]], k[0]), (-0.5, -0.5));
/// ```
// ANCHOR: minimise_action_value
pub fn minimise_action_value(
    Q: &Array2<f64>,
    q: &Array1<f64>,
    n: usize,
) -> Result<(Array2<f64>, Array1<f64>), LinalgError> {
    let (Q_ux, Q_uu, q_u) = (
        Q.slice(s![n.., ..n]),
        Q.slice(s![n.., n..]),
        q.slice(s![n..]),
    );
    let Q_uu_cholesky = Cholesky::factor(Q_uu)?;
    let K = -Q_uu_cholesky.solve_matrix(Q_ux)?;
    let k = -Q_uu_cholesky.solve_vector(q_u)?;
    Ok((K, k))
}
// ANCHOR_END: minimise_action_value

/// One step of the backward recursion, part 3: substituting `u = K x + k` into
/// `½ zᵀ Q z + zᵀ q` gives the value function
/// `V = Q_xx + Q_xu K + Kᵀ Q_ux + Kᵀ Q_uu K`, `v = q_x + Q_xu k + Kᵀ q_u + Kᵀ Q_uu k`
/// (symmetrised, so that round-off cannot accumulate an antisymmetric part over a long horizon).
///
/// These forms hold for any `K, k`, not only the minimiser, which is what iLQR needs when
/// `K, k` come from a regularised or box-constrained `Q_uu`.
///
/// ```
/// use ndarray::array;
/// use wengert_control::lqr::value_update;
///
/// let Q = array![[3.0, 2.0], [2.0, 4.0]];
/// let (V, v) = value_update(&Q, &array![1.0, 2.0], &array![[-0.5]], &array![-0.5]);
/// assert_eq!((V[[0, 0]], v[0]), (2.0, 0.0)); // 3 − 2·2·½ + 4·¼ = 2;  1 − 1 − 1 + 1 = 0
/// ```
// ANCHOR: value_update
pub fn value_update(
    Q: &Array2<f64>,
    q: &Array1<f64>,
    K: &Array2<f64>,
    k: &Array1<f64>,
) -> (Array2<f64>, Array1<f64>) {
    let n = K.ncols();
    let (Q_xx, Q_xu) = (Q.slice(s![..n, ..n]), Q.slice(s![..n, n..]));
    let (Q_ux, Q_uu) = (Q.slice(s![n.., ..n]), Q.slice(s![n.., n..]));
    let (q_x, q_u) = (q.slice(s![..n]), q.slice(s![n..]));
    let V = &Q_xx + &Q_xu.dot(K) + K.t().dot(&Q_ux) + K.t().dot(&Q_uu).dot(K);
    let v = &q_x + &Q_xu.dot(k) + K.t().dot(&q_u) + K.t().dot(&Q_uu.dot(k));
    (symmetric_part(&V), v)
}
// ANCHOR_END: value_update

/// The forward pass: `u_t = K_t x_t + k_t`, `x_{t+1} = F_t [x_t; u_t] + f_t`, from `x_1`.
/// Returns the states (`T × n`) and controls (`T × m`), one time step per row.
///
/// ```
/// use ndarray::array;
/// use wengert_control::lqr::{rollout, riccati_backward, LqrProblem};
///
/// let problem = LqrProblem::new(
///     vec![array![[1.0, 1.0]]; 2], vec![array![0.0]; 2],
///     vec![ndarray::Array2::eye(2); 2], vec![array![0.0, 0.0]; 2],
///     array![1.0],
/// ).unwrap();
/// let policy = riccati_backward(&problem).unwrap();
/// let (x, u) = rollout(&problem, &policy).unwrap();
/// let expected_x = array![[1.0], [0.5]];
/// let expected_u = array![[-0.5], [0.0]];
/// let close = |a: &ndarray::Array2<f64>, b: &ndarray::Array2<f64>| (a - b).iter().all(|d| d.abs() < 1e-15);
/// assert!(close(&x, &expected_x) && close(&u, &expected_u));
/// ```
pub fn rollout(
    problem: &LqrProblem,
    policy: &LqrPolicy,
) -> Result<(Array2<f64>, Array2<f64>), LqrError> {
    problem.validate()?;
    let (n, m, T) = (problem.n(), problem.m(), problem.T());
    for (what, len) in [
        ("K", policy.K.len()),
        ("k", policy.k.len()),
        ("V", policy.V.len()),
        ("v", policy.v.len()),
    ] {
        if len != T {
            return Err(LqrError::Shape {
                what: format!("policy.{what}"),
                expected: format!("{T} time steps"),
                found: format!("{len} time steps"),
            });
        }
    }
    for t in 1..=T {
        check_matrix(&format_args!("K_{t}"), &policy.K[t - 1], m, n)?;
        check_vector(&format_args!("k_{t}"), &policy.k[t - 1], m)?;
    }
    Ok(forward(problem, policy))
}

/// [`rollout`] for a validated problem and policy.
// ANCHOR: lqr_forward
fn forward(problem: &LqrProblem, policy: &LqrPolicy) -> (Array2<f64>, Array2<f64>) {
    let (n, m, T) = (problem.n(), problem.m(), problem.T());
    let mut x = Array2::zeros((T, n));
    let mut u = Array2::zeros((T, m));
    let mut x_t = problem.x1.clone();
    for t in 1..=T {
        let u_t = policy.K[t - 1].dot(&x_t) + &policy.k[t - 1];
        x.row_mut(t - 1).assign(&x_t);
        u.row_mut(t - 1).assign(&u_t);
        if t < T {
            let z_t = concatenate![ndarray::Axis(0), x_t, u_t];
            x_t = problem.F[t - 1].dot(&z_t) + &problem.f[t - 1];
        }
    }
    (x, u)
}
// ANCHOR_END: lqr_forward

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn pseudo_random_matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        Array2::from_shape_fn((rows, cols), |_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
    }

    /// A random strictly convex problem: `C_t = M Mᵀ + I`.
    pub(crate) fn random_problem(n: usize, m: usize, T: usize, seed: u64) -> LqrProblem {
        let mut F = Vec::new();
        let mut f = Vec::new();
        let mut C = Vec::new();
        let mut c = Vec::new();
        for t in 0..T as u64 {
            let seed = seed * 1000 + 10 * t;
            let mut F_t = pseudo_random_matrix(n, n + m, seed) * 0.5;
            for i in 0..n {
                F_t[[i, i]] += 1.0;
            }
            F.push(F_t);
            f.push(pseudo_random_matrix(n, 1, seed + 1).column(0).to_owned() * 0.1);
            let M = pseudo_random_matrix(n + m, n + m, seed + 2);
            C.push(M.dot(&M.t()) + Array2::<f64>::eye(n + m));
            c.push(
                pseudo_random_matrix(n + m, 1, seed + 3)
                    .column(0)
                    .to_owned(),
            );
        }
        LqrProblem::new(
            F,
            f,
            C,
            c,
            pseudo_random_matrix(n, 1, seed + 7).column(0).to_owned(),
        )
        .unwrap()
    }

    #[test]
    fn solution_is_a_minimum_of_the_open_loop_cost() {
        // The cost is a strictly convex quadratic in (u_1 … u_T) along the dynamics, so at the
        // optimum every perturbation δ raises it by exactly ½ δᵀ H δ > 0 — a second-order amount.
        let problem = random_problem(3, 2, 8, 1);
        let solution = problem.solve().unwrap();
        for seed in 0..5 {
            let delta = pseudo_random_matrix(8, 2, 50 + seed);
            let cost_at = |epsilon: f64| {
                let u = &solution.u + &(&delta * epsilon);
                problem.cost(&problem.simulate(&u).unwrap(), &u).unwrap()
            };
            let (plus, minus) = (cost_at(1e-3), cost_at(-1e-3));
            assert!(plus > solution.cost && minus > solution.cost);
            // Zero gradient: the first-order parts cancel in the symmetric difference.
            assert!(((plus - minus) / 2e-3).abs() < 1e-8, "seed {seed}");
        }
    }

    #[test]
    fn rollout_matches_the_open_loop_simulation() {
        let problem = random_problem(4, 3, 6, 2);
        let solution = problem.solve().unwrap();
        let x = problem.simulate(&solution.u).unwrap();
        assert!((&x - &solution.x).iter().all(|d| d.abs() < 1e-12));
        assert_eq!(solution.x.row(0), problem.x1);
    }

    #[test]
    fn value_function_predicts_the_cost_change_of_a_shifted_start() {
        // Total cost as a function of x_1 is ½ x_1ᵀ V_1 x_1 + v_1ᵀ x_1 + const, so the difference
        // between two starts is known without the constant.
        let mut problem = random_problem(3, 2, 7, 3);
        let first = problem.solve().unwrap();
        let x1_old = problem.x1.clone();
        problem.x1 = array![0.3, -1.0, 2.0];
        let second = problem.solve().unwrap();
        let (V_1, v_1) = (&first.policy.V[0], &first.policy.v[0]);
        let value = |x: &Array1<f64>| 0.5 * x.dot(&V_1.dot(x)) + v_1.dot(x);
        let predicted = value(&problem.x1) - value(&x1_old);
        assert!((second.cost - first.cost - predicted).abs() < 1e-10);
    }

    #[test]
    fn a_non_convex_step_is_named() {
        let mut problem = random_problem(2, 2, 5, 4);
        problem.C[2][[3, 3]] = -100.0;
        let error = problem.solve().unwrap_err();
        assert!(matches!(
            error,
            LqrError::QuuNotPositiveDefinite { t: 3, .. }
        ));
        assert!(error.to_string().contains("t = 3"), "{error}");
    }

    #[test]
    fn shape_errors_name_the_input() {
        let problem = random_problem(2, 1, 3, 5);
        let mut bad = problem.clone();
        bad.F[1] = Array2::zeros((2, 4));
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "F_2 has shape 2×4, expected 2×3"
        );
        let mut bad = problem.clone();
        bad.c.pop();
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "c has shape 2 time steps, expected 3 time steps (as many as F)"
        );
        let mut bad = problem.clone();
        bad.C[0] = Array2::zeros((2, 2));
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "C_1 has shape 2×2, expected 3×3"
        );
        let empty = LqrProblem::new(vec![], vec![], vec![], vec![], array![1.0]);
        assert!(matches!(empty, Err(LqrError::Shape { .. })));
        let mut policy = riccati_backward(&problem).unwrap();
        policy.K[2] = Array2::zeros((2, 2));
        assert_eq!(
            rollout(&problem, &policy).unwrap_err().to_string(),
            "K_3 has shape 2×2, expected 1×2"
        );
        assert_eq!(
            problem
                .simulate(&Array2::zeros((3, 2)))
                .unwrap_err()
                .to_string(),
            "u has shape 3×2, expected 3×1"
        );
    }

    #[test]
    fn no_controls_is_a_plain_simulation() {
        // m = 0: Q_uu is 0×0, K_t is 0×n, and the "optimal" trajectory is the free motion.
        let problem = LqrProblem::new(
            vec![array![[0.5]]; 3],
            vec![array![1.0]; 3],
            vec![array![[2.0]]; 3],
            vec![array![0.0]; 3],
            array![2.0],
        )
        .unwrap();
        let solution = problem.solve().unwrap();
        assert_eq!(solution.u.dim(), (3, 0));
        assert_eq!(solution.x, array![[2.0], [2.0], [2.0]]);
        assert_eq!(solution.cost, 12.0);
    }

    #[test]
    fn only_the_symmetric_part_of_C_matters() {
        let problem = random_problem(3, 2, 4, 6);
        let mut skewed = problem.clone();
        for C_t in &mut skewed.C {
            let skew = pseudo_random_matrix(5, 5, 9);
            *C_t = &*C_t + &(&skew - &skew.t());
        }
        let (a, b) = (problem.solve().unwrap(), skewed.solve().unwrap());
        assert!((&a.u - &b.u).iter().all(|d| d.abs() < 1e-12));
        assert!((a.cost - b.cost).abs() < 1e-12);
    }
}
