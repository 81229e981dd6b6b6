//! The primitive operations the tape records.
//!
//! Every differentiable function in the engine is either one of these primitives or a
//! composition of them (mean, variance, softmax, log-softmax, stack, dot, general matmul are
//! compositions). Each primitive has a forward kernel in `autograd/src/forward.rs` and a
//! vector-Jacobian product in `autograd/src/backprop.rs`; the table gives both. `ḡ` is the
//! incoming gradient of the output `y`, and `sum_to` undoes broadcasting.
//!
//! | op | forward `y` | vector-Jacobian product |
//! |---|---|---|
//! | `Add` | `a + b` | `ā = sum_to(ḡ)`, `b̄ = sum_to(ḡ)` |
//! | `Sub` | `a − b` | `ā = sum_to(ḡ)`, `b̄ = −sum_to(ḡ)` |
//! | `Mul` | `a b` | `ā = sum_to(ḡ b)`, `b̄ = sum_to(ḡ a)` |
//! | `Div` | `a / b` | `ā = sum_to(ḡ / b)`, `b̄ = −sum_to(ḡ y / b)` |
//! | `Pow` | `aᵇ` | `ā = sum_to(ḡ b aᵇ⁻¹)` (0 where `b = 0`), `b̄ = sum_to(ḡ y ln a)` (0 where `a = 0, b ≥ 0`) |
//! | `Minimum`, `Maximum` | `min(a, b)`, `max(a, b)` (NaN if either is) | `ḡ` to the chosen side, split `½, ½` on ties, all of `ḡ` to both against a NaN (as PyTorch) |
//! | `AddScalar(c)` | `a + c` | `ḡ` |
//! | `MulScalar(c)` | `c a` | `c ḡ` |
//! | `Powf(p)`, `Powi(n)` | `aᵖ` | `ḡ p aᵖ⁻¹` (0 for `p = 0`, even at `a = 0` or NaN) |
//! | `Neg` | `−a` | `−ḡ` |
//! | `Exp` | `eᵃ` | `ḡ y` |
//! | `Log`, `Log1p` | `ln a`, `ln(1 + a)` | `ḡ / a`, `ḡ / (1 + a)` |
//! | `Sqrt` | `√a` | `ḡ / (2 y)` |
//! | `Abs` | `|a|` | `ḡ sign(a)` (`sign(0) = 0`) |
//! | `Sin`, `Cos` | `sin a`, `cos a` | `ḡ cos a`, `−ḡ sin a` |
//! | `Tanh` | `tanh a` | `TanhGrad(ḡ, y) = ḡ (1 − y²)` |
//! | `Sigmoid` | `σ(a) = 1 / (1 + e⁻ᵃ)` | `SigmoidGrad(ḡ, y) = ḡ y (1 − y)` |
//! | `TanhGrad` | `g (1 − y²)` (fused: one pass) | `ḡ_g = TanhGrad(ḡ, y)`, `ḡ_y = −2 ḡ g y` |
//! | `SigmoidGrad` | `g y (1 − y)` (fused) | `ḡ_g = SigmoidGrad(ḡ, y)`, `ḡ_y = ḡ g (1 − 2y)` |
//! | `Relu` | `max(a, 0)` (NaN stays NaN) | `ḡ [a > 0 or a = NaN]` (passes at NaN, as PyTorch) |
//! | `LeakyRelu(s)` | `a` if `a > 0`, else `s a` | `ḡ ([a > 0] + s [a ≤ 0])` |
//! | `Elu(α)` | `a` if `a > 0`, else `α (eᵃ − 1)` | `ḡ [a > 0 or a = NaN] + ḡ α [a = 0] + ḡ (y + α) [a < 0]` (PyTorch's: the slope `α` at 0 is a constant, so the second derivative there is 0) |
//! | `Softplus` | `ln(1 + eᵃ) = max(a, 0) + ln(1 + e^{−|a|})` | `ḡ σ(a)` |
//! | `Clamp(lo, hi)` | `min(max(a, lo), hi)` (NaN stays NaN) | `ḡ [lo < a < hi]` (as PyTorch: none at the bounds, none at NaN) |
//! | `Where(m)` | `m ? a : b` | `ā = sum_to(ḡ m)`, `b̄ = sum_to(ḡ (1 − m))` |
//! | `Sum(axes)` | `Σ_axes a` | `broadcast(ḡ)` |
//! | `Max(axes)`, `Min(axes)` | `max_axes a` | `broadcast(ḡ) [a = y] / #ties` (ties share evenly, as PyTorch's `amax`) |
//! | `LogSumExp(axes)` | `m + ln Σ e^{a − m}`, `m = max a` (`−∞` over an empty axis) | `broadcast(ḡ) e^{a − y}` |
//! | `MatMul` | `A B` (2-D, or 3-D batches of equal size; `matmul` reduces PyTorch's broadcast batches to these) | `Ā = ḡ Bᵀ`, `B̄ = Aᵀ ḡ` (transposes are stride swaps) |
//! | `Reshape`, `Permute(p)` | | reshape back, permute by `p⁻¹` |
//! | `BroadcastTo`, `SumTo` | | `sum_to`, `broadcast_to` (each the other's adjoint) |
//! | `Slice`, `Pad` | | `Pad`, `Slice` (each the other's adjoint) |
//! | `Concat(axis)` | | a `Slice` of `ḡ` per input |
//! | `Gather`, `ScatterAdd` | `y_i = a_{i with axis → index_i}` | `ScatterAdd`, `Gather` (each the other's adjoint) |
//! | `IndexSelect`, `IndexAdd` | `y = a[…, index, …]` | `IndexAdd`, `IndexSelect` |
//! | `Custom` | the user's forward ([`crate::custom`]): its first output `y₀` | the user's VJP, given every output's cotangent |
//! | `Output(j)` | the same call's output `y_j` (`j ≥ 1`), a node of its own | its cotangent `ȳ_j`, handed to the call's VJP |
//!
//! Because each product on the right is built from primitives on the left, a backward pass can
//! itself be recorded and differentiated again, to any order.

use std::sync::Arc;

use ndarray::ArrayD;

use crate::SharedArray;
use crate::custom::Call;

/// The axes a reduction runs over (sorted, distinct) and whether they stay as size-1 axes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reduce {
    pub axes: Vec<usize>,
    pub keep_dims: bool,
}

/// A primitive operation, with the constants it needs (scalars, axes, shapes, indices).
#[derive(Clone, Debug)]
pub enum Op<T> {
    /// A variable created by [`crate::Tape::var`]; gradients stop here.
    Leaf,
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Minimum,
    Maximum,
    AddScalar(T),
    MulScalar(T),
    Powf(T),
    Powi(i32),
    Neg,
    Exp,
    Log,
    Log1p,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Tanh,
    Sigmoid,
    /// `g (1 − y²)` for `y = tanh a`: tanh's backward in one pass.
    TanhGrad,
    /// `g y (1 − y)` for `y = σ(a)`: the sigmoid's backward in one pass.
    SigmoidGrad,
    Relu,
    LeakyRelu(T),
    Elu(T),
    Softplus,
    Clamp(T, T),
    Where(Arc<ArrayD<bool>>),
    Sum(Reduce),
    Max(Reduce),
    Min(Reduce),
    LogSumExp(Reduce),
    MatMul,
    Reshape(Vec<usize>),
    Permute(Vec<usize>),
    BroadcastTo(Vec<usize>),
    SumTo(Vec<usize>),
    Slice {
        axis: usize,
        start: usize,
        end: usize,
    },
    Pad {
        axis: usize,
        before: usize,
        after: usize,
    },
    Concat(usize),
    Gather {
        axis: usize,
        index: Arc<ArrayD<usize>>,
    },
    /// Adds `a`'s elements into zeros of `shape` at the positions [`Op::Gather`] reads from;
    /// `shape` is the gathered input's, which may be larger than `index` along every axis.
    ScatterAdd {
        axis: usize,
        index: Arc<ArrayD<usize>>,
        shape: Vec<usize>,
    },
    IndexSelect {
        axis: usize,
        index: Arc<[usize]>,
    },
    IndexAdd {
        axis: usize,
        index: Arc<[usize]>,
        size: usize,
    },
    /// A user-defined function ([`crate::custom::Function`]) with its own VJP; the node holds
    /// its first output.
    Custom(Arc<Call<T>>),
    /// Output `j ≥ 1` of a user-defined function with several outputs: recorded right after the
    /// call's node (its one input), at `call + j`, so that its cotangent reaches the call's VJP
    /// on its own, with no packing.
    Output(Arc<Call<T>>, usize),
    /// A gradient computed by a VJP written on arrays, recorded so that differentiating it
    /// again stops with a message naming the function: its value, fixed.
    OnceDifferentiable {
        name: &'static str,
        value: SharedArray<T>,
    },
}

impl<T: crate::Float> Op<T> {
    /// The op's name, as messages show it.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Leaf => "leaf",
            Op::Add => "add",
            Op::Sub => "sub",
            Op::Mul => "mul",
            Op::Div => "div",
            Op::Pow => "pow",
            Op::Minimum => "minimum",
            Op::Maximum => "maximum",
            Op::AddScalar(_) => "add_scalar",
            Op::MulScalar(_) => "mul_scalar",
            Op::Powf(_) => "powf",
            Op::Powi(_) => "powi",
            Op::Neg => "neg",
            Op::Exp => "exp",
            Op::Log => "log",
            Op::Log1p => "log1p",
            Op::Sqrt => "sqrt",
            Op::Abs => "abs",
            Op::Sin => "sin",
            Op::Cos => "cos",
            Op::Tanh => "tanh",
            Op::Sigmoid => "sigmoid",
            Op::TanhGrad => "tanh_grad",
            Op::SigmoidGrad => "sigmoid_grad",
            Op::Relu => "relu",
            Op::LeakyRelu(_) => "leaky_relu",
            Op::Elu(_) => "elu",
            Op::Softplus => "softplus",
            Op::Clamp(..) => "clamp",
            Op::Where(_) => "where",
            Op::Sum(_) => "sum",
            Op::Max(_) => "max",
            Op::Min(_) => "min",
            Op::LogSumExp(_) => "logsumexp",
            Op::MatMul => "matmul",
            Op::Reshape(_) => "reshape",
            Op::Permute(_) => "permute",
            Op::BroadcastTo(_) => "broadcast_to",
            Op::SumTo(_) => "sum_to",
            Op::Slice { .. } => "slice",
            Op::Pad { .. } => "pad",
            Op::Concat(_) => "concat",
            Op::Gather { .. } => "gather",
            Op::ScatterAdd { .. } => "scatter_add",
            Op::IndexSelect { .. } => "index_select",
            Op::IndexAdd { .. } => "index_add",
            Op::Custom(call) | Op::Output(call, _) => call.name(),
            Op::OnceDifferentiable { name, .. } => name,
        }
    }
}
