//! Higher-order derivatives, all from recorded backward passes.
//!
//! * Hessian-vector product: with $g(x) = \nabla f(x)$ recorded,
//!   $H v = \nabla_x \langle g(x), v \rangle$ — one more backward pass over the recorded
//!   gradient, never the Hessian itself.
//! * Jacobian: one vector-Jacobian product $J_r^{\top} = J^{\top} e_r$ per output element, all
//!   over one recorded forward pass.
//! * Hessian: the Jacobian of the recorded gradient.
//! * Jacobian-vector product by the double-vjp trick: $u \mapsto J^{\top} u$ is linear in a
//!   dummy cotangent $u$, so $J t = \nabla_u \langle J^{\top} u, t \rangle$.

use ndarray::{Array2, ArrayD, IxDyn};

use crate::grad::{grad_graph, vjp, vjp_graph};
use crate::tensor::Tensor;
use crate::{Float, SharedArray, Tape, Var};

/// Hessian-vector products `H v` of a scalar output with respect to some inputs, reusing one
/// recorded forward pass and one recorded gradient for every `v` (as conjugate gradient needs).
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
/// use wengert_autograd::HessianVectorProduct;
/// let tape = Tape::<f64>::new();
/// let x = tape.var(array![1.0, 2.0]);
/// let f = (x.powi(2).sum_all() * 1.5).sum_all(); // f = 1.5 |x|², H = 3 I
/// let hvp = HessianVectorProduct::new(&f, &[&x]);
/// let hv = hvp.apply(&[array![1.0, -1.0].into_dyn().into_shared()]);
/// assert_eq!(hv[0], array![3.0, -3.0].into_dyn().into_shared());
/// ```
pub struct HessianVectorProduct<T> {
    gradients: Vec<Var<T>>,
    inputs: Vec<Var<T>>,
}

// ANCHOR: hessian_vector_product
impl<T: Float> HessianVectorProduct<T> {
    /// Records `∇f` with respect to `inputs` (`f` a single-element output).
    pub fn new(output: &Var<T>, inputs: &[&Var<T>]) -> Self {
        HessianVectorProduct {
            gradients: grad_graph(&[output], inputs),
            inputs: inputs.iter().map(|&v| v.clone()).collect(),
        }
    }

    /// The gradient `∇f` itself, as recorded.
    pub fn gradients(&self) -> &[Var<T>] {
        &self.gradients
    }

    /// `H v`, one array per input, for `v` given as one array per input.
    pub fn apply(&self, v: &[SharedArray<T>]) -> Vec<SharedArray<T>> {
        let gradients: Vec<&Var<T>> = self.gradients.iter().collect();
        let inputs: Vec<&Var<T>> = self.inputs.iter().collect();
        vjp(&gradients, v, &inputs)
    }
}
// ANCHOR_END: hessian_vector_product

fn track<T: Float>(tape: &Tape<T>, inputs: &[SharedArray<T>]) -> Vec<Var<T>> {
    inputs.iter().map(|x| tape.var(x.clone())).collect()
}

/// `H v` of the scalar function `f` at `inputs`.
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
/// // f(x) = x₀² x₁, H = [[2x₁, 2x₀], [2x₀, 0]]
/// let f = |x: &[Var<f64>]| (x[0].slice(0, 0, 1).powi(2) * x[0].slice(0, 1, 2)).sum_all();
/// let x = array![1.0, 2.0].into_dyn().into_shared();
/// let v = array![1.0, 0.0].into_dyn().into_shared();
/// let hv = wengert_autograd::hvp(f, &[x], &[v]);
/// assert_eq!(hv[0], array![4.0, 2.0].into_dyn().into_shared());
/// ```
pub fn hvp<T: Float>(
    f: impl Fn(&[Var<T>]) -> Var<T>,
    inputs: &[SharedArray<T>],
    v: &[SharedArray<T>],
) -> Vec<SharedArray<T>> {
    let tape = Tape::new();
    let x = track(&tape, inputs);
    let output = f(&x);
    let refs: Vec<&Var<T>> = x.iter().collect();
    HessianVectorProduct::new(&output, &refs).apply(v)
}

/// The output of `f` at `inputs` and its Jacobian with respect to each input, as matrices with
/// one row per output element and one column per input element (both in row-major order).
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
/// let f = |x: &[Var<f64>]| x[0].matmul(&x[1]);          // A v
/// let a = array![[1.0, 2.0], [3.0, 4.0]].into_dyn().into_shared();
/// let v = array![1.0, 1.0].into_dyn().into_shared();
/// let (_, jacobians) = wengert_autograd::jacobian(f, &[a, v]);
/// assert_eq!(jacobians[1], array![[1.0, 2.0], [3.0, 4.0]]); // ∂(Av)/∂v = A
/// ```
pub fn jacobian<T: Float>(
    f: impl Fn(&[Var<T>]) -> Var<T>,
    inputs: &[SharedArray<T>],
) -> (SharedArray<T>, Vec<Array2<T>>) {
    let tape = Tape::new();
    let x = track(&tape, inputs);
    let output = f(&x);
    let refs: Vec<&Var<T>> = x.iter().collect();
    let rows = output.size();
    let mut jacobians: Vec<Array2<T>> = x
        .iter()
        .map(|xi| Array2::zeros((rows, xi.size())))
        .collect();
    for r in 0..rows {
        let row = vjp(&[&output], &[basis(output.shape(), r)], &refs);
        for (jacobian, gradient) in jacobians.iter_mut().zip(row) {
            for (c, &value) in gradient.iter().enumerate() {
                jacobian[[r, c]] = value;
            }
        }
    }
    (output.value().clone(), jacobians)
}

/// The Hessian of the scalar `f` at `inputs`, as blocks: `blocks[i][j] = ∂²f / ∂x_i ∂x_j`,
/// with rows for the elements of `x_i` and columns for those of `x_j`.
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
/// let f = |x: &[Var<f64>]| (&x[0] * &x[1]).sum_all(); // f = x y
/// let one = |v: f64| array![v].into_dyn().into_shared();
/// let blocks = wengert_autograd::hessian(f, &[one(2.0), one(3.0)]);
/// assert_eq!(blocks[0][1], array![[1.0]]);
/// assert_eq!(blocks[0][0], array![[0.0]]);
/// ```
pub fn hessian<T: Float>(
    f: impl Fn(&[Var<T>]) -> Var<T>,
    inputs: &[SharedArray<T>],
) -> Vec<Vec<Array2<T>>> {
    let tape = Tape::new();
    let x = track(&tape, inputs);
    let output = f(&x);
    let refs: Vec<&Var<T>> = x.iter().collect();
    let gradients = grad_graph(&[&output], &refs);
    gradients
        .iter()
        .zip(&x)
        .map(|(g, xi)| {
            let mut blocks: Vec<Array2<T>> = x
                .iter()
                .map(|xj| Array2::zeros((xi.size(), xj.size())))
                .collect();
            for r in 0..xi.size() {
                let row = vjp(&[g], &[basis(g.shape(), r)], &refs);
                for (block, second) in blocks.iter_mut().zip(row) {
                    for (c, &value) in second.iter().enumerate() {
                        block[[r, c]] = value;
                    }
                }
            }
            blocks
        })
        .collect()
}

/// The output of `f` at `inputs` and the Jacobian-vector product `J t = Σ_i (∂f/∂x_i) t_i`,
/// by the double-vjp trick.
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
/// let f = |x: &[Var<f64>]| x[0].sin();
/// let x = array![0.0, 1.0].into_dyn().into_shared();
/// let t = array![2.0, 0.0].into_dyn().into_shared();
/// let (_, jt) = wengert_autograd::jvp(f, &[x], &[t]);
/// assert_eq!(jt, array![2.0, 0.0].into_dyn().into_shared()); // cos(0)·2, cos(1)·0
/// ```
pub fn jvp<T: Float>(
    f: impl Fn(&[Var<T>]) -> Var<T>,
    inputs: &[SharedArray<T>],
    tangents: &[SharedArray<T>],
) -> (SharedArray<T>, SharedArray<T>) {
    let tape = Tape::new();
    let x = track(&tape, inputs);
    let output = f(&x);
    let refs: Vec<&Var<T>> = x.iter().collect();
    let u = tape.var(ArrayD::<T>::zeros(IxDyn(output.shape())));
    let transposed = vjp_graph(&[&output], &[&u], &refs);
    let transposed: Vec<&Var<T>> = transposed.iter().collect();
    let jt = vjp(&transposed, tangents, &[&u]).remove(0);
    (output.value().clone(), jt)
}

/// The `r`-th unit vector (row-major) in an array of `shape`.
fn basis<T: Float>(shape: &[usize], r: usize) -> SharedArray<T> {
    let mut e = ArrayD::zeros(IxDyn(shape));
    if let Some(slot) = e.iter_mut().nth(r) {
        *slot = T::one();
    }
    e.into_shared()
}
