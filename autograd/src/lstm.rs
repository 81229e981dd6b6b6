//! # One LSTM layer over a sequence, as one op
//!
//! For an input `x` of shape `(T, N, I)`, weights `W_ih` `(4H, I)` and `W_hh` `(4H, H)`,
//! optional biases `b_ih`, `b_hh` `(4H)` and an initial state `(h_0, c_0)` (`N × H` each),
//! each step `t = 1‥T` is PyTorch's `nn.LSTM` step, gates in the order `i, f, g, o`:
//!
//! ```text
//!     a_t = x_t W_ihᵀ + b_ih + b_hh + h_{t−1} W_hhᵀ                  (N × 4H) = [a_i a_f a_g a_o]
//!     i_t = σ(a_i),  f_t = σ(a_f),  g_t = tanh(a_g),  o_t = σ(a_o)
//!     c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
//!     h_t = o_t ⊙ tanh(c_t)
//! ```
//!
//! and the result is the outputs `(h_1, …, h_T)` `(T, N, H)` and the final state `(h_T, c_T)`.
//! An optional reset mask gives keep factors `k_t = 1 − m_t` `(T, N)`: before step `t` the
//! carried state is `h_{t−1} ← k_t ⊙ h_{t−1}`, `c_{t−1} ← k_t ⊙ c_{t−1}` (`k_t` broadcast over
//! the hidden units).
//!
//! Backpropagation through time, for the cotangents `ō_t` of the outputs and `h̄_T`, `c̄_T` of
//! the final state, runs `t = T‥1` from `h̄ = h̄_T`, `c̄ = c̄_T`:
//!
//! ```text
//!     h̄ ← h̄ + ō_t
//!     c̄ ← c̄ + h̄ ⊙ o_t ⊙ (1 − tanh² c_t)
//!     ā_i = c̄ ⊙ g_t ⊙ i_t (1 − i_t),   ā_f = c̄ ⊙ c_{t−1} ⊙ f_t (1 − f_t)
//!     ā_g = c̄ ⊙ i_t ⊙ (1 − g_t²),      ā_o = h̄ ⊙ tanh c_t ⊙ o_t (1 − o_t)
//!     h̄ ← k_t ⊙ (ā_t W_hh),            c̄ ← k_t ⊙ (c̄ ⊙ f_t)
//! ```
//!
//! and then, over all steps at once, `W̄_hh = Σ_t ā_tᵀ h_{t−1}`, `W̄_ih = Σ_t ā_tᵀ x_t`,
//! `b̄_ih = b̄_hh = Σ_t Σ_n ā_t`, `x̄_t = ā_t W_ih`, and `h̄_0 = h̄`, `c̄_0 = c̄`.
//!
//! ## Two paths, one result
//!
//! [`lstm`] runs the layer as one recorded op: two products and one fused elementwise pass per
//! step, and the backward pass above written out by hand, with the weight gradients summed in
//! blocks of steps (`autograd/src/backend/lstm.rs`). [`lstm_reference`] is the same layer step by step out of
//! the engine's ops (matmul, slices, σ, tanh, products), which the tape differentiates on its
//! own. The tests hold the two together: in `f64` the forward values are bit for bit the same
//! and the gradients agree to round-off; in `f32` the sigmoid is a vectorised kernel, within
//! 4 ulp.
//!
//! The hand-written backward runs on arrays, so it cannot be differentiated again as it is.
//! When the backward pass is itself being recorded (`grad_graph`, Hessian-vector products,
//! `gradgradcheck`), the op's VJP instead rebuilds [`lstm_reference`] on its inputs and takes
//! its VJP with the engine's rules, recorded: second and higher derivatives are exactly the
//! step-by-step path's.
//!
//! ```
//! use ndarray::{Array2, Array3, Dimension};
//! use wengert_autograd::lstm::{lstm, lstm_reference};
//! use wengert_autograd::prelude::*;
//!
//! let (steps, batch, input, hidden) = (5, 2, 3, 4);
//! let tape = Tape::<f64>::new();
//! let value = |shape: &[usize], seed: usize| {
//!     ndarray::ArrayD::from_shape_fn(shape, |i| ((i.as_array_view().sum() + seed) as f64 * 0.7).sin())
//! };
//! let x = tape.var(value(&[steps, batch, input], 0));
//! let w_ih = tape.var(value(&[4 * hidden, input], 1));
//! let w_hh = tape.var(value(&[4 * hidden, hidden], 2));
//! let zeros = Var::constant(Array2::<f64>::zeros((batch, hidden)));
//! let (out, h_n, _) = lstm(&x, &w_ih, &w_hh, None, &zeros, &zeros, None);
//! let (reference, _, _) = lstm_reference(&x, &w_ih, &w_hh, None, &zeros, &zeros, None);
//! assert_eq!(out.value(), reference.value()); // bit for bit in f64
//! assert_eq!(h_n.value(), &out.value().slice(ndarray::s![4, .., ..]).into_dyn().to_shared());
//! let fused = grad(&[&out.sum_all()], &[&w_hh]);
//! let step_by_step = grad(&[&reference.sum_all()], &[&w_hh]);
//! assert!(fused[0].iter().zip(step_by_step[0].iter()).all(|(a, b)| (a - b).abs() < 1e-12));
//! ```

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use ndarray::{ArrayD, IxDyn};

use crate::backend::{self, LstmDims, LstmNeeds, LstmSaved};
use crate::custom::{Context, Function};
use crate::{Float, SharedArray, Tensor, Var, vjp_graph};

/// The fused LSTM layer: `(outputs (T, N, H), h_T (N, H), c_T (N, H))` (see the
/// [module documentation](self) for the equations). `bias` is `(b_ih, b_hh)`; `keep`, if given,
/// holds the reset mask's keep factors `1 − m_t` as a `(T, N)` array.
///
/// # Panics
/// If a shape does not fit `x (T, N, I)`, `W_ih (4H, I)`, `W_hh (4H, H)`, `b (4H)`,
/// `h_0, c_0 (N, H)`, `keep (T, N)`; the message names the expected and the found shapes.
pub fn lstm<T: Float>(
    x: &Var<T>,
    weight_ih: &Var<T>,
    weight_hh: &Var<T>,
    bias: Option<(&Var<T>, &Var<T>)>,
    h0: &Var<T>,
    c0: &Var<T>,
    keep: Option<&ArrayD<T>>,
) -> (Var<T>, Var<T>, Var<T>) {
    let dims = check_shapes(x, weight_ih, weight_hh, bias, h0, c0, keep);
    let has_bias = bias.is_some();
    let saved: Arc<OnceLock<LstmSaved<T>>> = Arc::default();
    let forward_saved = Arc::clone(&saved);
    let mut inputs = vec![x, weight_ih, weight_hh, h0, c0];
    if let Some((b_ih, b_hh)) = bias {
        inputs.extend([b_ih, b_hh]);
    }
    let side: Vec<SharedArray<T>> = keep.map(|k| k.clone().into_shared()).into_iter().collect();
    let outputs = Function::new("lstm", move |v, side| {
        let bias = has_bias.then(|| (contiguous(&v[5]), contiguous(&v[6])));
        let keep = side.first().map(contiguous);
        let (out, saved) = backend::lstm_forward(
            dims,
            &contiguous(&v[0]),
            &contiguous(&v[1]),
            &contiguous(&v[2]),
            bias.as_ref().map(|(a, b)| (&a[..], &b[..])),
            &contiguous(&v[3]),
            &contiguous(&v[4]),
            keep.as_deref(),
        );
        // One forward pass per application; later backward passes read what it kept.
        let _ = forward_saved.set(saved);
        vec![out.output, out.h_n, out.c_n]
    })
    .with_vjp(move |c| {
        let recording = c.inputs.iter().chain(c.cotangents).any(Var::is_tracked);
        if recording {
            return reference_vjp(c, has_bias);
        }
        let saved = saved
            .get()
            .expect("lstm: the forward pass ran before its VJP");
        let value = |i: usize| contiguous(c.inputs[i].value());
        let cotangent = |i: usize| contiguous(c.cotangents[i].value());
        let g = backend::lstm_backward(
            saved,
            &value(1),
            &value(2),
            &cotangent(0),
            &cotangent(1),
            &cotangent(2),
            LstmNeeds {
                x: c.needs[0],
                h0: c.needs[3],
            },
        );
        let shape = |i: usize| c.inputs[i].shape().to_vec();
        let wrap = |i: usize, v: Vec<T>| c.needs[i].then(|| Var::constant(array(&shape(i), v)));
        let mut gradients = vec![
            g.x.and_then(|x| wrap(0, x)),
            wrap(1, g.weight_ih),
            wrap(2, g.weight_hh),
            g.h0.and_then(|h0| wrap(3, h0)),
            wrap(4, g.c0),
        ];
        if has_bias {
            gradients.push(wrap(5, g.bias.clone()));
            gradients.push(wrap(6, g.bias));
        }
        gradients
    })
    .apply(&inputs, &side);
    let [out, h_n, c_n]: [Var<T>; 3] = outputs.try_into().expect("three outputs");
    (out, h_n, c_n)
}

/// The same layer step by step out of the engine's own ops, differentiated by the tape: the
/// reference [`lstm`] is tested against, and what its VJP differentiates when a backward pass
/// is recorded. Arguments and results as [`lstm`].
///
/// # Panics
/// As [`lstm`].
pub fn lstm_reference<T: Float>(
    x: &Var<T>,
    weight_ih: &Var<T>,
    weight_hh: &Var<T>,
    bias: Option<(&Var<T>, &Var<T>)>,
    h0: &Var<T>,
    c0: &Var<T>,
    keep: Option<&ArrayD<T>>,
) -> (Var<T>, Var<T>, Var<T>) {
    let LstmDims {
        steps,
        batch,
        hidden,
        ..
    } = check_shapes(x, weight_ih, weight_hh, bias, h0, c0, keep);
    let (weight_ih_t, weight_hh_t) = (weight_ih.t(), weight_hh.t());
    let bias = bias.map(|(b_ih, b_hh)| b_ih + b_hh);
    let (mut h, mut c) = (h0.clone(), c0.clone());
    let mut outputs = Vec::with_capacity(steps);
    for t in 0..steps {
        if let Some(keep) = keep {
            let keep_t = keep.index_axis(ndarray::Axis(0), t);
            if keep_t.iter().any(|&k| k != T::one()) {
                let keep_t = Var::constant(
                    keep_t
                        .to_owned()
                        .into_shape_with_order((batch, 1))
                        .expect("N factors"),
                );
                h = &h * &keep_t;
                c = &c * &keep_t;
            }
        }
        let product = x.slice(0, t, t + 1).squeeze(0).matmul(&weight_ih_t);
        let input_part = match &bias {
            Some(b) => product + b,
            None => product,
        };
        let a = input_part + h.matmul(&weight_hh_t);
        let gate = |k: usize| a.slice(1, k * hidden, (k + 1) * hidden);
        let (i, f, g, o) = (
            gate(0).sigmoid(),
            gate(1).sigmoid(),
            gate(2).tanh(),
            gate(3).sigmoid(),
        );
        c = f * &c + i * g;
        h = o * c.tanh();
        outputs.push(h.clone());
    }
    let out = Var::stack(&outputs.iter().collect::<Vec<_>>(), 0);
    (out, h, c)
}

/// The VJP of [`lstm`] while a backward pass is recorded: [`lstm_reference`] on the same
/// inputs, differentiated by the engine's own (differentiable) rules.
fn reference_vjp<T: Float>(c: &Context<'_, T, Var<T>>, has_bias: bool) -> Vec<Option<Var<T>>> {
    let v = c.inputs;
    let bias = has_bias.then(|| (&v[5], &v[6]));
    let keep = c.side.first().map(|k| k.to_owned());
    let (out, h_n, c_n) = lstm_reference(&v[0], &v[1], &v[2], bias, &v[3], &v[4], keep.as_ref());
    let wanted: Vec<usize> = (0..v.len()).filter(|&i| c.needs[i]).collect();
    let targets: Vec<&Var<T>> = wanted.iter().map(|&i| &v[i]).collect();
    let cotangents: Vec<&Var<T>> = c.cotangents.iter().collect();
    let mut gradients = vjp_graph(&[&out, &h_n, &c_n], &cotangents, &targets).into_iter();
    (0..v.len())
        .map(|i| c.needs[i].then(|| gradients.next().expect("one gradient per target")))
        .collect()
}

/// The sizes, after checking every shape against `x (T, N, I)` and `W_hh (4H, H)`.
fn check_shapes<T: Float>(
    x: &Var<T>,
    weight_ih: &Var<T>,
    weight_hh: &Var<T>,
    bias: Option<(&Var<T>, &Var<T>)>,
    h0: &Var<T>,
    c0: &Var<T>,
    keep: Option<&ArrayD<T>>,
) -> LstmDims {
    let (steps, batch, input) = match *x.shape() {
        [steps, batch, input] => (steps, batch, input),
        _ => panic!("lstm: expected x of shape (T, N, I), found {:?}", x.shape()),
    };
    let hidden = match *weight_hh.shape() {
        [rows, hidden] if rows == 4 * hidden => hidden,
        _ => panic!(
            "lstm: expected weight_hh of shape (4H, H), found {:?}",
            weight_hh.shape()
        ),
    };
    let expect = |what: &str, found: &[usize], expected: &[usize]| {
        if found != expected {
            panic!("lstm: expected {what} of shape {expected:?}, found {found:?}");
        }
    };
    expect("weight_ih (4H, I)", weight_ih.shape(), &[4 * hidden, input]);
    if let Some((b_ih, b_hh)) = bias {
        expect("bias_ih (4H)", b_ih.shape(), &[4 * hidden]);
        expect("bias_hh (4H)", b_hh.shape(), &[4 * hidden]);
    }
    expect("h0 (N, H)", h0.shape(), &[batch, hidden]);
    expect("c0 (N, H)", c0.shape(), &[batch, hidden]);
    if let Some(keep) = keep {
        expect("keep (T, N)", keep.shape(), &[steps, batch]);
    }
    LstmDims {
        steps,
        batch,
        input,
        hidden,
    }
}

/// The elements of `a` in row-major order, borrowed when `a` is laid out that way.
fn contiguous<T: Float>(a: &SharedArray<T>) -> Cow<'_, [T]> {
    match a.as_slice() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

fn array<T: Float>(shape: &[usize], values: Vec<T>) -> SharedArray<T> {
    ArrayD::from_shape_vec(IxDyn(shape), values)
        .expect("the kernel fills the shape")
        .into_shared()
}
