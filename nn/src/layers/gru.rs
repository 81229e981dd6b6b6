//! Gated recurrent unit (Cho et al., 2014), with PyTorch's equations, gate order, parameter
//! names and initialisation.
//!
//! For an input `x_t` (`N × I`) and the state `h_{t−1}` (`N × H`), one step is
//!
//! ```text
//!     r_t = σ(x_t W_irᵀ + b_ir + h_{t−1} W_hrᵀ + b_hr)              reset gate
//!     z_t = σ(x_t W_izᵀ + b_iz + h_{t−1} W_hzᵀ + b_hz)              update gate
//!     n_t = tanh(x_t W_inᵀ + b_in + r_t ⊙ (h_{t−1} W_hnᵀ + b_hn))  new state candidate
//!     h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
//! ```
//!
//! Note that the reset gate multiplies `h_{t−1} W_hnᵀ + b_hn`, bias included (PyTorch's and
//! cuDNN's variant; the paper applies `r_t` to `h_{t−1}` before the product). The gates'
//! weights are stacked in PyTorch's order `r, z, n`: `W_ih = [W_ir; W_iz; W_in]` of shape
//! `(3H, I)`, `W_hh` of shape `(3H, H)`, `b_ih` and `b_hh` of shape `(3H)`; the two products
//! `x_t W_ihᵀ + b_ih` and `h_{t−1} W_hhᵀ + b_hh` (`N × 3H` each) are cut into `N × H` blocks.
//!
//! What matches `torch.nn.GRU` / `torch.nn.GRUCell`: the equations, the gate order, the
//! parameter names (`weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}` for the
//! module, `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh` for the cell) and shapes, the optional
//! bias, the default initialisation `U(−1/√H, 1/√H)`, the sequence-first layout: input
//! `(T, N, I)`, output `(T, N, H)`, state `h_0` of shape `(num_layers, N, H)` (zeros when not
//! given), and the returned `h_n`. Outputs and every gradient agree with PyTorch (float64) to
//! round-off (`nn/tests/recurrent_reference.rs`), and a checkpoint loads into `torch.nn.GRU`
//! with `load_state_dict` (`nn/tools/recurrent_checkpoint.py`).
//!
//! Not here, as for the LSTM: `dropout`, `bidirectional`, `batch_first`, packed sequences.
//! Added: the per-step reset mask of [`super::recurrent`]. Truncated BPTT: pass
//! `h_n.detach()` as the next chunk's `h_0`.

use autograd::{Float, Tensor, Var};
use rand::Rng;

use super::recurrent::{self, RecurrentWeights};
use crate::{Bound, Path};

/// One GRU step from `x_t W_ihᵀ + b_ih` (`N × 3H`), `h_{t−1}`, `W_hhᵀ` (`H × 3H`) and `b_hh`:
/// the equations at the top of the module, gates in the order `r, z, n`.
fn step<T: Float>(
    input_part: &Var<T>,
    h: &Var<T>,
    weight_hh_t: &Var<T>,
    bias_hh: &Option<Var<T>>,
    hidden: usize,
) -> Var<T> {
    let hidden_part = match bias_hh {
        Some(b) => h.matmul(weight_hh_t) + b,
        None => h.matmul(weight_hh_t),
    };
    let block = |part: &Var<T>, k: usize| part.slice(1, k * hidden, (k + 1) * hidden);
    let r = (block(input_part, 0) + block(&hidden_part, 0)).sigmoid();
    let z = (block(input_part, 1) + block(&hidden_part, 1)).sigmoid();
    let n = (block(input_part, 2) + r * block(&hidden_part, 2)).tanh();
    (z.neg().add_scalar(T::one())) * n + z * h
}

/// `x W_ihᵀ + b_ih`.
fn input_part<T: Float>(x: &Var<T>, weight_ih_t: &Var<T>, bias_ih: &Option<Var<T>>) -> Var<T> {
    let product = x.matmul(weight_ih_t);
    match bias_ih {
        Some(b) => product + b,
        None => product,
    }
}

/// One GRU step as a layer (PyTorch's `nn.GRUCell`): `h_t` from `x_t` of shape `(N, I)` and
/// `h_{t−1}` of shape `(N, H)` (zeros when not given).
///
/// ```
/// use rand::SeedableRng;
/// use autograd::prelude::*;
/// use wengert_nn::{GRUCell, ParamStore};
///
/// let mut store = ParamStore::<f32>::new();
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let cell = GRUCell::new(&mut store.root().sub("cell"), 3, 8, &mut rng);
/// assert_eq!(store.name(cell.weights.bias_hh.unwrap()), "cell.bias_hh");
/// let x = Var::constant(ndarray::Array2::<f32>::ones((5, 3)));
/// let h = cell.forward(&store.constants(), &x, None);
/// assert_eq!(cell.forward(&store.constants(), &x, Some(&h)).shape(), &[5, 8]);
/// ```
#[derive(Clone, Debug)]
pub struct GRUCell {
    pub weights: RecurrentWeights,
    pub input_size: usize,
    pub hidden_size: usize,
}

impl GRUCell {
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
        let shape = (3, input_size, hidden_size);
        GRUCell {
            weights: RecurrentWeights::new(path, "", shape, bias, rng),
            input_size,
            hidden_size,
        }
    }

    /// `h_t` from `x_t` and `h_{t−1}`.
    ///
    /// # Panics
    /// If `x` is not `(N, input_size)` or `h` is not `(N, hidden_size)`.
    pub fn forward<T: Float>(
        &self,
        params: &Bound<'_, T>,
        x: &Var<T>,
        h: Option<&Var<T>>,
    ) -> Var<T> {
        let batch = recurrent::check_cell_input("gru_cell", x, self.input_size);
        let hidden = self.hidden_size;
        let h = match h {
            Some(h) => {
                recurrent::check_state("gru_cell", "h", h, &[batch, hidden]);
                h.clone()
            }
            None => recurrent::zeros(batch, hidden),
        };
        let (weight_ih_t, weight_hh_t) = self.weights.transposed(params);
        let (bias_ih, bias_hh) = self.weights.biases(params).unzip();
        let x_part = input_part(x, &weight_ih_t, &bias_ih);
        step(&x_part, &h, &weight_hh_t, &bias_hh, hidden)
    }
}

/// A multi-layer GRU over a sequence (PyTorch's `nn.GRU`, `batch_first=False`).
///
/// ```
/// use rand::SeedableRng;
/// use autograd::prelude::*;
/// use wengert_nn::{GRU, ParamStore};
///
/// let mut store = ParamStore::<f64>::new();
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let gru = GRU::new(&mut store.root().sub("gru"), 3, 8, 2, &mut rng);
/// assert!(store.id("gru.bias_ih_l1").is_some());
/// let x = Var::constant(ndarray::Array3::<f64>::ones((10, 4, 3))); // (T, N, I)
/// let (output, h_n) = gru.forward(&store.constants(), &x, None);
/// assert_eq!(output.shape(), &[10, 4, 8]);
/// assert_eq!(h_n.shape(), &[2, 4, 8]);
/// ```
#[allow(clippy::upper_case_acronyms)] // PyTorch's name
#[derive(Clone, Debug)]
pub struct GRU {
    /// Layer `k`'s weights, named `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`.
    pub layers: Vec<RecurrentWeights>,
    pub input_size: usize,
    pub hidden_size: usize,
}

impl GRU {
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

    /// Like [`new`](GRU::new), with or without biases (PyTorch's `bias=False`).
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
        GRU {
            layers: recurrent::stacked_layers(path, "gru", 3, sizes, bias, rng),
            input_size,
            hidden_size,
        }
    }

    /// The number of stacked layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// The outputs `(T, N, H)` and the final state `h_n` `(num_layers, N, H)` for an input `x`
    /// of shape `(T, N, I)` and an initial state `h_0` (zeros when `None`).
    ///
    /// # Panics
    /// If `x` or `h_0` has the wrong shape (the message names the expected shape).
    pub fn forward<T: Float>(
        &self,
        params: &Bound<'_, T>,
        x: &Var<T>,
        h0: Option<&Var<T>>,
    ) -> (Var<T>, Var<T>) {
        self.run(params, x, h0, None)
    }

    /// [`forward`](GRU::forward) with a reset mask `resets` of shape `(T, N)`: where
    /// `resets[t, n] = 1`, sequence `n` forgets its state before step `t` (every layer's `h` is
    /// multiplied by `1 − resets[t, n]`; see [`super::recurrent`]).
    ///
    /// # Panics
    /// As [`forward`](GRU::forward), and if `resets` is not `(T, N)` or holds a value other
    /// than 0 or 1.
    pub fn forward_with_resets<T: Float>(
        &self,
        params: &Bound<'_, T>,
        x: &Var<T>,
        h0: Option<&Var<T>>,
        resets: &Var<T>,
    ) -> (Var<T>, Var<T>) {
        self.run(params, x, h0, Some(resets))
    }

    fn run<T: Float>(
        &self,
        params: &Bound<'_, T>,
        x: &Var<T>,
        h0: Option<&Var<T>>,
        resets: Option<&Var<T>>,
    ) -> (Var<T>, Var<T>) {
        let (steps, batch) = recurrent::check_sequence("gru", x, self.input_size);
        let (layers, hidden) = (self.num_layers(), self.hidden_size);
        if let Some(h0) = h0 {
            recurrent::check_state("gru", "h0", h0, &[layers, batch, hidden]);
        }
        let keep = match resets {
            Some(m) => recurrent::keep_factors("gru", m, steps, batch),
            None => vec![None; steps],
        };
        let mut inputs: Vec<Var<T>> = (0..steps)
            .map(|t| x.slice(0, t, t + 1).squeeze(0))
            .collect();
        let mut final_h = Vec::with_capacity(layers);
        for (k, weights) in self.layers.iter().enumerate() {
            let mut h = match h0 {
                Some(h0) => recurrent::layer_of(h0, k),
                None => recurrent::zeros(batch, hidden),
            };
            let (weight_ih_t, weight_hh_t) = weights.transposed(params);
            let (bias_ih, bias_hh) = weights.biases(params).unzip();
            for (x_t, keep_t) in inputs.iter_mut().zip(&keep) {
                let carried = recurrent::reset(&h, keep_t);
                let x_part = input_part(x_t, &weight_ih_t, &bias_ih);
                h = step(&x_part, &carried, &weight_hh_t, &bias_hh, hidden);
                *x_t = h.clone();
            }
            final_h.push(h);
        }
        let stack = |v: &[Var<T>]| Var::stack(&v.iter().collect::<Vec<_>>(), 0);
        (stack(&inputs), stack(&final_h))
    }
}
