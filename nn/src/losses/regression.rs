//! Regression losses on the difference `d = x − y` between input and target.
//!
//! * mean squared error: `ℓ = d²`;
//! * Huber, threshold `δ`: `ℓ = ½ d²` if `|d| < δ`, else `δ (|d| − ½ δ)` — quadratic near zero,
//!   linear (slope `δ`) in the tails, with matching value and slope at `|d| = δ`;
//! * smooth-L1, threshold `β`: `ℓ = ½ d² / β` if `|d| < β`, else `|d| − ½ β` — the Huber loss
//!   divided by its threshold, so its tails have slope 1 (`β = 0` is the L1 loss `|d|`);
//! * Gaussian negative log-likelihood of `y` under `N(x, σ²)`:
//!   `ℓ = ½ (ln σ̃² + d² / σ̃²) [+ ½ ln 2π]` with `σ̃² = max(σ², ε)`. As in PyTorch the clamp only
//!   changes the value: the gradient with respect to `σ²` is taken as if unclamped.

use autograd::{Float, Tensor, Var};

use super::Reduction;

fn check_shapes<T: Float>(input: &Var<T>, target: &Var<T>, loss: &str) {
    if input.shape() != target.shape() {
        panic!(
            "{loss}: input of shape {:?} and target of shape {:?} differ",
            input.shape(),
            target.shape()
        );
    }
}

/// The mean squared error, `ℓ = (x − y)²`.
///
/// ```
/// use autograd::prelude::*;
/// use wengert_nn::losses::{Reduction, mse};
/// let x = Var::constant(ndarray::array![[0.0, 1.0], [2.0, 3.0]]);
/// let y = Var::constant(ndarray::array![[0.0, 0.0], [0.0, 0.0]]);
/// assert_eq!(mse(&x, &y, Reduction::Sum).item(), 14.0);
/// assert_eq!(mse(&x, &y, Reduction::None).value()[[1, 1]], 9.0);
/// ```
///
/// # Panics
/// If the shapes differ.
pub fn mse<T: Float>(input: &Var<T>, target: &Var<T>, reduction: Reduction) -> Var<T> {
    check_shapes(input, target, "mse");
    reduction.apply(&input.sub(target).powi(2))
}

/// The Huber loss with threshold `δ > 0`: `½ d²` if `|d| < δ`, else `δ (|d| − ½ δ)`.
///
/// ```
/// use autograd::prelude::*;
/// use wengert_nn::losses::{Reduction, huber};
/// let x = Var::constant(ndarray::array![0.5, 3.0]);
/// let y = Var::constant(ndarray::array![0.0, 0.0]);
/// let terms = huber(&x, &y, 2.0, Reduction::None);
/// assert_eq!(terms.value().as_slice().unwrap(), &[0.125, 2.0 * (3.0 - 1.0)]);
/// ```
///
/// # Panics
/// If the shapes differ or `δ ≤ 0`.
pub fn huber<T: Float>(input: &Var<T>, target: &Var<T>, delta: T, reduction: Reduction) -> Var<T> {
    check_shapes(input, target, "huber");
    if delta <= T::zero() {
        panic!("huber: delta must be positive, found {delta}");
    }
    reduction.apply(&huber_terms(&input.sub(target), delta))
}

fn huber_terms<T: Float>(d: &Var<T>, delta: T) -> Var<T> {
    let half = T::from_f64(0.5);
    let magnitude = d.abs();
    let quadratic = d.powi(2).mul_scalar(half);
    let linear = magnitude.add_scalar(-half * delta).mul_scalar(delta);
    let inside = magnitude.value().mapv(|m| m < delta);
    quadratic.where_(&inside, &linear)
}

/// The smooth-L1 loss with threshold `β ≥ 0`: `½ d² / β` if `|d| < β`, else `|d| − ½ β`;
/// it equals `huber(δ = β) / β`, and `β = 0` gives the L1 loss `|d|`.
///
/// ```
/// use autograd::prelude::*;
/// use wengert_nn::losses::{Reduction, huber, smooth_l1};
/// let x = Var::constant(ndarray::array![0.25, -3.0]);
/// let y = Var::constant(ndarray::array![0.0, 0.0]);
/// let smooth = smooth_l1(&x, &y, 0.5, Reduction::Sum).item();
/// assert_eq!(smooth, 0.5 * 0.0625 / 0.5 + (3.0 - 0.25));
/// assert_eq!(huber(&x, &y, 0.5, Reduction::Sum).item(), 0.5 * smooth);
/// ```
///
/// # Panics
/// If the shapes differ or `β < 0`.
pub fn smooth_l1<T: Float>(
    input: &Var<T>,
    target: &Var<T>,
    beta: T,
    reduction: Reduction,
) -> Var<T> {
    check_shapes(input, target, "smooth_l1");
    if beta < T::zero() {
        panic!("smooth_l1: beta must not be negative, found {beta}");
    }
    let d = input.sub(target);
    let terms = if beta == T::zero() {
        d.abs()
    } else {
        let half = T::from_f64(0.5);
        let magnitude = d.abs();
        let quadratic = d.powi(2).mul_scalar(half / beta);
        let linear = magnitude.add_scalar(-half * beta);
        let inside = magnitude.value().mapv(|m| m < beta);
        quadratic.where_(&inside, &linear)
    };
    reduction.apply(&terms)
}

/// The Gaussian negative log-likelihood of `target` under `N(input, variance)`:
/// `½ (ln σ̃² + (x − y)² / σ̃²)`, plus `½ ln 2π` if `full`, with `σ̃² = max(σ², eps)` clamped in
/// value only (PyTorch's `gaussian_nll_loss`; its default `eps` is `1e-6`). `variance` may have
/// fewer elements than `input` if it broadcasts to it (one variance shared by many outputs), or
/// lack the last axis of `input` (one variance per row, as PyTorch allows).
///
/// ```
/// use autograd::prelude::*;
/// use wengert_nn::losses::{Reduction, gaussian_nll};
/// let x = Var::constant(ndarray::array![1.0]);
/// let y = Var::constant(ndarray::array![3.0]);
/// let variance = Var::constant(ndarray::array![4.0]);
/// let loss = gaussian_nll(&x, &y, &variance, false, 1e-6, Reduction::Mean);
/// assert!((loss.item() - 0.5 * (4f64.ln() + 1.0)).abs() < 1e-15);
/// ```
///
/// # Panics
/// If input and target differ in shape, the variance does not broadcast to them, or a
/// variance is negative.
pub fn gaussian_nll<T: Float>(
    input: &Var<T>,
    target: &Var<T>,
    variance: &Var<T>,
    full: bool,
    eps: T,
    reduction: Reduction,
) -> Var<T> {
    check_shapes(input, target, "gaussian_nll");
    let variance = if input.ndim() > 0 && variance.shape() == &input.shape()[..input.ndim() - 1] {
        &variance.unsqueeze(-1)
    } else {
        variance
    };
    if !autograd::shape::broadcasts_to(variance.shape(), input.shape()) {
        panic!(
            "gaussian_nll: variance of shape {:?} does not broadcast to input of shape {:?}",
            variance.shape(),
            input.shape()
        );
    }
    if variance.value().iter().any(|&v| v < T::zero()) {
        panic!("gaussian_nll: a variance is negative");
    }
    // σ̃² = σ² + stop(max(σ², ε) − σ²): the clamped value, with the identity as derivative.
    let clamped = variance.add(&variance.clamp(eps, T::infinity()).sub(variance).detach());
    let half = T::from_f64(0.5);
    let mut terms = clamped
        .log()
        .add(&input.sub(target).powi(2).div(&clamped))
        .mul_scalar(half);
    if full {
        terms = terms.add_scalar(half * T::from_f64(std::f64::consts::TAU.ln()));
    }
    reduction.apply(&terms)
}
