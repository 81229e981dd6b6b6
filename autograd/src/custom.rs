//! # Writing your own gradient
//!
//! A [`Function`] is a differentiable function whose forward pass and vector-Jacobian product
//! you write yourself: $y = f(x_1, \dots, x_n)$ with any number of inputs and outputs, and
//!
//! $$ \bar x_i = \sum_j \Big(\frac{\partial y_j}{\partial x_i}\Big)^{\top} \bar y_j
//!    \qquad \text{(or whatever rule you choose to put there)} $$
//!
//! given the inputs $x$, the outputs $y$ and the cotangents $\bar y$ (the gradients of the final
//! output with respect to each $y_j$). Non-differentiable *side data* — an advantage, a mask, a
//! target — is passed alongside the inputs and reaches both passes unchanged. The function is
//! recorded on the tape as one node, and every part of the engine ([`grad`](crate::grad),
//! [`vjp`](crate::vjp), [`gradcheck`](crate::gradcheck()), anomaly mode) sees it as it sees a
//! built-in op.
//!
//! ## The two kinds of VJP
//!
//! * [`Function::with_vjp`]: the VJP is written with [`Var`] operations. It is then itself
//!   differentiable: when a backward pass is recorded ([`grad_graph`](crate::grad_graph),
//!   Hessian-vector products, [`gradgradcheck`](crate::gradgradcheck())) the VJP's operations
//!   are recorded too, so second and higher derivatives go through it. In a plain backward pass
//!   the same code runs on constants and records nothing.
//! * [`Function::with_array_vjp`]: the VJP is written on arrays ([`SharedArray`]). First-order
//!   gradients work as usual, but the engine cannot see inside it: differentiating its result
//!   again panics, naming the function (as PyTorch's `@once_differentiable` raises). Never a
//!   silent zero.
//!
//! A function with neither gives no gradient: a backward pass through it panics with its name.
//!
//! ## Next to PyTorch and JAX
//!
//! | | PyTorch | JAX | here |
//! |---|---|---|---|
//! | define | subclass `torch.autograd.Function` | `@jax.custom_vjp` | [`Function::new`]`(name, forward)` |
//! | forward | `forward(ctx, *inputs)` | `f_fwd(*args) → (y, residuals)` | `forward(x, side) → ys` on arrays |
//! | saved values | `ctx.save_for_backward(...)` | the residuals | `c.inputs`, `c.outputs`, `c.side` (all kept) |
//! | backward | `backward(ctx, *grad_outputs)` | `f_bwd(residuals, ȳ)` | [`with_vjp`](Function::with_vjp)`(|c| …)` with `c.cotangents` |
//! | non-differentiable inputs | return `None` for them | `nondiff_argnums` | side data, or return `None` |
//! | which inputs need a gradient | `ctx.needs_input_grad` | — | `c.needs` |
//! | first order only | `@once_differentiable` | — | [`with_array_vjp`](Function::with_array_vjp) |
//! | call | `F.apply(x)` | `f(x)` | [`f.apply`](Function::apply)`(&[&x], &side)` → `Vec<Var>` |
//!
//! The engine has no forward mode: Jacobian-vector products ([`jvp`](crate::jvp)) come from two
//! vector-Jacobian products, and so go through any function whose VJP is written with `Var`s.
//!
//! ## Examples
//!
//! A straight-through estimator: the forward pass rounds to a sign, the backward pass
//! pretends it was the identity.
//!
//! ```
//! use ndarray::array;
//! use wengert_autograd::custom::Function;
//! use wengert_autograd::prelude::*;
//!
//! let sign = Function::new("sign_straight_through", |x, _side| {
//!     vec![x[0].mapv(|v: f64| v.signum()).into_shared()]
//! })
//! .with_vjp(|c| vec![Some(c.cotangents[0].clone())]);
//!
//! let tape = Tape::new();
//! let x = tape.var(array![-0.3, 0.8]);
//! let [y] = sign.apply(&[&x], &[]).try_into().unwrap();
//! assert_eq!(y.value(), &array![-1.0, 1.0].into_dyn().into_shared());
//! let loss = (&y * &Var::constant(array![2.0, 3.0])).sum_all();
//! assert_eq!(loss.backward()[&x], array![2.0, 3.0].into_dyn().into_shared());
//! ```
//!
//! Gradient clipping inside the graph: the identity forward, a clipped backward.
//!
//! ```
//! use ndarray::array;
//! use wengert_autograd::custom::Function;
//! use wengert_autograd::prelude::*;
//!
//! let clip = Function::new("clip_gradient", |x, _side| vec![x[0].clone()])
//!     .with_vjp(|c| vec![Some(c.cotangents[0].clamp(-1.0, 1.0))]);
//!
//! let tape = Tape::<f64>::new();
//! let x = tape.var(array![1.0, 2.0]);
//! let [y] = clip.apply(&[&x], &[]).try_into().unwrap();
//! let loss = (&y * &Var::constant(array![0.5, -10.0])).sum_all();
//! assert_eq!(loss.backward()[&x], array![0.5, -1.0].into_dyn().into_shared());
//! ```
//!
//! A loss that takes the advantage as side data: `L = −Σ_t A_t log π(a_t|s_t)`, with its VJP
//! `∂L/∂ log π = −A` written out (here the usual one, but the place to put any estimator).
//!
//! ```
//! use ndarray::array;
//! use wengert_autograd::custom::Function;
//! use wengert_autograd::prelude::*;
//!
//! let policy_loss = Function::<f64>::new("policy_gradient_loss", |x, side| {
//!     let (log_prob, advantages) = (&x[0], &side[0]);
//!     vec![ndarray::arr0(-(log_prob * advantages).sum()).into_dyn().into_shared()]
//! })
//! .with_vjp(|c| {
//!     let advantages = Var::constant(c.side[0].clone());
//!     vec![Some(c.cotangents[0].mul(&advantages).neg())] // ȳ is a scalar: it broadcasts
//! });
//!
//! let tape = Tape::<f64>::new();
//! let logits = tape.var(array![[0.2, -0.1], [1.0, 0.3]]);
//! let log_prob = logits.log_softmax(-1).gather(1, &array![[1], [0]].into_dyn()).squeeze(1);
//! let advantages = array![0.5, -2.0].into_dyn().into_shared();
//! let [loss] = policy_loss.apply(&[&log_prob], &[advantages.clone()]).try_into().unwrap();
//! let by_hand = (log_prob * Var::constant(advantages)).sum_all().neg();
//! let (ours, expected) = (loss.backward()[&logits].clone(), by_hand.backward()[&logits].clone());
//! assert!(ours.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-15));
//! ```
//!
//! "Provide the gradients instead of input-output pairs": the DDPG actor update feeds
//! `−∇ₐQ(s, a)` into the actor `a = μ_θ(s)`, so that `θ̄ = (∂μ/∂θ)ᵀ (−∇ₐQ)`. A function whose
//! VJP returns that given gradient (side data) turns it into a loss to call `backward` on.
//!
//! ```
//! use ndarray::array;
//! use wengert_autograd::custom::Function;
//! use wengert_autograd::prelude::*;
//!
//! // value: 0; gradient with respect to a: the array given as side data, times ȳ.
//! let inject = Function::new("inject_gradient", |_x, _side| {
//!     vec![ndarray::arr0(0.0).into_dyn().into_shared()]
//! })
//! .with_vjp(|c| vec![Some(c.cotangents[0].mul(&Var::constant(c.side[0].clone())))]);
//!
//! let tape = Tape::<f64>::new();
//! let theta = tape.var(array![[0.5, -0.2], [0.1, 0.4]]);
//! let states = Var::constant(array![[1.0, 2.0], [0.0, -1.0]]);
//! let actions = states.matmul(&theta).tanh(); // a = μ_θ(s)
//! let minus_dq_da = array![[0.3, -1.0], [2.0, 0.5]].into_dyn().into_shared(); // −∇ₐQ
//! let [loss] = inject.apply(&[&actions], &[minus_dq_da.clone()]).try_into().unwrap();
//! let by_vjp = vjp(&[&actions], &[minus_dq_da], &[&theta]);
//! assert_eq!(loss.backward()[&theta], by_vjp[0]);
//! ```

use std::fmt;
use std::sync::Arc;

use crate::grad::Adjoint;
use crate::{Float, SharedArray, Var};

/// What a VJP receives: the inputs `x`, the outputs `y`, the cotangents `ȳ` (one per output,
/// shaped like it), the side data, and which inputs need a gradient. `X` is [`Var`] for
/// [`Function::with_vjp`] and [`SharedArray`] for [`Function::with_array_vjp`].
pub struct Context<'a, T, X> {
    /// The inputs `x_i`, as given to [`Function::apply`].
    pub inputs: &'a [X],
    /// The outputs `y_j` of the forward pass.
    pub outputs: &'a [X],
    /// The cotangents `ȳ_j`: the gradient of the final output with respect to each `y_j`
    /// (zeros for an output that the final output does not use).
    pub cotangents: &'a [X],
    /// The side data given to [`Function::apply`], unchanged.
    pub side: &'a [SharedArray<T>],
    /// `needs[i]`: whether input `i` needs a gradient (the others' may be `None`).
    pub needs: &'a [bool],
}

type Forward<T> = dyn Fn(&[SharedArray<T>], &[SharedArray<T>]) -> Vec<SharedArray<T>> + Send + Sync;
type VarVjp<T> = dyn Fn(&Context<'_, T, Var<T>>) -> Vec<Option<Var<T>>> + Send + Sync;
type ArrayVjp<T> =
    dyn Fn(&Context<'_, T, SharedArray<T>>) -> Vec<Option<SharedArray<T>>> + Send + Sync;

#[derive(Clone)]
enum Backward<T> {
    None,
    Vars(Arc<VarVjp<T>>),
    Arrays(Arc<ArrayVjp<T>>),
}

/// A differentiable function with its own forward pass and vector-Jacobian product (see the
/// [module documentation](self) for the two kinds of VJP and for examples).
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::custom::Function;
/// use wengert_autograd::prelude::*;
/// use wengert_autograd::{gradcheck, gradgradcheck};
///
/// // y = x sin x, with ȳ (sin x + x cos x) written with Var ops: differentiable again.
/// let x_sin_x = Function::new("x_sin_x", |x, _side| vec![(&x[0] * &x[0].mapv(f64::sin)).into_shared()])
///     .with_vjp(|c| {
///         let x = &c.inputs[0];
///         vec![Some(c.cotangents[0].mul(&x.sin().add(&x.mul(&x.cos()))))]
///     });
/// let f = |v: &[Var<f64>]| x_sin_x.apply(&[&v[0]], &[]).remove(0);
/// let x = array![0.3, -1.2, 2.0].into_dyn().into_shared();
/// assert!(gradcheck(&f, &[x.clone()]).is_ok());
/// assert!(gradgradcheck(&f, &[x]).is_ok());
/// ```
#[derive(Clone)]
pub struct Function<T> {
    name: &'static str,
    forward: Arc<Forward<T>>,
    backward: Backward<T>,
}

impl<T> fmt::Debug for Function<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let vjp = match self.backward {
            Backward::None => "none",
            Backward::Vars(_) => "on Vars",
            Backward::Arrays(_) => "on arrays",
        };
        write!(f, "Function({}, VJP {vjp})", self.name)
    }
}

impl<T: Float> Function<T> {
    /// A function named `name` (in messages and anomaly reports) computing
    /// `forward(inputs, side) = [y₁, …, y_m]` on arrays, with no VJP yet.
    pub fn new(
        name: &'static str,
        forward: impl Fn(&[SharedArray<T>], &[SharedArray<T>]) -> Vec<SharedArray<T>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Function {
            name,
            forward: Arc::new(forward),
            backward: Backward::None,
        }
    }

    /// Sets the VJP, written with [`Var`] operations: one `Option<Var>` per input (`None`: no
    /// gradient), each shaped like its input. Differentiable again when a backward pass is
    /// recorded.
    pub fn with_vjp(
        mut self,
        vjp: impl Fn(&Context<'_, T, Var<T>>) -> Vec<Option<Var<T>>> + Send + Sync + 'static,
    ) -> Self {
        self.backward = Backward::Vars(Arc::new(vjp));
        self
    }

    /// Sets the VJP, written on arrays: first order only. Differentiating its result again
    /// (grad-of-grad, Hessian-vector products, `gradgradcheck`) panics with this function's name.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_autograd::custom::Function;
    /// use wengert_autograd::prelude::*;
    /// let square = Function::new("square", |x, _| vec![x[0].mapv(|v: f64| v * v).into_shared()])
    ///     .with_array_vjp(|c| vec![Some((&c.cotangents[0] * &c.inputs[0] * 2.0).into_shared())]);
    /// let tape = Tape::new();
    /// let x = tape.var(array![3.0]);
    /// let y = square.apply(&[&x], &[]).remove(0).sum_all();
    /// assert_eq!(y.backward()[&x], array![6.0].into_dyn().into_shared());
    /// let [dy] = grad_graph(&[&y], &[&x]).try_into().unwrap(); // first order: fine
    /// assert_eq!(dy.value()[[0]], 6.0);
    /// let second = std::panic::catch_unwind(|| grad(&[&dy.sum_all()], &[&x]));
    /// assert!(second.is_err()); // "square: its VJP is written on arrays, …"
    /// ```
    pub fn with_array_vjp(
        mut self,
        vjp: impl Fn(&Context<'_, T, SharedArray<T>>) -> Vec<Option<SharedArray<T>>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.backward = Backward::Arrays(Arc::new(vjp));
        self
    }

    /// The function's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Evaluates the function on `inputs` with `side` data, and records it if an input is
    /// tracked: one node, and one more for each output after the first, so that each output's
    /// cotangent reaches the VJP on its own. Returns the outputs `y₁, …, y_m`.
    ///
    /// # Panics
    /// If there are no inputs, or the forward pass returns no outputs.
    pub fn apply(&self, inputs: &[&Var<T>], side: &[SharedArray<T>]) -> Vec<Var<T>> {
        let name = self.name;
        if inputs.is_empty() {
            panic!("{name}: a custom function needs at least one input");
        }
        let values: Vec<SharedArray<T>> = inputs.iter().map(|v| v.value().clone()).collect();
        let outputs = (self.forward)(&values, side);
        if outputs.is_empty() {
            panic!("{name}: the forward pass returned no outputs");
        }
        let call = Call {
            function: self.clone(),
            side: side.to_vec(),
            outputs,
        };
        Var::apply_call(Arc::new(call), inputs)
    }
}

/// One application of a [`Function`], as the tape records it: the function, its side data and
/// its outputs. The call's node ([`Op::Custom`]) holds the first output and each further output
/// `j` is a node of its own ([`Op::Output`]), right after it; a backward pass hands the VJP
/// every output's cotangent as it arrived (zeros for an output that was not used).
///
/// [`Op::Custom`]: crate::op::Op::Custom
/// [`Op::Output`]: crate::op::Op::Output
#[derive(Clone)]
pub struct Call<T> {
    function: Function<T>,
    side: Vec<SharedArray<T>>,
    outputs: Vec<SharedArray<T>>,
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shapes: Vec<&[usize]> = self.outputs.iter().map(|y| y.shape()).collect();
        write!(f, "{:?} with outputs {shapes:?}", self.function)
    }
}

impl<T: Float> Call<T> {
    pub(crate) fn name(&self) -> &'static str {
        self.function.name
    }

    /// The outputs `y₀, …, y_{m−1}` of the forward pass.
    pub(crate) fn outputs(&self) -> &[SharedArray<T>] {
        &self.outputs
    }

    /// The VJP of this call: the function's own rule, given the inputs `x`, the outputs `y`
    /// and their cotangents `g` (one per output).
    pub(crate) fn vjp<X: Adjoint<T>>(
        &self,
        x: &[X],
        y: &[X],
        g: &[X],
        needs: &[bool],
    ) -> Vec<Option<X>> {
        let name = self.function.name;
        let gradients: Vec<Option<X>> = match &self.function.backward {
            Backward::None => panic!(
                "{name}: no VJP was given (Function::with_vjp or with_array_vjp), so no gradient flows through it"
            ),
            Backward::Vars(vjp) => {
                let vars = |v: &[X]| -> Vec<Var<T>> { v.iter().map(X::to_var).collect() };
                let context = Context {
                    inputs: &vars(x),
                    outputs: &vars(y),
                    cotangents: &vars(g),
                    side: &self.side,
                    needs,
                };
                vjp(&context)
                    .into_iter()
                    .map(|gradient| gradient.map(X::from_var))
                    .collect()
            }
            Backward::Arrays(vjp) => {
                let arrays = |v: &[X]| -> Vec<SharedArray<T>> {
                    v.iter().map(|v| v.data().clone()).collect()
                };
                let context = Context {
                    inputs: &arrays(x),
                    outputs: &arrays(y),
                    cotangents: &arrays(g),
                    side: &self.side,
                    needs,
                };
                // What the result depends on, so that differentiating it again reaches the
                // marker op, which says that it cannot be done.
                let parents: Vec<&X> = x.iter().chain(g).collect();
                vjp(&context)
                    .into_iter()
                    .map(|gradient| gradient.map(|v| X::once_differentiable(name, v, &parents)))
                    .collect()
            }
        };
        if gradients.len() != x.len() {
            panic!(
                "{name}: the VJP returned {} gradients for {} inputs",
                gradients.len(),
                x.len()
            );
        }
        for (i, (gradient, input)) in gradients.iter().zip(x).enumerate() {
            if let Some(gradient) = gradient
                && gradient.shape() != input.shape()
            {
                panic!(
                    "{name}: the VJP returned a gradient of shape {:?} for input {i} of shape {:?}",
                    gradient.shape(),
                    input.shape()
                );
            }
        }
        gradients
    }
}
