//! A box-constrained quadratic program by projected Newton (Bertsekas 1982; as used for
//! control-limited DDP by Tassa, Mansard & Todorov 2014):
//!
//! $$ \min_{\delta u} \ \tfrac12 \delta u^{\top} H \delta u + g^{\top} \delta u
//!    \quad \text{subject to} \quad \text{lower} \le \delta u \le \text{upper}
//!    \qquad (H \text{ positive definite}) $$
//!
//! Each iteration splits the coordinates by the gradient `∇ = g + H δu`: coordinate `i` is
//! *clamped* if it sits on a bound and the gradient pushes it outwards
//! (`δu_i = lower_i, ∇_i > 0` or `δu_i = upper_i, ∇_i < 0`), and *free* otherwise. With the
//! clamped coordinates held fixed, the Newton step on the free ones is
//! `Δ_f = −H_ff⁻¹ ∇_f` (a Cholesky solve); it is projected back onto the box and shortened by
//! an Armijo backtracking search on the projected point until the objective falls by at least
//! a fraction of the linear prediction. It stops when the free gradient vanishes or the
//! objective stops improving.
//!
//! In the iLQR backward pass `H = Q̃_uu`, `g = q_u` and the box is `[u_min − ū_t, u_max − ū_t]`;
//! the feedback gain acts only on the free coordinates: `K_f = −H_ff⁻¹ Q_ux,f`, and the rows
//! of `K` for clamped coordinates are zero (a small change of `x` keeps them clamped).

#![allow(non_snake_case)]

use crate::linalg::{Cholesky, LinalgError};
use ndarray::{Array1, Array2};

/// The solution of a box QP and its active set.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxQpSolution {
    /// The minimiser `δu`.
    pub x: Array1<f64>,
    /// Which coordinates are free (not clamped) at `x`.
    pub free: Vec<bool>,
}

/// Minimises `½ xᵀ H x + gᵀ x` over `lower ≤ x ≤ upper` by projected Newton, starting from
/// `x0` projected onto the box.
///
/// ```
/// use ndarray::array;
/// use wengert_control::ilqr::box_qp;
///
/// // Unconstrained minimiser (2, −3); the box [−1, 1]² clamps both coordinates.
/// let H = array![[1.0, 0.0], [0.0, 1.0]];
/// let g = array![-2.0, 3.0];
/// let solution = box_qp(&H, &g, &array![-1.0, -1.0], &array![1.0, 1.0], &array![0.0, 0.0]).unwrap();
/// assert_eq!(solution.x, array![1.0, -1.0]);
/// assert_eq!(solution.free, vec![false, false]);
/// ```
pub fn box_qp(
    H: &Array2<f64>,
    g: &Array1<f64>,
    lower: &Array1<f64>,
    upper: &Array1<f64>,
    x0: &Array1<f64>,
) -> Result<BoxQpSolution, LinalgError> {
    const MAX_ITERATIONS: usize = 100;
    const GRADIENT_TOLERANCE: f64 = 1e-10;
    const RELATIVE_IMPROVEMENT_TOLERANCE: f64 = 1e-12;
    const ARMIJO: f64 = 0.1;
    const BACKTRACK: f64 = 0.6;
    const MIN_STEP: f64 = 1e-14;

    let m = g.len();
    let project = |x: &Array1<f64>| Array1::from_shape_fn(m, |i| x[i].clamp(lower[i], upper[i]));
    let objective = |x: &Array1<f64>| 0.5 * x.dot(&H.dot(x)) + g.dot(x);
    let mut x = project(x0);
    let mut value = objective(&x);
    for _ in 0..MAX_ITERATIONS {
        let gradient = g + &H.dot(&x);
        let free = free_set(&x, &gradient, lower, upper);
        let free_indices: Vec<usize> = (0..m).filter(|&i| free[i]).collect();
        if free_indices.is_empty() {
            break;
        }
        let gradient_free = Array1::from_iter(free_indices.iter().map(|&i| gradient[i]));
        if gradient_free.iter().all(|d| d.abs() < GRADIENT_TOLERANCE) {
            break;
        }
        let H_ff = submatrix(H, &free_indices, &free_indices);
        let newton_free = -Cholesky::factor(H_ff.view())?.solve_vector(gradient_free.view())?;
        let mut direction = Array1::zeros(m);
        for (&i, &d) in free_indices.iter().zip(&newton_free) {
            direction[i] = d;
        }

        let mut step = 1.0;
        let accepted = loop {
            let candidate = project(&(&x + &(&direction * step)));
            let candidate_value = objective(&candidate);
            let predicted = gradient.dot(&(&candidate - &x));
            if candidate_value - value <= ARMIJO * predicted {
                break Some((candidate, candidate_value));
            }
            step *= BACKTRACK;
            if step < MIN_STEP {
                break None;
            }
        };
        let Some((candidate, candidate_value)) = accepted else {
            break;
        };
        let improvement = value - candidate_value;
        x = candidate;
        value = candidate_value;
        if improvement < RELATIVE_IMPROVEMENT_TOLERANCE * (1.0 + value.abs()) {
            break;
        }
    }
    let gradient = g + &H.dot(&x);
    let free = free_set(&x, &gradient, lower, upper);
    Ok(BoxQpSolution { x, free })
}

/// Coordinates not held on a bound by the gradient.
fn free_set(
    x: &Array1<f64>,
    gradient: &Array1<f64>,
    lower: &Array1<f64>,
    upper: &Array1<f64>,
) -> Vec<bool> {
    (0..x.len())
        .map(|i| {
            let clamped =
                (x[i] <= lower[i] && gradient[i] > 0.0) || (x[i] >= upper[i] && gradient[i] < 0.0);
            !clamped
        })
        .collect()
}

/// `A[rows, cols]`.
pub(crate) fn submatrix(A: &Array2<f64>, rows: &[usize], cols: &[usize]) -> Array2<f64> {
    Array2::from_shape_fn((rows.len(), cols.len()), |(i, j)| A[[rows[i], cols[j]]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Brute force over the active sets of a 2-D box QP: the minimiser is either interior or
    /// on an edge or a corner.
    fn brute_force(H: &Array2<f64>, g: &Array1<f64>, lo: &Array1<f64>, hi: &Array1<f64>) -> f64 {
        let objective = |x: &Array1<f64>| 0.5 * x.dot(&H.dot(x)) + g.dot(x);
        let mut best = f64::INFINITY;
        let grid = 400;
        for a in 0..=grid {
            for b in 0..=grid {
                let x = array![
                    lo[0] + (hi[0] - lo[0]) * a as f64 / grid as f64,
                    lo[1] + (hi[1] - lo[1]) * b as f64 / grid as f64
                ];
                best = best.min(objective(&x));
            }
        }
        best
    }

    #[test]
    fn interior_minimum_is_the_newton_step() {
        let H = array![[2.0, 0.5], [0.5, 1.0]];
        let g = array![0.1, -0.2];
        let solution = box_qp(
            &H,
            &g,
            &array![-5.0, -5.0],
            &array![5.0, 5.0],
            &array![0.0, 0.0],
        )
        .unwrap();
        let residual = &g + &H.dot(&solution.x);
        assert!(residual.iter().all(|r| r.abs() < 1e-12));
        assert_eq!(solution.free, vec![true, true]);
    }

    #[test]
    fn one_active_bound_with_coupling() {
        // Coupled H: clamping the first coordinate changes the optimum of the second.
        let H = array![[2.0, 1.0], [1.0, 2.0]];
        let g = array![-4.0, 0.0];
        let (lo, hi) = (array![-1.0, -1.0], array![1.0, 1.0]);
        let solution = box_qp(&H, &g, &lo, &hi, &array![0.0, 0.0]).unwrap();
        assert_eq!(solution.free, vec![false, true]);
        assert!((solution.x[0] - 1.0).abs() < 1e-15 && (solution.x[1] + 0.5).abs() < 1e-12);
        let value = 0.5 * solution.x.dot(&H.dot(&solution.x)) + g.dot(&solution.x);
        assert!(value <= brute_force(&H, &g, &lo, &hi) + 1e-9);
    }

    #[test]
    fn indefinite_free_block_is_reported() {
        let H = array![[-1.0]];
        assert!(matches!(
            box_qp(&H, &array![0.5], &array![-1.0], &array![1.0], &array![0.0]),
            Err(LinalgError::NotPositiveDefinite { .. })
        ));
    }
}
