//! The vocabulary of differentiable functions, shared by plain arrays and tape variables.
//!
//! [`Tensor`] is implemented by [`SharedArray`] (evaluates at once, records nothing) and by
//! [`Var`](crate::Var) (evaluates and records on its tape). Every function is written once,
//! here, as a primitive [`Op`] or a composition of primitives; the vector-Jacobian products in
//! [`crate::backprop`] are written against this same trait, which is what lets a backward pass
//! run straight on arrays or be recorded for higher-order derivatives.

use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};

use crate::op::{Op, Reduce};
use crate::shape::{normalize_axes, normalize_axis, size_of};
use crate::{Float, SharedArray};

/// A value that differentiable functions compute on: a [`Var`](crate::Var) (or, inside the
/// crate's backward pass, a plain array).
///
/// Bring it into scope (`use wengert_autograd::prelude::*`) to call its methods.
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
///
/// let tape = Tape::<f64>::new();
/// let x = tape.var(array![[1.0, -2.0], [3.0, 0.5]]);
/// let y = x.relu().sum_all();
/// assert_eq!(y.item(), 4.5);
/// ```
pub trait Tensor<T: Float>: Clone + Sized {
    /// The value.
    fn data(&self) -> &SharedArray<T>;

    /// A constant: a value no gradient flows into.
    fn constant(value: SharedArray<T>) -> Self;

    /// Evaluates a primitive op on `inputs` (and, for a variable, records it).
    fn apply(op: Op<T>, inputs: &[&Self]) -> Self;

    /// The shape of the value.
    fn shape(&self) -> &[usize] {
        self.data().shape()
    }

    /// The number of axes.
    fn ndim(&self) -> usize {
        self.data().ndim()
    }

    /// The number of elements.
    fn size(&self) -> usize {
        self.data().len()
    }

    /// The single element of a one-element value.
    ///
    /// # Panics
    /// If the value has more or fewer than one element.
    fn item(&self) -> T {
        let data = self.data();
        if data.len() != 1 {
            panic!("item: expected one element, found shape {:?}", data.shape());
        }
        *data.iter().next().unwrap()
    }

    /// A constant of the same element type, shaped like `self`, filled with `value`.
    fn full_like(&self, value: T) -> Self {
        Self::constant(ArrayD::from_elem(self.shape(), value).into_shared())
    }

    // ---- elementwise, with NumPy broadcasting ----

    /// `self + other`.
    fn add(&self, other: &Self) -> Self {
        Self::apply(Op::Add, &[self, other])
    }

    /// `self − other`.
    fn sub(&self, other: &Self) -> Self {
        Self::apply(Op::Sub, &[self, other])
    }

    /// `self · other`, elementwise.
    fn mul(&self, other: &Self) -> Self {
        Self::apply(Op::Mul, &[self, other])
    }

    /// `self / other`, elementwise.
    fn div(&self, other: &Self) -> Self {
        Self::apply(Op::Div, &[self, other])
    }

    /// `selfᵒᵗʰᵉʳ`, elementwise.
    fn pow(&self, exponent: &Self) -> Self {
        Self::apply(Op::Pow, &[self, exponent])
    }

    /// The elementwise minimum.
    fn minimum(&self, other: &Self) -> Self {
        Self::apply(Op::Minimum, &[self, other])
    }

    /// The elementwise maximum.
    fn maximum(&self, other: &Self) -> Self {
        Self::apply(Op::Maximum, &[self, other])
    }

    /// `mask ? self : other`, elementwise, with all three broadcast together.
    fn where_(&self, mask: &ArrayD<bool>, other: &Self) -> Self {
        Self::apply(Op::Where(Arc::new(mask.clone())), &[self, other])
    }

    /// `self + c`.
    fn add_scalar(&self, c: T) -> Self {
        Self::apply(Op::AddScalar(c), &[self])
    }

    /// `c · self`.
    fn mul_scalar(&self, c: T) -> Self {
        Self::apply(Op::MulScalar(c), &[self])
    }

    /// `selfᵖ`.
    fn powf(&self, p: T) -> Self {
        Self::apply(Op::Powf(p), &[self])
    }

    /// `selfⁿ`.
    fn powi(&self, n: i32) -> Self {
        Self::apply(Op::Powi(n), &[self])
    }

    /// `−self`.
    fn neg(&self) -> Self {
        Self::apply(Op::Neg, &[self])
    }

    /// `eˢᵉˡᶠ`.
    fn exp(&self) -> Self {
        Self::apply(Op::Exp, &[self])
    }

    /// The natural logarithm.
    fn log(&self) -> Self {
        Self::apply(Op::Log, &[self])
    }

    /// `ln(1 + self)`, accurate near zero.
    fn log1p(&self) -> Self {
        Self::apply(Op::Log1p, &[self])
    }

    /// The square root.
    fn sqrt(&self) -> Self {
        Self::apply(Op::Sqrt, &[self])
    }

    /// The absolute value.
    fn abs(&self) -> Self {
        Self::apply(Op::Abs, &[self])
    }

    /// The sine.
    fn sin(&self) -> Self {
        Self::apply(Op::Sin, &[self])
    }

    /// The cosine.
    fn cos(&self) -> Self {
        Self::apply(Op::Cos, &[self])
    }

    /// The hyperbolic tangent.
    fn tanh(&self) -> Self {
        Self::apply(Op::Tanh, &[self])
    }

    /// The logistic sigmoid `1 / (1 + e⁻ˣ)`.
    fn sigmoid(&self) -> Self {
        Self::apply(Op::Sigmoid, &[self])
    }

    /// `max(x, 0)`.
    fn relu(&self) -> Self {
        Self::apply(Op::Relu, &[self])
    }

    /// `x` for positive `x`, else `slope · x`.
    fn leaky_relu(&self, slope: T) -> Self {
        Self::apply(Op::LeakyRelu(slope), &[self])
    }

    /// `x` for positive `x`, else `α (eˣ − 1)`.
    fn elu(&self, alpha: T) -> Self {
        Self::apply(Op::Elu(alpha), &[self])
    }

    /// `ln(1 + eˣ)`, evaluated as `max(x, 0) + ln(1 + e^{−|x|})` so it never overflows.
    fn softplus(&self) -> Self {
        Self::apply(Op::Softplus, &[self])
    }

    /// `min(max(x, lo), hi)` (NaN stays NaN); the gradient passes where `lo < x < hi`, not at the
    /// bounds and not at NaN (as PyTorch).
    fn clamp(&self, lo: T, hi: T) -> Self {
        if lo > hi {
            panic!("clamp: lower bound {lo} exceeds upper bound {hi}");
        }
        Self::apply(Op::Clamp(lo, hi), &[self])
    }

    // ---- reductions ----

    /// The sum over `axes` (negative axes count from the end), keeping them as size-1 axes if asked.
    fn sum(&self, axes: &[isize], keep_dims: bool) -> Self {
        let axes = normalize_axes(axes, self.ndim(), "sum");
        Self::apply(Op::Sum(Reduce { axes, keep_dims }), &[self])
    }

    /// The sum of all elements, as a 0-dimensional value.
    fn sum_all(&self) -> Self {
        let axes = (0..self.ndim()).collect();
        Self::apply(
            Op::Sum(Reduce {
                axes,
                keep_dims: false,
            }),
            &[self],
        )
    }

    /// The mean over `axes`.
    fn mean(&self, axes: &[isize], keep_dims: bool) -> Self {
        let resolved = normalize_axes(axes, self.ndim(), "mean");
        let count: usize = resolved.iter().map(|&a| self.shape()[a]).product();
        self.sum(axes, keep_dims)
            .mul_scalar(T::one() / T::from_f64(count as f64))
    }

    /// The mean of all elements, as a 0-dimensional value.
    fn mean_all(&self) -> Self {
        self.sum_all()
            .mul_scalar(T::one() / T::from_f64(self.size() as f64))
    }

    /// The maximum over `axes`; tied maxima share the gradient evenly.
    fn max(&self, axes: &[isize], keep_dims: bool) -> Self {
        let axes = normalize_axes(axes, self.ndim(), "max");
        Self::apply(Op::Max(Reduce { axes, keep_dims }), &[self])
    }

    /// The minimum over `axes`; tied minima share the gradient evenly.
    fn min(&self, axes: &[isize], keep_dims: bool) -> Self {
        let axes = normalize_axes(axes, self.ndim(), "min");
        Self::apply(Op::Min(Reduce { axes, keep_dims }), &[self])
    }

    /// `ln Σ_axes eˣ`, computed stably as `m + ln Σ e^{x − m}` with `m` the maximum.
    fn logsumexp(&self, axes: &[isize], keep_dims: bool) -> Self {
        let axes = normalize_axes(axes, self.ndim(), "logsumexp");
        Self::apply(Op::LogSumExp(Reduce { axes, keep_dims }), &[self])
    }

    /// The variance over `axes`, `Σ (x − x̄)² / (N − correction)`: `correction = 1` is the
    /// unbiased estimate (PyTorch's default), `0` the population variance.
    ///
    /// With `N ≤ correction` the divisor is `max(N − correction, 0) = 0`, and the result is NaN
    /// (or `+∞` for a positive sum of squares), as PyTorch returns (PyTorch also warns; anomaly
    /// mode, [`Tape::detect_anomaly`](crate::Tape::detect_anomaly), names the op instead).
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_autograd::prelude::*;
    /// let x = Var::<f64>::constant(array![1.0, 2.0, 4.0]);
    /// assert!((x.variance(&[0], 1, false).item() - 7.0 / 3.0).abs() < 1e-15);
    /// assert!(x.slice(0, 0, 1).variance(&[0], 1, false).item().is_nan());
    /// ```
    fn variance(&self, axes: &[isize], correction: usize, keep_dims: bool) -> Self {
        let resolved = normalize_axes(axes, self.ndim(), "variance");
        let count: usize = resolved.iter().map(|&a| self.shape()[a]).product();
        let divisor = T::from_f64(count.saturating_sub(correction) as f64);
        let deviation = self.sub(&self.mean(axes, true));
        deviation
            .mul(&deviation)
            .sum(axes, keep_dims)
            .mul_scalar(T::one() / divisor)
    }

    /// `softmax(x)_i = e^{x_i} / Σ_j e^{x_j}` along `axis`, computed as `e^{x − logsumexp(x)}`.
    fn softmax(&self, axis: isize) -> Self {
        self.sub(&self.logsumexp(&[axis], true)).exp()
    }

    /// `log softmax(x) = x − logsumexp(x)` along `axis`.
    fn log_softmax(&self, axis: isize) -> Self {
        self.sub(&self.logsumexp(&[axis], true))
    }

    // ---- linear algebra ----

    /// The matrix product, with PyTorch's (and NumPy's) `matmul` rules: `C = A B` over the last
    /// two axes, `C_{…ij} = Σ_k A_{…ik} B_{…kj}`, for every index `…` of the batch axes, which
    /// broadcast against each other. A vector on the left is a one-row matrix and on the right a
    /// one-column matrix, the added axis removed from the result. The gradient of an operand whose
    /// batch axes were broadcast is summed over them (the adjoint of the broadcast).
    ///
    /// 2-D × 2-D is one `gemm`; a batch times a single matrix is one `gemm` over the stacked rows;
    /// other batches are one `gemm` per matrix.
    ///
    /// ```
    /// use ndarray::{Array, IxDyn};
    /// use wengert_autograd::prelude::*;
    /// let tape = Tape::<f64>::new();
    /// let a = tape.var(Array::from_elem(IxDyn(&[1, 3, 4]), 0.5)); // one batch, broadcast
    /// let b = tape.var(Array::from_elem(IxDyn(&[2, 4, 5]), 2.0));
    /// let c = a.matmul(&b);
    /// assert_eq!(c.shape(), &[2, 3, 5]);
    /// assert_eq!(c.value()[[1, 2, 4]], 4.0); // Σ_k 0.5 · 2
    /// let grads = c.sum_all().backward();
    /// assert_eq!(grads[&a].shape(), &[1, 3, 4]); // summed over the broadcast batch
    /// assert_eq!(grads[&a][[0, 0, 0]], 2.0 * 5.0 * 2.0);
    /// let v = Var::constant(Array::from_elem(IxDyn(&[5]), 1.0));
    /// assert_eq!(b.matmul(&v).shape(), &[2, 4]); // batched matrix × vector
    /// ```
    ///
    /// # Panics
    /// If an operand is 0-dimensional, the inner sizes differ, or the batch axes do not
    /// broadcast, naming both shapes.
    fn matmul(&self, other: &Self) -> Self {
        match (self.shape(), other.shape()) {
            (&[k], &[k2]) if k == k2 => self.dot(other),
            (&[_, k], &[k2]) if k == k2 => {
                let m = self.shape()[0];
                self.matmul(&other.reshape(&[k, 1])).reshape(&[m])
            }
            (&[k], &[k2, n]) if k == k2 => self.reshape(&[1, k]).matmul(other).reshape(&[n]),
            (&[_, _], &[_, _]) => Self::apply(Op::MatMul, &[self, other]),
            (&[b, m, k], &[k2, n]) if k == k2 => {
                self.reshape(&[b * m, k]).matmul(other).reshape(&[b, m, n])
            }
            (&[m, k], &[b, k2, _]) if k == k2 => self.broadcast_to(&[b, m, k]).matmul(other),
            (&[b, _, _], &[b2, _, _]) if b == b2 => Self::apply(Op::MatMul, &[self, other]),
            _ => batched_matmul(self, other),
        }
    }

    /// The dot product `Σ_i a_i b_i` of two vectors, as a 0-dimensional value.
    fn dot(&self, other: &Self) -> Self {
        if self.ndim() != 1 || self.shape() != other.shape() {
            panic!(
                "dot: expected two vectors of equal length, found shapes {:?} and {:?}",
                self.shape(),
                other.shape()
            );
        }
        self.mul(other).sum_all()
    }

    // ---- shape ----

    /// The same elements in a new shape (row-major order).
    fn reshape(&self, shape: &[usize]) -> Self {
        if shape == self.shape() {
            return self.clone();
        }
        if size_of(shape) != self.size() {
            panic!(
                "reshape: cannot reshape shape {:?} ({} elements) to {shape:?}",
                self.shape(),
                self.size()
            );
        }
        Self::apply(Op::Reshape(shape.to_vec()), &[self])
    }

    /// All elements as one axis.
    fn flatten(&self) -> Self {
        self.reshape(&[self.size()])
    }

    /// A new size-1 axis at `axis`.
    fn unsqueeze(&self, axis: isize) -> Self {
        let axis = normalize_axis(axis, self.ndim() + 1, "unsqueeze");
        let mut shape = self.shape().to_vec();
        shape.insert(axis, 1);
        self.reshape(&shape)
    }

    /// Removes the size-1 axis `axis`.
    fn squeeze(&self, axis: isize) -> Self {
        let axis = normalize_axis(axis, self.ndim(), "squeeze");
        if self.shape()[axis] != 1 {
            panic!(
                "squeeze: axis {axis} of shape {:?} has size {}, not 1",
                self.shape(),
                self.shape()[axis]
            );
        }
        let mut shape = self.shape().to_vec();
        shape.remove(axis);
        self.reshape(&shape)
    }

    /// Reorders the axes: output axis `i` is input axis `axes[i]` (a stride change, no copy).
    fn permute(&self, axes: &[usize]) -> Self {
        let mut seen = vec![false; self.ndim()];
        let valid = axes.len() == self.ndim()
            && axes
                .iter()
                .all(|&a| a < seen.len() && !std::mem::replace(&mut seen[a], true));
        if !valid {
            panic!(
                "permute: {axes:?} is not a permutation of the {} axes of shape {:?}",
                self.ndim(),
                self.shape()
            );
        }
        Self::apply(Op::Permute(axes.to_vec()), &[self])
    }

    /// Swaps two axes (a stride swap, no copy).
    fn transpose(&self, axis0: isize, axis1: isize) -> Self {
        let a0 = normalize_axis(axis0, self.ndim(), "transpose");
        let a1 = normalize_axis(axis1, self.ndim(), "transpose");
        let mut axes: Vec<usize> = (0..self.ndim()).collect();
        axes.swap(a0, a1);
        self.permute(&axes)
    }

    /// The transpose of a matrix.
    fn t(&self) -> Self {
        if self.ndim() != 2 {
            panic!("t: expected a matrix, found shape {:?}", self.shape());
        }
        self.permute(&[1, 0])
    }

    /// Broadcasts to `shape` by NumPy's rules.
    fn broadcast_to(&self, shape: &[usize]) -> Self {
        if shape == self.shape() {
            return self.clone();
        }
        if !crate::shape::broadcasts_to(self.shape(), shape) {
            panic!(
                "broadcast_to: shape {:?} cannot be broadcast to {shape:?}",
                self.shape()
            );
        }
        Self::apply(Op::BroadcastTo(shape.to_vec()), &[self])
    }

    /// Sums down to `shape`: the adjoint of [`broadcast_to`](Tensor::broadcast_to).
    fn sum_to(&self, shape: &[usize]) -> Self {
        if shape == self.shape() {
            return self.clone();
        }
        if !crate::shape::broadcasts_to(shape, self.shape()) {
            panic!(
                "sum_to: shape {:?} is not a broadcast of {shape:?}",
                self.shape()
            );
        }
        Self::apply(Op::SumTo(shape.to_vec()), &[self])
    }

    /// Elements `start..end` along `axis` (a view, no copy).
    fn slice(&self, axis: isize, start: usize, end: usize) -> Self {
        let axis = normalize_axis(axis, self.ndim(), "slice");
        let size = self.shape()[axis];
        if start > end || end > size {
            panic!(
                "slice: range {start}..{end} is out of bounds for axis {axis} of shape {:?}",
                self.shape()
            );
        }
        Self::apply(Op::Slice { axis, start, end }, &[self])
    }

    /// `length` elements along `axis` from `start` (PyTorch's `narrow`).
    fn narrow(&self, axis: isize, start: usize, length: usize) -> Self {
        self.slice(axis, start, start + length)
    }

    /// Joins values along an existing axis.
    fn concat(values: &[&Self], axis: isize) -> Self {
        let Some(first) = values.first() else {
            panic!("concat: expected at least one value");
        };
        let axis = normalize_axis(axis, first.ndim(), "concat");
        for value in values {
            let same = value.ndim() == first.ndim()
                && (0..first.ndim()).all(|a| a == axis || value.shape()[a] == first.shape()[a]);
            if !same {
                panic!(
                    "concat: shapes {:?} and {:?} differ off axis {axis}",
                    first.shape(),
                    value.shape()
                );
            }
        }
        Self::apply(Op::Concat(axis), values)
    }

    /// Joins equally shaped values along a new axis.
    fn stack(values: &[&Self], axis: isize) -> Self {
        let Some(first) = values.first() else {
            panic!("stack: expected at least one value");
        };
        for value in values {
            if value.shape() != first.shape() {
                panic!(
                    "stack: shapes {:?} and {:?} differ",
                    first.shape(),
                    value.shape()
                );
            }
        }
        let expanded: Vec<Self> = values.iter().map(|v| v.unsqueeze(axis)).collect();
        let refs: Vec<&Self> = expanded.iter().collect();
        Self::concat(&refs, axis)
    }

    /// PyTorch's `gather`: `y[i] = x[i with axis replaced by index[i]]`; `index` has as many
    /// axes as `self`. Picks `log π(a|s)` from a row of log-probabilities with `axis = 1`.
    fn gather(&self, axis: isize, index: &ArrayD<usize>) -> Self {
        let axis = normalize_axis(axis, self.ndim(), "gather");
        let fits = index.ndim() == self.ndim()
            && (0..self.ndim()).all(|a| a == axis || index.shape()[a] <= self.shape()[a]);
        if !fits {
            panic!(
                "gather: index of shape {:?} does not fit shape {:?} along axis {axis}",
                index.shape(),
                self.shape()
            );
        }
        if let Some(&bad) = index.iter().find(|&&i| i >= self.shape()[axis]) {
            panic!(
                "gather: index {bad} is out of range for axis {axis} of size {} (shape {:?})",
                self.shape()[axis],
                self.shape()
            );
        }
        Self::apply(
            Op::Gather {
                axis,
                index: Arc::new(index.clone()),
            },
            &[self],
        )
    }

    /// The entries `index` along `axis`, in that order (repeats allowed).
    fn index_select(&self, axis: isize, index: &[usize]) -> Self {
        let axis = normalize_axis(axis, self.ndim(), "index_select");
        if let Some(&bad) = index.iter().find(|&&i| i >= self.shape()[axis]) {
            panic!(
                "index_select: index {bad} is out of range for axis {axis} of size {} (shape {:?})",
                self.shape()[axis],
                self.shape()
            );
        }
        Self::apply(
            Op::IndexSelect {
                axis,
                index: index.into(),
            },
            &[self],
        )
    }
}

/// [`Tensor::matmul`] for the shapes its direct cases leave: batch axes of any number that
/// broadcast, and vectors against batches. Built from reshapes, broadcasts and the 2-D or
/// same-batch 3-D [`Op::MatMul`], so its gradient (and every higher derivative) comes from theirs.
fn batched_matmul<T: Float, X: Tensor<T>>(a: &X, b: &X) -> X {
    let incompatible = || -> ! {
        panic!(
            "matmul: shapes {:?} and {:?} are not compatible",
            a.shape(),
            b.shape()
        )
    };
    if a.ndim() == 0 || b.ndim() == 0 {
        panic!(
            "matmul: both operands need at least one axis, found shapes {:?} and {:?}",
            a.shape(),
            b.shape()
        );
    }
    // A vector is a one-row matrix on the left and a one-column matrix on the right.
    let a_matrix = match a.shape() {
        &[k] => a.reshape(&[1, k]),
        _ => a.clone(),
    };
    let b_matrix = match b.shape() {
        &[k] => b.reshape(&[k, 1]),
        _ => b.clone(),
    };
    let (sa, sb) = (a_matrix.shape(), b_matrix.shape());
    let (batch_a, &[m, k]) = sa.split_at(sa.len() - 2) else {
        unreachable!("a matrix has two axes")
    };
    let (batch_b, &[k2, n]) = sb.split_at(sb.len() - 2) else {
        unreachable!("a matrix has two axes")
    };
    if k != k2 {
        incompatible();
    }
    let rank = batch_a.len().max(batch_b.len());
    let size = |batch: &[usize], axis: usize| match axis.checked_sub(rank - batch.len()) {
        Some(i) => batch[i],
        None => 1,
    };
    let batch: Vec<usize> = (0..rank)
        .map(|axis| match (size(batch_a, axis), size(batch_b, axis)) {
            (x, y) if x == y || y == 1 => x,
            (1, y) => y,
            _ => incompatible(),
        })
        .collect();
    let count = size_of(&batch);
    let with = |tail: [usize; 2]| [&batch[..], &tail].concat();

    let product = if size_of(batch_b) == 1 {
        // One matrix B for the whole batch: a single product over A's stacked rows.
        let rows = a_matrix.reshape(&[size_of(batch_a) * m, k]);
        rows.matmul(&b_matrix.reshape(&[k, n]))
    } else {
        let a3 = a_matrix.broadcast_to(&with([m, k])).reshape(&[count, m, k]);
        let b3 = b_matrix.broadcast_to(&with([k, n])).reshape(&[count, k, n]);
        X::apply(Op::MatMul, &[&a3, &b3])
    };
    let mut shape = batch.clone();
    if a.ndim() > 1 {
        shape.push(m);
    }
    if b.ndim() > 1 {
        shape.push(n);
    }
    product.reshape(&shape)
}

/// A plain array as a [`Tensor`]: ops evaluate at once and record nothing. The backward pass
/// on arrays runs the derivative rules on this type. (A newtype, so that the trait's methods
/// never shadow `ndarray`'s own methods on [`SharedArray`].)
#[derive(Clone, Debug)]
pub(crate) struct Eager<T>(pub SharedArray<T>);

impl<T: Float> Tensor<T> for Eager<T> {
    fn data(&self) -> &SharedArray<T> {
        &self.0
    }

    fn constant(value: SharedArray<T>) -> Self {
        Eager(value)
    }

    fn apply(op: Op<T>, inputs: &[&Self]) -> Self {
        Eager(op.forward_on(inputs, |x| &x.0))
    }
}

/// A one-hot encoding as a constant: row `i` has a 1 in column `indices[i]`.
///
/// ```
/// use wengert_autograd::one_hot;
/// let y = one_hot::<f32>(&[2, 0], 3);
/// assert_eq!(y, ndarray::array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]].into_dyn());
/// ```
///
/// # Panics
/// If an index is not below `classes`.
pub fn one_hot<T: Float>(indices: &[usize], classes: usize) -> ArrayD<T> {
    let mut out = ArrayD::zeros(IxDyn(&[indices.len(), classes]));
    for (row, &class) in indices.iter().enumerate() {
        if class >= classes {
            panic!("one_hot: index {class} is out of range for {classes} classes");
        }
        out[[row, class]] = T::one();
    }
    out
}
