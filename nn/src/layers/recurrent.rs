//! What the recurrent layers ([`LSTM`](super::LSTM), [`GRU`](super::GRU) and their cells) share:
//! their weights with PyTorch's names and initialisation, the checks of input, state and
//! reset-mask shapes, and the reset mask itself.
//!
//! ## The reset mask
//!
//! A rollout of `T` steps from `N` environments crosses episode boundaries: the state carried
//! from step `t − 1` into step `t` must be forgotten where environment `n` started a new
//! episode at step `t`. The mask `m` of shape `(T, N)` says where (1: an episode starts at
//! step `t`, so the state from before it is dropped; 0: carry on). Before step `t`, every
//! carried state `s` (`h`, and `c` for the LSTM; every layer's) is multiplied by `1 − m_t`:
//!
//! ```text
//!     s_{t−1} ← (1 − m_t) ⊙ s_{t−1}        (m_t broadcast over the hidden units)
//! ```
//!
//! so that with `m_{t,n} = 1` step `t` of sequence `n` starts from the zero state, exactly as
//! if a new sequence began there with `h_0 = c_0 = 0`. At `t = 0` the mask applies to the
//! initial state. This is SB3-contrib's `RecurrentPPO` (`episode_starts`), which runs the
//! sequence one step at a time and multiplies the states by `(1 − episode_start)` before each;
//! PyTorch's own `nn.LSTM`/`nn.GRU` have no such argument. The mask enters as a constant: no
//! gradient flows into it, and none flows across a reset into the steps before it.

use autograd::{Float, Tensor, Var};
use ndarray::ArrayD;
use rand::Rng;

use crate::{Bound, Init, ParamId, Path};

/// One layer's (or one cell's) weights, `gates` blocks of `hidden` rows stacked in PyTorch's
/// gate order: `W_ih` of shape `(gates·H, I)`, `W_hh` of shape `(gates·H, H)`, and, if
/// present, `b_ih` and `b_hh` of shape `(gates·H)`.
#[derive(Clone, Debug)]
pub struct RecurrentWeights {
    pub weight_ih: ParamId,
    pub weight_hh: ParamId,
    pub bias_ih: Option<ParamId>,
    pub bias_hh: Option<ParamId>,
}

impl RecurrentWeights {
    /// Registers `weight_ih{suffix}`, `weight_hh{suffix}` (and the biases) under `path`, each
    /// drawn from PyTorch's default `U(−1/√H, 1/√H)`, in PyTorch's order of registration
    /// (and of drawing).
    pub(crate) fn new<T: Float>(
        path: &mut Path<'_, T>,
        suffix: &str,
        shape: (usize, usize, usize),
        bias: bool,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let (gates, input_size, hidden_size) = shape;
        let bound = 1.0 / (hidden_size as f64).sqrt();
        let init = Init::Uniform {
            low: -bound,
            high: bound,
        };
        let rows = gates * hidden_size;
        let mut draw = |path: &mut Path<'_, T>, name: &str, shape: &[usize]| {
            path.param(&format!("{name}{suffix}"), init.sample::<T>(shape, rng))
        };
        let weight_ih = draw(path, "weight_ih", &[rows, input_size]);
        let weight_hh = draw(path, "weight_hh", &[rows, hidden_size]);
        let (bias_ih, bias_hh) = if bias {
            (
                Some(draw(path, "bias_ih", &[rows])),
                Some(draw(path, "bias_hh", &[rows])),
            )
        } else {
            (None, None)
        };
        RecurrentWeights {
            weight_ih,
            weight_hh,
            bias_ih,
            bias_hh,
        }
    }

    /// `W_ih` and `W_hh`, bound.
    pub(crate) fn untransposed<T: Float>(&self, params: &Bound<'_, T>) -> (Var<T>, Var<T>) {
        (
            params[self.weight_ih].clone(),
            params[self.weight_hh].clone(),
        )
    }

    /// `W_ihᵀ` and `W_hhᵀ`, bound (transposes are stride swaps, taken once per sequence).
    pub(crate) fn transposed<T: Float>(&self, params: &Bound<'_, T>) -> (Var<T>, Var<T>) {
        (params[self.weight_ih].t(), params[self.weight_hh].t())
    }

    /// The bound biases, if the layer has them.
    pub(crate) fn biases<T: Float>(&self, params: &Bound<'_, T>) -> Option<(Var<T>, Var<T>)> {
        self.bias_ih
            .zip(self.bias_hh)
            .map(|(ih, hh)| (params[ih].clone(), params[hh].clone()))
    }
}

/// The weights of `num_layers` stacked layers of `gates` gates, named with the suffixes
/// `_l0`, `_l1`, …: layer 0 reads the input (`input_size`), layer `k > 0` layer `k − 1`'s
/// `h_t` (`hidden_size`). `sizes` is `(input_size, hidden_size, num_layers)`.
///
/// # Panics
/// If `num_layers` is 0.
pub(crate) fn stacked_layers<T: Float>(
    path: &mut Path<'_, T>,
    layer: &str,
    gates: usize,
    sizes: (usize, usize, usize),
    bias: bool,
    rng: &mut (impl Rng + ?Sized),
) -> Vec<RecurrentWeights> {
    let (input_size, hidden_size, num_layers) = sizes;
    if num_layers == 0 {
        panic!("{layer}: num_layers must be at least 1");
    }
    (0..num_layers)
        .map(|k| {
            let input = if k == 0 { input_size } else { hidden_size };
            let shape = (gates, input, hidden_size);
            RecurrentWeights::new(path, &format!("_l{k}"), shape, bias, rng)
        })
        .collect()
}

/// Checks that `x` is `(T, N, input_size)` and returns `(T, N)`.
pub(crate) fn check_sequence<T: Float>(
    layer: &str,
    x: &Var<T>,
    input_size: usize,
) -> (usize, usize) {
    match *x.shape() {
        [steps, batch, features] if features == input_size && steps > 0 => (steps, batch),
        _ => panic!(
            "{layer}: expected input of shape (T, N, {input_size}) = (sequence length ≥ 1, batch, \
             input_size), found {:?}",
            x.shape()
        ),
    }
}

/// Checks that a cell's input is `(N, input_size)` and returns `N`.
pub(crate) fn check_cell_input<T: Float>(layer: &str, x: &Var<T>, input_size: usize) -> usize {
    match *x.shape() {
        [batch, features] if features == input_size => batch,
        _ => panic!(
            "{layer}: expected input of shape (N, {input_size}) = (batch, input_size), found {:?}",
            x.shape()
        ),
    }
}

/// Checks that a state `what` (`"h0"`, `"c0"`, …) has `expected` shape.
pub(crate) fn check_state<T: Float>(layer: &str, what: &str, state: &Var<T>, expected: &[usize]) {
    if state.shape() != expected {
        let names = match expected.len() {
            3 => "(num_layers, N, hidden_size)",
            _ => "(N, hidden_size)",
        };
        panic!(
            "{layer}: expected {what} of shape {names} = {expected:?}, found {:?}",
            state.shape()
        );
    }
}

/// The keep factors `1 − m` of a reset mask `m` of shape `(T, N)`, as a `(T, N)` array.
///
/// # Panics
/// If `m` is not `(steps, batch)`, or holds a value other than 0 and 1.
pub(crate) fn keep_array<T: Float>(
    layer: &str,
    resets: &Var<T>,
    steps: usize,
    batch: usize,
) -> ArrayD<T> {
    if resets.shape() != [steps, batch] {
        panic!(
            "{layer}: expected a reset mask of shape (T, N) = {:?}, found {:?}",
            [steps, batch],
            resets.shape()
        );
    }
    let m = resets.value();
    if let Some(bad) = m.iter().find(|&&v| v != T::zero() && v != T::one()) {
        panic!("{layer}: the reset mask holds {bad}; expected 0 (carry the state) or 1 (reset)");
    }
    m.mapv(|v| T::one() - v)
}

/// The factors `1 − m_t` of a reset mask `m` of shape `(T, N)`, one `(N, 1)` constant per
/// step, or `None` for a step with no reset (a product by 1 is left out).
///
/// # Panics
/// As [`keep_array`].
pub(crate) fn keep_factors<T: Float>(
    layer: &str,
    resets: &Var<T>,
    steps: usize,
    batch: usize,
) -> Vec<Option<Var<T>>> {
    keep_array(layer, resets, steps, batch)
        .outer_iter()
        .map(|keep_t| {
            keep_t.iter().any(|&k| k != T::one()).then(|| {
                let keep = keep_t.to_owned().into_shape_with_order((batch, 1));
                Var::constant(keep.expect("a row of the mask has N elements"))
            })
        })
        .collect()
}

/// The zero state `(N, H)`.
pub(crate) fn zeros<T: Float>(batch: usize, hidden: usize) -> Var<T> {
    Var::constant(ArrayD::<T>::zeros(vec![batch, hidden]))
}

/// Layer `k` of a state of shape `(layers, N, H)`, as `(N, H)`.
pub(crate) fn layer_of<T: Float>(state: &Var<T>, k: usize) -> Var<T> {
    state.slice(0, k, k + 1).squeeze(0)
}

/// `s ⊙ (1 − m_t)` where step `t` has a reset, else `s`.
pub(crate) fn reset<T: Float>(state: &Var<T>, keep: &Option<Var<T>>) -> Var<T> {
    match keep {
        Some(keep) => state * keep,
        None => state.clone(),
    }
}
