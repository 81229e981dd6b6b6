//! Infinite-horizon discrete-time LQR by Riccati iteration.
//!
//! ## Problem
//!
//! Time-invariant dynamics $x_{t+1} = A x_t + B u_t$ and cost
//! $\sum_{t \ge 0} x_t^{\top} Q x_t + u_t^{\top} R u_t + 2 x_t^{\top} N u_t$ (the cross term $N$ is
//! optional, zero by default), minimised over feedback laws.
//!
//! ## Key equations
//!
//! The value function is quadratic, $V(x) = x^{\top} P x$. The Bellman equation
//!
//! $$ x^{\top} P x = \min_u x^{\top} Q x + u^{\top} R u + 2 x^{\top} N u + (A x + B u)^{\top} P (A x + B u) $$
//!
//! is minimised where $(R + B^{\top} P B) u = -(B^{\top} P A + N^{\top}) x$, that is $u = -K x$
//! with
//!
//! $$ K = (R + B^{\top} P B)^{-1} (B^{\top} P A + N^{\top}) , $$
//!
//! and substituting back gives the discrete algebraic Riccati equation (DARE)
//!
//! $$ P = Q + A^{\top} P A - (A^{\top} P B + N) (R + B^{\top} P B)^{-1} (B^{\top} P A + N^{\top}) . $$
//!
//! This is the time-invariant case of the finite-horizon recursion in
//! [`finite_horizon`](super::finite_horizon) (with $F = [A\ B]$, $C = [Q\ N;\ N^{\top}\ R]$,
//! $V_t = P$, $K_t = -K$); running that recursion backwards until it stops changing is **Riccati
//! iteration**:
//!
//! ```text
//! P_0 = Q
//! repeat i = 1, 2, …:
//!     K_i     = (R + Bᵀ P_{i−1} B)⁻¹ (Bᵀ P_{i−1} A + Nᵀ)          (Cholesky of R + BᵀPB)
//!     P_i     = Q + Aᵀ P_{i−1} A − (Aᵀ P_{i−1} B + N) K_i
//! until ‖P_i − P_{i−1}‖_F ≤ tolerance · (1 + ‖P_i‖_F)
//! ```
//!
//! If $(A, B)$ is stabilisable and $(Q - N R^{-1} N^{\top},\ A - B R^{-1} N^{\top})$ is detectable,
//! $P_i$ converges to the stabilising solution, linearly at a rate of about $\rho(A - B K)^2$, and
//! the closed loop $A - B K$ has spectral radius $\rho < 1$. If $(A, B)$ is not stabilisable, an
//! unstable mode that no control reaches makes $P_i$ grow without bound, and the iteration
//! reports [`LqrError::NotConverged`] with the last residual.
#![allow(non_snake_case)]

use super::{LqrError, check_matrix, symmetric_part};
use crate::linalg::{Cholesky, LinalgError, spectral_radius};
use ndarray::Array2;

/// Stopping rule of the Riccati iteration.
///
/// ```
/// use wengert_control::lqr::RiccatiOptions;
///
/// let options = RiccatiOptions::default();
/// assert_eq!((options.tolerance, options.max_iterations), (1e-12, 100_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiccatiOptions {
    /// Stop when `‖P_i − P_{i−1}‖_F ≤ tolerance · (1 + ‖P_i‖_F)`. Default `1e-12`.
    pub tolerance: f64,
    /// Give up (with [`LqrError::NotConverged`]) after this many iterations. Default `100_000`,
    /// enough for closed-loop spectral radii up to about `0.9999`.
    pub max_iterations: usize,
}

impl Default for RiccatiOptions {
    fn default() -> Self {
        RiccatiOptions {
            tolerance: 1e-12,
            max_iterations: 100_000,
        }
    }
}

/// An infinite-horizon LQR problem: `A` (`n × n`), `B` (`n × m`), `Q` (`n × n`), `R` (`m × m`),
/// cross term `N` (`n × m`, zero unless set with [`DareProblem::with_cross_term`]).
///
/// ```
/// use ndarray::array;
/// use wengert_control::lqr::DareProblem;
///
/// let problem = DareProblem::new(array![[1.0]], array![[1.0]], array![[1.0]], array![[1.0]]).unwrap();
/// assert_eq!(problem.N, array![[0.0]]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DareProblem {
    /// State transition matrix.
    pub A: Array2<f64>,
    /// Control matrix.
    pub B: Array2<f64>,
    /// State cost (symmetric positive semi-definite).
    pub Q: Array2<f64>,
    /// Control cost (symmetric positive definite).
    pub R: Array2<f64>,
    /// State-control cross cost.
    pub N: Array2<f64>,
}

/// The result of Riccati iteration.
///
/// ```
/// use ndarray::array;
/// use wengert_control::lqr::{DareProblem, RiccatiOptions};
///
/// // Scalar x' = x + u, cost x² + u²: P = (1 + √5)/2, the golden ratio, and K = P / (1 + P).
/// let problem = DareProblem::new(array![[1.0]], array![[1.0]], array![[1.0]], array![[1.0]]).unwrap();
/// let solution = problem.solve(&RiccatiOptions::default()).unwrap();
/// let golden = (1.0 + 5.0_f64.sqrt()) / 2.0;
/// assert!((solution.P[[0, 0]] - golden).abs() < 1e-12);
/// assert!((solution.K[[0, 0]] - golden / (1.0 + golden)).abs() < 1e-12);
/// assert!((solution.spectral_radius - 1.0 / (1.0 + golden)).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DareSolution {
    /// The fixed point `P` of the Riccati map (`n × n`, symmetric).
    pub P: Array2<f64>,
    /// The optimal gain (`m × n`), with `u = −K x`.
    pub K: Array2<f64>,
    /// `ρ(A − B K)`, the largest closed-loop eigenvalue modulus (`< 1` means stable).
    pub spectral_radius: f64,
    /// Riccati iterations run.
    pub iterations: usize,
    /// Relative residual `‖P_i − P_{i−1}‖_F / (1 + ‖P_i‖_F)` at the last iteration.
    pub residual: f64,
}

impl DareProblem {
    /// Builds a problem after checking shapes (`n` from `A`, `m` from `B`) and finiteness.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::lqr::DareProblem;
    ///
    /// let error = DareProblem::new(
    ///     array![[1.0, 0.0], [0.0, 1.0]], array![[1.0], [0.0]],
    ///     array![[1.0, 0.0], [0.0, 1.0]], array![[1.0, 0.0], [0.0, 1.0]],
    /// ).unwrap_err();
    /// assert_eq!(error.to_string(), "R has shape 2×2, expected 1×1");
    /// ```
    pub fn new(
        A: Array2<f64>,
        B: Array2<f64>,
        Q: Array2<f64>,
        R: Array2<f64>,
    ) -> Result<Self, LqrError> {
        let N = Array2::zeros(B.dim());
        let problem = DareProblem { A, B, Q, R, N };
        problem.validate()?;
        Ok(problem)
    }

    /// Adds the cross term `2 xᵀ N u` to the stage cost.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::lqr::{DareProblem, RiccatiOptions};
    ///
    /// let problem = DareProblem::new(array![[0.9]], array![[1.0]], array![[2.0]], array![[1.0]])
    ///     .unwrap()
    ///     .with_cross_term(array![[0.5]])
    ///     .unwrap();
    /// let solution = problem.solve(&RiccatiOptions::default()).unwrap();
    /// assert!(solution.spectral_radius < 1.0);
    /// ```
    pub fn with_cross_term(mut self, N: Array2<f64>) -> Result<Self, LqrError> {
        self.N = N;
        self.validate()?;
        Ok(self)
    }

    /// Checks every shape against `n = A.nrows()` and `m = B.ncols()`, and finiteness.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::lqr::DareProblem;
    ///
    /// let mut problem = DareProblem::new(array![[1.0]], array![[1.0]], array![[1.0]], array![[1.0]]).unwrap();
    /// problem.A = array![[1.0, 2.0]];
    /// assert_eq!(problem.validate().unwrap_err().to_string(), "A has shape 1×2, expected 1×1");
    /// ```
    pub fn validate(&self) -> Result<(), LqrError> {
        let n = self.A.nrows();
        let m = self.B.ncols();
        check_matrix(&"A", &self.A, n, n)?;
        check_matrix(&"B", &self.B, n, m)?;
        check_matrix(&"Q", &self.Q, n, n)?;
        check_matrix(&"R", &self.R, m, m)?;
        check_matrix(&"N", &self.N, n, m)
    }

    /// Riccati iteration from `P_0 = Q` to the stopping rule in `options`.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::lqr::{DareProblem, LqrError, RiccatiOptions};
    ///
    /// // The mode x₂' = 2 x₂ is unstable and no control reaches it: no stabilising solution.
    /// let problem = DareProblem::new(
    ///     array![[0.5, 0.0], [0.0, 2.0]], array![[1.0], [0.0]],
    ///     array![[1.0, 0.0], [0.0, 1.0]], array![[1.0]],
    /// ).unwrap();
    /// let error = problem.solve(&RiccatiOptions::default()).unwrap_err();
    /// assert!(matches!(error, LqrError::NotConverged { .. }));
    /// ```
    pub fn solve(&self, options: &RiccatiOptions) -> Result<DareSolution, LqrError> {
        self.validate()?;
        let (A, B, N) = (&self.A, &self.B, &self.N);
        let (Q, R) = (symmetric_part(&self.Q), symmetric_part(&self.R));

        let mut P = Q.clone();
        let mut residual = f64::INFINITY;
        for iteration in 1..=options.max_iterations {
            let (K, BT_P_A_plus_NT) = gain(A, B, &R, N, &P, iteration)?;
            let P_next = &Q + &A.t().dot(&P).dot(A) - BT_P_A_plus_NT.t().dot(&K);
            // Symmetric in exact arithmetic; keep it so against round-off.
            let P_next = symmetric_part(&P_next);

            residual = frobenius_norm(&(&P_next - &P)) / (1.0 + frobenius_norm(&P_next));
            P = P_next;
            if !residual.is_finite() {
                return Err(LqrError::NotConverged {
                    iterations: iteration,
                    residual,
                });
            }
            if residual <= options.tolerance {
                let (K, _) = gain(A, B, &R, N, &P, iteration + 1)?;
                let closed_loop = A - &B.dot(&K);
                return Ok(DareSolution {
                    spectral_radius: spectral_radius(closed_loop.view())?,
                    P,
                    K,
                    iterations: iteration,
                    residual,
                });
            }
        }
        Err(LqrError::NotConverged {
            iterations: options.max_iterations,
            residual,
        })
    }
}

/// `K = (R + Bᵀ P B)⁻¹ (Bᵀ P A + Nᵀ)`, and `Bᵀ P A + Nᵀ` for reuse.
fn gain(
    A: &Array2<f64>,
    B: &Array2<f64>,
    R: &Array2<f64>,
    N: &Array2<f64>,
    P: &Array2<f64>,
    iteration: usize,
) -> Result<(Array2<f64>, Array2<f64>), LqrError> {
    let BT_P = B.t().dot(P);
    let R_plus_BT_P_B = R + &BT_P.dot(B);
    let cholesky = Cholesky::factor(R_plus_BT_P_B.view()).map_err(|error| match error {
        LinalgError::NotPositiveDefinite { pivot, value } => LqrError::RiccatiNotPositiveDefinite {
            iteration,
            pivot,
            value,
        },
        other => LqrError::Linalg(other),
    })?;
    let BT_P_A_plus_NT = BT_P.dot(A) + N.t();
    let K = cholesky.solve_matrix(BT_P_A_plus_NT.view())?;
    Ok((K, BT_P_A_plus_NT))
}

fn frobenius_norm(matrix: &Array2<f64>) -> f64 {
    matrix.iter().map(|a| a * a).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lqr::LqrProblem;
    use ndarray::{Array1, array, concatenate};

    fn max_abs_difference(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
        (a - b).iter().fold(0.0, |m, d| m.max(d.abs()))
    }

    /// A stabilisable test system: a lightly damped oscillator and an unstable mode, two inputs.
    fn oscillator() -> DareProblem {
        DareProblem::new(
            array![[0.9, 0.4, 0.0], [-0.4, 0.9, 0.1], [0.0, 0.0, 1.2]],
            array![[0.0, 0.1], [1.0, 0.0], [0.3, 1.0]],
            array![[2.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]],
            array![[1.0, 0.2], [0.2, 0.5]],
        )
        .unwrap()
    }

    fn dare_residual(problem: &DareProblem, P: &Array2<f64>) -> f64 {
        let (A, B, Q, R, N) = (&problem.A, &problem.B, &problem.Q, &problem.R, &problem.N);
        let BT_P_A_plus_NT = B.t().dot(P).dot(A) + N.t();
        let R_plus_BT_P_B = R + &B.t().dot(P).dot(B);
        let K = Cholesky::factor(R_plus_BT_P_B.view())
            .unwrap()
            .solve_matrix(BT_P_A_plus_NT.view())
            .unwrap();
        let right = Q + &A.t().dot(P).dot(A) - BT_P_A_plus_NT.t().dot(&K);
        max_abs_difference(P, &right)
    }

    #[test]
    fn fixed_point_solves_the_dare_and_stabilises() {
        let problem = oscillator();
        let solution = problem.solve(&RiccatiOptions::default()).unwrap();
        assert!(dare_residual(&problem, &solution.P) < 1e-11);
        assert!(solution.spectral_radius < 1.0);
        assert!(solution.residual <= 1e-12);
        // P is symmetric positive definite here (Q is).
        assert!(Cholesky::factor(solution.P.view()).is_ok());
        assert_eq!(solution.P, solution.P.t());
    }

    #[test]
    fn long_finite_horizon_lqr_converges_to_the_riccati_solution() {
        // F = [A B], C = [Q N; Nᵀ R]: V_1 → P and K_1 → −K as T → ∞.
        let problem = oscillator()
            .with_cross_term(array![[0.1, 0.0], [0.0, 0.2], [0.1, 0.1]])
            .unwrap();
        let dare = problem.solve(&RiccatiOptions::default()).unwrap();
        let (n, T) = (3, 400);
        let F = concatenate![ndarray::Axis(1), problem.A, problem.B];
        let top = concatenate![ndarray::Axis(1), problem.Q, problem.N];
        let bottom = concatenate![ndarray::Axis(1), problem.N.t(), problem.R];
        let C = concatenate![ndarray::Axis(0), top, bottom];
        let finite = LqrProblem::new(
            vec![F; T],
            vec![Array1::zeros(n); T],
            vec![C; T],
            vec![Array1::zeros(n + 2); T],
            Array1::ones(n),
        )
        .unwrap();
        let policy = crate::lqr::riccati_backward(&finite).unwrap();
        assert!(max_abs_difference(&policy.V[0], &dare.P) < 1e-9 * (1.0 + dare.P[[0, 0]]));
        assert!(max_abs_difference(&policy.K[0], &(-&dare.K)) < 1e-9);
    }

    #[test]
    fn cross_term_matches_the_equivalent_problem_without_it() {
        // With u = ū − R⁻¹Nᵀx the cost loses its cross term: Ā = A − B R⁻¹ Nᵀ, Q̄ = Q − N R⁻¹ Nᵀ,
        // and K = K̄ + R⁻¹ Nᵀ, with the same P.
        let N = array![[0.2, 0.1], [0.0, -0.1], [0.3, 0.0]];
        let with_N = oscillator().with_cross_term(N.clone()).unwrap();
        let R_inverse_NT = Cholesky::factor(with_N.R.view())
            .unwrap()
            .solve_matrix(N.t())
            .unwrap();
        let without_N = DareProblem::new(
            &with_N.A - &with_N.B.dot(&R_inverse_NT),
            with_N.B.clone(),
            &with_N.Q - &N.dot(&R_inverse_NT),
            with_N.R.clone(),
        )
        .unwrap();
        let options = RiccatiOptions::default();
        let (a, b) = (
            with_N.solve(&options).unwrap(),
            without_N.solve(&options).unwrap(),
        );
        assert!(max_abs_difference(&a.P, &b.P) < 1e-10);
        assert!(max_abs_difference(&a.K, &(&b.K + &R_inverse_NT)) < 1e-10);
        assert!((a.spectral_radius - b.spectral_radius).abs() < 1e-10);
    }

    #[test]
    fn unstabilisable_pair_is_an_error() {
        let problem = DareProblem::new(
            array![[0.5, 0.0], [0.0, 2.0]],
            array![[1.0], [0.0]],
            Array2::eye(2),
            array![[1.0]],
        )
        .unwrap();
        let error = problem.solve(&RiccatiOptions::default()).unwrap_err();
        let LqrError::NotConverged { iterations, .. } = error else {
            panic!("expected NotConverged, got {error:?}");
        };
        // P₂₂ grows like 4ⁱ and overflows near i = 512, long before the iteration budget.
        assert!(iterations < 1000, "{iterations}");
        assert!(error.to_string().contains("stabilisable"));
    }

    #[test]
    fn marginal_uncontrollable_mode_runs_out_of_iterations() {
        // x' = x with no input: P_i = (i + 1) Q grows linearly and never settles.
        let problem =
            DareProblem::new(array![[1.0]], array![[0.0]], array![[1.0]], array![[1.0]]).unwrap();
        let options = RiccatiOptions {
            tolerance: 1e-12,
            max_iterations: 500,
        };
        let error = problem.solve(&options).unwrap_err();
        let LqrError::NotConverged {
            iterations,
            residual,
        } = error
        else {
            panic!("expected NotConverged, got {error:?}");
        };
        assert_eq!(iterations, 500);
        assert!((residual - 1.0 / 502.0).abs() < 1e-12, "{residual}");
        assert!(error.to_string().contains("500 iterations"));
    }

    #[test]
    fn indefinite_control_cost_is_an_error() {
        let mut problem = oscillator();
        problem.R = array![[1.0, 0.0], [0.0, -5.0]];
        assert!(matches!(
            problem.solve(&RiccatiOptions::default()),
            Err(LqrError::RiccatiNotPositiveDefinite {
                iteration: 1,
                pivot: 1,
                ..
            })
        ));
    }

    #[test]
    fn shapes_and_values_are_checked() {
        let problem = oscillator();
        let mut bad = problem.clone();
        bad.B = Array2::zeros((2, 2));
        assert_eq!(
            bad.solve(&RiccatiOptions::default())
                .unwrap_err()
                .to_string(),
            "B has shape 2×2, expected 3×2"
        );
        assert_eq!(
            problem
                .clone()
                .with_cross_term(Array2::zeros((2, 3)))
                .unwrap_err()
                .to_string(),
            "N has shape 2×3, expected 3×2"
        );
        let mut bad = problem.clone();
        bad.Q[[0, 1]] = f64::NAN;
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "Q holds a NaN or an infinity"
        );
        // A decoupled system: each diagonal entry of P solves its own scalar DARE.
        let decoupled = DareProblem::new(
            array![[1.0, 0.0], [0.0, 0.5]],
            array![[1.0], [0.0]],
            Array2::eye(2),
            array![[1.0]],
        )
        .unwrap()
        .solve(&RiccatiOptions::default())
        .unwrap();
        let golden = (1.0 + 5.0_f64.sqrt()) / 2.0;
        assert!((decoupled.P[[0, 0]] - golden).abs() < 1e-12);
        assert!((decoupled.P[[1, 1]] - 1.0 / 0.75).abs() < 1e-12);
    }
}
