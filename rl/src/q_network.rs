//! # The Q network `Q_θ(s, ·)` of a discrete-action value learner
//!
//! One output per action, either a plain MLP or a dueling network, and the agent that acts
//! greedily with it ([`GreedyAgent`]).
//!
//! A dueling network (Wang et al., 2016) shares a trunk `φ(s)` and splits into a state value
//! `V(s)` and advantages `A(s, a)`, recombined as
//!
//! `Q(s, a) = V(s) + A(s, a) − (1/|A|) Σ_a' A(s, a')`.
//!
//! `V + A` alone is unidentifiable (a constant can move from one stream to the other without
//! changing `Q`); subtracting the mean advantage pins `V(s)` to the mean of `Q(s, ·)` over the
//! actions, and in exchange for a fixed offset keeps the advantages as stable as their mean.
//! Here the trunk is every hidden layer and each stream is one linear layer on it.

use autograd::{Float, Tensor, Var, no_grad};
use ndarray::{Array2, ArrayView2, Ix2};
use nn::{Activation, Bound, Linear, Mlp, Module, ParamStore, Path};
use rand::Rng;

use crate::policy::{Actions, observations_var};
use crate::train::Agent;

/// `Q_θ(s, ·)` for every action at once, a `B × |A|` matrix for a `B × obs_dim` batch.
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::Array2;
/// use nn::ParamStore;
/// use rand::SeedableRng;
/// use wengert_rl::q_network::QNetwork;
/// let mut store = ParamStore::<f32>::new();
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let q = QNetwork::new(&mut store.root().sub("q"), 4, 2, &[64, 64], true, &mut rng);
/// let s = Var::constant(Array2::<f32>::zeros((5, 4)));
/// assert_eq!(q.q_values(&store.constants(), &s).shape(), &[5, 2]);
/// assert!(store.id("q.advantage.weight").is_some());
/// ```
#[derive(Clone, Debug)]
pub enum QNetwork {
    /// `Q(s, ·) = MLP(s)`: ReLU hidden layers, a linear output per action.
    Plain(Mlp),
    /// `φ(s) = trunk(s)` (ReLU after every layer), `V(s) = value(φ)`, `A(s, ·) = advantage(φ)`,
    /// `Q = V + A − mean_a A`.
    Dueling {
        trunk: Mlp,
        value: Linear,
        advantage: Linear,
    },
}

impl QNetwork {
    /// A Q network for `observation_dim` inputs and `num_actions` outputs with the given hidden
    /// layers, registered under `path` with PyTorch's default initialisation (as Stable-Baselines3's
    /// `QNetwork`). A dueling network needs at least one hidden layer for its trunk.
    ///
    /// # Panics
    /// If `dueling` and `hidden` is empty.
    pub fn new<T: Float>(
        path: &mut Path<'_, T>,
        observation_dim: usize,
        num_actions: usize,
        hidden: &[usize],
        dueling: bool,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let mut sizes = vec![observation_dim];
        sizes.extend_from_slice(hidden);
        if !dueling {
            sizes.push(num_actions);
            let q = Mlp::builder(&sizes)
                .activation(Activation::Relu)
                .build(path, rng);
            return QNetwork::Plain(q);
        }
        assert!(
            !hidden.is_empty(),
            "a dueling Q network needs at least one hidden layer for its shared trunk"
        );
        let features = *hidden.last().expect("non-empty");
        let trunk = Mlp::builder(&sizes)
            .activation(Activation::Relu)
            .output_activation(Activation::Relu)
            .build(&mut path.sub("trunk"), rng);
        let value = Linear::new(&mut path.sub("value"), features, 1, rng);
        let advantage = Linear::new(&mut path.sub("advantage"), features, num_actions, rng);
        QNetwork::Dueling {
            trunk,
            value,
            advantage,
        }
    }

    /// `|A|`, the number of outputs.
    ///
    /// ```
    /// # use nn::ParamStore;
    /// # use rand::SeedableRng;
    /// # use wengert_rl::q_network::QNetwork;
    /// let mut store = ParamStore::<f32>::new();
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// assert_eq!(QNetwork::new(&mut store.root(), 6, 3, &[8], false, &mut rng).num_actions(), 3);
    /// ```
    pub fn num_actions(&self) -> usize {
        match self {
            QNetwork::Plain(q) => q.layers.last().expect("an MLP has a layer").out_features,
            QNetwork::Dueling { advantage, .. } => advantage.out_features,
        }
    }

    /// `Q_θ(s, ·)`: `B × |A|` for observations `s` of shape `B × obs_dim`.
    pub fn q_values<T: Float>(&self, params: &Bound<'_, T>, s: &Var<T>) -> Var<T> {
        match self {
            QNetwork::Plain(q) => q.forward(params, s),
            QNetwork::Dueling { .. } => {
                let (value, advantage) = self.streams(params, s).expect("dueling");
                let mean_advantage = advantage.mean(&[1], true);
                &value + &(&advantage - &mean_advantage)
            }
        }
    }

    /// A dueling network's streams `(V(s), A(s, ·))`, shaped `B × 1` and `B × |A|`; `None` for
    /// a plain network.
    ///
    /// ```
    /// # use autograd::prelude::*;
    /// # use ndarray::Array2;
    /// # use nn::ParamStore;
    /// # use rand::SeedableRng;
    /// # use wengert_rl::q_network::QNetwork;
    /// let mut store = ParamStore::<f64>::new();
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let q = QNetwork::new(&mut store.root(), 3, 4, &[16], true, &mut rng);
    /// let s = Var::constant(Array2::from_elem((2, 3), 0.5));
    /// let (v, a) = q.streams(&store.constants(), &s).unwrap();
    /// assert_eq!((v.shape(), a.shape()), (&[2, 1][..], &[2, 4][..]));
    /// ```
    pub fn streams<T: Float>(&self, params: &Bound<'_, T>, s: &Var<T>) -> Option<(Var<T>, Var<T>)> {
        match self {
            QNetwork::Plain(_) => None,
            QNetwork::Dueling {
                trunk,
                value,
                advantage,
            } => {
                let phi = trunk.forward(params, s);
                Some((value.forward(params, &phi), advantage.forward(params, &phi)))
            }
        }
    }
}

impl QNetwork {
    /// `Q_θ(s, ·)` of every observation row as a `B × |A|` matrix, recording nothing.
    ///
    /// ```
    /// # use nn::ParamStore;
    /// # use rand::SeedableRng;
    /// # use wengert_rl::q_network::QNetwork;
    /// let mut store = ParamStore::<f32>::new();
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let q = QNetwork::new(&mut store.root(), 4, 3, &[8], false, &mut rng);
    /// let values = q.evaluate(&store.constants(), &ndarray::Array2::zeros((5, 4)));
    /// assert_eq!(values.dim(), (5, 3));
    /// ```
    pub fn evaluate<T: Float>(
        &self,
        params: &Bound<'_, T>,
        observations: &Array2<f32>,
    ) -> Array2<T> {
        let s = observations_var::<T>(observations);
        matrix(&no_grad(|| self.q_values(params, &s)))
    }
}

/// `argmax_a q[i, a]` of every row (the first maximiser on ties, as `torch.argmax`).
///
/// ```
/// use ndarray::array;
/// use wengert_rl::q_network::greedy;
/// assert_eq!(greedy(array![[0.0f32, 2.0, 1.0], [3.0, 3.0, -1.0]].view()), vec![1, 0]);
/// ```
pub fn greedy<T: Float>(q: ArrayView2<'_, T>) -> Vec<usize> {
    q.rows()
        .into_iter()
        .map(|row| {
            let mut best = 0;
            for (a, &value) in row.iter().enumerate() {
                if value > row[best] {
                    best = a;
                }
            }
            best
        })
        .collect()
}

/// The value of a `B × |A|` variable as a matrix.
fn matrix<T: Float>(q: &Var<T>) -> Array2<T> {
    q.value()
        .to_owned()
        .into_dimensionality::<Ix2>()
        .expect("Q values are B × |A|")
}

/// A trained value learner's agent: `a = argmax_a Q_θ(s, a)`.
pub struct GreedyAgent {
    /// The Gymnasium id it was trained on.
    pub env_id: String,
    /// The network's structure.
    pub q: QNetwork,
    /// `θ`.
    pub store: ParamStore<f32>,
}

impl Agent for GreedyAgent {
    fn env_id(&self) -> &str {
        &self.env_id
    }

    fn act(&self, observations: &Array2<f32>) -> Actions {
        Actions::Discrete(greedy(
            self.q
                .evaluate(&self.store.constants(), observations)
                .view(),
        ))
    }

    fn store(&self) -> &ParamStore<f32> {
        &self.store
    }
}
