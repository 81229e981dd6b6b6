//! # wengert-autograd — a tape-based reverse-mode automatic differentiation engine
//!
//! A function $y = f(x)$ is evaluated as a sequence of primitive ops
//! $v_i = \varphi_i(v_{j<i})$; the [`Tape`] records that sequence (the *Wengert list*). Reverse
//! mode then walks it backwards from $\bar y = 1$, accumulating adjoints
//!
//! $$ \bar v_j \mathrel{+}= \Big(\frac{\partial \varphi_i}{\partial v_j}\Big)^{\top} \bar v_i , $$
//!
//! so one backward pass yields the gradient with respect to every input at a small multiple of
//! the forward cost.
//!
//! ```
//! use ndarray::array;
//! use wengert_autograd::prelude::*;
//!
//! let tape = Tape::<f64>::new();
//! let w = tape.var(array![[0.5, -1.0], [2.0, 0.0]]);
//! let x = Var::constant(array![1.0, 3.0]);
//! let loss = w.matmul(&x).tanh().powi(2).sum_all(); // Σ tanh(W x)²
//! let grads = loss.backward();
//! assert_eq!(grads[&w].shape(), &[2, 2]);
//! ```
//!
//! * Values are `ndarray` arrays of any rank in `f32` or `f64` ([`Float`]), with NumPy
//!   broadcasting; [`Var`] is a cheap handle (value + tape position).
//! * Every differentiable function lives in the [`Tensor`] trait; every derivative rule lives
//!   in one `match` in `backprop.rs`, written with the same trait, so a backward pass can run
//!   on plain arrays or be recorded ([`grad_graph`]) and differentiated again — to any order.
//! * [`higher`] builds Hessian-vector products, Jacobians, Hessians and Jacobian-vector
//!   products on that; [`gradcheck()`] compares all of it with finite differences.
//! * [`no_grad`], [`Var::detach`], and anomaly mode ([`Tape::detect_anomaly`]).
//! * [`conv::conv2d`] (im2col + GEMM, differentiable to any order) and [`pool::max_pool2d`].
//! * [`custom::Function`]: your own forward pass and VJP — "Writing your own gradient", next
//!   to PyTorch's `autograd.Function` and JAX's `custom_vjp`, is the [`custom`] module's page.
//!
//! ## NaN, infinities and edge points: PyTorch's conventions
//!
//! Values, gradients and second derivatives at NaN, ±∞, zero, kinks and empty axes follow
//! PyTorch (float64), checked case by case against PyTorch's own numbers by
//! `autograd/tests/nan_inf.rs` (data made by `autograd/tools/nan_inf_reference.py`). NaN
//! propagates and is never hidden: `relu(NaN)`, `clamp(NaN)`, `maximum(NaN, x)` are NaN. The
//! choices at edge points, as PyTorch makes them:
//!
//! * `relu` and `elu` pass the gradient at NaN; `elu`'s slope at 0 is `α`, its second
//!   derivative there 0; `clamp` passes gradient only strictly inside `(lo, hi)`.
//! * `maximum`/`minimum` split a tie ½, ½ and give both sides all of `ḡ` against a NaN.
//! * `aᵖ` has gradient 0 for `p = 0` (even at `a = 0`); `∂aᵇ/∂b` is 0 at `a = 0, b ≥ 0`.
//! * `logsumexp` over an empty axis is `−∞`, and `softmax`/`log_softmax` of an empty axis are
//!   empty; `variance` with `N ≤ correction` elements is NaN (or `+∞`), not a panic.
//!
//! Deliberate differences, each with its reason:
//!
//! * `variance`'s gradient with an infinite entry, or with `N ≤ correction`, is NaN along the
//!   whole axis (PyTorch: ±∞ at some entries). The engine's variance is the composition
//!   `Σ (x − x̄)² / (N − c)`, whose backward pass also runs through `x̄`; PyTorch's hand-written
//!   rule drops that path (zero in exact arithmetic). Adopting it would change LayerNorm's and
//!   BatchNorm's gradients at round-off level for every finite input.
//! * `softmax` of a row holding `+∞` is 0 at the finite entries and NaN at the infinite ones
//!   (PyTorch: NaN for the whole row), since softmax is `e^{x − logsumexp x}`; NaN still shows.

// `unsafe` lives in the backend alone (and `Float::gemm`'s declaration, whose contract the
// backend implements); every other module is held to that.
mod backend;
#[deny(unsafe_code)]
mod backprop;
#[deny(unsafe_code)]
pub mod conv;
#[deny(unsafe_code)]
pub mod custom;
mod float;
#[deny(unsafe_code)]
mod forward;
#[deny(unsafe_code)]
mod grad;
#[deny(unsafe_code)]
pub mod gradcheck;
#[deny(unsafe_code)]
pub mod higher;
#[deny(unsafe_code)]
pub mod lstm;
#[deny(unsafe_code)]
pub mod op;
#[deny(unsafe_code)]
mod operators;
#[deny(unsafe_code)]
pub mod pool;
#[deny(unsafe_code)]
pub mod shape;
#[deny(unsafe_code)]
mod tape;
#[deny(unsafe_code)]
mod tensor;

pub use float::Float;
pub use grad::{Gradients, grad, grad_graph, vjp, vjp_graph};
pub use gradcheck::{gradcheck, gradgradcheck};
pub use higher::{HessianVectorProduct, hessian, hvp, jacobian, jvp};
pub use tape::{Anomaly, Tape, Var, is_grad_enabled, no_grad};
pub use tensor::{Tensor, one_hot};

use ndarray::{ArcArray, Dimension, IxDyn};

/// The array type values are stored in: an `ndarray` array of any rank whose buffer is shared
/// by reference count, so clones, transposes and slices cost no copy.
pub type SharedArray<T> = ArcArray<T, IxDyn>;

/// Things that become a [`SharedArray`]: `ndarray` arrays of any dimension, and scalars (as
/// 0-dimensional arrays).
pub trait IntoArray<T> {
    /// The value as a shared, dynamically shaped array.
    fn into_array(self) -> SharedArray<T>;
}

impl<T: Float, D: Dimension> IntoArray<T> for ndarray::Array<T, D> {
    fn into_array(self) -> SharedArray<T> {
        self.into_dyn().into_shared()
    }
}

impl<T: Float, D: Dimension> IntoArray<T> for ArcArray<T, D> {
    fn into_array(self) -> SharedArray<T> {
        self.into_dyn()
    }
}

impl<T: Float, D: Dimension> IntoArray<T> for ndarray::ArrayView<'_, T, D> {
    fn into_array(self) -> SharedArray<T> {
        self.into_dyn().to_shared()
    }
}

impl IntoArray<f32> for f32 {
    fn into_array(self) -> SharedArray<f32> {
        ndarray::arr0(self).into_dyn().into_shared()
    }
}

impl IntoArray<f64> for f64 {
    fn into_array(self) -> SharedArray<f64> {
        ndarray::arr0(self).into_dyn().into_shared()
    }
}

/// Everything needed to build and differentiate functions.
pub mod prelude {
    pub use crate::{
        Float, Gradients, SharedArray, Tape, Tensor, Var, grad, grad_graph, is_grad_enabled,
        no_grad, vjp, vjp_graph,
    };
}
