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

use std::borrow::Cow;

use autograd::custom::Function;
use autograd::{Float, SharedArray, Tensor, Var};
use ndarray::{ArrayD, IxDyn};

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
    let scale = match reduction {
        Reduction::None => return input.sub(target).powi(2),
        Reduction::Mean => T::one() / T::from_f64(input.size() as f64),
        Reduction::Sum => T::one(),
    };
    let [loss]: [Var<T>; 1] = reduced_mse(scale)
        .apply(&[input, target], &[])
        .try_into()
        .expect("one output");
    loss
}

/// `ℓ = c Σ_i (x_i − y_i)²` as one op (`c = 1/n` for the mean, 1 for the sum), with the VJP
/// `x̄_i = ((ℓ̄ c) d_i) 2`, `ȳ_i = −x̄_i`: one pass over the elements each way and one array,
/// where the same loss out of tape ops (`(x − y).powi(2)`, then the sum and `· c`) makes four
/// passes and four arrays of the input's size. It computes what those ops compute, bit for
/// bit: the sum in the order of `ndarray`'s `sum` (eight running sums, see [`sum_of_squares`]),
/// the VJP grouped as their rules group it. When the backward pass is recorded the VJP is
/// those ops on `Var`s, so it differentiates again.
fn reduced_mse<T: Float>(scale: T) -> Function<T> {
    Function::new("mse", move |v, _side| {
        let (x, y) = (row_major(&v[0]), row_major(&v[1]));
        let loss = sum_of_squares(&x, &y) * scale;
        vec![ndarray::arr0(loss).into_dyn().into_shared()]
    })
    .with_vjp(move |c| {
        let (x, y) = (&c.inputs[0], &c.inputs[1]);
        let g = c.cotangents[0].mul_scalar(scale);
        let recording = c.inputs.iter().chain(c.cotangents).any(Var::is_tracked);
        let x_bar = if recording {
            g.mul(&x.sub(y)).mul_scalar(T::from_f64(2.0))
        } else {
            let (x_values, y_values) = (row_major(x.value()), row_major(y.value()));
            let (s, two) = (g.item(), T::from_f64(2.0));
            let x_bar: Vec<T> = x_values
                .iter()
                .zip(y_values.iter())
                .map(|(&x, &y)| s * (x - y) * two)
                .collect();
            let x_bar = ArrayD::from_shape_vec(IxDyn(x.shape()), x_bar).expect("x's size");
            Var::constant(x_bar)
        };
        let y_bar = c.needs[1].then(|| x_bar.neg());
        vec![c.needs[0].then_some(x_bar), y_bar]
    })
}

/// `Σ_i (x_i − y_i)²` summed as `ndarray`'s `sum` sums a contiguous array (eight running sums
/// over the elements in turn, combined as `((((0 + (p₀ + p₄)) + (p₁ + p₅)) + (p₂ + p₆)) +
/// (p₃ + p₇))`, then the last few elements one by one), so that the fused loss has the bits of
/// `(x − y).powi(2).sum_all()`.
fn sum_of_squares<T: Float>(x: &[T], y: &[T]) -> T {
    let mut p = [T::zero(); 8];
    let (x_chunks, y_chunks) = (x.chunks_exact(8), y.chunks_exact(8));
    let (x_rest, y_rest) = (x_chunks.remainder(), y_chunks.remainder());
    for (x, y) in x_chunks.zip(y_chunks) {
        for k in 0..8 {
            let d = x[k] - y[k];
            p[k] += d * d;
        }
    }
    let mut sum = T::zero();
    for k in 0..4 {
        sum += p[k] + p[k + 4];
    }
    for (&x, &y) in x_rest.iter().zip(y_rest) {
        let d = x - y;
        sum += d * d;
    }
    sum
}

/// The elements of `a` in row-major order: borrowed when `a` is laid out so, else copied.
fn row_major<T: Float>(a: &SharedArray<T>) -> Cow<'_, [T]> {
    match a.as_slice() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(a.iter().copied().collect()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::Tape;

    /// The fused `mse` gives what the same loss out of tape ops gives, bit for bit: the value
    /// and both gradients, for the mean and the sum, with a size that leaves a short tail
    /// after the eight running sums and an input that is not row-major.
    fn fused_and_unfused_agree<T: Float>(bits: impl Fn(&T) -> u64) {
        let value =
            |k: usize, seed: usize| T::from_f64(((k * 37 + seed) as f64 * 0.618).sin() * 3.0);
        let x = ArrayD::from_shape_fn(IxDyn(&[7, 13, 3]), |i| {
            value(i[0] * 39 + i[1] * 3 + i[2], 1)
        });
        let y = ArrayD::from_shape_fn(IxDyn(&[7, 13, 3]), |i| {
            value(i[0] * 39 + i[1] * 3 + i[2], 2)
        });
        let transposed = x.t().as_standard_layout().into_owned();
        for x in [x.clone(), transposed.t().to_owned()] {
            for reduction in [Reduction::Mean, Reduction::Sum] {
                let run = |fused: bool| {
                    let tape = Tape::<T>::new();
                    let (x, y) = (tape.var(x.clone()), tape.var(y.clone()));
                    let loss = match fused {
                        true => mse(&x, &y, reduction),
                        false => reduction.apply(&x.sub(&y).powi(2)),
                    };
                    let grads = loss.backward();
                    let all = |a: &SharedArray<T>| a.iter().map(&bits).collect::<Vec<_>>();
                    (bits(&loss.item()), all(&grads[&x]), all(&grads[&y]))
                };
                assert!(run(true) == run(false), "{} {reduction:?}", T::NAME);
            }
        }
    }

    #[test]
    fn fused_mse_gives_the_unfused_bits() {
        fused_and_unfused_agree::<f32>(|v| v.to_bits() as u64);
        fused_and_unfused_agree::<f64>(|v| v.to_bits());
    }
}
