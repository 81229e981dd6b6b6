//! Linear-quadratic regulators.
//!
//! - [`finite_horizon`]: time-varying affine dynamics `x_{t+1} = F_t [x_t; u_t] + f_t` and
//!   quadratic cost `Σ_t ½ [x_t;u_t]ᵀ C_t [x_t;u_t] + [x_t;u_t]ᵀ c_t` over `t = 1 … T`,
//!   solved exactly by the backward Riccati recursion and a forward rollout.
//! - [`riccati`]: the infinite-horizon, time-invariant problem `x' = A x + B u`,
//!   cost `Σ xᵀ Q x + uᵀ R u`, by iterating the discrete Riccati map to its fixed point `P`
//!   (the solution of the discrete algebraic Riccati equation) and the gain `u = −K x`.
//!
//! Both return [`LqrError`] for malformed input (naming the array, its shape and the expected
//! shape) and for problems with no well-defined solution, instead of panicking or returning NaN.

pub mod finite_horizon;
pub mod riccati;

pub use finite_horizon::{
    LqrPolicy, LqrProblem, LqrSolution, action_value, minimise_action_value, riccati_backward,
    rollout, value_update,
};
pub use riccati::{DareProblem, DareSolution, RiccatiOptions};

use crate::linalg::LinalgError;
use std::fmt;

/// What went wrong when setting up or solving an LQR problem.
///
/// ```
/// use wengert_control::lqr::LqrError;
///
/// let error = LqrError::QuuNotPositiveDefinite { t: 3, pivot: 0, value: -1.0 };
/// assert!(error.to_string().contains("time step t = 3"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum LqrError {
    /// An input has the wrong shape or length.
    Shape {
        /// Which input, e.g. `"F_3"` or `"B"`.
        what: String,
        /// The shape it should have, e.g. `"4×6"`.
        expected: String,
        /// The shape it has.
        found: String,
    },
    /// An input holds a NaN or an infinity.
    NonFinite {
        /// Which input.
        what: String,
    },
    /// `Q_uu` at time step `t` (1-based, as in the equations) is not positive definite, so the
    /// minimisation over `u_t` has no unique solution.
    QuuNotPositiveDefinite {
        /// Time step, `1 ≤ t ≤ T`.
        t: usize,
        /// Zero-based Cholesky pivot that was not positive.
        pivot: usize,
        /// Its value.
        value: f64,
    },
    /// `R + Bᵀ P B` is not positive definite at a Riccati iteration.
    RiccatiNotPositiveDefinite {
        /// Iteration (1-based) at which it happened.
        iteration: usize,
        /// Zero-based Cholesky pivot that was not positive.
        pivot: usize,
        /// Its value.
        value: f64,
    },
    /// The Riccati iteration did not reach its tolerance (or `P` stopped being finite).
    NotConverged {
        /// Iterations run.
        iterations: usize,
        /// The last relative residual `‖P_{i+1} − P_i‖_F / (1 + ‖P_{i+1}‖_F)`.
        residual: f64,
    },
    /// A linear-algebra routine failed (for example the eigenvalue iteration).
    Linalg(LinalgError),
}

impl fmt::Display for LqrError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LqrError::Shape {
                what,
                expected,
                found,
            } => write!(formatter, "{what} has shape {found}, expected {expected}"),
            LqrError::NonFinite { what } => {
                write!(formatter, "{what} holds a NaN or an infinity")
            }
            LqrError::QuuNotPositiveDefinite { t, pivot, value } => write!(
                formatter,
                "Q_uu at time step t = {t} is not positive definite \
                 (Cholesky pivot {pivot} is {value:e}): the cost is not strictly convex in u_{t}"
            ),
            LqrError::RiccatiNotPositiveDefinite {
                iteration,
                pivot,
                value,
            } => write!(
                formatter,
                "R + BᵀPB is not positive definite at Riccati iteration {iteration} \
                 (Cholesky pivot {pivot} is {value:e})"
            ),
            LqrError::NotConverged {
                iterations,
                residual,
            } => write!(
                formatter,
                "Riccati iteration did not converge in {iterations} iterations \
                 (last relative residual {residual:e}); is (A, B) stabilisable?"
            ),
            LqrError::Linalg(error) => write!(formatter, "{error}"),
        }
    }
}

impl std::error::Error for LqrError {}

impl From<LinalgError> for LqrError {
    fn from(error: LinalgError) -> Self {
        LqrError::Linalg(error)
    }
}

/// Checks that `matrix` is `rows × cols` and finite (`what` is formatted only on error, so
/// that checking every time step of a long horizon costs no allocation).
pub(crate) fn check_matrix(
    what: &dyn fmt::Display,
    matrix: &ndarray::Array2<f64>,
    rows: usize,
    cols: usize,
) -> Result<(), LqrError> {
    if matrix.dim() != (rows, cols) {
        return Err(LqrError::Shape {
            what: what.to_string(),
            expected: format!("{rows}×{cols}"),
            found: format!("{}×{}", matrix.nrows(), matrix.ncols()),
        });
    }
    if matrix.iter().any(|a| !a.is_finite()) {
        return Err(LqrError::NonFinite {
            what: what.to_string(),
        });
    }
    Ok(())
}

/// Checks that `vector` has length `len` and is finite.
pub(crate) fn check_vector(
    what: &dyn fmt::Display,
    vector: &ndarray::Array1<f64>,
    len: usize,
) -> Result<(), LqrError> {
    if vector.len() != len {
        return Err(LqrError::Shape {
            what: what.to_string(),
            expected: format!("length {len}"),
            found: format!("length {}", vector.len()),
        });
    }
    if vector.iter().any(|a| !a.is_finite()) {
        return Err(LqrError::NonFinite {
            what: what.to_string(),
        });
    }
    Ok(())
}

/// `½ (M + Mᵀ)`: the part of `M` that a quadratic form `zᵀ M z` sees.
pub(crate) fn symmetric_part(matrix: &ndarray::Array2<f64>) -> ndarray::Array2<f64> {
    (matrix + &matrix.t()) * 0.5
}
