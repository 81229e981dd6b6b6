//! # The recurrent Q network `Q_θ(h_t, ·)` of R2D2: encoder → LSTM → dueling head
//!
//! Under partial observability the greedy action depends on the history `o_{≤t}`, summarised by
//! an LSTM's state. For observations `o_t`, read in order from a state `(h_{−1}, c_{−1})`:
//!
//! ```text
//! x_t          = ReLU(W_e o_t + b_e)                       the encoder
//! (h_t, c_t)   = LSTM(x_t, (1 − m_t)(h_{t−1}, c_{t−1}))    m_t = 1 where an episode starts
//! Q(h_t, a)    = V(h_t) + A(h_t, a) − (1/|A|) Σ_a' A(h_t, a')   the dueling head (Wang et al., 2016)
//! ```
//!
//! with `V` and `A` one linear layer each on `h_t`. The reset mask `m` is the LSTM's own
//! ([`nn::layers::recurrent`]): where an episode starts the state read is zero, so nothing is
//! carried across episodes. The same network acts one step at a time ([`RecurrentQNetwork::step`],
//! the actors) and reads whole sequences ([`RecurrentQNetwork::q_values`], the learner).

use autograd::{Float, Tensor, Var, no_grad};
use ndarray::{Array2, Array3, ArrayD, Ix2};
use nn::{Bound, LSTM, LSTMState, Linear, Module, ParamStore, Path};
use rand::Rng;

use crate::policy::Actions;
use crate::q_network::greedy;
use crate::train::{Agent, Memory};

/// `Q_θ(h_t, ·)` over sequences: `(T, N, |A|)` for observations `(T, N, D)`.
///
/// ```
/// use autograd::prelude::*;
/// use nn::ParamStore;
/// use rand::SeedableRng;
/// use wengert_rl::recurrent_q_network::{RecurrentQNetwork, zero_state};
/// let mut store = ParamStore::<f32>::new();
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let q = RecurrentQNetwork::new(&mut store.root().sub("q"), 2, 3, 16, 8, &mut rng);
/// assert!(store.id("q.lstm.weight_hh_l0").is_some()); // torch.nn.LSTM's names
/// let o = Var::constant(ndarray::Array3::<f32>::zeros((5, 4, 2))); // (T, N, D)
/// let m = Var::constant(ndarray::Array2::<f32>::zeros((5, 4)));    // no episode starts
/// let (values, state) = q.q_values(&store.constants(), &o, &zero_state(1, 4, 8), &m);
/// assert_eq!((values.shape(), state.h.shape()), (&[5, 4, 3][..], &[1, 4, 8][..]));
/// ```
#[derive(Clone, Debug)]
pub struct RecurrentQNetwork {
    pub encoder: Linear,
    pub lstm: LSTM,
    pub value: Linear,
    pub advantage: Linear,
}

/// The zero state `(h, c)`, each `(layers, N, H)`.
pub fn zero_state<T: Float>(layers: usize, n: usize, hidden: usize) -> LSTMState<T> {
    let zeros = || Var::constant(ArrayD::<T>::zeros(vec![layers, n, hidden]));
    LSTMState {
        h: zeros(),
        c: zeros(),
    }
}

/// A one-layer state `(1, N, H)` from `h` and `c` rows `(N, H)`, as constants.
pub fn state_of<T: Float>(h: &Array2<f32>, c: &Array2<f32>) -> LSTMState<T> {
    let lift = |a: &Array2<f32>| {
        Var::constant(
            a.mapv(|x| T::from_f64(x as f64))
                .insert_axis(ndarray::Axis(0)),
        )
    };
    LSTMState {
        h: lift(h),
        c: lift(c),
    }
}

/// The rows `(N, H)` of a one-layer state's `h` or `c`.
pub fn rows_of<T: Float>(state: &Var<T>) -> Array2<f32> {
    let v = state.value();
    let (n, hidden) = (v.shape()[1], v.shape()[2]);
    Array2::from_shape_fn((n, hidden), |(i, k)| v[[0, i, k]].as_f64() as f32)
}

impl RecurrentQNetwork {
    /// A network for `observation_dim` inputs and `num_actions` outputs, an encoder of `encoder`
    /// units and a one-layer LSTM of `hidden` units, registered under `path` (`encoder.`,
    /// `lstm.`, `value.`, `advantage.`) with PyTorch's default initialisation.
    pub fn new<T: Float>(
        path: &mut Path<'_, T>,
        observation_dim: usize,
        num_actions: usize,
        encoder: usize,
        hidden: usize,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        RecurrentQNetwork {
            encoder: Linear::new(&mut path.sub("encoder"), observation_dim, encoder, rng),
            lstm: LSTM::new(&mut path.sub("lstm"), encoder, hidden, 1, rng),
            value: Linear::new(&mut path.sub("value"), hidden, 1, rng),
            advantage: Linear::new(&mut path.sub("advantage"), hidden, num_actions, rng),
        }
    }

    /// `|A|`.
    pub fn num_actions(&self) -> usize {
        self.advantage.out_features
    }

    /// `H`, the LSTM's state width.
    pub fn hidden_size(&self) -> usize {
        self.lstm.hidden_size
    }

    /// `Q_θ(h_t, ·)` for every step of observations `o` `(T, N, D)` read from `state`
    /// `(1, N, H)` with episode starts `m` `(T, N)` (see the [module doc](self)), and the final
    /// state.
    pub fn q_values<T: Float>(
        &self,
        params: &Bound<'_, T>,
        o: &Var<T>,
        state: &LSTMState<T>,
        m: &Var<T>,
    ) -> (Var<T>, LSTMState<T>) {
        let (steps, n, dim) = (o.shape()[0], o.shape()[1], o.shape()[2]);
        let x = self
            .encoder
            .forward(params, &o.reshape(&[steps * n, dim]))
            .relu()
            .reshape(&[steps, n, self.encoder.out_features]);
        let (h, last) = self.lstm.forward_with_resets(params, &x, Some(state), m);
        let h = h.reshape(&[steps * n, self.hidden_size()]);
        let value = self.value.forward(params, &h);
        let advantage = self.advantage.forward(params, &h);
        let q = &value + &(&advantage - &advantage.mean(&[1], true));
        (q.reshape(&[steps, n, self.num_actions()]), last)
    }

    /// One step of `N` actors, recording nothing: `Q(h_t, ·)` `(N, |A|)` for observations
    /// `(N, D)` read from the rows `(h, c)`, and the next rows. (An actor zeroes its rows when
    /// its episode ends, so no reset mask is needed here.)
    pub fn step(
        &self,
        params: &Bound<'_, f32>,
        observations: &Array2<f32>,
        h: &Array2<f32>,
        c: &Array2<f32>,
    ) -> (Array2<f32>, Array2<f32>, Array2<f32>) {
        let (n, dim) = observations.dim();
        let o = Var::constant(
            observations
                .clone()
                .into_shape_with_order((1, n, dim))
                .expect("N × D"),
        );
        let m = Var::constant(Array2::<f32>::zeros((1, n)));
        let (q, next) = no_grad(|| self.q_values(params, &o, &state_of(h, c), &m));
        let q = q
            .value()
            .to_owned()
            .into_shape_with_order((n, self.num_actions()))
            .expect("1 × N × |A|")
            .into_dimensionality::<Ix2>()
            .expect("2-D");
        (q, rows_of(&next.h), rows_of(&next.c))
    }
}

/// The observations `(T, N, D)` of a batch as a constant.
pub fn sequence_var<T: Float>(observations: &Array3<f32>) -> Var<T> {
    Var::constant(observations.mapv(|x| T::from_f64(x as f64)).into_dyn())
}

/// A trained R2D2 agent: `a_t = argmax_a Q_θ(h_t, a)`, its LSTM state carried through the
/// episode ([`Agent::start_memory`]). Without a memory ([`Agent::act`]) each call reads its
/// observations from the zero state, as at an episode's first step.
pub struct RecurrentGreedyAgent {
    /// The Gymnasium id it was trained on.
    pub env_id: String,
    /// The network's structure.
    pub q: RecurrentQNetwork,
    /// `θ`.
    pub store: ParamStore<f32>,
}

impl Agent for RecurrentGreedyAgent {
    fn env_id(&self) -> &str {
        &self.env_id
    }

    fn act(&self, observations: &Array2<f32>) -> Actions {
        let mut memory = self.start_memory(observations.nrows()).expect("recurrent");
        self.act_remembering(observations, &mut memory)
    }

    fn store(&self) -> &ParamStore<f32> {
        &self.store
    }

    /// `(h, c)` = 0 for each episode.
    fn start_memory(&self, n: usize) -> Option<Memory> {
        let zeros = Array2::zeros((n, self.q.hidden_size()));
        Some(Memory(vec![zeros.clone(), zeros]))
    }

    fn act_remembering(&self, observations: &Array2<f32>, memory: &mut Memory) -> Actions {
        let (q, h, c) = self.q.step(
            &self.store.constants(),
            observations,
            &memory.0[0],
            &memory.0[1],
        );
        memory.0 = vec![h, c];
        Actions::Discrete(greedy(q.view()))
    }
}
