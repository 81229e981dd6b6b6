//! # The policies an actor-learner setup runs: feed-forward or recurrent
//!
//! An [`UnrollNetwork`] is IMPALA's actor-critic, `π(·|x)` and `V(x)`: either an MLP of the
//! current observation ([`ActorCritic`]) or an LSTM over the episode so far
//! ([`RecurrentActorCritic`]), which carries a state `z_t = (h_t, c_t)` from step to step,
//!
//! `z_t = LSTM(x_t, (1 − m_t) z_{t−1})`,  `π(·|x_≤t) = head_π(h_t)`,  `V(x_≤t) = head_V(h^V_t)`,
//!
//! with `m_t = 1` where an episode starts at step `t`. The actor runs it one step at a time
//! ([`UnrollNetwork::step`]), keeping `z` across trajectories; the learner reruns it over whole
//! trajectories from the state each one started with ([`Inputs::Sequences`]), so that with the
//! actor's parameters it gives the actor's values (tested in `rl/tests/impala_lstm.rs`).
//!
//! ```
//! use rand::SeedableRng;
//! use autograd::no_grad;
//! use nn::ParamStore;
//! use wengert_rl::env::Space;
//! use wengert_rl::policy::NetworkConfig;
//! use wengert_rl::snapshot::TrainerRng;
//! use wengert_rl::unroll_network::{PolicyKind, UnrollNetwork};
//! let mut store = ParamStore::<f32>::new();
//! let mut rng = TrainerRng::seed_from_u64(0);
//! let heads = NetworkConfig { hidden: vec![8], ..NetworkConfig::default() };
//! let kind = (PolicyKind::Lstm, 8);
//! let network = UnrollNetwork::new(&mut store, 2, &Space::Discrete { n: 2 }, kind, &heads, &mut rng);
//! let x = ndarray::Array2::<f32>::ones((3, 2));
//! let state = network.initial_state(3);
//! let (_, next) = no_grad(|| network.step(&store.constants(), &x, state.as_ref(), &[true; 3]));
//! let (v, z) = next.unwrap();
//! assert_eq!((v.len(), z.actor.h.dim()), (3, (1, 3, 8))); // z: (layers, N, H)
//! ```

use autograd::{Float, Var};
use ndarray::{Array1, Array2, Array3};
use nn::{Bound, ParamStore};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::env::Space;
use crate::policy::{
    Actions, ActorCritic, NetworkConfig, PolicyDistribution, observations_var, to_f64,
};
use crate::recurrent_policy::{
    RecurrentActorCritic, RecurrentAgent, RecurrentNetworkConfig, RecurrentState,
};
use crate::train::{Agent, Memory, PolicyAgent};

/// Which network: `mlp` or `lstm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    /// A feed-forward actor-critic of the current observation.
    Mlp,
    /// An LSTM under the policy and value heads.
    Lstm,
}

/// `N` sequences of `T` steps for the recurrent network: the observations `(T, N, obs_dim)`,
/// the state each sequence starts from, and the reset mask `m` `(T, N)` (1 where an episode
/// starts at step `t`; at `t = 0` it clears the start state).
#[derive(Clone, Debug)]
pub struct Sequences {
    /// `x_t` of sequence `n` at `[t, n, ..]`.
    pub observations: Array3<f32>,
    /// `z` before step 0.
    pub start: RecurrentState,
    /// `m_{t,n}`.
    pub resets: Array2<f32>,
}

/// What the network is evaluated on, one output per sample in the order `k = t·N + n`: rows of
/// observations (the MLP), or sequences (the LSTM, which flattens its `(T, N)` outputs so).
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // one per batch, never in a collection
pub enum Inputs {
    /// `(rows, obs_dim)`.
    Rows(Array2<f32>),
    /// `T` steps of `N` sequences.
    Sequences(Sequences),
}

/// IMPALA's actor-critic: an MLP or an LSTM (see the [module doc](self)).
#[derive(Clone, Debug)]
pub enum UnrollNetwork {
    /// `π(·|x_t)`, `V(x_t)`.
    Mlp(ActorCritic),
    /// `π(·|x_≤t)`, `V(x_≤t)` through the LSTM.
    Lstm(RecurrentActorCritic),
}

impl From<ActorCritic> for UnrollNetwork {
    fn from(mlp: ActorCritic) -> Self {
        UnrollNetwork::Mlp(mlp)
    }
}

impl UnrollNetwork {
    /// A network of `kind` for observations of `observation_dim` and `action_space`: the MLP
    /// of `network`, or one LSTM layer of `lstm_hidden` units (separate for the policy and
    /// the value, as sb3-contrib's default) under heads of `network`'s layers.
    pub fn new<T: Float>(
        store: &mut ParamStore<T>,
        observation_dim: usize,
        action_space: &Space,
        (kind, lstm_hidden): (PolicyKind, usize),
        network: &NetworkConfig,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        match kind {
            PolicyKind::Mlp => {
                let mlp = ActorCritic::new(store, observation_dim, action_space, network, rng);
                UnrollNetwork::Mlp(mlp)
            }
            PolicyKind::Lstm => {
                let config = RecurrentNetworkConfig {
                    lstm_hidden_size: lstm_hidden,
                    n_lstm_layers: 1,
                    shared_lstm: false,
                    hidden: network.hidden.clone(),
                    activation: network.activation,
                    log_std_init: network.log_std_init,
                    ortho_init: true,
                };
                let lstm =
                    RecurrentActorCritic::new(store, observation_dim, action_space, &config, rng);
                UnrollNetwork::Lstm(lstm)
            }
        }
    }

    /// The state an actor of `n` environments starts with: zeros for the LSTM, none for the MLP.
    pub fn initial_state(&self, n: usize) -> Option<RecurrentState> {
        match self {
            UnrollNetwork::Mlp(_) => None,
            UnrollNetwork::Lstm(lstm) => Some(lstm.initial_state(n)),
        }
    }

    /// One step of an actor in `N` environments: `π(·|x_≤t)`, the next state and, for the LSTM
    /// (whose critic steps its own state anyway), `V(x_≤t)`, from the observations `x_t`
    /// `(N, obs_dim)`, the carried state and where an episode starts at `t` (the state is
    /// reset there first).
    ///
    /// # Panics
    /// If an LSTM is given no state.
    pub fn step(
        &self,
        params: &Bound<'_, f32>,
        observations: &Array2<f32>,
        state: Option<&RecurrentState>,
        episode_starts: &[bool],
    ) -> (
        PolicyDistribution<f32>,
        Option<(Array1<f64>, RecurrentState)>,
    ) {
        let x = observations_var::<f32>(observations);
        match self {
            UnrollNetwork::Mlp(mlp) => (mlp.policy(params, &x), None),
            UnrollNetwork::Lstm(lstm) => {
                let state = state.expect("a recurrent actor carries a state");
                let (pi, v, next) = lstm.step(params, &x, state, episode_starts);
                (pi, Some((to_f64(&v), next)))
            }
        }
    }

    /// `π(·|·)` of every sample of `inputs`, in the order `k = t·N + n`.
    ///
    /// # Panics
    /// If the inputs do not fit the network (rows for the MLP, sequences for the LSTM).
    pub fn policy<T: Float>(
        &self,
        params: &Bound<'_, T>,
        inputs: &Inputs,
    ) -> PolicyDistribution<T> {
        match (self, inputs) {
            (UnrollNetwork::Mlp(mlp), Inputs::Rows(x)) => {
                mlp.policy(params, &observations_var::<T>(x))
            }
            (UnrollNetwork::Lstm(lstm), Inputs::Sequences(s)) => {
                let x = sequence_var(&s.observations);
                lstm.policy_sequences(params, &x, &s.start, &s.resets).0
            }
            _ => panic!("{}", MISMATCH),
        }
    }

    /// `V` of every sample of `inputs`, in the order `k = t·N + n`.
    ///
    /// # Panics
    /// If the inputs do not fit the network (rows for the MLP, sequences for the LSTM).
    pub fn value<T: Float>(&self, params: &Bound<'_, T>, inputs: &Inputs) -> Var<T> {
        match (self, inputs) {
            (UnrollNetwork::Mlp(mlp), Inputs::Rows(x)) => {
                mlp.value(params, &observations_var::<T>(x))
            }
            (UnrollNetwork::Lstm(lstm), Inputs::Sequences(s)) => {
                let x = sequence_var(&s.observations);
                lstm.value_sequences(params, &x, &s.start, &s.resets).0
            }
            _ => panic!("{}", MISMATCH),
        }
    }
}

/// The agent IMPALA's training leaves: the MLP's or the LSTM's, each acting with its policy's
/// mode (the LSTM's carrying its state through each evaluated episode).
#[allow(clippy::large_enum_variant)] // one per trained agent
pub enum UnrollAgent {
    /// A feed-forward policy.
    Mlp(PolicyAgent),
    /// A recurrent policy.
    Lstm(RecurrentAgent),
}

impl UnrollAgent {
    /// The agent of `network` with parameters `store`, trained on `env_id`.
    pub fn new(env_id: String, store: ParamStore<f32>, network: UnrollNetwork) -> Self {
        match network {
            UnrollNetwork::Mlp(network) => UnrollAgent::Mlp(PolicyAgent {
                env_id,
                store,
                network,
                observation_stats: None,
            }),
            UnrollNetwork::Lstm(network) => {
                UnrollAgent::Lstm(RecurrentAgent::new(env_id, store, network, None))
            }
        }
    }

    fn inner(&self) -> &dyn Agent {
        match self {
            UnrollAgent::Mlp(agent) => agent,
            UnrollAgent::Lstm(agent) => agent,
        }
    }
}

impl Agent for UnrollAgent {
    fn env_id(&self) -> &str {
        self.inner().env_id()
    }
    fn act(&self, observations: &Array2<f32>) -> Actions {
        self.inner().act(observations)
    }
    fn start_memory(&self, n: usize) -> Option<Memory> {
        self.inner().start_memory(n)
    }
    fn act_remembering(&self, observations: &Array2<f32>, memory: &mut Memory) -> Actions {
        self.inner().act_remembering(observations, memory)
    }
    fn store(&self) -> &ParamStore<f32> {
        self.inner().store()
    }
    fn extra_state(&self) -> Vec<(String, Vec<f64>)> {
        self.inner().extra_state()
    }
    fn load_extra_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), String> {
        match self {
            UnrollAgent::Mlp(agent) => agent.load_extra_state(state),
            UnrollAgent::Lstm(agent) => agent.load_extra_state(state),
        }
    }
}

const MISMATCH: &str = "UnrollNetwork: an MLP reads rows (N, obs_dim), an LSTM reads sequences \
                        (T, N, obs_dim) with a start state and a reset mask";

fn sequence_var<T: Float>(x: &Array3<f32>) -> Var<T> {
    Var::constant(x.mapv(|v| T::from_f64(v as f64)).into_dyn())
}
