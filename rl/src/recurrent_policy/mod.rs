//! # A recurrent actor-critic
//!
//! For a partially observed task the observation `o_t` alone does not determine the state, so
//! the policy and the value function read a summary of the history `o_0 … o_t` kept by an LSTM
//! ([`nn::LSTM`]): with the recurrent state `z_t = (h_t, c_t)`,
//!
//! ```text
//!     z_t      = LSTM(o_t, (1 − m_t) · z_{t−1}),      z_{−1} = 0
//!     π(·|o_≤t) = head_π(f_π(h_t))                     Categorical(logits) or N(μ, diag σ²)
//!     V(o_≤t)   = head_V(f_V(h^V_t))
//! ```
//!
//! where `m_t = 1` marks an episode start (Stable-Baselines3-contrib's `episode_starts`): the
//! state carried into the first step of an episode is zero, exactly as for a fresh sequence.
//! `f_π` and `f_V` are optional MLPs after the LSTM (sb3-contrib's `net_arch`, by default
//! `[64, 64]` with `tanh`), and `σ = exp(ln σ)` is a state-independent parameter.
//!
//! Two layouts, as sb3-contrib's `RecurrentActorCriticPolicy`:
//!
//! * separate LSTMs (`shared_lstm = false`, sb3-contrib's default `enable_critic_lstm=True`):
//!   the critic has its own LSTM and state `z^V_t`, `h^V_t` its output;
//! * one shared LSTM (`shared_lstm = true`): the critic reads the actor's `h_t` with the
//!   gradient stopped, `h^V_t = sg(h_t)`, so that only the policy loss shapes the LSTM (as
//!   sb3-contrib does: "only the actor gradient is used").
//!
//! Either way `θ` (under `actor.`) and `φ` (under `critic.`) stay disjoint, so the policy loss
//! and the value loss can be differentiated on their own tapes.
//!
//! Initialisation as sb3-contrib: the LSTMs keep PyTorch's default `U(−1/√H, 1/√H)` (sb3-contrib
//! builds them after its orthogonal initialisation pass, which therefore never reaches them);
//! the MLPs are orthogonal with gain `√2`, the policy head `0.01`, the value head `1`, their
//! biases zero; with `ortho_init = false` (rl-zoo's `ppo_lstm.yml` settings) they keep PyTorch's
//! default `U(−1/√fan_in, 1/√fan_in)` too.
//!
//! Rollouts act one step at a time over `E` environments with [`RecurrentActorCritic::act`];
//! the update evaluates whole sequences `(T, N)` from a stored initial state with
//! [`RecurrentActorCritic::evaluate_sequences`]. Samples are ordered `k = t·N + n` (time-major),
//! as [`nn::LSTM`] lays out its outputs.

use autograd::{Float, Tensor, Var, no_grad};
use ndarray::{Array1, Array2};
use nn::{Activation, Bound, LSTM, LSTMState, Mlp, Module, ParamStore};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::common::config::Range;
use crate::env::Space;
use crate::policy::{
    ActionHead, Actions, ActorCriticHeads, NetworkConfig, PolicyDistribution, observations_var,
    to_f64,
};

mod agent;
mod state;

pub use agent::RecurrentAgent;
pub use state::{LstmMemory, RecurrentState};

/// Options of a [`RecurrentActorCritic`] (sb3-contrib's `policy_kwargs` names in brackets): a
/// piece of recurrent PPO's configuration, flattened into it with `#[serde(flatten)]`, so that
/// in presets and on the command line they stay flat keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecurrentNetworkConfig {
    /// `H`, the LSTM's hidden size (`lstm_hidden_size`).
    pub lstm_hidden_size: usize,
    /// Stacked LSTM layers (`n_lstm_layers`).
    pub n_lstm_layers: usize,
    /// One LSTM for both heads, the critic reading it without gradient (`shared_lstm`);
    /// otherwise a second LSTM for the critic (`enable_critic_lstm`).
    pub shared_lstm: bool,
    /// Hidden sizes of the MLPs `f_π`, `f_V` after the LSTM (`net_arch`); empty: linear heads.
    pub hidden: Vec<usize>,
    /// Their activation (`activation_fn`).
    pub activation: Activation,
    /// Initial `ln σ` of a Gaussian policy (`log_std_init`).
    pub log_std_init: f64,
    /// Orthogonal initialisation of the MLPs (`ortho_init`); otherwise PyTorch's default
    /// `U(−1/√fan_in, 1/√fan_in)` for their weights and biases.
    pub ortho_init: bool,
}

impl RecurrentNetworkConfig {
    /// The valid ranges of its numeric settings, for the configurations'
    /// [`Config::RANGES`](crate::common::config::Config::RANGES).
    pub const RANGES: [(&'static str, Range); 4] = [
        ("lstm_hidden_size", Range::at_least(1.0)),
        ("n_lstm_layers", Range::at_least(1.0)),
        ("hidden", Range::at_least(1.0)),
        ("log_std_init", Range::finite()),
    ];
}

impl Default for RecurrentNetworkConfig {
    /// sb3-contrib's `MlpLstmPolicy`: `H = 256`, one layer, separate LSTMs, `[64, 64]` tanh.
    fn default() -> Self {
        RecurrentNetworkConfig {
            lstm_hidden_size: 256,
            n_lstm_layers: 1,
            shared_lstm: false,
            hidden: vec![64, 64],
            activation: Activation::Tanh,
            log_std_init: 0.0,
            ortho_init: true,
        }
    }
}

/// What one step of [`RecurrentActorCritic::act`] gives, per environment.
#[derive(Clone, Debug)]
pub struct RecurrentStep {
    /// `a_t ~ π(·|o_≤t)`.
    pub actions: Actions,
    /// `ln π(a_t|o_≤t)`.
    pub log_probs: Array1<f64>,
    /// `V(o_≤t)`.
    pub values: Array1<f64>,
    /// `z_t`: the state to carry into the next step.
    pub state: RecurrentState,
}

/// An LSTM actor-critic (see the module doc).
///
/// ```
/// use rand::SeedableRng;
/// use autograd::Tensor;
/// use ndarray::{Array2, Array3};
/// use nn::ParamStore;
/// use wengert_rl::env::Space;
/// use wengert_rl::recurrent_policy::{RecurrentActorCritic, RecurrentNetworkConfig};
/// let mut store = ParamStore::<f32>::new();
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let config = RecurrentNetworkConfig { lstm_hidden_size: 8, hidden: vec![16], ..Default::default() };
/// let net = RecurrentActorCritic::new(&mut store, 2, &Space::Discrete { n: 2 }, &config, &mut rng);
/// assert!(store.id("actor.lstm.weight_hh_l0").is_some() && store.id("critic.lstm.bias_ih_l0").is_some());
/// // Two steps in three environments, carrying the state.
/// let z0 = net.initial_state(3);
/// let first = net.act(&store, &Array2::ones((3, 2)), &z0, &[true; 3], &mut rng);
/// let second = net.act(&store, &Array2::ones((3, 2)), &first.state, &[false; 3], &mut rng);
/// assert_eq!((second.values.len(), second.state.num_envs()), (3, 3));
/// // The update replays the same two steps as one sequence from z0.
/// let observations = autograd::Var::constant(Array3::<f32>::ones((2, 3, 2)).into_dyn());
/// let mask = ndarray::array![[1.0f32, 1.0, 1.0], [0.0, 0.0, 0.0]];
/// let actions = wengert_rl::policy::Actions::Discrete(vec![0; 6]);
/// let (log_probs, entropy, values) =
///     net.evaluate_sequences(&store.constants(), &observations, &z0, &mask, &actions);
/// assert_eq!((log_probs.shape(), entropy.shape()), (&[6][..], &[6][..]));
/// assert!((values.value()[3] as f64 - second.values[0]).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct RecurrentActorCritic {
    /// The actor's LSTM (also the critic's, when shared).
    pub lstm_actor: LSTM,
    /// The critic's own LSTM; `None` when shared.
    pub lstm_critic: Option<LSTM>,
    /// `f_π` and the policy head.
    pub actor: Mlp,
    /// `f_V` and the value head.
    pub critic: Mlp,
    /// The action distribution's head.
    pub head: ActionHead,
    /// The width of an observation.
    pub observation_dim: usize,
}

impl RecurrentActorCritic {
    /// The path of the policy's parameters (its LSTM, MLP and a Gaussian's `ln σ`).
    pub const ACTOR: &'static str = "actor";
    /// The path of the value function's parameters.
    pub const CRITIC: &'static str = "critic";

    /// Builds the LSTM(s) and both heads for observations of `observation_dim` and the given
    /// action space.
    ///
    /// # Panics
    /// If the LSTM's hidden size or layer count is 0.
    pub fn new<T: Float>(
        store: &mut ParamStore<T>,
        observation_dim: usize,
        action_space: &Space,
        config: &RecurrentNetworkConfig,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let hidden_size = config.lstm_hidden_size;
        assert!(
            hidden_size > 0 && config.n_lstm_layers > 0,
            "recurrent actor-critic: lstm_hidden_size and n_lstm_layers must be at least 1, \
             found {hidden_size} and {}",
            config.n_lstm_layers
        );
        let mut lstm = |path: &str, rng: &mut _| {
            LSTM::new(
                &mut store.root().sub(path).sub("lstm"),
                observation_dim,
                hidden_size,
                config.n_lstm_layers,
                rng,
            )
        };
        let lstm_actor = lstm(Self::ACTOR, rng);
        let lstm_critic = (!config.shared_lstm).then(|| lstm(Self::CRITIC, rng));
        let ActorCriticHeads {
            actor,
            critic,
            head,
        } = ActorCriticHeads::new(
            store,
            hidden_size,
            action_space,
            &NetworkConfig {
                hidden: config.hidden.clone(),
                activation: config.activation,
                log_std_init: config.log_std_init,
            },
            config.ortho_init,
            rng,
        );
        RecurrentActorCritic {
            lstm_actor,
            lstm_critic,
            actor,
            critic,
            head,
            observation_dim,
        }
    }

    /// The zero state `z_{−1} = 0` of `envs` environments.
    pub fn initial_state(&self, envs: usize) -> RecurrentState {
        let zeros = |lstm: &LSTM| LstmMemory::zeros(lstm.num_layers(), envs, lstm.hidden_size);
        RecurrentState {
            actor: zeros(&self.lstm_actor),
            critic: self.lstm_critic.as_ref().map(zeros),
        }
    }

    fn distribution<T: Float>(
        &self,
        params: &Bound<'_, T>,
        latent: &Var<T>,
    ) -> PolicyDistribution<T> {
        self.head
            .distribution(params, &self.actor.forward(params, latent))
    }

    /// The actor LSTM's outputs `h_t`, flattened to `(T·N, H)`, and its final state.
    fn run_lstm<T: Float>(
        lstm: &LSTM,
        params: &Bound<'_, T>,
        observations: &Var<T>,
        state: &LstmMemory,
        reset_mask: &Var<T>,
    ) -> (Var<T>, LSTMState<T>) {
        let (out, last) =
            lstm.forward_with_resets(params, observations, Some(&state.to_var()), reset_mask);
        let s = out.shape().to_vec();
        (out.reshape(&[s[0] * s[1], s[2]]), last)
    }

    fn check_sequences<T: Float>(
        &self,
        observations: &Var<T>,
        state: &RecurrentState,
        mask: &Array2<f32>,
    ) {
        match *observations.shape() {
            [steps, n, dim]
                if dim == self.observation_dim
                    && mask.dim() == (steps, n)
                    && state.num_envs() == n => {}
            _ => panic!(
                "recurrent actor-critic: expected observations (T, N, {}), a reset mask (T, N) and \
                 a state of N environments; found observations {:?}, mask {:?}, state of {}",
                self.observation_dim,
                observations.shape(),
                mask.dim(),
                state.num_envs()
            ),
        }
    }

    /// `π(·|o_≤t)` for every sample `k = t·N + n` of sequences `observations` `(T, N, obs_dim)`
    /// started from `initial_state`, with episode starts `reset_mask` `(T, N)` (1: reset before
    /// step `t`), and the actor's final state.
    pub fn policy_sequences<T: Float>(
        &self,
        params: &Bound<'_, T>,
        observations: &Var<T>,
        initial_state: &RecurrentState,
        reset_mask: &Array2<f32>,
    ) -> (PolicyDistribution<T>, LSTMState<T>) {
        self.check_sequences(observations, initial_state, reset_mask);
        let mask = mask_var(reset_mask);
        let (h, last) = Self::run_lstm(
            &self.lstm_actor,
            params,
            observations,
            &initial_state.actor,
            &mask,
        );
        (self.distribution(params, &h), last)
    }

    /// `V(o_≤t)` `(T·N)` for the same sequences, and the final state of the LSTM it read.
    pub fn value_sequences<T: Float>(
        &self,
        params: &Bound<'_, T>,
        observations: &Var<T>,
        initial_state: &RecurrentState,
        reset_mask: &Array2<f32>,
    ) -> (Var<T>, LSTMState<T>) {
        self.check_sequences(observations, initial_state, reset_mask);
        let mask = mask_var(reset_mask);
        let (h_v, last) = match (&self.lstm_critic, &initial_state.critic) {
            (Some(lstm), Some(state)) => Self::run_lstm(lstm, params, observations, state, &mask),
            (None, None) => {
                let (h, last) = Self::run_lstm(
                    &self.lstm_actor,
                    params,
                    observations,
                    &initial_state.actor,
                    &mask,
                );
                (h.detach(), last.detach())
            }
            _ => panic!(
                "recurrent actor-critic: the state's layout (shared or separate LSTMs) does not match the network's"
            ),
        };
        (self.critic.forward(params, &h_v).squeeze(-1), last)
    }

    /// `ln π(a|o_≤t)`, `H[π(·|o_≤t)]` and `V(o_≤t)`, each `(T·N)`, for sequences
    /// `observations` `(T, N, obs_dim)` from `initial_state` with episode starts `reset_mask`
    /// `(T, N)` and the actions taken, `T·N` rows in the order `k = t·N + n` (what the update
    /// of recurrent PPO differentiates).
    pub fn evaluate_sequences<T: Float>(
        &self,
        params: &Bound<'_, T>,
        observations: &Var<T>,
        initial_state: &RecurrentState,
        reset_mask: &Array2<f32>,
        actions: &Actions,
    ) -> (Var<T>, Var<T>, Var<T>) {
        let (pi, _) = self.policy_sequences(params, observations, initial_state, reset_mask);
        let (values, _) = self.value_sequences(params, observations, initial_state, reset_mask);
        (pi.log_prob(actions), pi.entropy(), values)
    }

    /// One step in `E` environments: `π(·|o_≤t)`, `V(o_≤t)` and the state `z_t`, from the
    /// observations `(E, obs_dim)`, the carried state `z_{t−1}` and the episode starts.
    pub fn step<T: Float>(
        &self,
        params: &Bound<'_, T>,
        observations: &Var<T>,
        state: &RecurrentState,
        episode_starts: &[bool],
    ) -> (PolicyDistribution<T>, Var<T>, RecurrentState) {
        let e = episode_starts.len();
        if observations.shape() != [e, self.observation_dim] {
            panic!(
                "recurrent actor-critic: expected observations of shape (E, {}) for E = {e} \
                 episode starts, found {:?}",
                self.observation_dim,
                observations.shape()
            );
        }
        let sequence = observations.reshape(&[1, e, self.observation_dim]);
        let mask = Array2::from_shape_fn((1, e), |(_, n)| f32::from(u8::from(episode_starts[n])));
        let (pi, actor) = self.policy_sequences(params, &sequence, state, &mask);
        let (values, critic) = self.value_sequences(params, &sequence, state, &mask);
        let next = RecurrentState {
            actor: LstmMemory::from_var(&actor),
            critic: state.critic.as_ref().map(|_| LstmMemory::from_var(&critic)),
        };
        (pi, values, next)
    }

    /// One step of a rollout with `a_t ~ π(·|o_≤t)`, without gradient: the actions, their
    /// `ln π`, `V` and the next state (see [`RecurrentActorCritic::step`]).
    pub fn act(
        &self,
        store: &ParamStore<f32>,
        observations: &Array2<f32>,
        state: &RecurrentState,
        episode_starts: &[bool],
        rng: &mut (impl Rng + ?Sized),
    ) -> RecurrentStep {
        let params = store.constants();
        no_grad(|| {
            let s = observations_var::<f32>(observations);
            let (pi, values, state) = self.step(&params, &s, state, episode_starts);
            let actions = pi.sample(rng);
            RecurrentStep {
                log_probs: to_f64(&pi.log_prob(&actions)),
                actions,
                values: to_f64(&values),
                state,
            }
        })
    }

    /// `V(o_≤t)` of observations `(E, obs_dim)` read from state `state` with no reset, without
    /// gradient: the bootstrap value of a truncated episode's final observation, or of the
    /// observations the next rollout starts from.
    pub fn predict_values(
        &self,
        store: &ParamStore<f32>,
        observations: &Array2<f32>,
        state: &RecurrentState,
        episode_starts: &[bool],
    ) -> Array1<f64> {
        let params = store.constants();
        no_grad(|| {
            let e = observations.nrows();
            let s = observations_var::<f32>(observations).reshape(&[1, e, self.observation_dim]);
            let mask =
                Array2::from_shape_fn((1, e), |(_, n)| f32::from(u8::from(episode_starts[n])));
            to_f64(&self.value_sequences(&params, &s, state, &mask).0)
        })
    }
}

fn mask_var<T: Float>(mask: &Array2<f32>) -> Var<T> {
    Var::constant(mask.mapv(|v| T::from_f64(v as f64)).into_dyn())
}

#[cfg(test)]
mod tests;
