//! Long short-term memory (Hochreiter & Schmidhuber, 1997, with the forget gate of Gers et
//! al., 2000), with PyTorch's equations, gate order, parameter names and initialisation.
//!
//! For an input `x_t` (`N × I`) and the state `(h_{t−1}, c_{t−1})` (`N × H` each), one step is
//!
//! ```text
//!     i_t = σ(x_t W_iiᵀ + b_ii + h_{t−1} W_hiᵀ + b_hi)        input gate
//!     f_t = σ(x_t W_ifᵀ + b_if + h_{t−1} W_hfᵀ + b_hf)        forget gate
//!     g_t = tanh(x_t W_igᵀ + b_ig + h_{t−1} W_hgᵀ + b_hg)     cell candidate
//!     o_t = σ(x_t W_ioᵀ + b_io + h_{t−1} W_hoᵀ + b_ho)        output gate
//!     c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
//!     h_t = o_t ⊙ tanh(c_t)
//! ```
//!
//! The four gates' weights are stacked in PyTorch's order `i, f, g, o`: `W_ih = [W_ii; W_if;
//! W_ig; W_io]` of shape `(4H, I)`, `W_hh` of shape `(4H, H)`, `b_ih` and `b_hh` of shape
//! `(4H)`, so all four pre-activations come from two matrix products,
//! `x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh` (`N × 4H`), cut into four `N × H` blocks.
//!
//! What matches `torch.nn.LSTM` / `torch.nn.LSTMCell`: the equations, the gate order, the
//! parameter names (`weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}` for the
//! module, `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh` for the cell) and shapes, the optional
//! bias, the default initialisation `U(−1/√H, 1/√H)` for every weight and bias, the
//! sequence-first layout (`batch_first=False`): input `(T, N, I)`, output `(T, N, H)` (the last
//! layer's `h_t` for every `t`), state `(h_0, c_0)` of shape `(num_layers, N, H)`, zeros when
//! not given, and the returned final state `(h_n, c_n)`. Layer `k > 0` reads layer `k − 1`'s
//! `h_t`. Outputs and every gradient agree with PyTorch (float64) to round-off
//! (`nn/tests/recurrent_reference.rs`), and a checkpoint loads into `torch.nn.LSTM` with
//! `load_state_dict` (`nn/tools/recurrent_checkpoint.py`).
//!
//! Not here: `dropout` between layers, `bidirectional`, `proj_size`, `batch_first`, packed
//! sequences. Added: a per-step reset mask for episodes that end inside the sequence (see
//! [`super::recurrent`] for its exact semantics).
//!
//! ## Backpropagation through time
//!
//! Each layer runs over the whole sequence as one op, [`autograd::lstm::lstm`]: the input
//! products of all steps as one matrix product, one fused pass per step, and a hand-written
//! backward pass whose weight gradients are one product each over all steps. Its results are
//! the step-by-step tape path's (`autograd::lstm::lstm_reference`; forward bit for bit in
//! `f64`, gradients to round-off), and a recorded backward pass (second derivatives) goes
//! through that path. So `backward` of a loss on the outputs differentiates through every step. Truncated BPTT cuts the carried state between chunks
//! with [`LSTMState::detach`]: the next chunk starts from the same values, but no gradient
//! flows back into the previous chunk.
//!
//! ```
//! use rand::SeedableRng;
//! use autograd::prelude::*;
//! use wengert_nn::{LSTM, ParamStore};
//!
//! let mut store = ParamStore::<f64>::new();
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let lstm = LSTM::new(&mut store.root().sub("lstm"), 3, 5, 1, &mut rng);
//! let tape = Tape::new();
//! let params = store.bind(&tape);
//! let first = tape.var(ndarray::Array3::<f64>::ones((4, 2, 3)));  // steps 0‥3
//! let second = tape.var(ndarray::Array3::<f64>::ones((4, 2, 3))); // steps 4‥7
//! let (_, state) = lstm.forward(&params, &first, None);
//! let (out, _) = lstm.forward(&params, &second, Some(&state.detach())); // the cut
//! let grads = grad(&[&out.sum_all()], &[&first, &second]);
//! assert!(grads[0].iter().all(|&g| g == 0.0)); // nothing reaches the first chunk
//! assert!(grads[1].iter().any(|&g| g != 0.0));
//! ```

use autograd::lstm::lstm;
use autograd::{Float, Tensor, Var};
use rand::Rng;

use super::recurrent::{self, RecurrentWeights};
use crate::{Bound, Path};

/// The LSTM's state `(h, c)`: `(N, H)` each for a cell, `(num_layers, N, H)` for a module.
#[derive(Clone, Debug)]
pub struct LSTMState<T: Float> {
    /// The hidden state `h`.
    pub h: Var<T>,
    /// The cell state `c`.
    pub c: Var<T>,
}

impl<T: Float> LSTMState<T> {
    /// The same values, cut from the tape: the start of the next chunk in truncated BPTT.
    pub fn detach(&self) -> Self {
        LSTMState {
            h: self.h.detach(),
            c: self.c.detach(),
        }
    }
}

/// `W_ih`, `W_hh` and `(b_ih, b_hh)` if present, bound.
type BoundWeights<T> = (Var<T>, Var<T>, Option<(Var<T>, Var<T>)>);

/// The bound weights of one layer or cell: `W_ih`, `W_hh` and `(b_ih, b_hh)` if present.
fn bound<T: Float>(weights: &RecurrentWeights, params: &Bound<'_, T>) -> BoundWeights<T> {
    let (weight_ih, weight_hh) = weights.untransposed(params);
    (weight_ih, weight_hh, weights.biases(params))
}

/// One LSTM step as a layer (PyTorch's `nn.LSTMCell`): `(h_t, c_t)` from `x_t` of shape
/// `(N, I)` and `(h_{t−1}, c_{t−1})` of shape `(N, H)` (zeros when not given).
///
/// ```
/// use rand::SeedableRng;
/// use autograd::prelude::*;
/// use wengert_nn::{LSTMCell, ParamStore};
///
/// let mut store = ParamStore::<f32>::new();
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let cell = LSTMCell::new(&mut store.root().sub("cell"), 3, 8, &mut rng);
/// assert_eq!(store.name(cell.weights.weight_ih), "cell.weight_ih");
/// let x = Var::constant(ndarray::Array2::<f32>::ones((5, 3)));
/// let state = cell.forward(&store.constants(), &x, None);
/// let next = cell.forward(&store.constants(), &x, Some(&state));
/// assert_eq!(next.c.shape(), &[5, 8]);
/// ```
#[derive(Clone, Debug)]
pub struct LSTMCell {
    pub weights: RecurrentWeights,
    pub input_size: usize,
    pub hidden_size: usize,
}

impl LSTMCell {
    /// A cell with biases and PyTorch's initialisation.
    pub fn new<T: Float>(
        path: &mut Path<'_, T>,
        input_size: usize,
        hidden_size: usize,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        Self::with_bias(path, input_size, hidden_size, true, rng)
    }

    /// A cell with or without `b_ih` and `b_hh` (PyTorch's `bias=False`).
    pub fn with_bias<T: Float>(
        path: &mut Path<'_, T>,
        input_size: usize,
        hidden_size: usize,
        bias: bool,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let shape = (4, input_size, hidden_size);
        LSTMCell {
            weights: RecurrentWeights::new(path, "", shape, bias, rng),
            input_size,
            hidden_size,
        }
    }

    /// `(h_t, c_t)` from `x_t` and the previous state.
    ///
    /// # Panics
    /// If `x` is not `(N, input_size)` or a state is not `(N, hidden_size)`.
    pub fn forward<T: Float>(
        &self,
        params: &Bound<'_, T>,
        x: &Var<T>,
        state: Option<&LSTMState<T>>,
    ) -> LSTMState<T> {
        let batch = recurrent::check_cell_input("lstm_cell", x, self.input_size);
        let hidden = self.hidden_size;
        let state = match state {
            Some(s) => {
                recurrent::check_state("lstm_cell", "h", &s.h, &[batch, hidden]);
                recurrent::check_state("lstm_cell", "c", &s.c, &[batch, hidden]);
                s.clone()
            }
            None => LSTMState {
                h: recurrent::zeros(batch, hidden),
                c: recurrent::zeros(batch, hidden),
            },
        };
        let (weight_ih, weight_hh, bias) = bound(&self.weights, params);
        let bias = bias.as_ref().map(|(b_ih, b_hh)| (b_ih, b_hh));
        let x = x.unsqueeze(0); // one step of a sequence
        let (_, h, c) = lstm(&x, &weight_ih, &weight_hh, bias, &state.h, &state.c, None);
        LSTMState { h, c }
    }
}

/// A multi-layer LSTM over a sequence (PyTorch's `nn.LSTM`, `batch_first=False`).
///
/// ```
/// use rand::SeedableRng;
/// use autograd::prelude::*;
/// use wengert_nn::{LSTM, ParamStore};
///
/// let mut store = ParamStore::<f64>::new();
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let lstm = LSTM::new(&mut store.root(), 3, 8, 2, &mut rng);
/// assert!(store.id("weight_hh_l1").is_some()); // torch.nn.LSTM(3, 8, 2)'s state-dict names
/// let x = Var::constant(ndarray::Array3::<f64>::ones((10, 4, 3))); // (T, N, I)
/// let (output, state) = lstm.forward(&store.constants(), &x, None);
/// assert_eq!(output.shape(), &[10, 4, 8]);                          // (T, N, H)
/// assert_eq!(state.c.shape(), &[2, 4, 8]);                          // (layers, N, H)
/// // Episode starts: sequence 1 begins anew at step 6, from the zero state.
/// let mut starts = ndarray::Array2::<f64>::zeros((10, 4));
/// starts[[6, 1]] = 1.0;
/// let (reset, _) = lstm.forward_with_resets(&store.constants(), &x, None, &Var::constant(starts));
/// let fresh = Var::constant(ndarray::Array3::<f64>::ones((4, 4, 3)));
/// let (restarted, _) = lstm.forward(&store.constants(), &fresh, None);
/// assert_eq!(reset.value()[[9, 1, 0]], restarted.value()[[3, 1, 0]]);
/// ```
#[allow(clippy::upper_case_acronyms)] // PyTorch's name
#[derive(Clone, Debug)]
pub struct LSTM {
    /// Layer `k`'s weights, named `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`.
    pub layers: Vec<RecurrentWeights>,
    pub input_size: usize,
    pub hidden_size: usize,
}

impl LSTM {
    /// `num_layers` stacked layers with biases and PyTorch's initialisation.
    pub fn new<T: Float>(
        path: &mut Path<'_, T>,
        input_size: usize,
        hidden_size: usize,
        num_layers: usize,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        Self::with_bias(path, input_size, hidden_size, num_layers, true, rng)
    }

    /// Like [`new`](LSTM::new), with or without biases (PyTorch's `bias=False`).
    ///
    /// # Panics
    /// If `num_layers` is 0.
    pub fn with_bias<T: Float>(
        path: &mut Path<'_, T>,
        input_size: usize,
        hidden_size: usize,
        num_layers: usize,
        bias: bool,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let sizes = (input_size, hidden_size, num_layers);
        LSTM {
            layers: recurrent::stacked_layers(path, "lstm", 4, sizes, bias, rng),
            input_size,
            hidden_size,
        }
    }

    /// The number of stacked layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// The outputs `(T, N, H)` and the final state `(h_n, c_n)`, each `(num_layers, N, H)`,
    /// for an input `x` of shape `(T, N, I)` and an initial state (zeros when `None`).
    ///
    /// # Panics
    /// If `x` or a state has the wrong shape (the message names the expected shape).
    pub fn forward<T: Float>(
        &self,
        params: &Bound<'_, T>,
        x: &Var<T>,
        state: Option<&LSTMState<T>>,
    ) -> (Var<T>, LSTMState<T>) {
        self.run(params, x, state, None)
    }

    /// [`forward`](LSTM::forward) with a reset mask `resets` of shape `(T, N)`: where
    /// `resets[t, n] = 1`, sequence `n` forgets its state before step `t` (every layer's `h`
    /// and `c` are multiplied by `1 − resets[t, n]`; see [`super::recurrent`]).
    ///
    /// # Panics
    /// As [`forward`](LSTM::forward), and if `resets` is not `(T, N)` or holds a value other
    /// than 0 or 1.
    pub fn forward_with_resets<T: Float>(
        &self,
        params: &Bound<'_, T>,
        x: &Var<T>,
        state: Option<&LSTMState<T>>,
        resets: &Var<T>,
    ) -> (Var<T>, LSTMState<T>) {
        self.run(params, x, state, Some(resets))
    }

    fn run<T: Float>(
        &self,
        params: &Bound<'_, T>,
        x: &Var<T>,
        state: Option<&LSTMState<T>>,
        resets: Option<&Var<T>>,
    ) -> (Var<T>, LSTMState<T>) {
        let (steps, batch) = recurrent::check_sequence("lstm", x, self.input_size);
        let (layers, hidden) = (self.num_layers(), self.hidden_size);
        if let Some(s) = state {
            let expected = [layers, batch, hidden];
            recurrent::check_state("lstm", "h0", &s.h, &expected);
            recurrent::check_state("lstm", "c0", &s.c, &expected);
        }
        let keep = resets.map(|m| recurrent::keep_array("lstm", m, steps, batch));
        // Layer by layer, as PyTorch runs it: layer k reads layer k − 1's outputs h_t, each
        // layer one fused op over the whole sequence (`autograd::lstm`).
        let mut output = x.clone();
        let mut final_h = Vec::with_capacity(layers);
        let mut final_c = Vec::with_capacity(layers);
        for (k, weights) in self.layers.iter().enumerate() {
            let (h0, c0) = match state {
                Some(s) => (recurrent::layer_of(&s.h, k), recurrent::layer_of(&s.c, k)),
                None => (
                    recurrent::zeros(batch, hidden),
                    recurrent::zeros(batch, hidden),
                ),
            };
            let (weight_ih, weight_hh, bias) = bound(weights, params);
            let bias = bias.as_ref().map(|(b_ih, b_hh)| (b_ih, b_hh));
            let (out, h_n, c_n) = lstm(
                &output,
                &weight_ih,
                &weight_hh,
                bias,
                &h0,
                &c0,
                keep.as_ref(),
            );
            output = out;
            final_h.push(h_n);
            final_c.push(c_n);
        }
        let stack = |v: &[Var<T>]| Var::stack(&v.iter().collect::<Vec<_>>(), 0);
        let state = LSTMState {
            h: stack(&final_h),
            c: stack(&final_c),
        };
        (output, state)
    }
}
