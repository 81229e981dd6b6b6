//! Every derivative rule of the engine, in one place: the vector-Jacobian product of each
//! primitive [`Op`] (the table in [`crate::op`] states them in math).
//!
//! A rule receives the op's inputs `x`, its output `y` and the gradient `ḡ` of `y`, and returns
//! the gradient of each input. Rules are generic over [`Tensor`], so the same rule runs straight
//! on arrays (a plain backward pass) or on tape variables (a recorded backward pass whose result
//! can be differentiated again). Masks such as `[a > 0]` are constants: the functions they
//! select between are smooth on each side.

use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};

use crate::forward::binary;
use crate::grad::Adjoint;
use crate::op::{Op, Reduce};
use crate::shape::reduced_shape;
use crate::tensor::Tensor;
use crate::{Float, SharedArray};

/// The gradients of `op`'s inputs `x`, given its output `y` and the output's gradient `g`.
/// Only the inputs marked in `needs` get one (`None` for the rest: a constant operand's
/// gradient is never computed).
pub(crate) fn vjp<T: Float, X: Adjoint<T>>(
    op: &Op<T>,
    x: &[X],
    y: &X,
    g: &X,
    needs: &[bool],
) -> Vec<Option<X>> {
    let one = T::one();
    let (a, a_data) = (&x[0], x[0].data());
    let shape_a = a.shape();
    match op {
        Op::Leaf => vec![],
        // ANCHOR: arithmetic_rules
        Op::Add => vec![
            needs[0].then(|| g.sum_to(shape_a)),
            needs[1].then(|| g.sum_to(x[1].shape())),
        ],
        Op::Sub => vec![
            needs[0].then(|| g.sum_to(shape_a)),
            needs[1].then(|| g.neg().sum_to(x[1].shape())),
        ],
        Op::Mul => {
            let b = &x[1];
            vec![
                needs[0].then(|| g.mul(b).sum_to(shape_a)),
                needs[1].then(|| g.mul(a).sum_to(b.shape())),
            ]
        }
        Op::Div => {
            let b = &x[1];
            vec![
                needs[0].then(|| g.div(b).sum_to(shape_a)),
                needs[1].then(|| g.mul(y).div(b).neg().sum_to(b.shape())),
            ]
        }
        // ANCHOR_END: arithmetic_rules
        Op::Pow => {
            // PyTorch's conventions at the edges: ∂y/∂a = 0 where b = 0 (even at a = 0, where
            // b aᵇ⁻¹ is 0 · ∞), and ∂y/∂b = y ln a is taken as 0 where a = 0 and b ≥ 0.
            let b = &x[1];
            let zero = || X::constant(ArrayD::zeros(IxDyn(&[])).into_shared());
            let da = || {
                let nonzero = b.data().mapv(|v| v != T::zero());
                g.mul(b)
                    .mul(&a.pow(&b.add_scalar(-one)))
                    .where_(&nonzero, &zero())
            };
            let db = || {
                let defined = binary(a_data, b.data(), "pow", |p, q| {
                    indicator(p != T::zero() || q < T::zero())
                })
                .mapv(|d| d == one);
                // ḡ multiplies outside the selection, so a NaN in ḡ is never hidden by it.
                g.mul(&y.mul(&a.log()).where_(&defined, &zero()))
            };
            vec![
                needs[0].then(|| da().sum_to(shape_a)),
                needs[1].then(|| db().sum_to(b.shape())),
            ]
        }
        Op::Minimum | Op::Maximum => {
            let b = &x[1];
            // Against a NaN both sides get all of ḡ (PyTorch's rule: neither `a < b` nor `a > b`).
            let pick = |p: T, q: T| match (matches!(op, Op::Minimum), p.partial_cmp(&q)) {
                (_, Some(std::cmp::Ordering::Equal)) => T::from_f64(0.5),
                (true, Some(std::cmp::Ordering::Less))
                | (false, Some(std::cmp::Ordering::Greater))
                | (_, None) => one,
                _ => T::zero(),
            };
            let share_a = X::constant(binary(a_data, b.data(), op.name(), pick));
            let share_b = X::constant(binary(b.data(), a_data, op.name(), pick));
            vec![
                needs[0].then(|| g.mul(&share_a).sum_to(shape_a)),
                needs[1].then(|| g.mul(&share_b).sum_to(b.shape())),
            ]
        }
        Op::AddScalar(_) => vec![Some(g.clone())],
        &Op::MulScalar(c) => vec![Some(g.mul_scalar(c))],
        &Op::Powf(p) if p == T::zero() => vec![Some(g.mul_scalar(T::zero()))],
        &Op::Powf(p) => vec![Some(g.mul(&a.powf(p - one)).mul_scalar(p))],
        &Op::Powi(n) => match n {
            0 => vec![Some(g.mul_scalar(T::zero()))],
            1 => vec![Some(g.clone())],
            2 => vec![Some(g.mul(a).mul_scalar(T::from_f64(2.0)))],
            _ => vec![Some(
                g.mul(&a.powi(n - 1)).mul_scalar(T::from_f64(n as f64)),
            )],
        },
        Op::Neg => vec![Some(g.neg())],
        Op::Exp => vec![Some(g.mul(y))],
        Op::Log => vec![Some(g.div(a))],
        Op::Log1p => vec![Some(g.div(&a.add_scalar(one)))],
        Op::Sqrt => vec![Some(g.div(y).mul_scalar(T::from_f64(0.5)))],
        Op::Abs => vec![Some(g.mul(&constant_map(a_data, |v| {
            if v > T::zero() {
                one
            } else if v < T::zero() {
                -one
            } else {
                T::zero()
            }
        })))],
        Op::Sin => vec![Some(g.mul(&a.cos()))],
        Op::Cos => vec![Some(g.mul(&a.sin()).neg())],
        // ANCHOR: tanh_rule
        Op::Tanh => vec![Some(X::apply(Op::TanhGrad, &[g, y]))],
        Op::Sigmoid => vec![Some(X::apply(Op::SigmoidGrad, &[g, y]))],
        Op::TanhGrad => {
            let (outer, y) = (&x[0], &x[1]);
            vec![
                needs[0].then(|| X::apply(Op::TanhGrad, &[g, y])),
                needs[1].then(|| g.mul(outer).mul(y).mul_scalar(T::from_f64(-2.0))),
            ]
        }
        // ANCHOR_END: tanh_rule
        Op::SigmoidGrad => {
            let (outer, y) = (&x[0], &x[1]);
            vec![
                needs[0].then(|| X::apply(Op::SigmoidGrad, &[g, y])),
                needs[1].then(|| {
                    g.mul(outer)
                        .mul(&y.mul_scalar(T::from_f64(-2.0)).add_scalar(one))
                }),
            ]
        }
        Op::Relu => {
            vec![Some(g.mul(&constant_map(a_data, |v| {
                indicator(v > T::zero() || v.is_nan())
            })))]
        }
        &Op::LeakyRelu(slope) => vec![Some(g.mul(&constant_map(a_data, |v| {
            if v > T::zero() { one } else { slope }
        })))],
        &Op::Elu(alpha) => {
            // The slope is 1 above 0 (and at NaN), α at 0 itself — a constant, so the second
            // derivative there is 0, as in PyTorch — and y + α = α eᵃ below, recorded through y.
            let constant_slope: X = constant_map(a_data, |v| {
                if v == T::zero() {
                    alpha
                } else {
                    indicator(v > T::zero() || v.is_nan())
                }
            });
            let negative = a_data.mapv(|v| v < T::zero());
            let zero = X::constant(ArrayD::zeros(IxDyn(&[])).into_shared());
            let slope_negative = y.add_scalar(alpha).where_(&negative, &zero);
            vec![Some(g.mul(&constant_slope.add(&slope_negative)))]
        }
        Op::Softplus => vec![Some(g.mul(&a.sigmoid()))],
        &Op::Clamp(lo, hi) => {
            vec![Some(
                g.mul(&constant_map(a_data, |v| indicator(lo < v && v < hi))),
            )]
        }
        Op::Where(mask) => {
            let b = &x[1];
            let on_a = X::constant(mask.mapv(indicator::<T>).into_shared());
            let on_b = X::constant(mask.mapv(|m| indicator::<T>(!m)).into_shared());
            vec![
                needs[0].then(|| g.mul(&on_a).sum_to(shape_a)),
                needs[1].then(|| g.mul(&on_b).sum_to(b.shape())),
            ]
        }
        Op::Sum(reduce) => vec![Some(
            g.reshape(&kept_shape(shape_a, reduce))
                .broadcast_to(shape_a),
        )],
        Op::Max(reduce) | Op::Min(reduce) => {
            // The gradient goes to the elements equal to the extremum, shared evenly by ties.
            let kept = kept_shape(shape_a, reduce);
            let extremum = y
                .data()
                .to_shape(IxDyn(&kept))
                .unwrap()
                .into_owned()
                .into_shared();
            let is_extremum = binary(a_data, &extremum, "max", |v, m| indicator(v == m));
            let ties = Op::Sum(Reduce {
                axes: reduce.axes.clone(),
                keep_dims: true,
            })
            .forward(&[&is_extremum]);
            let share = binary(&is_extremum, &ties, "max", |e, n| e / n);
            vec![Some(
                g.reshape(&kept)
                    .mul(&X::constant(share))
                    .broadcast_to(shape_a),
            )]
        }
        Op::LogSumExp(reduce) => {
            let kept = kept_shape(shape_a, reduce);
            let softmax = a.sub(&y.reshape(&kept)).exp();
            vec![Some(g.reshape(&kept).mul(&softmax))]
        }
        // ANCHOR: matmul_rule
        Op::MatMul => {
            // Ā = ḡ Bᵀ and B̄ = Aᵀ ḡ; for an operand that is a transposed view (the `Wᵀ` of
            // `x Wᵀ`) the transpose of the product is computed instead, `B̄ = (ḡᵀ A)ᵀ`, so the
            // gradient comes out in the operand's layout and leaves the transpose in row-major
            // order — at no cost (the products take strides), and it spares later sums and
            // optimisers a strided pass over it.
            let (b, t) = (&x[1], |v: &X| v.transpose(-1, -2));
            vec![
                needs[0].then(|| match is_transposed(a_data) {
                    true => t(&b.matmul(&t(g))),
                    false => g.matmul(&t(b)),
                }),
                needs[1].then(|| match is_transposed(b.data()) {
                    true => t(&t(g).matmul(a)),
                    false => t(a).matmul(g),
                }),
            ]
        }
        // ANCHOR_END: matmul_rule
        Op::Reshape(_) => vec![Some(g.reshape(shape_a))],
        Op::Permute(axes) => {
            let mut inverse = vec![0; axes.len()];
            for (i, &axis) in axes.iter().enumerate() {
                inverse[axis] = i;
            }
            vec![Some(g.permute(&inverse))]
        }
        Op::BroadcastTo(_) => vec![Some(g.sum_to(shape_a))],
        Op::SumTo(_) => vec![Some(g.broadcast_to(shape_a))],
        &Op::Slice { axis, start, end } => {
            let pad = Op::Pad {
                axis,
                before: start,
                after: shape_a[axis] - end,
            };
            vec![Some(X::apply(pad, &[g]))]
        }
        &Op::Pad { axis, before, .. } => {
            let slice = Op::Slice {
                axis,
                start: before,
                end: before + shape_a[axis],
            };
            vec![Some(X::apply(slice, &[g]))]
        }
        &Op::Concat(axis) => {
            let mut start = 0;
            x.iter()
                .zip(needs)
                .map(|(input, &needed)| {
                    let end = start + input.shape()[axis];
                    let piece = needed.then(|| X::apply(Op::Slice { axis, start, end }, &[g]));
                    start = end;
                    piece
                })
                .collect()
        }
        Op::Gather { axis, index } => {
            let scatter = Op::ScatterAdd {
                axis: *axis,
                index: Arc::clone(index),
                shape: shape_a.to_vec(),
            };
            vec![Some(X::apply(scatter, &[g]))]
        }
        Op::ScatterAdd { axis, index, .. } => {
            vec![Some(X::apply(
                Op::Gather {
                    axis: *axis,
                    index: Arc::clone(index),
                },
                &[g],
            ))]
        }
        Op::IndexSelect { axis, index } => {
            let add = Op::IndexAdd {
                axis: *axis,
                index: Arc::clone(index),
                size: shape_a[*axis],
            };
            vec![Some(X::apply(add, &[g]))]
        }
        // A call with one output (the sweep hands a call with several all their cotangents).
        Op::Custom(call) => call.vjp(x, std::slice::from_ref(y), std::slice::from_ref(g), needs),
        Op::Output(..) => unreachable!("the sweep hands an output's cotangent to its call"),
        Op::OnceDifferentiable { name, .. } => panic!(
            "{name}: its VJP is written on arrays (Function::with_array_vjp), so its gradient cannot be \
             differentiated again (no grad-of-grad, Hessian-vector product or gradgradcheck); write \
             the VJP with Var operations (Function::with_vjp) for that"
        ),
        Op::IndexAdd { axis, index, .. } => {
            vec![Some(X::apply(
                Op::IndexSelect {
                    axis: *axis,
                    index: Arc::clone(index),
                },
                &[g],
            ))]
        }
    }
}

fn indicator<T: Float>(condition: bool) -> T {
    if condition { T::one() } else { T::zero() }
}

/// Whether `a` is a matrix (or batch of matrices) stored transposed: not row-major itself,
/// but row-major once its last two axes are swapped.
fn is_transposed<T: Float>(a: &SharedArray<T>) -> bool {
    let mut swapped = a.view();
    if a.ndim() < 2 || a.is_standard_layout() {
        return false;
    }
    swapped.swap_axes(a.ndim() - 2, a.ndim() - 1);
    swapped.is_standard_layout()
}

fn constant_map<T: Float, X: Tensor<T>>(a: &SharedArray<T>, f: impl Fn(T) -> T) -> X {
    X::constant(a.mapv(f).into_shared())
}

/// The shape of a reduction's output with the reduced axes kept as size 1.
fn kept_shape(shape: &[usize], reduce: &Reduce) -> Vec<usize> {
    reduced_shape(shape, &reduce.axes, true)
}
