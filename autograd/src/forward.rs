//! Forward kernels: each primitive [`Op`] evaluated on arrays. These run both when recording
//! (the value stored on the tape) and when not (a backward pass on plain arrays).

use ndarray::{ArrayD, Axis, Dimension, IxDyn, Slice, Zip};

use crate::backend;
use crate::op::{Op, Reduce};
use crate::shape::{broadcast_shapes, reduced_shape};
use crate::{Float, SharedArray};

impl<T: Float> Op<T> {
    /// Evaluates this op on its inputs.
    ///
    /// # Panics
    /// On a shape mismatch, naming the op and the shapes.
    pub(crate) fn forward(&self, inputs: &[&SharedArray<T>]) -> SharedArray<T> {
        let a = inputs[0];
        let zero = T::zero();
        match self {
            Op::Leaf => a.clone(),
            Op::Add => binary(a, inputs[1], "add", |x, y| x + y),
            Op::Sub => binary(a, inputs[1], "sub", |x, y| x - y),
            Op::Mul => binary(a, inputs[1], "mul", |x, y| x * y),
            Op::Div => binary(a, inputs[1], "div", |x, y| x / y),
            Op::Pow => binary(a, inputs[1], "pow", |x, y| x.powf(y)),
            // NaN wins either way, as in PyTorch (`f64::min` and `max` would drop it).
            Op::Minimum => binary(a, inputs[1], "minimum", |x, y| {
                if y < x || y.is_nan() { y } else { x }
            }),
            Op::Maximum => binary(a, inputs[1], "maximum", |x, y| {
                if y > x || y.is_nan() { y } else { x }
            }),
            &Op::AddScalar(c) => unary(a, |x| x + c),
            &Op::MulScalar(c) => unary(a, |x| x * c),
            &Op::Powf(p) => unary(a, |x| x.powf(p)),
            // x² as one product (what `powi(2)` computes, without its library call)
            &Op::Powi(2) => unary(a, |x| x * x),
            &Op::Powi(n) => unary(a, |x| x.powi(n)),
            Op::Neg => unary(a, |x| -x),
            Op::Exp => unary(a, |x| x.exp()),
            Op::Log => unary(a, |x| x.ln()),
            Op::Log1p => unary(a, |x| x.ln_1p()),
            Op::Sqrt => unary(a, |x| x.sqrt()),
            Op::Abs => unary(a, |x| x.abs()),
            Op::Sin => unary(a, |x| x.sin()),
            Op::Cos => unary(a, |x| x.cos()),
            Op::Tanh => {
                let a = a.as_standard_layout();
                let x = a.as_slice().expect("standard layout is contiguous");
                SharedArray::from_shape_vec(a.raw_dim(), T::tanh_all(x)).unwrap()
            }
            Op::Sigmoid => unary(a, sigmoid),
            Op::TanhGrad => binary(a, inputs[1], "tanh_grad", |g, y| g * (T::one() - y * y)),
            Op::SigmoidGrad => binary(a, inputs[1], "sigmoid_grad", |g, y| g * y * (T::one() - y)),
            Op::Relu => unary(a, |x| if x <= zero { zero } else { x }), // relu(NaN) = NaN
            &Op::LeakyRelu(slope) => unary(a, |x| if x > zero { x } else { slope * x }),
            &Op::Elu(alpha) => unary(a, |x| if x > zero { x } else { alpha * x.exp_m1() }),
            Op::Softplus => unary(a, |x| x.max(zero) + (-x.abs()).exp().ln_1p()),
            &Op::Clamp(lo, hi) => unary(a, |x| if x.is_nan() { x } else { x.max(lo).min(hi) }),
            Op::Where(mask) => select(mask, a, inputs[1]),
            Op::Sum(reduce) => sum(a, reduce),
            Op::Max(reduce) => fold(a, reduce, T::neg_infinity(), |m, x| {
                if x > m || x.is_nan() { x } else { m }
            }),
            Op::Min(reduce) => fold(a, reduce, T::infinity(), |m, x| {
                if x < m || x.is_nan() { x } else { m }
            }),
            Op::LogSumExp(reduce) => log_sum_exp(a, reduce),
            Op::MatMul => matmul(a, inputs[1]),
            Op::Reshape(shape) => reshape(a, shape),
            Op::Permute(axes) => a.clone().permuted_axes(IxDyn(axes)),
            Op::BroadcastTo(shape) => match a.broadcast(IxDyn(shape)) {
                Some(view) => {
                    backend::broadcast(a, shape).unwrap_or_else(|| view.to_owned().into_shared())
                }
                None => panic!(
                    "broadcast_to: shape {:?} cannot be broadcast to {shape:?}",
                    a.shape()
                ),
            },
            Op::SumTo(shape) => sum_to(a, shape),
            &Op::Slice { axis, start, end } => {
                let mut view = a.clone();
                view.slice_axis_inplace(Axis(axis), Slice::from(start..end));
                view
            }
            &Op::Pad {
                axis,
                before,
                after,
            } => {
                let mut shape = a.shape().to_vec();
                shape[axis] += before + after;
                let mut out = ArrayD::zeros(shape);
                let end = before + a.shape()[axis];
                out.slice_axis_mut(Axis(axis), Slice::from(before..end))
                    .assign(a);
                out.into_shared()
            }
            &Op::Concat(axis) => {
                let views: Vec<_> = inputs.iter().map(|x| x.view()).collect();
                ndarray::concatenate(Axis(axis), &views)
                    .unwrap_or_else(|e| {
                        let shapes: Vec<_> = inputs.iter().map(|x| x.shape()).collect();
                        panic!("concat: shapes {shapes:?} do not fit along axis {axis}: {e}")
                    })
                    .into_shared()
            }
            Op::Gather { axis, index } => {
                if let Some(out) = backend::gather(a, index, *axis) {
                    return out;
                }
                let mut out = ArrayD::zeros(index.raw_dim());
                let mut source = vec![0; a.ndim()];
                for (position, &i) in index.indexed_iter() {
                    source.copy_from_slice(position.slice());
                    source[*axis] = i;
                    out[position] = a[source.as_slice()];
                }
                out.into_shared()
            }
            Op::ScatterAdd { axis, index, shape } => {
                if let Some(out) = backend::scatter_add(a, index, *axis, shape) {
                    return out;
                }
                let mut out = ArrayD::zeros(IxDyn(shape));
                let mut target = vec![0; a.ndim()];
                for (position, &i) in index.indexed_iter() {
                    target.copy_from_slice(position.slice());
                    target[*axis] = i;
                    out[target.as_slice()] += a[position];
                }
                out.into_shared()
            }
            // Evaluated once, by `Function::apply`, before the nodes are recorded.
            Op::Custom(call) => call.outputs()[0].clone(),
            Op::Output(call, j) => call.outputs()[*j].clone(),
            Op::OnceDifferentiable { value, .. } => value.clone(),
            Op::IndexSelect { axis, index } => a.select(Axis(*axis), index).into_shared(),
            Op::IndexAdd { axis, index, size } => {
                let mut shape = a.shape().to_vec();
                shape[*axis] = *size;
                let mut out = ArrayD::zeros(shape);
                for (source, &target) in index.iter().enumerate() {
                    let mut lane = out.index_axis_mut(Axis(*axis), target);
                    lane += &a.index_axis(Axis(*axis), source);
                }
                out.into_shared()
            }
        }
    }
}

impl<T: Float> Op<T> {
    /// [`Op::forward`] on the values of `inputs` (variables or plain arrays), without
    /// allocating the list of values for the common one- and two-input ops.
    pub(crate) fn forward_on<'a, X>(
        &self,
        inputs: &[&'a X],
        value: impl Fn(&'a X) -> &'a SharedArray<T>,
    ) -> SharedArray<T> {
        match inputs {
            [a] => self.forward(&[value(a)]),
            [a, b] => self.forward(&[value(a), value(b)]),
            _ => self.forward(&inputs.iter().map(|x| value(x)).collect::<Vec<_>>()),
        }
    }
}

/// The logistic function `1 / (1 + e⁻ˣ)`, evaluated without overflow for either sign.
pub(crate) fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

fn unary<T: Float>(a: &SharedArray<T>, f: impl Fn(T) -> T) -> SharedArray<T> {
    a.mapv(f).into_shared()
}

/// An elementwise binary op with NumPy broadcasting.
pub(crate) fn binary<T: Float>(
    a: &SharedArray<T>,
    b: &SharedArray<T>,
    op: &str,
    f: impl Fn(T, T) -> T + Copy,
) -> SharedArray<T> {
    if let Some(out) = backend::binary(a, b, f) {
        return out;
    }
    if a.shape() == b.shape() {
        return Zip::from(a)
            .and(b)
            .map_collect(|&x, &y| f(x, y))
            .into_shared();
    }
    let shape = IxDyn(&broadcast_shapes(a.shape(), b.shape(), op));
    let (a, b) = (
        a.broadcast(shape.clone()).unwrap(),
        b.broadcast(shape).unwrap(),
    );
    Zip::from(a)
        .and(b)
        .map_collect(|&x, &y| f(x, y))
        .into_shared()
}

fn select<T: Float>(mask: &ArrayD<bool>, a: &SharedArray<T>, b: &SharedArray<T>) -> SharedArray<T> {
    let shape = broadcast_shapes(a.shape(), b.shape(), "where");
    let shape = IxDyn(&broadcast_shapes(mask.shape(), &shape, "where"));
    let mask = mask.broadcast(shape.clone()).unwrap();
    let (a, b) = (
        a.broadcast(shape.clone()).unwrap(),
        b.broadcast(shape).unwrap(),
    );
    Zip::from(mask)
        .and(a)
        .and(b)
        .map_collect(|&m, &x, &y| if m { x } else { y })
        .into_shared()
}

fn keep_dims<T: Float>(reduced: ArrayD<T>, shape: &[usize], reduce: &Reduce) -> SharedArray<T> {
    let target = reduced_shape(shape, &reduce.axes, reduce.keep_dims);
    reduced
        .into_shape_with_order(IxDyn(&target))
        .expect("a reduced array is contiguous")
        .into_shared()
}

fn sum<T: Float>(a: &SharedArray<T>, reduce: &Reduce) -> SharedArray<T> {
    let leading = reduce.axes.iter().enumerate().all(|(i, &axis)| i == axis);
    if leading && reduce.axes.len() == a.ndim() {
        return keep_dims(ArrayD::from_elem(IxDyn(&[]), a.sum()), a.shape(), reduce);
    }
    if leading {
        let kept = reduced_shape(a.shape(), &reduce.axes, true);
        if let Some(out) = backend::sum_leading_axes(a, &kept) {
            return keep_dims(out.into_owned(), a.shape(), reduce);
        }
    }
    if reduce.axes == [a.ndim() - 1]
        && let Some(out) = backend::sum_last_axis(a)
    {
        return keep_dims(ndarray::Array1::from_vec(out).into_dyn(), a.shape(), reduce);
    }
    // Reduce the last listed axis straight from the input view (no copy of the input).
    let mut axes = reduce.axes.iter().rev();
    let mut out = match axes.next() {
        Some(&axis) => a.sum_axis(Axis(axis)),
        None => a.to_owned(),
    };
    for &axis in axes {
        out = out.sum_axis(Axis(axis));
    }
    keep_dims(out.as_standard_layout().into_owned(), a.shape(), reduce)
}

fn fold<T: Float>(
    a: &SharedArray<T>,
    reduce: &Reduce,
    init: T,
    f: impl Fn(T, T) -> T,
) -> SharedArray<T> {
    for &axis in &reduce.axes {
        if a.shape()[axis] == 0 {
            panic!(
                "max/min: cannot reduce over axis {axis} of size 0 (shape {:?})",
                a.shape()
            );
        }
    }
    if reduce.axes == [a.ndim() - 1]
        && let Some(out) = backend::fold_last_axis(a, init, &f)
    {
        return keep_dims(ndarray::Array1::from_vec(out).into_dyn(), a.shape(), reduce);
    }
    let mut axes = reduce.axes.iter().rev();
    let mut out = match axes.next() {
        Some(&axis) => a.fold_axis(Axis(axis), init, |&m, &x| f(m, x)),
        None => a.to_owned(),
    };
    for &axis in axes {
        out = out.fold_axis(Axis(axis), init, |&m, &x| f(m, x));
    }
    keep_dims(out.as_standard_layout().into_owned(), a.shape(), reduce)
}

/// `m + ln Σ e^{a − m}` with `m` the maximum over the axes, so no exponential overflows.
/// Over an empty axis the sum is 0 and the result `−∞`, as in PyTorch.
fn log_sum_exp<T: Float>(a: &SharedArray<T>, reduce: &Reduce) -> SharedArray<T> {
    let kept = Reduce {
        axes: reduce.axes.clone(),
        keep_dims: true,
    };
    if reduce.axes.iter().any(|&axis| a.shape()[axis] == 0) {
        let shape = reduced_shape(a.shape(), &reduce.axes, reduce.keep_dims);
        return ArrayD::from_elem(IxDyn(&shape), T::neg_infinity()).into_shared();
    }
    let m = fold(
        a,
        &kept,
        T::neg_infinity(),
        |m, x| if x > m { x } else { m },
    )
    .mapv(|m| if m.is_finite() { m } else { T::zero() })
    .into_shared();
    let shifted_exp = binary(a, &m, "logsumexp", |x, m| (x - m).exp());
    let total = sum(&shifted_exp, &kept);
    let out = binary(&total, &m, "logsumexp", |s, m| m + s.ln());
    keep_dims(out.into_owned(), a.shape(), reduce)
}

/// Sums `a` down to `shape`, undoing a NumPy broadcast from `shape` to `a.shape()`.
fn sum_to<T: Float>(a: &SharedArray<T>, shape: &[usize]) -> SharedArray<T> {
    if a.shape() == shape {
        return a.clone();
    }
    if !crate::shape::broadcasts_to(shape, a.shape()) {
        panic!(
            "sum_to: shape {:?} is not a broadcast of {shape:?}",
            a.shape()
        );
    }
    if let Some(out) = backend::sum_leading_axes(a, shape) {
        return out;
    }
    if let Some((&1, kept)) = shape.split_last()
        && a.ndim() == shape.len()
        && a.shape().starts_with(kept)
        && let Some(out) = backend::sum_last_axis(a)
    {
        return SharedArray::from_shape_vec(IxDyn(shape), out).expect("one sum per lane");
    }
    let mut out = if a.ndim() > shape.len() {
        a.sum_axis(Axis(0))
    } else {
        a.to_owned()
    };
    while out.ndim() > shape.len() {
        out = out.sum_axis(Axis(0));
    }
    for (axis, &size) in shape.iter().enumerate() {
        if size == 1 && out.shape()[axis] != 1 {
            out = out.sum_axis(Axis(axis)).insert_axis(Axis(axis));
        }
    }
    out.into_shared()
}

fn reshape<T: Float>(a: &SharedArray<T>, shape: &[usize]) -> SharedArray<T> {
    if a.len() != crate::shape::size_of(shape) {
        panic!(
            "reshape: cannot reshape shape {:?} ({} elements) to {shape:?}",
            a.shape(),
            a.len()
        );
    }
    if a.is_standard_layout() {
        a.clone().into_shape_with_order(IxDyn(shape)).unwrap()
    } else {
        a.as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(shape))
            .unwrap()
            .into_shared()
    }
}

/// `C = A B` for 2-D operands, or batch by batch for equal 3-D batches (the backend's
/// products, which take the operands' strides: a transposed view is not copied).
fn matmul<T: Float>(a: &SharedArray<T>, b: &SharedArray<T>) -> SharedArray<T> {
    match (a.shape(), b.shape()) {
        (&[_, k], &[k2, _]) if k == k2 => {
            let a = a.view().into_dimensionality().unwrap();
            let b = b.view().into_dimensionality().unwrap();
            backend::matrix_product(a, b).into_dyn().into_shared()
        }
        (&[batch, _, k], &[batch2, k2, _]) if k == k2 && batch == batch2 => {
            let a = a.view().into_dimensionality().unwrap();
            let b = b.view().into_dimensionality().unwrap();
            backend::batched_product(a, b).into_dyn().into_shared()
        }
        (sa, sb) => panic!("matmul: shapes {sa:?} and {sb:?} are not compatible"),
    }
}
