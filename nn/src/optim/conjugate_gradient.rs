//! Conjugate gradient: solves `A x = b` for a symmetric positive-definite `A` given only the
//! product `v ↦ A v` (Hestenes & Stiefel, 1952; Nocedal & Wright, Algorithm 5.2).
//!
//! Natural-gradient methods and TRPO use it with `A` the Fisher matrix, whose products come from
//! autograd without ever forming `A`:
//!
//! ```text
//! x₀ = 0,  r₀ = b,  p₀ = r₀
//! for k = 0, 1, …, until ‖r_k‖ ≤ tol or k = max_iterations:
//!     α_k = r_kᵀ r_k / p_kᵀ A p_k
//!     x_{k+1} = x_k + α_k p_k
//!     r_{k+1} = r_k − α_k A p_k
//!     β_k = r_{k+1}ᵀ r_{k+1} / r_kᵀ r_k
//!     p_{k+1} = r_{k+1} + β_k p_k
//! ```
//!
//! In exact arithmetic it finds the solution in at most `n` iterations; a few (10 is the usual
//! choice in TRPO) give a good approximate natural gradient.

use autograd::{Float, SharedArray};
use ndarray::{Array1, ArrayD};

/// The result of [`conjugate_gradient`].
#[derive(Clone, Debug)]
pub struct CgSolution<T> {
    /// The approximate solution `x`.
    pub x: Array1<T>,
    /// How many products with `A` were taken.
    pub iterations: usize,
    /// `‖r‖ = ‖b − A x‖` at the end (as the recursion tracks it).
    pub residual_norm: T,
}

/// Solves `A x = b` for symmetric positive-definite `A` given as `a_times(v) = A v`; stops after
/// `max_iterations` products or once `‖r‖ ≤ residual_tolerance`.
///
/// ```
/// use ndarray::{array, Array1};
/// use wengert_nn::optim::conjugate_gradient;
/// let a = array![[4.0, 1.0], [1.0, 3.0]];
/// let b = array![1.0, 2.0];
/// let solution = conjugate_gradient(|v: &Array1<f64>| a.dot(v), &b, 10, 1e-12);
/// assert!(solution.iterations <= 2);
/// assert!((&solution.x - &array![1.0 / 11.0, 7.0 / 11.0]).iter().all(|e| e.abs() < 1e-14));
/// ```
// ANCHOR: conjugate_gradient
pub fn conjugate_gradient<T: Float>(
    mut a_times: impl FnMut(&Array1<T>) -> Array1<T>,
    b: &Array1<T>,
    max_iterations: usize,
    residual_tolerance: T,
) -> CgSolution<T> {
    let mut x = Array1::zeros(b.len());
    let mut r = b.clone();
    let mut p = r.clone();
    let mut r_dot_r = r.dot(&r);
    let mut iterations = 0;
    while iterations < max_iterations && r_dot_r.sqrt() > residual_tolerance {
        let a_p = a_times(&p);
        iterations += 1;
        let p_a_p = p.dot(&a_p);
        if p_a_p <= T::zero() {
            // Not positive definite along p (or p = 0 to round-off): no further progress.
            break;
        }
        let alpha = r_dot_r / p_a_p;
        x.scaled_add(alpha, &p);
        r.scaled_add(-alpha, &a_p);
        let r_dot_r_next = r.dot(&r);
        let beta = r_dot_r_next / r_dot_r;
        p = &r + &(p * beta);
        r_dot_r = r_dot_r_next;
    }
    CgSolution {
        x,
        iterations,
        residual_norm: r_dot_r.sqrt(),
    }
}
// ANCHOR_END: conjugate_gradient

/// Concatenates arrays (one per parameter) into one vector, each in row-major order.
///
/// ```
/// use ndarray::array;
/// use wengert_nn::optim::conjugate_gradient::{flatten, unflatten};
/// let parts = vec![array![[1.0, 2.0]].into_dyn().into_shared(), array![3.0].into_dyn().into_shared()];
/// let flat = flatten(&parts);
/// assert_eq!(flat, array![1.0, 2.0, 3.0]);
/// let shapes: Vec<Vec<usize>> = parts.iter().map(|p| p.shape().to_vec()).collect();
/// assert_eq!(unflatten(&flat, &shapes), parts);
/// ```
pub fn flatten<T: Float>(parts: &[SharedArray<T>]) -> Array1<T> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

/// Splits a vector into arrays of the given shapes (the inverse of [`flatten`]).
///
/// # Panics
/// If the lengths do not add up.
pub fn unflatten<T: Float>(flat: &Array1<T>, shapes: &[Vec<usize>]) -> Vec<SharedArray<T>> {
    let total: usize = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
    assert_eq!(
        total,
        flat.len(),
        "unflatten: the shapes hold {total} elements but the vector has {}",
        flat.len()
    );
    let mut start = 0;
    shapes
        .iter()
        .map(|shape| {
            let n: usize = shape.iter().product();
            let part = flat.slice(ndarray::s![start..start + n]).to_vec();
            start += n;
            ArrayD::from_shape_vec(shape.clone(), part)
                .expect("the length matches the shape")
                .into_shared()
        })
        .collect()
}
